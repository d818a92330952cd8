"""The one interface between ingestion and a warehouse.

A loader owns the raw tables and two bookkeeping tables in the warehouse: the ledger of loaded
files and the quarantine of rejected ones. It writes a file's rows and its ledger row in one
transaction, so a crash or a retry can neither duplicate nor lose a file. A loader may commit
several files in one transaction (a batch) as long as each file is still loaded whole or not at
all, and a bad file is quarantined alone. The sensor and the
ingestion assets only talk to this interface: a warehouse-native bulk load (Redshift `COPY`,
Databricks `COPY INTO`) is a new subclass, nothing else changes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from typing_extensions import Self

from analytics_platform.lib.datasets import Dataset
from analytics_platform.lib.objects import LandingObject


class MalformedFile(Exception):
    """The file cannot be loaded as its dataset; the message says why, for a person to act on."""


@dataclass(frozen=True)
class LoadOutcome:
    landing_object: LandingObject
    rows: int = 0
    quarantine_reason: str | None = None

    @property
    def loaded(self) -> bool:
        return self.quarantine_reason is None


class WarehouseLoader(ABC):
    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def settled_files(self, dataset: Dataset) -> set[tuple[str, str]]:
        """(key, etag) of every file of the dataset already loaded or quarantined."""

    @abstractmethod
    def load(
        self, dataset: Dataset, landing_object: LandingObject, s3_client, run_id: str
    ) -> LoadOutcome:
        """Load one file exactly once, or quarantine it whole with the reason; never half-load.

        Raises on infrastructure failures (S3 unreachable, warehouse down): the file stays
        unsettled and the next run retries it.
        """

    def load_in_batches(
        self, dataset: Dataset, landing_objects: Iterable[LandingObject], s3_client, run_id: str
    ) -> Iterator[list[LoadOutcome]]:
        """Load the files in the order given, yielding the outcomes of each batch once it is settled.

        Same guarantees as `load` for every file. This default makes every file its own batch;
        a warehouse whose per-load cost dominates (a transaction, a COPY) overrides it to settle
        many files at once.
        """
        for landing_object in landing_objects:
            yield [self.load(dataset, landing_object, s3_client, run_id)]

    @abstractmethod
    def quarantine(
        self, dataset: Dataset, landing_object: LandingObject, reason: str, run_id: str
    ) -> LoadOutcome:
        """Record a file as rejected, with the reason, so it is reported and not retried."""

    @abstractmethod
    def row_count(self, dataset: Dataset) -> int: ...
