"""Slim CI: build and test only what a pull request changes, reading the rest from production.

1. Production publishes the manifest of what it runs (`analytics-platform publish-manifest`):
   s3://<bucket>/<prefix>/manifest.json (ANALYTICS_DBT_STATE_S3_PREFIX).
2. A pull request's CI (`analytics-platform ci`, ANALYTICS_ENV=branch, ANALYTICS_BRANCH=<PR>)
   downloads it (or takes `--state DIR`) and
   a. lists the nodes the branch modified, `state:modified` judged in the *production*
      environment (an offline `dbt ls`): dbt compares rendered configs, so judged from the branch
      environment a config that differs by environment (a test's `error_if` from
      settings_by_environment) would count as a change in every pull request;
   b. builds and tests those nodes and their children in the branch's own schemas
      (`dbt build --select <each>+ --defer --favor-state --state <dir>`): every parent it does
      not build is read from production's relations, named in production's manifest.
      `--favor-state` reads production even where an earlier CI run of the same branch left a
      copy; `--indirect-selection eager` runs every test touching a built node, including one
      against an unchanged (deferred) parent, such as a relationships test.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from analytics_platform.lib.environments import require_branch, run_dbt
from analytics_platform.settings import Settings

MANIFEST = "manifest.json"
_SELECTOR = re.compile(r"^[A-Za-z0-9_.:\-]+$")


class SlimCiError(RuntimeError):
    pass


def manifest_location(s3_prefix: str) -> tuple[str, str]:
    """s3://bucket/prefix -> (bucket, "prefix/manifest.json")."""
    parsed = urlparse(s3_prefix)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise SlimCiError(f"expected s3://bucket/prefix, got {s3_prefix!r}")
    prefix = parsed.path.strip("/")
    return parsed.netloc, f"{prefix}/{MANIFEST}" if prefix else MANIFEST


def publish_manifest(s3_client, manifest: Path, s3_prefix: str) -> str:
    """Upload production's manifest where CI finds it; returns its s3:// URL."""
    if not manifest.exists():
        raise SlimCiError(f"no manifest at {manifest}: build or parse the project first")
    bucket, key = manifest_location(s3_prefix)
    # One PUT replaces the object whole: CI reads either the old manifest or the new one.
    s3_client.upload_file(str(manifest), bucket, key, ExtraArgs={"ContentType": "application/json"})
    return f"s3://{bucket}/{key}"


def download_manifest(s3_client, s3_prefix: str, state_dir: Path) -> Path:
    bucket, key = manifest_location(s3_prefix)
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / MANIFEST
    s3_client.download_file(bucket, key, str(path))
    return path


@dataclass(frozen=True)
class SlimCiRun:
    modified: tuple[str, ...]  # dbt selectors of the modified nodes
    returncode: int
    target_path: Path | None  # where the build wrote run_results.json; None: nothing to build


def modified_selectors(settings: Settings, state_dir: Path, target_path: Path) -> tuple[str, ...]:
    """The nodes this checkout changed against production's manifest, as dbt selectors."""
    completed = run_dbt(
        settings,
        ["--quiet", "ls", "--select", "state:modified", "--state", str(state_dir), "--output", "selector"],
        target_path=target_path,
        overrides={"ANALYTICS_ENV": "production", "ANALYTICS_BRANCH": ""},
        capture=True,
    )
    if completed.returncode != 0:
        raise SlimCiError(f"dbt ls failed:\n{completed.stdout[-4000:]}\n{completed.stderr[-2000:]}")
    return tuple(line.strip() for line in completed.stdout.splitlines() if _SELECTOR.match(line.strip()))


def run_slim_ci(settings: Settings, state_dir: Path, target_path: Path) -> SlimCiRun:
    """Build and test the modified nodes and their children in the branch's schemas, deferring
    everything else to production (state_dir holds production's manifest.json)."""
    require_branch(settings, "ci")
    state_dir = state_dir.resolve()
    if not (state_dir / MANIFEST).exists():
        raise SlimCiError(f"no production manifest in {state_dir}")
    modified = modified_selectors(settings, state_dir, target_path / "production_view")
    if not modified:
        return SlimCiRun(modified=(), returncode=0, target_path=None)
    build_path = target_path / "branch"
    completed = run_dbt(
        settings,
        ["build", "--select", *(f"{selector}+" for selector in modified),
         "--defer", "--favor-state", "--state", str(state_dir), "--indirect-selection", "eager"],
        target_path=build_path,
    )
    return SlimCiRun(modified=modified, returncode=completed.returncode, target_path=build_path)
