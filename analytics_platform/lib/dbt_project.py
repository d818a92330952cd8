"""The dbt project as Dagster sees it: one cached DbtProject per (folder, target)."""

from __future__ import annotations

import functools
import importlib.metadata
import json
import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dagster_dbt import DbtCliResource, DbtProject
from packaging import version

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


class AnalyticsDbtCliResource(DbtCliResource):
    """dagster-dbt's resource without two costs paid on every dbt step (~4-5 s together here).

    - `dbt --version` in a subprocess, to learn whether dbt is dbt-core or Fusion: it imports
      dbt and asks PyPI for the latest release (4.6 s on this machine; it hangs where the index
      is unreachable). dbt-core is installed beside this interpreter and `dbt_executable` is
      that installation, so its version is read from the package metadata.
    - building a dbt adapter inside Dagster's process (~1.5 s): dagster-dbt only uses it for
      `.fetch_column_metadata()` / `.fetch_row_counts()`, which this project does not call.
      Add them and drop the override of `_initialize_dbt_core_adapter` together.
    """

    @property
    def _cli_version(self) -> version.Version:
        return version.parse(importlib.metadata.version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:
        return None


def dbt_cli_resource(settings: Settings) -> AnalyticsDbtCliResource:
    return AnalyticsDbtCliResource(
        project_dir=dbt_project_for(settings), dbt_executable=_dbt_executable()
    )


def _dbt_executable() -> str:
    """The dbt of this interpreter's environment, whose version `_cli_version` reports."""
    beside_interpreter = Path(sys.executable).parent / "dbt"
    return str(beside_interpreter) if beside_interpreter.exists() else "dbt"


def prepare_manifest(settings: Settings) -> Path:
    """Parse the dbt project (offline, no warehouse connection) and return the manifest path."""
    project = dbt_project_for(settings)
    dbt_cli_resource(settings).cli(
        ["parse", "--quiet"], target_path=project.target_path
    ).wait()
    return project.manifest_path
