"""`make bench-smoke` keeps working: the whole benchmark suite at a tiny scale, in a few minutes.

Benchmarks are not tests (their figures are not asserted here, and `make bench` never runs in
`make test`); this only checks that every benchmark still runs against the current code and
produces a complete result.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = {"e2e", "incremental", "dbt-overhead", "load-time", "sensor-tick", "ingest-memory"}
TIMEOUT_SECONDS = 300
GUARD_SECONDS = 240


def test_every_benchmark_runs_in_smoke_mode(tmp_path: Path):
    results = tmp_path / "smoke.json"
    started = time.monotonic()
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--smoke",
         "--work-dir", str(tmp_path / "work"), "--results", str(results)],
        cwd=REPO_ROOT,
        check=False,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
    )
    elapsed = time.monotonic() - started
    assert completed.returncode == 0, completed.stdout[-6000:] + completed.stderr[-3000:]

    data = json.loads(results.read_text())
    assert data["mode"] == "smoke"
    assert data["errors"] == {}
    assert {f["benchmark"] for f in data["figures"]} == BENCHMARKS
    for figure in data["figures"]:
        assert figure["value"]["median"] is not None, figure["id"]
        assert figure["command"], figure["id"]
    assert data["machine"]["cores"] and data["machine"]["memory_gib"]
    # The smoke run still checks the answers, not just that something ran.
    incremental = next(f for f in data["figures"] if f["id"].startswith("incremental_equals"))
    assert incremental["goal_met"], incremental["details"]
    e2e = next(f for f in data["figures"] if f["benchmark"] == "e2e")
    assert e2e["details"]["gold_equal_to_limit"]["all_equal"], e2e["details"]["gold_equal_to_limit"]
    # About 2 minutes on a quiet 2-core machine (two full platform runs of the real dbt project
    # dominate: the e2e load and the incremental one); the guard is looser because this machine is
    # shared (the load average at start is in the results), and below the 300 s timeout so that a
    # slow run fails with its timings rather than a bare timeout.
    assert elapsed < GUARD_SECONDS, (
        f"smoke mode took {elapsed:.0f} s (load {data['machine']['load_average_at_start']}; "
        f"per benchmark {data['benchmark_seconds']})"
    )
