"""Event log storage of the local Dagster instance (`make dev`, `make demo`, tests, benchmarks).

Dagster's SQLite event log opens a connection and commits once per event (twice for asset
events: the run's database and the cross-run index), and each commit waits for an fsync: 3 ms on
a quiet disk here, 18 ms on a busy one. A dbt build of 500 models logs about 1,100 events, which
made the event log the largest part of Dagster's overhead on top of dbt (BENCHMARKS.md, #3).

This storage is Dagster's SQLite event log with these changes:
- `PRAGMA synchronous=NORMAL` on its connections. Dagster already puts these databases in WAL
  mode, where NORMAL still survives any crash of the process; only an operating-system crash or
  power loss can drop the last events written (SQLite "synchronous" docs).
- one SQLAlchemy engine per database file, kept (for the most recent `ENGINES_KEPT` files)
  instead of created and disposed for every event: building an engine and initialising its
  dialect cost more than the insert. Each engine keeps its connection open between events
  (Dagster opens and closes one per use): opening one is a file open plus the pragmas, ~1-3 ms,
  per database, per event. At most `ENGINES_KEPT` files stay open; an evicted engine closes its
  connection. Dagster starts run workers and step processes with spawn, never fork, so no child
  inherits an open connection. An open connection means events stay in the database's WAL
  until a checkpoint, so the file watcher the webserver follows a live run with wakes on the
  WAL file too (`watch`).
- a batch of events (the "materialization planned" event of every asset a run targets, logged
  when the run is created; a partitioned asset's materializations) in one transaction per
  database instead of two connections and commits per event. Dagster only hands storage a batch
  when `DAGSTER_EVENT_BATCH_SIZE` is set, so this storage sets it (unless the environment does).
- the schema inspections Dagster repeats per asset event (does the asset-key table have this
  column, does this index table exist) answered once: a yes stays a yes.
The first two took a 500-model dbt build from 1.58x to about 1.2x plain dbt; BENCHMARKS.md has
what the others bought.
For a local instance that is the right trade; deployments keep their event log in PostgreSQL,
where none of this applies.

Selected by the dagster.yaml that `analytics-platform` writes (local/dagster_yaml.py).
"""

import os
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from functools import partial
from pathlib import Path

import dagster._check as check
from dagster import DagsterEventType, DagsterRun, StringSource
from dagster._core.events.log import EventLogEntry
from dagster._core.launcher import CheckRunHealthResult, DefaultRunLauncher, WorkerStatus
from dagster._core.storage.event_log import SqliteEventLogStorage
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorageWatchdog
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from dagster._serdes import ConfigurableClassData
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import QueuePool
from watchdog.events import FileSystemEvent, PatternMatchingEventHandler
from watchdog.observers import Observer

ENGINES_KEPT = 32
EVENT_BATCH_SIZE = "1000"

_RELAXED_DIRECTORIES: set[Path] = set()


def _relax_sync_of_databases_under(directory: Path) -> None:
    """Every SQLite connection opened in this process on a file under `directory` gets
    synchronous=NORMAL. Dagster creates a new engine for each event, so the hook is on the
    Engine class; it leaves connections to any other database alone."""
    if not _RELAXED_DIRECTORIES:
        event.listen(Engine, "connect", _relax_sync_if_event_log)
    _RELAXED_DIRECTORIES.add(directory)


def _relax_sync_if_event_log(dbapi_connection, _connection_record) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    database_file = dbapi_connection.execute("PRAGMA database_list").fetchone()[2]
    if database_file and any(Path(database_file).is_relative_to(d) for d in _RELAXED_DIRECTORIES):
        dbapi_connection.execute("PRAGMA synchronous=NORMAL")


