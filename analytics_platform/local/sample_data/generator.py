"""Deterministic synthetic landing data for the analytics platform.

Produces the raw files an upstream system would drop into the S3 landing zone
(``landing/<dataset>/<YYYY-MM-DD>/<dataset>_<YYYY-MM-DD>_part<N>.<ext>``), following
docs/CONTRACTS.md: orders (CSV, one Parquet part on some days), products (JSON, initial
catalogue then new versions), users (Parquet, initial then updated and new users) and
reviews (newline-delimited JSON, CSV on some days), including the dirt the pipeline must
cope with: duplicate deliveries, late rows, stray case/whitespace in status, category and
email, and optionally two malformed files that must be quarantined whole.

Same ``SampleSpec`` -> byte-identical files: every random draw comes from ``random.Random``
streams seeded from ``spec.seed`` (one stream per concern, so e.g. changing the number of
reviews does not change the orders), nothing reads the wall clock, and Parquet is written
with fixed writer options (the embedded ``created_by`` string names the pyarrow version).

Usage::

    python -m analytics_platform.local.sample_data.generator --out DIR [--days N]
        [--orders-per-day N] [--seed N] [--include-malformed]
"""

from __future__ import annotations

import argparse
import bisect
import csv
import datetime
import io
import json
import math
import random
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pyarrow as pa
import pyarrow.parquet as pq

from analytics_platform.lib.datasets import DATASETS as LANDING_DATASETS

__all__ = [
    "COLUMNS",
    "DATASETS",
    "LandingFile",
    "SampleSpec",
    "generate_landing_files",
    "main",
    "upload_landing_files",
    "write_landing_files",
]

DATASETS = tuple(dataset.name for dataset in LANDING_DATASETS)
_DELIVERY_ORDER = ("products", "users", "orders", "reviews")  # within a day

# Column order of every file: the landing contract's.
COLUMNS: dict[str, tuple[str, ...]] = {
    dataset.name: tuple(column.name for column in dataset.columns) for dataset in LANDING_DATASETS
}


@dataclass(frozen=True)
class LandingFile:
    key: str  # object key relative to the bucket
    body: bytes
    dataset: str  # orders | products | users | reviews
    malformed: bool = False  # deliberately broken file (to be quarantined whole)


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


# --------------------------------------------------------------------------- constants

DUPLICATE_ORDER_RATE = 0.03
LATE_ORDER_RATE = 0.05
DUPLICATE_REVIEW_RATE = 0.02
STATUS_DIRT_RATE = 0.015
EMAIL_DIRT_RATE = 0.05
CATEGORY_DIRT_RATE = 0.05

_DAY = 86_400
_EPOCH_ORDINAL = datetime.date(1970, 1, 1).toordinal()

