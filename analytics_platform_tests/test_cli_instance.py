"""One instance for the CLI and the UI: `dg launch` from a plain shell records its run where
`make dev` looks, through the `.env` that `analytics-platform` writes (nothing exported).

The repo's own `.env` points at `.local/dagster_home`; this test writes the same file (same
function) for its isolated settings in a folder of its own and runs `dg` there, with
`--target-path` at the repo, in an environment holding only PATH and HOME. Limit: the repo's
`.env` itself is not used here, so that a test never writes the developer's instance.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import dagster as dg

from analytics_platform.cli import ensure_dagster_home, write_dotenv
from analytics_platform.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[1]
SEED = "country_regions"  # a seed: needs no landed data, builds in a few seconds


def test_dg_launch_from_a_plain_shell_records_the_run_in_the_dotenv_instance(
    settings: Settings, tmp_path: Path, dbt_manifest
):
    ensure_dagster_home(settings)
    shell = tmp_path / "shell"
    shell.mkdir()
    write_dotenv(shell, settings.to_environment())
    home = tmp_path / "home"
    home.mkdir()

    result = subprocess.run(
        [str(REPO_ROOT / ".venv" / "bin" / "dg"), "launch", "--assets", f"key:{SEED}",
         "--target-path", str(REPO_ROOT)],
        check=False, cwd=shell, env={"PATH": "/usr/bin:/bin", "HOME": str(home)},
        capture_output=True, text=True, timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "does not match" not in output  # [tool.dg.cli] suppress_warnings in pyproject.toml
    assert "Using temporary directory" not in output

    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        runs = instance.get_runs()
    assert [run.asset_selection for run in runs] == [{dg.AssetKey(SEED)}]
    assert runs[0].status == dg.DagsterRunStatus.SUCCESS
