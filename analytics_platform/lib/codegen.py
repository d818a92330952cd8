"""Base-layer codegen: from one landed file to a dataset declaration, its bronze model and a
documented YAML stub (`analytics-platform codegen <domain> <dataset> --sample <key or file>`).

Inference, from the first `SAMPLE_LINES` lines of the file:
- format: by extension (.csv, .json/.jsonl, .parquet; .gz stripped); anything else is read as
  delimited text (`.txt`, `.tsv`, ... as TICKIT publishes);
- delimiter: the one of `| \\t , ;` that splits every sampled line into the same number (> 1) of
  fields (or as given);
- header: the first row is a header when none of its values parses as a number or date while
  some column below does, or when every value is a distinct identifier-like name (or as given);
- types, per column, the narrowest that fits every non-empty value: integer, bigint,
  decimal(18,<max scale>), boolean (true/false/t/f), date (YYYY-MM-DD), timestamp (ISO 8601, or
  one of TIMESTAMP_FORMATS, then declared as the dataset's `timestamp_format`), else varchar;
- required: the first column when it is never empty (the usual key): it gets `not_null`.
Column names come from the header, else `column_1`, `column_2`, ...: rename them when reviewing.

The output is meant to be reviewed and edited (descriptions, names, required columns), then
committed. Files written under the dbt project (never overwritten unless `overwrite=True`):
- models/<domain>/bronze/_bronze__sources.yml: the table appended to the domain's source (the
  file and source are created for a new domain, with the landing options);
- models/<domain>/bronze/bronze_<domain>_<dataset>.sql: cleaned_and_deduplicated_sql on the key;
- models/<domain>/bronze/bronze_<domain>_<dataset>.yml: the model's columns, documented, key tested.
A new domain also needs its folder config in dbt_project.yml (schema, materialization): printed.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path, PurePosixPath

SAMPLE_LINES = 2_000
DELIMITERS = ("|", "\t", ",", ";")
TIMESTAMP_FORMATS = ("%m/%d/%Y %H:%M:%S", "%d/%m/%Y %H:%M:%S", "%Y/%m/%d %H:%M:%S")
_INTEGER = re.compile(r"[+-]?\d+")
_DECIMAL = re.compile(r"[+-]?\d+\.(\d+)")
_BOOLEAN = {"true", "false", "t", "f"}


@dataclass(frozen=True)
class InferredColumn:
    name: str
    data_type: str
    required: bool = False
    example: str = ""


@dataclass(frozen=True)
class Inferred:
    format: str  # csv | json | parquet
    delimiter: str = ","
    header: bool = True
    timestamp_format: str | None = None
    compression: str = "auto"
    columns: tuple[InferredColumn, ...] = field(default_factory=tuple)

    def landing_options(self) -> dict:
        options: dict = {"format": self.format}
        if self.format == "csv":
            options.update(delimiter=self.delimiter, header=self.header)
        if self.timestamp_format:
            options["timestamp_format"] = self.timestamp_format
        return options


def _text(body: bytes, key: str) -> str:
    if key.lower().endswith(".gz") or body[:2] == b"\x1f\x8b":
        body = gzip.decompress(body)
    return body.decode("utf-8", errors="replace")


def _format_of(key: str) -> str:
    path = PurePosixPath(key.lower())
    if path.suffix == ".gz":
        path = path.with_suffix("")
    return {".json": "json", ".jsonl": "json", ".ndjson": "json", ".parquet": "parquet"}.get(path.suffix, "csv")


def detect_delimiter(lines: list[str]) -> str:
    for delimiter in DELIMITERS:
        counts = {len(next(csv.reader([line], delimiter=delimiter))) for line in lines if line}
        if len(counts) == 1 and counts.pop() > 1:
            return delimiter
    return ","


def _kind(value: str) -> tuple[str, str | None]:
    """(type, timestamp format) of one non-empty value."""
    if _INTEGER.fullmatch(value):
        return ("bigint" if abs(int(value)) > 2_147_483_647 else "integer"), None
    match = _DECIMAL.fullmatch(value)
    if match:
        return f"decimal:{len(match[1])}", None
    if value.lower() in _BOOLEAN or value in ("TRUE", "FALSE"):
        return "boolean", None
    try:
        date.fromisoformat(value)
        if len(value) == 10:
            return "date", None
    except ValueError:
        pass
    try:
        datetime.fromisoformat(value)
        return "timestamp", None
    except ValueError:
        pass
    for fmt in TIMESTAMP_FORMATS:
        try:
            datetime.strptime(value, fmt)
            return "timestamp", fmt
        except ValueError:
            continue
    return "varchar", None


def _column_type(values: list[str]) -> tuple[str, str | None]:
    kinds = {_kind(v) for v in values if v != ""}
    if not kinds:
        return "varchar", None
    types = {k for k, _ in kinds}
    formats = {f for _, f in kinds if f}
    if types <= {"integer", "bigint"}:
        return ("bigint" if "bigint" in types else "integer"), None
    if all(t.startswith("decimal") or t in ("integer", "bigint") for t in types):
        scale = max(int(t.split(":")[1]) for t in types if t.startswith("decimal"))
        return f"decimal(18,{scale})", None
    if types == {"boolean"}:
        return "boolean", None
    if types == {"date"}:
        return "date", None
    if types <= {"timestamp", "date"} and len(formats) <= 1:
        return "timestamp", (formats.pop() if formats else None)
    return "varchar", None


def _looks_like_header(first: list[str], rest: list[list[str]]) -> bool:
    if not rest:
        return False
    typed_below = any(_column_type([r[i] for r in rest if i < len(r)])[0] != "varchar" for i in range(len(first)))
    first_typed = any(_kind(v)[0] != "varchar" for v in first if v)
    identifiers = all(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_ ]*", v or "") for v in first)
    return identifiers and len(set(first)) == len(first) and (typed_below and not first_typed)


def _name(raw: str) -> str:
    name = re.sub(r"[^0-9a-z]+", "_", raw.strip().lower()).strip("_")
    return name if name and not name[0].isdigit() else f"c_{name}"


def infer(body: bytes, key: str, delimiter: str | None = None, header: bool | None = None) -> Inferred:
    """What a landed file looks like: format, options, typed columns."""
    file_format = _format_of(key)
    compression = "auto"
    if file_format == "parquet":
        import pyarrow.parquet as pq

        schema = pq.read_schema(io.BytesIO(body))
        return Inferred("parquet", columns=tuple(
            InferredColumn(_name(f.name), _arrow_sql(str(f.type))) for f in schema))
    text = _text(body, key)
    lines = text.splitlines()[:SAMPLE_LINES]
    if file_format == "json":
        records = [json.loads(line) for line in lines if line.strip()]
        names = list(dict.fromkeys(k for r in records for k in r))
        rows = [["" if r.get(n) is None else str(r.get(n)) for n in names] for r in records]
        return _from_rows(names, rows, Inferred("json", compression=compression))
    delimiter = delimiter or detect_delimiter(lines)
    rows = list(csv.reader(lines, delimiter=delimiter))
    if header is None:
        header = _looks_like_header(rows[0], rows[1:]) if rows else False
    names = [_name(n) for n in rows[0]] if header else [f"column_{i + 1}" for i in range(len(rows[0]) if rows else 0)]
    return _from_rows(names, rows[1:] if header else rows,
                      Inferred("csv", delimiter=delimiter, header=header, compression=compression))


def _arrow_sql(arrow_type: str) -> str:
    if arrow_type.startswith("decimal"):
        return arrow_type.replace("decimal128", "decimal").replace(" ", "")
    return {"int32": "integer", "int64": "bigint", "int16": "smallint", "double": "double", "float": "float",
            "bool": "boolean", "date32[day]": "date"}.get(arrow_type, "timestamp" if arrow_type.startswith("timestamp") else "varchar")


def _from_rows(names: list[str], rows: list[list[str]], base: Inferred) -> Inferred:
    columns, formats = [], set()
    for i, name in enumerate(names):
        values = [r[i] if i < len(r) else "" for r in rows]
        data_type, fmt = _column_type(values)
        if fmt:
            formats.add(fmt)
        example = next((v for v in values if v), "")
        columns.append(InferredColumn(name, data_type, required=i == 0 and all(values), example=example))
    return Inferred(base.format, base.delimiter, base.header, formats.pop() if len(formats) == 1 else None,
                    base.compression, tuple(columns))


# --- writing --------------------------------------------------------------------------------


def _yaml_scalar(value) -> str:
    return json.dumps(value) if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)


def _landing_block(options: dict, indent: str) -> list[str]:
    return [f"{indent}meta:", f"{indent}  landing:", *(f"{indent}    {k}: {_yaml_scalar(v)}" for k, v in options.items())]


def table_yaml(dataset: str, inferred: Inferred, source_key: str, table_options: dict | None) -> list[str]:
    lines = [f"      - name: {dataset}",
             f"        description: \"TODO: what a row of {dataset} is. Generated by codegen from {source_key}.\""]
    if table_options:
        lines += ["        config:", *_landing_block(table_options, "          ")]
    lines.append("        columns:")
    for column in inferred.columns:
        lines += [f"          - name: {column.name}", f"            data_type: {column.data_type}",
                  f"            description: {json.dumps('TODO. Example: ' + column.example[:60])}"]
        if column.required:
            lines.append("            data_tests: [not_null]")
    return lines


def write_dataset(project_dir: Path, domain: str, dataset: str, inferred: Inferred, source_key: str,
                  overwrite: bool = False) -> list[Path]:
    """Write (or append) the declaration, the bronze model and its YAML stub; returns the paths."""
    folder = Path(project_dir) / "models" / domain / "bronze"
    folder.mkdir(parents=True, exist_ok=True)
    model = f"bronze_{domain}_{dataset}"
    sql_path, yml_path, sources_path = folder / f"{model}.sql", folder / f"{model}.yml", folder / "_bronze__sources.yml"
    for path in (sql_path, yml_path):
        if path.exists() and not overwrite:
            raise FileExistsError(f"{path} exists (pass overwrite=True / --overwrite to replace it)")
    options = inferred.landing_options()
    if sources_path.exists():
        text = sources_path.read_text()
        if re.search(rf"^\s+- name: {re.escape(dataset)}\s*$", text, re.MULTILINE):
            raise FileExistsError(f"{sources_path} already declares a table {dataset}")
        # The table's own options (a source's may differ); appended: `tables:` ends the file.
        sources_path.write_text(text.rstrip("\n") + "\n\n" + "\n".join(table_yaml(dataset, inferred, source_key, options)) + "\n")
    else:
        header = [
            "version: 2", "",
            f"# The landing datasets of the {domain} domain. Generated by `analytics-platform codegen`;",
            "# review the names, types, descriptions and required (not_null) columns before committing.",
            "# Options and conventions: models/ecommerce/bronze/_bronze__sources.yml.", "",
            "sources:", f"  - name: {domain}",
            f"    description: \"TODO: raw tables of the {domain} domain, written by the ingestion assets.\"",
            f"    schema: raw_{domain}", "    config:", "      loaded_at_field: _loaded_at",
            *_landing_block(options, "      "), "", "    tables:",
        ]
        sources_path.write_text("\n".join(header + table_yaml(dataset, inferred, source_key, None)) + "\n")
    key = inferred.columns[0].name
    cleaned = ",\n".join(
        f"    ('{c.name}', '{'trim(' + c.name + ')' if c.data_type == 'varchar' else c.name}')" for c in inferred.columns
    )
    sql_path.write_text(
        f"-- One row per {key} (the last-loaded delivery wins); text trimmed. Generated by codegen: review.\n"
        f"{{{{ cleaned_and_deduplicated_sql(source('{domain}', '{dataset}'), [\n{cleaned},\n], '{key}') }}}}\n"
    )
    columns = []
    for c in inferred.columns:
        columns += [f"      - name: {c.name}", f"        description: \"{c.name} of source {domain}.{dataset}.\""]
        if c.name == key:
            columns.append("        data_tests: [unique, not_null]")
    yml_path.write_text("\n".join([
        "version: 2", "", "models:", f"  - name: {model}",
        f"    description: \"{domain}.{dataset}, one row per {key}, deduplicated and trimmed (generated: review).\"",
        "    columns", *columns, ""]).replace("    columns\n", "    columns:\n"))
    return [sources_path, sql_path, yml_path]


def folder_config_hint(domain: str) -> str:
    return (
        f"If {domain} is a new domain, add to dbt_project.yml under models: analytics_platform:\n"
        f"    {domain}:\n      bronze:\n        +schema: bronze\n        +materialized: view\n"
        "        +tags: [\"bronze\"]"
    )


def read_sample(sample: str, s3_client=None, bucket: str | None = None, max_bytes: int = 4 * 1024 * 1024) -> bytes:
    """A local file's bytes, or the first `max_bytes` of an S3 object (`s3://bucket/key` or a key
    in `bucket`); a partial last line is dropped."""
    path = Path(sample)
    if path.exists():
        return path.read_bytes()
    if sample.startswith("s3://"):
        bucket, _, sample = sample.removeprefix("s3://").partition("/")
    if s3_client is None or not bucket:
        raise FileNotFoundError(f"{sample}: not a local file, and no S3 bucket to read it from")
    response = s3_client.get_object(Bucket=bucket, Key=sample, Range=f"bytes=0-{max_bytes - 1}")
    body = response["Body"].read()
    if len(body) == max_bytes and not sample.lower().endswith((".gz", ".parquet")):
        body = body[: body.rfind(b"\n") + 1]
    return body


def run_codegen(settings, domain: str, dataset: str, sample: str, delimiter: str | None = None,
                header: bool | None = None, overwrite: bool = False, say=print) -> int:
    """The `analytics-platform codegen` command: infer from `sample` (a local file, an
    `s3://bucket/key`, or a key in the landing bucket) and write the three files."""
    s3_client = None
    if not Path(sample).exists():
        import boto3

        credentials = {"aws_access_key_id": "local", "aws_secret_access_key": "local"} if settings.uses_loopback_s3 else {}
        s3_client = boto3.client("s3", endpoint_url=settings.s3_endpoint_url, region_name=settings.aws_region,
                                 **credentials)
    body = read_sample(sample, s3_client, settings.landing_bucket)
    inferred = infer(body, sample, delimiter=delimiter, header=header)
    written = write_dataset(settings.dbt_project_dir, domain, dataset, inferred, sample, overwrite=overwrite)
    say(f"inferred {inferred.format} ({', '.join(f'{k}={v!r}' for k, v in inferred.landing_options().items())}):")
    for column in inferred.columns:
        say(f"  {column.name:<24} {column.data_type:<16} {'required' if column.required else ''}")
    for path in written:
        say(f"wrote {path}")
    say(folder_config_hint(domain))
    say("Review the names, types and descriptions, then `make manifest`.")
    return 0
