"""Runs `limit.sql` (the engine's limit) in its own process: `python -m benchmarks.limit LANDING DB`.

Times the script's execution only (not the interpreter start or `import duckdb`), like the
platform side times its run only.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from benchmarks.common import emit_result

SQL = Path(__file__).with_name("limit.sql")


def main(argv: list[str] | None = None) -> int:
    landing, database = (argv or sys.argv[1:])[:2]
    import duckdb

    script = SQL.read_text().replace("{landing}", str(Path(landing).resolve()))
    Path(database).unlink(missing_ok=True)
    with duckdb.connect(database) as con:
        started = time.perf_counter()
        con.execute(script)
        con.execute("CHECKPOINT")
        seconds = time.perf_counter() - started
        counts = {
            table: con.execute(f"SELECT count(*) FROM gold.{table}").fetchone()[0]
            for table in ("gold_daily_sales", "gold_daily_avg_rating", "product_categories")
        }
    emit_result({"seconds": round(seconds, 4), "gold": counts})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
