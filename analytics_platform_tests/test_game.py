"""The game domain: telemetry events landed as gzip NDJSON in hour folders, registered (not
copied) as an external dataset, read in place by DuckDB, and turned into player and economy
metrics by dbt. Every metric is recomputed in plain Python from the landed bytes (duplicates,
late events and unknown event types included) and compared with the warehouse; a late event
then lands and the next run rewrites the affected hour only."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from dataclasses import replace
from pathlib import Path

import duckdb
import pytest

from analytics_platform.lib.objects import list_landing_objects
from analytics_platform.lib.warehouses.duckdb import DuckDBLoader
from analytics_platform.local.sample_data import (
    GameSpec,
    SampleSpec,
    generate_landing_files,
    upload_landing_files,
)
from analytics_platform.local.sample_data.game import KNOWN_EVENT_TYPES, events_file, hour_folder

from .helpers import (
    GAME_METRICS_SQL,
    dataset_named,
    landed_game_events,
    make_settings,
    recomputed_game_metric,
    run_dbt,
    run_ingestion,
    unique_known_game_events,
)

SPEC = GameSpec(days=2, players=40, seed=11, include_malformed=True)
GAME_NODES = ["path:models/game", "snap_game_players"]


def events_dataset():
    return dataset_named("events", domain="game")


# --- the warehouse's metrics (recomputed from the landed files by helpers.recomputed_game_metric) ---


def query(settings, sql: str) -> list[tuple]:
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        return con.execute(sql).fetchall()


def warehouse_metric(settings, name: str) -> list[tuple]:
    return sorted(query(settings, GAME_METRICS_SQL[name]))


# --- the platform: land, ingest (register), build --------------------------------------------


@pytest.fixture(scope="module")
def game(tmp_path_factory, s3_endpoint, dbt_manifest):
    """The generated events landed in moto S3 -> the platform's ingestion assets (DuckDB loader:
    registration + mirror + view) -> `dbt build` of the game domain; then a second ingestion
    (nothing new) and a late event -> ingestion -> the next (incremental) build."""
    from analytics_platform.defs.landing.resources import build_s3_resource

    directory = tmp_path_factory.mktemp("game")
    settings = make_settings(directory, s3_endpoint)
    files = generate_landing_files(SampleSpec(start=SPEC.start), prefix=settings.landing_prefix,
                                   datasets=[events_dataset()], game=SPEC)
    target = directory / "target"
    with pytest.MonkeyPatch.context() as patch:
        for name, value in settings.to_environment().items():
            patch.setenv(name, value)
        client = build_s3_resource(settings).get_client()
        upload_landing_files(client, settings.landing_bucket, files)
        first = run_ingestion(settings)
        run_dbt(["build", "--select", *GAME_NODES], target_path=target, warehouse=settings.duckdb_path)
        before = {
            "metrics": {name: warehouse_metric(settings, name) for name in GAME_METRICS_SQL},
            "silver": set(query(settings, "SELECT event_id, event_hour, _dbt_run_at FROM silver.silver_game_events")),
        }
        second = run_ingestion(settings)
        # A late event: it happened in an early hour, it lands in a folder after every other one.
        late_hour = min(e["event_timestamp"] for _, e in landed_game_events(files)) // 3600 * 3600 + 3 * 3600
        source = next(e for _, e in landed_game_events(files) if e["event_type"] == "level_started")
        late_event = dict(source, event_id="late-0001", event_type="level_completed",
                          event_name="LevelCompleted", event_timestamp=late_hour + 120)
        last_folder_hour = max(dt.datetime.strptime(f.key.split("dt=")[1][:16], "%Y-%m-%d/hh=%H") for f in files)
        folder = hour_folder(settings.landing_prefix, int(last_folder_hour.replace(tzinfo=dt.timezone.utc).timestamp()) + 3600)
        late_file = events_file(f"{folder}late-device-upload.json.gz", [late_event])
        upload_landing_files(client, settings.landing_bucket, [late_file])
        run_ingestion(settings)
        # The next run (the tests ran in the first build already): the incremental fact and
        # everything built from it.
        run_dbt(["run", "--select", "silver_game_events+"], target_path=target, warehouse=settings.duckdb_path)
    return settings, files, first, second, before, (late_file, late_event, late_hour)


def test_the_landed_events_carry_the_dirt_the_models_must_handle(game):
    _, files, *_ = game
    lines = landed_game_events(files)
    ids = [event["event_id"] for _, event in lines]
    assert len(ids) > len(set(ids)), "no duplicate deliveries"
    late = [e for key, e in lines
            if key.split("dt=")[1][:16] != dt.datetime.fromtimestamp(e["event_timestamp"] // 3600 * 3600, dt.timezone.utc)
            .strftime("%Y-%m-%d/hh=%H")]
    assert late, "no event landed in a later hour's folder"
    assert {e["event_type"] for _, e in lines} - set(KNOWN_EVENT_TYPES), "no unknown event type"
    assert sum(f.malformed for f in files) == 1 and all(f.key.endswith(".json.gz") for f in files)
    # Deterministic, and the malformed file is extra: the good files are the same without it.
    again = generate_landing_files(SampleSpec(start=SPEC.start), datasets=[events_dataset()],
                                   game=replace(SPEC, include_malformed=False))
    assert [f.body for f in again] == [f.body for f in files if not f.malformed]


@pytest.mark.parametrize("metric", sorted(GAME_METRICS_SQL))
def test_metrics_equal_a_recomputation_from_the_landed_files(game, metric):
    settings, files, _, _, before, (late_file, _, _) = game
    assert before["metrics"][metric], metric
    assert before["metrics"][metric] == recomputed_game_metric(files, metric)
    # After the late event, recomputed over every landed file, the late one included.
    assert warehouse_metric(settings, metric) == recomputed_game_metric([*files, late_file], metric)


def test_events_are_registered_once_and_read_in_place(game):
    settings, files, first, second, *_ = game
    assert first.success and second.success
    good = [f for f in files if not f.malformed]
    ledger = query(settings, "SELECT s3_key, rows FROM raw._ingestion_ledger WHERE dataset = 'game.events' "
                             "AND superseded_at IS NULL AND s3_key NOT LIKE '%late-device-upload%' ORDER BY 1")
    assert ledger == sorted((f.key, len(gzip.decompress(f.body).splitlines())) for f in good)
    # Not copied: raw_game.events is a view over the mirrored files, which keep their folders.
    kinds = query(settings, "SELECT table_type FROM information_schema.tables "
                            "WHERE table_schema = 'raw_game' AND table_name = 'events'")
    assert kinds == [("VIEW",)]
    for f in good:
        relative = f.key.split("game/events/", 1)[1]
        mirrored = settings.lake_dir / "game" / "events" / relative
        assert mirrored.read_bytes() == f.body, relative
    lines = len(landed_game_events(files)) + 1  # + the late event
    assert query(settings, "SELECT count(*), count(DISTINCT _source_key), min(dt) FROM raw_game.events") == [
        (lines, len(good) + 1, SPEC.start.isoformat())
    ]
    # The second ingestion run found nothing new: no registration twice.
    assert query(settings, f"SELECT count(*) FROM raw._ingestion_ledger WHERE run_id = '{second.run_id}'") == [(0,)]


def test_a_file_with_a_malformed_line_is_quarantined_whole_with_a_reason(game):
    settings, files, *_ = game
    [bad] = [f.key for f in files if f.malformed]
    [(reason,)] = query(settings, f"SELECT reason FROM raw._ingestion_quarantine WHERE s3_key = '{bad}'")
    assert reason.startswith(f"s3://{settings.landing_bucket}/{bad}: unreadable json file") and "re-deliver" in reason
    bad_ids = {json.loads(line)["event_id"] for line in gzip.decompress(
        next(f.body for f in files if f.malformed)).decode().splitlines()[:-1]}
    assert query(settings, "SELECT count(*) FROM raw_game.events WHERE event_id IN ("
                 + ", ".join(f"'{i}'" for i in bad_ids) + ")") == [(0,)]
    assert not (settings.lake_dir / "game" / "events" / bad.split("game/events/", 1)[1]).exists()


def test_the_late_event_rewrites_its_hour_only(game):
    settings, _, _, _, before, (_, late_event, late_hour) = game
    after = set(query(settings, "SELECT event_id, event_hour, _dbt_run_at FROM silver.silver_game_events"))
    hour = dt.datetime.fromtimestamp(late_hour, dt.timezone.utc).replace(tzinfo=None)
    assert {row for row in after if row[1] != hour} == {row for row in before["silver"] if row[1] != hour}
    rewritten = {row for row in after if row[1] == hour}
    old = {row for row in before["silver"] if row[1] == hour}
    assert {r[0] for r in rewritten} == {r[0] for r in old} | {late_event["event_id"]}
    assert min(r[2] for r in rewritten) > max(r[2] for r in old)


def test_the_player_snapshot_keeps_one_current_profile_per_player(game):
    settings, files, *_ = game
    players = {e["event_data"]["player_id"] for e in unique_known_game_events(files)}
    current = query(settings, "SELECT player_id FROM snapshots.snap_game_players "
                              "WHERE dbt_valid_to = TIMESTAMP '9999-12-31 00:00:00'")
    assert sorted(p for (p,) in current) == sorted(players)


# --- gzip for loaded (not external) datasets, every format ------------------------------------


@pytest.mark.parametrize("compression", ["auto", "gzip"])
def test_a_loaded_dataset_reads_gzip_compressed_json(settings, s3_client, tmp_path, compression):
    """The same events declared as an ordinary loaded dataset (as on PostgreSQL): a .json.gz
    file is decompressed and its rows copied into the raw table, by its suffix or by the
    declaration (gzip CSV: test_warehouses)."""
    dataset = replace(events_dataset(), external=False, partition_columns=(), raw_schema="raw_game_loaded",
                      file_format=replace(events_dataset().file_format, compression=compression))
    events = [{"event_id": f"E{i}", "event_type": "login", "event_name": "Login",
               "event_timestamp": 1_790_000_000 + i, "event_version": "1.0.0", "app_version": "1.4.0",
               "application_id": "app", "event_data": {"player_id": f"P{i}", "country": "DE"}} for i in range(5)]
    body = gzip.compress("".join(json.dumps(e) + "\n" for e in events).encode())
    key = f"{dataset.landing_prefix(settings.landing_prefix)}dt=2026-09-21/events.json.gz"
    s3_client.put_object(Bucket=settings.landing_bucket, Key=key, Body=body)
    [landing_object] = list_landing_objects(s3_client, settings.landing_bucket, settings.landing_prefix)
    with DuckDBLoader(Path(settings.duckdb_path), lake_dir=tmp_path / "lake") as loader:
        outcome = loader.load(dataset, landing_object, s3_client, "run-1")
        assert outcome.loaded and outcome.rows == 5, outcome
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        rows = con.execute("SELECT event_id, event_timestamp, json_extract_string(event_data, '$.player_id') "
                           "FROM raw_game_loaded.events ORDER BY _source_row").fetchall()
        kind = con.execute("SELECT table_type FROM information_schema.tables WHERE table_schema = 'raw_game_loaded'").fetchall()
    assert rows == [(e["event_id"], e["event_timestamp"], e["event_data"]["player_id"]) for e in events]
    assert kind == [("BASE TABLE",)] and not (tmp_path / "lake").exists()


# --- registration without dbt: re-delivery and quarantine of an external dataset --------------


def test_a_redelivered_external_file_replaces_its_events_and_a_bad_one_changes_nothing(settings, s3_client, tmp_path):
    dataset = events_dataset()
    folder = f"{dataset.landing_prefix(settings.landing_prefix)}dt=2026-10-01/hh=07/"

    def event(number: int, **changes) -> dict:
        return {"event_id": f"E{number}", "event_type": "login", "event_name": "Login",
                "event_timestamp": 1_790_000_000 + number, "event_version": "1.0.0", "app_version": "1.4.0",
                "application_id": "app", "event_data": {"player_id": f"P{number}"}, **changes}

    def deliver(body_events: list[dict], raw: bytes | None = None):
        body = raw if raw is not None else events_file("x", body_events).body
        s3_client.put_object(Bucket=settings.landing_bucket, Key=f"{folder}batch.json.gz", Body=body)
        [landing_object] = list_landing_objects(s3_client, settings.landing_bucket, settings.landing_prefix)
        with DuckDBLoader(Path(settings.duckdb_path), lake_dir=tmp_path / "lake") as loader:
            return loader.load(dataset, landing_object, s3_client, "run")

    def view() -> list[tuple]:
        with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
            return con.execute("SELECT event_id, event_timestamp, dt, hh FROM raw_game.events ORDER BY 1").fetchall()

    assert deliver([event(1), event(2)]).rows == 2
    assert view() == [("E1", 1_790_000_001, "2026-10-01", "07"), ("E2", 1_790_000_002, "2026-10-01", "07")]
    assert deliver([event(3)]).rows == 1  # same key, new content: replaces the first version
    assert view() == [("E3", 1_790_000_003, "2026-10-01", "07")]
    # A version with a value that would be rounded (2.5 epoch seconds into BIGINT): quarantined
    # whole, the previous version stays what the view reads.
    bad = deliver([], raw=gzip.compress((json.dumps(event(4)) + "\n" + json.dumps(event(5, event_timestamp=2.5)) + "\n").encode()))
    assert bad.quarantine_reason and "event_timestamp" in bad.quarantine_reason and "row 2" in bad.quarantine_reason
    assert view() == [("E3", 1_790_000_003, "2026-10-01", "07")]
    # A file outside the declared dt=/hh= folders cannot be read in place: quarantined, not mirrored.
    stray = f"{dataset.landing_prefix(settings.landing_prefix)}stray.json.gz"
    s3_client.put_object(Bucket=settings.landing_bucket, Key=stray, Body=events_file("x", [event(6)]).body)
    [landing_object] = [o for o in list_landing_objects(s3_client, settings.landing_bucket, settings.landing_prefix)
                        if o.key == stray]
    with DuckDBLoader(Path(settings.duckdb_path), lake_dir=tmp_path / "lake") as loader:
        outcome = loader.load(dataset, landing_object, s3_client, "run")
    assert outcome.quarantine_reason and "dt=<value>/hh=<value>" in outcome.quarantine_reason, outcome
    assert view() == [("E3", 1_790_000_003, "2026-10-01", "07")]
    assert not (tmp_path / "lake" / "game" / "events" / "stray.json.gz").exists()
