"""The landing sensor's cursor: which files it has announced, listing a bounded amount per tick.

Why not `dagster_aws.s3.sensor.get_objects(since_last_modified=...)`: it skips an object whose
LastModified equals the cursor, so a file landing in the same second as the last one seen is
missed for good. Here a file is identified by (key, ETag), never by a timestamp alone.

Why a greatest key per dataset folder: keys look like `<prefix><dataset>/<date>/<file>` and a
listing can only start after one key (S3 `StartAfter`). A single greatest key for the whole
bucket lies in the alphabetically last folder, so new files of every other dataset sorted before
it and went unseen for minutes. Listed after its own greatest key, each folder returns exactly
the keys never listed before (the usual layout is time-ordered), whatever the bucket holds; no
other part of the sensor announces such a key, so they are announced as they come. A listing
stops after `FOLDER_PAGES_PER_TICK` pages and goes on next tick, which bounds even the first
ticks of a fresh cursor on a big bucket: it catches up over a few ticks instead of one long one.

Why a sweep instead of a periodic full listing: a key that sorts before its folder's greatest
key (a late file in an old date folder, a re-upload) never shows up after it. Listing the whole
bucket in one tick costs one request per 1,000 objects (45.8 s at 100,000 objects on the local
S3 server, and a tick times out after 60 s). Instead every tick lists `SWEEP_PAGES_PER_TICK` more
pages of the whole prefix from where the last tick stopped, wrapping at the end: a cycle takes
(objects / 1,000) ticks and no tick costs more than a few requests.

What the sweep announces: keys at or before their folder's greatest key, with LastModified at or
after the horizon, that are not remembered. The horizon is the high-water LastModified when the
*previous* sweep cycle started, minus `LOOKBACK`: a file that cycle missed became visible after
it started, and its LastModified is at most `LOOKBACK` older than its visibility (a multipart
upload keeps the LastModified of its start). The current cycle's start would not do, since a
cycle can last longer than any fixed margin. The cursor remembers a digest and the LastModified
of each file announced at or after the horizon, so nothing is announced twice; an older one can
never be announced again and is forgotten. So the cursor holds what landed within about two
sweep cycles, and at most `MAX_REMEMBERED` entries: past that the horizon moves up to the oldest
entry kept, and a later late file older than that is left to the next run's ledger.

The sensor only decides *when* to run. *What* gets loaded is decided by the ledger in the
warehouse at run time, so a duplicate trigger loads nothing twice and a missed trigger is made up
by the next run.
"""

from __future__ import annotations

import base64
import hashlib
import json
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from analytics_platform.lib.objects import LandingObject, ListedSlice

LOOKBACK = timedelta(minutes=15)
FOLDER_PAGES_PER_TICK = 10
SWEEP_PAGES_PER_TICK = 1
MAX_REMEMBERED = 50_000  # about 0.6 MB of cursor text (11 characters per file)
COMPACT_PREFIX = "z1:"
"""Serialized cursors start with this: zlib-compressed JSON in URL-safe base64, the remembered
digests packed as bytes. The sensor page shows the cursor on every tick row: 82 remembered files
took 2,500 characters of JSON and take about 900 this way. `parse` still reads plain JSON."""
# The high-water mark of a sweep cycle that started before anything was listed.
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def file_digest(landing_object: LandingObject) -> str:
    """Short stand-in for (key, ETag) in the cursor: 64 bits, so collisions are negligible."""
    key, etag = landing_object.identity
    return hashlib.blake2b(f"{key}\0{etag}".encode(), digest_size=8).hexdigest()


