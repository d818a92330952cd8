"""Where alerts go: a small `Notifier` protocol, and a webhook that posts each alert as JSON.

Another channel (email, PagerDuty, an SNS topic) is one class with a `notify(alert)` method;
`defs/quality/alerts.py` decides when to alert and never knows the channel.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Alert:
    """One incident, e.g. a failed run, with what a person needs to act on it."""

    kind: str
    """`run_failure`, or `blocking_check_failure` when failing blocking checks failed the run."""
    summary: str
    """One line, e.g. for a chat message."""
    run_id: str
    job_name: str
    assets: list[str] = field(default_factory=list)
    """The assets of the failed steps (user strings, e.g. raw/ecommerce/orders)."""
    error: str = ""
    """The failed steps' errors (or the run's, when no step failed)."""
    failed_steps: list[dict] = field(default_factory=list)
    """step, assets, error of each failed step."""
    failed_checks: list[dict] = field(default_factory=list)
    """asset, check, severity, description of each failing blocking check of the run."""
    tags: dict[str, str] = field(default_factory=dict)
    """The run's tags that say why it ran (the sensor, the schedule, the datasets)."""

    def as_json(self) -> dict:
        # `text` is what chat webhooks (Slack, Mattermost, Teams) display; the rest is for machines.
        return {"text": self.summary, **asdict(self)}


class Notifier(Protocol):
    def notify(self, alert: Alert) -> None:
        """Deliver the alert, or raise: the caller retries what was not delivered."""


@dataclass(frozen=True)
class WebhookNotifier:
    """POSTs `alert.as_json()` to `url`, trying `attempts` times (1 s, 2 s, ... apart) while it
    gets no answer or a 5xx; then, or at once on a 4xx, raises."""

    url: str
    timeout_seconds: float = 10.0
    attempts: int = 3

    def notify(self, alert: Alert) -> None:
        body = json.dumps(alert.as_json()).encode()
        for attempt in range(1, self.attempts + 1):
            request = urllib.request.Request(
                self.url,
                data=body,
                headers={"Content-Type": "application/json", "User-Agent": "analytics-platform"},
                method="POST",
            )
            try:
                # urlopen raises HTTPError for a 4xx/5xx answer, URLError when nothing answers.
                with urllib.request.urlopen(request, timeout=self.timeout_seconds) as response:
                    response.read()
                return
            except urllib.error.HTTPError as error:
                if error.code < 500 or attempt == self.attempts:
                    raise
            except (urllib.error.URLError, TimeoutError):
                if attempt == self.attempts:
                    raise
            time.sleep(attempt)
