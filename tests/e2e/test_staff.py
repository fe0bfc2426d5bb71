"""Specialists follow up from a Telegram staff group: two people, two specialists, one fake API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.app import build_application
from bot.assistant import Person
from bot.log.models import Feedback, Inquiry, Ticket, TicketMessage, WebMessage
from bot.services import Services
from bot.settings import load_settings
from bot.texts import texts
from knowledge.service import KnowledgeService
from tests.e2e.conftest import start_polling, stop_polling
from tests.fakegram import FakeChat, FakeTelegram, FakeUser
from tests.kbfactory import copy_real_kb

ZH = texts("zh")
STAFF_CHAT = -1001


@dataclass
class Desk:
    """The bot with a staff group, two specialists and two people."""

    fake: FakeTelegram
    services: Services
    group: FakeChat
    wang: FakeUser
    li: FakeUser
    alice: FakeUser
    bob: FakeUser


@pytest.fixture
async def desk(tmp_path: Path, knowledge: KnowledgeService) -> AsyncIterator[Desk]:
    async with FakeTelegram() as fake:
        path = tmp_path / "settings.yaml"
        path.write_text(
            f"database:\n  url: sqlite+aiosqlite:///{tmp_path / 'staff.sqlite3'}\n"
            f"staff:\n  user_ids: [900, 901]\n  chat_id: {STAFF_CHAT}\n  names: {{900: 王专员}}\n"
            "  sla_hours: 0.0003\n  reminder_check_seconds: 0.5\n  digest_time: '00:00'\n"
            # The one-second SLA posts reminders all along; under Telegram's 20 a minute per
            # group they would hold back the messages this test waits for on a slow machine.
            "telegram:\n  max_group_messages_per_minute: 100000\n",
            encoding="utf-8",
        )
        services = Services(load_settings(path), knowledge)
        app = build_application(
            services, token=fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url
        )
        group = fake.group(STAFF_CHAT, "人才办专员群")
        await start_polling(app)
        try:
            yield Desk(
                fake,
                services,
                group,
                fake.user(900, "Wang"),
                fake.user(901, "Li"),
                fake.user(11, "Alice"),
                fake.user(12, "Bob", language_code="en"),
            )
        finally:
            await stop_polling(app)


async def counts(desk: Desk) -> tuple[int, ...]:
    found = []
    async with desk.services.log.sessions() as session:
        for model in (Inquiry, Ticket, TicketMessage, Feedback):
            found.append(int(await session.scalar(select(func.count()).select_from(model)) or 0))
    return tuple(found)


async def test_a_question_goes_to_the_group_a_specialist_answers_and_the_person_rates(
    desk: Desk,
) -> None:
    fake, group = desk.fake, desk.group
    await fake.send_text(desk.alice, "公积金怎么提取")
    await fake.wait_for_bot_message(desk.alice, "这个问题我暂时回答不了")
    card = await fake.wait_for_bot_message(group, "工单 #1")
    assert (
        "提问人：Alice" in card["text"]
        and "问题：公积金怎么提取" in card["text"]
        and "未匹配" in card["text"]
    )
    assert [b["text"] for b in card["reply_markup"]["inline_keyboard"][0]] == [
        "认领",
        "已解决",
        "查看记录",
    ]

    await fake.send_text(
        desk.wang, "公积金请到市公积金中心办理，我们也可以帮您联系。", chat=group, reply_to=card
    )
    relayed = await fake.wait_for_bot_message(desk.alice, "人才办回复：")
    assert relayed["text"] == "人才办回复：公积金请到市公积金中心办理，我们也可以帮您联系。"
    await fake.wait_for_bot_message(group, "已发送给提问人（工单 #1）")
    await fake.wait_until(
        lambda: "负责人：王专员" in fake.messages(group)[0]["text"], what="card shows the assignee"
    )

    await fake.send_text(desk.alice, "好的，那中心电话是多少？")
    await fake.wait_for_bot_message(desk.alice, "已转给人才办服务专员（工单 1）")
    thread = await fake.wait_for_bot_message(group, "中心电话是多少")
    assert (
        thread["text"].startswith("💬 #1 Alice：")
        and thread["reply_to_message"]["message_id"] == card["message_id"]
    )

    await fake.send_text(desk.li, "电话请见公积金中心官网。", chat=group, reply_to=thread)
    await fake.wait_for_bot_message(desk.alice, "电话请见公积金中心官网")

    await fake.send_text(desk.li, "/resolve 1 已答复公积金事宜", chat=group)
    await fake.wait_for_bot_message(group, "工单 #1 已解决")
    rating = await fake.wait_for_bot_message(desk.alice, "已处理完毕")
    assert "处理说明：已答复公积金事宜" in rating["text"]
    await fake.tap(desk.alice, rating, "5")
    await fake.wait_until(
        lambda: fake.last_bot_message(desk.alice)["text"] == ZH.t("rating.thanks"), what="rated"
    )
    async with desk.services.log.sessions() as session:
        ticket = await session.get(Ticket, 1)
        messages = (await session.scalars(select(TicketMessage).order_by(TicketMessage.id))).all()
    assert ticket is not None and (ticket.status, ticket.rating, ticket.assignee) == (
        "resolved",
        5,
        "王专员",
    )
    assert ticket.first_response_at is not None and ticket.resolved_at is not None
    assert [(m.author, m.author_name) for m in messages] == [
        ("person", "Alice"), ("staff", "王专员"), ("person", "Alice"), ("staff", "Li"),
    ]  # fmt: skip

    await fake.send_text(desk.alice, "人才公寓怎么申请")
    await fake.wait_for_bot_message(desk.alice, "来源"), "after resolution the bot answers again"


async def test_staff_commands_inbox_take_reply_ticket_stats_export_and_reload(desk: Desk) -> None:
    fake, group = desk.fake, desk.group
    await fake.send_text(desk.alice, "公积金怎么提取")
    await fake.wait_for_bot_message(group, "工单 #1")
    await fake.send_text(desk.bob, "/human I need to talk to someone")
    await fake.wait_for_bot_message(
        desk.bob, "A specialist of the talent office will reply soon (ticket 2)"
    )
    card2 = await fake.wait_for_bot_message(group, "工单 #2")
    assert "Bob（— · English）" in card2["text"] and "要求人工" in card2["text"]

    await fake.send_text(desk.wang, "/inbox", chat=group)
    inbox = await fake.wait_for_bot_message(group, "待处理工单 2 个")
    assert inbox["text"].index("#1") < inbox["text"].index("#2"), "oldest first"
    await fake.tap(desk.wang, card2, "认领")
    await fake.wait_for_bot_message(group, "工单 #2 已由 王专员 认领")
    await fake.send_text(desk.wang, "/reply 2 Hello Bob, how can we help?", chat=group)
    await fake.wait_for_bot_message(desk.bob, "Talent office reply: Hello Bob, how can we help?")
    await fake.send_text(desk.li, "/ticket 2")
    await fake.wait_for_bot_message(desk.li, "工单 #2")
    history = await fake.wait_for_bot_message(desk.li, "工单 #2 的记录")
    assert "专员 王专员：Hello Bob" in history["text"]
    await fake.send_text(desk.li, "/stats", chat=group)
    stats = await fake.wait_for_bot_message(group, "📊 今天")
    assert "未结工单：2" in stats["text"]
    await fake.send_text(desk.li, "/export 7", chat=group)
    await fake.wait_until(lambda: bool(fake.documents(group)), what="export sent")
    document = fake.documents(group)[0]
    assert document.file_name.endswith(".xlsx") and document.content[:2] == b"PK"
    await fake.send_text(desk.li, "/reload", chat=group)
    # Rebuilding fits the ranker again (seconds, more on a busy machine).
    reloaded = await fake.wait_for_bot_message(group, "知识库", timeout=60)
    assert "知识库已重新加载" in reloaded["text"]
    await fake.send_text(desk.bob, "Thanks, it's about my spouse's job")
    await fake.wait_for_bot_message(group, "spouse")
    await fake.wait_for_bot_message(desk.bob, "Passed to the talent office")
    relayed_reply = next(
        m for m in fake.bot_messages(desk.bob) if "Talent office reply" in m["text"]
    )
    await fake.tap(desk.bob, relayed_reply, "End the conversation")
    await fake.wait_for_bot_message(desk.bob, "The conversation has ended")
    await fake.wait_for_bot_message(group, "提问人已结束咨询")


async def test_someone_not_on_the_staff_list_is_refused_everything_and_nothing_changes(
    desk: Desk,
) -> None:
    fake, group = desk.fake, desk.group
    await fake.send_text(desk.alice, "公积金怎么提取")
    card = await fake.wait_for_bot_message(group, "工单 #1")
    before = await counts(desk)
    mallory = fake.user(666, "Mallory")
    for command in (
        "/inbox",
        "/ticket 1",
        "/take 1",
        "/reply 1 hi",
        "/resolve 1 done",
        "/stats",
        "/export 7",
        "/reload",
    ):
        await fake.send_text(mallory, command)
        reply = await fake.wait_for_bot_message(mallory)
        assert reply["text"] == ZH.t("unknown_command"), command
    await fake.send_text(mallory, "/nosuchcommand")
    assert (await fake.wait_for_bot_message(mallory))["text"] == ZH.t("unknown_command")
    for data in ("st:take:1", "st:resolve:1", "st:history:1", "st:inbox:0"):
        await fake.tap_raw(mallory, card, data)
    await fake.send_text(mallory, "我来回复", chat=group, reply_to=card)
    await fake.wait_until(lambda: len(fake.callback_answers) >= 4, what="forged taps answered")
    assert all(a.get("text") == ZH.t("unknown_command") for a in fake.callback_answers)
    await asyncio.sleep(0.3)
    assert await counts(desk) == before
    async with desk.services.log.sessions() as session:
        ticket = await session.get(Ticket, 1)
    assert ticket is not None and (ticket.status, ticket.assignee) == ("open", None)
    assert not any("人才办回复" in m["text"] for m in fake.bot_messages(desk.alice))


async def test_tickets_open_past_the_sla_are_re_announced(desk: Desk) -> None:
    fake, group = desk.fake, desk.group
    await fake.send_text(desk.alice, "公积金怎么提取")
    await fake.wait_for_bot_message(group, "工单 #1")
    reminder = await fake.wait_for_bot_message(group, "⏰", timeout=10)
    assert "工单 #1" in reminder["text"]
    for _ in range(50):
        async with desk.services.log.sessions() as session:
            ticket = await session.get(Ticket, 1)
        if ticket is not None and ticket.reminded_at is not None:
            break
        await asyncio.sleep(0.05)
    assert ticket is not None and ticket.reminded_at is not None, (
        "the reminder's time is kept in the database"
    )


async def test_the_daily_digest_is_sent_once_and_remembered(desk: Desk) -> None:
    fake, group = desk.fake, desk.group
    digest = await fake.wait_for_bot_message(group, "日报", timeout=15)
    assert "近 7 天" in digest["text"]
    await asyncio.sleep(1)
    assert sum("日报" in m["text"] for m in fake.bot_messages(group)) == 1


async def test_reload_reports_file_and_line_and_keeps_serving_the_last_good_knowledge_base(
    tmp_path: Path, seeds_dir: Path
) -> None:
    kb_dir = copy_real_kb(tmp_path)
    knowledge = KnowledgeService(kb_dir, seeds_dir=seeds_dir)
    knowledge.load()
    async with FakeTelegram() as fake:
        path = tmp_path / "settings.yaml"
        path.write_text(
            f"database:\n  url: sqlite+aiosqlite:///{tmp_path / 'reload.sqlite3'}\nstaff:\n  user_ids: [900]\n",
            encoding="utf-8",
        )
        services = Services(load_settings(path), knowledge)
        app = build_application(
            services, token=fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url
        )
        await start_polling(app)
        try:
            wang, alice = fake.user(900, "Wang"), fake.user(11, "Alice")
            housing = kb_dir / "entries" / "housing.yaml"
            housing.write_text(
                housing.read_text(encoding="utf-8").replace("kind: policy", "kind: polcy", 1),
                encoding="utf-8",
            )
            await fake.send_text(wang, "/reload")
            reply = await fake.wait_for_bot_message(wang, "知识库有问题")
            assert (
                "kb/entries/housing.yaml:" in reply["text"]
                and "kind: Input should be" in reply["text"]
            )
            await fake.send_text(alice, "人才公寓怎么申请")
            assert (await fake.wait_for_bot_message(alice, "来源"))["text"].startswith("人才公寓")
        finally:
            await stop_polling(app)


async def test_a_staff_group_reply_reaches_a_web_chat_visitor(desk: Desk) -> None:
    """The same /reply reaches a person of the web chat: their page fetches it."""
    services = desk.services
    visitor = Person("web:0a1b2c3d", "网页访客 2c3d")
    asked = await services.assistant.ask(visitor, "公积金怎么提取", channel="web")
    assert asked.ticket_id is not None
    await desk.fake.send_text(
        desk.wang, f"/reply {asked.ticket_id} 请到区公积金中心咨询", chat=desk.group
    )
    await desk.fake.wait_for_bot_message(desk.group, "已发送给提问人")
    async with services.log.sessions() as session:
        waiting = list(await session.scalars(select(WebMessage.text)))
    assert len(waiting) == 1 and "请到区公积金中心咨询" in waiting[0]
