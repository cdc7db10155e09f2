"""The database: the shared SQLAlchemy handle, UTC timestamps and SQLite's locking rules."""

from __future__ import annotations

import fcntl
import os
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any, ClassVar, cast

from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.model import Model as QueryHelpers
from sqlalchemy import (
    CursorResult,
    DateTime,
    Engine,
    Insert,
    MetaData,
    Result,
    String,
    Table,
    event,
    insert,
    literal_column,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.sql.expression import UpdateBase
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import TypeDecorator

# Named constraints keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    if TYPE_CHECKING:
        # Every model here maps one table (none maps a join or a select), so bulk statements
        # may take `Model.__table__` as the table it is.
        __table__: ClassVar[Table]


db = SQLAlchemy(model_class=Base)

# Every model subclasses `Model`, not `db.Model`: a type checker cannot follow a base class
# read off an object at runtime (python/mypy#8603), so it is told what db.Model is built from.
if TYPE_CHECKING:

    class Model(QueryHelpers, Base):
        pass

else:
    Model = db.Model

IMMEDIATE = "reserve_sqlite_immediate"


def column_length(model: type[Model], name: str) -> int:
    """The most characters the text column `name` of `model` holds: forms and schemas say so."""
    column_type = model.__table__.c[name].type
    if not isinstance(column_type, String) or column_type.length is None:
        raise TypeError(f"{model.__tablename__}.{name} is not a text column with a length")
    return column_type.length


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime everywhere (SQLite stores it naive, PostgreSQL as timestamptz)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where a UTC instant is required")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


@event.listens_for(Engine, "connect")
def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    if type(dbapi_connection).__module__ != "sqlite3":
        return
    # Let SQLAlchemy emit BEGIN itself so a transaction can ask for BEGIN IMMEDIATE.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn: Any) -> None:
    if conn.dialect.name != "sqlite":
        return
    # A deferred transaction that reads, then writes, fails at once with SQLITE_BUSY when
    # another writer committed in between; writers take the lock up front and queue instead.
    immediate = conn.get_execution_options().get(IMMEDIATE)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class WriterQueue:
    """The writers of one SQLite database file, served one at a time in the order they block.

    SQLite lets a writer that finds the lock taken sleep and retry (its busy handler sleeps
    1, 2, 5 … 100 ms): under a rush the lock sits free while the next writer sleeps, and an
    unlucky writer keeps losing its retries for a second or more. Writers here first wait on a
    lock file instead (`flock`, which the kernel hands on the moment it is released), so
    SQLite's own lock is free whenever a writer asks for it.
    """

    def __init__(self, database: str) -> None:
        self.path = database + ".writers"
        # Each thread of each process opens the file itself: flock locks belong to an open
        # file, so two opens exclude each other while threads sharing one (or a child sharing
        # its parent's after a fork) would not.
        self._local = threading.local()
        self._opened: list[int] = []
        weakref.finalize(self, _close_all, self._opened)

    def _file(self) -> int:
        local = self._local
        if getattr(local, "pid", None) != os.getpid():
            local.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self._opened.append(local.fd)
            local.pid = os.getpid()
            local.holding = False
        return int(local.fd)

    @contextmanager
    def turn(self) -> Iterator[None]:
        try:
            fd = self._file()
        except OSError:
            # The database's folder is gone or not writable: no queue to wait in, and SQLite
            # itself will say what is wrong (the outage page answers it).
            yield
            return
        if self._local.holding:
            yield  # a write inside a write: the turn is this thread's already
            return
        fcntl.flock(fd, fcntl.LOCK_EX)
        self._local.holding = True
        try:
            yield
        finally:
            self._local.holding = False
            fcntl.flock(fd, fcntl.LOCK_UN)


def _close_all(descriptors: list[int]) -> None:
    for fd in descriptors:
        with suppress(OSError):
            os.close(fd)


# Weak: an engine disposed of and dropped (a test's app) takes its queue and files with it.
_queues: weakref.WeakKeyDictionary[Engine, WriterQueue | None] = weakref.WeakKeyDictionary()


def writer_queue(engine: Engine) -> WriterQueue | None:
    """The queue of the SQLite file `engine` writes to; None for PostgreSQL or a database in
    memory (one connection, no other process)."""
    try:
        return _queues[engine]
    except KeyError:
        pass
    database = engine.url.database
    queue = None
    if engine.dialect.name == "sqlite" and database and database != ":memory:":
        queue = WriterQueue(os.path.abspath(database))
    return _queues.setdefault(engine, queue)


@contextmanager
def writing() -> Iterator[None]:
    """Run the block as one write transaction: committed at the end, rolled back on error.

    On SQLite it takes the write lock at BEGIN, after waiting its turn in the file's
    `WriterQueue`; on PostgreSQL row locks and conditional updates inside the block do the
    same work.
    """
    if db.session().in_transaction():
        # Close the read transaction the request opened; a write lock must come at BEGIN.
        db.session.commit()
    queue = writer_queue(db.engine)
    if queue is None:
        with _write_transaction():
            yield
        return
    with queue.turn(), _write_transaction():
        yield


@contextmanager
def _write_transaction() -> Iterator[None]:
    db.session.connection(execution_options={IMMEDIATE: True})
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


class _OnConflictDoNothing(ClauseElement):
    """`ON CONFLICT (columns) DO NOTHING`, rendered by the SQLite and PostgreSQL compilers.

    The dialects' own clause carries no cache key, so every statement holding it was compiled
    afresh on each execution; this one is keyed on its columns, and SQLAlchemy's compiled cache
    serves the statement from the second call on."""

    __visit_name__ = "on_conflict_do_nothing"
    _traverse_internals = [("inferred_target_elements", InternalTraversal.dp_string_list)]
    inferred_target_whereclause = None
    constraint_target = None

    def __init__(self, index_elements: tuple[str, ...]) -> None:
        self.inferred_target_elements = list(index_elements)


@lru_cache(maxsize=64)
def insert_ignoring(
    table: Table, index_elements: tuple[str, ...], returning: str | None = None
) -> Insert:
    """INSERT … ON CONFLICT (index_elements) DO NOTHING RETURNING `returning` (a column name;
    None: a constant 1), on SQLite and PostgreSQL alike. Built once per shape; the values go
    as execution parameters, so the compiled form is reused."""
    statement = insert(table).returning(table.c[returning] if returning else literal_column("1"))
    # A plain INSERT renders this slot after its VALUES, where both dialects put ON CONFLICT.
    statement._post_values_clause = _OnConflictDoNothing(index_elements)
    return statement


class _OnConflictDoUpdate(ClauseElement):
    """`ON CONFLICT (columns) DO UPDATE SET …` from SQL both SQLite and PostgreSQL read alike,
    keyed on that SQL so that the statement holding it is compiled once (see `upsert`)."""

    __visit_name__ = "reserve_on_conflict_do_update"
    _traverse_internals = [("sql", InternalTraversal.dp_string)]

    def __init__(self, sql: str) -> None:
        self.sql = sql


@compiles(_OnConflictDoUpdate)
def _render_on_conflict_do_update(clause: _OnConflictDoUpdate, compiler: Any, **_: Any) -> str:
    return clause.sql


@lru_cache(maxsize=16)
def upsert(table: Table, index_elements: tuple[str, ...], set_sql: str, returning: str) -> Insert:
    """INSERT … ON CONFLICT (index_elements) DO UPDATE SET `set_sql` RETURNING `returning`:
    one statement, built once, for a row written whether or not it exists. `set_sql` names the
    proposed row `excluded` and the stored one by the table's name, as both dialects do."""
    statement = insert(table).returning(table.c[returning])
    statement._post_values_clause = _OnConflictDoUpdate(
        f"ON CONFLICT ({', '.join(index_elements)}) DO UPDATE SET {set_sql}"
    )
    return statement


def insert_ignoring_conflict(model: type, index_elements: list[str], **values: Any) -> bool:
    """INSERT … ON CONFLICT DO NOTHING, on SQLite and PostgreSQL alike; True when inserted."""
    # A Core statement on the table: no ORM bulk-insert machinery for one row.
    statement = insert_ignoring(cast(Any, model).__table__, tuple(index_elements))
    # RETURNING, not rowcount: psycopg reports -1 for an INSERT that a conflict skipped.
    returned: Result[Any] = db.session.execute(statement, values)
    return returned.first() is not None


def rows_changed(statement: UpdateBase) -> int:
    """Run an UPDATE or DELETE in the session; how many rows it changed."""
    # Session.execute is typed for any statement; a DML statement's result is a cursor's.
    result = cast(CursorResult[Any], db.session.execute(statement))
    return result.rowcount