# category -> (price range in cents, products)
_CATALOGUE: dict[str, tuple[tuple[int, int], tuple[str, ...]]] = {
    "Electronics": (
        (1_500, 90_000),
        (
            "Wireless Earbuds",
            "USB-C Charger",
            "Bluetooth Speaker",
            "Smart Watch",
            "Noise-Cancelling Headphones",
            "Portable SSD",
            "Mechanical Keyboard",
            "HD Webcam",
        ),
    ),
    "Books": (
        (600, 6_000),
        (
            "Cookbook",
            "Mystery Novel",
            "Science Fiction Paperback",
            "Travel Guide",
            "Children's Picture Book",
            "Biography",
            "Programming Handbook",
            "Poetry Collection",
        ),
    ),
    "Home & Kitchen": (
        (800, 40_000),
        (
            "Chef's Knife",
            "Cast Iron Skillet",
            "French Press",
            "Stand Mixer",
            "Bath Towel Set",
            "Bamboo Cutting Board",
            "Air Fryer",
            "Table Lamp",
        ),
    ),
    "Clothing": (
        (900, 20_000),
        (
            "Rain Jacket",
            "Merino Sweater",
            "Denim Jeans",
            "Running Socks",
            "Linen Shirt",
            "Wool Beanie",
            "Chino Shorts",
            "Hoodie",
        ),
    ),
    "Sports & Outdoors": (
        (1_000, 50_000),
        (
            "Yoga Mat",
            "Camping Tent",
            "Trail Running Shoes",
            "Insulated Water Bottle",
            "Cycling Helmet",
            "Resistance Bands",
            "Hiking Backpack",
            "Tennis Racket",
        ),
    ),
    "Toys & Games": (
        (700, 15_000),
        (
            "Building Blocks Set",
            "Board Game",
            "Jigsaw Puzzle",
            "Plush Bear",
            "Remote Control Car",
            "Card Game",
            "Science Kit",
            "Wooden Train Set",
        ),
    ),
    "Beauty & Personal Care": (
        (400, 12_000),
        (
            "Face Moisturizer",
            "Electric Toothbrush",
            "Shampoo",
            "Sunscreen SPF 50",
            "Hair Dryer",
            "Lip Balm Set",
            "Beard Trimmer",
            "Body Lotion",
        ),
    ),
    "Grocery": (
        (200, 5_000),
        (
            "Ground Coffee",
            "Green Tea",
            "Dark Chocolate",
            "Olive Oil",
            "Granola",
            "Maple Syrup",
            "Basmati Rice",
            "Hot Sauce",
        ),
    ),
}
_CATEGORIES = tuple(_CATALOGUE)
_BRANDS = (
    "Acme",
    "Northwind",
    "Contoso",
    "Fabrikam",
    "Tailspin",
    "Lumen",
    "Everfield",
    "Brightway",
    "Oakridge",
    "Bluepeak",
    "Nordhaven",
    "Sunvale",
)
_VARIANTS = ("", "", "", " Mini", " Pro", " XL", " Plus", " Classic")
_RENAMES = (" (2026 Edition)", " v2", " Eco", " 2nd Gen", " Limited Edition")

# (display name, ascii spelling for emails)
_FIRST_NAMES = (
    ("Anna", "anna"),
    ("Liam", "liam"),
    ("Sofia", "sofia"),
    ("Noah", "noah"),
    ("Mia", "mia"),
    ("Lucas", "lucas"),
    ("Emma", "emma"),
    ("Mateo", "mateo"),
    ("Olivia", "olivia"),
    ("Elias", "elias"),
    ("Chloé", "chloe"),
    ("José", "jose"),
    ("Zoë", "zoe"),
    ("Łukasz", "lukasz"),
    ("Søren", "soren"),
    ("Aisha", "aisha"),
    ("Hiroshi", "hiroshi"),
    ("Priya", "priya"),
    ("Mohammed", "mohammed"),
    ("Ingrid", "ingrid"),
    ("Carlos", "carlos"),
    ("Fatima", "fatima"),
    ("Jan", "jan"),
    ("Grace", "grace"),
    ("Oliver", "oliver"),
    ("Yuki", "yuki"),
    ("Amara", "amara"),
    ("Leon", "leon"),
    ("Elena", "elena"),
    ("Omar", "omar"),
)
_LAST_NAMES = (
    ("Smith", "smith"),
    ("García", "garcia"),
    ("Müller", "mueller"),
    ("Rossi", "rossi"),
    ("Dubois", "dubois"),
    ("Kowalski", "kowalski"),
    ("Jensen", "jensen"),
    ("Silva", "silva"),
    ("Tanaka", "tanaka"),
    ("Patel", "patel"),
    ("Nguyen", "nguyen"),
    ("Johnson", "johnson"),
    ("Andersson", "andersson"),
    ("O'Brien", "obrien"),
    ("de Vries", "devries"),
    ("Novak", "novak"),
    ("Kim", "kim"),
    ("Okafor", "okafor"),
    ("Hansen", "hansen"),
    ("Fernández", "fernandez"),
    ("Brown", "brown"),
    ("Costa", "costa"),
    ("Schmidt", "schmidt"),
    ("Martin", "martin"),
    ("Lee", "lee"),
)
_DOMAINS = (
    "example.com",
    "mail.example.org",
    "inbox.example.net",
    "post.example.de",
    "shop-customer.example",
)
_COUNTRIES = ("US", "GB", "DE", "FR", "ES", "IT", "NL", "PL", "SE", "CA", "AU", "BR", "IN", "JP")
_COUNTRY_WEIGHTS = (30, 12, 12, 8, 6, 5, 4, 4, 3, 5, 3, 3, 3, 2)

