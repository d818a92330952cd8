"""Downloading the listed version of a landed object, engine-independent.

An object is downloaded by the ETag it was listed with (`IfMatch`), so what is loaded is exactly
what the ledger records: an object overwritten since the listing fails the precondition (412)
and is left for the next run, which lists and loads the new version. S3 answers that concern one
object (deleted since the listing, access denied, changed) defer that file to a later run; they
never fail the run. Anything else (endpoint unreachable, 5xx after botocore's retries) raises.
"""

from __future__ import annotations

import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from botocore.exceptions import ClientError

from analytics_platform.lib.datasets import Dataset
from analytics_platform.lib.objects import LandingObject
from analytics_platform.lib.warehouses.files import LocalFile, file_format_of, inspect

# S3 error codes (GetObject's, and HeadObject's bare HTTP statuses) that concern one object.
VANISHED = frozenset({"NoSuchKey", "404", "NotFound"})
FORBIDDEN = frozenset({"AccessDenied", "403", "Forbidden", "InvalidObjectState"})
CHANGED = frozenset({"PreconditionFailed", "412"})
CHUNK_BYTES = 1 << 20


def unavailable_reason(error: ClientError) -> str | None:
    """Why S3 would not give this one object, or None when the error is not about the object."""
    code = str(error.response.get("Error", {}).get("Code", ""))
    if code in VANISHED:
        return "vanished: deleted since it was listed; it is retried while it is listed"
    if code in FORBIDDEN:
        return (
            f"unreadable: S3 denied access ({code}); grant the loader s3:GetObject on the key "
            "(or restore an archived object): it is retried on every run until it loads"
        )
    if code in CHANGED:
        return "changed since it was listed (ETag mismatch): the next run loads the new version"
    return None


def start_fetches(
    pool: ThreadPoolExecutor, dataset: Dataset, s3_client, batch: list[LandingObject], folder: Path
) -> dict[LandingObject, Future]:
    fetches = {}
    for landing_object in batch:
        file_format, compressed = file_format_of(dataset, landing_object)
        if file_format is None:
            continue  # quarantined as unsupported, never downloaded
        suffix = f".{file_format}" + (".gz" if compressed else "")
        local_file = LocalFile(
            landing_object, folder / f"{uuid.uuid4().hex}{suffix}", file_format,
            dataset.file_format, compressed,
        )
        fetches[landing_object] = pool.submit(fetch, dataset, s3_client, local_file)
    return fetches


def fetch(dataset: Dataset, s3_client, local_file: LocalFile) -> LocalFile:
    """Download the listed version of the object and read its columns (in a download thread)."""
    landing_object = local_file.landing_object
    try:
        # One streamed GET (s3transfer's download_fileobj takes no IfMatch): the precondition
        # holds for the whole body, so the bytes are those of the listed ETag.
        response = s3_client.get_object(
            Bucket=landing_object.bucket, Key=landing_object.key, IfMatch=f'"{landing_object.etag}"'
        )
        body = response["Body"]
        try:
            with local_file.path.open("wb") as handle:
                for chunk in body.iter_chunks(CHUNK_BYTES):
                    handle.write(chunk)
        finally:
            body.close()
    except ClientError as error:
        reason = unavailable_reason(error)
        if reason is None:
            raise
        return replace(local_file, unavailable=reason)
    return inspect(dataset, local_file)
