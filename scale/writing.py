"""Writing `seed_scale`'s rows: ids taken ahead, COPY (or bulk_create) in batches, progress,
and the secondary indexes and foreign keys dropped around a large load and built again.
"""

from __future__ import annotations

import csv
import io
import json
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from django.conf import settings
from django.core.management.base import CommandError
from django.db import connection, connections, models, transaction

from grids.models import (
    Patrol,
)
from issues.models import FollowUp, Issue, IssueEvent, Mediation
from scale import story

DROPPED = "seed_scale_dropped.json"

# Each batch's rows, table by table, parents first.
TABLES: list[tuple[str, type[models.Model], tuple[str, ...]]] = [
    ("patrols", Patrol, story.PATROL_COLUMNS),
    ("issues", Issue, story.ISSUE_COLUMNS),
    ("events", IssueEvent, story.EVENT_COLUMNS),
    ("follow_ups", FollowUp, story.FOLLOW_UP_COLUMNS),
    ("mediations", Mediation, story.MEDIATION_COLUMNS),
]


class IdSource:
    """Primary keys taken ahead, so that children name their parents without a round trip."""

    def __init__(self, postgres: bool) -> None:
        self.postgres = postgres
        self.next: dict[type[models.Model], int] = {}

    def take(self, model: type[models.Model], n: int) -> list[int]:
        table = model._meta.db_table
        if self.postgres:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                    [table, n],
                )
                return [row[0] for row in cursor.fetchall()]
        if model not in self.next:
            top = model._default_manager.aggregate(top=models.Max("pk"))["top"] or 0
            self.next[model] = top + 1
        first = self.next[model]
        self.next[model] += n
        return list(range(first, first + n))


class Writer:
    def put(self, batch: story.Batch) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class BulkWriter(Writer):
    """SQLite and anything else: bulk_create, fine for the few thousand issues CI loads."""

    def __init__(self, done: Callable[[int], None]) -> None:
        self.done = done

    def put(self, batch: story.Batch) -> None:
        with transaction.atomic():
            for name, model, columns in TABLES:
                model._default_manager.bulk_create(
                    (model(**dict(zip(columns, row, strict=True))) for row in getattr(batch, name)),
                    batch_size=500,
                )
        self.done(len(batch.issues))

    def close(self) -> None:
        pass


@dataclass
class _Copy:
    sql: str
    extra: tuple[Any, ...] = ()
    force_not_null: list[str] = field(default_factory=list)


def _copy_statement(model: type[models.Model], columns: tuple[str, ...]) -> _Copy:
    """COPY … FROM STDIN for these attnames; fields the rows leave out get their default."""
    opts = model._meta
    given = [cast(models.Field, opts.get_field(c)) for c in columns]  # columns, not relations
    extra_fields, extra = [], []
    for f in opts.concrete_fields:
        if f in given or f.primary_key or f.null:
            continue
        if not f.has_default():
            raise CommandError(f"seed_scale cannot fill {opts.label}.{f.name}; teach it how.")
        extra_fields.append(f)
        value = f.get_db_prep_save(f.get_default(), connection)
        extra.append("t" if value is True else "f" if value is False else value)
    fields = given + extra_fields
    # CSV reads an unquoted empty field as NULL; these columns mean the empty string by it.
    texts = [
        connection.ops.quote_name(cast(str, f.column))
        for f in fields
        if not f.null and isinstance(f, models.CharField | models.TextField)
    ]
    cols = ", ".join(connection.ops.quote_name(cast(str, f.column)) for f in fields)
    options = "FORMAT csv" + (f", FORCE_NOT_NULL ({', '.join(texts)})" if texts else "")
    return _Copy(f"COPY {opts.db_table} ({cols}) FROM STDIN WITH ({options})", tuple(extra))


