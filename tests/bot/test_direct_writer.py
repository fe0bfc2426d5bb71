"""The inquiry log writes SQLite batches in place, and steps aside when the lock is taken."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Connection

from bot.assistant import Assistant, Person
from bot.log.db import create_engine
from bot.log.direct import DirectWriter
from bot.log.inquiry_log import InquiryLog
from bot.log.models import Inquiry, Ticket
from knowledge.schema import Audience
from knowledge.service import KnowledgeService


def _person(number: int) -> Person:
    return Person(f"telegram:{5000 + number}", f"P{number}", Audience.TALENT, "zh")


async def _ask(assistant: Assistant, numbers: range, text: str = "人才公寓怎么申请") -> None:
    await asyncio.gather(
        *(assistant.ask(_person(n), text, channel="telegram", update_id=n) for n in numbers)
    )


async def _stored(log: InquiryLog) -> list[int]:
    async with log.sessions() as session:
        ids = await session.scalars(select(Inquiry.update_id).order_by(Inquiry.update_id))
        return [i for i in ids if i is not None]


async def test_inquiries_to_a_sqlite_file_are_committed_in_place_tickets_included(
    knowledge: KnowledgeService, tmp_path: Path
) -> None:
    log = await InquiryLog.open(f"sqlite+aiosqlite:///{tmp_path / 'log.sqlite3'}")
    try:
        direct = log.recorder.direct
        assert direct is not None
        assistant = Assistant(knowledge, log)
        await _ask(assistant, range(30))
        await _ask(assistant, range(30, 40), "火星上的签证怎么办理")  # unmatched: tickets
        assert await _stored(log) == list(range(40))
        async with log.sessions() as session:
            tickets = (await session.scalars(select(Ticket))).all()
        assert len(tickets) == 10
        assert 1 <= direct.commits <= 40, "batches went through the direct writer"
    finally:
        await log.close()


async def test_while_another_connection_holds_the_lock_the_batch_goes_through_the_pool(
    knowledge: KnowledgeService, tmp_path: Path
) -> None:
    path = tmp_path / "log.sqlite3"
    log = await InquiryLog.open(f"sqlite+aiosqlite:///{path}")
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    release = threading.Timer(0.5, lambda: holder.execute("COMMIT"))
    try:
        direct = log.recorder.direct
        assert direct is not None
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticker = asyncio.create_task(tick())
        release.start()
        await _ask(Assistant(knowledge, log), range(5))
        ticker.cancel()
        assert await _stored(log) == list(range(5))
        assert direct.gave_way >= 1, "the direct writer gave way instead of waiting"
        assert log.spooled == 0, "the pool waited for the lock: nothing needed the spool"
        assert ticks >= 20, "the event loop kept running while the lock was held"
    finally:
        release.join()
        holder.close()
        await log.close()


def _insert(connection: Connection, number: int) -> None:
    connection.exec_driver_sql("INSERT INTO t VALUES (?)", (str(number),))


async def test_the_wal_is_checkpointed_on_a_worker_thread(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite3"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    async with engine.begin() as connection:
        await connection.exec_driver_sql("CREATE TABLE t (x TEXT)")
    await engine.dispose()
    writer = DirectWriter(path, checkpoint_every=5)
    try:
        for number in range(12):
            writer.write(_insert, number)
        await asyncio.sleep(0)  # the executor's thread reports back through the loop
    finally:
        await writer.close()
    assert writer.commits == 12
    assert writer.checkpoints >= 1 and writer.last_checkpoint is not None, "a checkpoint ran"
    busy, frames, copied = writer.last_checkpoint
    assert busy == 0 and frames > 0 and copied > 0
    with sqlite3.connect(path) as check:
        assert check.execute("SELECT count(*) FROM t").fetchone() == (12,)


def test_only_a_sqlite_file_gets_a_direct_writer(tmp_path: Path) -> None:
    memory = create_engine("sqlite+aiosqlite:///:memory:")
    server = create_engine("postgresql+psycopg://u:p@127.0.0.1:1/x")
    file = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'a.sqlite3'}")
    assert DirectWriter.for_engine(memory) is None
    assert DirectWriter.for_engine(server) is None
    writer = DirectWriter.for_engine(file)
    assert writer is not None and writer.path == tmp_path / "a.sqlite3"
