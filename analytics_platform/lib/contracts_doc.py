"""docs/CONTRACTS.md's dataset section, rendered from the declarations (dbt sources YAML, read
through lib/datasets.py): the doc cannot drift from what the loader and dbt use.

`analytics_platform_tests/test_contracts_doc.py` checks that the committed doc holds exactly this
rendering between GENERATED_START and GENERATED_END; `UPDATE_SNAPSHOTS=1` rewrites it.
"""

from __future__ import annotations

from collections.abc import Sequence

from analytics_platform.lib.datasets import LOAD_COLUMNS, Dataset, FileFormat

GENERATED_START = "<!-- generated: datasets -->"
GENERATED_END = "<!-- end generated -->"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _file_format(file_format: FileFormat) -> str:
    default = FileFormat()
    parts = [f"format {file_format.format or 'by extension'}"]
    for name in ("delimiter", "header", "quote", "null_string", "timestamp_format", "compression"):
        value = getattr(file_format, name)
        if value != getattr(default, name):
            parts.append(f"{name} `{value}`")
    return ", ".join(parts)


def _external(dataset: Dataset) -> str:
    folders = ", ".join(dataset.partition_columns) or "none"
    return f"- external: registered and read in place, not copied (docs/GAME.md); partition folders: {folders}"


def render_contracts_markdown(datasets: Sequence[Dataset]) -> str:
    """The dataset section: per dataset its landing prefix, raw table, asset, file options and
    columns (type, required, description), then the load columns every raw table has."""
    lines = [
        "Generated from the dataset declarations (dbt sources YAML with `meta.landing`) by",
        "`analytics_platform.lib.contracts_doc.render_contracts_markdown`; edit the YAML, then run",
        "`UPDATE_SNAPSHOTS=1 pytest analytics_platform_tests/test_contracts_doc.py`.",
        "",
    ]
    for dataset in sorted(datasets, key=lambda d: (d.domain, d.name)):
        lines += [
            f"### {dataset.qualified_name}",
            "",
            _cell(dataset.description),
            "",
            f"- landing: `{dataset.landing_prefix('landing/')}<any sub-path>/<file>`",
            f"- raw table: `{dataset.raw_table}`; Dagster asset `{dataset.asset_key.to_user_string()}`",
            f"- files: {_file_format(dataset.file_format)}",
            *([_external(dataset)] if dataset.external else []),
            "",
            "| column | type | required | description |",
            "| --- | --- | --- | --- |",
        ]
        lines += [
            f"| {c.name} | {c.data_type} | {'yes' if c.required else ''} | {_cell(c.description)} |"
            for c in dataset.columns
        ]
        lines.append("")
    lines += [
        "Every raw table also has the load columns: "
        + ", ".join(f"`{name} {data_type}` ({text})" for name, data_type, text in LOAD_COLUMNS),
    ]
    return "\n".join(lines) + "\n"


def replace_generated_section(document: str, rendering: str) -> str:
    """`document` with the text between the markers replaced by `rendering`."""
    start = document.index(GENERATED_START) + len(GENERATED_START)
    end = document.index(GENERATED_END)
    return f"{document[:start]}\n{rendering}{document[end:]}"


def generated_section(document: str) -> str:
    start = document.index(GENERATED_START) + len(GENERATED_START)
    return document[start : document.index(GENERATED_END)].removeprefix("\n")
