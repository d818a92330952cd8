"""The code location Dagster loads (workspace.yaml, `dg`): built from the environment at import."""

from analytics_platform.defs import build_definitions
from analytics_platform.settings import load_settings

defs = build_definitions(load_settings())
