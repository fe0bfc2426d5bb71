"""Engine and session factories, and schema upgrades on start.

SQLite (a file under ``data/``, WAL mode) needs no set-up; PostgreSQL is one URL away. Both
run the same Alembic migrations, applied automatically when the app or the CLI starts, so an
older database keeps its data across releases.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, ProgrammingError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

__all__ = [
    "MIGRATIONS_DIR",
    "SERVER_POOL_SIZE",
    "SQLITE_POOL_SIZE",
    "alembic_config",
    "create_engine",
    "database_unavailable",
    "describe_url",
    "session_factory",
    "upgrade",
]

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def describe_url(url: str) -> str:
    """The URL with its password hidden, safe for logs and messages."""
    return make_url(url).render_as_string(hide_password=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


SQLITE_POOL_SIZE = 2
"""Connections to a SQLite file: it has one writer at a time, so more only wait on its lock."""

SERVER_POOL_SIZE = 20
"""Connections to a database server (PostgreSQL): twenty short statements at a time keep up."""

CONNECT_TIMEOUT = 5
"""Seconds to wait for a PostgreSQL connection before the database counts as away."""


def create_engine(url: str, *, echo: bool = False, pool_size: int | None = None) -> AsyncEngine:
    """An async engine; SQLite files get WAL, foreign keys and their folder created.

    ``pool_size`` defaults to ``SERVER_POOL_SIZE`` for a server and ``SQLITE_POOL_SIZE`` for a file.

    Statement parameters never appear in SQL errors or echo (``hide_parameters``): they hold
    people's names, phone numbers and questions, and errors are logged.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        pooled: dict[str, int] = {}
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
            # A file gets a small fixed pool. SQLAlchemy's default (5 plus 10 overflow) opened
            # and closed overflow connections all through a burst, each a new aiosqlite thread
            # with its pragmas, and up to 15 writers queued on the one write lock: two took 10 %
            # less CPU a reply and delivered 10 % more (bench_load, SQLite burst, interleaved).
            pooled = {"pool_size": pool_size or SQLITE_POOL_SIZE, "max_overflow": 0}
        engine = create_async_engine(url, echo=echo, hide_parameters=True, **pooled)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(
        url,
        echo=echo,
        hide_parameters=True,
        pool_size=pool_size or SERVER_POOL_SIZE,
        # No overflow: a connection opened past the pool is closed again on return, so a burst
        # kept PostgreSQL starting and ending backends and the bot connecting all through it.
        # Past the pool, statements wait their turn.
        max_overflow=0,
        pool_pre_ping=True,
        connect_args={"connect_timeout": CONNECT_TIMEOUT}
        if parsed.get_backend_name() == "postgresql"
        else {},
    )


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str | None = None) -> Config:
    """Alembic's configuration pointing at the repository's migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _upgrade(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Brings the schema to ``revision`` (default: the newest) inside one transaction."""
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade, revision)
    logger.info("database %s is at revision %s", describe_url(str(engine.url)), revision)


def database_unavailable(error: BaseException) -> bool:
    """Whether ``error`` says the database is away (not that this record is bad)."""
    if isinstance(error, DBAPIError):
        return not isinstance(error, IntegrityError | DataError | ProgrammingError)
    # PoolTimeout: every pooled connection stayed busy for pool_timeout seconds.
    return isinstance(error, OSError | TimeoutError | PoolTimeout)
