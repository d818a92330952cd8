"""The deployment image (Dockerfile) without a Docker daemon: its build steps are the README's make
targets, and its prepare step (run here on a copy of the build context, conftest `prepared_image`)
bakes a manifest the code location loads without parsing the dbt project."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from analytics_platform.settings import DBT_VARIABLES

from .helpers import REPO_ROOT, Dockerfile, PreparedImage, dockerignored

PACKAGE_TOOLS = {"pip", "pip3", "python", "python3", "dbt", "dagster", "analytics-platform", "uv"}


def test_the_image_is_built_by_the_make_targets_the_readme_uses():
    dockerfile = Dockerfile.read()
    runs = dockerfile.arguments("RUN")
    make_steps = [shlex.split(step) for step in runs if step.startswith("make ")]
    targets = [next(word for word in step[1:] if "=" not in word) for step in make_steps]
    assert targets == ["install", "manifest"], runs
    # Every other step is the operating system's (make itself, the user): no package step of
    # its own that a test of the make targets would not cover.
    for step in runs:
        if not step.startswith("make "):
            commands = [shlex.split(part)[0] for part in re.split(r"&&|;|\|\|", step) if part.strip()]
            assert not PACKAGE_TOOLS & {Path(command).name for command in commands}, step

    # The targets do what the README says: install from the lock, then `analytics-platform prepare`.
    planned = subprocess.run(
        ["make", "-n", "-B", "manifest", "VENV=/nonexistent/venv"], cwd=REPO_ROOT,
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout
    assert "pip install --quiet -c requirements.lock -e" in planned, planned
    assert "/nonexistent/venv/bin/analytics-platform prepare" in planned, planned

    # The container's command serves the module Dagster's own config names.
    tool_dagster = (REPO_ROOT / "pyproject.toml").read_text().split("[tool.dagster]", 1)[1]
    module = re.search(r'^module_name = "([^"]+)"', tool_dagster, re.MULTILINE).group(1)
    [command] = dockerfile.arguments("CMD")
    assert json.loads(command)[:3] == ["dagster", "api", "grpc"] and module in json.loads(command)
    # The instance configuration the image copies in exists, and the image is production's.
    dagster_yaml = next(a for a in dockerfile.arguments("ARG") if a.startswith("DAGSTER_YAML="))
    assert (REPO_ROOT / dagster_yaml.split("=", 1)[1]).is_file()
    assert dockerfile.environment()["ANALYTICS_ENV"] == "production"


def test_the_build_context_leaves_local_state_out():
    patterns = [line.strip() for line in (REPO_ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    for local_only in (".venv", ".local/warehouse.duckdb", ".env", ".git", "dbt_project/target/manifest.json",
                       "analytics_platform/__pycache__/cli.cpython-311.pyc"):
        assert dockerignored(local_only, patterns), local_only
    for needed in ("Makefile", "requirements.lock", "pyproject.toml", "README.md", "analytics_platform/cli.py",
                   "dbt_project/dbt_project.yml", "dbt_project/profiles.yml", "deploy/dagster.yaml"):
        assert not dockerignored(needed, patterns), needed


IMPORT_THE_CODE_LOCATION = """
import json, subprocess
spawned = []
original = subprocess.Popen.__init__
def record(self, args, *a, **k):
    spawned.append(args if isinstance(args, str) else " ".join(map(str, args)))
    return original(self, args, *a, **k)
subprocess.Popen.__init__ = record
from analytics_platform.definitions import defs
graph = defs.resolve_asset_graph()
print(json.dumps({"spawned": spawned, "assets": [k.to_user_string() for k in graph.get_all_asset_keys()]}))
"""


def _import_code_location(image: PreparedImage, **overrides: str) -> subprocess.CompletedProcess:
    inherited = {name: value for name, value in os.environ.items()
                 if name not in DBT_VARIABLES and name != "DAGSTER_IS_DEV_CLI"}
    return subprocess.run(
        [sys.executable, "-c", IMPORT_THE_CODE_LOCATION], cwd=image.context,
        env={**inherited, **image.environment, **overrides},
        capture_output=True, text=True, timeout=300, check=False,
    )


def _files_under(directory: Path) -> dict[str, float]:
    return {str(path): path.stat().st_mtime for path in directory.rglob("*") if path.is_file()}


def test_the_prepare_step_bakes_a_manifest_loaded_without_parsing(prepared_image: PreparedImage, tmp_path: Path):
    assert prepared_image.manifest.is_file()
    manifest = json.loads(prepared_image.manifest.read_text())
    assert manifest["metadata"]["adapter_type"] == "duckdb"  # the build argument's warehouse
    models = {node["name"] for node in manifest["nodes"].values()
              if node["resource_type"] == "model" and node["config"]["materialized"] != "ephemeral"}
    target = prepared_image.manifest.parent
    before = _files_under(target)

    loaded = _import_code_location(prepared_image)  # DAGSTER_IS_DEV_CLI unset, as in production
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    result = json.loads(loaded.stdout.strip().splitlines()[-1])
    assert not [command for command in result["spawned"] if "dbt" in command], result["spawned"]
    assert _files_under(target) == before  # nothing parsed, nothing written
    assert models and models <= set(result["assets"])

    # Without the baked manifest the code location refuses to start (it does not parse instead).
    bare = tmp_path / "dbt_project"
    shutil.copytree(prepared_image.context / "dbt_project", bare, ignore=shutil.ignore_patterns("target"))
    refused = _import_code_location(prepared_image, ANALYTICS_DBT_PROJECT_DIR=str(bare))
    assert refused.returncode != 0
    assert "dbt manifest not found" in refused.stderr and "make manifest" in refused.stderr
    assert not (bare / "target" / "manifest.json").exists()
