"""Quality: freshness policies by layer, and dbt source freshness as asset checks. (dbt tests
become asset checks with their models, in defs/dbt.)"""

from collections.abc import Mapping
from typing import Any

import dagster as dg

from analytics_platform.defs.quality.source_freshness import build_source_freshness_checks
from analytics_platform.lib.dbt_project import dbt_project_for
from analytics_platform.settings import Settings


def quality_definitions(settings: Settings, manifest: Mapping[str, Any]) -> dg.Definitions:
    return dg.Definitions(
        asset_checks=[build_source_freshness_checks(manifest, dbt_project_for(settings))]
    )
