"""Deterministic synthetic landing data for the analytics platform, made from the dataset
declarations (dbt sources YAML, read through analytics_platform.lib.datasets).

Produces the raw files an upstream system would drop into the S3 landing zone
(``landing/<domain>/<dataset>/<YYYY-MM-DD>/<dataset>_<YYYY-MM-DD>_part<N>.<ext>``):

- spec.py       SampleSpec (what to generate), LandingFile (what comes out), shared helpers
- ecommerce.py  the e-commerce domain's orders, products, users and reviews, with their dirt
- tickit.py     the TICKIT domain (AWS's Redshift sample), dimensions vendored
- game.py       the game domain's telemetry events (gzip NDJSON in hour folders), with their dirt
- generic.py    rows from the declared column types, for any other declared dataset
- files.py      CSV / JSON / Parquet bodies, writing to a folder, uploading to S3
- __main__.py   ``python -m analytics_platform.local.sample_data --out DIR ...``

Same ``SampleSpec`` and declarations -> byte-identical files: every random draw comes from
``random.Random`` streams seeded from ``spec.seed`` (one stream per concern), nothing reads the
wall clock, and Parquet is written with fixed writer options.
"""

from __future__ import annotations

from collections.abc import Sequence

from analytics_platform.lib.datasets import Dataset
from analytics_platform.local.sample_data.ecommerce import (
    DELIVERY_ORDER,
    DOMAIN,
    FIELDS,
    ecommerce_files,
)
from analytics_platform.local.sample_data.files import upload_landing_files, write_landing_files
from analytics_platform.local.sample_data.game import DATASET as GAME_DATASET
from analytics_platform.local.sample_data.game import DOMAIN as GAME_DOMAIN
from analytics_platform.local.sample_data.game import GameSpec, game_files
from analytics_platform.local.sample_data.generic import generic_files
from analytics_platform.local.sample_data.spec import LandingFile, SampleSpec
from analytics_platform.local.sample_data.tickit import DOMAIN as TICKIT_DOMAIN
from analytics_platform.local.sample_data.tickit import FILE_NAMES as TICKIT_FILE_NAMES
from analytics_platform.local.sample_data.tickit import TickitSpec, tickit_files

__all__ = [
    "GameSpec",
    "LandingFile",
    "SampleSpec",
    "TickitSpec",
    "declared_datasets",
    "generate_landing_files",
    "upload_landing_files",
    "write_landing_files",
]


def declared_datasets() -> tuple[Dataset, ...]:
    """The datasets the configured dbt project declares (its parsed manifest)."""
    from analytics_platform.lib.datasets import load_datasets
    from analytics_platform.settings import load_settings

    return load_datasets(load_settings())


def generate_landing_files(
    spec: SampleSpec | None = None,
    prefix: str = "landing/",
    datasets: Sequence[Dataset] | None = None,
    tickit: TickitSpec | None = None,
    game: GameSpec | None = None,
) -> list[LandingFile]:
    """Generate the landing files of `datasets` (default: every declared one) for ``spec``.

    Files are returned in delivery order: by day, then products, users, orders, reviews, then any
    other dataset (by domain and name), then part number (a consumer loading them in this order
    never sees an order or review referencing a product or user not delivered yet).
    The tickit domain's datasets come from tickit.py (``tickit``: their sizes), on the first day,
    dimensions first. The game domain's events come from game.py (``game``: its size and dirt;
    default: two days from ``spec.start``, no malformed file), by hour folder.
    """
    spec = SampleSpec() if spec is None else spec
    if spec.days < 1 or spec.products < 1 or spec.users < 1:
        raise ValueError("days, products and users must be >= 1")
    if spec.orders_per_day < 0 or spec.reviews_per_day < 0 or spec.generic_rows_per_day < 0:
        raise ValueError("orders_per_day, reviews_per_day and generic_rows_per_day must be >= 0")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    datasets = declared_datasets() if datasets is None else tuple(datasets)
    ecommerce = {d.name: d for d in datasets if d.domain == DOMAIN and d.name in FIELDS}
    files = ecommerce_files(spec, prefix, ecommerce) if ecommerce else []
    tickit_names = [d.name for d in datasets if d.domain == TICKIT_DOMAIN and d.name in TICKIT_FILE_NAMES]
    if tickit_names:
        files += [(0, len(DELIVERY_ORDER) - 1, part, f) for part, f in
                  enumerate(tickit_files(tickit or TickitSpec(seed=spec.seed), prefix, tickit_names))]
    has_game = any((d.domain, d.name) == (GAME_DOMAIN, GAME_DATASET) for d in datasets)
    if has_game:
        game = game or GameSpec(start=spec.start, seed=spec.seed)
        files += [(day, len(DELIVERY_ORDER) - 1, hour, f) for day, hour, f in game_files(game, prefix)]
    others = sorted((d for d in datasets if (d.name not in ecommerce or d.domain != DOMAIN)
                     and not (d.domain == TICKIT_DOMAIN and d.name in tickit_names)
                     and not (has_game and (d.domain, d.name) == (GAME_DOMAIN, GAME_DATASET))),
                    key=lambda d: (d.domain, d.name))
    for rank, dataset in enumerate(others, start=len(DELIVERY_ORDER)):
        files += [(day, rank, part, f) for day, part, f in generic_files(spec, prefix, dataset)]
    files.sort(key=lambda f: f[:3])
    return [f[3] for f in files]