_STATUSES = ("placed", "shipped", "delivered", "cancelled", "returned")
_STATUS_WEIGHTS = (10, 25, 58, 5, 2)
_QUANTITY_WEIGHTS = (50, 25, 12, 8, 5)  # quantities 1..5
_RATING_WEIGHTS = (5, 7, 13, 30, 45)  # ratings 1..5
# Orders/reviews per hour of day (UTC), evening peak.
_HOUR_WEIGHTS = (2, 1, 1, 1, 1, 2, 3, 4, 5, 6, 6, 7, 8, 7, 7, 7, 8, 9, 10, 11, 11, 9, 6, 4)

_REVIEW_TEXTS = {
    1: (
        "Broke after two days.",
        "Not as described, returning it.",
        "Terrible quality, would not recommend.",
        "Arrived damaged and support never replied.",
    ),
    2: (
        "Disappointing, expected more for the price.",
        "Works, but feels cheap.",
        "Sizing is off, had to send it back.",
    ),
    3: (
        "It's okay. Does the job.",
        "Average quality, fair price.",
        "Decent, but delivery took a while.",
    ),
    4: (
        "Good value, would buy again.",
        "Solid product, minor flaws.",
        'Does exactly what it says, "no fuss".',
        "Very happy, packaging could be better.",
    ),
    5: (
        "Absolutely love it!",
        "Exceeded my expectations, five stars.",
        "Great quality, fast delivery, highly recommended.",
        "Perfect gift — they loved it.",
    ),
}


# --------------------------------------------------------------------------- helpers


def _cum(weights: Sequence[int]) -> list[int]:
    out, total = [], 0
    for w in weights:
        total += w
        out.append(total)
    return out


_HOUR_CUM = _cum(_HOUR_WEIGHTS)
_STATUS_CUM = _cum(_STATUS_WEIGHTS)
_QUANTITY_CUM = _cum(_QUANTITY_WEIGHTS)
_RATING_CUM = _cum(_RATING_WEIGHTS)
_COUNTRY_CUM = _cum(_COUNTRY_WEIGHTS)

_date_text_cache: dict[int, str] = {}


def _ts_text(seconds: int) -> str:
    """Epoch seconds (UTC) -> 'YYYY-MM-DD HH:MM:SS'."""
    day, rem = divmod(seconds, _DAY)
    date_text = _date_text_cache.get(day)
    if date_text is None:
        date_text = datetime.date.fromordinal(_EPOCH_ORDINAL + day).isoformat()
        _date_text_cache[day] = date_text
    hour, rem = divmod(rem, 3600)
    minute, second = divmod(rem, 60)
    return f"{date_text} {hour:02d}:{minute:02d}:{second:02d}"


