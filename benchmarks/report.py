"""Results JSON -> the table in BENCHMARKS.md (between the bench-table markers).

    python -m benchmarks.report [RESULTS_JSON]   # re-render from a results file (default: the one finished last)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from benchmarks.common import REPO_ROOT, RESULTS_DIR, describe_machine

MARKDOWN = REPO_ROOT / "BENCHMARKS.md"
START, END = "<!-- bench-table:start -->", "<!-- bench-table:end -->"
# The rows of the goal table (issue 12, then the figures of issue 4 still measured), in order:
# row -> the name for it. A figure names its row (Figure.row).
ROWS = {
    "dbt-processes": "landing run, dbt processes",
    "e2e-script-large": "end to end vs script, 10M",
    "e2e-unorchestrated": "end to end vs unorchestrated, 10M",
    "e2e-script-small": "end to end vs script, 1M",
    "incremental": "incremental +1%, 10M",
    "incremental-vs-idle": "incremental vs nothing-new run",
    "incremental-equals-full-refresh": "incremental = full refresh",
    "ingestion": "ingestion vs DuckDB",
    "dbt-overhead": "500 trivial models vs plain dbt",
    "load-time-1000": "code-location load, 1,000",
    "load-time-5000": "code-location load, 5,000",
    "scale-time": "scale: time",
    "scale-memory": "scale: peak RSS",
    "sensor-tick": "(issue 4) sensor tick",
    "sensor-tick-scaling": "(issue 4) sensor tick scaling",
    "ingest-memory": "(issue 4) ingestion memory",
}
# The absolute figures shown in the table, per row (the JSON has them all).
SHOWN = {
    "dbt-processes": ["dbt_commands", "steps", "sensor_run_steps"],
    "e2e-script-large": ["platform_seconds", "script_seconds", "platform_rows_per_second"],
    "e2e-script-small": ["platform_seconds", "script_seconds", "platform_rows_per_second"],
    "e2e-unorchestrated": ["platform_seconds", "unorchestrated_seconds", "plain_load_seconds",
                           "replayed_sql_seconds", "dbt_elapsed_seconds"],
    "incremental": ["incremental_seconds", "full_build_seconds", "dbt_start_seconds", "new_rows_per_increment"],
    "incremental-vs-idle": ["incremental_seconds", "nothing_new_run_seconds", "dbt_start_seconds"],
    "ingestion": ["ingestion_seconds", "duckdb_seconds"],
    "dbt-overhead": ["plain_seconds", "dagster_seconds"],
    "load-time-1000": ["process_wall_seconds", "libraries_seconds", "definitions_seconds", "resolve_seconds",
                       "dagster_definitions_validate_seconds"],
    "load-time-5000": ["process_wall_seconds", "libraries_seconds", "definitions_seconds", "resolve_seconds"],
    "scale-time": ["seconds_1m", "seconds_10m", "seconds_30m", "seconds_smoke"],
    "scale-memory": ["peak_rss_mib_1m", "peak_rss_mib_10m", "peak_rss_mib_30m", "peak_rss_mib_smoke"],
    "sensor-tick": ["new_files_seen", "idle_tick_seconds"],
    "sensor-tick-scaling": ["tick_seconds_10000_old", "tick_seconds_100000_old"],
    "ingest-memory": ["rows_per_second", "seconds", "download_seconds", "baseline_rss_mib"],
}


def row_order(figure: dict[str, Any]) -> int:
    rows = list(ROWS)
    return rows.index(figure.get("row")) if figure.get("row") in rows else len(rows)


def number(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, (int, float)):
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        if abs(value) >= 10:
            return f"{value:.1f}"
        if abs(value) >= 1:
            return f"{value:.2f}"
        return f"{value:.3f}"
    return str(value)


def summary_text(value: dict[str, Any], unit: str) -> str:
    unit = unit.strip()
    suffix = unit if unit.startswith("×") else f" {unit}" if unit else ""
    if suffix.startswith("× "):
        suffix = "×"
    text = f"**{number(value['median'])}{suffix}**"
    if value.get("n", 0) > 1:
        text += f" [{number(value['min'])}–{number(value['max'])}], n={value['n']}"
    elif value.get("n") == 1:
        text += ", n=1"
    return text


def absolute_text(figure: dict[str, Any]) -> str:
    parts = []
    for key in SHOWN.get(figure.get("row", ""), []):
        if key not in figure["absolute"]:
            continue
        value = figure["absolute"][key]
        if isinstance(value, dict) and "median" in value:
            value = value["median"]
        if isinstance(value, list):
            value = ", ".join(map(str, value))
        label = key.replace("_", " ")
        parts.append(f"{label} {number(value)}")
    return "; ".join(parts)


def render_table(results: dict[str, Any]) -> str:
    lines = [
        f"Run of {results['date']} ({results['mode']}), {describe_machine(results['machine'])}. "
        f"Total wall time of the run: {number(results.get('wall_seconds'))} s"
        + (f" (rows re-run since: {len(results['partial_runs'])})" if results.get("partial_runs") else "")
        + ".",
        "",
        "| Row | Figure | Goal | Measured: median [min–max], n | Absolute (medians) | Met | Reproduce |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for figure in sorted(results["figures"], key=row_order):
        met = {True: "✅ met", False: "❌ missed", None: "—"}[figure["goal_met"]]
        measured = figure.get("display") or summary_text(figure["value"], figure["unit"])
        lines.append(
            f"| {ROWS.get(figure.get('row', ''), '')} | {figure['title']} | {figure['goal'] or '—'} "
            f"| {measured} | {absolute_text(figure)} | {met} | `{figure['command']}` |"
        )
    for name, error in results.get("errors", {}).items():
        last = error.strip().splitlines()[-1] if error.strip() else "failed"
        lines.append(f"| {name} | {name} (benchmark failed) | — | failed: `{last[:120]}` | | ❌ | |")
    return "\n".join(lines)


def update_benchmarks_md(results: dict[str, Any], results_path: Path) -> None:
    try:
        shown_path = results_path.resolve().relative_to(REPO_ROOT)
    except ValueError:
        shown_path = results_path
    block = f"{START}\n{render_table(results)}\n\nRaw figures: `{shown_path}`.\n{END}"
    if MARKDOWN.exists():
        text = MARKDOWN.read_text()
        if START in text and END in text:
            before, _, rest = text.partition(START)
            _, _, after = rest.partition(END)
            MARKDOWN.write_text(before + block + after)
            return
        MARKDOWN.write_text(text.rstrip() + "\n\n" + block + "\n")
        return
    MARKDOWN.write_text(f"# Benchmarks\n\n{block}\n")


def newest_results() -> Path:
    """The results file of the run that finished last (names sort by date only: a day can hold
    runs of two machines, e.g. 2026-12-02.json and 2026-12-02-amd-epyc.json)."""
    return max(RESULTS_DIR.glob("*.json"), key=lambda path: json.loads(path.read_text()).get("finished_at", ""))


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    path = Path(args[0]) if args else newest_results()
    update_benchmarks_md(json.loads(path.read_text()), path)
    print(f"BENCHMARKS.md table regenerated from {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
