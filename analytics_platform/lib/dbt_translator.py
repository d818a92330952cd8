"""How dbt resources appear in Dagster: grouped by medallion layer, tagged by domain."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtProject

LAYERS = ("bronze", "silver", "gold")


def layer_and_domain(fqn: list[str]) -> tuple[str | None, str | None]:
    """models/<domain>/<layer>/<model>.sql has the fqn [project, domain, layer, model]."""
    folders = fqn[1:-1]
    layer = next((folder for folder in folders if folder in LAYERS), None)
    domain = folders[0] if folders and folders[0] not in LAYERS else None
    return layer, domain


def model_asset_name(props: Mapping[str, Any]) -> str:
    """The bare model name, so keys read the same in every target (no schema or database).

    A versioned model's latest version keeps the bare name (its relation is the unversioned one,
    e.g. gold.gold_sales_by_region); an older version is `<name>_v<version>`, like its relation.
    """
    version, latest = props.get("version"), props.get("latest_version")
    if version is not None and str(version) != str(latest):
        return f"{props['name']}_v{version}"
    return props["name"]


class AnalyticsDbtTranslator(DagsterDbtTranslator):
    """Get it from `analytics_translator()`, which shares instances: dagster-dbt asks for each node's
    spec several times (once as an asset, again as every child's dependency, once per
    @dbt_assets), and the memo below makes each one cost once."""

    def __init__(self, source_tests_as_checks: bool = True) -> None:
        super().__init__(
            settings=DagsterDbtTranslatorSettings(
                enable_asset_checks=True, enable_source_tests_as_checks=source_tests_as_checks
            )
        )
        # Values hold the manifest too, so an id in a key cannot be reused by another manifest.
        self._analytics_specs: dict[tuple[int, str, int], tuple[Mapping[str, Any], dg.AssetSpec]] = {}

    def get_asset_spec(
        self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None
    ) -> dg.AssetSpec:
        memo_key = (id(manifest), unique_id, id(project))
        if memo_key not in self._analytics_specs:
            spec = self._build_asset_spec(manifest, unique_id, project)
            self._analytics_specs[memo_key] = (manifest, spec)
        return self._analytics_specs[memo_key][1]

    def _build_asset_spec(
        self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None
    ) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        if props["resource_type"] not in {"model", "seed", "snapshot"}:
            return spec
        layer, domain = layer_and_domain(props["fqn"])
        tags = {key: value for key, value in {"layer": layer, "domain": domain}.items() if value}
        materialized = props.get("config", {}).get("materialized")
        if materialized:
            # `dg launch --assets tag:materialized=incremental` selects the partitioned facts.
            tags["materialized"] = materialized
        group = layer or {"seed": "reference", "snapshot": "snapshots"}.get(props["resource_type"])
        return spec.replace_attributes(
            key=dg.AssetKey(model_asset_name(props)),
            group_name=group or spec.group_name,
        ).merge_attributes(tags=tags)


@functools.cache
def analytics_translator(source_tests_as_checks: bool = True) -> AnalyticsDbtTranslator:
    """dagster-dbt attaches a source's tests to every @dbt_assets with a model reading that
    source, whatever its selection: exactly one definition may have them
    (`source_tests_as_checks`), or the code location has duplicate check keys."""
    return AnalyticsDbtTranslator(source_tests_as_checks)
