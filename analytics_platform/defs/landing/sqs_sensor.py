"""The landing sensor in queue mode: it learns of new files from the bucket's S3 event
notifications in an SQS queue, so a tick costs O(new files) whatever the bucket holds; every
`RECONCILE_EVERY_TICKS`-th tick also takes one listing step (sensor.py), which finds what the
queue never delivered.

Selected by ANALYTICS_LANDING_QUEUE_URL; same name, target job and run requests as the listing
sensor (defs/landing/sensor.py), and it reads that sensor's cursor, so switching mode keeps state.

Exactly once stays where it was: the sensor only decides *when* to run, the warehouse ledger what
to load. The queue is one more way to learn keys, deduplicated with the listing through the same
cursor (a digest of key and ETag per announced file, `lib/cursor.py`):

- a notified file is announced once, whatever the number and order of its messages (S3 delivers
  at least once, unordered): a duplicate or a late message of an announced file is a no-op, an
  overwrite is a new file (new ETag), and the run loads what the folder holds at run time;
- a message is deleted only once the cursor of an *earlier, committed* tick remembers its file.
  Dagster stores a tick's cursor together with its run requests, which it then submits even
  across a daemon restart (dagster/_daemon/sensor.py), so the run request covering the message
  exists. Until then the message stays in the queue, invisible for `VISIBILITY_TIMEOUT`;
  received again by a later tick, it is deleted then. A tick that fails before committing leaves
  its messages to come back and be announced again. So messages are received twice; nothing
  depends on a receipt handle staying valid, and the cursor holds no handles;
- test events, other event types and other buckets report no file: deleted at once. A key
  outside the landing prefix (the notification's prefix filter should keep them out) or of no
  declared dataset is announced like a listed one: warned about, loaded by nothing, and its
  message deleted by a later tick;
- a lost message (retention expired, a notification misconfigured, a message moved to a
  dead-letter queue) is found by the reconciling listing: within `RECONCILE_EVERY_TICKS` ticks
  for a key after its folder's greatest key, within a sweep cycle of reconciling ticks for a late
  key in an old folder. Any run of the dataset loads it too: ingestion lists the dataset folder
  against the ledger.

Queue settings: a redrive policy, if any, needs `maxReceiveCount` >= 5 (each message is
received at least twice); retention beyond the longest sensor downtime you want replayed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import boto3
import dagster as dg
from dagster_aws.s3 import S3Resource

from analytics_platform.defs.landing.resources import LandingZone, build_s3_resource
from analytics_platform.defs.landing.sensor import (
    cached_s3_client,
    landing_run_requests,
    landing_target_job,
    list_new_files,
)
from analytics_platform.lib.cursor import LandingCursor, file_digest
from analytics_platform.lib.datasets import Dataset
from analytics_platform.lib.objects import LandingObject
from analytics_platform.lib.s3_events import delete_messages, receive_messages
from analytics_platform.settings import Settings

RECONCILE_EVERY_TICKS = 20
"""About every 10 minutes at the 30-second interval: a reconciling tick costs what a listing
tick does (one request per dataset folder plus one sweep page), the others none."""
MAX_MESSAGES_PER_TICK = 1_000  # 100 ReceiveMessage calls: a tick stays well under its 60 s
VISIBILITY_TIMEOUT = 60
"""Seconds a received message stays hidden: past the next tick, so it is deleted by the one
after (see the module docstring)."""
RECEIVE_WAIT_SECONDS = 1  # long-poll the first receive: short polls may miss messages
CURSOR_PREFIX = "q1:"
"""Queue-mode cursors: `q1:<ticks since the last reconcile>:<listing cursor>`."""


class LandingQueue(dg.ConfigurableResource):
    """The SQS queue the bucket's ObjectCreated notifications go to (ANALYTICS_LANDING_QUEUE_URL),
    and the bucket's S3 resource, for the reconciling listings: its region and credentials reach
    SQS too.

    The sensor takes this one resource, not `s3` as well: Dagster initializes a sensor's S3Resource
    on every tick by building a boto3 client (`get_object_to_set_on_execution_context`), ~0.14 s
    of a tick that would not use it; nested here, it is only configuration."""

    queue_url: str
    s3: S3Resource
    sqs_endpoint_url: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> LandingQueue:
        return cls(
            queue_url=settings.landing_queue_url or "",
            s3=build_s3_resource(settings),
            # Locally the moto server serves SQS on the S3 endpoint.
            sqs_endpoint_url=settings.s3_endpoint_url if settings.uses_loopback_s3 else None,
        )

    def get_client(self):
        return _sqs_client(self)


_SQS_CLIENTS: dict[str, object] = {}


def _sqs_client(queue: LandingQueue):
    """One boto3 client per configuration, reused across ticks (as the S3 client, sensor.py)."""
    configuration = queue.model_dump_json()
    if configuration not in _SQS_CLIENTS:
        s3 = queue.s3
        _SQS_CLIENTS[configuration] = boto3.session.Session(
            aws_access_key_id=s3.aws_access_key_id,
            aws_secret_access_key=s3.aws_secret_access_key,
            aws_session_token=s3.aws_session_token,
            region_name=s3.region_name,
            profile_name=s3.profile_name,
        ).client("sqs", endpoint_url=queue.sqs_endpoint_url)
    return _SQS_CLIENTS[configuration]


@dataclasses.dataclass(frozen=True)
class QueueCursor:
    listing: LandingCursor
    ticks_since_reconcile: int | None = None
    """None: reconcile on the next tick (a fresh cursor, or one of the listing sensor)."""

    @classmethod
    def parse(cls, text: str | None) -> QueueCursor:
        if text and text.startswith(CURSOR_PREFIX):
            ticks, listing = text[len(CURSOR_PREFIX):].split(":", 1)
            return cls(LandingCursor.parse(listing), int(ticks))
        return cls(LandingCursor.parse(text))

    def serialize(self) -> str:
        return f"{CURSOR_PREFIX}{self.ticks_since_reconcile or 0}:{self.listing.serialize()}"


def remember_notified(
    cursor: LandingCursor, notified: Sequence[LandingObject]
) -> tuple[list[LandingObject], LandingCursor]:
    """The notified files the cursor has not announced, and the cursor that remembers them (at
    their event time, so they are kept as long as listed files of the same age)."""
    remembered = dict(cursor.remembered)
    new = []
    for landing_object in notified:
        digest = file_digest(landing_object)
        if digest not in remembered:
            remembered[digest] = landing_object.last_modified.timestamp()
            new.append(landing_object)
    return new, dataclasses.replace(cursor, remembered=remembered)


def build_queue_landing_sensor(
    datasets: Sequence[Dataset],
    default_status: dg.DefaultSensorStatus,
    reconcile_every_ticks: int = RECONCILE_EVERY_TICKS,
    visibility_timeout: int = VISIBILITY_TIMEOUT,
    receive_wait_seconds: int = RECEIVE_WAIT_SECONDS,
) -> dg.SensorDefinition:
    @dg.sensor(
        name="landing_files_sensor",
        description=(
            "Starts ingestion, and the dbt models downstream of it, when files land in S3: learns "
            "of them from the bucket's event notifications (SQS), and reconciles with a listing "
            f"step every {reconcile_every_ticks} ticks."
        ),
        target=landing_target_job(datasets),
        minimum_interval_seconds=30,
        default_status=default_status,
    )
    def landing_files_sensor(
        context: dg.SensorEvaluationContext, landing_zone: LandingZone, landing_queue: LandingQueue
    ):
        committed = QueueCursor.parse(context.cursor)
        sqs = landing_queue.get_client()
        notified: list[LandingObject] = []
        deletable = []
        for message in receive_messages(
            sqs,
            landing_queue.queue_url,
            landing_zone.bucket,
            MAX_MESSAGES_PER_TICK,
            visibility_timeout,
            receive_wait_seconds,
        ):
            for reason in message.ignored:
                context.log.debug(f"SQS message {message.message_id}: {reason}")
            # Covered by a committed tick's run request (or a message that reports no file).
            if all(file_digest(o) in committed.listing.remembered for o in message.objects):
                deletable.append(message)
            notified += message.objects

        new, listing = remember_notified(committed.listing, notified)
        ticks = committed.ticks_since_reconcile
        if ticks is None or ticks + 1 >= reconcile_every_ticks:
            listed, listing = list_new_files(
                listing, cached_s3_client(landing_queue.s3), landing_zone, datasets
            )
            new += listed
            ticks = 0
        else:
            ticks += 1

        yield from landing_run_requests(context, datasets, landing_zone, new)
        for message_id in delete_messages(sqs, landing_queue.queue_url, deletable):
            context.log.info(f"SQS message {message_id} not deleted (handle expired): next tick")
        context.update_cursor(QueueCursor(listing, ticks).serialize())

    return landing_files_sensor

