"""Tests of the deterministic synthetic landing data generator (no network)."""

from __future__ import annotations

import bisect
import csv
import datetime as dt
import io
import itertools
import json
import re
import subprocess
import sys
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from analytics_platform.defs.landing.resources import build_s3_resource
from analytics_platform.lib.datasets import Column, Dataset, FileFormat
from analytics_platform.local.sample_data import (
    LandingFile,
    SampleSpec,
    generate_landing_files,
    upload_landing_files,
    write_landing_files,
)
from analytics_platform.local.sample_data.__main__ import main

from .helpers import declared_datasets

# The files follow the declarations (dbt sources YAML): the same column lists, in the same order.
COLUMNS = {d.name: [c.name for c in d.columns] for d in declared_datasets() if d.domain == "ecommerce"}
TIMESTAMPS = {"created_at", "updated_at"}
INTEGERS = {"quantity", "rating"}
DECIMALS = {"unit_price", "price"}
ID_PATTERNS = {
    "order_id": re.compile(r"ORD-\d{7}"),
    "product_id": re.compile(r"P\d{4}"),
    "user_id": re.compile(r"U\d{5}"),
    "review_id": re.compile(r"REV-\d{7}"),
}
KEY_RE = re.compile(
    r"landing/ecommerce/(?P<ds>orders|products|users|reviews)/(?P<date>\d{4}-\d{2}-\d{2})/"
    r"(?P=ds)_(?P=date)_part(?P<part>\d+)\.(?P<ext>csv|json|parquet)"
)
STATUSES = {"placed", "shipped", "delivered", "cancelled", "returned"}
SPEC = SampleSpec()


@pytest.fixture(autouse=True, scope="module")
def _declarations(dbt_manifest):
    """generate_landing_files reads the declarations from the parsed dbt project by default."""


def _typed_text(column: str, value):
    """Type one text value (CSV/JSON) as the raw table would; raises on bad values."""
    if column in TIMESTAMPS:
        return dt.datetime.strptime(value, "%Y-%m-%d %H:%M:%S")
    if column in INTEGERS:
        if isinstance(value, int):
            return value
        if not re.fullmatch(r"-?\d+", value):
            raise ValueError(f"{column}: {value!r} is not an integer")
        return int(value)
    if column in DECIMALS:
        if not re.fullmatch(r"\d+\.\d{2}", value):
            raise ValueError(f"{column}: {value!r} is not a 2-decimal number")
        return Decimal(value)
    if not isinstance(value, str):
        raise TypeError(f"{column}: {value!r} is not a string")
    return value


def parse_file(f: LandingFile) -> list[dict]:
    """Parse and type a landing file with its format; raises on any malformation."""
    ext = f.key.rsplit(".", 1)[1]
    cols = COLUMNS[f.dataset]
    if ext == "parquet":
        table = pq.read_table(io.BytesIO(f.body))
        assert table.column_names == cols
        for name in cols:
            typ = table.schema.field(name).type
            if name in TIMESTAMPS:
                assert typ == pa.timestamp("us")
            elif name in INTEGERS:
                assert pa.types.is_integer(typ)
            elif name in DECIMALS:
                assert typ == pa.decimal128(12, 2)
            else:
                assert typ == pa.string()
        return table.to_pylist()
    if ext == "csv":
        reader = csv.reader(io.StringIO(f.body.decode("utf-8"), newline=""))
        header = next(reader)
        assert header == cols
        records = [dict(zip(header, row, strict=True)) for row in reader]
    else:
        records = [json.loads(line) for line in f.body.decode("utf-8").splitlines()]
        for record in records:
            assert list(record) == cols
    return [{c: _typed_text(c, r[c]) for c in cols} for r in records]


@pytest.fixture(scope="module")
def files() -> list[LandingFile]:
    # The ecommerce domain's files (tickit's: test_tickit.py).
    return [f for f in generate_landing_files(SPEC) if f.domain == "ecommerce"]


@pytest.fixture(scope="module")
def parsed(files):
    """dataset -> list of (file day, key, row) over the good files, in delivery order."""
    out = defaultdict(list)
    for f in files:
        day = dt.date.fromisoformat(KEY_RE.fullmatch(f.key)["date"])
        for row in parse_file(f):
            out[f.dataset].append((day, f.key, row))
    return out


def test_deterministic():
    a = generate_landing_files(SPEC)
    b = generate_landing_files(SampleSpec())
    assert a == b
    assert [f.key for f in a] == [f.key for f in b]
    assert a != generate_landing_files(SampleSpec(seed=7))
    # the malformed files are extra: the good files are unchanged
    with_bad = generate_landing_files(SampleSpec(include_malformed=True))
    assert [f for f in with_bad if not f.malformed] == a
    assert generate_landing_files(SampleSpec(include_malformed=True)) == with_bad


