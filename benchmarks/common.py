"""What every benchmark shares: statistics, figures, the machine, the work folder, child processes.

A figure is the median of several runs with min and max; a ratio is taken per pair of runs made
back to back in the same session (run i of A / run i of B), then summarised the same way, so a
noisy neighbour on a shared machine moves both sides of a pair together.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = REPO_ROOT / "benchmarks"
WORK_DIR = BENCH_DIR / ".work"
RESULTS_DIR = BENCH_DIR / "results"
RESULT_MARKER = "BENCH_RESULT "
# BENCH_DBT_PROJECT_DIR measures another copy of the dbt project (e.g. a snapshot of a commit
# while the working tree is being edited); by default, the repository's own.
PROJECT_DIR = Path(os.environ.get("BENCH_DBT_PROJECT_DIR") or REPO_ROOT / "dbt_project").resolve()


# --------------------------------------------------------------------------- statistics


def summarize(values: Sequence[float], digits: int = 4) -> dict[str, Any]:
    """median / min / max / n of a series (rounded); an empty series gives None values."""
    values = [float(v) for v in values]
    if not values:
        return {"median": None, "min": None, "max": None, "n": 0, "runs": []}
    return {
        "median": round(statistics.median(values), digits),
        "min": round(min(values), digits),
        "max": round(max(values), digits),
        "n": len(values),
        "runs": [round(v, digits) for v in values],
    }


def ratios(numerators: Sequence[float], denominators: Sequence[float]) -> list[float]:
    return [a / b for a, b in zip(numerators, denominators) if b]


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


# --------------------------------------------------------------------------- figures


@dataclass
class Figure:
    """One row of the results table.

    `value` is the headline (a summary dict from `summarize`) in `unit`; `goal` is the issue's
    target, `goal_met` whether the median meets it (None when there is no goal for the row).
    """

    id: str
    benchmark: str
    title: str
    unit: str
    value: dict[str, Any]
    goal: str | None = None
    goal_met: bool | None = None
    absolute: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    command: str = ""
    display: str | None = None
    """How the table shows the value, when "median [min–max]" does not fit (e.g. equal/differs)."""
    row: str = ""
    """Which row of the goal table (benchmarks.report.ROWS) this figure is, whatever its scale."""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


# --------------------------------------------------------------------------- machine


def machine_info() -> dict[str, Any]:
    meminfo = {}
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            name, _, rest = line.partition(":")
            meminfo[name] = int(rest.split()[0]) * 1024
    except OSError:
        pass
    cpu_model = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    versions = {}
    for package in ("dagster", "dagster-dbt", "dbt-core", "dbt-duckdb", "duckdb", "moto", "pyarrow"):
        try:
            from importlib.metadata import version

            versions[package] = version(package)
        except Exception:  # noqa: BLE001 - informational only
            versions[package] = None
    disk = shutil.disk_usage(REPO_ROOT)
    return {
        "hostname": platform.node(),
        "cpu_model": cpu_model,
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "memory_gib": round(meminfo.get("MemTotal", 0) / 2**30, 1),
        "memory_available_gib_at_start": round(meminfo.get("MemAvailable", 0) / 2**30, 1),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "disk_free_gib_at_start": round(disk.free / 2**30, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "packages": versions,
    }


def describe_machine(info: dict[str, Any]) -> str:
    return (
        f"{info['cores']} cores ({info['cpu_model']}), {info['memory_gib']} GiB RAM, "
        f"Python {info['python']}, load average at start {info['load_average_at_start']}"
    )


# --------------------------------------------------------------------------- context


@dataclass
class Context:
    """Handed to every benchmark: the mode, the work folder, the local S3 server, shared state."""

    smoke: bool
    work_dir: Path
    s3_endpoint: str | None = None
    state: dict[str, Any] = field(default_factory=dict)
    log_dir: Path | None = None

    def log(self, message: str) -> None:
        print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)

    def folder(self, name: str, fresh: bool = False) -> Path:
        path = self.work_dir / name
        if fresh and path.exists():
            shutil.rmtree(path)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def repeats(self, full: int, smoke: int = 1) -> int:
        return smoke if self.smoke else full


# --------------------------------------------------------------------------- child processes


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DO_NOT_TRACK": "1",
            "DAGSTER_DISABLE_TELEMETRY": "1",
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "PYTHONUNBUFFERED": "1",
            # Nothing from the caller's shell may point the children at another warehouse.
            "ANALYTICS_ENV": "local",
        }
    )
    env.pop("DAGSTER_IS_DEV_CLI", None)
    # The venv's bin first, so `dbt` resolves to the one beside this interpreter.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO_ROOT)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
    )
    if extra:
        env.update(extra)
    return env


def emit_result(payload: dict[str, Any]) -> None:
    """Used by child processes: one marked JSON line on stdout, read by `run_child`."""
    print(RESULT_MARKER + json.dumps(payload, default=str), flush=True)


# Set by `benchmarks.run --profile`: every Python child runs under `py-spy record` and leaves a
# collapsed-stack profile here (py-spy is optional: `pip install py-spy`; the suite runs without).
PROFILE_DIR: Path | None = None


def _profiled(command: list[str], log_path: Path) -> tuple[list[str], Path | None]:
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if PROFILE_DIR is None or not Path(spy).exists() or command[0] != sys.executable:
        return command, None
    PROFILE_DIR.mkdir(parents=True, exist_ok=True)
    name = "-".join(
        a.rsplit(".", 1)[-1] for a in command[2:4] if a.replace("-", "").replace("_", "").isalnum()
    )
    output = PROFILE_DIR / f"{log_path.stem}-{name}-{time.strftime('%H%M%S')}.txt"
    # --idle --threads: wall-clock attribution (waiting on dbt's pipe or on a commit counts too);
    # the summary keeps the main thread only.
    record = [spy, "record", "--rate", "50", "--idle", "--threads", "--format", "raw", "--output", str(output)]
    return [*record, "--", *command], output


def profile_summary(path: Path, top: int = 15) -> dict[str, Any]:
    """Inclusive and self shares of the busiest frames of the main thread in a py-spy raw
    (collapsed) profile recorded with --idle --threads: shares of wall-clock time."""
    import re
    from collections import Counter

    inclusive: Counter = Counter()
    own: Counter = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        samples = int(count)
        frames = [re.sub(r":\d+\)", ")", f) for f in stack.split(";")]
        if frames and frames[0].startswith("thread ("):
            frames = frames[1:]
        if not frames or "_run_module_as_main" not in frames[0]:
            continue  # not the main thread
        total += samples
        for frame in set(frames):
            inclusive[frame] += samples
        own[frames[-1]] += samples
    share = lambda n: round(100 * n / total, 1) if total else 0.0
    return {
        "samples": total,
        "inclusive_percent": {f: share(n) for f, n in inclusive.most_common(top * 3)},
        "self_percent": {f: share(n) for f, n in own.most_common(top)},
    }


def run_child(
    args: Sequence[str],
    env: dict[str, str] | None = None,
    log_path: Path | None = None,
    timeout: float = 3600,
    cwd: Path | None = None,
) -> tuple[float, dict[str, Any]]:
    """Run `python -m <args>` (or a command starting with an executable path); return (wall
    seconds, the JSON the child emitted). The child's output goes to `log_path`."""
    command = list(args)
    if not command[0].startswith("/"):
        command = [sys.executable, "-m", *command]
    log_path = log_path or (WORK_DIR / "logs" / "child.log")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    command, profile = _profiled(command, log_path)
    started = time.perf_counter()
    with log_path.open("a") as log:
        log.write(f"\n$ {' '.join(command)}\n")
        log.flush()
        process = subprocess.run(
            command,
            check=False,
            env=env or child_env(),
            cwd=cwd or REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            timeout=timeout,
        )
        log.write(process.stdout)
    elapsed = time.perf_counter() - started
    payload: dict[str, Any] = {}
    for line in process.stdout.splitlines():
        if line.startswith(RESULT_MARKER):
            payload = json.loads(line[len(RESULT_MARKER) :])
    if profile is not None and profile.exists():
        payload["profile"] = {"file": str(profile), **profile_summary(profile)}
    if process.returncode != 0:
        tail = "\n".join(log_path.read_text().splitlines()[-40:])
        raise RuntimeError(
            f"benchmark child failed ({process.returncode}): {' '.join(command)}\n"
            f"--- last lines of {log_path} ---\n{tail}"
        )
    return elapsed, payload


def directory_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
