"""Jobs over the whole graph; selective runs use asset selections instead (see README)."""

import dagster as dg

landing_to_gold_job = dg.define_asset_job(
    name="landing_to_gold",
    selection=dg.AssetSelection.all(),
    description="Load every new landed file, then build and test every dbt model up to gold.",
)
