"""dbt exposures (the dashboards that read gold) as Dagster assets downstream of the models.

dagster-dbt 0.29 does not turn exposures into assets, so each one becomes an external
`AssetSpec` (not materializable: Dagster does not build dashboards) whose deps are the assets of
the models it reads. The graph then answers "which dashboards does this model feed?".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg

from analytics_platform.lib.dbt_translator import model_asset_name

EXPOSURE_KEY_PREFIX = "exposures"


def build_exposure_specs(manifest: Mapping[str, Any]) -> list[dg.AssetSpec]:
    specs = []
    for exposure in manifest.get("exposures", {}).values():
        deps = [
            dg.AssetKey(model_asset_name(manifest["nodes"][unique_id]))
            for unique_id in exposure.get("depends_on", {}).get("nodes", [])
            if unique_id in manifest["nodes"]
            and manifest["nodes"][unique_id]["resource_type"] in {"model", "seed", "snapshot"}
        ]
        owner = exposure.get("owner") or {}
        metadata = {
            "dbt/exposure_type": exposure.get("type"),
            "dbt/maturity": exposure.get("maturity"),
            "dbt/owner": owner.get("name"),
        }
        if exposure.get("url"):
            metadata["url"] = dg.MetadataValue.url(exposure["url"])
        specs.append(
            dg.AssetSpec(
                key=dg.AssetKey([EXPOSURE_KEY_PREFIX, exposure["name"]]),
                deps=sorted(set(deps), key=lambda key: key.to_user_string()),
                description=(exposure.get("description") or "").strip() or None,
                group_name="exposures",
                kinds={"dbt", exposure.get("type") or "exposure"},
                owners=[owner["email"]] if owner.get("email") else [],
                tags={tag: "" for tag in exposure.get("tags", [])},
                metadata={key: value for key, value in metadata.items() if value is not None},
            )
        )
    return sorted(specs, key=lambda spec: spec.key.to_user_string())
