"""Faults on the Telegram side: nothing lost, nothing answered twice, nobody stalled.

The real Application (or the real ``talentbot run`` process) against the fake Bot API server,
which injects 429s, 502s, dropped connections and slow answers on chosen methods.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, closing
from pathlib import Path

import pytest
from sqlalchemy import func, select
from telegram.error import BadRequest, NetworkError

from bot.app import build_application
from bot.assistant import Person
from bot.log.models import Feedback, Inquiry, Ticket
from bot.log.spool import Spool
from bot.services import Services
from bot.settings import PROJECT_ROOT, load_settings
from handlers.render import with_retries
from knowledge.service import KnowledgeService
from tests.e2e.conftest import (
    Running,
    e2e_settings,
    start_polling,
    stop_polling,
    text_update,
)
from tests.fakegram import FakeChat, FakeTelegram

STAFF_CHAT = -100_555


def answers(fake: FakeTelegram, user: object) -> list[str]:
    return [m["text"] for m in fake.bot_messages(user) if "来源" in m["text"]]  # type: ignore[arg-type]


async def test_polling_survives_getupdates_faults_and_every_reply_arrives_once(
    running: Running,
) -> None:
    fake = running.fake
    fake.inject("getUpdates", "500", times=2)
    fake.inject("getUpdates", "drop")
    fake.inject("getUpdates", "429", retry_after=1)
    people = [fake.user(700 + n, f"P{n}") for n in range(5)]
    for person in people:
        await fake.send_text(person, "人才公寓怎么申请")
    for person in people:
        await fake.wait_for_bot_message(person, "来源", timeout=20)
    await asyncio.sleep(1.5)  # time for any duplicate to show up
    assert [len(answers(fake, p)) for p in people] == [1] * 5


async def test_send_faults_are_retried_and_a_slow_send_is_not_sent_twice(
    running: Running,
) -> None:
    fake = running.fake
    alice, bob = fake.user(710, "Alice"), fake.user(711, "Bob")
    fake.inject("sendMessage", "500")
    fake.inject("sendMessage", "429", retry_after=1)
    await fake.send_text(alice, "人才公寓怎么申请")
    await fake.wait_for_bot_message(alice, "来源", timeout=15)
    # Slower than the client's read timeout (5 s): Telegram stored it, the client gave up.
    fake.inject("sendMessage", "slow", delay=6.5)
    await fake.send_text(bob, "人才公寓怎么申请")
    await fake.wait_for_bot_message(bob, "来源", timeout=20)
    await asyncio.sleep(2)
    assert len(answers(fake, alice)) == 1
    assert len(answers(fake, bob)) == 1, "a timed-out send must not be sent again"
    assert len(fake.bot_messages(bob)) == 1, "and no error message after an answer that arrived"


async def test_telegram_refusals_are_never_retried() -> None:
    calls = 0

    async def refused() -> None:
        nonlocal calls
        calls += 1
        raise BadRequest("Message is too long")

    with pytest.raises(BadRequest):
        await with_retries(refused)
    assert calls == 1

    async def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise NetworkError("httpx.ConnectError: All connection attempts failed")
        return "sent"

    calls = 0
    assert await with_retries(flaky) == "sent" and calls == 3


@asynccontextmanager
async def bot_with_group(
    tmp_path: Path, knowledge: KnowledgeService, *, check_seconds: float = 600
) -> AsyncIterator[tuple[FakeTelegram, FakeChat, Services]]:
    """The bot with a staff group and Telegram's real group limit (20 a minute)."""
    async with FakeTelegram() as fake:
        path = tmp_path / "settings.yaml"
        path.write_text(
            f"database:\n  url: sqlite+aiosqlite:///{tmp_path / 'faults.sqlite3'}\n"
            f"staff:\n  user_ids: [900]\n  chat_id: {STAFF_CHAT}\n"
            f"  reminder_check_seconds: {check_seconds}\n",
            encoding="utf-8",
        )
        services = Services(load_settings(path), knowledge)
        app = build_application(
            services, token=fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url
        )
        group = fake.group(STAFF_CHAT, "专员群")
        await start_polling(app)
        try:
            yield fake, group, services
        finally:
            await stop_polling(app)


async def test_a_card_whose_post_fails_is_posted_later(
    tmp_path: Path, knowledge: KnowledgeService
) -> None:
    async with bot_with_group(tmp_path, knowledge) as (fake, group, services):
        alice = fake.user(720, "Alice")
        fake.inject("sendMessage", "500", times=2, chat_id=STAFF_CHAT)
        fake.inject("sendMessage", "drop", chat_id=STAFF_CHAT)
        await fake.send_text(alice, "火星上的签证怎么办理")
        await fake.wait_for_bot_message(alice, timeout=15)
        card = await fake.wait_for_bot_message(group, "火星上的签证", timeout=30)
        assert "#1" in card["text"]
        for _ in range(50):  # the card's id is recorded just after Telegram has it
            if (await services.desk.card(1)).card_message_id is not None:
                break
            await asyncio.sleep(0.1)
        assert (await services.desk.card(1)).card_message_id == card["message_id"]
        cards = [m for m in fake.bot_messages(group) if "工单 #1" in m["text"]]
        assert len(cards) == 1, "posted once, after the failures"


