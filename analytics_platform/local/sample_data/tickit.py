"""The TICKIT domain: the AWS Redshift sample ticket marketplace, landed as TICKIT is published.

The dimension files (event, venue, category, date) are the real ones, vendored beside this module
(`tickit/`, see its README). Users, listings and sales are generated here, deterministically
(same `TickitSpec` -> byte-identical files) and consistently with the dimensions:

- a listing offers tickets for an existing event, by an existing user (the seller), listed on a
  day of the date dimension before the event starts;
- a sale sells tickets of an existing listing (same event and seller) to an existing user (the
  buyer, never the seller), at a time between the listing time and the event's start, on a day
  of the date dimension (`dateid` is the sale's day); never more tickets than the listing offers;
- commission is 15% of the price paid, as in the published sample.

Files land as the sample is published: pipe-delimited, no header (`allusers_pipe.txt`,
`listings_pipe.txt`, ...), except sales: tab-delimited with `MM/DD/YYYY HH:MI:SS` timestamps
(`sales_tab.txt`). Keys: `<prefix>tickit/<dataset>/<file name>`.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from analytics_platform.local.sample_data.spec import LandingFile

DOMAIN = "tickit"
DATA_DIR = Path(__file__).resolve().parent / "tickit"
SALES_TIME_FORMAT = "%m/%d/%Y %H:%M:%S"
COMMISSION_RATE = Decimal("0.15")
CENT = Decimal("0.01")

# dataset -> file name as published (the vendored dimensions keep theirs).
FILE_NAMES = {
    "category": "category_pipe.txt",
    "date": "date2008_pipe.txt",
    "event": "allevents_pipe.txt",
    "venue": "venue_pipe.txt",
    "users": "allusers_pipe.txt",
    "listing": "listings_pipe.txt",
    "sales": "sales_tab.txt",
}
DIMENSIONS = ("category", "date", "event", "venue")
# Delivery order: the dimensions, then users, listings, sales (what a row references lands first).
DELIVERY_ORDER = ("category", "date", "venue", "event", "users", "listing", "sales")
LIKES = ("sports", "theatre", "concerts", "jazz", "classical", "opera", "rock", "vegas", "broadway", "musicals")

_FIRST = ("Rafael", "Vladimir", "Lars", "Barry", "Reagan", "Victor", "Tamekah", "Colton", "Mufutau",
          "Naida", "Cora", "Ayanna", "Drew", "Ingrid", "Kato", "Lael", "Macy", "Nita", "Orla", "Zeph")
_LAST = ("Taylor", "Humphrey", "Ratliff", "Roach", "Hodge", "Hooper", "Hopkins", "Cain", "Watkins",
         "Dennis", "Mack", "Kirby", "Salas", "Vance", "Wolfe", "Xavier", "Young", "Zamora", "Bird", "Cote")
_CITIES = (("Kent", "WA"), ("Augusta", "ME"), ("Stockton", "MD"), ("Aurora", "NE"), ("Naperville", "IL"),
           ("Paris", "TX"), ("Salem", "OR"), ("Boise", "ID"), ("Dover", "DE"), ("Reno", "NV"))
_DOMAINS = ("example.com", "example.org", "example.net")


@dataclass(frozen=True)
class TickitSpec:
    users: int = 400
    listings: int = 1_200
    sales: int = 3_000
    seed: int = 42

    def __post_init__(self) -> None:
        if self.users < 2 or self.listings < 1 or self.sales < 0:
            raise ValueError("TICKIT needs users >= 2, listings >= 1 and sales >= 0")


@dataclass(frozen=True)
class Event:
    eventid: int
    venueid: int
    catid: int
    dateid: int
    eventname: str
    starttime: datetime.datetime


def read_dimension(name: str) -> list[list[str]]:
    """The vendored rows of a dimension (category, date, event, venue), fields as text."""
    text = (DATA_DIR / FILE_NAMES[name]).read_text(encoding="utf-8")
    return [line.split("|") for line in text.splitlines() if line]


def events() -> list[Event]:
    return [
        Event(int(r[0]), int(r[1]), int(r[2]), int(r[3]), r[4],
              datetime.datetime.fromisoformat(r[5]))
        for r in read_dimension("event")
    ]


def date_ids() -> dict[datetime.date, int]:
    return {datetime.date.fromisoformat(r[1]): int(r[0]) for r in read_dimension("date")}


def _rng(spec: TickitSpec, stream: str) -> random.Random:
    return random.Random(f"analytics-platform-tickit:{spec.seed}:{stream}")


def _pipe(rows: Iterable[Sequence[object]], delimiter: str = "|") -> bytes:
    return "".join(delimiter.join(str(v) for v in row) + "\n" for row in rows).encode("utf-8")


def user_rows(spec: TickitSpec) -> list[list[object]]:
    rng = _rng(spec, "users")
    rows = []
    for userid in range(1, spec.users + 1):
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        city, state = rng.choice(_CITIES)
        username = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") for _ in range(8))
        email = f"{first}.{last}{userid}@{rng.choice(_DOMAINS)}".lower()
        phone = f"({rng.randrange(200, 999)}) {rng.randrange(200, 999)}-{rng.randrange(10_000):04d}"
        # Preferences: TRUE, FALSE or unknown (empty), as in the published allusers_pipe.txt.
        likes = [rng.choice(("TRUE", "FALSE", "")) for _ in LIKES]
        rows.append([userid, username, first, last, city, state, email, phone, *likes])
    return rows


def listing_rows(spec: TickitSpec) -> list[list[object]]:
    """listid, sellerid, eventid, dateid, numtickets, priceperticket, totalprice, listtime."""
    rng = _rng(spec, "listings")
    all_events = events()
    days = date_ids()
    first_day = min(days)
    rows = []
    for listid in range(1, spec.listings + 1):
        event = rng.choice(all_events)
        # Listed 1 to 60 days before the event starts, never before the date dimension's first day.
        earliest = datetime.datetime.combine(first_day, datetime.time())
        span = int((event.starttime - earliest).total_seconds())
        back = min(span - 1, rng.randrange(3_600, 60 * 86_400)) if span > 1 else 0
        listtime = event.starttime - datetime.timedelta(seconds=max(back, 0))
        while listtime.date() not in days:  # the published calendar lacks a day (2020-02-29)
            listtime -= datetime.timedelta(days=1)
        numtickets = rng.randrange(1, 31)
        price = Decimal(rng.randrange(20, 2_500)).quantize(CENT)
        rows.append([listid, rng.randrange(1, spec.users + 1), event.eventid, days[listtime.date()],
                     numtickets, f"{price:.2f}", f"{price * numtickets:.2f}",
                     listtime.strftime("%Y-%m-%d %H:%M:%S")])
    return rows


def sales_rows(spec: TickitSpec, listings: list[list[object]]) -> list[list[object]]:
    """salesid, listid, sellerid, buyerid, eventid, dateid, qtysold, pricepaid, commission, saletime."""
    rng = _rng(spec, "sales")
    starts = {e.eventid: e.starttime for e in events()}
    days = date_ids()
    left = {row[0]: row[4] for row in listings}  # tickets still on sale per listing
    rows: list[list[object]] = []
    salesid = 0
    attempts = 0
    while len(rows) < spec.sales and attempts < spec.sales * 20:
        attempts += 1
        listid, sellerid, eventid, _, _, price, _, listtime = rng.choice(listings)
        if left[listid] == 0:
            continue
        qty = rng.randrange(1, min(left[listid], 4) + 1)
        left[listid] -= qty
        buyerid = rng.randrange(1, spec.users + 1)
        if buyerid == sellerid:
            buyerid = buyerid % spec.users + 1
        listed = datetime.datetime.fromisoformat(str(listtime))
        window = int((starts[eventid] - listed).total_seconds())
        saletime = listed + datetime.timedelta(seconds=rng.randrange(max(window, 1)))
        if saletime.date() not in days:  # the published calendar lacks a day (2020-02-29)
            saletime = listed
        pricepaid = Decimal(str(price)) * qty
        commission = (pricepaid * COMMISSION_RATE).quantize(CENT, ROUND_HALF_UP)
        salesid += 1
        rows.append([salesid, listid, sellerid, buyerid, eventid, days[saletime.date()], qty,
                     f"{pricepaid:.2f}", f"{commission:.2f}", saletime.strftime(SALES_TIME_FORMAT)])
    return rows


def tickit_files(spec: TickitSpec | None = None, prefix: str = "landing/",
                 datasets: Iterable[str] | None = None) -> list[LandingFile]:
    """The TICKIT landing files, in delivery order (only `datasets`, when given)."""
    spec = TickitSpec() if spec is None else spec
    wanted = set(DELIVERY_ORDER if datasets is None else datasets)
    listings = listing_rows(spec)
    bodies = {name: (DATA_DIR / FILE_NAMES[name]).read_bytes() for name in DIMENSIONS}
    bodies["users"] = _pipe(user_rows(spec))
    bodies["listing"] = _pipe(listings)
    bodies["sales"] = _pipe(sales_rows(spec, listings), delimiter="\t")
    return [
        LandingFile(key=f"{prefix}{DOMAIN}/{name}/{FILE_NAMES[name]}", body=bodies[name],
                    dataset=name, domain=DOMAIN)
        for name in DELIVERY_ORDER if name in wanted
    ]