class CopyWriter(Writer):
    """PostgreSQL COPY, one transaction per batch.

    Threaded, a second connection copies batch k while this thread draws batch k+1: the
    drawing is Python, the copying is the server, and the machine has two cores.
    """

    def __init__(self, *, threaded: bool, done: Callable[[int], None]) -> None:
        self.done = done
        self.copies = {name: _copy_statement(model, cols) for name, model, cols in TABLES}
        self.error: BaseException | None = None
        self.threaded = threaded
        if threaded:
            self.queue: queue.Queue[tuple[int, list[tuple[str, io.StringIO]]] | None] = queue.Queue(
                1
            )
            self.thread = threading.Thread(target=self._run, name="seed_scale-copy", daemon=True)
            self.thread.start()

    def _buffers(self, batch: story.Batch) -> tuple[int, list[tuple[str, io.StringIO]]]:
        out = []
        for name, _, _ in TABLES:
            rows = getattr(batch, name)
            copy = self.copies[name]
            buf = io.StringIO()
            writer = csv.writer(buf, lineterminator="\n")
            if copy.extra:
                writer.writerows(row + copy.extra for row in rows)
            else:
                writer.writerows(rows)
            buf.seek(0)
            out.append((copy.sql, buf))
        return len(batch.issues), out

    def put(self, batch: story.Batch) -> None:
        item = self._buffers(batch)
        if not self.threaded:
            self._copy(connection, item[1])
            self.done(item[0])
            return
        while True:
            if self.error is not None:
                raise CommandError(f"COPY failed: {self.error}") from self.error
            try:
                self.queue.put(item, timeout=1)
                return
            except queue.Full:
                continue

    @staticmethod
    def _copy(conn: Any, buffers: list[tuple[str, io.StringIO]]) -> None:
        with transaction.atomic(using=conn.alias), conn.cursor() as cursor:
            for sql, buf in buffers:
                cursor.copy_expert(sql, buf, 1 << 20)

    def _run(self) -> None:
        conn = connections[connection.alias]
        try:
            with conn.cursor() as cursor:
                # A crash loses the batches in flight, and the load is rerun anyway.
                cursor.execute("SET synchronous_commit = off")
            while True:
                item = self.queue.get()
                if item is None:
                    return
                count, buffers = item
                self._copy(conn, buffers)
                self.done(count)
        except BaseException as e:
            self.error = e
            # Unblock a producer waiting on a full queue.
            while not self.queue.empty():
                self.queue.get_nowait()
        finally:
            conn.close()

    def close(self) -> None:
        if not self.threaded:
            return
        while self.thread.is_alive():
            try:
                self.queue.put(None, timeout=1)
                break
            except queue.Full:
                continue
        self.thread.join()
        if self.error is not None:
            raise CommandError(f"COPY failed: {self.error}") from self.error


class Progress:
    def __init__(self, write: Callable[[str], None], total: int) -> None:
        self.write = write
        self.total = total
        self.done = 0
        self.started = time.monotonic()
        self.lock = threading.Lock()

    def add(self, n: int) -> None:
        with self.lock:
            self.done += n
            elapsed = time.monotonic() - self.started
            rate = self.done / elapsed if elapsed else 0
            eta = (self.total - self.done) / rate if rate else 0
            self.write(
                f"issues {self.done:,}/{self.total:,} ({100 * self.done // self.total}%) "
                f"{elapsed:.0f} s, ~{rate:,.0f}/s, ETA {_duration(eta)}"
            )


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} m"


# --- indexes and foreign keys ---------------------------------------------------------------


@dataclass
class Dropped:
    """Exact definitions of what a load dropped, as PostgreSQL itself prints them."""

    indexes: list[tuple[str, str, str]] = field(default_factory=list)  # table, name, def
    foreign_keys: list[tuple[str, str, str]] = field(default_factory=list)  # table, name, def

    def __bool__(self) -> bool:
        return bool(self.indexes or self.foreign_keys)