async def test_a_ticket_whose_card_never_went_out_gets_it_from_the_periodic_check_once(
    tmp_path: Path, knowledge: KnowledgeService
) -> None:
    async with bot_with_group(tmp_path, knowledge, check_seconds=0.5) as (fake, group, services):
        # Opened where no card is posted (the web chat without Telegram, a bot that stopped
        # with the card still queued): only the database knows the ticket.
        visitor = Person("web:0123456789abcdef", "访客 cdef", None, "zh")
        ticket = await services.log.request_human(visitor, "想找工作人员聊聊落户")
        card = await fake.wait_for_bot_message(group, "落户", timeout=15)
        assert f"#{ticket}" in card["text"]
        for _ in range(50):  # the card's id is recorded just after Telegram has it
            if (await services.desk.card(ticket)).card_message_id is not None:
                break
            await asyncio.sleep(0.1)
        assert (await services.desk.card(ticket)).card_message_id == card["message_id"]
        await asyncio.sleep(2)  # several more checks
        posted = [m for m in fake.bot_messages(group) if f"#{ticket}" in m["text"]]
        assert len(posted) == 1, "posted once"


async def test_thirty_cards_at_once_do_not_hold_up_another_persons_answer(
    tmp_path: Path, knowledge: KnowledgeService
) -> None:
    async with bot_with_group(tmp_path, knowledge) as (fake, group, _):
        people = [fake.user(800 + n, f"U{n}") for n in range(30)]
        for n, person in enumerate(people):
            await fake.send_text(person, f"火星上第{n}号签证怎么办理")
        for person in people:
            await fake.wait_for_bot_message(person, timeout=20)
        bob = fake.user(850, "Bob")
        await fake.send_text(bob, "人才公寓怎么申请")
        await fake.wait_for_bot_message(bob, "来源", timeout=10)
        # Telegram allows 20 group messages a minute: the cards are still going out, and
        # neither the thirty people nor Bob waited for them.
        assert len([m for m in fake.bot_messages(group) if "工单 #" in m["text"]]) < 30


async def run_bot(fake: FakeTelegram, tmp_path: Path) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TALENTBOT_")}
    env.update(
        {
            "TALENTBOT_TELEGRAM__TOKEN": fake.token,
            "TALENTBOT_TELEGRAM__BASE_URL": fake.base_url,
            "TALENTBOT_DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path / 'crash.sqlite3'}",
            "TALENTBOT_TELEGRAM__STATE_FILE": str(tmp_path / "state.pickle"),
            "TALENTBOT_LOGGING__LEVEL": "WARNING",
        }
    )
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run",
        cwd=PROJECT_ROOT, env=env, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip


async def test_sigkill_in_a_burst_loses_no_update(tmp_path: Path) -> None:
    """SIGKILL right after the first reply, restart: every person answered, every inquiry kept.

    Replies are at-least-once: a reply Telegram accepted in the instant before the kill, whose
    sending the bot had not yet recorded, is sent again after the restart (Telegram offers no
    way to ask whether it arrived). Only those can be doubled; nobody else is.
    """
    async with FakeTelegram() as fake:
        process = await run_bot(fake, tmp_path)
        try:
            await fake.wait_until(lambda: bool(fake.calls("setMyCommands")), timeout=60, what="up")
            people = [fake.user(1000 + n, f"K{n}") for n in range(60)]
            for person in people:
                await fake.send_text(person, "人才公寓怎么申请")
            await fake.wait_until(
                lambda: any(answers(fake, p) for p in people), timeout=30, what="a first reply"
            )
        finally:
            process.kill()
            await process.wait()
        before = {p.id: len(answers(fake, p)) for p in people}
        process = await run_bot(fake, tmp_path)
        try:
            await fake.wait_until(
                lambda: all(answers(fake, p) for p in people), timeout=90, what="all answered"
            )
            await asyncio.sleep(1)
        finally:
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), timeout=30)
    assert sum(1 for n in before.values() if n) < 60, "the kill came too late to test anything"
    for person in people:
        after = len(answers(fake, person))
        assert after == 1 or (before[person.id] == 1 and after == 2), (person.id, after)
    with closing(sqlite3.connect(tmp_path / "crash.sqlite3")) as db:
        assert db.execute("SELECT count(*) FROM inquiries").fetchone()[0] == 60


