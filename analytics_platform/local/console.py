"""The CLI on the terminal: its messages, and `dagster dev` run as a process group that stops as a
whole (`make dev`)."""

from __future__ import annotations

import os
import subprocess
from contextlib import suppress

from analytics_platform.settings import REPO_ROOT

STOP_GRACE_SECONDS = 5.0


def say(message: str) -> None:
    print(f"[analytics-platform] {message}", flush=True)


def run_process_group(command: list[str], env: dict[str, str]) -> int:
    """Run `command` in its own process group until it exits, or until Ctrl-C / SIGTERM: then
    SIGTERM the whole group (`dagster dev` and the webserver, daemon, code server and run
    processes it started, which share the group), SIGKILL what is left after
    STOP_GRACE_SECONDS. `dagster dev` alone waits up to a minute for its children."""
    import signal

    process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, start_new_session=True)
    def stop(_signum, _frame):
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        return process.wait()
    except KeyboardInterrupt:
        say("stopping dagster dev and everything it started ...")
        return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        stop_process_group(process)


def stop_process_group(process: subprocess.Popen, grace_seconds: float = STOP_GRACE_SECONDS) -> None:
    """SIGTERM `process`'s whole group, SIGKILL what is left after `grace_seconds` (also used
    by the tests that start `dagster-daemon` / `dagster-webserver` in groups of their own)."""
    import signal
    import time

    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace_seconds
    while time.monotonic() < deadline:
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            break
        process.poll()
        time.sleep(0.1)
    else:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    process.poll()
