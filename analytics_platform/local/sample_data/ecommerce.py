"""The e-commerce domain's sample data: orders (CSV, one Parquet part on some days), products
(JSON, initial catalogue then new versions), users (Parquet, initial then updated and new users)
and reviews (newline-delimited JSON, CSV on some days), including the dirt the pipeline must cope
with: duplicate deliveries, late rows, stray case/whitespace in status, category and email, and
optionally two malformed files that must be quarantined whole.

The values are e-commerce specific (FIELDS: what this builder knows how to make); which columns a
file has, and their order and types, come from the dataset declarations (dbt sources YAML).
"""

from __future__ import annotations

import bisect
import json
import math
import random
from collections.abc import Iterable, Mapping, Sequence

import pyarrow as pa

from analytics_platform.lib.datasets import Dataset
from analytics_platform.local.sample_data.files import (
    csv_bytes,
    decimal_array,
    declared_table,
    ndjson_bytes,
    parquet_bytes,
    ts_array,
)
from analytics_platform.local.sample_data.spec import (
    DAY,
    LandingFile,
    SampleSpec,
    add_duplicates,
    cum,
    day_dates,
    first_day_epoch,
    money_text,
    rng_for,
    split,
    times_of_day,
)
from analytics_platform.local.sample_data.spec import (
    ts_text as _ts_text,
)

DOMAIN = "ecommerce"
DELIVERY_ORDER = ("products", "users", "orders", "reviews")  # within a day
# The values this builder makes per dataset, in the order of its row tuples.
FIELDS: dict[str, tuple[str, ...]] = {
    "orders": ("order_id", "created_at", "user_id", "product_id", "quantity", "unit_price", "status"),
    "products": ("product_id", "product_name", "category", "price", "updated_at"),
    "users": ("user_id", "name", "email", "country", "created_at", "updated_at"),
    "reviews": ("review_id", "created_at", "product_id", "user_id", "rating", "review_text"),
}

DUPLICATE_ORDER_RATE = 0.03
LATE_ORDER_RATE = 0.05
DUPLICATE_REVIEW_RATE = 0.02
STATUS_DIRT_RATE = 0.015
EMAIL_DIRT_RATE = 0.05
CATEGORY_DIRT_RATE = 0.05


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

_STATUS_CUM = cum(_STATUS_WEIGHTS)
_QUANTITY_CUM = cum(_QUANTITY_WEIGHTS)
_RATING_CUM = cum(_RATING_WEIGHTS)
_COUNTRY_CUM = cum(_COUNTRY_WEIGHTS)


def _retail_price(rng: random.Random, lo: int, hi: int) -> int:
    """A price in cents, log-uniform in [lo, hi], with a retail ending (.99/.49/.00)."""
    dollars = int(math.exp(rng.uniform(math.log(lo), math.log(hi))) / 100)
    ending = rng.choices((99, 49, 0), weights=(70, 15, 15))[0]
    if ending == 0:
        return max(1, dollars) * 100
    return max(0, dollars - 1) * 100 + ending