def test_key_layout(files):
    dates = {(SPEC.start + dt.timedelta(days=d)).isoformat() for d in range(SPEC.days)}
    parts = defaultdict(list)
    for f in files:
        m = KEY_RE.fullmatch(f.key)
        assert m, f.key
        assert m["ds"] == f.dataset and m["date"] in dates and not f.malformed
        parts[(f.dataset, m["date"])].append(int(m["part"]))
    assert len({f.key for f in files}) == len(files)
    for (dataset, date), numbers in parts.items():
        assert sorted(numbers) == list(range(1, len(numbers) + 1)), (dataset, date)
        if dataset == "orders":
            assert len(numbers) in (2, 3)
    assert {d for ds, d in parts if ds == "orders"} == dates
    assert {d for ds, d in parts if ds == "reviews"} == dates
    prefixed = generate_landing_files(SampleSpec(days=2), prefix="raw/x")
    assert all(f.key.startswith("raw/x/") for f in prefixed)


def test_formats(files):
    formats = defaultdict(set)
    for f in files:
        formats[f.dataset].add(f.key.rsplit(".", 1)[1])
    assert formats == {
        "orders": {"csv", "parquet"},
        "products": {"json"},
        "users": {"parquet"},
        "reviews": {"json", "csv"},
    }
    orders_csv = sum(f.key.endswith(".csv") for f in files if f.dataset == "orders")
    orders_parquet = sum(f.key.endswith(".parquet") for f in files if f.dataset == "orders")
    assert orders_csv > 3 * orders_parquet > 0
    # at most one Parquet orders file per day
    per_day = Counter(
        f.key.split("/")[3] for f in files if f.dataset == "orders" and f.key.endswith(".parquet")
    )
    assert max(per_day.values()) == 1


def test_every_file_parses_and_ids_are_well_formed(parsed):
    for rows in parsed.values():
        for _, _, row in rows:
            for column, pattern in ID_PATTERNS.items():
                if column in row:
                    assert pattern.fullmatch(row[column]), row
    for _, _, row in parsed["orders"]:
        assert 1 <= row["quantity"] <= 5
        assert row["status"].strip().lower() in STATUSES
    for _, _, row in parsed["reviews"]:
        assert 1 <= row["rating"] <= 5
    # distinct business rows match the spec
    assert len({r["order_id"] for _, _, r in parsed["orders"]}) == SPEC.days * SPEC.orders_per_day
    assert (
        len({r["review_id"] for _, _, r in parsed["reviews"]}) == SPEC.days * SPEC.reviews_per_day
    )
    assert len({r["product_id"] for _, _, r in parsed["products"]}) == SPEC.products
    assert len({r["user_id"] for _, _, r in parsed["users"]}) > SPEC.users  # new users arrive


def test_distributions_and_dirt(parsed):
    orders = {r["order_id"]: r for _, _, r in parsed["orders"]}
    status = Counter(r["status"].strip().lower() for r in orders.values())
    n = len(orders)
    assert status["delivered"] + status["shipped"] > 0.6 * n
    assert 0.02 * n < status["cancelled"] < 0.09 * n
    assert 0.005 * n < status["returned"] < 0.05 * n
    assert status["placed"] > 0
    assert any(r["status"] != r["status"].strip().lower() for r in orders.values())
    ratings = Counter(r["rating"] for _, _, r in parsed["reviews"])
    assert ratings[5] + ratings[4] > 0.6 * sum(ratings.values()) and ratings[1] > 0
    categories = {r["category"] for _, _, r in parsed["products"]}
    assert len({c.strip() for c in categories}) == 8
    assert any(c != c.strip() for c in categories)
    assert any(r["email"] != r["email"].lower() for _, _, r in parsed["users"])


