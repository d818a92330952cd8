"""The landing-zone contract: which datasets exist and what a file of each must contain."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import dagster as dg

SUPPORTED_FORMATS = {".csv": "csv", ".json": "json", ".jsonl": "json", ".parquet": "parquet"}

LOAD_COLUMNS = (
    ("_source_key", "VARCHAR", "S3 key of the file the row was loaded from."),
    ("_source_row", "BIGINT", "1-based position of the row within its file."),
    ("_loaded_at", "TIMESTAMP", "UTC time the file was loaded (dbt source freshness reads it)."),
)


@dataclass(frozen=True)
class Column:
    name: str
    sql_type: str
    description: str
    required: bool = False
    """A file with an empty value here is rejected whole: rows without their key are unusable."""


@dataclass(frozen=True)
class Dataset:
    name: str
    description: str
    columns: tuple[Column, ...]

    @property
    def asset_key(self) -> dg.AssetKey:
        return dg.AssetKey(["raw", self.name])

    @property
    def raw_table(self) -> str:
        return f"raw.{self.name}"

    def landing_prefix(self, root_prefix: str) -> str:
        return f"{root_prefix}{self.name}/"


def _columns(*specs: tuple) -> tuple[Column, ...]:
    return tuple(Column(*spec) for spec in specs)


DATASETS: tuple[Dataset, ...] = (
    Dataset(
        name="orders",
        description="Orders, one product per order; the same order may be delivered more than once.",
        columns=_columns(
            ("order_id", "VARCHAR", "Order id.", True),
            ("created_at", "TIMESTAMP", "When the order was placed (UTC).", True),
            ("user_id", "VARCHAR", "Buyer."),
            ("product_id", "VARCHAR", "Product bought."),
            ("quantity", "INTEGER", "Units bought."),
            ("unit_price", "DECIMAL(12,2)", "Price of one unit at order time."),
            ("status", "VARCHAR", "placed, shipped, delivered, cancelled or returned."),
        ),
    ),
    Dataset(
        name="products",
        description="Product catalogue; a changed product lands again with a later updated_at.",
        columns=_columns(
            ("product_id", "VARCHAR", "Product id.", True),
            ("product_name", "VARCHAR", "Display name."),
            ("category", "VARCHAR", "Catalogue category."),
            ("price", "DECIMAL(12,2)", "List price."),
            ("updated_at", "TIMESTAMP", "When this version of the product was valid from (UTC).", True),
        ),
    ),
    Dataset(
        name="users",
        description="Customers; a changed user lands again with a later updated_at.",
        columns=_columns(
            ("user_id", "VARCHAR", "User id.", True),
            ("name", "VARCHAR", "Full name."),
            ("email", "VARCHAR", "E-mail address."),
            ("country", "VARCHAR", "ISO 3166-1 alpha-2 country code."),
            ("created_at", "TIMESTAMP", "Sign-up time (UTC)."),
            ("updated_at", "TIMESTAMP", "When this version of the user was valid from (UTC).", True),
        ),
    ),
    Dataset(
        name="reviews",
        description="Product reviews with a 1-5 star rating.",
        columns=_columns(
            ("review_id", "VARCHAR", "Review id.", True),
            ("created_at", "TIMESTAMP", "When the review was written (UTC).", True),
            ("product_id", "VARCHAR", "Product reviewed."),
            ("user_id", "VARCHAR", "Author."),
            ("rating", "INTEGER", "Stars, 1 to 5."),
            ("review_text", "VARCHAR", "Free text."),
        ),
    ),
)

def dataset_for_key(datasets: Sequence[Dataset], key: str, root_prefix: str) -> Dataset | None:
    """The dataset an object key belongs to: under its landing prefix, in a file (not a folder)."""
    for dataset in datasets:
        prefix = dataset.landing_prefix(root_prefix)
        if key.startswith(prefix) and len(key) > len(prefix):
            return dataset
    return None