def _money_text(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _times_of_day(rng: random.Random, day_start: int, n: int) -> list[int]:
    """n sorted epoch-second timestamps within the UTC day starting at day_start."""
    hours = rng.choices(range(24), cum_weights=_HOUR_CUM, k=n)
    rr = rng.randrange
    return sorted(day_start + h * 3600 + rr(3600) for h in hours)


def _retail_price(rng: random.Random, lo: int, hi: int) -> int:
    """A price in cents, log-uniform in [lo, hi], with a retail ending (.99/.49/.00)."""
    dollars = int(math.exp(rng.uniform(math.log(lo), math.log(hi))) / 100)
    ending = rng.choices((99, 49, 0), weights=(70, 15, 15))[0]
    if ending == 0:
        return max(1, dollars) * 100
    return max(0, dollars - 1) * 100 + ending


def _split(rng: random.Random, rows: list[int], parts: int) -> list[list[int]]:
    """Split rows into `parts` contiguous chunks of random (roughly balanced) sizes."""
    weights = [rng.uniform(0.6, 1.4) for _ in range(parts)]
    total = sum(weights)
    cuts, acc = [], 0.0
    for w in weights[:-1]:
        acc += w
        cuts.append(round(len(rows) * acc / total))
    bounds = [0, *cuts, len(rows)]
    return [rows[bounds[i] : bounds[i + 1]] for i in range(parts)]


def _add_duplicates(rng: random.Random, parts_by_day: list[list[list[int]]], rate: float) -> None:
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


def _csv_bytes(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8")


def _ndjson_bytes(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    dumps = json.dumps
    lines = [dumps(dict(zip(header, row)), ensure_ascii=False) for row in rows]
    return ("\n".join(lines) + "\n").encode("utf-8") if lines else b""


def _parquet_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(
        table,
        sink,
        version="2.6",
        compression="snappy",
        use_dictionary=True,
        write_statistics=True,
        data_page_version="1.0",
        row_group_size=1_000_000,
    )
    return sink.getvalue().to_pybytes()


def _ts_array(seconds: Sequence[int]) -> pa.Array:
    return pa.array([s * 1_000_000 for s in seconds], type=pa.int64()).cast(pa.timestamp("us"))


def _decimal_array(cents: Sequence[int]) -> pa.Array:
    return pa.array([_money_text(c) for c in cents], type=pa.string()).cast(pa.decimal128(12, 2))


# --------------------------------------------------------------------------- generation


class _Builder:
    def __init__(self, spec: SampleSpec, prefix: str) -> None:
        self.spec = spec
        self.prefix = prefix
        self.day0 = (spec.start.toordinal() - _EPOCH_ORDINAL) * _DAY
        self.dates = [
            (spec.start + datetime.timedelta(days=d)).isoformat() for d in range(spec.days)
        ]
        # (day, dataset, part, LandingFile)
        self.files: list[tuple[int, int, int, LandingFile]] = []

    def _rng(self, stream: str) -> random.Random:
        return random.Random(f"analytics-platform-sample:{self.spec.seed}:{stream}")

    def key(self, dataset: str, day: int, part: int, ext: str) -> str:
        date = self.dates[day]
        return f"{self.prefix}{dataset}/{date}/{dataset}_{date}_part{part}.{ext}"

    def add(
        self, dataset: str, day: int, part: int, ext: str, body: bytes, malformed: bool = False
    ) -> None:
        lf = LandingFile(self.key(dataset, day, part, ext), body, dataset, malformed)
        self.files.append((day, _DELIVERY_ORDER.index(dataset), part, lf))

    # ---------------------------------------------------------------- products
    def products(self) -> None:
        spec, rng = self.spec, self._rng("products")
        n = spec.products
        self.product_ids = [f"P{i + 1:04d}" for i in range(n)]
        names: list[str] = []
        categories: list[str] = []
        price: list[int] = []
        updated: list[int] = []
        for i in range(n):
            category = _CATEGORIES[i] if i < len(_CATEGORIES) else rng.choice(_CATEGORIES)
            (lo, hi), items = _CATALOGUE[category]
            names.append(f"{rng.choice(_BRANDS)} {rng.choice(items)}{rng.choice(_VARIANTS)}")
            categories.append(category)
            price.append(_retail_price(rng, lo, hi))
            # initial catalogue was maintained before the landing window started
            updated.append(self.day0 - rng.randrange(1, 180 * _DAY))
        for i in sorted(rng.sample(range(n), max(1, round(n * CATEGORY_DIRT_RATE)))):
            categories[i] += " "  # raw dirt: trailing whitespace, bronze trims it

        # per-product price history for as-of lookups by orders
        self.price_times = [[t] for t in updated]
        self.price_cents = [[c] for c in price]

        def rows_of(idx: Iterable[int]) -> list[tuple[object, ...]]:
            return [
                (
                    self.product_ids[i],
                    names[i],
                    categories[i],
                    _money_text(price[i]),
                    _ts_text(updated[i]),
                )
                for i in idx
            ]

        header = COLUMNS["products"]
        self.add("products", 0, 1, "json", _ndjson_bytes(header, rows_of(range(n))))
        self.product_versions = n
        max_updates = max(2, n // 15)
        for day in range(1, spec.days):
            k = rng.randint(0, max_updates)
            if day == 1:
                k = max(k, 1)
            k = min(k, n)
            if not k:
                continue
            chosen = sorted(rng.sample(range(n), k))
            times = _times_of_day(rng, self.day0 + day * _DAY, k)
            for i, t in zip(chosen, times):
                kind = rng.random()
                if kind < 0.8:  # price change (possibly together with a rename)
                    factor = rng.uniform(0.8, 1.2)
                    new = max(49, int(price[i] * factor) // 100 * 100 + 99)
                    price[i] = new if new != price[i] else new + 100
                if kind >= 0.6:  # rename
                    base, current = names[i], ""
                    for suffix in _RENAMES:
                        if base.endswith(suffix):
                            base, current = base[: -len(suffix)], suffix
                    names[i] = base + rng.choice([x for x in _RENAMES if x != current])
                updated[i] = t
                self.price_times[i].append(t)
                self.price_cents[i].append(price[i])
            self.add("products", day, 1, "json", _ndjson_bytes(header, rows_of(chosen)))
            self.product_versions += k
        # product popularity (Zipf-like) for orders and reviews
        order = list(range(n))
        rng.shuffle(order)
        weights = [0.0] * n
        for rank, i in enumerate(order):
            weights[i] = 1.0 / (rank + 1) ** 0.8
        self.product_cum = _cum(weights)  # type: ignore[arg-type]

    def price_at(self, product: int, t: int) -> int:
        times = self.price_times[product]
        return self.price_cents[product][bisect.bisect_right(times, t) - 1]

    # ---------------------------------------------------------------- users
    def users(self) -> None:
        spec, rng = self.spec, self._rng("users")
        ids: list[str] = []
        names: list[str] = []
        emails: list[str] = []
        countries: list[str] = []
        created: list[int] = []
        updated: list[int] = []

        def new_user(t: int) -> int:
            i = len(ids)
            (first, first_a), (last, last_a) = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
            domain = rng.choice(_DOMAINS)
            email = f"{first_a}.{last_a}{i + 1}@{domain}"
            if rng.random() < EMAIL_DIRT_RATE:  # raw dirt: mixed case, bronze lower()s it
                email = f"{first_a.capitalize()}.{last_a.capitalize()}{i + 1}@{domain.upper()}"
            ids.append(f"U{i + 1:05d}")
            names.append(f"{first} {last}")
            emails.append(email)
            countries.append(rng.choices(_COUNTRIES, cum_weights=_COUNTRY_CUM)[0])
            created.append(t)
            updated.append(t)
            return i

        def table(idx: list[int]) -> bytes:
            return _parquet_bytes(
                pa.table(
                    {
                        "user_id": pa.array([ids[i] for i in idx], pa.string()),
                        "name": pa.array([names[i] for i in idx], pa.string()),
                        "email": pa.array([emails[i] for i in idx], pa.string()),
                        "country": pa.array([countries[i] for i in idx], pa.string()),
                        "created_at": _ts_array([created[i] for i in idx]),
                        "updated_at": _ts_array([updated[i] for i in idx]),
                    }
                )
            )

        signups = sorted(self.day0 - rng.randrange(1, 365 * _DAY) for _ in range(spec.users))
        initial = [new_user(t) for t in signups]
        self.add("users", 0, 1, "parquet", table(initial))
        # users usable by orders/reviews created on day d: delivered on an earlier day (or
        # the initial base on day 0)
        self.users_available = [len(ids)]
        self.user_versions = len(ids)
        new_rate = max(2, spec.users // 50)
        for day in range(1, spec.days):
            day_start = self.day0 + day * _DAY
            known = len(ids)
            k_upd = min(known, rng.randint(0, max(1, spec.users // 100)))
            if day == 1:
                k_upd = max(k_upd, min(known, 1))
            changed = sorted(rng.sample(range(known), k_upd))
            for i, t in zip(changed, _times_of_day(rng, day_start, k_upd)):
                kind = rng.randrange(3)
                if kind == 0:
                    local, _, domain = emails[i].partition("@")
                    choices = [d for d in _DOMAINS if d != domain.lower()]
                    emails[i] = f"{local}@{rng.choice(choices)}"
                elif kind == 1:
                    countries[i] = rng.choice([c for c in _COUNTRIES if c != countries[i]])
                else:
                    first, _, last = names[i].partition(" ")
                    names[i] = f"{first} {rng.choice([x for x, _ in _LAST_NAMES if x != last])}"
                updated[i] = t
            k_new = rng.randint(new_rate // 2, new_rate + new_rate // 2)
            added = [new_user(t) for t in _times_of_day(rng, day_start, k_new)]
            self.users_available.append(known)
            if changed or added:
                self.add("users", day, 1, "parquet", table(changed + added))
                self.user_versions += len(changed) + len(added)
        self.user_ids = ids

    # ---------------------------------------------------------------- orders
    def orders(self) -> None:
        spec, rng = self.spec, self._rng("orders")
        days, n = spec.days, spec.orders_per_day
        oid: list[str] = []
        ts: list[int] = []
        ts_text: list[str] = []
        user: list[str] = []
        product: list[str] = []
        qty: list[int] = []
        cents: list[int] = []
        status: list[str] = []
        delivered_on: list[list[int]] = [[] for _ in range(days)]
        pids, uids, pcum, price_at = (
            self.product_ids,
            self.user_ids,
            self.product_cum,
            self.price_at,
        )
        n_products = len(pids)
        for day in range(days):
            times = _times_of_day(rng, self.day0 + day * _DAY, n)
            prods = rng.choices(range(n_products), cum_weights=pcum, k=n)
            avail = self.users_available[day]
            base = len(oid)
            oid.extend(f"ORD-{base + j + 1:07d}" for j in range(n))
            ts.extend(times)
            ts_text.extend(_ts_text(t) for t in times)
            user.extend(uids[rng.randrange(avail)] for _ in range(n))
            product.extend(pids[p] for p in prods)
            qty.extend(rng.choices((1, 2, 3, 4, 5), cum_weights=_QUANTITY_CUM, k=n))
            cents.extend(price_at(p, t) for p, t in zip(prods, times))
            for s in rng.choices(_STATUSES, cum_weights=_STATUS_CUM, k=n):
                if rng.random() < STATUS_DIRT_RATE:  # raw dirt: " Shipped", "DELIVERED", ...
                    s = rng.choice((f" {s.capitalize()}", s.upper(), f"{s.capitalize()} "))
                status.append(s)
            for j in range(base, base + n):
                target = day
                if rng.random() < LATE_ORDER_RATE:
                    target = min(days - 1, day + rng.choice((1, 2)))
                delivered_on[target].append(j)

        parts_by_day: list[list[list[int]]] = []
        for day in range(days):
            rows = delivered_on[day]
            rng.shuffle(rows)
            parts_by_day.append(_split(rng, rows, rng.randint(2, 3)))
        _add_duplicates(rng, parts_by_day, DUPLICATE_ORDER_RATE)

        header = COLUMNS["orders"]
        for day, parts in enumerate(parts_by_day):
            parquet_part = rng.randrange(len(parts)) if day % 3 == 1 else -1
            for p, rows in enumerate(parts):
                if p == parquet_part:
                    body = _parquet_bytes(
                        pa.table(
                            {
                                "order_id": pa.array([oid[i] for i in rows], pa.string()),
                                "created_at": _ts_array([ts[i] for i in rows]),
                                "user_id": pa.array([user[i] for i in rows], pa.string()),
                                "product_id": pa.array([product[i] for i in rows], pa.string()),
                                "quantity": pa.array([qty[i] for i in rows], pa.int32()),
                                "unit_price": _decimal_array([cents[i] for i in rows]),
                                "status": pa.array([status[i] for i in rows], pa.string()),
                            }
                        )
                    )
                    self.add("orders", day, p + 1, "parquet", body)
                else:
                    body = _csv_bytes(
                        header,
                        (
                            (
                                oid[i],
                                ts_text[i],
                                user[i],
                                product[i],
                                qty[i],
                                _money_text(cents[i]),
                                status[i],
                            )
                            for i in rows
                        ),
                    )
                    self.add("orders", day, p + 1, "csv", body)
        self.order_count = len(oid)
        self.order_parts = [len(parts) for parts in parts_by_day]

    # ---------------------------------------------------------------- reviews
    def reviews(self) -> None:
        spec, rng = self.spec, self._rng("reviews")
        days, n = spec.days, spec.reviews_per_day
        rid: list[str] = []
        ts_text: list[str] = []
        product: list[str] = []
        user: list[str] = []
        rating: list[int] = []
        text: list[str] = []
        pids, uids, pcum = self.product_ids, self.user_ids, self.product_cum
        parts_by_day: list[list[list[int]]] = []
        for day in range(days):
            times = _times_of_day(rng, self.day0 + day * _DAY, n)
            avail = self.users_available[day]
            base = len(rid)
            rid.extend(f"REV-{base + j + 1:07d}" for j in range(n))
            ts_text.extend(_ts_text(t) for t in times)
            product.extend(pids[p] for p in rng.choices(range(len(pids)), cum_weights=pcum, k=n))
            user.extend(uids[rng.randrange(avail)] for _ in range(n))
            ratings = rng.choices((1, 2, 3, 4, 5), cum_weights=_RATING_CUM, k=n)
            rating.extend(ratings)
            text.extend(rng.choice(_REVIEW_TEXTS[r]) for r in ratings)
            rows = list(range(base, base + n))
            parts = 2 if day % 4 == 3 else rng.randint(1, 2)
            parts_by_day.append(_split(rng, rows, parts))
        _add_duplicates(rng, parts_by_day, DUPLICATE_REVIEW_RATE)

        header = COLUMNS["reviews"]
        for day, parts in enumerate(parts_by_day):
            for p, rows in enumerate(parts):
                records = (
                    (rid[i], ts_text[i], product[i], user[i], rating[i], text[i]) for i in rows
                )
                if day % 4 == 3 and p == len(parts) - 1:
                    self.add("reviews", day, p + 1, "csv", _csv_bytes(header, records))
                else:
                    self.add("reviews", day, p + 1, "json", _ndjson_bytes(header, records))
        self.review_count = len(rid)
        self.review_parts = [len(parts) for parts in parts_by_day]

    # ---------------------------------------------------------------- malformed
    def malformed(self) -> None:
        """Two broken files, from their own random stream and with ids beyond the good ones,
        so the good files are identical with or without them."""
        spec, rng = self.spec, self._rng("malformed")
        day = spec.days // 2
        day_start = self.day0 + day * _DAY
        avail = self.users_available[day]
        pids, uids = self.product_ids, self.user_ids

        n = max(6, min(50, spec.orders_per_day // 10))
        rows = []
        for j, t in enumerate(_times_of_day(rng, day_start, n)):
            p = rng.randrange(len(pids))
            quantity: object = rng.randint(1, 5)
            if j % 3 == 1:
                quantity = "two"  # not an INTEGER: the whole file must be quarantined
            rows.append(
                (
                    f"ORD-{self.order_count + j + 1:07d}",
                    _ts_text(t),
                    uids[rng.randrange(avail)],
                    pids[p],
                    quantity,
                    _money_text(self.price_at(p, t)),
                    rng.choice(_STATUSES[:3]),
                )
            )
        self.add(
            "orders",
            day,
            self.order_parts[day] + 1,
            "csv",
            _csv_bytes(COLUMNS["orders"], rows),
            malformed=True,
        )

        n = max(4, min(30, spec.reviews_per_day // 10))
        lines = []
        for j, t in enumerate(_times_of_day(rng, day_start, n)):
            r = rng.choices((1, 2, 3, 4, 5), cum_weights=_RATING_CUM)[0]
            record = dict(
                zip(
                    COLUMNS["reviews"],
                    (
                        f"REV-{self.review_count + j + 1:07d}",
                        _ts_text(t),
                        rng.choice(pids),
                        uids[rng.randrange(avail)],
                        r,
                        rng.choice(_REVIEW_TEXTS[r]),
                    ),
                )
            )
            lines.append(json.dumps(record, ensure_ascii=False))
        lines[-1] = lines[-1][: len(lines[-1]) // 2]  # truncated mid-object, no newline
        self.add(
            "reviews",
            day,
            self.review_parts[day] + 1,
            "json",
            "\n".join(lines).encode("utf-8"),
            malformed=True,
        )


def generate_landing_files(
    spec: SampleSpec = SampleSpec(), prefix: str = "landing/"
) -> list[LandingFile]:
    """Generate the landing files for ``spec``, deterministically.

    Files are returned in delivery order: by day, then products, users, orders, reviews,
    then part number (a consumer loading them in this order never sees an order or review
    referencing a product or user that has not been delivered yet).
    """
    if spec.days < 1 or spec.products < 1 or spec.users < 1:
        raise ValueError("days, products and users must be >= 1")
    if spec.orders_per_day < 0 or spec.reviews_per_day < 0:
        raise ValueError("orders_per_day and reviews_per_day must be >= 0")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    builder = _Builder(spec, prefix)
    builder.products()
    builder.users()
    builder.orders()
    builder.reviews()
    if spec.include_malformed:
        builder.malformed()
    builder.files.sort(key=lambda f: f[:3])
    return [f[3] for f in builder.files]


# --------------------------------------------------------------------------- output

_CONTENT_TYPES = {
    "csv": "text/csv",
    "json": "application/x-ndjson",
    "parquet": "application/vnd.apache.parquet",
}


def _ensure_bucket(s3_client, bucket: str) -> None:
    from botocore.exceptions import ClientError

    try:
        s3_client.head_bucket(Bucket=bucket)
        return
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code not in ("404", "NoSuchBucket", "NotFound"):
            raise
    kwargs: dict = {"Bucket": bucket}
    region = getattr(getattr(s3_client, "meta", None), "region_name", None)
    if region and region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    try:
        s3_client.create_bucket(**kwargs)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "BucketAlreadyOwnedByYou":
            raise


def upload_landing_files(s3_client, bucket: str, files: Iterable[LandingFile]) -> int:
    """Put every file into ``bucket`` (created if missing) with a boto3 S3 client.

    Returns the number of bytes uploaded.
    """
    _ensure_bucket(s3_client, bucket)
    total = 0
    for f in files:
        ext = f.key.rsplit(".", 1)[-1]
        s3_client.put_object(
            Bucket=bucket,
            Key=f.key,
            Body=f.body,
            ContentType=_CONTENT_TYPES.get(ext, "application/octet-stream"),
        )
        total += len(f.body)
    return total


def write_landing_files(directory: Path, files: Iterable[LandingFile]) -> None:
    """Write every file under ``directory`` at its key path (``directory/<key>``)."""
    root = Path(directory)
    for f in files:
        rel = PurePosixPath(f.key)
        if rel.is_absolute() or ".." in rel.parts:
            raise ValueError(f"refusing to write outside {root}: {f.key!r}")
        path = root.joinpath(*rel.parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(f.body)


def main(argv: Sequence[str] | None = None) -> int:
    defaults = SampleSpec()
    parser = argparse.ArgumentParser(
        prog="python -m analytics_platform.local.sample_data.generator",
        description="Write deterministic synthetic landing files to a local folder.",
    )
    parser.add_argument("--out", required=True, type=Path, help="output folder")
    parser.add_argument("--days", type=int, default=defaults.days)
    parser.add_argument(
        "--start",
        type=datetime.date.fromisoformat,
        default=defaults.start,
        help="first day, YYYY-MM-DD",
    )
    parser.add_argument("--orders-per-day", type=int, default=defaults.orders_per_day)
    parser.add_argument("--products", type=int, default=defaults.products)
    parser.add_argument("--users", type=int, default=defaults.users)
    parser.add_argument("--reviews-per-day", type=int, default=defaults.reviews_per_day)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--include-malformed", action="store_true")
    parser.add_argument("--prefix", default="landing/")
    args = parser.parse_args(argv)
    spec = SampleSpec(
        days=args.days,
        start=args.start,
        orders_per_day=args.orders_per_day,
        products=args.products,
        users=args.users,
        reviews_per_day=args.reviews_per_day,
        seed=args.seed,
        include_malformed=args.include_malformed,
    )
    started = time.perf_counter()
    files = generate_landing_files(spec, prefix=args.prefix)
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
