"""Console page render times with a big inquiry log: the inbox and the inquiries page.

Why: the office keeps years of inquiries; the pages specialists open all day must stay quick.
This fills a fresh database (SQLite file, then a throwaway PostgreSQL) with ``--inquiries``
inquiries (default 100,000) from 2,000 people over 90 days, 5 % of them with a ticket (a third
still open), signs a specialist in, and requests each page ``--rounds`` times in-process through
httpx (the whole Starlette app, templates included; no network). Prints p50 / p95 per page (the dashboard too).
Goal: p95 under 200 ms. Bounded by the counts; stops by itself.

Run: ``.venv/bin/python -m benchmarks.bench_console`` (``--inquiries 20000`` for a quick look)
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import insert

from bot.log.models import Inquiry, Person, Ticket, TicketMessage, utcnow
from bot.services import Services
from bot.settings import load_settings
from bot.web.app import create_app
from bot.web.security import SESSION_COOKIE
from knowledge.service import KnowledgeService
from tests.pgserver import ThrowawayPostgres

PAGES = (
    "/",
    "/inbox",
    "/inbox?view=in_progress",
    "/inquiries",
    "/inquiries?page=500",
    "/inquiries?outcome=unmatched&audience=talent",
    "/inquiries?q=公寓",
)
QUESTIONS = (
    "人才公寓怎么申请",
    "购房补贴多少",
    "孩子上学怎么办",
    "公积金怎么提取",
    "招聘会什么时候",
)
OUTCOMES = ("answered", "answered", "answered", "suggested", "unmatched")


async def fill(services: Services, count: int) -> None:
    rng = random.Random(7)
    now = utcnow()
    async with services.log.engine.begin() as connection:
        await connection.execute(
            insert(Person),
            [
                {"key": f"telegram:{n}", "channel": "telegram", "display_name": f"P{n}",
                 "audience": "talent" if n % 3 else "enterprise", "language": "zh",
                 "blocked_bot": False, "first_seen": now, "last_seen": now}
                for n in range(1, 2001)
            ],
        )  # fmt: skip
        for start in range(0, count, 10_000):
            rows = []
            for _ in range(start, min(count, start + 10_000)):
                person = rng.randint(1, 2000)
                rows.append(
                    {"person_id": person, "channel": "telegram", "text": rng.choice(QUESTIONS),
                     "outcome": rng.choice(OUTCOMES), "entry_id": "housing-talent-apartment",
                     "entry_title": "人才公寓", "score": 0.9, "suggestions": [],
                     "audience": "talent" if person % 3 else "enterprise",
                     "created_at": now - timedelta(minutes=rng.randint(0, 90 * 24 * 60))}
                )  # fmt: skip
            await connection.execute(insert(Inquiry), rows)
        tickets = [
            {"person_id": rng.randint(1, 2000), "inquiry_id": rng.randint(1, count),
             "reason": "unmatched", "status": rng.choice(("open", "in_progress", "resolved")),
             "opened_at": now - timedelta(minutes=rng.randint(0, 90 * 24 * 60))}
            for _ in range(count // 20)
        ]  # fmt: skip
        await connection.execute(insert(Ticket), tickets)
        await connection.execute(
            insert(TicketMessage),
            [
                {"ticket_id": n, "author": "person", "author_name": "P", "recipient": "staff",
                 "text": rng.choice(QUESTIONS), "created_at": now}
                for n in range(1, count // 20 + 1)
            ],
        )  # fmt: skip


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def measure(name: str, url: str, args: argparse.Namespace, workdir: Path) -> None:
    settings_path = workdir / f"{name}.yaml"
    settings_path.write_text(f"database:\n  url: {url}\nweb:\n  page_size: 50\n", "utf-8")
    settings = load_settings(settings_path)
    knowledge = KnowledgeService(
        settings.knowledge.dir,
        seeds_dir=settings.knowledge.seeds_dir,
        config=settings.matching.to_config(),
        cache_dir=settings.knowledge.cache_dir,
    )
    services = Services(settings, knowledge)
    await services.open()
    try:
        started = time.perf_counter()
        await fill(services, args.inquiries)
        print(f"{name}: {args.inquiries:,} inquiries in {time.perf_counter() - started:.0f} s")
        _, password = await services.accounts.add("bench", actor="bench")
        await services.accounts.change_password(
            (await services.accounts.all())[0].id, password, "bench-password-1"
        )
        token = await services.accounts.sign_in("bench", "bench-password-1")
        transport = httpx.ASGITransport(app=create_app(services))
        async with httpx.AsyncClient(
            transport=transport, base_url="http://bench", cookies={SESSION_COOKIE: token}
        ) as client:
            for page in PAGES:
                times = []
                for _ in range(args.rounds):
                    began = time.perf_counter()
                    response = await client.get(page)
                    times.append((time.perf_counter() - began) * 1000)
                    assert response.status_code == 200, (page, response.status_code)
                print(
                    f"  {page:<46} p50 {percentile(times, 0.5):6.1f} ms   "
                    f"p95 {percentile(times, 0.95):6.1f} ms"
                )
    finally:
        await services.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inquiries", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        if args.db in ("sqlite", "both"):
            url = f"sqlite+aiosqlite:///{workdir / 'console.sqlite3'}"
            await measure("SQLite", url, args, workdir)
        if args.db in ("postgres", "both"):
            with ThrowawayPostgres("talentbot_console") as server:
                await measure("PostgreSQL", server.url, args, workdir)


if __name__ == "__main__":
    asyncio.run(main())
