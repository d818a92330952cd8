"""Warehouses by type: adding one is one `WarehouseLoader` subclass registered in `WAREHOUSES`.

The warehouse type (settings: ANALYTICS_WAREHOUSE) also names the dbt target of the same warehouse
in dbt_project/profiles.yml.
"""

from __future__ import annotations

import importlib

from analytics_platform.lib.warehouses.base import (
    DeferredFile,
    LoadOutcome,
    MalformedFile,
    QuarantinedFile,
    WarehouseConfig,
    WarehouseLoader,
)
from analytics_platform.settings import WAREHOUSE_TYPES  # the types ANALYTICS_WAREHOUSE accepts

WAREHOUSES: dict[str, str] = {
    "duckdb": "analytics_platform.lib.warehouses.duckdb:DuckDBLoader",
    "postgres": "analytics_platform.lib.warehouses.postgres:PostgresLoader",
    "redshift": "analytics_platform.lib.warehouses.redshift:RedshiftLoader",
}
"""Type -> "module:class" of its loader (imported on use: an engine's driver loads only if chosen)."""

PLANNED: dict[str, str] = {
    "databricks": "the game-analytics issue (Databricks loader: COPY INTO ... FILES = (...))",
    "spark": "the game-analytics issue (Spark loader: a local Spark session writing parquet tables)",
}


def loader_class(warehouse_type: str) -> type[WarehouseLoader]:
    """The loader class of a warehouse type; a clear error for a type not implemented yet."""
    if warehouse_type in WAREHOUSES:
        module_name, class_name = WAREHOUSES[warehouse_type].split(":")
        return getattr(importlib.import_module(module_name), class_name)
    if warehouse_type in PLANNED:
        raise NotImplementedError(
            f"No landing loader for warehouse type {warehouse_type!r} yet: it comes with "
            f"{PLANNED[warehouse_type]}. Implement the abstract methods of "
            "analytics_platform.lib.warehouses.base.WarehouseLoader (from_config, _create_raw_table, _begin, "
            "_commit, _rollback, _insert_files, _record_in_ledger, _record_quarantine, _supersede, "
            "_record_deferral, settled_files, row_count, ledger_summary, quarantined_files, "
            "deferred_files, close) and register the "
            "class in analytics_platform.lib.warehouses.WAREHOUSES. See the README section "
            "'Adding a warehouse'."
        )
    raise ValueError(f"unknown warehouse type {warehouse_type!r}; expected one of {WAREHOUSE_TYPES}")


def open_loader(config: WarehouseConfig) -> WarehouseLoader:
    """A connected loader for the configured warehouse; use it as a context manager."""
    return loader_class(config.warehouse_type).from_config(config)


__all__ = [
    "WAREHOUSES",
    "WAREHOUSE_TYPES",
    "DeferredFile",
    "LoadOutcome",
    "MalformedFile",
    "QuarantinedFile",
    "WarehouseConfig",
    "WarehouseLoader",
    "loader_class",
    "open_loader",
]
