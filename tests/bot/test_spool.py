"""The database going away: people keep their answers, inquiries wait in the spool, none lost."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from bot.assistant import Assistant, Person
from bot.log.db import create_engine
from bot.log.inquiry_log import InquiryLog
from bot.log.models import Inquiry, Ticket
from bot.log.spool import Spool
from knowledge.service import KnowledgeService
from knowledge.verdict import Outcome
from tests.pgserver import ThrowawayPostgres

PEOPLE = [Person(f"telegram:{3000 + n}", f"Person {n}") for n in range(20)]
QUESTIONS = ["人才公寓怎么申请", "公积金怎么提取", "火星上的停车位怎么申请"]


async def _ask_all(assistant: Assistant, numbers: range) -> list[object]:
    return list(
        await asyncio.gather(
            *(
                assistant.ask(
                    PEOPLE[n % len(PEOPLE)],
                    QUESTIONS[n % len(QUESTIONS)],
                    channel="telegram",
                    update_id=n,
                )
                for n in numbers
            )
        )
    )


async def _drained(log: InquiryLog, seconds: float = 60) -> None:
    for _ in range(int(seconds * 10)):
        if not log.spooled:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{log.spooled} inquiries still spooled after {seconds} s")


async def _stored_update_ids(log: InquiryLog) -> list[int]:
    async with log.sessions() as session:
        rows = await session.scalars(select(Inquiry.update_id).order_by(Inquiry.id))
        return [int(u) for u in rows if u is not None]


async def test_postgresql_stopped_in_the_middle_of_500_inquiries_still_stores_exactly_500(
    knowledge: KnowledgeService, tmp_path: Path
) -> None:
    with ThrowawayPostgres("spooltest") as server:
        spool = tmp_path / "spool.jsonl"
        log = await InquiryLog.open(server.url, spool_path=spool, retry_max_seconds=0.5)
        try:
            assistant = Assistant(knowledge, log)
            answered = []
            for start in range(0, 500, 25):
                if start == 200:
                    server.pause()
                if start == 350:
                    server.resume()
                answered += await _ask_all(assistant, range(start, start + 25))
            assert len(answered) == 500, "every person got an answer"
            await _drained(log)
            stored = await _stored_update_ids(log)
            assert len(stored) == 500
            assert sorted(stored) == list(range(500)), "none lost, none twice"
            rounds = [sorted(stored[n : n + 25]) for n in range(0, 500, 25)]
            assert rounds == [list(range(n, n + 25)) for n in range(0, 500, 25)], (
                "stored in the order asked: each round of 25 after the one before it"
            )
            assert not spool.exists()
            async with log.sessions() as session:
                unmatched = await session.scalar(
                    select(func.count()).where(Inquiry.outcome == Outcome.UNMATCHED.value)
                )
                linked = await session.scalar(
                    select(func.count()).where(Inquiry.ticket_id.is_not(None))
                )
                tickets = await session.scalar(select(func.count()).select_from(Ticket))
            assert unmatched and linked == unmatched, "spooled questions open their tickets too"
            assert tickets
        finally:
            await log.close()


@pytest.fixture
def locked_sqlite(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """An SQLite log whose file another process holds a write lock on until it is told to stop."""
    path = tmp_path / "log.sqlite3"
    url = f"sqlite+aiosqlite:///{path}"
    asyncio.run(_create(url))
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys\n"
            f"c = sqlite3.connect({str(path)!r}, isolation_level=None)\n"
            "c.execute('BEGIN IMMEDIATE')\n"
            "print('locked', flush=True)\n"
            "sys.stdin.read()\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    try:
        yield url, holder
    finally:
        if holder.poll() is None:
            holder.kill()
        holder.wait()


async def _create(url: str) -> None:
    log = await InquiryLog.open(url)
    await log.close()


def _release(holder: subprocess.Popen[str]) -> None:
    assert holder.stdin is not None
    holder.stdin.close()
    holder.wait(timeout=10)


async def test_a_locked_sqlite_file_spools_inquiries_and_they_are_stored_once_unlocked(
    knowledge: KnowledgeService, locked_sqlite: tuple[str, subprocess.Popen[str]], tmp_path: Path
) -> None:
    url, holder = locked_sqlite
    spool = tmp_path / "log.sqlite3.spool.jsonl"
    log = await InquiryLog.open(url, migrate=False, retry_max_seconds=0.5)
    try:
        assert log.spool.path == spool, "the spool lives next to the database by default"
        replies = await _ask_all(Assistant(knowledge, log), range(40))
        assert len(replies) == 40
        assert log.spooled == 40
        assert len(Spool(spool)) == 40
        _release(holder)
        await _drained(log)
        assert sorted(await _stored_update_ids(log)) == list(range(40))
    finally:
        await log.close()


async def test_what_an_outage_spooled_is_replayed_at_the_next_start_without_duplicates(
    knowledge: KnowledgeService, locked_sqlite: tuple[str, subprocess.Popen[str]], tmp_path: Path
) -> None:
    url, holder = locked_sqlite
    log = await InquiryLog.open(url, migrate=False, retry_max_seconds=60)
    assistant = Assistant(knowledge, log)
    await _ask_all(assistant, range(10))
    await assistant.ask(PEOPLE[0], "没有更新编号的问题", channel="console")
    await log.close()
    assert len(Spool(tmp_path / "log.sqlite3.spool.jsonl")) == 11
    _release(holder)
    reopened = await InquiryLog.open(url)
    try:
        assert reopened.spooled == 0
        assert sorted(await _stored_update_ids(reopened)) == list(range(10))
        spooled_again = await InquiryLog.open(url)  # the spool is gone: nothing replays twice
        await spooled_again.close()
        async with reopened.sessions() as session:
            total = await session.scalar(select(func.count()).select_from(Inquiry))
        assert total == 11
    finally:
        await reopened.close()


async def test_replaying_the_same_spool_twice_stores_each_inquiry_once(
    knowledge: KnowledgeService, tmp_path: Path
) -> None:
    down = "postgresql+psycopg://postgres@127.0.0.1:1/nowhere"
    spool = Spool(tmp_path / "spool.jsonl")
    away = InquiryLog(create_engine(down), spool=spool, retry_max_seconds=60)
    assistant = Assistant(knowledge, away)
    await assistant.ask(PEOPLE[1], "人才公寓怎么申请", channel="telegram", update_id=7)
    await assistant.ask(PEOPLE[1], "没有编号", channel="console")
    await away.close()
    copy = (tmp_path / "spool.jsonl").read_text(encoding="utf-8")
    url = f"sqlite+aiosqlite:///{tmp_path / 'log.sqlite3'}"
    log = await InquiryLog.open(url, spool_path=tmp_path / "spool.jsonl")
    try:
        (tmp_path / "spool.jsonl").write_text(copy, encoding="utf-8")  # as if a crash came
        assert await log.replay() == 2  # before the replayed lines were dropped
        async with log.sessions() as session:
            total = await session.scalar(select(func.count()).select_from(Inquiry))
        assert total == 2
    finally:
        await log.close()


async def test_when_neither_database_nor_spool_can_take_it_recording_fails_and_claims_nothing(
    knowledge: KnowledgeService, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    down = "postgresql+psycopg://postgres@127.0.0.1:1/nowhere"
    log = InquiryLog(create_engine(down), spool=Spool(blocker / "spool.jsonl"))
    try:
        with pytest.raises(OperationalError):  # the error handler's reply claims no record
            await Assistant(knowledge, log).ask(PEOPLE[2], "人才公寓怎么申请", channel="telegram")
        assert log.spooled == 0
        assert not blocker.with_name("spool.jsonl").exists()
    finally:
        await log.close()


def test_a_line_torn_by_a_crash_is_skipped_and_the_spool_goes_on(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.jsonl")
    spool.append([{"n": 1}])
    with spool.path.open("a", encoding="utf-8") as handle:
        handle.write('{"spool_id": "torn", "n": ')  # the process died here
    spool.append([{"n": 2}])
    records = spool.take()
    assert [r["n"] for r in records] == [1, 2]
    spool.drop({records[0]["spool_id"]})
    assert [r["n"] for r in spool.take()] == [2]
    spool.drop({r["spool_id"] for r in spool.take()})
    assert not spool.path.exists()
