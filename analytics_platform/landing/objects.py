"""Listing the landing bucket: all of a prefix (ingestion), or a bounded slice of it (the sensor)."""

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
            yield _landing_object(bucket, item)


LIST_PAGE_SIZE = 1_000  # the most S3 returns per request


@dataclass(frozen=True)
class ListedSlice:
    """At most a few listing pages of a prefix, in key order."""

    objects: list[LandingObject]
    last_key: str | None
    """The last key S3 returned (placeholders included): where the next slice starts."""
    complete: bool
    """Whether the listing reached the end of the prefix."""


def list_landing_slice(
    s3_client, bucket: str, prefix: str, start_after: str | None = None, max_pages: int = 1
) -> ListedSlice:
    """The objects under `prefix` whose key sorts after `start_after`, at most `max_pages`
    listing requests of them: a caller that must stay fast lists the rest next time."""
    objects: list[LandingObject] = []
    last_key = None
    options = {"StartAfter": start_after} if start_after else {}
    for _ in range(max_pages):
        page = s3_client.list_objects_v2(
            Bucket=bucket, Prefix=prefix, MaxKeys=LIST_PAGE_SIZE, **options
        )
        for item in page.get("Contents", ()):
            last_key = item["Key"]
            if item["Key"].endswith("/"):
                continue  # "folder" placeholder objects made by some S3 consoles
            objects.append(_landing_object(bucket, item))
        if not page.get("IsTruncated"):
            return ListedSlice(objects, last_key, complete=True)
        options = {"ContinuationToken": page["NextContinuationToken"]}
    return ListedSlice(objects, last_key, complete=False)


def _landing_object(bucket: str, item: dict) -> LandingObject:
    return LandingObject(
        bucket=bucket,
        key=item["Key"],
        etag=item["ETag"].strip('"'),
        size=item["Size"],
        last_modified=item["LastModified"],
    )
