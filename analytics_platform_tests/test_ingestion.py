"""Ingestion against a real S3 API and a real DuckDB file: exactly once, nothing lost."""

from __future__ import annotations

import csv
import datetime
import gzip
import io
import json
import random

import dagster as dg
import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from analytics_platform.lib.datasets import Column
from analytics_platform.lib.warehouses.duckdb import DuckDBLoader
from analytics_platform.lib.warehouses.duckdb_casts import typed_value_sql
from analytics_platform.local.sample_data import (
    SampleSpec,
    generate_landing_files,
    upload_landing_files,
)

from .helpers import run_ingestion

SMALL = SampleSpec(days=4, orders_per_day=40, products=20, users=50, reviews_per_day=15)


def rows_in_file(landing_file) -> int:
    """Counted with the standard library / pyarrow, independently of the loader."""
    if landing_file.key.endswith(".csv"):
        return sum(1 for _ in csv.DictReader(io.StringIO(landing_file.body.decode())))
    if landing_file.key.endswith(".json"):
        return sum(1 for line in landing_file.body.decode().splitlines() if line.strip())
    return pq.read_table(io.BytesIO(landing_file.body)).num_rows


def query(settings, sql: str):
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        return con.execute(sql).fetchall()


def materialized_metadata(result: dg.ExecuteInProcessResult, dataset: str) -> dict:
    [event] = [
        e for e in result.get_asset_materialization_events()
        if e.asset_key == dg.AssetKey(["raw", "ecommerce", dataset])
    ]
    return {k: v.value for k, v in event.materialization.metadata.items()}


def test_every_file_loads_exactly_once_across_reruns(settings, s3_client):
    # The ecommerce domain's files (tickit's: test_tickit.py).
    files = [f for f in generate_landing_files(SMALL, prefix=settings.landing_prefix) if f.domain == "ecommerce"]
    upload_landing_files(s3_client, settings.landing_bucket, files)

    first = run_ingestion(settings)
    second = run_ingestion(settings)

    for dataset in ("orders", "products", "users", "reviews"):
        expected_rows = sum(rows_in_file(f) for f in files if f.dataset == dataset)
        expected_files = sum(1 for f in files if f.dataset == dataset)
        assert materialized_metadata(first, dataset)["files_loaded"] == expected_files
        assert materialized_metadata(first, dataset)["rows_loaded"] == expected_rows
        assert materialized_metadata(second, dataset)["files_loaded"] == 0
        [(rows, distinct_positions)] = query(
            settings,
            f"SELECT count(*), count(DISTINCT (_source_key, _source_row)) FROM raw_ecommerce.{dataset}",
        )
        assert rows == distinct_positions == expected_rows
    [(ledger_files,)] = query(settings, "SELECT count(*) FROM raw._ingestion_ledger")
    assert ledger_files == len(files)


def test_a_crash_mid_batch_neither_duplicates_nor_loses_a_file(settings, s3_client, monkeypatch):
    files = [f for f in generate_landing_files(SMALL, prefix=settings.landing_prefix) if f.dataset == "orders"]
    assert len(files) >= 5
    upload_landing_files(s3_client, settings.landing_bucket, files)

    # Two files per batch; fail the second batch after its rows are inserted, just before its
    # ledger rows: the worst moment. The first batch is committed, the second must leave nothing.
    monkeypatch.setattr(DuckDBLoader, "batch_max_files", 2)
    original = DuckDBLoader._record_in_ledger
    files_per_ledger_call = []

    def crash_on_second_batch(self, dataset, loaded, *args, **kwargs):
        files_per_ledger_call.append(len(loaded))
        if len(files_per_ledger_call) == 2:
            raise RuntimeError("injected crash while recording the ledger")
        return original(self, dataset, loaded, *args, **kwargs)

    monkeypatch.setattr(DuckDBLoader, "_record_in_ledger", crash_on_second_batch)
    crashed = run_ingestion(settings, raise_on_error=False)
    assert not crashed.success
    assert files_per_ledger_call == [2, 2]  # the crash hit a batch of several files, not one
    [(ledger_files,)] = query(settings, "SELECT count(*) FROM raw._ingestion_ledger")
    assert ledger_files == 2
    [(rows_after_crash, keys_after_crash)] = query(
        settings, "SELECT count(*), count(DISTINCT _source_key) FROM raw_ecommerce.orders"
    )
    [(rows_in_ledger,)] = query(settings, "SELECT sum(rows) FROM raw._ingestion_ledger")
    assert (rows_after_crash, keys_after_crash) == (rows_in_ledger, 2)  # the crashed batch left no rows

    monkeypatch.setattr(DuckDBLoader, "_record_in_ledger", original)
    retried = run_ingestion(settings)
    assert materialized_metadata(retried, "orders")["files_loaded"] == len(files) - 2
    [(rows, distinct_positions, keys)] = query(
        settings,
        "SELECT count(*), count(DISTINCT (_source_key, _source_row)), count(DISTINCT _source_key) FROM raw_ecommerce.orders",
    )
    assert rows == distinct_positions == sum(rows_in_file(f) for f in files)
    assert keys == len(files)


