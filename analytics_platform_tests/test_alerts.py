"""Alerts: a real failed run and a real failing blocking check, on a real instance, evaluated by
the real run-failure sensor, post JSON to a webhook server on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dagster as dg
import pytest

from analytics_platform.defs.quality.alerts import (
    SENSOR_NAME,
    alert_sensors,
    build_run_failure_alert_sensor,
)
from analytics_platform.lib.notifiers import WebhookNotifier
from analytics_platform.settings import load_settings

BAD_FEED = "orders feed: 3 rows without order_id"


class Webhook:
    """An HTTP server on 127.0.0.1 that records each POSTed JSON body; it answers the first
    `failures` requests with 503."""

    def __init__(self, failures: int = 0):
        self.posts: list[dict] = []
        self.failures = failures
        webhook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if webhook.failures:
                    webhook.failures -= 1
                    self.send_response(503)
                else:
                    webhook.posts.append(json.loads(body))
                    self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alerts"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    server = Webhook(failures=1)  # the notifier retries a 503
    yield server
    server.close()


@dg.asset(key=["raw", "shop", "orders"])
def raw_orders():
    raise ValueError(BAD_FEED)


@dg.asset(check_specs=[dg.AssetCheckSpec("amounts_are_positive", asset="order_totals", blocking=True)])
def order_totals():
    yield dg.Output(None)
    yield dg.AssetCheckResult(
        check_name="amounts_are_positive",
        passed=False,
        severity=dg.AssetCheckSeverity.ERROR,
        description="2 orders with a negative amount",
    )


@dg.asset(deps=[order_totals])
def daily_revenue():
    pass


ingest_job = dg.define_asset_job("ingest_orders", selection=[raw_orders])
totals_job = dg.define_asset_job("build_totals", selection=[order_totals, daily_revenue])


def test_a_failed_run_and_a_failing_blocking_check_are_posted_to_the_webhook(webhook):
    sensor = build_run_failure_alert_sensor(WebhookNotifier(webhook.url))
    definitions = dg.Definitions(
        assets=[raw_orders, order_totals, daily_revenue], jobs=[ingest_job, totals_job], sensors=[sensor]
    )
    with dg.instance_for_test() as instance:
        cursor = None

        def tick():
            nonlocal cursor
            context = dg.build_sensor_context(instance=instance, cursor=cursor, definitions=definitions)
            result = sensor.evaluate_tick(context)
            cursor = result.cursor
            return result

        tick()  # a run-status sensor starts from the newest event: runs before it are not its
        failed = definitions.resolve_job_def("ingest_orders").execute_in_process(
            instance=instance, raise_on_error=False
        )
        blocked = definitions.resolve_job_def("build_totals").execute_in_process(
            instance=instance, raise_on_error=False
        )
        assert not failed.success and not blocked.success
        # The blocking check stopped the downstream asset.
        assert instance.get_latest_materialization_event(dg.AssetKey("daily_revenue")) is None

        tick()
        tick()
        assert tick().dagster_run_reactions == []  # each run alerted once
        assert len(webhook.posts) == 2
        assert webhook.failures == 0  # the first POST got a 503 and was retried
        by_run = {post["run_id"]: post for post in webhook.posts}

        run_failure = by_run[failed.run_id]
        assert run_failure["kind"] == "run_failure"
        assert run_failure["job_name"] == "ingest_orders"
        assert run_failure["assets"] == ["raw/shop/orders"]
        assert BAD_FEED in run_failure["error"]
        assert run_failure["failed_steps"][0]["step"] == "raw__shop__orders"
        assert BAD_FEED in run_failure["text"] and "ingest_orders" in run_failure["text"]

        check_failure = by_run[blocked.run_id]
        assert check_failure["kind"] == "blocking_check_failure"
        assert check_failure["job_name"] == "build_totals"
        assert check_failure["assets"] == ["order_totals"]
        assert check_failure["failed_checks"] == [
            {
                "asset": "order_totals",
                "check": "amounts_are_positive",
                "severity": "ERROR",
                "description": "2 orders with a negative amount",
                "step": "order_totals",
            }
        ]
        assert "blocking asset check failed" in check_failure["error"]
        assert "order_totals:amounts_are_positive" in check_failure["text"]


def test_the_alert_sensor_exists_only_with_a_webhook_url():
    assert alert_sensors(load_settings({})) == []
    [sensor] = alert_sensors(load_settings({"ANALYTICS_ALERT_WEBHOOK_URL": "http://127.0.0.1:9/x"}))
    assert sensor.name == SENSOR_NAME
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