class LocalSqliteEventLogStorage(SqliteEventLogStorage):
    """Config: `dagster_home`, the instance's folder; events go where Dagster's default SQLite
    storage puts them (`<dagster_home>/history/runs/`), so switching keeps existing history."""

    def __init__(self, dagster_home: str, inst_data: ConfigurableClassData | None = None):
        base_dir = Path(check.str_param(dagster_home, "dagster_home")).resolve() / "history" / "runs"
        _relax_sync_of_databases_under(base_dir)
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._batch = threading.local()
        # Schema facts Dagster re-inspects per asset event that have been seen true: a table or
        # column, once there, stays (migrations only add them; `wipe()` recreates the tables).
        self._schema_seen: set[tuple[str, str]] = set()
        # Read by the instance at each event (dagster/_core/instance/utils.py); 0 turns batching off.
        os.environ.setdefault("DAGSTER_EVENT_BATCH_SIZE", EVENT_BATCH_SIZE)
        super().__init__(base_dir=os.fspath(base_dir), inst_data=inst_data)

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        """Dagster's `_connect`, with the engine kept. Inside `store_event_batch` (on its thread)
        every shard's connection opened by the batch is reused until the batch ends."""
        batch_connections = getattr(self._batch, "connections", None)
        if batch_connections is not None:  # this thread holds _db_lock for the whole batch
            if shard not in batch_connections:
                batch_connections[shard] = self._batch.stack.enter_context(self._open(shard))
            yield batch_connections[shard]
            return
        with self._db_lock, self._open(shard) as connection:
            yield connection

    @contextmanager
    def _open(self, shard: str) -> Iterator[Connection]:
        """A connection to `shard` in a transaction; the caller holds `_db_lock`. A shard missing
        from `_initialized_dbs` (first use, or after `wipe()` deleted the files) gets a new engine
        and its tables."""
        engine = self._engines.get(shard) if shard in self._initialized_dbs else None
        if engine is None:
            engine = create_engine(
                self.conn_string_for_shard(shard),
                poolclass=QueuePool,
                pool_size=1,  # one at a time: _db_lock serialises every use
                max_overflow=4,
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
            )
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            self._keep_engine(shard, engine)
        self._engines.move_to_end(shard)
        with engine.connect() as connection, connection.begin():
            yield connection

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        """Every event of the batch stored as `store_event` stores it, in one transaction per
        database instead of one per event (two for an asset event): a run's start logs one
        "materialization planned" event per asset in one batch. If any event fails, the batch
        rolls back and Dagster stores its events one at a time (`handle_new_event`)."""
        with self._db_lock, ExitStack() as stack:
            self._batch.stack, self._batch.connections = stack, {}
            try:
                for event in events:
                    self.store_event(event)
            finally:
                self._batch.stack = self._batch.connections = None

    def _seen_in_schema(self, fact: tuple[str, str], inspect: Callable[[], bool]) -> bool:
        """`inspect()` until it has said yes once (`_schema_seen`)."""
        if fact not in self._schema_seen and inspect():
            self._schema_seen.add(fact)
        return fact in self._schema_seen

    def _has_asset_key_col_on_connection(self, conn: Connection, column_name: str) -> bool:
        """Dagster inspects the asset-key table's columns for every asset event (~1 ms)."""
        inspect = partial(super()._has_asset_key_col_on_connection, conn, column_name)
        return self._seen_in_schema(("column", column_name), inspect)

    def has_table(self, table_name: str) -> bool:
        """Dagster asks whether an index table exists for every asset event with tags (data
        versions), each time through a new engine and connection (~1 ms: 0.6 s of a 500-model
        run's events)."""
        return self._seen_in_schema(("table", table_name), partial(super().has_table, table_name))

    def watch(self, run_id: str, cursor: str | None, callback) -> None:
        """Dagster's watch (the webserver following a live run), woken by writes to the run
        database's WAL as well: the writer's connection stays open, so its events sit in the WAL
        until a checkpoint, and the database file itself may not change until the run ends."""
        if not self._obs:
            self._obs = Observer()
            self._obs.start()
        watchdog = _RunLogWatchdog(self, run_id, callback, cursor)
        self._watchers[run_id][callback] = (watchdog, self._obs.schedule(watchdog, self._base_dir, recursive=True))

    def wipe(self) -> None:
        """Dagster's wipe deletes the run databases: close their connections first."""
        self._dispose_engines()
        super().wipe()
        self._schema_seen.clear()

    def dispose(self) -> None:
        self._dispose_engines()
        super().dispose()

    def _dispose_engines(self) -> None:
        with self._db_lock:
            while self._engines:
                self._engines.popitem()[1].dispose()

    def _keep_engine(self, shard: str, engine: Engine) -> None:
        replaced = self._engines.pop(shard, None)
        if replaced is not None:
            replaced.dispose()
        self._engines[shard] = engine
        while len(self._engines) > ENGINES_KEPT:
            _, evicted = self._engines.popitem(last=False)
            evicted.dispose()

    @classmethod
    def config_type(cls):
        return {"dagster_home": StringSource}

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData | None, config_value):
        return cls(inst_data=inst_data, **config_value)