def ids_in_file(landing_file, id_column: str) -> list[str]:
    """The id column of every row, in file order, read independently of the loader."""
    if landing_file.key.endswith(".csv"):
        return [row[id_column] for row in csv.DictReader(io.StringIO(landing_file.body.decode()))]
    if landing_file.key.endswith(".json"):
        return [json.loads(line)[id_column] for line in landing_file.body.decode().splitlines() if line.strip()]
    return [str(v) for v in pq.read_table(io.BytesIO(landing_file.body)).column(id_column).to_pylist()]


def test_source_row_is_the_position_within_each_file_of_a_batch(settings, s3_client):
    # The ecommerce domain's files (tickit's: test_tickit.py).
    files = [f for f in generate_landing_files(SMALL, prefix=settings.landing_prefix) if f.domain == "ecommerce"]
    upload_landing_files(s3_client, settings.landing_bucket, files)

    run_ingestion(settings)

    id_columns = {"orders": "order_id", "reviews": "review_id", "users": "user_id"}
    assert {f.key.rsplit(".", 1)[1] for f in files if f.dataset in id_columns} == {"csv", "json", "parquet"}
    for dataset, id_column in id_columns.items():
        dataset_files = [f for f in files if f.dataset == dataset]
        [(batches,)] = query(
            settings,
            f"SELECT count(DISTINCT loaded_at) FROM raw._ingestion_ledger WHERE dataset = 'ecommerce.{dataset}'",
        )
        assert batches < len(dataset_files)  # files were loaded together, not one by one
        for landing_file in dataset_files:
            loaded = query(
                settings,
                f"SELECT _source_row, {id_column} FROM raw_ecommerce.{dataset} "
                f"WHERE _source_key = '{landing_file.key}' ORDER BY _source_row",
            )
            expected = ids_in_file(landing_file, id_column)
            assert loaded == list(enumerate(expected, start=1)), landing_file.key
            [(ledger_rows,)] = query(
                settings, f"SELECT rows FROM raw._ingestion_ledger WHERE s3_key = '{landing_file.key}'"
            )
            assert ledger_rows == len(expected)


def orders_parquet(ids: list[str]) -> bytes:
    table = pa.table({
        "order_id": ids, "created_at": ["2026-10-02 10:00:00"] * len(ids), "user_id": ["U1"] * len(ids),
        "product_id": ["P1"] * len(ids), "quantity": [1] * len(ids), "unit_price": ["1.00"] * len(ids),
        "status": ["placed"] * len(ids),
    })
    sink = io.BytesIO()
    pq.write_table(table, sink, row_group_size=10_000)
    return sink.getvalue()


