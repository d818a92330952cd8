"""How dbt resources appear in Dagster: grouped by medallion layer, tagged by domain."""

from __future__ import annotations

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


class AnalyticsDbtTranslator(DagsterDbtTranslator):
    def __init__(self) -> None:
        super().__init__(
            settings=DagsterDbtTranslatorSettings(
                enable_asset_checks=True, enable_source_tests_as_checks=True
            )
        )

    def get_asset_spec(
        self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None
    ) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        if props["resource_type"] not in {"model", "seed", "snapshot"}:
            return spec
        layer, domain = layer_and_domain(props["fqn"])
        tags = {key: value for key, value in {"layer": layer, "domain": domain}.items() if value}
        # Model names are unique in a dbt project, so the bare name is the key: the same in every
        # target (no schema or database in it) and short to select (`key:gold_daily_sales`).
        return spec.replace_attributes(
            key=dg.AssetKey(props["name"]), group_name=layer or spec.group_name
        ).merge_attributes(tags=tags)
