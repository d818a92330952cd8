"""Passwords of the warehouse users declared in dbt_project.yml (vars.governance.users).

dbt's governance macros (dbt_project/macros/governance/apply.sql) create the users, roles,
memberships and grants, but never passwords: a password rendered into SQL by dbt would reach its
logs (`dbt.log` records every statement). They are set here, from

1. the environment: `ANALYTICS_PASSWORD_<USER>` (upper case), else
2. AWS Secrets Manager: one secret (ANALYTICS_WAREHOUSE_USERS_SECRET, default
   `analytics/warehouse-users`) holding a JSON object `{"<user>": "<password>", ...}`, read with
   dagster-aws's `SecretsManagerResource` (moto's Secrets Manager locally and in tests).

The password travels as an MD5 verifier (`'md5' || md5(password || user)`), which PostgreSQL and
Redshift both accept in `ALTER ROLE/USER ... PASSWORD`: the plain text never leaves this process,
so it is in no server log either. A user with no password anywhere is left as is (and cannot log
in with a password). Nothing here prints or returns a password.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path

import yaml

DEFAULT_SECRET_ID = "analytics/warehouse-users"
ENV_PREFIX = "ANALYTICS_PASSWORD_"


def declared_governance(dbt_project_dir: Path) -> dict:
    """vars.governance of the dbt project (roles -> relations, users -> roles)."""
    project = yaml.safe_load((Path(dbt_project_dir) / "dbt_project.yml").read_text())
    return (project.get("vars") or {}).get("governance") or {}


def declared_users(dbt_project_dir: Path) -> list[str]:
    return sorted((declared_governance(dbt_project_dir).get("users") or {}).keys())


def secret_passwords(secrets_manager, secret_id: str = DEFAULT_SECRET_ID) -> dict[str, str]:
    """{user: password} from the Secrets Manager secret; {} when it does not exist.

    `secrets_manager`: a dagster-aws `SecretsManagerResource` (or anything with `get_client()`)."""
    client = secrets_manager.get_client()
    try:
        value = client.get_secret_value(SecretId=secret_id)["SecretString"]
    except client.exceptions.ResourceNotFoundException:
        return {}
    passwords = json.loads(value)
    if not isinstance(passwords, dict):
        raise TypeError(f"secret {secret_id} must hold a JSON object of user -> password")
    return {str(user): str(password) for user, password in passwords.items()}


def resolve_passwords(
    users: list[str],
    environ: Mapping[str, str] | None = None,
    secrets_manager=None,
    secret_id: str | None = None,
) -> dict[str, str]:
    """The password of each user that has one: the environment first, then Secrets Manager."""
    env = os.environ if environ is None else environ
    passwords = {user: env[ENV_PREFIX + user.upper()] for user in users if env.get(ENV_PREFIX + user.upper())}
    missing = [user for user in users if user not in passwords]
    if missing and secrets_manager is not None:
        stored = secret_passwords(
            secrets_manager, secret_id or env.get("ANALYTICS_WAREHOUSE_USERS_SECRET") or DEFAULT_SECRET_ID
        )
        passwords.update({user: stored[user] for user in missing if stored.get(user)})
    return passwords


def md5_verifier(user: str, password: str) -> str:
    return "md5" + hashlib.md5((password + user).encode()).hexdigest()


def set_passwords(connection, passwords: Mapping[str, str], warehouse_type: str = "postgres") -> list[str]:
    """Set each user's password on a DB-API connection (psycopg2 / redshift_connector); returns
    the users updated (never the passwords)."""
    from psycopg2 import sql

    keyword = "USER" if warehouse_type == "redshift" else "ROLE"
    updated = []
    with connection.cursor() as cursor:
        for user, password in sorted(passwords.items()):
            cursor.execute(
                sql.SQL("ALTER {} {} PASSWORD {}").format(
                    sql.SQL(keyword), sql.Identifier(user), sql.Literal(md5_verifier(user, password))
                )
            )
            updated.append(user)
    connection.commit()
    return updated