def test_source_row_holds_when_a_batch_of_large_files_is_read_side_by_side(settings, s3_client):
    # CSV and JSON files a batch reads alike are read by one multi-file read, on both cores, and
    # numbered by their order in a staging table; Parquet files by the reader's file_row_number
    # (DuckDBLoader._insert_files). Files of several MB each (Parquet: many row groups), with ids
    # in no particular order, so a wrong order inside a file or across files shows up.
    folder = f"{settings.landing_prefix}ecommerce/orders/2026-10-02"
    shuffled = random.Random(7)
    bodies = {}
    for name in ("a", "b", "c", "e", "f"):
        ids = [f"ORD-{name.upper()}{n:07d}" for n in shuffled.sample(range(10_000_000), 120_000)]
        if name in ("e", "f"):
            bodies[f"{folder}/{name}.parquet"] = (ids, orders_parquet(ids))
            continue
        bodies[f"{folder}/{name}.csv"] = (
            ids, ORDERS_HEADER + "".join(f"{i},2026-10-02 10:00:00,U1,P1,1,1.00,placed\n" for i in ids)
        )
    bodies[f"{folder}/d.csv.gz"] = (["ORD-D1"], ORDERS_HEADER + "ORD-D1,2026-10-02 11:00:00,U1,P1,1,1.00,placed\n")
    for key, (_, body) in bodies.items():
        data = body if isinstance(body, bytes) else body.encode()
        data = gzip.compress(data) if key.endswith(".gz") else data
        s3_client.put_object(Bucket=settings.landing_bucket, Key=key, Body=data)
    assert sum(len(body) for _, body in bodies.values()) < DuckDBLoader.batch_max_bytes  # one batch

    run_ingestion(settings)

    [(batches,)] = query(settings, "SELECT count(DISTINCT loaded_at) FROM raw._ingestion_ledger")
    assert batches == 1
    for key, (ids, _) in bodies.items():
        loaded = query(
            settings, f"SELECT _source_row, order_id FROM raw_ecommerce.orders WHERE _source_key = '{key}' ORDER BY 1"
        )
        assert loaded == list(enumerate(ids, start=1)), key


@pytest.mark.parametrize(
    ("suffix", "column"),
    [("csv", "__file_index"), ("csv", "rowid"), ("parquet", "file_row_number"), ("parquet", "filename")],
)
def test_a_column_named_like_the_readers_numbering_columns_loads_as_data(settings, s3_client, suffix, column):
    # The multi-file read adds a column __file_index and numbers rows by the staging table's
    # rowid (which a column named rowid would hide); the Parquet reader adds file_row_number and
    # filename. Files with such a column of their own are read another way, so their value is
    # data and numbers nothing.
    folder = f"{settings.landing_prefix}ecommerce/orders/2026-10-03"
    rows = {
        name: [(f"ORD-{name.upper()}{n}", str(9 - n)) for n in range(1, 4)] for name in ("a", "b")
    }
    for name, file_rows in rows.items():
        if suffix == "csv":
            body = ORDERS_HEADER.replace("\n", f",{column}\n").encode() + "".join(
                f"{order_id},2026-10-03 10:00:00,U1,P1,1,1.00,placed,{value}\n" for order_id, value in file_rows
            ).encode()
        else:
            table = pq.read_table(io.BytesIO(orders_parquet([order_id for order_id, _ in file_rows])))
            sink = io.BytesIO()
            pq.write_table(table.append_column(column, pa.array([value for _, value in file_rows])), sink)
            body = sink.getvalue()
        s3_client.put_object(Bucket=settings.landing_bucket, Key=f"{folder}/{name}.{suffix}", Body=body)

    run_ingestion(settings)

    assert query(
        settings, f'SELECT _source_key, _source_row, order_id, "{column}" FROM raw_ecommerce.orders ORDER BY 1, 2'
    ) == [
        (f"{folder}/{name}.{suffix}", n, order_id, value)
        for name, file_rows in rows.items() for n, (order_id, value) in enumerate(file_rows, start=1)
    ]


