"""Listing the landing bucket."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath

from analytics_platform.landing.datasets import SUPPORTED_FORMATS


@dataclass(frozen=True)
class LandingObject:
    bucket: str
    key: str
    etag: str
    size: int
    last_modified: datetime

    @property
    def file_format(self) -> str | None:
        return SUPPORTED_FORMATS.get(PurePosixPath(self.key).suffix.lower())

    @property
    def identity(self) -> tuple[str, str]:
        """A file is one version of one key: re-uploading a key with new content is a new file."""
        return (self.key, self.etag)


def list_landing_objects(
    s3_client, bucket: str, prefix: str, start_after: str | None = None
) -> Iterator[LandingObject]:
    """Every object under `prefix` (whose key sorts after `start_after`, if given), across
    listing pages (S3 returns at most 1,000 keys per page, in key order)."""
    paginator = s3_client.get_paginator("list_objects_v2")
    options = {"StartAfter": start_after} if start_after else {}
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix, **options):
        for item in page.get("Contents", ()):
            if item["Key"].endswith("/"):
                continue  # "folder" placeholder objects made by some S3 consoles
            yield LandingObject(
                bucket=bucket,
                key=item["Key"],
                etag=item["ETag"].strip('"'),
                size=item["Size"],
                last_modified=item["LastModified"],
            )
