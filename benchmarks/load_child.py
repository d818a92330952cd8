"""Loads the code location in a fresh interpreter: `python -m benchmarks.load_child`.

Times, from this module's first line: importing dagster + dagster-dbt, importing
`analytics_platform.definitions` (which builds the Definitions from the prepared manifest), and
resolving the repository and its asset graph (what a code server does next).
"""

from __future__ import annotations

import time

_started = time.perf_counter()

import sys


def main() -> int:
    import dagster  # noqa: F401
    import dagster_dbt  # noqa: F401

    libraries = time.perf_counter()
    from analytics_platform.definitions import defs

    imported = time.perf_counter()
    repository = defs.get_repository_def()
    graph = repository.asset_graph
    assets = len(list(graph.get_all_asset_keys()))
    checks = len(list(graph.asset_check_keys))
    resolved = time.perf_counter()

    from benchmarks.common import emit_result

    emit_result(
        {
            "libraries_seconds": round(libraries - _started, 3),
            "definitions_seconds": round(imported - libraries, 3),
            "resolve_seconds": round(resolved - imported, 3),
            "load_seconds": round(resolved - _started, 3),
            "assets": assets,
            "asset_checks": checks,
            "python": sys.version.split()[0],
        }
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