async def test_a_flooding_person_gets_one_notice_and_others_are_still_answered(
    running: Running,
) -> None:
    fake = running.fake
    flood, bob = fake.user(900_001, "Flood"), fake.user(900_002, "Bob")
    for n in range(40):
        await fake.send_text(flood, f"人才公寓怎么申请{n}")
    await fake.send_text(bob, "人才公寓怎么申请")
    await fake.wait_for_bot_message(bob, "来源", timeout=20)
    await fake.wait_until(
        lambda: any("发送得有点快" in m["text"] for m in fake.bot_messages(flood)),
        timeout=20,
        what="the notice",
    )
    await asyncio.sleep(1)
    texts = [m["text"] for m in fake.bot_messages(flood)]
    answered = len(answers(fake, flood))
    # The burst of 5, plus at most a refill or two (one every 3 s) on a slow machine.
    assert 5 <= answered <= 7, answered
    assert sum("发送得有点快" in t for t in texts) == 1
    async with running.services.log.sessions() as session:
        rows = (await session.scalars(select(Inquiry).order_by(Inquiry.id))).all()
        tickets = (await session.scalars(select(Ticket))).all()
    flooded = [r for r in rows if r.text.startswith("人才公寓怎么申请") and r.outcome == "limited"]
    assert len(flooded) == 40 - answered, "every message is counted"
    assert tickets == []


async def test_a_thousand_queued_messages_of_one_person_do_not_hold_up_another(
    running: Running,
) -> None:
    # One chat's updates are handled one after another; without the journal they filled the
    # Bot API's hundred-update window and everybody else's message waited behind all of them.
    fake = running.fake
    flood, bob = fake.user(900_011, "Flood"), fake.user(900_012, "Bob")
    for n in range(1000):
        await fake.send_text(flood, f"人才公寓怎么申请{n}")
    await fake.send_text(bob, "人才公寓怎么申请")
    await fake.wait_for_bot_message(bob, "来源", timeout=30)
    async with running.services.log.sessions() as session:
        handled = await session.scalar(
            select(func.count())
            .select_from(Inquiry)
            .where(Inquiry.text.startswith("人才公寓怎么申请"))
        )
    assert handled is not None and handled < 1000 - 100, "Bob was answered behind the flood"


async def test_updates_the_journal_kept_from_before_a_crash_are_handled_at_start(
    tmp_path: Path, knowledge: KnowledgeService
) -> None:
    async with FakeTelegram() as fake:
        alice = fake.user(730, "Alice")
        journal = Spool(tmp_path / "updates.jsonl")
        kept = text_update(5_000_001, alice.id, "人才公寓怎么申请")
        journal.append([{"update": kept}, {"update": "torn"}])
        services = Services(e2e_settings(tmp_path), knowledge)
        app = build_application(
            services, token=fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url
        )
        await start_polling(app, journal)
        try:
            await fake.wait_for_bot_message(alice, "来源", timeout=15)
        finally:
            await stop_polling(app)
        assert len(journal) == 0, "finished updates leave the journal"
        assert len(answers(fake, alice)) == 1


async def test_two_quick_taps_on_helpful_store_one_rating_and_both_get_a_polite_answer(
    running: Running,
) -> None:
    fake = running.fake
    alice = fake.user(930, "Alice")
    await fake.send_text(alice, "人才公寓怎么申请")
    answer = await fake.wait_for_bot_message(alice, "来源")
    data = next(
        b["callback_data"]
        for row in answer["reply_markup"]["inline_keyboard"]
        for b in row
        if b["text"] == "👍 有帮助"
    )
    await fake.tap_raw(alice, answer, data)
    await fake.tap_raw(alice, answer, data)
    await fake.wait_until(lambda: len(fake.callback_answers) >= 2, what="both taps answered")
    texts = [a.get("text") for a in fake.callback_answers[-2:]]
    assert texts == ["谢谢您的反馈！", "您已经评价过这条回答了，谢谢！"]
    async with running.services.log.sessions() as session:
        assert len((await session.scalars(select(Feedback))).all()) == 1


async def test_forget_blanks_the_persons_cards_and_relays_in_the_staff_group(
    tmp_path: Path, knowledge: KnowledgeService
) -> None:
    async with bot_with_group(tmp_path, knowledge) as (fake, group, _):
        alice = fake.user(940, "Alice")
        await fake.send_text(alice, "火星上的签证怎么办理，我电话13800000000")
        await fake.wait_for_bot_message(group, "工单 #1", timeout=15)
        await fake.send_text(alice, "补充一句：我住在某某小区")
        await fake.wait_for_bot_message(group, "某某小区", timeout=15)
        await fake.send_text(alice, "/forget")
        confirm = await fake.wait_for_bot_message(alice, "确定要删除")
        await fake.tap(alice, confirm, "确认删除")
        await fake.wait_until(
            lambda: "已删除您的全部记录" in fake.last_bot_message(alice)["text"],
            timeout=15,
            what="the confirmation edited into the result",
        )
        assert "2 条工单消息已抹去" in fake.last_bot_message(alice)["text"]
        shown = " ".join(m["text"] for m in fake.bot_messages(group))
        assert "13800000000" not in shown and "某某小区" not in shown and "火星" not in shown
