"""dbt source freshness (`loaded_at_field` + `freshness:` in the sources YAML) as asset checks.

The checks sit on the ingestion assets, so the landing group shows whether each feed is fresh by
dbt's own criteria, next to Dagster's freshness policy for the same table. They run in their
own job, `source_freshness`, on an hourly schedule, never in a landing run: a feed's freshness
is a question of the clock, not of a load (a landing run just loaded it), and `dbt source
freshness` is a dbt process of its own, which a landing run (one dbt invocation) does without.
"""

from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from typing import Any

import dagster as dg
from dagster._record import record  # AssetSelection subclasses are records
from dagster_dbt import DbtCliResource, DbtProject

from analytics_platform.lib.dbt_translator import analytics_translator
from analytics_platform.settings import WAREHOUSE_POOL

CHECK_NAME = "dbt_source_freshness"


@record
class ChecksNamed(dg.AssetSelection):
    """The asset checks called `name`, on whatever assets carry one: lets a job built from the
    datasets alone (the landing sensor's) leave out the source freshness checks, which exist
    only for sources with a `freshness:` block (AssetSelection.checks would need their keys)."""

    name: str

    def resolve_inner(self, asset_graph, allow_missing: bool) -> AbstractSet[dg.AssetKey]:
        return set()

    def resolve_checks_inner(self, asset_graph, allow_missing: bool) -> AbstractSet[dg.AssetCheckKey]:
        return {key for key in asset_graph.asset_check_keys if key.name == self.name}

    def to_serializable_asset_selection(self, asset_graph) -> dg.AssetSelection:
        return dg.AssetSelection.checks(*self.resolve_checks(asset_graph))

    def to_selection_str(self) -> str:
        return f"checks named {self.name}"


SOURCE_FRESHNESS_CHECKS = ChecksNamed(name=CHECK_NAME)
"""Excluded from landing runs (`landing_to_gold`, the sensor's `ingest_and_build`)."""


def _sources_with_freshness(manifest: Mapping[str, Any], project: DbtProject) -> dict[str, dg.AssetKey]:
    translator = analytics_translator()
    sources = {}
    for unique_id, source in manifest["sources"].items():
        freshness = source.get("freshness") or {}
        if source.get("loaded_at_field") and (freshness.get("warn_after", {}).get("count") or freshness.get("error_after", {}).get("count")):
            sources[unique_id] = translator.get_asset_spec(manifest, unique_id, project).key
    return sources


def has_source_freshness(manifest: Mapping[str, Any], project: DbtProject) -> bool:
    return bool(_sources_with_freshness(manifest, project))


def build_source_freshness_checks(manifest: Mapping[str, Any], project: DbtProject) -> dg.AssetChecksDefinition:
    sources = _sources_with_freshness(manifest, project)

    @dg.multi_asset_check(
        specs=[
            dg.AssetCheckSpec(
                CHECK_NAME,
                asset=asset_key,
                description=f"`dbt source freshness` for {manifest['sources'][unique_id]['source_name']}."
                f"{manifest['sources'][unique_id]['name']}: the newest `_loaded_at` is within the "
                "YAML's warn_after / error_after.",
            )
            for unique_id, asset_key in sources.items()
        ],
        can_subset=True,
        pool=WAREHOUSE_POOL,
        name=CHECK_NAME,
    )
    def dbt_source_freshness(context: dg.AssetCheckExecutionContext, dbt: DbtCliResource):
        selected = {
            unique_id: key
            for unique_id, key in sources.items()
            if dg.AssetCheckKey(key, CHECK_NAME) in context.selected_asset_check_keys
        }
        selectors = [
            f"source:{manifest['sources'][uid]['source_name']}.{manifest['sources'][uid]['name']}"
            for uid in selected
        ]
        # dbt exits non-zero when a source is past error_after; that is a failed check, not a crash.
        invocation = dbt.cli(
            ["source", "freshness", "--select", " ".join(selectors)], raise_on_error=False
        ).wait()
        results = {r["unique_id"]: r for r in invocation.get_artifact("sources.json")["results"]}
        for unique_id, asset_key in selected.items():
            result = results.get(unique_id)
            if result is None:
                raise dg.Failure(f"dbt source freshness returned nothing for {unique_id}")
            status = result["status"]
            yield dg.AssetCheckResult(
                asset_key=asset_key,
                check_name=CHECK_NAME,
                passed=status == "pass",
                severity=dg.AssetCheckSeverity.WARN if status == "warn" else dg.AssetCheckSeverity.ERROR,
                metadata={
                    "status": status,
                    "max_loaded_at": str(result.get("max_loaded_at")),
                    "age_hours": round(float(result.get("max_loaded_at_time_ago_in_s") or 0) / 3600, 2),
                    "criteria": str(result.get("criteria")),
                    "error": str(result.get("message") or result.get("error") or ""),
                },
            )

    return dbt_source_freshness
