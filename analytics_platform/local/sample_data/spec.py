"""What to generate (SampleSpec), what comes out (LandingFile), and the deterministic time and
random helpers every generator of the package shares."""

from __future__ import annotations

import datetime
import random
from collections.abc import Sequence
from dataclasses import dataclass

DAY = 86_400
EPOCH_ORDINAL = datetime.date(1970, 1, 1).toordinal()
# Rows per hour of day (UTC), evening peak.
_HOUR_WEIGHTS = (2, 1, 1, 1, 1, 2, 3, 4, 5, 6, 6, 7, 8, 7, 7, 7, 8, 9, 10, 11, 11, 9, 6, 4)


@dataclass(frozen=True)
class LandingFile:
    key: str  # object key relative to the bucket
    body: bytes
    dataset: str  # the dataset's name, e.g. orders
    malformed: bool = False  # deliberately broken file (to be quarantined whole)
    domain: str = "ecommerce"  # the dataset's domain (its dbt source name)


@dataclass(frozen=True)
class SampleSpec:
    days: int = 14
    start: datetime.date = datetime.date(2026, 10, 1)
    orders_per_day: int = 200
    products: int = 60
    users: int = 400  # size of the initial user base; new users are added on later days
    reviews_per_day: int = 60
    seed: int = 42
    include_malformed: bool = False
    generic_rows_per_day: int = 20  # rows per day of a dataset without a specific generator



def rng_for(spec: SampleSpec, stream: str) -> random.Random:
    """One random stream per concern, seeded from spec.seed: changing one concern (e.g. the number
    of reviews) does not change another's draws."""
    return random.Random(f"analytics-platform-sample:{spec.seed}:{stream}")


def day_dates(spec: SampleSpec) -> list[str]:
    return [(spec.start + datetime.timedelta(days=d)).isoformat() for d in range(spec.days)]


def first_day_epoch(spec: SampleSpec) -> int:
    return (spec.start.toordinal() - EPOCH_ORDINAL) * DAY


def cum(weights: Sequence[int]) -> list[int]:
    out, total = [], 0
    for w in weights:
        total += w
        out.append(total)
    return out


_HOUR_CUM = cum(_HOUR_WEIGHTS)

_DATE_TEXT_CACHE: dict[int, str] = {}


def ts_text(seconds: int) -> str:
    """Epoch seconds (UTC) -> 'YYYY-MM-DD HH:MM:SS'."""
    day, rem = divmod(seconds, DAY)
    date_text = _DATE_TEXT_CACHE.get(day)
    if date_text is None:
        date_text = datetime.date.fromordinal(EPOCH_ORDINAL + day).isoformat()
        _DATE_TEXT_CACHE[day] = date_text
    hour, rem = divmod(rem, 3600)
    minute, second = divmod(rem, 60)
    return f"{date_text} {hour:02d}:{minute:02d}:{second:02d}"


def money_text(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def times_of_day(rng: random.Random, day_start: int, n: int) -> list[int]:
    """n sorted epoch-second timestamps within the UTC day starting at day_start."""
    hours = rng.choices(range(24), cum_weights=_HOUR_CUM, k=n)
    rr = rng.randrange
    return sorted(day_start + h * 3600 + rr(3600) for h in hours)


def split(rng: random.Random, rows: list[int], parts: int) -> list[list[int]]:
    """Split rows into `parts` contiguous chunks of random (roughly balanced) sizes."""
    weights = [rng.uniform(0.6, 1.4) for _ in range(parts)]
    total = sum(weights)
    cuts, acc = [], 0.0
    for w in weights[:-1]:
        acc += w
        cuts.append(round(len(rows) * acc / total))
    bounds = [0, *cuts, len(rows)]
    return [rows[bounds[i] : bounds[i + 1]] for i in range(parts)]


def add_duplicates(rng: random.Random, parts_by_day: list[list[list[int]]], rate: float) -> None:
    """Deliver ~rate of the rows a second time (identical) in a later file.

    The later file is a later part of the same day or a part of the next day's delivery;
    rows in the very last file have no later file and are never duplicated.
    """
    days = len(parts_by_day)
    extra: list[list[list[int]]] = [[[] for _ in parts] for parts in parts_by_day]
    for day, parts in enumerate(parts_by_day):
        next_parts = len(parts_by_day[day + 1]) if day + 1 < days else 0
        for p, rows in enumerate(parts):
            later_same = len(parts) - p - 1
            if not later_same and not next_parts:
                continue
            for row in rows:
                if rng.random() >= rate:
                    continue
                if later_same and (not next_parts or rng.random() < 0.5):
                    extra[day][p + 1 + rng.randrange(later_same)].append(row)
                else:
                    extra[day + 1][rng.randrange(next_parts)].append(row)
    for day, parts in enumerate(parts_by_day):
        for p, rows in enumerate(parts):
            rows.extend(extra[day][p])
