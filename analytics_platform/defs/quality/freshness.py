"""Dagster freshness policies, applied in this one place by medallion layer (the `layer` tag).

The landing assets tag their raw tables `layer=raw`; the dbt translator tags models with their
folder's layer. Bronze and silver are checked through the gold tables built from them.
"""

from __future__ import annotations

from collections.abc import Sequence
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

FRESHNESS_BY_LAYER = {"raw": RAW_FRESHNESS, "gold": GOLD_FRESHNESS}


def _with_layer_freshness(spec: dg.AssetSpec) -> dg.AssetSpec:
    policy = FRESHNESS_BY_LAYER.get(spec.tags.get("layer", ""))
    return spec.replace_attributes(freshness_policy=policy) if policy else spec


def with_freshness_by_layer(
    assets: Sequence[dg.AssetsDefinition | dg.AssetSpec],
) -> list[dg.AssetsDefinition | dg.AssetSpec]:
    """The assets with their layer's policy. Mapped on the definitions before they are assembled:
    mapping a resolved Definitions resolves the whole graph again (~0.5 s at 1,000 models)."""
    return list(dg.map_asset_specs(_with_layer_freshness, list(assets)))