@dataclass(frozen=True)
class LandingCursor:
    high_water: datetime | None = None
    """The greatest LastModified listed so far."""
    folder_after: Mapping[str, str] = field(default_factory=dict)
    """Per dataset folder prefix, the greatest key listed in it."""
    sweep_after: str | None = None
    """Where the next sweep page starts; None: at the beginning of a new cycle."""
    sweep_cycle_high_water: datetime | None = None
    """`high_water` when the current sweep cycle started."""
    sweep_horizon: datetime | None = None
    """The sweep announces nothing older; None: no limit."""
    catch_up_floor: datetime | None = None
    """Only for a cursor of the previous format: what it had already announced is not announced
    again by the folder listings, until each has caught up with its folder."""
    remembered: Mapping[str, float] = field(default_factory=dict)
    """Digest of each file announced at or after `sweep_horizon` -> its LastModified (epoch s)."""

    @classmethod
    def parse(cls, text: str | None) -> LandingCursor:
        if not text:
            return cls()
        if text.startswith(COMPACT_PREFIX):
            data = json.loads(zlib.decompress(base64.urlsafe_b64decode(text[len(COMPACT_PREFIX):])))
            data["remembered"] = _unpack_remembered(data.pop("packed", {}))
        else:
            data = json.loads(text)
        if "folder_after" not in data:
            return cls._from_previous_format(data)

        def moment(name: str) -> datetime | None:
            return datetime.fromisoformat(data[name]) if data.get(name) else None

        return cls(
            high_water=moment("high_water"),
            folder_after=dict(data["folder_after"]),
            sweep_after=data.get("sweep_after"),
            sweep_cycle_high_water=moment("sweep_cycle_high_water"),
            sweep_horizon=moment("sweep_horizon"),
            catch_up_floor=moment("catch_up_floor"),
            remembered=dict(data.get("remembered", {})),
        )

    @classmethod
    def _from_previous_format(cls, data: dict) -> LandingCursor:
        """One greatest key for the bucket, and (key, ETag) seen within LOOKBACK of high_water.

        Its greatest key says nothing about the other folders, so they are listed again from
        the start, announcing what that cursor would still have announced: inside its look-back
        window and not among the files it had seen.
        """
        high_water = datetime.fromisoformat(data["high_water"]) if data.get("high_water") else None
        seen_at = high_water.timestamp() if high_water else EPOCH.timestamp()
        remembered = {
            file_digest(LandingObject("", key, etag, 0, EPOCH)): seen_at
            for key, etag in data.get("recent", ())
        }
        floor = high_water - LOOKBACK if high_water else None
        return cls(
            high_water=high_water,
            sweep_cycle_high_water=high_water,
            sweep_horizon=floor,
            catch_up_floor=floor,
            remembered=remembered,
        )

    def serialize(self) -> str:
        def moment(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        document = json.dumps(
            {
                "high_water": moment(self.high_water),
                "folder_after": dict(sorted(self.folder_after.items())),
                "sweep_after": self.sweep_after,
                "sweep_cycle_high_water": moment(self.sweep_cycle_high_water),
                "sweep_horizon": moment(self.sweep_horizon),
                "catch_up_floor": moment(self.catch_up_floor),
                "packed": _pack_remembered(self.remembered),
            },
            separators=(",", ":"),
        )
        packed = base64.urlsafe_b64encode(zlib.compress(document.encode(), 9)).decode()
        return COMPACT_PREFIX + packed

    def folder_start(self, folder_prefix: str) -> str | None:
        """Where this tick's listing of a dataset folder starts (None: at its beginning)."""
        return self.folder_after.get(folder_prefix)

    def advance(
        self, folders: Mapping[str, ListedSlice], sweep: ListedSlice
    ) -> tuple[list[LandingObject], LandingCursor]:
        """The files not announced before, and the cursor that remembers them.

        `folders`: per dataset folder prefix, the slice listed after `folder_start(prefix)`;
        `sweep`: the slice of the whole landing prefix listed after `sweep_after`.
        """
        listed = [o for s in folders.values() for o in s.objects] + sweep.objects
        moments = [o.last_modified for o in listed] + ([self.high_water] if self.high_water else [])
        high_water = max(moments, default=None)

        folder_after = dict(self.folder_after)
        for prefix, listed_slice in folders.items():
            if listed_slice.last_key is not None:
                folder_after[prefix] = max(listed_slice.last_key, folder_after.get(prefix, ""))

        sweep_horizon, cycle_high_water = self.sweep_horizon, self.sweep_cycle_high_water
        if self.sweep_after is None:  # this page starts a new cycle
            previous_start = cycle_high_water or high_water
            if previous_start is not None:
                sweep_horizon = max(filter(None, [sweep_horizon, previous_start - LOOKBACK]))
            cycle_high_water = high_water or EPOCH
        sweep_after = None if sweep.complete else sweep.last_key

        remembered = dict(self.remembered)
        new: list[LandingObject] = []

        def announce(landing_object: LandingObject) -> None:
            digest = file_digest(landing_object)
            if digest not in remembered:
                new.append(landing_object)
                remembered[digest] = landing_object.last_modified.timestamp()

        for listed_slice in folders.values():
            for landing_object in listed_slice.objects:
                if (
                    self.catch_up_floor is None
                    or landing_object.last_modified >= self.catch_up_floor
                ):
                    announce(landing_object)

        def folder_listing_owns(key: str) -> bool:
            """Keys after their folder's greatest key are the folder listing's to announce."""
            prefix = next((p for p in folders if key.startswith(p)), None)
            return prefix is not None and key > folder_after.get(prefix, "")

        for landing_object in sweep.objects:
            if folder_listing_owns(landing_object.key):
                continue
            if sweep_horizon is None or landing_object.last_modified >= sweep_horizon:
                announce(landing_object)

        remembered, sweep_horizon = _forget_what_cannot_return(remembered, sweep_horizon)
        caught_up = all(s.complete for s in folders.values())
        return new, LandingCursor(
            high_water=high_water,
            folder_after=folder_after,
            sweep_after=sweep_after,
            sweep_cycle_high_water=cycle_high_water,
            sweep_horizon=sweep_horizon,
            catch_up_floor=None if caught_up else self.catch_up_floor,
            remembered=remembered,
        )


def _pack_remembered(remembered: Mapping[str, float]) -> dict:
    """Digests as one base64 string of 8-byte values; LastModified as offsets (s) from the
    oldest, in the same order."""
    if not remembered:
        return {}
    items = sorted(remembered.items(), key=lambda item: (item[1], item[0]))
    base = min(at for _, at in items)
    offsets = [at - base for _, at in items]
    return {
        "digests": base64.b64encode(b"".join(bytes.fromhex(d) for d, _ in items)).decode(),
        "base": int(base) if base == int(base) else base,
        "offsets": [int(o) if o == int(o) else o for o in offsets],
    }


def _unpack_remembered(packed: Mapping) -> dict[str, float]:
    if not packed:
        return {}
    raw = base64.b64decode(packed["digests"])
    digests = [raw[i : i + 8].hex() for i in range(0, len(raw), 8)]
    return {d: packed["base"] + offset for d, offset in zip(digests, packed["offsets"])}


def _forget_what_cannot_return(
    remembered: dict[str, float], horizon: datetime | None
) -> tuple[dict[str, float], datetime | None]:
    """Drop entries older than the horizon (the sweep never announces them again); past
    MAX_REMEMBERED, raise the horizon to the oldest entry kept, so what is dropped stays so."""
    if horizon is not None:
        cutoff = horizon.timestamp()
        remembered = {d: at for d, at in remembered.items() if at >= cutoff}
    if len(remembered) > MAX_REMEMBERED:
        oldest_kept = sorted(remembered.values(), reverse=True)[MAX_REMEMBERED - 1]
        remembered = {d: at for d, at in remembered.items() if at >= oldest_kept}
        horizon = datetime.fromtimestamp(oldest_kept, tz=timezone.utc)
    return remembered, horizon