def test_duplicates_and_late_rows(parsed):
    for dataset, id_col in (("orders", "order_id"), ("reviews", "review_id")):
        seen: dict[str, tuple] = {}
        same_day = next_day = 0
        for day, key, row in parsed[dataset]:
            if row[id_col] not in seen:
                seen[row[id_col]] = (day, key, row)
                continue
            first_day, first_key, first_row = seen[row[id_col]]
            assert row == first_row  # identical content
            assert key != first_key and day >= first_day
            if day == first_day:
                same_day += 1
            else:
                next_day += 1
        dups = same_day + next_day
        assert same_day and next_day, dataset
        if dataset == "orders":
            assert 0.01 < dups / len(seen) < 0.06
        else:
            assert dups / len(seen) < 0.06

    last = SPEC.start + dt.timedelta(days=SPEC.days - 1)
    assert all(row["created_at"].date() <= day for day, _, row in parsed["orders"])
    first_delivery = {}
    for day, _, row in parsed["orders"]:
        first_delivery.setdefault(row["order_id"], (day, row))
    late = [(day, row) for day, row in first_delivery.values() if row["created_at"].date() < day]
    assert all((day - row["created_at"].date()).days <= 2 for day, row in late)
    assert {(day - row["created_at"].date()).days for day, row in late} == {1, 2}
    assert all(row["created_at"].date() < last for _, row in late)
    distinct_late = {row["order_id"] for _, row in late}
    assert 0.02 < len(distinct_late) / (SPEC.days * SPEC.orders_per_day) < 0.1
    # reviews are delivered on the day they were written (or duplicated on the next day)
    assert all(0 <= (day - row["created_at"].date()).days <= 1 for day, _, row in parsed["reviews"])


def test_referential_integrity(parsed):
    products_by = defaultdict(set)
    users_by = defaultdict(set)
    for day, _, row in parsed["products"]:
        products_by[day].add(row["product_id"])
    for day, _, row in parsed["users"]:
        users_by[day].add(row["user_id"])
    history = defaultdict(list)  # product_id -> [(updated_at, price)]
    for _, _, row in parsed["products"]:
        history[row["product_id"]].append((row["updated_at"], row["price"]))
    for versions in history.values():
        versions.sort()

    def known(index, day):
        return set().union(*(ids for d, ids in index.items() if d <= day))

    for dataset in ("orders", "reviews"):
        for day in sorted({d for d, _, _ in parsed[dataset]}):
            products, users = known(products_by, day), known(users_by, day)
            for d, _, row in parsed[dataset]:
                if d == day:
                    assert row["product_id"] in products, row
                    assert row["user_id"] in users, row
    # unit_price is the product's price valid at order time
    for _, _, row in parsed["orders"]:
        versions = history[row["product_id"]]
        i = bisect.bisect_right([t for t, _ in versions], row["created_at"]) - 1
        assert i >= 0 and versions[i][1] == row["unit_price"], row


def test_product_and_user_updates(parsed):
    versions = defaultdict(list)
    for day, _, row in parsed["products"]:
        versions[row["product_id"]].append((day, row))
    updated = {pid: v for pid, v in versions.items() if len(v) > 1}
    assert updated
    first_day = SPEC.start
    assert all(v[0][0] == first_day for v in versions.values())  # catalogue on day 0
    price_changes = name_changes = 0
    for v in updated.values():
        for (_, old), (day, new) in itertools.pairwise(v):
            assert day > first_day and new["updated_at"] > old["updated_at"]
            assert new["updated_at"].date() == day
            price_changes += new["price"] != old["price"]
            name_changes += new["product_name"] != old["product_name"]
            assert (new["price"], new["product_name"]) != (old["price"], old["product_name"])
    assert price_changes and name_changes

    users = defaultdict(list)
    for day, _, row in parsed["users"]:
        users[row["user_id"]].append((day, row))
    assert any(len(v) > 1 for v in users.values())  # updated users
    assert any(v[0][0] > first_day for v in users.values())  # new users
    for v in users.values():
        for (_, old), (_, new) in itertools.pairwise(v):
            assert new["updated_at"] > old["updated_at"]
            assert new["created_at"] == old["created_at"]


def test_malformed_files_fail_to_parse_or_type():
    bad = [f for f in generate_landing_files(SampleSpec(include_malformed=True)) if f.malformed]
    assert sorted(f.dataset for f in bad) == ["orders", "reviews"]
    for f in bad:
        assert KEY_RE.fullmatch(f.key)
        with pytest.raises((ValueError, TypeError)):  # JSONDecodeError is a ValueError
            parse_file(f)
    orders = next(f for f in bad if f.dataset == "orders")
    rows = list(csv.DictReader(io.StringIO(orders.body.decode())))
    assert any(r["quantity"] == "two" for r in rows) and any(r["quantity"].isdigit() for r in rows)
    reviews = next(f for f in bad if f.dataset == "reviews")
    lines = reviews.body.decode().splitlines()
    for line in lines[:-1]:
        json.loads(line)
    with pytest.raises(json.JSONDecodeError):
        json.loads(lines[-1])


