"""The landing sensor's cursor: which objects it has already seen, listing as little as it can.

Why not `dagster_aws.s3.sensor.get_objects(since_last_modified=...)`: it skips an object whose
LastModified equals the cursor, so a file landing in the same second as the last one seen is
missed for good. This cursor remembers every (key, ETag) seen inside a look-back window behind
the newest LastModified: an object is new if it is inside the window and not remembered.
Same-second arrivals and uploads that become visible a little after their LastModified (large
multipart uploads) are both caught; the window keeps the cursor small.

Listing a bucket costs one request per 1,000 keys, so most ticks list only the keys after the
greatest key seen (`StartAfter`): with the usual time-ordered layout
(`landing/<dataset>/<date>/...`) that is exactly the new files, whatever the bucket holds. A key
that sorts before it (a late file in an old date folder) is caught by the full listing every
`FULL_LISTING_EVERY`, which applies the look-back rule above to everything.

The sensor only decides *when* to run. *What* gets loaded is decided by the ledger in the
warehouse at run time, so a duplicate trigger loads nothing twice and a missed trigger is made up
by the next run.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from analytics_platform.landing.objects import LandingObject

LOOKBACK = timedelta(minutes=15)
FULL_LISTING_EVERY = timedelta(minutes=5)  # well inside LOOKBACK, so a full listing misses nothing


@dataclass(frozen=True)
class LandingCursor:
    high_water: datetime | None = None
    recent: frozenset[tuple[str, str]] = field(default_factory=frozenset)
    greatest_key: str | None = None
    last_full_listing: datetime | None = None

    @classmethod
    def parse(cls, text: str | None) -> LandingCursor:
        if not text:
            return cls()
        data = json.loads(text)
        moments = {
            name: datetime.fromisoformat(data[name]) if data.get(name) else None
            for name in ("high_water", "last_full_listing")
        }
        return cls(
            recent=frozenset((key, etag) for key, etag in data["recent"]),
            greatest_key=data.get("greatest_key"),
            **moments,
        )

    def serialize(self) -> str:
        return json.dumps(
            {
                "high_water": self.high_water.isoformat() if self.high_water else None,
                "recent": sorted(self.recent),
                "greatest_key": self.greatest_key,
                "last_full_listing": (
                    self.last_full_listing.isoformat() if self.last_full_listing else None
                ),
            },
            separators=(",", ":"),
        )

    def list_after(self, now: datetime) -> str | None:
        """Where this tick's listing starts: after the greatest key seen, or (None) everywhere."""
        if self.last_full_listing is None or now - self.last_full_listing >= FULL_LISTING_EVERY:
            return None
        return self.greatest_key

    def advance(
        self, listed: Iterable[LandingObject], listed_after: str | None, now: datetime
    ) -> tuple[list[LandingObject], LandingCursor]:
        """The objects not seen before, and the cursor that remembers them.

        `listed` is every object under the prefix when `listed_after` is None, else every object
        whose key sorts after `listed_after`.
        """
        listed = list(listed)
        high_water = max(
            [o.last_modified for o in listed] + ([self.high_water] if self.high_water else []),
            default=None,
        )
        greatest_key = max([o.key for o in listed] + ([self.greatest_key] if self.greatest_key else []), default=None)
        if listed_after is not None:
            # Keys after the greatest one seen were never listed before: new unless remembered
            # (an overwrite of the greatest key itself is excluded by StartAfter).
            new = [o for o in listed if o.identity not in self.recent]
            recent = self.recent | {o.identity for o in new}
            return new, replace(self, high_water=high_water, recent=recent, greatest_key=greatest_key)

        horizon = self.high_water - LOOKBACK if self.high_water else None
        new = [
            o
            for o in listed
            if (horizon is None or o.last_modified >= horizon) and o.identity not in self.recent
        ]
        next_horizon = high_water - LOOKBACK if high_water else None
        recent = frozenset(
            o.identity for o in listed if next_horizon is None or o.last_modified >= next_horizon
        )
        return new, LandingCursor(high_water, recent, greatest_key, last_full_listing=now)
