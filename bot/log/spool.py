"""A durable local spool for inquiries the database could not take.

When the database is away (PostgreSQL stopped, SQLite locked by another process or read-only)
the person still gets their answer, and the inquiry is appended here: one JSON object per
line, flushed and ``fsync``'d before the caller is told it is kept. The inquiry log replays
the spool into the database, oldest first, when the database is back (retrying with backoff,
and at start-up), then drops the replayed lines. Replaying is idempotent: a Telegram update
id is stored once, and a record without one is recognised by its person, time and text.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

__all__ = ["Spool", "default_spool_path"]

logger = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parents[2] / "data"
"""Where the spool of a PostgreSQL database lives unless a path is given."""


def default_spool_path(url: str, kind: str = "spool") -> Path:
    """Next to the SQLite file; for a server database, ``data/<kind>-<host>-<port>-<db>.jsonl``.

    ``kind`` "updates" names the bot's journal of fetched Telegram updates (``handlers.polling``).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            path = Path(database)
            return path.with_name(f"{path.name}.{kind}.jsonl")
        return DATA_DIR / f"{kind}-memory.jsonl"
    name = f"{kind}-{parsed.host or 'local'}-{parsed.port or 0}-{parsed.database or 'db'}.jsonl"
    return DATA_DIR / name


class Spool:
    """Append-only JSON lines with an id each; ``take`` reads them, ``drop`` removes replayed ones."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, records: list[dict[str, Any]]) -> list[str]:
        """Writes the records durably (one ``fsync``); returns their spool ids.

        Raises ``OSError`` when the spool cannot be written: then nothing is claimed kept.
        """
        ids = []
        lines = []
        for record in records:
            spool_id = uuid.uuid4().hex
            ids.append(spool_id)
            lines.append(json.dumps({"spool_id": spool_id, **record}, ensure_ascii=False) + "\n")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                lines.insert(0, "\n")  # close a line torn by a crash, so it stays apart
            os.write(fd, "".join(lines).encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        return ids

    def _lines(self) -> list[str]:
        if not self.path.exists():
            return []
        with self.path.open(encoding="utf-8", errors="replace") as handle:
            return handle.readlines()

    def take(self, limit: int | None = None) -> list[dict[str, Any]]:
        """The oldest ``limit`` records (all by default), in the order they were written.

        A line torn by a crash (it was never acknowledged to anyone) is skipped and logged.
        """
        records: list[dict[str, Any]] = []
        for number, line in enumerate(self._lines(), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                logger.error("spool %s line %d is torn or not JSON; skipped", self.path, number)
                continue
            if isinstance(record, dict) and "spool_id" in record:
                records.append(record)
            if limit is not None and len(records) >= limit:
                break
        return records

    def __len__(self) -> int:
        return len(self.take())

    def drop(self, spool_ids: set[str]) -> None:
        """Removes the records with these ids (replayed); the file is rewritten atomically."""
        if not spool_ids:
            return
        rest = []
        for line in self._lines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(record, dict) and record.get("spool_id") not in spool_ids:
                rest.append(line)
        if not rest:
            self.path.unlink()
            return
        temporary = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, "".join(rest).encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, self.path)
