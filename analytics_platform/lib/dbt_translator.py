"""How dbt resources appear in Dagster: grouped by domain and medallion layer, tagged by both.

A dbt source that is a landing dataset (lib/datasets.py) takes the key of the ingestion asset
that loads it (raw/<domain>/<dataset>), derived from the declaration: no `meta.dagster.asset_key`.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtProject

from analytics_platform.lib.datasets import dataset_from_source

LAYERS = ("bronze", "silver", "gold")
SEMANTIC_FOLDER = "semantic"


def layer_and_domain(fqn: list[str]) -> tuple[str | None, str | None]:
    """models/<domain>/<layer>/<model>.sql has the fqn [project, domain, layer, model]."""
    folders = fqn[1:-1]
    layer = next((folder for folder in folders if folder in LAYERS), None)
    domain = folders[0] if folders and folders[0] not in LAYERS else None
    return layer, domain


def group_for(fqn: list[str], resource_type: str) -> str | None:
    """models/<domain>/<layer>/ -> `<domain>_<layer>` (e.g. ecommerce_gold); models/semantic/ ->
    `semantic`; seeds -> `reference`, snapshots -> `snapshots`; anything else: dagster-dbt's."""
    layer, domain = layer_and_domain(fqn)
    if layer:
        return f"{domain}_{layer}" if domain else layer
    if resource_type == "model" and domain == SEMANTIC_FOLDER:
        return SEMANTIC_FOLDER
    return {"seed": "reference", "snapshot": "snapshots"}.get(resource_type)


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

    def __init__(self, source_tests_as_checks: bool = True, docs_url: str | None = None) -> None:
        self._docs_url = docs_url  # the dbt docs site: each asset links to its page there
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
        if props["resource_type"] == "source":
            dataset = dataset_from_source(manifest, unique_id)
            return spec if dataset is None else spec.replace_attributes(key=dataset.asset_key)
        if props["resource_type"] not in {"model", "seed", "snapshot"}:
            return spec
        layer, domain = layer_and_domain(props["fqn"])
        tags = {key: value for key, value in {"layer": layer, "domain": domain}.items() if value}
        materialized = props.get("config", {}).get("materialized")
        if materialized:
            # `dg launch --assets tag:materialized=incremental` selects the incremental facts.
            tags["materialized"] = materialized
        group = group_for(props["fqn"], props["resource_type"])
        metadata = {}
        if self._docs_url:
            page = f"{self._docs_url.rstrip('/')}/#!/{props['resource_type']}/{unique_id}"
            metadata["dbt docs"] = dg.MetadataValue.url(page)
        # One replace, not a replace and a merge: building an AssetSpec is most of the cost of a
        # spec at 5,000 models (code-location load, BENCHMARKS.md).
        return spec.replace_attributes(
            key=dg.AssetKey(model_asset_name(props)),
            group_name=group or spec.group_name,
            owners=spec.owners or owners_from_meta(props),
            tags={**spec.tags, **tags},
            metadata={**spec.metadata, **metadata},
        )

    def get_asset_check_spec(self, asset_spec, manifest, unique_id, project):
        """dagster-dbt's check, with the test's YAML `description:` or a sentence saying what it
        tests (the UI shows "No description provided" otherwise)."""
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None or spec.description:
            return spec
        return dg.AssetCheckSpec(
            name=spec.name,
            asset=spec.asset_key,
            description=test_description(manifest["nodes"].get(unique_id, {}), asset_spec.key),
            additional_deps=spec.additional_deps,
            blocking=spec.blocking,
            metadata=spec.metadata,
            automation_condition=spec.automation_condition,
        )


def owners_from_meta(props: Mapping[str, Any]) -> list[str] | None:
    """`meta.owner` (an email or `team:name`, or a list of them), set per folder in
    dbt_project.yml or per model in its YAML; dagster-dbt itself only reads
    `meta.dagster.owners` and the dbt group's owner email."""
    owner = (props.get("config", {}).get("meta") or props.get("meta") or {}).get("owner")
    if not owner:
        return None
    return [owner] if isinstance(owner, str) else list(owner)


def test_description(test: Mapping[str, Any], asset_key: dg.AssetKey) -> str:
    """The test's own description, else e.g. "column order_id of silver_orders is not_null"."""
    if test.get("description"):
        return test["description"]
    metadata = test.get("test_metadata") or {}
    name = metadata.get("name") or test.get("name", "test")
    kwargs = metadata.get("kwargs") or {}
    column = kwargs.get("column_name")
    model = asset_key.to_user_string()
    if metadata.get("namespace"):
        name = f"{metadata['namespace']}.{name}"
    readable = name.replace("_", " ")
    details = ", ".join(
        f"{k}={v}" for k, v in kwargs.items()
        if k not in {"column_name", "model"} and isinstance(v, (str, int, float, bool))
    )
    subject = f"column {column} of {model}" if column else model
    sentence = f"dbt test: {subject} passes `{readable}`"
    if not metadata:
        sentence = f"dbt singular test `{test.get('name', name)}` on {model} (tests/singular)"
    return f"{sentence} ({details})" if details else sentence


@functools.cache
def analytics_translator(
    source_tests_as_checks: bool = True, docs_url: str | None = None
) -> AnalyticsDbtTranslator:
    """dagster-dbt attaches a source's tests to every @dbt_assets with a model reading that
    source, whatever its selection: exactly one definition may have them
    (`source_tests_as_checks`), or the code location has duplicate check keys."""
    return AnalyticsDbtTranslator(source_tests_as_checks, docs_url)