class EcommerceBuilder:
    """Builds the four e-commerce datasets together (orders reference products and users as of
    their time). Files are written for the declared datasets only, with the declared columns in
    the declared order: a declared column this builder has no values for is left empty."""

    def __init__(self, spec: SampleSpec, prefix: str, datasets: Mapping[str, Dataset]) -> None:
        self.spec = spec
        self.prefix = prefix
        self.datasets = datasets
        self.day0 = first_day_epoch(spec)
        self.dates = day_dates(spec)
        # (day, dataset, part, LandingFile)
        self.files: list[tuple[int, int, int, LandingFile]] = []

    def _rng(self, stream: str) -> random.Random:
        return rng_for(self.spec, stream)

    def key(self, dataset: str, day: int, part: int, ext: str) -> str:
        date = self.dates[day]
        return f"{self.prefix}{DOMAIN}/{dataset}/{date}/{dataset}_{date}_part{part}.{ext}"

    def add(
        self, dataset: str, day: int, part: int, ext: str, body: bytes, malformed: bool = False
    ) -> None:
        if dataset not in self.datasets:
            return
        lf = LandingFile(self.key(dataset, day, part, ext), body, dataset, malformed, DOMAIN)
        self.files.append((day, DELIVERY_ORDER.index(dataset), part, lf))

    # ---------------------------------------------------------------- declared layout
    def columns(self, dataset: str) -> list[str]:
        return [column.name for column in self.datasets[dataset].columns]

    def project(self, dataset: str, row: Sequence[object]) -> tuple[object, ...]:
        """A row in FIELDS order -> the declared columns, in declared order."""
        values = dict(zip(FIELDS[dataset], row))
        return tuple(values.get(name) for name in self.columns(dataset))

    def csv(self, dataset: str, rows: Iterable[Sequence[object]]) -> bytes:
        if dataset not in self.datasets:
            return b""
        return csv_bytes(self.columns(dataset), (self.project(dataset, row) for row in rows))

    def ndjson(self, dataset: str, rows: Iterable[Sequence[object]]) -> bytes:
        if dataset not in self.datasets:
            return b""
        return ndjson_bytes(self.columns(dataset), (self.project(dataset, row) for row in rows))

    def parquet(self, dataset: str, arrays: Mapping[str, pa.Array]) -> bytes:
        if dataset not in self.datasets:
            return b""
        return parquet_bytes(declared_table(self.datasets[dataset], arrays))

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
            updated.append(self.day0 - rng.randrange(1, 180 * DAY))
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
                    money_text(price[i]),
                    _ts_text(updated[i]),
                )
                for i in idx
            ]

        dataset = "products"
        self.add("products", 0, 1, "json", self.ndjson(dataset, rows_of(range(n))))
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
            times = times_of_day(rng, self.day0 + day * DAY, k)
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
            self.add("products", day, 1, "json", self.ndjson(dataset, rows_of(chosen)))
            self.product_versions += k
        # product popularity (Zipf-like) for orders and reviews
        order = list(range(n))
        rng.shuffle(order)
        weights = [0.0] * n
        for rank, i in enumerate(order):
            weights[i] = 1.0 / (rank + 1) ** 0.8
        self.product_cum = cum(weights)  # type: ignore[arg-type]

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
            return self.parquet(
                "users",
                {
                        "user_id": pa.array([ids[i] for i in idx], pa.string()),
                        "name": pa.array([names[i] for i in idx], pa.string()),
                        "email": pa.array([emails[i] for i in idx], pa.string()),
                        "country": pa.array([countries[i] for i in idx], pa.string()),
                        "created_at": ts_array([created[i] for i in idx]),
                        "updated_at": ts_array([updated[i] for i in idx]),
                },
            )

        signups = sorted(self.day0 - rng.randrange(1, 365 * DAY) for _ in range(spec.users))
        initial = [new_user(t) for t in signups]
        self.add("users", 0, 1, "parquet", table(initial))
        # users usable by orders/reviews created on day d: delivered on an earlier day (or
        # the initial base on day 0)
        self.users_available = [len(ids)]
        self.user_versions = len(ids)
        new_rate = max(2, spec.users // 50)
        for day in range(1, spec.days):
            day_start = self.day0 + day * DAY
            known = len(ids)
            k_upd = min(known, rng.randint(0, max(1, spec.users // 100)))
            if day == 1:
                k_upd = max(k_upd, min(known, 1))
            changed = sorted(rng.sample(range(known), k_upd))
            for i, t in zip(changed, times_of_day(rng, day_start, k_upd)):
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
            added = [new_user(t) for t in times_of_day(rng, day_start, k_new)]
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
            times = times_of_day(rng, self.day0 + day * DAY, n)
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
            parts_by_day.append(split(rng, rows, rng.randint(2, 3)))
        add_duplicates(rng, parts_by_day, DUPLICATE_ORDER_RATE)

        dataset = "orders"
        for day, parts in enumerate(parts_by_day):
            parquet_part = rng.randrange(len(parts)) if day % 3 == 1 else -1
            for p, rows in enumerate(parts):
                if p == parquet_part:
                    body = self.parquet(
                        "orders",
                        {
                                "order_id": pa.array([oid[i] for i in rows], pa.string()),
                                "created_at": ts_array([ts[i] for i in rows]),
                                "user_id": pa.array([user[i] for i in rows], pa.string()),
                                "product_id": pa.array([product[i] for i in rows], pa.string()),
                                "quantity": pa.array([qty[i] for i in rows], pa.int32()),
                                "unit_price": decimal_array([cents[i] for i in rows]),
                                "status": pa.array([status[i] for i in rows], pa.string()),
                        },
                    )
                    self.add("orders", day, p + 1, "parquet", body)
                else:
                    body = self.csv(
                        dataset,
                        (
                            (
                                oid[i],
                                ts_text[i],
                                user[i],
                                product[i],
                                qty[i],
                                money_text(cents[i]),
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
            times = times_of_day(rng, self.day0 + day * DAY, n)
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
            parts_by_day.append(split(rng, rows, parts))
        add_duplicates(rng, parts_by_day, DUPLICATE_REVIEW_RATE)

        dataset = "reviews"
        for day, parts in enumerate(parts_by_day):
            for p, rows in enumerate(parts):
                records = (
                    (rid[i], ts_text[i], product[i], user[i], rating[i], text[i]) for i in rows
                )
                if day % 4 == 3 and p == len(parts) - 1:
                    self.add("reviews", day, p + 1, "csv", self.csv(dataset, records))
                else:
                    self.add("reviews", day, p + 1, "json", self.ndjson(dataset, records))
        self.review_count = len(rid)
        self.review_parts = [len(parts) for parts in parts_by_day]

    # ---------------------------------------------------------------- malformed
    def malformed(self) -> None:
        """Two broken files, from their own random stream and with ids beyond the good ones,
        so the good files are identical with or without them."""
        spec, rng = self.spec, self._rng("malformed")
        day = spec.days // 2
        day_start = self.day0 + day * DAY
        avail = self.users_available[day]
        pids, uids = self.product_ids, self.user_ids

        n = max(6, min(50, spec.orders_per_day // 10))
        rows = []
        for j, t in enumerate(times_of_day(rng, day_start, n)):
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
                    money_text(self.price_at(p, t)),
                    rng.choice(_STATUSES[:3]),
                )
            )
        self.add(
            "orders",
            day,
            self.order_parts[day] + 1,
            "csv",
            self.csv("orders", rows),
            malformed=True,
        )

        n = max(4, min(30, spec.reviews_per_day // 10))
        lines = []
        for j, t in enumerate(times_of_day(rng, day_start, n)):
            r = rng.choices((1, 2, 3, 4, 5), cum_weights=_RATING_CUM)[0]
            record = dict(
                zip(
                    self.columns("reviews"),
                    self.project("reviews", (
                        f"REV-{self.review_count + j + 1:07d}",
                        _ts_text(t),
                        rng.choice(pids),
                        uids[rng.randrange(avail)],
                        r,
                        rng.choice(_REVIEW_TEXTS[r]),
                    )),
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


def ecommerce_files(
    spec: SampleSpec, prefix: str, datasets: Mapping[str, Dataset]
) -> list[tuple[int, int, int, LandingFile]]:
    """(day, rank within the day, part, file) for the declared e-commerce datasets in `datasets`
    (by name); the others of the four are still simulated (orders need products and users)."""
    builder = EcommerceBuilder(spec, prefix, datasets)
    builder.products()
    builder.users()
    builder.orders()
    builder.reviews()
    if spec.include_malformed:
        builder.malformed()
    return builder.files
