"""S3 event notifications delivered to an SQS queue: setting them up, reading and deleting them.

S3 sends one message per created object (at least once: duplicates happen, and order is not
guaranteed), plus one `s3:TestEvent` when the notification is configured. Object keys in a
message are URL-encoded the way HTML forms are (`landing%2Fa+b.csv` is `landing/a b.csv`). A
message may also arrive wrapped in an SNS envelope (bucket -> SNS topic -> queue fan-out).

This module only turns messages into `LandingObject`s; what to do with them (announce, skip,
delete) is the sensor's decision (`defs/landing/sqs_sensor.py`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import unquote_plus

from analytics_platform.lib.objects import LandingObject

RECEIVE_BATCH = 10  # the most one ReceiveMessage / DeleteMessageBatch call takes
OBJECT_CREATED_EVENTS = ["s3:ObjectCreated:*"]


@dataclass(frozen=True)
class QueueMessage:
    message_id: str
    receipt_handle: str
    objects: tuple[LandingObject, ...]
    """The created objects the message reports (usually one)."""
    ignored: tuple[str, ...] = field(default_factory=tuple)
    """Why parts of the message report nothing to load: a test event, another event type, another
    bucket, a body that is not an S3 event."""


def parse_message(message: dict, bucket: str) -> QueueMessage:
    """The created objects of `bucket` one SQS message reports."""
    objects: list[LandingObject] = []
    ignored: list[str] = []
    try:
        body = json.loads(message["Body"])
        if isinstance(body, dict) and body.get("Type") == "Notification" and "Message" in body:
            body = json.loads(body["Message"])  # the SNS envelope
    except (TypeError, ValueError):
        body = None
    if not isinstance(body, dict):
        ignored.append(f"not an S3 event notification: {message.get('Body', '')[:200]!r}")
    elif body.get("Event") == "s3:TestEvent":
        ignored.append(f"s3:TestEvent for bucket {body.get('Bucket')}")
    else:
        for record in body.get("Records") or []:
            reason = _ignored_record(record, bucket)
            if reason:
                ignored.append(reason)
                continue
            s3_object = record["s3"]["object"]
            objects.append(
                LandingObject(
                    bucket=bucket,
                    key=unquote_plus(s3_object["key"]),
                    etag=str(s3_object.get("eTag", "")).strip('"'),
                    size=int(s3_object.get("size", 0)),
                    last_modified=datetime.fromisoformat(record["eventTime"].replace("Z", "+00:00")),
                )
            )
        if not body.get("Records"):
            ignored.append(f"no Records in message: {message['Body'][:200]!r}")
    return QueueMessage(
        message_id=message["MessageId"],
        receipt_handle=message["ReceiptHandle"],
        objects=tuple(objects),
        ignored=tuple(ignored),
    )


def _ignored_record(record: dict, bucket: str) -> str | None:
    event = record.get("eventName", "")
    if not event.startswith("ObjectCreated:"):
        return f"event {event or '?'} is not ObjectCreated"
    record_bucket = record.get("s3", {}).get("bucket", {}).get("name")
    if record_bucket != bucket:
        return f"event for bucket {record_bucket}, not {bucket}"
    if "key" not in record["s3"].get("object", {}) or "eventTime" not in record:
        return f"ObjectCreated record without key or eventTime: {json.dumps(record)[:200]}"
    return None


def receive_messages(
    sqs_client,
    queue_url: str,
    bucket: str,
    max_messages: int,
    visibility_timeout: int,
    wait_seconds: int,
) -> Iterator[QueueMessage]:
    """Messages until the queue has no visible one left or `max_messages` were received: a
    ReceiveMessage call per (up to) 10 messages, plus the call that finds the queue empty. Each
    message is invisible to other receivers for `visibility_timeout` seconds, then comes back
    unless deleted; if one comes back while this drains (a visibility shorter than the drain),
    the queue has been gone round and draining stops. Only the first call long-polls
    (`wait_seconds`): the queue is drained, not watched."""
    seen: set[str] = set()
    wait = wait_seconds
    while len(seen) < max_messages:
        response = sqs_client.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=min(RECEIVE_BATCH, max_messages - len(seen)),
            VisibilityTimeout=visibility_timeout,
            WaitTimeSeconds=wait,
        )
        messages = [m for m in response.get("Messages") or [] if m["MessageId"] not in seen]
        if not messages:
            return
        wait = 0
        for message in messages:
            seen.add(message["MessageId"])
            yield parse_message(message, bucket)


def delete_messages(sqs_client, queue_url: str, messages: Iterable[QueueMessage]) -> list[str]:
    """Delete the messages, 10 per call; the ids of those SQS refused (e.g. an expired receipt
    handle: the message is visible again and will be received, and deleted, later)."""
    pending = list(messages)
    failed: list[str] = []
    for start in range(0, len(pending), RECEIVE_BATCH):
        batch = pending[start : start + RECEIVE_BATCH]
        response = sqs_client.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[
                {"Id": str(index), "ReceiptHandle": message.receipt_handle}
                for index, message in enumerate(batch)
            ],
        )
        failed += [batch[int(entry["Id"])].message_id for entry in response.get("Failed") or []]
    return failed


def configure_bucket_notifications(
    s3_client, sqs_client, bucket: str, prefix: str, queue_name: str
) -> str:
    """Create the queue (if missing), let S3 send to it, and have the bucket send every
    `ObjectCreated` event under `prefix` there; the queue URL. What a deployment does once, in
    its infrastructure code (Terraform, CloudFormation), the same three calls; here for the local
    S3 server, which delivers the notifications as S3 does.

    Replaces the bucket's notification configuration: on a bucket that has others, merge by hand.
    """
    queue_url = sqs_client.create_queue(QueueName=queue_name)["QueueUrl"]
    queue_arn = sqs_client.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "s3.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnLike": {"aws:SourceArn": f"arn:aws:s3:::{bucket}"}},
            }
        ],
    }
    sqs_client.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": json.dumps(policy)})
    s3_client.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "Id": "analytics-landing-files",
                    "QueueArn": queue_arn,
                    "Events": OBJECT_CREATED_EVENTS,
                    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": prefix}]}},
                }
            ]
        },
    )
    return queue_url
