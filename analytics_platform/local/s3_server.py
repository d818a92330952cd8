"""The local S3 API (moto server) that stands in for Amazon S3 on one machine. Loopback only."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlparse

import boto3
from moto.server import ThreadedMotoServer

from analytics_platform.lib.s3_events import configure_bucket_notifications

LOOPBACK = "127.0.0.1"
LANDING_QUEUE_NAME = "analytics-landing-events"


def _is_listening(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, port)) == 0


@contextmanager
def local_s3_server(endpoint_url: str) -> Iterator[str]:
    """Serve S3 at `endpoint_url` (a loopback URL) for the duration; reuse a server already there.

    Port 0 picks a free port; the endpoint actually served is yielded.
    """
    parsed = urlparse(endpoint_url)
    if parsed.hostname not in {LOOPBACK, "localhost"}:
        raise ValueError(f"the local S3 server binds {LOOPBACK} only; got endpoint {endpoint_url}")
    port = parsed.port or 0
    if port and _is_listening(LOOPBACK, port):
        yield f"http://{LOOPBACK}:{port}"
        return
    server = ThreadedMotoServer(ip_address=LOOPBACK, port=port, verbose=False)
    server.start()
    try:
        host, bound_port = server.get_host_and_port()
        yield f"http://{host}:{bound_port}"
    finally:
        server.stop()


def configure_local_landing_queue(
    endpoint_url: str,
    bucket: str,
    prefix: str,
    region: str = "us-east-1",
    queue_name: str = LANDING_QUEUE_NAME,
) -> str:
    """On the local server (which serves SQS on the S3 endpoint): the queue, and the bucket's
    ObjectCreated notifications under `prefix` sent to it; the queue URL, to export as
    ANALYTICS_LANDING_QUEUE_URL (queue mode of the landing sensor). Creates the bucket if missing.
    The server keeps both in memory (per region: use the sensor's AWS_REGION): configure again
    after each start."""
    session = boto3.session.Session(
        aws_access_key_id="local", aws_secret_access_key="local", region_name=region
    )
    s3 = session.client("s3", endpoint_url=endpoint_url)
    sqs = session.client("sqs", endpoint_url=endpoint_url)
    if bucket not in {b["Name"] for b in s3.list_buckets().get("Buckets", [])}:
        s3.create_bucket(Bucket=bucket)
    return configure_bucket_notifications(s3, sqs, bucket, prefix, queue_name)