def test_a_bad_file_in_a_batch_is_quarantined_alone_and_the_rest_load(settings, s3_client):
    folder = f"{settings.landing_prefix}ecommerce/orders/2026-10-01"
    good = {
        f"{folder}/a.csv": ORDERS_HEADER + GOOD_ORDER + "ORD-A2,2026-10-01 11:00:00,U1,P1,1,1.00,placed\n",
        f"{folder}/b.csv": ORDERS_HEADER.replace("\n", ",coupon_code\n")
        + "ORD-B1,2026-10-01 12:00:00,U1,P1,1,1.00,placed,AUTUMN\n",
        f"{folder}/d.json": json.dumps({"order_id": "ORD-D1", "created_at": "2026-10-01 13:00:00", "user_id": "U1",
                                        "product_id": "P1", "quantity": 4, "unit_price": 2.5, "status": "placed"}),
    }
    bad_key = f"{folder}/c.csv"
    bad = ORDERS_HEADER + GOOD_ORDER + "ORD-C2,2026-10-01 11:00:00,U1,P1,two,1.00,placed\n"
    for key, body in [*good.items(), (bad_key, bad)]:
        s3_client.put_object(Bucket=settings.landing_bucket, Key=key, Body=body.encode())

    result = run_ingestion(settings)

    metadata = materialized_metadata(result, "orders")
    assert (metadata["files_loaded"], metadata["files_quarantined"]) == (3, 1)
    [(key, reason)] = query(settings, "SELECT s3_key, reason FROM raw._ingestion_quarantine")
    assert key == bad_key
    assert "Could not convert string 'two'" in reason
    assert query(
        settings, "SELECT _source_key, _source_row, order_id, coupon_code FROM raw_ecommerce.orders ORDER BY 1, 2"
    ) == [
        (f"{folder}/a.csv", 1, "ORD-0000001", None),
        (f"{folder}/a.csv", 2, "ORD-A2", None),
        (f"{folder}/b.csv", 1, "ORD-B1", "AUTUMN"),
        (f"{folder}/d.json", 1, "ORD-D1", None),
    ]
    assert sorted(query(settings, "SELECT s3_key, rows FROM raw._ingestion_ledger")) == [
        (f"{folder}/a.csv", 2), (f"{folder}/b.csv", 1), (f"{folder}/d.json", 1)
    ]


class _RecordingConnection:
    """The loader's DuckDB connection, recording the memory_limit each raw insert ran under."""

    def __init__(self, connection):
        self._connection = connection
        self.insert_limits: list[str] = []

    def execute(self, sql, *args):
        if sql.startswith("INSERT INTO raw_ecommerce.orders"):
            self.insert_limits.append(self.setting("memory_limit"))
        return self._connection.execute(sql, *args)

    def setting(self, name: str) -> str:
        return self._connection.execute(f"SELECT current_setting('{name}')").fetchone()[0]

    def __getattr__(self, name):
        return getattr(self._connection, name)


def test_a_file_read_alone_loads_under_the_smaller_budget_and_the_loader_resets_it(settings, s3_client, tmp_path):
    """A CSV read on its own (streamed, one thread) is inserted under the streamed-read budget;
    a batch read side by side under the loader's; after either, and after a file that fails,
    the connection is back to the loader's settings."""
    from analytics_platform.lib.datasets import dataset_for_key, load_datasets
    from analytics_platform.lib.objects import list_landing_objects

    folder = f"{settings.landing_prefix}ecommerce/orders/2026-10-01"
    bodies = {
        "alone.csv": ORDERS_HEADER + GOOD_ORDER,
        "bad.csv": ORDERS_HEADER + "ORD-2,2026-10-01 11:00:00,U1,P1,two,1.00,placed\n",
        "pair_a.csv": ORDERS_HEADER + "ORD-A,2026-10-01 11:00:00,U1,P1,1,1.00,placed\n",
        "pair_b.csv": ORDERS_HEADER + "ORD-B,2026-10-01 12:00:00,U1,P1,1,1.00,placed\n",
    }
    for name, body in bodies.items():
        s3_client.put_object(Bucket=settings.landing_bucket, Key=f"{folder}/{name}", Body=body.encode())
    objects = {
        o.key.rsplit("/", 1)[1]: o
        for o in list_landing_objects(s3_client, settings.landing_bucket, settings.landing_prefix)
    }
    dataset = dataset_for_key(load_datasets(settings), objects["alone.csv"].key, settings.landing_prefix)
    with duckdb.connect() as scratch:  # how DuckDB reports each budget back
        shown = {}
        for limit in ("300MB", "100MB"):
            scratch.execute(f"SET memory_limit = '{limit}'")
            shown[limit] = scratch.execute("SELECT current_setting('memory_limit')").fetchone()[0]

    with DuckDBLoader(tmp_path / "w.duckdb", memory_limit="300MB", streamed_read_memory_limit="100MB") as loader:
        connection = loader._connection = _RecordingConnection(loader._connection)
        assert loader.load(dataset, objects["alone.csv"], s3_client, "run").loaded
        assert connection.insert_limits == [shown["100MB"]]
        assert connection.setting("memory_limit") == shown["300MB"]
        assert not loader.load(dataset, objects["bad.csv"], s3_client, "run").loaded
        assert connection.setting("memory_limit") == shown["300MB"]
        connection.insert_limits.clear()
        [outcomes] = loader.load_in_batches(dataset, [objects["pair_a.csv"], objects["pair_b.csv"]], s3_client, "run")
        assert [o.loaded for o in outcomes] == [True, True]
        assert connection.insert_limits == [shown["300MB"]]  # one multi-file read, unordered insert
        assert (connection.setting("memory_limit"), connection.setting("preserve_insertion_order")) == (
            shown["300MB"], True
        )
        assert connection.execute("SELECT count(*) FROM raw_ecommerce.orders").fetchone()[0] == 3


