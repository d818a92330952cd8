"""Alerts: a failed run, or a failing blocking check, is posted to a notifier (lib/notifiers.py).

One run-failure sensor covers both. A blocking check that fails with ERROR severity fails its
step (Dagster raises `DagsterAssetCheckFailedError` after the step, dagster/_core/execution/plan/
execute_step.py) and so its run; dbt tests run by `dbt build` fail the dbt step too. So every
failing blocking check is part of a failed run, and the run's alert lists the checks: one incident,
one message, `kind: blocking_check_failure`. (Non-blocking and WARN checks do not alert: they are
for the UI.)

Configured by ANALYTICS_ALERT_WEBHOOK_URL (a URL that takes a JSON POST: a chat incoming webhook
displays the `text` field). Unset: the sensor is not defined at all, rather than defined and
doing nothing, so the sensor list shows whether alerting is on. When set, the sensor is running
by default, in every environment.

Delivery: the webhook is tried three times; if it still fails, the sensor tick fails (visible on
the sensor's page) and that run is not alerted again: Dagster advances a run-status sensor's
cursor even when it fails, so one broken webhook cannot stall alerts for the runs after.
"""

from __future__ import annotations

from collections.abc import Sequence

import dagster as dg

from analytics_platform.lib.notifiers import Alert, Notifier, WebhookNotifier
from analytics_platform.settings import Settings

SENSOR_NAME = "alert_on_run_failure"
MAX_ERROR_CHARS = 2_000
WHY_IT_RAN_TAGS = ("dagster/sensor_name", "dagster/schedule_name", "dagster/partition")


def alert_sensors(settings: Settings) -> list[dg.SensorDefinition]:
    """The alert sensors the settings call for (none without a webhook URL)."""
    if not settings.alert_webhook_url:
        return []
    return [build_run_failure_alert_sensor(WebhookNotifier(settings.alert_webhook_url))]


def build_run_failure_alert_sensor(
    notifier: Notifier, default_status: dg.DefaultSensorStatus = dg.DefaultSensorStatus.RUNNING
) -> dg.SensorDefinition:
    @dg.run_failure_sensor(
        name=SENSOR_NAME,
        description=(
            "Posts every failed run of this code location, with its failed steps, their assets and "
            "errors, and its failing blocking checks, to the configured notifier."
        ),
        default_status=default_status,
    )
    def alert_on_run_failure(context: dg.RunFailureSensorContext):
        alert = failed_run_alert(
            context.instance, context.dagster_run, context.failure_event, context.get_step_failure_events()
        )
        notifier.notify(alert)
        context.log.info(f"alert sent for run {alert.run_id}: {alert.summary}")

    return alert_on_run_failure


def failed_run_alert(
    instance: dg.DagsterInstance,
    run: dg.DagsterRun,
    failure_event: dg.DagsterEvent,
    step_failures: Sequence[dg.DagsterEvent],
) -> Alert:
    assets_by_step = _assets_by_step(instance, run)
    failed_steps = [
        {
            "step": event.step_key,
            "assets": assets_by_step.get(event.step_key or "", []),
            "error": _error_text(event.step_failure_data.error),
        }
        for event in step_failures
    ]
    failed_checks = _failing_blocking_checks(instance, run.run_id)
    error = "\n".join(f"{s['step']}: {s['error']}" for s in failed_steps) or (
        failure_event.message or "run failed"
    )
    assets = sorted({a for s in failed_steps for a in s["assets"]} | {c["asset"] for c in failed_checks})
    where = f"{run.job_name} (run {run.run_id[:8]})"
    if failed_checks:
        names = ", ".join(f"{c['asset']}:{c['check']}" for c in failed_checks)
        summary = f"{where}: blocking check{'s' if len(failed_checks) > 1 else ''} failed: {names}"
    else:
        # The innermost cause is the user's exception; the outer ones are Dagster's wrappers.
        first_error = failed_steps[0]["error"] if failed_steps else error
        cause = first_error.rsplit("caused by: ", 1)[-1].strip() or "run failed"
        step = f" in {failed_steps[0]['step']}" if failed_steps else ""
        summary = f"{where} failed{step}: {cause.splitlines()[0]}"
    return Alert(
        kind="blocking_check_failure" if failed_checks else "run_failure",
        summary=summary[:500],
        run_id=run.run_id,
        job_name=run.job_name,
        assets=assets,
        error=error[:MAX_ERROR_CHARS],
        failed_steps=failed_steps,
        failed_checks=failed_checks,
        tags={
            name: value
            for name, value in run.tags.items()
            if name.startswith("analytics/") or name in WHY_IT_RAN_TAGS
        },
    )


def _assets_by_step(instance: dg.DagsterInstance, run: dg.DagsterRun) -> dict[str, list[str]]:
    """Step key -> the assets (and asset checks' assets) its outputs materialize, from the run's
    execution plan snapshot: no code location needed."""
    snapshot_id = run.execution_plan_snapshot_id
    snapshot = instance.get_execution_plan_snapshot(snapshot_id) if snapshot_id else None
    assets: dict[str, list[str]] = {}
    for step in snapshot.steps if snapshot else []:
        keys = set()
        for output in step.outputs:
            properties = output.properties
            if properties and properties.asset_key:
                keys.add(properties.asset_key.to_user_string())
            elif properties and properties.asset_check_key:
                keys.add(properties.asset_check_key.asset_key.to_user_string())
        assets[step.key] = sorted(keys)
    return assets


def _failing_blocking_checks(instance: dg.DagsterInstance, run_id: str) -> list[dict]:
    """The run's asset check evaluations that failed with ERROR severity and block downstream."""
    failing = []
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION):
        evaluation = entry.dagster_event.asset_check_evaluation_data
        if evaluation.passed or evaluation.severity != dg.AssetCheckSeverity.ERROR:
            continue
        if not evaluation.blocking:
            continue
        failing.append(
            {
                "asset": evaluation.asset_key.to_user_string(),
                "check": evaluation.check_name,
                "severity": evaluation.severity.value,
                "description": evaluation.description or "",
                "step": entry.step_key,
            }
        )
    return failing


def _error_text(error) -> str:
    """The error and its causes, messages only: the stack traces are on the run's page."""
    messages = []
    while error is not None and len(messages) < 5:
        messages.append(error.message.strip())
        error = error.cause
    return "\ncaused by: ".join(messages)[:MAX_ERROR_CHARS]
