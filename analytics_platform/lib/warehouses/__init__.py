from analytics_platform.lib.warehouses.base import LoadOutcome, MalformedFile, WarehouseLoader


def open_loader(target: str, duckdb_path) -> WarehouseLoader:
    """The loader for a dbt target: each warehouse brings its own bulk-load path."""
    if target == "local":
        from analytics_platform.lib.warehouses.duckdb import DuckDBLoader

        return DuckDBLoader(duckdb_path)
    raise NotImplementedError(
        f"No landing loader for dbt target {target!r} yet: the raw tables for it must be loaded "
        "by a WarehouseLoader subclass (Redshift COPY / Databricks COPY INTO). See the README "
        "section 'Adding a warehouse'."
    )


__all__ = ["LoadOutcome", "MalformedFile", "WarehouseLoader", "open_loader"]