ORDERS_HEADER = "order_id,created_at,user_id,product_id,quantity,unit_price,status\n"
GOOD_ORDER = "ORD-0000001,2026-10-01 10:00:00,U00001,P0001,2,9.99,delivered\n"


@pytest.mark.parametrize(
    ("name", "body", "reason"),
    [
        ("not_a_number.csv", ORDERS_HEADER + GOOD_ORDER + "ORD-2,2026-10-01 11:00:00,U1,P1,two,1.00,placed\n",
         "Could not convert string 'two'"),
        ("ragged.csv", ORDERS_HEADER + GOOD_ORDER + "ORD-3,2026-10-01 11:00:00,U1,P1,1,1.00,placed,extra\n",
         "Expected Number of Columns: 7 Found: 8"),
        ("missing_column.csv", "order_id,created_at,user_id,product_id,quantity,status\nORD-4,2026-10-01 11:00:00,U1,P1,1,placed\n",
         "missing column(s) unit_price"),
        ("empty_key.csv", ORDERS_HEADER + GOOD_ORDER + ",2026-10-01 11:00:00,U1,P1,1,1.00,placed\n",
         "column order_id is empty in row 2"),
        ("bad_date.csv", ORDERS_HEADER + "ORD-5,yesterday,U1,P1,1,1.00,placed\n", "yesterday"),
        ("truncated.json", (
            '{"order_id": "ORD-6", "created_at": "2026-10-01 11:00:00", "user_id": "U1", '
            '"product_id": "P1", "quantity": 1, "unit_price": 1.0, "status": "placed"}\n{"order_id": "ORD-7", "crea'
        ), "Malformed JSON"),
        ("empty.csv", "", "empty CSV file"),
        ("corrupt.parquet", "PAR1garbage", "too small to be a Parquet file"),
        ("notes.txt", "hello", "unsupported file type"),
    ],
)
def test_a_malformed_file_is_quarantined_whole_with_its_reason(settings, s3_client, name, body, reason):
    good_key = f"{settings.landing_prefix}ecommerce/orders/2026-10-01/good.csv"
    bad_key = f"{settings.landing_prefix}ecommerce/orders/2026-10-01/{name}"
    s3_client.put_object(Bucket=settings.landing_bucket, Key=good_key, Body=(ORDERS_HEADER + GOOD_ORDER).encode())
    s3_client.put_object(Bucket=settings.landing_bucket, Key=bad_key, Body=body.encode())

    result = run_ingestion(settings)

    metadata = materialized_metadata(result, "orders")
    assert (metadata["files_loaded"], metadata["files_quarantined"]) == (1, 1)
    [(key, recorded_reason)] = query(settings, "SELECT s3_key, reason FROM raw._ingestion_quarantine")
    assert key == bad_key
    assert reason in recorded_reason
    assert query(settings, "SELECT DISTINCT _source_key FROM raw_ecommerce.orders") == [(good_key,)]
    # Quarantined files are settled: the next run neither retries nor reports them again.
    assert materialized_metadata(run_ingestion(settings), "orders")["files_quarantined"] == 0


def test_a_corrected_upload_of_a_quarantined_file_loads(settings, s3_client):
    key = f"{settings.landing_prefix}ecommerce/orders/2026-10-01/fixed_later.csv"
    bad = ORDERS_HEADER + "ORD-9,2026-10-01 11:00:00,U1,P1,two,1.00,placed\n"
    s3_client.put_object(Bucket=settings.landing_bucket, Key=key, Body=bad.encode())
    assert materialized_metadata(run_ingestion(settings), "orders")["files_quarantined"] == 1

    # New content means a new ETag: a new file as far as the ledger is concerned.
    s3_client.put_object(Bucket=settings.landing_bucket, Key=key, Body=(ORDERS_HEADER + GOOD_ORDER).encode())
    assert materialized_metadata(run_ingestion(settings), "orders")["files_loaded"] == 1
    assert query(settings, "SELECT order_id, quantity FROM raw_ecommerce.orders") == [("ORD-0000001", 2)]


