"""The same work as one platform run, without orchestration: in its own process.

    python -m benchmarks.unorchestrated_child --landing DIR --platform-db DB --out DIR INVOCATION_DIR...

1. **Plain load** (timed): DuckDB reads every landed file of each declared dataset into a table,
   `CREATE TABLE ... AS SELECT * FROM read_csv/read_json/read_parquet(<the dataset's files>)`
   (its delimiter/header/quote, types auto-detected): what the engine needs to get the same bytes
   into tables. Also the baseline of the ingestion figure.
2. **Replay** (timed): a fresh DuckDB file named like the platform's (so the catalog name in
   dbt's SQL resolves) receives, untimed, the tables no dbt node of the run built (the raw tables
   as the platform loaded them, the ingestion ledger, the seeds); then every SQL statement dbt
   executed for the run's nodes, taken from each invocation's `target/run/**` (the compiled SQL
   with its materialization: create table/view, contract DDL, tests wrapped in their failure
   count, unit tests, snapshots; Python models through dbt-duckdb's own generated module), runs
   back to back on one connection, in the order of dbt's run_results.json. dbt writes tables and
   views under `<name>__dbt_tmp` and renames them; on a fresh file the replay creates them under
   their final name. On-run-start/end hooks (their compiled SQL from run_results) run too.
   Not replayed: model pre/post-hooks (not in target/run) and `dbt seed`'s inserts (copied).
3. The gold tables of the replay are compared with the platform's, row by row: equal means the
   replay did the same work.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from benchmarks.common import emit_result, summarize

TMP_SUFFIX = re.compile(r'__dbt_tmp(?=")')


def landed_files(landing: Path, dataset) -> dict[str, list[str]]:
    """format -> local paths of the dataset's landed files (format as the loader decides it)."""
    from analytics_platform.lib.warehouses.files import file_format_of

    by_format: dict[str, list[str]] = {}
    folder = landing / dataset.domain / dataset.name
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        file_format, _ = file_format_of(dataset, SimpleNamespace(key=path.name))
        if file_format:
            by_format.setdefault(file_format, []).append(str(path))
    return by_format


def reader_sql(dataset, file_format: str, paths: list[str]) -> str:
    files = "[" + ", ".join("'" + p.replace("'", "''") + "'" for p in paths) + "]"
    options = dataset.file_format
    if file_format == "parquet":
        return f"SELECT * FROM read_parquet({files}, union_by_name = true)"
    if file_format == "json":
        return f"SELECT * FROM read_json({files}, format = 'newline_delimited', union_by_name = true)"
    quote = options.quote.replace("'", "''")
    return (
        f"SELECT * FROM read_csv({files}, header = {str(options.header).lower()}, "
        f"delim = '{options.delimiter}', quote = '{quote}', union_by_name = true)"
    )


def plain_load(landing: Path, database: Path) -> dict[str, Any]:
    import duckdb

    from analytics_platform.lib.datasets import load_datasets
    from analytics_platform.settings import load_settings

    database.unlink(missing_ok=True)
    by_dataset: dict[str, Any] = {}
    datasets = load_datasets(load_settings())
    with duckdb.connect(str(database)) as con:
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET enable_progress_bar = false")
        started = time.perf_counter()
        for dataset in datasets:
            files = landed_files(landing, dataset)
            if not files:
                continue
            dataset_started = time.perf_counter()
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {dataset.raw_schema}")
            selects = " UNION ALL BY NAME ".join(reader_sql(dataset, f, p) for f, p in files.items())
            rows = con.execute(f"CREATE TABLE {dataset.raw_table} AS {selects}").fetchone()[0]
            by_dataset[dataset.qualified_name] = {
                "seconds": round(time.perf_counter() - dataset_started, 3),
                "rows": rows,
                "files": sum(len(p) for p in files.values()),
            }
        con.execute("CHECKPOINT")
        seconds = time.perf_counter() - started
    return {"seconds": round(seconds, 3), "by_dataset": by_dataset}


def run_file(invocation: Path, node: dict[str, Any]) -> Path:
    """Where dbt wrote the node's executed SQL (dbt-core's `get_target_write_path`)."""
    if Path(node["path"]).name == Path(node["original_file_path"]).name:
        relative = node["original_file_path"]
    else:
        relative = str(Path(node["original_file_path"]) / node["path"])
    path = invocation / "run" / node["package_name"] / relative
    if path.is_dir():  # unit tests: written under their YAML file, by name
        return next(path.rglob(f"{node['name']}.sql"), path / f"{node['name']}.sql")
    return path


def executed_nodes(invocations: list[Path]) -> list[tuple[dict[str, Any], dict[str, Any], Path]]:
    """(run result, manifest node, invocation folder) of every node the run executed, in order."""
    ordered = []
    for invocation in invocations:
        manifest = json.loads((invocation / "manifest.json").read_text())
        nodes = {**manifest["nodes"], **manifest.get("unit_tests", {}), **manifest.get("operations", {})}
        results = json.loads((invocation / "run_results.json").read_text())["results"]
        for index, result in enumerate(results):
            started = min((t.get("started_at") or "~" for t in result.get("timing") or []), default="~")
            ordered.append((started, str(invocation), index, result, nodes.get(result["unique_id"], {}), invocation))
    # Invocations one after the other (by their first node's start), nodes in dbt's order.
    first_start = {}
    for started, key, *_ in ordered:
        first_start[key] = min(first_start.get(key, "~"), started)
    ordered.sort(key=lambda item: (first_start[item[1]], item[2]))
    return [(result, node, invocation) for _, _, _, result, node, invocation in ordered]