def drop_secondary(tables: list[str]) -> Dropped:
    """Drop the B-tree indexes and the foreign keys of these tables, to rebuild after a load.

    Checking ten foreign keys per issue row and maintaining some thirty B-trees cost several
    times what the COPY itself does; building each index once and validating each key with one
    join afterwards does not (100,000 issues: 108 s with everything kept, 34 s so). What stays:
    primary keys and unique constraints (references, one visit number per issue); partial
    indexes, which hold only open issues or pending visits and whose predicates PostgreSQL
    prints in a form that reads back as another text; and the GIN index of the search bigrams,
    which a million rows build in 2.5 minutes on one core at the end but which is kept up in
    the COPY connection while Python draws the next batch. The definitions are saved to a file
    first, so that an interrupted run restores them the next time.
    """
    dropped = Dropped()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT t.relname, i.relname, pg_get_indexdef(i.oid)
            FROM pg_index x
            JOIN pg_class i ON i.oid = x.indexrelid
            JOIN pg_class t ON t.oid = x.indrelid
            JOIN pg_am am ON am.oid = i.relam
            WHERE t.relname = ANY(%s) AND pg_table_is_visible(t.oid)
              AND am.amname = 'btree' AND x.indpred IS NULL
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
            ORDER BY t.relname, i.relname
            """,
            [tables],
        )
        dropped.indexes = [tuple(row) for row in cursor.fetchall()]
        cursor.execute(
            """
            SELECT t.relname, c.conname, pg_get_constraintdef(c.oid)
            FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
            WHERE c.contype = 'f' AND t.relname = ANY(%s) AND pg_table_is_visible(t.oid)
            ORDER BY t.relname, c.conname
            """,
            [tables],
        )
        dropped.foreign_keys = [tuple(row) for row in cursor.fetchall()]
        (settings.VAR_DIR / DROPPED).write_text(
            json.dumps(
                {"indexes": dropped.indexes, "foreign_keys": dropped.foreign_keys},
                ensure_ascii=False,
            )
        )
        quote = connection.ops.quote_name
        for table, name, _ in dropped.foreign_keys:
            cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
        for _, name, _ in dropped.indexes:
            cursor.execute(f"DROP INDEX {quote(name)}")
    return dropped


def restore_secondary(dropped: Dropped) -> None:
    """Build the indexes as they were, then add the foreign keys back, which checks every row.

    The issues' indexes and the others' build on two connections at once, one per core.
    """
    issues = [i for i in dropped.indexes if i[0] == Issue._meta.db_table]
    others = [i for i in dropped.indexes if i[0] != Issue._meta.db_table]
    errors: list[BaseException] = []

    def build(indexes: list[tuple[str, str, str]]) -> None:
        conn = connections.create_connection(connection.alias)
        try:
            with conn.cursor() as cursor:
                cursor.execute("SET maintenance_work_mem = '1GB'")
                for _, _, definition in indexes:
                    cursor.execute(_if_not_exists(definition))
        except BaseException as e:
            errors.append(e)
        finally:
            conn.close()

    threads = [threading.Thread(target=build, args=(part,)) for part in (issues, others) if part]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise CommandError(f"Rebuilding an index failed: {errors[0]}") from errors[0]
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute("SELECT conrelid::regclass::text, conname FROM pg_constraint")
        present = set(cursor.fetchall())
        for table, name, definition in dropped.foreign_keys:
            if (table, name) not in present:
                cursor.execute(
                    f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}"
                )
    (settings.VAR_DIR / DROPPED).unlink(missing_ok=True)


def _if_not_exists(definition: str) -> str:
    for prefix in ("CREATE INDEX ", "CREATE UNIQUE INDEX "):
        if definition.startswith(prefix):
            return prefix + "IF NOT EXISTS " + definition[len(prefix) :]
    return definition


def restore_interrupted(write: Callable[[str], None]) -> None:
    """Put back what a load that did not finish dropped."""
    path = settings.VAR_DIR / DROPPED
    if path.exists():
        saved = json.loads(path.read_text())
        dropped = Dropped(
            [tuple(i) for i in saved["indexes"]], [tuple(f) for f in saved["foreign_keys"]]
        )
        write(
            f"restoring {len(dropped.indexes)} indexes and {len(dropped.foreign_keys)} foreign "
            "keys an interrupted run dropped …"
        )
        restore_secondary(dropped)
