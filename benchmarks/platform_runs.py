"""Folders and environments for running the platform in a child process, and gold comparisons."""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from benchmarks.common import PROJECT_DIR, Context, child_env, run_child
from benchmarks.datasets import platform_env

# The gold tables of docs/CONTRACTS.md and their contract columns (a table may grow more
# columns; the comparison is on these).
GOLD_COLUMNS = {
    "gold_daily_sales": "order_date, orders, units, revenue",
    "gold_daily_avg_rating": "review_date, product_id, avg_rating, review_count",
    "product_categories": "category, product_count, min_price, max_price, avg_price",
}
GOLD_TABLES = tuple(GOLD_COLUMNS)
PROJECT_TARGET = PROJECT_DIR / "target"

def product_dagster_yaml() -> str:
    """The dagster.yaml `analytics-platform demo/dev` writes (same storage, same pools)."""
    from analytics_platform.local.dagster_yaml import DAGSTER_YAML

    return DAGSTER_YAML


def ensure_manifest(ctx: Context) -> None:
    """The code location loads dbt_project/target/manifest.json; build it if missing."""
    if not (PROJECT_TARGET / "manifest.json").exists():
        ctx.log("dbt manifest missing: running `analytics-platform prepare` ...")
        run_child(
            ["analytics_platform.cli", "prepare"],
            env=child_env({"ANALYTICS_DBT_PROJECT_DIR": str(PROJECT_DIR)}),
            log_path=ctx.work_dir / "logs" / "prepare.log",
        )


@dataclass
class PlatformRun:
    """One isolated platform: warehouse file, Dagster home, dbt target folder, S3 bucket."""

    root: Path
    bucket: str
    parsing: subprocess.Popen | None = None
    """`dbt parse` started by `new_platform_run`, waited for before the first run."""

    def wait_until_parsed(self) -> None:
        if self.parsing is not None:
            if self.parsing.wait() != 0:
                raise RuntimeError(f"dbt parse failed for {self.root}; see the dbt-parse log")
            for leftover in ("manifest.json", "semantic_manifest.json", "perf_info.json"):
                (self.dbt_target / leftover).unlink(missing_ok=True)
            self.parsing = None

    @property
    def duckdb_path(self) -> Path:
        return self.root / "warehouse.duckdb"

    @property
    def dagster_home(self) -> Path:
        return self.root / "dagster_home"

    @property
    def dbt_target(self) -> Path:
        return self.root / "dbt_target"

    @property
    def cursor_file(self) -> Path:
        return self.root / "sensor_cursor.json"

    def env(self, ctx: Context, **overrides: str) -> dict[str, str]:
        # DBT_TARGET_PATH keeps every dbt invocation's artifacts of this run under root (the
        # project's own target/ is shared with other people's runs); dagster-dbt copies the
        # partial_parse.msgpack found there into each invocation's folder.
        extra = {"DBT_TARGET_PATH": str(self.dbt_target), "ANALYTICS_DBT_PROJECT_DIR": str(PROJECT_DIR)}
        extra.update(overrides)
        duckdb_path = Path(extra.pop("ANALYTICS_DUCKDB_PATH", self.duckdb_path))
        return platform_env(ctx, self.bucket, duckdb_path, self.dagster_home, **extra)

    def run(self, ctx: Context, mode: str, log_name: str, land: Path | None = None, idle_run: bool = False) -> dict:
        args = ["benchmarks.platform_child", mode] + (["--idle-run"] if idle_run else [])
        if mode != "full":
            args += ["--cursor-file", str(self.cursor_file)]
        if land is not None:
            args += ["--land", str(land)]
        self.wait_until_parsed()
        _, payload = run_child(args, env=self.env(ctx), log_path=ctx.work_dir / "logs" / f"{log_name}.log")
        return payload


def new_platform_run(ctx: Context, name: str, bucket: str) -> PlatformRun:
    """A platform at benchmarks/.work/<mode>/runs/<name>, with an empty warehouse.

    The path is the same for every repetition under one name and dbt's partial-parse file is
    prepared for it once (`dbt parse` with the run's own settings, what `make manifest` does
    for a deployment): the profile embeds the warehouse path, and a partial-parse file made for
    another path makes every dbt invocation re-parse the whole project. The parse runs in the
    background until the first `run`, so callers can prepare data meanwhile.
    """
    root = ctx.folder(f"runs/{name}")
    run = PlatformRun(root=root, bucket=bucket)
    for stale in (run.duckdb_path, run.duckdb_path.with_suffix(".duckdb.wal"), run.cursor_file):
        stale.unlink(missing_ok=True)
    shutil.rmtree(run.dagster_home, ignore_errors=True)
    run.dagster_home.mkdir()
    (run.dagster_home / "dagster.yaml").write_text(product_dagster_yaml())
    run.dbt_target.mkdir(exist_ok=True)
    for invocation_dir in run.dbt_target.iterdir():
        if invocation_dir.is_dir():
            shutil.rmtree(invocation_dir)
    parsed = ctx.state.setdefault("parsed_run_dirs", set())
    if root not in parsed:
        (run.dbt_target / "partial_parse.msgpack").unlink(missing_ok=True)
        log = (ctx.work_dir / "logs" / "dbt-parse.log").open("a")
        run.parsing = subprocess.Popen(
            [str(Path(sys.executable).with_name("dbt")), "parse", "--quiet",
             "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR), "--target", "duckdb"],
            env=run.env(ctx),
            cwd=PROJECT_DIR,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        parsed.add(root)
    return run


def compare_gold(database_a: Path, database_b: Path) -> dict:
    """Row-by-row equality of the gold tables of two warehouses, on the contract columns
    (EXCEPT ALL both ways)."""
    import duckdb

    report: dict = {}
    with duckdb.connect() as con:
        con.execute(f"ATTACH '{database_a}' AS a (READ_ONLY)")
        con.execute(f"ATTACH '{database_b}' AS b (READ_ONLY)")
        for table, columns in GOLD_COLUMNS.items():
            try:
                rows_a = con.execute(f"SELECT count(*) FROM a.gold.{table}").fetchone()[0]
                rows_b = con.execute(f"SELECT count(*) FROM b.gold.{table}").fetchone()[0]
                a, b = f"SELECT {columns} FROM a.gold.{table}", f"SELECT {columns} FROM b.gold.{table}"
                only_a = con.execute(f"SELECT count(*) FROM ({a} EXCEPT ALL {b})").fetchone()[0]
                only_b = con.execute(f"SELECT count(*) FROM ({b} EXCEPT ALL {a})").fetchone()[0]
                report[table] = {
                    "equal": only_a == 0 and only_b == 0,
                    "rows": [rows_a, rows_b],
                    "rows_only_in_one": only_a + only_b,
                }
            except duckdb.Error as error:
                report[table] = {"equal": False, "error": str(error).splitlines()[0]}
    report["all_equal"] = all(v.get("equal") for v in list(report.values()) if isinstance(v, dict))
    return report
