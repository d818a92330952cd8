"""Dagster freshness policies: how stale a raw or gold table may get before someone is told."""

from __future__ import annotations

from datetime import timedelta

import dagster as dg

# Landing files arrive continuously; a day without a load means the feed is broken.
RAW_FRESHNESS = dg.FreshnessPolicy.time_window(
    warn_window=timedelta(hours=24), fail_window=timedelta(hours=48)
)
# Gold tables feed daily dashboards: refreshed at least once a day, with a couple of hours' slack.
GOLD_FRESHNESS = dg.FreshnessPolicy.time_window(
    warn_window=timedelta(hours=26), fail_window=timedelta(hours=50)
)

FRESHNESS_BY_SELECTION = (
    (dg.AssetSelection.groups("landing"), RAW_FRESHNESS),
    (dg.AssetSelection.groups("gold"), GOLD_FRESHNESS),
)


def apply_freshness_policies(definitions: dg.Definitions) -> dg.Definitions:
    for selection, policy in FRESHNESS_BY_SELECTION:
        definitions = definitions.map_resolved_asset_specs(
            func=lambda spec, policy=policy: dg.apply_freshness_policy(spec, policy),
            selection=selection,
        )
    return definitions