def built_relations(nodes) -> set[tuple[str, str]]:
    """Relations the replay builds itself (seeds are copied: their rows are not in target/run)."""
    return {
        (node["schema"], node.get("alias") or node["name"])
        for result, node, _ in nodes
        if node.get("resource_type") in ("model", "snapshot")
    }


def copy_inputs(con, platform_db: Path, built: set[tuple[str, str]]) -> int:
    """The tables and views no dbt node of the run built (raw, ledger, seeds, audit, external
    datasets' views), copied from the platform."""
    con.execute(f"ATTACH '{platform_db}' AS platform (READ_ONLY)")
    tables = con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = 'platform'"
    ).fetchall()
    copied = 0
    for schema, table in tables:
        if (schema, table) in built:
            continue
        con.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        con.execute(f'CREATE TABLE "{schema}"."{table}" AS SELECT * FROM platform."{schema}"."{table}"')
        copied += 1
    # Views no dbt node built (external datasets: a view over files read in place), as defined.
    views = con.execute(
        "SELECT schema_name, view_name, sql FROM duckdb_views() WHERE database_name = 'platform' AND NOT internal"
    ).fetchall()
    con.execute("DETACH platform")
    for schema, view, sql in views:
        if (schema, view) not in built:
            con.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            con.execute(sql)
            copied += 1
    return copied


def python_model(con, code: str, name: str) -> None:
    """What dbt-duckdb does with a Python model (environments.Environment.run_python_job)."""
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as handle:
        handle.write(code.lstrip())
    spec = importlib.util.spec_from_file_location(name, handle.name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    frame = module.model(module.dbtObj(lambda table: con.query(f"select * from {table}")), con)
    module.materialize(frame, con)
    Path(handle.name).unlink()


def replay(platform_db: Path, database: Path, invocations: list[Path]) -> dict[str, Any]:
    import duckdb

    nodes = executed_nodes(invocations)
    for stale in (database, database.with_suffix(".duckdb.wal")):
        stale.unlink(missing_ok=True)
    database.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(database)) as con:
        copied = copy_inputs(con, platform_db, built_relations(nodes))
        con.execute("CHECKPOINT")
    seconds_by_type: dict[str, float] = {}
    per_node, failed, skipped = [], [], []
    with duckdb.connect(str(database)) as con:  # reopened: the copies are not in its buffers
        started = time.perf_counter()
        for schema in sorted({node["schema"] for _, node, _ in nodes if node.get("schema")}):
            con.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        for result, node, invocation in nodes:
            kind = node.get("resource_type") or result["unique_id"].split(".", 1)[0]
            if kind == "seed":  # copied with the inputs: its run SQL is only the empty table
                skipped.append(result["unique_id"])
                continue
            path = run_file(invocation, node) if node.get("path") else None
            if path is not None and path.exists():
                code = path.read_text()
            elif kind == "operation" and result.get("compiled_code"):
                code = result["compiled_code"]
            else:
                skipped.append(result["unique_id"])  # seeds (copied), nodes dbt did not execute
                continue
            code = TMP_SUFFIX.sub("", code)
            node_started = time.perf_counter()
            try:
                if path is not None and path.suffix == ".py":
                    python_model(con, code, node["name"])
                else:
                    cursor = con.execute(code)
                    if kind in ("test", "unit_test"):
                        cursor.fetchall()
            except duckdb.Error as error:
                failed.append({"node": result["unique_id"], "error": str(error).splitlines()[0][:300]})
            seconds = time.perf_counter() - node_started
            seconds_by_type[kind] = seconds_by_type.get(kind, 0.0) + seconds
            per_node.append((seconds, result["unique_id"], float(result.get("execution_time") or 0)))
        con.execute("CHECKPOINT")
        total = time.perf_counter() - started
    per_node.sort(reverse=True)
    return {
        "seconds": round(total, 3),
        "statements": len(per_node),
        "copied_tables": copied,
        "skipped_nodes": skipped,
        "failed": failed,
        "seconds_by_resource_type": {k: round(v, 3) for k, v in sorted(seconds_by_type.items(), key=lambda x: -x[1])},
        "slowest_nodes": [
            {"node": uid.split(".", 2)[-1], "replay_seconds": round(s, 3), "dbt_seconds": round(d, 3)}
            for s, uid, d in per_node[:10]
        ],
        "node_seconds": summarize([s for s, _, _ in per_node], 3) if per_node else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--landing", type=Path, required=True, help="local copy of the landed files (…/landing)")
    parser.add_argument("--platform-db", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("invocations", nargs="+", type=Path, help="the run's dbt invocation folders")
    args = parser.parse_args(argv)

    from benchmarks.platform_runs import compare_gold

    args.out.mkdir(parents=True, exist_ok=True)
    load = plain_load(args.landing, args.out / "plain_load.duckdb")
    replayed_db = args.out / "replay" / args.platform_db.name
    replayed = replay(args.platform_db, replayed_db, args.invocations)
    gold = compare_gold(args.platform_db, replayed_db)
    emit_result(
        {
            "plain_load": load,
            "replay": replayed,
            "seconds": round(load["seconds"] + replayed["seconds"], 3),
            "gold_equal_to_platform": gold,
        }
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
