"""Inquiries logged per second: one at a time and from 50 concurrent coroutines.

Each logged inquiry is what the bot does per message: upsert the person, insert the inquiry
(unique Telegram update id), commit. Matching is done once up front so only logging is timed.
Runs on an SQLite file (WAL) and on a throwaway PostgreSQL server on loopback.
Goals on a 2-core machine: >= 1,000/s on SQLite, >= 2,000/s on PostgreSQL.

Run: ``.venv/bin/python -m benchmarks.bench_log`` (``--count 2000`` to change the load).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

from bot.assistant import Assistant, Person, Reply
from bot.log.db import create_engine
from bot.log.inquiry_log import InquiryLog
from knowledge.service import KnowledgeService
from tests.pgserver import ThrowawayPostgres

QUESTIONS = ["人才公寓怎么申请", "有房补吗", "公积金怎么提取", "工匠奖金多少", "你好"]
_update_ids = itertools.count(1)


async def one_at_a_time(log: InquiryLog, replies: list[tuple[str, Reply]], count: int) -> float:
    started = time.perf_counter()
    for n in range(count):
        text, reply = replies[n % len(replies)]
        person = Person(f"telegram:{n % 500}", f"P{n % 500}")
        await log.record(
            person, text, reply, channel="telegram", chat_id=None, update_id=next(_update_ids)
        )
    return count / (time.perf_counter() - started)


async def concurrently(
    log: InquiryLog, replies: list[tuple[str, Reply]], count: int, workers: int = 50
) -> float:
    async def worker(number: int) -> None:
        for n in range(number, count, workers):
            text, reply = replies[n % len(replies)]
            person = Person(f"telegram:{n % 500}", f"P{n % 500}")
            await log.record(
                person, text, reply, channel="telegram", chat_id=None, update_id=next(_update_ids)
            )

    started = time.perf_counter()
    await asyncio.gather(*(worker(w) for w in range(workers)))
    return count / (time.perf_counter() - started)


async def measure(name: str, url: str, replies: list[tuple[str, Reply]], count: int) -> None:
    log = await InquiryLog.open(url)
    try:
        await one_at_a_time(log, replies, 100)  # warm up connections and caches
        sequential = await one_at_a_time(log, replies, count)
        parallel = await concurrently(log, replies, count)
    finally:
        await log.close()
    print(f"{name:<11} {sequential:>14,.0f} {parallel:>16,.0f}")


async def machine_baseline(folder: Path, count: int = 1000) -> float:
    """Bare SQLAlchemy + aiosqlite transactions of two inserts per second: how fast this machine
    is right now. Shared sandboxes vary several-fold from hour to hour, so read the log's figures
    against this one."""
    engine = create_engine(f"sqlite+aiosqlite:///{folder / 'baseline.sqlite3'}")
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
        started = time.perf_counter()
        for _ in range(count):
            async with engine.begin() as connection:
                await connection.execute(text("INSERT INTO t (v) VALUES (:v)"), {"v": "x"})
                await connection.execute(text("INSERT INTO t (v) VALUES (:v)"), {"v": "x"})
        return count / (time.perf_counter() - started)
    finally:
        await engine.dispose()


async def main(count: int) -> None:
    knowledge = KnowledgeService()
    assistant = Assistant(knowledge)
    replies = [(q, assistant.decide(Person("bench"), q)) for q in QUESTIONS]
    print(f"{count} inquiries per run (20% unmatched, which also open or join a ticket)")
    print(f"{'database':<11} {'one at a time/s':>14} {'50 concurrent/s':>16}")
    with tempfile.TemporaryDirectory() as folder:
        baseline = await machine_baseline(Path(folder))
        print(f"machine baseline: {baseline:,.0f} bare 2-insert SQLite transactions/s")
        await measure(
            "SQLite", f"sqlite+aiosqlite:///{Path(folder) / 'bench.sqlite3'}", replies, count
        )
    with ThrowawayPostgres("talentbot_bench") as server:
        await measure("PostgreSQL", server.url, replies, count)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Inquiry-log throughput.")
    parser.add_argument("--count", type=int, default=3000)
    asyncio.run(main(parser.parse_args().count))
