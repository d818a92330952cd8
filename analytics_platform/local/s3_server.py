"""The local S3 API (moto server) that stands in for Amazon S3 on one machine. Loopback only."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlparse

from moto.server import ThreadedMotoServer

LOOPBACK = "127.0.0.1"


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
