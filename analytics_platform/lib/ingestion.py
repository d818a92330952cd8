"""Loading every not-yet-settled file of a dataset: the part common to all warehouses."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from analytics_platform.lib.datasets import Dataset
from analytics_platform.lib.objects import list_landing_objects
from analytics_platform.lib.warehouses import LoadOutcome, WarehouseLoader


@dataclass
class IngestionSummary:
    dataset: str
    files_listed: int = 0
    outcomes: list[LoadOutcome] = field(default_factory=list)

    @property
    def loaded(self) -> list[LoadOutcome]:
        return [o for o in self.outcomes if o.loaded]

    @property
    def quarantined(self) -> list[LoadOutcome]:
        return [o for o in self.outcomes if o.quarantine_reason is not None]

    @property
    def deferred(self) -> list[LoadOutcome]:
        """Files S3 would not give this run (deleted, forbidden, changed): tried again next run."""
        return [o for o in self.outcomes if o.deferred_reason is not None]

    @property
    def rows_loaded(self) -> int:
        return sum(o.rows for o in self.loaded)

    @property
    def bytes_loaded(self) -> int:
        return sum(o.landing_object.size for o in self.loaded)


def ingest_dataset(
    dataset: Dataset,
    loader: WarehouseLoader,
    s3_client,
    bucket: str,
    root_prefix: str,
    run_id: str,
    log: logging.Logger,
) -> IngestionSummary:
    """Load, oldest first, every file of the dataset that is neither loaded nor quarantined.

    A file S3 would not give (deleted or overwritten since the listing, access denied) is
    deferred, not settled: this run goes on with the others, and every later run tries it again.

    The ledger, not the caller, decides what is new: re-running after success loads nothing, and
    re-running after a crash loads exactly the files the crash left unsettled. Each batch the
    loader settles is logged (files, rows, seconds), so a long ingestion shows its progress.
    """
    summary = IngestionSummary(dataset=dataset.name)
    listed = list(list_landing_objects(s3_client, bucket, dataset.landing_prefix(root_prefix)))
    summary.files_listed = len(listed)
    settled = loader.settled_files(dataset)
    pending = sorted(
        (o for o in listed if o.identity not in settled), key=lambda o: (o.last_modified, o.key)
    )
    log.info(f"{dataset.name}: {len(listed)} file(s) landed, {len(pending)} new")
    files_done = 0
    batch_started = time.monotonic()
    for batch in loader.load_in_batches(dataset, pending, s3_client, run_id):
        seconds = time.monotonic() - batch_started
        summary.outcomes.extend(batch)
        files_done += len(batch)
        for outcome in batch:
            # Each reason starts with the file's s3:// location.
            if outcome.quarantine_reason is not None:
                log.warning(f"{dataset.name}: quarantined {outcome.quarantine_reason}")
            elif outcome.deferred_reason is not None:
                log.warning(f"{dataset.name}: deferred to a later run {outcome.deferred_reason}")
        batch_rows = sum(o.rows for o in batch)
        log.info(
            f"{dataset.name}: batch of {len(batch)} file(s), {batch_rows:,} rows in {seconds:.2f} s "
            f"({batch_rows / max(seconds, 1e-6):,.0f} rows/s); {files_done}/{len(pending)} files, "
            f"{summary.rows_loaded:,} rows so far"
        )
        batch_started = time.monotonic()
    return summary
