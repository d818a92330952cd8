"""Ingestion assets: one raw table per landing dataset, loaded exactly once per file."""

from collections.abc import Sequence

import dagster as dg
from dagster_aws.s3 import S3Resource

from analytics_platform.defs.landing.resources import LandingZone, WarehouseResource
from analytics_platform.lib.datasets import LOAD_COLUMNS, Dataset
from analytics_platform.lib.ingestion import ingest_dataset
from analytics_platform.settings import WAREHOUSE_POOL

DEFERRED_FILES_METADATA = "files_deferred"


def _raw_table_spec(dataset: Dataset) -> dg.AssetSpec:
    columns = [dg.TableColumn(c.name, c.data_type.lower(), description=c.description) for c in dataset.columns]
    columns += [dg.TableColumn(name, sql_type.lower(), description=text) for name, sql_type, text in LOAD_COLUMNS]
    return dg.AssetSpec(
        key=dataset.asset_key,
        group_name=dataset.group_name,
        description=f"{dataset.description} Raw rows as landed, one load per file.",
        kinds={"s3", "duckdb"},
        tags={"layer": "raw"},
        metadata={"dagster/column_schema": dg.TableSchema(columns=columns)},
        skippable=True,
    )


def build_ingestion_assets(datasets: Sequence[Dataset]) -> dg.AssetsDefinition:
    """One multi-asset over every declared dataset, so one run loads many datasets with one
    warehouse connection; a subset run (one raw table) loads only its datasets."""

    @dg.multi_asset(
        specs=[_raw_table_spec(dataset) for dataset in datasets],
        can_subset=True,
        pool=WAREHOUSE_POOL,
        name="ingest_landing_files",
    )
    def ingest_landing_files(
        context: dg.AssetExecutionContext,
        s3: S3Resource,
        landing_zone: LandingZone,
        warehouse: WarehouseResource,
    ):
        selected = [d for d in datasets if d.asset_key in context.selected_asset_keys]
        yield from _ingest(context, selected, s3, landing_zone, warehouse)

    return ingest_landing_files


def _ingest(
    context: dg.AssetExecutionContext,
    selected: Sequence[Dataset],
    s3: S3Resource,
    landing_zone: LandingZone,
    warehouse: WarehouseResource,
):
    s3_client = s3.get_client()
    with warehouse.open_loader() as loader:
        for dataset in selected:
            summary = ingest_dataset(
                dataset,
                loader,
                s3_client,
                landing_zone.bucket,
                landing_zone.prefix,
                context.run.run_id,
                context.log,
            )
            # Reasons start with the file's s3:// location already.
            quarantined = [o.quarantine_reason for o in summary.quarantined]
            deferred = [o.deferred_reason for o in summary.deferred]
            yield dg.MaterializeResult(
                asset_key=dataset.asset_key,
                metadata={
                    "files_listed": summary.files_listed,
                    "files_loaded": len(summary.loaded),
                    "files_quarantined": len(summary.quarantined),
                    # The landing sensor retries a dataset whose last run deferred files.
                    DEFERRED_FILES_METADATA: len(deferred),
                    "rows_loaded": summary.rows_loaded,
                    "bytes_loaded": summary.bytes_loaded,
                    "dagster/row_count": loader.row_count(dataset),
                    "quarantined_files": dg.MetadataValue.md(
                        "\n".join(f"- `{line}`" for line in quarantined) or "none"
                    ),
                    "deferred_files": dg.MetadataValue.md(
                        "\n".join(f"- `{line}`" for line in deferred) or "none"
                    ),
                },
            )
