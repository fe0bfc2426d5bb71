"""SQLite writes done in place, on the event loop's own thread, for the inquiry log's batches.

Why: through aiosqlite every statement of a batch goes to the driver's thread and comes back
through the event loop. With the loop busy, each of those trips waits for the GIL, so a batch
of a handful of inquiries took 26 ms (p50) while the SQL itself takes well under one: the one
writer was busy all the time at 200 messages a second, and everyone waited behind it
(bench_load). In WAL mode with ``synchronous=NORMAL`` a commit does not sync to disk, so the
same statements run here directly cost less than the trips did.

Two things could block the loop here, and neither may:
- **The write lock held by someone else** (a staff action through the pool, the CLI in
  another process): this connection waits for nothing (``busy_timeout`` 0). ``write`` then
  returns ``None`` and the caller writes through the pool, whose thread waits for the lock.
- **A checkpoint** (copying the WAL into the database file, with ``fsync``): this connection
  never checkpoints (``wal_autocheckpoint`` 0); every ``CHECKPOINT_EVERY`` commits a passive
  checkpoint runs on a worker thread instead.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import StaticPool

__all__ = ["CHECKPOINT_EVERY", "DirectWriter"]

logger = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

CHECKPOINT_EVERY = 100
"""Commits between two checkpoints: about SQLite's own default of 1,000 pages of WAL."""

_BUSY = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def _pragmas(dbapi_connection: Any, _record: Any) -> None:
    # No implicit transactions from the driver: ``_begin`` opens each one explicitly.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=0")
    cursor.execute("PRAGMA wal_autocheckpoint=0")
    cursor.close()


def _begin(connection: Connection) -> None:
    # IMMEDIATE takes the write lock at once, so a busy database fails here, before any write,
    # and the batch can go the other way whole (SQLAlchemy's recipe for pysqlite).
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _locked(error: OperationalError) -> bool:
    code = getattr(error.orig, "sqlite_errorcode", None)
    return code is not None and (code & 0xFF) in _BUSY


def _checkpoint(path: Path) -> tuple[int, int, int]:
    """A passive checkpoint: copies what it can, waits for no reader or writer."""
    connection = sqlite3.connect(path, timeout=5)
    try:
        busy, frames, copied = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return int(busy), int(frames), int(copied)
    finally:
        connection.close()


class DirectWriter:
    """One synchronous connection to a SQLite file, used only from the event loop's thread.

    Build it with ``DirectWriter.for_engine`` (``None`` for anything but a SQLite file).
    """

    def __init__(self, path: Path, *, checkpoint_every: int = CHECKPOINT_EVERY) -> None:
        self.path = path
        self.checkpoint_every = checkpoint_every
        self.engine = create_engine(f"sqlite:///{path}", poolclass=StaticPool, hide_parameters=True)
        event.listen(self.engine, "connect", _pragmas)
        event.listen(self.engine, "begin", _begin)
        self.commits = 0
        """Transactions committed here."""
        self.gave_way = 0
        """Transactions handed back because another connection held the write lock."""
        self.checkpoints = 0
        """Checkpoints finished."""
        self.last_checkpoint: tuple[int, int, int] | None = None
        """The last one's (busy, WAL frames, frames copied), as SQLite reports them."""
        self._since_checkpoint = 0
        self._checkpointing: asyncio.Future[tuple[int, int, int]] | None = None

    @classmethod
    def for_engine(cls, engine: AsyncEngine) -> DirectWriter | None:
        """A direct writer to the same file as ``engine``, if it is a SQLite file."""
        url = make_url(str(engine.url))
        if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
            return None
        return cls(Path(url.database))

    def write(
        self, work: Callable[Concatenate[Connection, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T | None:
        """``work(connection, …)`` in one transaction, committed; ``None`` if the lock is taken.

        Any other error propagates, with the transaction rolled back.
        """
        try:
            with self.engine.begin() as connection:
                result = work(connection, *args, **kwargs)
        except OperationalError as error:
            if _locked(error):
                self.gave_way += 1
                return None
            raise
        self.commits += 1
        self._since_checkpoint += 1
        if self._since_checkpoint >= self.checkpoint_every:
            self._checkpoint_soon()
        return result

    def _checkpoint_soon(self) -> None:
        if self._checkpointing is not None and not self._checkpointing.done():
            return  # the last one is still copying; the count runs on
        self._since_checkpoint = 0
        loop = asyncio.get_running_loop()
        self._checkpointing = loop.run_in_executor(None, _checkpoint, self.path)
        self._checkpointing.add_done_callback(self._checked)

    def _checked(self, done: asyncio.Future[tuple[int, int, int]]) -> None:
        if done.cancelled():
            return
        if done.exception() is not None:
            # The next one will try again; SQLite's other connections checkpoint too.
            logger.warning("WAL checkpoint failed (%s)", type(done.exception()).__name__)
            return
        self.checkpoints += 1
        self.last_checkpoint = done.result()

    async def close(self) -> None:
        """Waits for a checkpoint under way, then closes the connection."""
        if self._checkpointing is not None:
            await asyncio.gather(self._checkpointing, return_exceptions=True)
        self.engine.dispose()
