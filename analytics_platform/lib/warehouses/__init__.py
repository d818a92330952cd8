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
    "databricks": "analytics_platform.lib.warehouses.databricks:DatabricksLoader",
    "spark": "analytics_platform.lib.warehouses.spark:SparkLoader",
}
"""Type -> "module:class" of its loader (imported on use: an engine's driver loads only if chosen)."""

def loader_class(warehouse_type: str) -> type[WarehouseLoader]:
    """The loader class of a warehouse type (its module is imported now, not before)."""
    if warehouse_type in WAREHOUSES:
        module_name, class_name = WAREHOUSES[warehouse_type].split(":")
        return getattr(importlib.import_module(module_name), class_name)
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
