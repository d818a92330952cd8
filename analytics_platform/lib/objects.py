"""Listing the landing bucket: all of a prefix (ingestion), or a bounded slice of it (the sensor)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath

from analytics_platform.lib.datasets import SUPPORTED_FORMATS


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
    for page in _listing_pages(s3_client, bucket, prefix, start_after):
        yield from _page_objects(bucket, page)


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
    pages = _listing_pages(s3_client, bucket, prefix, start_after)
    for page in itertools.islice(pages, max_pages):
        objects += _page_objects(bucket, page)
        if page.get("Contents"):
            last_key = page["Contents"][-1]["Key"]
        if not page.get("IsTruncated"):
            return ListedSlice(objects, last_key, complete=True)
    return ListedSlice(objects, last_key, complete=False)


def _listing_pages(s3_client, bucket: str, prefix: str, start_after: str | None) -> Iterator[dict]:
    """ListObjectsV2 responses, one request per page, fetched as they are consumed."""
    options = {"StartAfter": start_after} if start_after else {}
    while True:
        page = s3_client.list_objects_v2(
            Bucket=bucket, Prefix=prefix, MaxKeys=LIST_PAGE_SIZE, **options
        )
        yield page
        if not page.get("IsTruncated"):
            return
        options = {"ContinuationToken": page["NextContinuationToken"]}


def _page_objects(bucket: str, page: dict) -> list[LandingObject]:
    return [
        _landing_object(bucket, item)
        for item in page.get("Contents", ())
        if not item["Key"].endswith("/")  # "folder" placeholder objects made by some S3 consoles
    ]


def _landing_object(bucket: str, item: dict) -> LandingObject:
    return LandingObject(
        bucket=bucket,
        key=item["Key"],
        etag=item["ETag"].strip('"'),
        size=item["Size"],
        last_modified=item["LastModified"],
    )
