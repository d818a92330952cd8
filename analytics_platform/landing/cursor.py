"""The landing sensor's cursor: which objects it has already seen.

Why not `dagster_aws.s3.sensor.get_objects(since_last_modified=...)`: it skips an object whose
LastModified equals the cursor, so a file landing in the same second as the last one seen is
missed for good. This cursor instead remembers every (key, ETag) seen inside a look-back window
behind the newest LastModified: an object is new if it is inside the window and not remembered.
Same-second arrivals and uploads that become visible a little after their LastModified (large
multipart uploads) are both caught; the window keeps the cursor small.

The sensor only decides *when* to run. *What* gets loaded is decided by the ledger in the
warehouse at run time, so a duplicate trigger loads nothing twice and a missed trigger is made up
by the next run.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from analytics_platform.landing.objects import LandingObject

LOOKBACK = timedelta(minutes=15)


@dataclass(frozen=True)
class LandingCursor:
    high_water: datetime | None = None
    recent: frozenset[tuple[str, str]] = field(default_factory=frozenset)

    @classmethod
    def parse(cls, text: str | None) -> LandingCursor:
        if not text:
            return cls()
        data = json.loads(text)
        return cls(
            high_water=datetime.fromisoformat(data["high_water"]) if data["high_water"] else None,
            recent=frozenset((key, etag) for key, etag in data["recent"]),
        )

    def serialize(self) -> str:
        return json.dumps(
            {
                "high_water": self.high_water.isoformat() if self.high_water else None,
                "recent": sorted(self.recent),
            },
            separators=(",", ":"),
        )

    def advance(self, listed: Iterable[LandingObject]) -> tuple[list[LandingObject], LandingCursor]:
        """The objects not seen before, and the cursor that remembers them."""
        listed = list(listed)
        horizon = self.high_water - LOOKBACK if self.high_water else None
        new = [
            o
            for o in listed
            if (horizon is None or o.last_modified >= horizon) and o.identity not in self.recent
        ]
        high_water = max([o.last_modified for o in listed] + ([self.high_water] if self.high_water else []), default=None)
        next_horizon = high_water - LOOKBACK if high_water else None
        recent = frozenset(
            o.identity for o in listed if next_horizon is None or o.last_modified >= next_horizon
        )
        return new, LandingCursor(high_water=high_water, recent=recent)
