"""The game domain: telemetry events as AWS's game analytics pipeline lands them, with their dirt.

Players register, log in, play levels (started, then completed or failed), buy in-app items,
rate the game and report other players, in sessions spread over the day (evening peak). Each
event is one JSON object per line (`event_id`, `event_type`, `event_name`, `event_timestamp` in
epoch seconds, `event_version`, `app_version`, `application_id`, and an `event_data` object with
`player_id`, `session_id`, `country`, `platform` and the type's own fields), gzip-compressed,
one file per hour folder: `<prefix>game/events/dt=YYYY-MM-DD/hh=HH/events-YYYYMMDD-HH.json.gz`.

The dirt a real stream has:
- duplicates: an event delivered again, identical, in the same or a later hour's file;
- late events: an event landing 1 to 6 hours after it happened, in that later hour's folder;
- unknown event types (`ad_impression`, `tutorial_skipped`): beta clients' events the contract
  does not know;
- with `include_malformed`: one more file whose last line is cut short (not JSON): the file is
  quarantined whole (`LandingFile.malformed`), none of its events count.
Same `GameSpec` -> byte-identical files (seeded random streams, gzip mtime 0).
"""

from __future__ import annotations

import datetime
import gzip
import json
import random
import uuid
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from analytics_platform.local.sample_data.spec import DAY, EPOCH_ORDINAL, LandingFile, times_of_day

DOMAIN = "game"
DATASET = "events"
APPLICATION_ID = "c0ffee00-game-4d1e-9a5e-000000000001"
EVENT_VERSION = "1.0.0"
KNOWN_EVENT_TYPES = (
    "user_registration", "login", "logout", "level_started", "level_completed", "level_failed",
    "iap_transaction", "user_sentiment", "user_report",
)
UNKNOWN_EVENT_TYPES = ("ad_impression", "tutorial_skipped")
LEVELS = ("L01", "L02", "L03", "L04", "L05", "L06")
COUNTRIES = (("US", "USD"), ("DE", "EUR"), ("FR", "EUR"), ("GB", "GBP"), ("JP", "JPY"), ("BR", "BRL"))
PLATFORMS = ("ios", "android", "pc")
# Price points per currency (JPY has no minor unit).
PRICES = {
    "USD": ("0.99", "4.99", "9.99", "19.99"), "EUR": ("0.99", "4.99", "9.99", "19.99"),
    "GBP": ("0.89", "3.99", "8.99", "17.99"), "JPY": ("160", "800", "1600", "3200"),
    "BRL": ("4.90", "24.90", "49.90", "99.90"),
}
ITEMS = ("gem_pack_small", "gem_pack_large", "starter_bundle", "season_pass")
REPORT_REASONS = ("cheating", "offensive_language", "spam", "griefing")
APP_VERSIONS = ("1.4.0", "1.5.0")


@dataclass(frozen=True)
class GameSpec:
    days: int = 2
    start: datetime.date = datetime.date(2026, 10, 1)
    players: int = 60
    seed: int = 42
    active_rate: float = 0.6  # chance a registered player plays on a given day
    duplicate_rate: float = 0.03
    late_rate: float = 0.04
    unknown_rate: float = 0.03  # per session: one event of an unknown type
    include_malformed: bool = False

    def __post_init__(self) -> None:
        if self.days < 1 or self.players < 1:
            raise ValueError("GameSpec needs days >= 1 and players >= 1")


@dataclass(frozen=True)
class Player:
    player_id: str
    registered_day: int
    country: str
    currency: str
    platform: str
    upgrades_at: int | None  # epoch second the client moves to the newer app version, if ever


def _rng(spec: GameSpec, stream: str) -> random.Random:
    return random.Random(f"analytics-platform-game:{spec.seed}:{stream}")


def _day_start(spec: GameSpec, day: int) -> int:
    return (spec.start.toordinal() - EPOCH_ORDINAL + day) * DAY


def players(spec: GameSpec) -> list[Player]:
    rng = _rng(spec, "players")
    out = []
    for number in range(1, spec.players + 1):
        # Half the players exist before the first day's first session; the rest join later.
        registered_day = 0 if number <= spec.players // 2 or spec.days == 1 else rng.randrange(spec.days)
        country, currency = rng.choice(COUNTRIES)
        upgrades_at = None
        if rng.random() < 0.4:
            upgrades_at = _day_start(spec, rng.randrange(spec.days)) + rng.randrange(DAY)
        out.append(Player(f"P{number:05d}", registered_day, country, currency, rng.choice(PLATFORMS), upgrades_at))
    return out