# ISO 8601 timestamps in the shapes files carry them, each meaning one UTC instant.
TIMESTAMP_SHAPES = [
    "2026-10-01 10:00:00",  # the fast path (strptime)
    " 2026-10-01 10:00:07 ",
    "2026-10-01T10:00:00",  # the rest through the TIMESTAMPTZ cast
    "2026-10-01 10:00:00+02:00",
    "2026-10-01T10:00:00.25-05:30",
    "2026-10-01 10:00:00Z",
    "2026-10-01 23:30:00.000001+00:00",
]


def test_every_timestamp_shape_loads_as_the_instant_it_means(settings, s3_client):
    rows = "".join(f"ORD-{i},{value},U1,P1,1,1.00,placed\n" for i, value in enumerate(TIMESTAMP_SHAPES))
    body = "order_id,created_at,user_id,product_id,quantity,unit_price,status\n" + rows
    s3_client.put_object(Bucket=settings.landing_bucket, Key="landing/ecommerce/orders/x/ts.csv", Body=body.encode())

    run_ingestion(settings)

    loaded = dict(query(settings, "SELECT order_id, created_at FROM raw_ecommerce.orders"))
    for i, value in enumerate(TIMESTAMP_SHAPES):
        instant = datetime.datetime.fromisoformat(value.strip())  # naive values are UTC
        if instant.tzinfo is not None:
            instant = instant.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        assert loaded[f"ORD-{i}"] == instant, value


def test_the_timestamp_fast_path_gives_the_timestamptz_casts_value_or_leaves_it_to_it():
    """strptime's value, where it has one, is the TIMESTAMPTZ cast's (odd shapes included)."""
    column = Column("created_at", "TIMESTAMP", "", required=False)
    typed = typed_value_sql(column, "created_at", True, None, "__c0")
    texts = TIMESTAMP_SHAPES + [
        "2026-1-1 1:0:0", "2026-10-1 10:00:00", "2026-02-30 10:00:00", "2026-10-01 24:00:00",
        "2026-10-01 10:00:60", "0001-01-01 00:00:00", "99999-01-01 00:00:00", "-2026-10-01 10:00:00",
        "2026-10-01 10:00+02", "2026-10-01 10:00:00+02", "infinity", "2026-10-01", "x",
    ]
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        compared = con.execute(
            f"""SELECT text, {typed.parsed} AS parsed,
                       CAST(TRY_CAST(text AS TIMESTAMPTZ) AT TIME ZONE 'UTC' AS TIMESTAMP) AS reference
                FROM (SELECT text, {typed.landed} AS "__c0_landed" FROM (SELECT text, text AS created_at
                      FROM unnest(?) AS t(text)))""",
            [texts],
        ).fetchall()
    assert len(compared) == len(texts)
    assert [(text, parsed) for text, parsed, reference in compared if parsed != reference] == []


def test_types_offsets_and_new_columns(settings, s3_client):
    body = (
        "order_id, created_at ,user_id,product_id,quantity,unit_price,status,coupon_code\n"
        "ORD-1,2026-10-01T23:30:00-02:00,U1,P1,3,19.95, Shipped ,AUTUMN\n"
    )
    s3_client.put_object(Bucket=settings.landing_bucket, Key="landing/ecommerce/orders/x/a.csv", Body=body.encode())
    reviews = json.dumps({"review_id": "R1", "created_at": "2026-10-02 08:00:00", "product_id": "P1",
                          "user_id": "U1", "rating": 5, "review_text": None})
    s3_client.put_object(Bucket=settings.landing_bucket, Key="landing/ecommerce/reviews/x/a.json", Body=reviews.encode())

    run_ingestion(settings)

    [(created_at, quantity, unit_price, status, coupon)] = query(
        settings, "SELECT created_at, quantity, unit_price, status, coupon_code FROM raw_ecommerce.orders"
    )
    assert str(created_at) == "2026-10-02 01:30:00"  # the offset is honoured, stored as UTC
    assert (quantity, str(unit_price), status, coupon) == (3, "19.95", " Shipped ", "AUTUMN")
    assert query(settings, "SELECT rating, review_text FROM raw_ecommerce.reviews") == [(5, None)]
