"""The peewee database, chosen by DATABASE_URL: SQLite (default) or PostgreSQL."""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

import peewee
from playhouse.pool import PooledPostgresqlDatabase, PooledSqliteDatabase

# Every model binds to this proxy; configure() points it at the real database.
database = peewee.DatabaseProxy()


def utcnow() -> dt.datetime:
    """Now, time-zone aware in UTC: what every timestamp column stores."""
    return dt.datetime.now(dt.UTC)


class DatabaseURLError(ValueError):
    """DATABASE_URL cannot be used; the message is one line a person can act on."""


class BaseModel(peewee.Model):
    class Meta:
        database = database
        legacy_table_names = False


SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "busy_timeout": 10_000,
    "synchronous": "normal",
}


def make_database(url: str) -> peewee.Database:
    """Build a pooled database from a URL, or raise DatabaseURLError saying what is wrong."""
    try:
        parsed = urlparse(url)
    except ValueError as exc:
        raise DatabaseURLError(f"DATABASE_URL is not a URL: {exc}") from None
    scheme = parsed.scheme.lower()
    if scheme == "sqlite":
        # sqlite:///relative.db or sqlite:////absolute/path.db
        raw = unquote(url[len("sqlite://") :])
        path = raw[1:] if raw.startswith("/") else raw
        if raw.startswith("//"):
            path = raw[1:]
        if not path:
            raise DatabaseURLError("DATABASE_URL sqlite:/// needs a file path, e.g. sqlite:///hub.db")
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        return PooledSqliteDatabase(
            path, pragmas=SQLITE_PRAGMAS, max_connections=32, stale_timeout=300,
            check_same_thread=False,
        )
    if scheme in ("postgres", "postgresql", "postgresql+psycopg"):
        name = parsed.path.lstrip("/")
        if not name:
            raise DatabaseURLError(
                "DATABASE_URL names no database: postgresql://USER@HOST:PORT/DATABASE"
            )
        try:
            port = parsed.port
        except ValueError:
            raise DatabaseURLError("DATABASE_URL has a port that is not a number") from None
        params: dict = {
            "host": parsed.hostname or "localhost",
            "port": port or 5432,
            "user": unquote(parsed.username) if parsed.username else None,
            "password": unquote(parsed.password) if parsed.password else None,
        }
        for key, values in parse_qs(parsed.query).items():
            params[key] = values[-1]
        max_conn = int(params.pop("max_connections", 20))
        return PooledPostgresqlDatabase(
            name,
            max_connections=max_conn,
            stale_timeout=300,
            prefer_psycopg3=True,
            **{k: v for k, v in params.items() if v is not None},
        )
    raise DatabaseURLError(
        f"DATABASE_URL scheme {parsed.scheme or '(none)'!r} is not supported: "
        "use sqlite:///PATH or postgresql://USER@HOST:PORT/DATABASE"
    )


def configure(url: str) -> peewee.Database:
    """Point every model at the database of ``url`` (kept as it is if already there)."""
    if database.obj is not None and getattr(database.obj, "hubcore_url", None) == url:
        return database.obj
    db = make_database(url)
    db.hubcore_url = url
    if database.obj is not None:
        database.obj.close_all()
    database.initialize(db)
    return db


def is_postgres() -> bool:
    return isinstance(database.obj, peewee.PostgresqlDatabase)


def is_sqlite() -> bool:
    return isinstance(database.obj, peewee.SqliteDatabase)


def write_transaction():
    """A transaction that takes the write lock up front.

    On SQLite a plain BEGIN cannot later upgrade to a write when another writer
    holds the lock ("database is locked"); BEGIN IMMEDIATE waits for it instead.
    PostgreSQL needs row locks for that (see RECIPES), plain atomic() here.
    """
    if isinstance(database.obj, peewee.SqliteDatabase):
        return database.atomic(lock_type="IMMEDIATE")
    return database.atomic()


MAX_ID = 2**63 - 1  # ids are 64-bit; a longer number overflows SQLite's binding (a 500)


def get_in_site(model: type[BaseModel], site, raw_id):
    """The row of ``model`` with this id at ``site``, or NotFound — also for an id that
    is not a number or belongs to another site (never say that it exists elsewhere)."""
    from hubcore.errors import NotFound

    text = str(raw_id)
    if not (text.isascii() and text.isdigit() and 0 < int(text) <= MAX_ID):
        raise NotFound(raw_id)
    row = model.get_or_none((model.id == int(text)) & (model.site == site))
    if row is None:
        raise NotFound(raw_id)
    return row


def like(field, pattern: str):
    """``field LIKE pattern ESCAPE '\\'`` on both databases (SQLite has no default escape)."""
    return peewee.NodeList((field, peewee.SQL("LIKE"), pattern, peewee.SQL("ESCAPE '\\'")))


def with_connection(func):
    """Run ``func`` with a pooled connection open, returned to the pool afterwards."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with database.connection_context():
            return func(*args, **kwargs)

    return wrapper