def game_events(spec: GameSpec) -> list[dict]:
    """Every event that happened, once each, in time order (before any dirt)."""
    rng = _rng(spec, "events")
    events: list[dict] = []
    registered: set[str] = set()

    def event(player: Player, session: str, at: int, event_type: str, **data: object) -> None:
        app_version = APP_VERSIONS[1] if player.upgrades_at is not None and at >= player.upgrades_at else APP_VERSIONS[0]
        events.append({
            "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "event_type": event_type,
            "event_name": event_type.replace("_", " ").title().replace(" ", ""),
            "event_timestamp": at,
            "event_version": EVENT_VERSION,
            "app_version": app_version,
            "application_id": APPLICATION_ID,
            "event_data": {"player_id": player.player_id, "session_id": session, "country": player.country,
                           "platform": player.platform, **data},
        })

    roster = players(spec)
    for day in range(spec.days):
        for player in roster:
            if player.registered_day > day or (player.player_id in registered and rng.random() >= spec.active_rate):
                continue
            for start in times_of_day(rng, _day_start(spec, day), rng.randint(1, 2)):
                session = str(uuid.UUID(int=rng.getrandbits(128), version=4))
                at = start
                if player.player_id not in registered:
                    registered.add(player.player_id)
                    event(player, session, at, "user_registration")
                event(player, session, at, "login")
                for _ in range(rng.randint(1, 4)):
                    level = rng.choice(LEVELS)
                    at += rng.randint(5, 60)
                    event(player, session, at, "level_started", level_id=level)
                    at += rng.randint(30, 600)
                    difficulty = 0.25 + 0.1 * LEVELS.index(level)
                    outcome = "level_failed" if rng.random() < difficulty else "level_completed"
                    event(player, session, at, outcome, level_id=level)
                if rng.random() < 0.2:
                    at += rng.randint(5, 120)
                    event(player, session, at, "iap_transaction",
                          transaction_id=f"T{rng.getrandbits(48):012x}", item_id=rng.choice(ITEMS),
                          amount=float(Decimal(rng.choice(PRICES[player.currency]))), currency=player.currency)
                if rng.random() < 0.15:
                    at += rng.randint(5, 60)
                    event(player, session, at, "user_sentiment", user_rating=rng.randint(1, 5))
                if rng.random() < 0.06:
                    at += rng.randint(5, 60)
                    event(player, session, at, "user_report", report_reason=rng.choice(REPORT_REASONS),
                          reported_player_id=f"P{rng.randint(1, spec.players):05d}")
                if rng.random() < spec.unknown_rate:
                    at += rng.randint(5, 60)
                    event(player, session, at, rng.choice(UNKNOWN_EVENT_TYPES), placement="level_end")
                at += rng.randint(5, 120)
                event(player, session, at, "logout")
    return sorted(events, key=lambda e: (e["event_timestamp"], e["event_id"]))


def hour_folder(prefix: str, hour_start: int) -> str:
    moment = datetime.datetime(1970, 1, 1) + datetime.timedelta(seconds=hour_start)
    return f"{prefix}{DOMAIN}/{DATASET}/dt={moment:%Y-%m-%d}/hh={moment:%H}/"


def events_file(key: str, events: list[dict], malformed: bool = False) -> LandingFile:
    """One gzip NDJSON file of `events` (with a truncated last line when `malformed`)."""
    lines = [json.dumps(e, separators=(",", ":")) for e in events]
    if malformed:
        lines.append(lines[-1][: len(lines[-1]) // 2])
    body = gzip.compress(("\n".join(lines) + "\n").encode("utf-8"), mtime=0)
    return LandingFile(key=key, body=body, dataset=DATASET, malformed=malformed, domain=DOMAIN)


def game_files(spec: GameSpec | None = None, prefix: str = "landing/") -> list[tuple[int, int, LandingFile]]:
    """(day, hour, file) of every landing file, in delivery order (by hour folder)."""
    spec = GameSpec() if spec is None else spec
    rng = _rng(spec, "delivery")
    by_hour: dict[int, list[dict]] = defaultdict(list)
    for event in game_events(spec):
        hour = event["event_timestamp"] // 3600 * 3600
        if rng.random() < spec.late_rate:
            hour += 3600 * rng.randint(1, 6)  # lands in a later hour's folder
        by_hour[hour].append(event)
        if rng.random() < spec.duplicate_rate:
            by_hour[hour + 3600 * rng.randint(0, 2)].append(event)  # delivered again, identical
    first = _day_start(spec, 0)
    out = []
    for hour in sorted(by_hour):
        key = f"{hour_folder(prefix, hour)}events-{hour // 3600:08d}.json.gz"
        out.append(((hour - first) // DAY, hour % DAY // 3600, events_file(key, by_hour[hour])))
    if spec.include_malformed and out:
        day, hour_of_day, _ = out[len(out) // 2]
        hour = first + day * DAY + hour_of_day * 3600
        extra = [dict(e, event_id=str(uuid.UUID(int=rng.getrandbits(128), version=4))) for e in by_hour[hour][:3]]
        key = f"{hour_folder(prefix, hour)}events-{hour // 3600:08d}-retry.json.gz"
        out.append((day, hour_of_day, events_file(key, extra, malformed=True)))
    return out
