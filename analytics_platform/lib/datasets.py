"""The landing-zone contract: which datasets exist and what a file of each must contain.

The datasets are declared once, as data, in the dbt sources YAML of their domain
(e.g. dbt_project/models/ecommerce/bronze/_bronze__sources.yml): a source or source table carrying
`config: meta: landing: {...}` is a landing dataset. This module reads that declaration from the
dbt manifest, i.e. after dbt has rendered (Jinja, config inheritance) and validated the YAML, so
Dagster, dbt and the docs see the same thing:

- domain = the source name, dataset = the table name, raw table = `<source schema>.<table>`;
- columns in declared order, typed by their dbt `data_type`, described by `description`;
- a column is *required* when its source column has a `not_null` data test (the loader rejects a
  file with an empty value there, the dbt source test verifies it after);
- file options from `meta.landing` (table keys override source keys): see `FileFormat`;
- `meta.landing.external: true` and `partitioned_by: [dt, hh]`: an external dataset (`Dataset`).

Nothing in Python lists a dataset's columns: add a dataset by writing YAML.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import dagster as dg

if TYPE_CHECKING:
    from analytics_platform.settings import Settings

SUPPORTED_FORMATS = {".csv": "csv", ".json": "json", ".jsonl": "json", ".parquet": "parquet"}

LOAD_COLUMNS = (
    ("_source_key", "VARCHAR", "S3 key of the file the row was loaded from."),
    ("_source_row", "BIGINT", "1-based position of the row within its file."),
    ("_loaded_at", "TIMESTAMP", "UTC time the file was loaded (dbt source freshness reads it)."),
)
_LOAD_COLUMN_NAMES = frozenset(name for name, _, _ in LOAD_COLUMNS)

LANDING_META_KEY = "landing"
FORMATS = ("csv", "json", "parquet")
COMPRESSIONS = ("auto", "gzip", "none")
DATASET_OPTIONS = ("external", "partitioned_by")
"""`meta.landing` keys about the dataset rather than its files (the rest are `FileFormat`'s)."""


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str
    """Upper-case SQL as DuckDB spells it: VARCHAR, INTEGER, DECIMAL(12,2), TIMESTAMP, ..."""
    description: str
    required: bool = False
    """A file with an empty value here is rejected whole: rows without their key are unusable."""


@dataclass(frozen=True)
class FileFormat:
    format: str | None = None
    """csv, json or parquet; None: by file extension (SUPPORTED_FORMATS)."""
    delimiter: str = ","
    header: bool = True
    quote: str = '"'
    null_string: str = ""
    timestamp_format: str | None = None
    """strftime style, e.g. "%m/%d/%Y %H:%M:%S"; None: ISO 8601."""
    compression: str = "auto"
    """auto (gzip when the key ends in .gz), gzip or none."""


@dataclass(frozen=True)
class Dataset:
    domain: str
    name: str
    description: str
    columns: tuple[Column, ...]
    file_format: FileFormat
    raw_schema: str
    external: bool = False
    """Read where it lands instead of copied into a raw table: ingestion registers each file
    (ledger row, whole-file validation, quarantine) and the warehouse reads the files in place
    (an external table; a view over the mirrored files on DuckDB). docs/GAME.md."""
    partition_columns: tuple[str, ...] = ()
    """Hive-style folders of the key, in order (`dt`, `hh` for `dt=YYYY-MM-DD/hh=HH/`): columns of
    an external table read from the path, as text; never columns of the file itself."""

    @property
    def qualified_name(self) -> str:
        return f"{self.domain}.{self.name}"

    @property
    def asset_key(self) -> dg.AssetKey:
        return dg.AssetKey(["raw", self.domain, self.name])

    @property
    def raw_table(self) -> str:
        return f"{self.raw_schema}.{self.name}"

    def landing_prefix(self, root_prefix: str) -> str:
        return f"{root_prefix}{self.domain}/{self.name}/"

    @property
    def group_name(self) -> str:
        return f"{self.domain}_landing"


class DatasetDeclarationError(ValueError):
    pass


def _normalise_type(data_type: str) -> str:
    return re.sub(r"\s+", "", data_type.strip()).upper() if "(" in data_type else data_type.strip().upper()


def landing_meta(source: Mapping[str, Any]) -> dict[str, Any] | None:
    """The merged `meta.landing` of a manifest source node (source-level, then table-level), or
    None when the source is not a landing dataset."""
    found = False
    merged: dict[str, Any] = {}
    for meta in (
        source.get("source_meta") or {},
        (source.get("config") or {}).get("meta") or {},
        source.get("meta") or {},
    ):
        if LANDING_META_KEY in meta:
            found = True
            merged.update(meta[LANDING_META_KEY] or {})
    return merged if found else None


def _file_format(options: Mapping[str, Any], where: str) -> FileFormat:
    unknown = set(options) - set(FileFormat.__dataclass_fields__)
    if unknown:
        raise DatasetDeclarationError(f"{where}: unknown landing option(s) {sorted(unknown)}")
    file_format = FileFormat(**options)
    if file_format.format is not None and file_format.format not in FORMATS:
        raise DatasetDeclarationError(f"{where}: format must be one of {FORMATS}")
    if file_format.compression not in COMPRESSIONS:
        raise DatasetDeclarationError(f"{where}: compression must be one of {COMPRESSIONS}")
    return file_format


def required_columns(manifest: Mapping[str, Any], source_id: str) -> set[str]:
    """Columns of a source with a `not_null` data test attached (dbt 1.11 leaves `attached_node`
    empty for source tests: then the test's only dependency is the source)."""
    return {
        node["column_name"]
        for node in manifest.get("nodes", {}).values()
        if node.get("resource_type") == "test"
        and _attached_node(node) == source_id
        and (node.get("test_metadata") or {}).get("name") == "not_null"
        and node.get("column_name")
    }


def _attached_node(test: Mapping[str, Any]) -> str | None:
    if test.get("attached_node"):
        return test["attached_node"]
    depends_on = (test.get("depends_on") or {}).get("nodes") or []
    return depends_on[0] if len(depends_on) == 1 else None


def dataset_from_source(manifest: Mapping[str, Any], source_id: str) -> Dataset | None:
    source = manifest["sources"][source_id]
    options = landing_meta(source)
    if options is None:
        return None
    where = f"dbt source {source['source_name']}.{source['name']}"
    external, partition_columns = _dataset_options(options, where)
    required = required_columns(manifest, source_id)
    columns = []
    for name, column in (source.get("columns") or {}).items():
        if name in _LOAD_COLUMN_NAMES:
            continue
        if not column.get("data_type"):
            raise DatasetDeclarationError(f"{where}: column {name} has no data_type")
        columns.append(
            Column(
                name=name,
                data_type=_normalise_type(column["data_type"]),
                description=(column.get("description") or "").strip(),
                required=name in required,
            )
        )
    if not columns:
        raise DatasetDeclarationError(f"{where}: a landing dataset declares its columns")
    if clashes := sorted(set(partition_columns) & {c.name for c in columns}):
        raise DatasetDeclarationError(
            f"{where}: partition folder(s) {clashes} are also file columns: rename one or the other"
        )
    return Dataset(
        domain=source["source_name"],
        name=source["name"],
        description=" ".join((source.get("description") or "").split()),
        columns=tuple(columns),
        file_format=_file_format({k: v for k, v in options.items() if k not in DATASET_OPTIONS}, where),
        raw_schema=source["schema"],
        external=external,
        partition_columns=partition_columns,
    )


def _dataset_options(options: Mapping[str, Any], where: str) -> tuple[bool, tuple[str, ...]]:
    external = options.get("external", False)
    if not isinstance(external, bool):
        raise DatasetDeclarationError(f"{where}: external must be true or false")
    partitioned_by = options.get("partitioned_by") or []
    if isinstance(partitioned_by, str) or not all(
        isinstance(name, str) and re.fullmatch(r"[a-z_][a-z0-9_]*", name) for name in partitioned_by
    ):
        raise DatasetDeclarationError(f"{where}: partitioned_by must be a list of lower-case names, e.g. [dt, hh]")
    if partitioned_by and not external:
        raise DatasetDeclarationError(f"{where}: partitioned_by applies to external datasets (external: true)")
    return external, tuple(partitioned_by)


def datasets_from_manifest(manifest: Mapping[str, Any]) -> tuple[Dataset, ...]:
    """Every landing dataset declared in the dbt project, ordered by (domain, name)."""
    datasets = [
        dataset
        for source_id in manifest.get("sources", {})
        if (dataset := dataset_from_source(manifest, source_id)) is not None
    ]
    return tuple(sorted(datasets, key=lambda d: (d.domain, d.name)))


def load_datasets(settings: Settings) -> tuple[Dataset, ...]:
    from analytics_platform.lib.dbt_project import load_manifest

    return datasets_from_manifest(load_manifest(settings))


def dataset_for_key(datasets: Sequence[Dataset], key: str, root_prefix: str) -> Dataset | None:
    """The dataset an object key belongs to: under its landing prefix, in a file (not a folder)."""
    for dataset in datasets:
        prefix = dataset.landing_prefix(root_prefix)
        if key.startswith(prefix) and len(key) > len(prefix):
            return dataset
    return None
