"""`analytics-platform drop-branch-schemas | publish-manifest | ci`: the CLI side of
lib/environments.py and lib/slim_ci.py (cli.py wires them in with `add_environment_commands`)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from functools import partial
from pathlib import Path

from analytics_platform.lib.environments import (
    WrongEnvironment,
    drop_branch_schemas,
    require_branch,
)
from analytics_platform.lib.slim_ci import (
    SlimCiError,
    download_manifest,
    publish_manifest,
    run_slim_ci,
)
from analytics_platform.settings import Settings

S3ClientFactory = Callable[[Settings], object]


def say(message: str) -> None:
    print(f"[analytics-platform] {message}", flush=True)


class CommandError(Exception):
    """A user error: its message is printed and the command exits with 2."""


def _state_s3_prefix(settings: Settings, given: str | None) -> str:
    s3_prefix = given or settings.dbt_state_s3_prefix
    if not s3_prefix:
        raise CommandError("where is production's manifest? Set ANALYTICS_DBT_STATE_S3_PREFIX=s3://bucket/prefix "
                           "(or pass --s3-prefix; `ci` also takes --state DIR).")
    return s3_prefix


def cmd_drop_branch_schemas(settings: Settings, args: argparse.Namespace, s3_client: S3ClientFactory) -> int:
    return drop_branch_schemas(settings, dry_run=args.dry_run)


def cmd_publish_manifest(settings: Settings, args: argparse.Namespace, s3_client: S3ClientFactory) -> int:
    from analytics_platform.lib.dbt_project import prepare_manifest

    if settings.environment != "production":
        raise CommandError("publish-manifest publishes production's manifest: run it with ANALYTICS_ENV=production, "
                           f"got {settings.environment!r}.")
    s3_prefix = _state_s3_prefix(settings, args.s3_prefix)
    # Default: parse the checked-out code as production (offline): the manifest of what it deploys.
    manifest = Path(args.manifest) if args.manifest else prepare_manifest(settings)
    say(f"published {manifest} to {publish_manifest(s3_client(settings), manifest, s3_prefix)}")
    return 0


def cmd_ci(settings: Settings, args: argparse.Namespace, s3_client: S3ClientFactory) -> int:
    require_branch(settings, "ci")
    target_path = Path(args.target_path or settings.dbt_project_dir / "target" / "ci").resolve()
    if args.state:
        state_dir = Path(args.state)
    else:
        s3_prefix = _state_s3_prefix(settings, args.s3_prefix)
        state_dir = download_manifest(s3_client(settings), s3_prefix, target_path / "state").parent
        say(f"production's manifest from {s3_prefix}")
    run = run_slim_ci(settings, state_dir, target_path)
    if not run.modified:
        say("no dbt node differs from production's manifest: nothing to build")
    else:
        outcome = "SUCCESS" if run.returncode == 0 else "FAILED"
        say(f"branch {settings.branch!r}: built and tested {len(run.modified)} modified node(s) and their children, "
            f"everything else read from production: {outcome} ({run.target_path / 'run_results.json'})")
    return run.returncode


def add_environment_commands(commands, s3_client: S3ClientFactory) -> dict[str, Callable]:
    """Adds the subcommands to `commands` (argparse subparsers); returns name -> handler(settings, args)."""
    drop = commands.add_parser("drop-branch-schemas", help="drop every schema of this branch environment (ANALYTICS_BRANCH)")
    drop.add_argument("--dry-run", action="store_true", help="list the schemas, drop nothing")
    publish = commands.add_parser("publish-manifest", help="production: upload the dbt manifest slim CI defers to")
    publish.add_argument("--manifest", default=None, help="default: parse the project as production and upload that")
    ci = commands.add_parser("ci", help="branch: build + test only the modified dbt nodes and their children, "
                                        "deferring to production")
    ci.add_argument("--state", default=None, help="a folder holding production's manifest.json (default: download it)")
    ci.add_argument("--target-path", default=None, help="dbt's target folder (default: dbt_project/target/ci)")
    for command in (publish, ci):
        command.add_argument("--s3-prefix", default=None, help="default: ANALYTICS_DBT_STATE_S3_PREFIX")
    handlers = {"drop-branch-schemas": cmd_drop_branch_schemas, "publish-manifest": cmd_publish_manifest, "ci": cmd_ci}
    return {name: partial(_guarded, handler, s3_client=s3_client) for name, handler in handlers.items()}


def _guarded(handler, settings: Settings, args: argparse.Namespace, s3_client: S3ClientFactory) -> int:
    try:
        return handler(settings, args, s3_client)
    except (CommandError, WrongEnvironment, SlimCiError) as error:
        print(f"[analytics-platform] {error}", flush=True)
        return 2