def test_duckdb_reads_good_files_with_contract_types(tmp_path, files):
    write_landing_files(tmp_path, files)
    con = duckdb.connect()
    types = {
        "orders": "{'order_id': 'VARCHAR', 'created_at': 'TIMESTAMP', 'user_id': 'VARCHAR', "
        "'product_id': 'VARCHAR', 'quantity': 'INTEGER', "
        "'unit_price': 'DECIMAL(12,2)', 'status': 'VARCHAR'}",
        "reviews": "{'review_id': 'VARCHAR', 'created_at': 'TIMESTAMP', 'product_id': 'VARCHAR', "
        "'user_id': 'VARCHAR', 'rating': 'INTEGER', 'review_text': 'VARCHAR'}",
    }
    counts = Counter()
    for f in files:
        path = tmp_path / f.key
        ext = f.key.rsplit(".", 1)[1]
        if ext == "parquet":
            sql = f"select count(*) from read_parquet('{path}')"
        elif f.dataset in types and ext == "csv":
            sql = (
                f"select count(*) from read_csv('{path}', header=true, columns={types[f.dataset]})"
            )
        elif f.dataset in types:
            sql = f"select count(*) from read_json('{path}', columns={types[f.dataset]})"
        else:
            sql = f"select count(*) from read_json('{path}')"
        counts[f.dataset] += con.execute(sql).fetchall()[0][0]
    assert counts["orders"] > SPEC.days * SPEC.orders_per_day
    assert counts["reviews"] > SPEC.days * SPEC.reviews_per_day


def test_write_and_upload(tmp_path, settings):
    files = generate_landing_files(SampleSpec(days=2, orders_per_day=20, reviews_per_day=5))
    write_landing_files(tmp_path, files)
    for f in files:
        assert (tmp_path / f.key).read_bytes() == f.body

    # The session's local S3 server (not moto's mock_aws, whose exit resets every moto backend
    # in the process, the session server's buckets included).
    s3 = build_s3_resource(settings).get_client()
    bucket = settings.landing_bucket + "-upload"
    size = upload_landing_files(s3, bucket, files)  # creates the bucket
    assert size == sum(len(f.body) for f in files)
    assert upload_landing_files(s3, bucket, iter(files)) == size  # bucket exists
    listed = s3.list_objects_v2(Bucket=bucket)["Contents"]
    assert sorted(o["Key"] for o in listed) == sorted(f.key for f in files)
    body = s3.get_object(Bucket=bucket, Key=files[0].key)["Body"].read()
    assert body == files[0].body


def test_main_writes_folder(tmp_path):
    assert (
        main(
            [
                "--out",
                str(tmp_path),
                "--days",
                "3",
                "--orders-per-day",
                "30",
                "--seed",
                "5",
                "--include-malformed",
            ]
        )
        == 0
    )
    expected = generate_landing_files(
        SampleSpec(days=3, orders_per_day=30, seed=5, include_malformed=True)
    )
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert written == sorted(f.key for f in expected)


def test_module_entry_point(tmp_path):
    out = tmp_path / "out"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "analytics_platform.local.sample_data",
            "--out",
            str(out),
            "--days",
            "2",
            "--orders-per-day",
            "10",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert any(Path(out, "landing", "ecommerce", "orders").rglob("*.csv"))


def test_a_dataset_without_a_specific_generator_gets_rows_from_its_declared_types():
    contacts = Dataset(
        domain="crm",
        name="contacts",
        description="Contacts.",
        columns=(
            Column("contact_id", "VARCHAR", "Id.", required=True),
            Column("score", "DECIMAL(8,3)", "Score."),
            Column("visits", "INTEGER", "Visits."),
            Column("seen_at", "TIMESTAMP", "Last seen.", required=True),
        ),
        file_format=FileFormat(delimiter="|", timestamp_format="%m/%d/%Y %H:%M:%S"),
        raw_schema="raw_crm",
    )
    spec = SampleSpec(days=3, generic_rows_per_day=7)
    files = generate_landing_files(spec, datasets=[contacts])
    assert files == generate_landing_files(spec, datasets=[contacts])
    assert [f.key for f in files] == [
        f"landing/crm/contacts/2026-10-0{d}/contacts_2026-10-0{d}_part1.csv" for d in (1, 2, 3)
    ]
    assert {(f.domain, f.dataset) for f in files} == {("crm", "contacts")}
    for f in files:
        rows = list(csv.reader(io.StringIO(f.body.decode()), delimiter="|"))
        assert rows[0] == ["contact_id", "score", "visits", "seen_at"] and len(rows) == 8
        for contact_id, score, visits, seen_at in rows[1:]:
            assert contact_id and seen_at  # required: never empty
            assert dt.datetime.strptime(seen_at, "%m/%d/%Y %H:%M:%S").date().isoformat() in f.key
            assert not score or re.fullmatch(r"\d+\.\d{3}", score)
            assert not visits or int(visits) > 0
