"""``python -m analytics_platform.local.sample_data --out DIR [--days N] [--orders-per-day N]
[--seed N] [--include-malformed] [--game-days N] [--game-players N] [--game-include-malformed]
[--domain D ...]``: write the sample landing files of every
declared dataset (or of the datasets of the given domains) to a local folder (the declarations are
read from the configured dbt project's manifest)."""

from __future__ import annotations

import argparse
import datetime
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from analytics_platform.local.sample_data import (
    GameSpec,
    SampleSpec,
    declared_datasets,
    generate_landing_files,
    write_landing_files,
)


def main(argv: Sequence[str] | None = None) -> int:
    defaults = SampleSpec()
    parser = argparse.ArgumentParser(
        prog="python -m analytics_platform.local.sample_data",
        description="Write deterministic synthetic landing files to a local folder.",
    )
    parser.add_argument("--out", required=True, type=Path, help="output folder")
    parser.add_argument("--days", type=int, default=defaults.days)
    parser.add_argument(
        "--start", type=datetime.date.fromisoformat, default=defaults.start, help="first day, YYYY-MM-DD"
    )
    parser.add_argument("--orders-per-day", type=int, default=defaults.orders_per_day)
    parser.add_argument("--products", type=int, default=defaults.products)
    parser.add_argument("--users", type=int, default=defaults.users)
    parser.add_argument("--reviews-per-day", type=int, default=defaults.reviews_per_day)
    parser.add_argument("--generic-rows-per-day", type=int, default=defaults.generic_rows_per_day)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--include-malformed", action="store_true")
    parser.add_argument("--game-players", type=int, default=GameSpec.players, help="players of the game domain")
    parser.add_argument("--game-days", type=int, default=GameSpec.days, help="days of game events")
    parser.add_argument("--game-include-malformed", action="store_true",
                        help="one game events file with a line cut short (quarantined whole)")
    parser.add_argument("--prefix", default="landing/")
    parser.add_argument(
        "--domain",
        action="append",
        help="only the datasets of this domain, e.g. ecommerce (repeatable; default: every domain)",
    )
    args = parser.parse_args(argv)
    spec = SampleSpec(
        days=args.days,
        start=args.start,
        orders_per_day=args.orders_per_day,
        products=args.products,
        users=args.users,
        reviews_per_day=args.reviews_per_day,
        generic_rows_per_day=args.generic_rows_per_day,
        seed=args.seed,
        include_malformed=args.include_malformed,
    )
    started = time.perf_counter()
    datasets = None
    if args.domain:
        datasets = [d for d in declared_datasets() if d.domain in args.domain]
        if not datasets:
            parser.error(f"no declared dataset in domain(s) {', '.join(args.domain)}")
    # --include-malformed is the e-commerce domain's (as in SampleSpec); the game's malformed
    # file has its own flag, so the default landing's quarantine stays the same two files.
    game = GameSpec(days=args.game_days, start=args.start, players=args.game_players, seed=args.seed,
                    include_malformed=args.game_include_malformed)
    files = generate_landing_files(spec, prefix=args.prefix, datasets=datasets, game=game)
    write_landing_files(args.out, files)
    size = sum(len(f.body) for f in files)
    malformed = sum(f.malformed for f in files)
    print(
        f"wrote {len(files)} files ({malformed} malformed), {size:,} bytes to {args.out} "
        f"in {time.perf_counter() - started:.2f}s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