class _RunLogWatchdog(SqliteEventLogStorageWatchdog):
    """Dagster's watchdog of one run's database, matching its WAL file too."""

    def __init__(self, storage: SqliteEventLogStorage, run_id: str, callback, cursor: str | None):
        super().__init__(storage, run_id, callback, cursor)
        PatternMatchingEventHandler.__init__(self, patterns=[self._log_path, f"{self._log_path}-wal"])

    def on_modified(self, event: FileSystemEvent) -> None:
        self._process_log()


# --- run monitoring: a launcher that can tell a dead run worker ------------------------------
#
# Dagster's default launcher starts each run worker as a process on this machine (through the code
# server) but cannot say whether it is still alive, so run monitoring never notices a worker
# that was SIGKILLed (the OOM killer, a closed laptop lid is not one, `kill -9` is): the run stays
# STARTED, keeps its `warehouse` pool slot, and every later run queues behind it forever. This
# launcher answers run monitoring's health check from the pid the worker reports in its first
# event ("Started process for run (pid: N)"): no such process, a zombie, or a process that started
# after that event (the pid was reused) means the worker is gone; the monitoring daemon then marks
# the run failed, the concurrency daemon frees its slots, and run retries re-launch it.
# Selected by the dagster.yaml that `analytics-platform` writes (local/dagster_yaml.py).

_WORKER_STARTED = ("Started process for run", "Started process for resuming job")


class LocalRunLauncher(DefaultRunLauncher):
    """The default launcher, plus a worker health check by pid (same machine only)."""

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: DagsterRun) -> CheckRunHealthResult:
        started = _worker_started(self._instance, run.run_id)
        if started is None:
            return CheckRunHealthResult(WorkerStatus.RUNNING, "no worker pid reported yet")
        pid, reported_at = started
        if process_is_alive(pid, started_before=reported_at):
            return CheckRunHealthResult(WorkerStatus.RUNNING)
        return CheckRunHealthResult(
            WorkerStatus.FAILED, f"run worker process {pid} is gone (killed, e.g. by the OOM killer)"
        )


def _worker_started(instance, run_id: str) -> tuple[int, float] | None:
    """(pid, timestamp) of the latest run worker of the run, from its engine events."""
    latest = None
    for entry in instance.all_logs(run_id, of_type=DagsterEventType.ENGINE_EVENT):
        event = entry.dagster_event
        if event is None or event.step_key or not (event.message or "").startswith(_WORKER_STARTED):
            continue
        pid = (event.engine_event_data.metadata or {}).get("pid")
        if pid is not None:
            latest = (int(pid.value), entry.timestamp)
    return latest


def process_is_alive(pid: int, started_before: float | None = None) -> bool:
    """Whether `pid` is a live (not zombie) process, started no later than `started_before`
    (seconds since the epoch) when given and /proc can tell."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    stat = Path(f"/proc/{pid}/stat")
    try:
        fields = stat.read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return True  # no /proc (macOS): existence is all we can tell
    if fields[0] in ("Z", "X"):
        return False
    if started_before is not None:
        boot_time = next(
            int(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines() if line.startswith("btime")
        )
        process_started = boot_time + int(fields[19]) / os.sysconf("SC_CLK_TCK")
        if process_started > started_before + 2:
            return False  # the pid now belongs to a newer process
    return True
