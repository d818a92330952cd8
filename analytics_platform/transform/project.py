"""The dbt project as Dagster sees it: one cached DbtProject per (folder, target)."""

from __future__ import annotations

import functools
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from dagster_dbt import DbtCliResource, DbtProject

from analytics_platform.settings import Settings, export_dbt_env


class DbtManifestMissing(RuntimeError):
    pass


def _put_dbt_on_path() -> None:
    """dagster-dbt runs `dbt` from PATH; use the one beside this interpreter when the
    virtualenv is not activated (`.venv/bin/dagster dev`, `make demo`)."""
    interpreter_bin = Path(sys.executable).parent
    if (interpreter_bin / "dbt").exists() and shutil.which("dbt") is None:
        os.environ["PATH"] = f"{interpreter_bin}{os.pathsep}{os.environ.get('PATH', '')}"


@functools.cache
def _dbt_project(project_dir: Path, target: str) -> DbtProject:
    _put_dbt_on_path()
    project = DbtProject(project_dir=project_dir, profiles_dir=project_dir, target=target)
    # Re-parses on every `dagster dev` reload so model edits show up without a build step.
    project.prepare_if_dev()
    return project


def dbt_project_for(settings: Settings) -> DbtProject:
    export_dbt_env(settings)
    return _dbt_project(settings.dbt_project_dir, settings.dbt_target)


@functools.cache
def load_manifest(settings: Settings) -> dict[str, Any]:
    """The manifest Dagster loads assets from, or a clear error saying how to build it."""
    project = dbt_project_for(settings)
    if not project.manifest_path.exists():
        raise DbtManifestMissing(
            f"dbt manifest not found at {project.manifest_path}. Build it with "
            "`make manifest` (runs `analytics-platform prepare`, i.e. `dbt parse`); "
            "`dagster dev` builds it by itself."
        )
    return json.loads(project.manifest_path.read_text())


def dbt_cli_resource(settings: Settings) -> DbtCliResource:
    return DbtCliResource(project_dir=dbt_project_for(settings))


def prepare_manifest(settings: Settings) -> Path:
    """Parse the dbt project (offline, no warehouse connection) and return the manifest path."""
    project = dbt_project_for(settings)
    dbt_cli_resource(settings).cli(
        ["parse", "--quiet"], target_path=project.target_path
    ).wait()
    return project.manifest_path
