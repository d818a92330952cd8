"""`dbt docs generate`, published as a static site: a local folder by default, an S3 prefix
when ANALYTICS_DBT_DOCS_S3_PREFIX (s3://bucket/prefix) is set.

Published files: index.html, manifest.json and catalog.json (what `dbt docs serve` serves) and
static_index.html (`--static`: one self-contained file, openable from disk or S3 without a web
server). Serve the local copy with
    python -m http.server 8080 --directory .local/dbt_docs
(or open .local/dbt_docs/static_index.html directly). The folder is ANALYTICS_DBT_DOCS_DIR when
set.

Not part of `landing_to_gold`: the catalog queries every relation, which takes longer than the
models it describes and changes nothing they compute. It has its own job (`dbt_docs`) and a
daily schedule. In the `warehouse` pool, because generating the catalog opens the DuckDB file.
"""


import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import dagster as dg
from dagster_aws.s3 import S3Resource
from dagster_dbt import DbtCliResource

from analytics_platform.settings import WAREHOUSE_POOL, Settings

DOCS_ASSET_KEY = dg.AssetKey("dbt_docs_site")
DOCS_GROUP = "docs"
PUBLISHED_FILES = {
    "index.html": "text/html",
    "static_index.html": "text/html",
    "manifest.json": "application/json",
    "catalog.json": "application/json",
}


@dataclass(frozen=True)
class DocsDestination:
    local_dir: Path | None = None
    bucket: str | None = None
    prefix: str = ""

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" if self.bucket else str(self.local_dir)


class DbtDocsSite(dg.ConfigurableResource):
    """Where the docs site is published: `s3_prefix` (s3://bucket/prefix) if set, else `local_dir`."""

    local_dir: str
    s3_prefix: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> "DbtDocsSite":
        return cls(local_dir=str(settings.dbt_docs_dir), s3_prefix=settings.dbt_docs_s3_prefix)

    def destination(self) -> DocsDestination:
        if self.s3_prefix:
            parsed = urlparse(self.s3_prefix)
            prefix = parsed.path.strip("/")
            return DocsDestination(bucket=parsed.netloc, prefix=f"{prefix}/" if prefix else "")
        return DocsDestination(local_dir=Path(self.local_dir))


def publish(generated: Path, destination: DocsDestination, s3: S3Resource | None) -> list[str]:
    published = []
    if destination.bucket:
        client = s3.get_client()
        for name, content_type in PUBLISHED_FILES.items():
            key = f"{destination.prefix}{name}"
            client.upload_file(str(generated / name), destination.bucket, key, ExtraArgs={"ContentType": content_type})
            published.append(f"s3://{destination.bucket}/{key}")
    else:
        destination.local_dir.mkdir(parents=True, exist_ok=True)
        for name in PUBLISHED_FILES:
            target = destination.local_dir / name
            # Write then rename, so a web server never serves a half-written file.
            partial = target.with_suffix(target.suffix + ".partial")
            partial.write_bytes((generated / name).read_bytes())
            partial.replace(target)
            published.append(str(target))
    return published


@dg.asset(
    key=DOCS_ASSET_KEY,
    group_name=DOCS_GROUP,
    kinds={"dbt"},
    pool=WAREHOUSE_POOL,
    description="The dbt docs site (models, columns, lineage, catalog), generated and published.",
)
def dbt_docs_site(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, s3: S3Resource, dbt_docs: DbtDocsSite
) -> dg.MaterializeResult:
    destination = dbt_docs.destination()
    with tempfile.TemporaryDirectory(prefix="dbt-docs-") as target:
        # A target path of its own: no clash with a concurrent dbt run's target/.
        dbt.cli(["docs", "generate", "--static"], target_path=Path(target), raise_on_error=True).wait()
        published = publish(Path(target), destination, s3)
    context.log.info(f"dbt docs published to {destination.uri}")
    return dg.MaterializeResult(
        metadata={
            "destination": destination.uri,
            "files": dg.MetadataValue.json(published),
            "serve": "python -m http.server 8080 --directory " + str(destination.local_dir)
            if destination.local_dir
            else f"static site at {destination.uri}static_index.html",
        }
    )
