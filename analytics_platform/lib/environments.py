"""Environments (ANALYTICS_ENV): local, dev, branch, production; a branch's schemas end with it.

The schema naming itself lives in dbt (macros/generate_schema_name.sql and
macros/environments/branch_schemas.sql), the one place every dbt command and Dagster asset goes
through: production builds `gold`, a branch `pr_<branch>_gold`. This module runs dbt for the
commands that act on a whole environment (`drop-branch-schemas` here, `ci` in lib/slim_ci.py).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from analytics_platform.lib.dbt_project import dbt_cli_resource, dbt_project_for
from analytics_platform.settings import Settings


class WrongEnvironment(RuntimeError):
    """A command asked of the wrong environment (e.g. dropping schemas outside a branch)."""


def require_branch(settings: Settings, command: str) -> None:
    """Commands that write or drop a branch's schemas refuse anything else: they must never
    reach production's schemas, nor another branch's."""
    if settings.environment != "branch" or not settings.branch:
        raise WrongEnvironment(
            f"`{command}` runs in a branch environment only: set ANALYTICS_ENV=branch and "
            f"ANALYTICS_BRANCH=<pull request>; got ANALYTICS_ENV={settings.environment!r}."
        )


def run_dbt(
    settings: Settings,
    args: Sequence[str],
    *,
    target_path: Path,
    overrides: Mapping[str, str] | None = None,
    capture: bool = False,
) -> subprocess.CompletedProcess:
    """`dbt <args>` on the settings' project and target, in the settings' environment (plus
    `overrides`), with its own target folder: each environment parses into its own folder, so
    one never partially re-parses another's manifest. Output streams to the console unless
    `capture`."""
    project = dbt_project_for(settings)
    environment = {**os.environ, **settings.to_environment(), "DO_NOT_TRACK": "1", **(overrides or {})}
    command = [
        dbt_cli_resource(settings).dbt_executable, *args,
        "--project-dir", str(project.project_dir), "--profiles-dir", str(project.profiles_dir),
        "--target", settings.dbt_target, "--target-path", str(target_path),
        "--log-path", str(target_path / "logs"),
    ]
    return subprocess.run(command, env=environment, check=False, text=True, capture_output=capture)


def drop_branch_schemas(settings: Settings, *, dry_run: bool = False, target_path: Path | None = None) -> int:
    """Drop every schema of the settings' branch environment (dbt run-operation
    drop_branch_schemas, which drops through the adapter of each engine). Returns dbt's exit code."""
    require_branch(settings, "drop-branch-schemas")
    target_path = target_path or settings.dbt_project_dir / "target" / "branch"
    args = ["run-operation", "drop_branch_schemas"]
    if dry_run:
        args += ["--args", "{dry_run: true}"]
    return run_dbt(settings, args, target_path=target_path).returncode
