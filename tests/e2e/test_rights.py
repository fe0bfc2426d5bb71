"""Staff rights as a matrix: every staff command and button, tried by the wrong person or in
the wrong place, is refused, and nothing changes; hostile updates never raise.

The real Application long-polls the fake Bot API server; the database is a real SQLite file.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.chat import callbacks
from bot.log.models import Ticket
from bot.settings import load_settings
from bot.texts import texts
from tests.e2e.test_staff import STAFF_CHAT, Desk, counts, desk  # noqa: F401 - the fixture
from tests.fakegram import FakeChat, FakeUser

COMMANDS = (
    "/inbox",
    "/ticket 1",
    "/take 1",
    "/reply 1 你好",
    "/resolve 1 已处理",
    "/stats",
    "/export 30",
    "/reload",
)
BUTTONS = ("st:take:1", "st:resolve:1", "st:history:1", "st:inbox:0")


async def a_ticket(d: Desk) -> None:
    await d.fake.send_text(d.alice, "火星上的签证怎么办理")
    await d.fake.wait_for_bot_message(d.group, "工单 #1")


async def settle() -> None:
    await asyncio.sleep(0.6)  # the bot polls every second at most; give it time to act


async def test_staff_commands_from_non_staff_or_in_a_foreign_group_change_nothing(
    desk: Desk,  # noqa: F811 - the imported fixture
    caplog: pytest.LogCaptureFixture,
) -> None:
    d = desk
    await a_ticket(d)
    before = await counts(d)
    foreign = d.fake.group(-100_4242, "某公开群")
    group_messages = len(d.fake.bot_messages(d.group))
    attempts: list[tuple[FakeUser, FakeChat | None]] = [
        (d.alice, None),  # a person, privately
        (d.alice, d.group),  # a person who got into the staff group
        (d.wang, foreign),  # a specialist in a foreign group
        (d.bob, foreign),  # a stranger in a foreign group
    ]
    caplog.set_level(logging.WARNING)
    for user, chat in attempts:
        for command in COMMANDS:
            await d.fake.send_text(user, command, chat=chat)
    await settle()
    await asyncio.sleep(1.5)
    assert await counts(d) == before
    assert d.fake.bot_messages(foreign) == [], "nothing is ever posted to a foreign group"
    new = [m["text"] for m in d.fake.bot_messages(d.group)[group_messages:]]
    # Only the fixture's SLA reminders (every 0.5 s here) may appear; no command's output.
    assert all(text.startswith("⏰") or "日报" in text for text in new), new
    card = await d.services.desk.card(1)
    assert (card.status, card.assignee) == ("open", None)
    refusals = [r for r in caplog.records if "refused staff action" in r.getMessage()]
    assert len(refusals) == len(attempts) * len(COMMANDS)
    assert all("火星" not in r.getMessage() for r in caplog.records), "logs carry ids, not text"


async def test_staff_buttons_tapped_by_non_staff_are_refused(
    desk: Desk,  # noqa: F811 - the imported fixture
) -> None:
    d = desk
    await a_ticket(d)
    card = d.fake.last_bot_message(d.group)
    before = await counts(d)
    for data in BUTTONS:
        await d.fake.tap_raw(d.alice, card, data)
    await settle()
    answers = d.fake.callback_answers[-len(BUTTONS) :]
    assert len(answers) == len(BUTTONS)
    assert all("没有这个命令" in str(a.get("text")) for a in answers)
    assert await counts(d) == before
    assert (await d.services.desk.card(1)).assignee is None


async def test_a_specialist_removed_from_the_settings_loses_the_rights_at_once(
    desk: Desk,  # noqa: F811 - the imported fixture
    tmp_path: Path,
) -> None:
    d = desk
    await a_ticket(d)
    path = tmp_path / "less.yaml"
    path.write_text(
        f"database:\n  url: {d.services.settings.database.url}\n"
        f"staff:\n  user_ids: [901]\n  chat_id: {STAFF_CHAT}\n",
        encoding="utf-8",
    )
    d.services.settings.staff.user_ids = load_settings(path).staff.user_ids
    before = await counts(d)
    await d.fake.send_text(d.wang, "/take 1", chat=d.group)
    await d.fake.tap_raw(d.wang, d.fake.last_bot_message(d.group), "st:take:1")
    await settle()
    assert await counts(d) == before
    assert (await d.services.desk.card(1)).assignee is None


@pytest.mark.parametrize("number", ["99999999999999999999", "²", "①", "٣", "-1", "0", "#"])
async def test_hostile_ticket_numbers_get_the_usage_reply(
    desk: Desk,  # noqa: F811 - the imported fixture
    number: str,
) -> None:
    d = desk
    await d.fake.send_text(d.wang, f"/ticket {number}")
    reply = await d.fake.wait_for_bot_message(d.wang, timeout=10)
    assert "/ticket" in reply["text"], reply["text"]


@pytest.mark.parametrize(
    "data", ["fb:999999999999:y", "rt:99999999999:5", "end:99999999999", "hu:4294967296"]
)
async def test_forged_button_numbers_are_refused_before_the_database(
    desk: Desk,  # noqa: F811 - the imported fixture
    data: str,
) -> None:
    d = desk
    assert callbacks.parse(data) is None
    await d.fake.send_text(d.alice, "人才公寓怎么申请")
    answer = await d.fake.wait_for_bot_message(d.alice, "来源")
    before = await counts(d)
    await d.fake.tap_raw(d.alice, answer, data)
    await settle()
    assert await counts(d) == before
    last = d.fake.callback_answers[-1]
    assert "已记录" not in str(last.get("text")), "never claim a record that was not made"


async def test_stale_taps_on_a_resolved_ticket_and_another_persons_rating_change_nothing(
    desk: Desk,  # noqa: F811 - the imported fixture
) -> None:
    d = desk
    await a_ticket(d)
    card = d.fake.last_bot_message(d.group)
    await d.fake.send_text(d.wang, "/resolve 1 已处理", chat=d.group)
    prompt = await d.fake.wait_for_bot_message(d.alice, "请为本次服务打分", timeout=10)
    await d.fake.wait_for_bot_message(d.group, "工单 #1 已解决", timeout=10)
    before = (await counts(d), await d.services.desk.card(1))
    group_messages = len(d.fake.bot_messages(d.group))
    await d.fake.tap_raw(d.wang, card, "st:take:1")
    await d.fake.tap_raw(d.wang, card, "st:resolve:1")
    await d.fake.wait_until(
        lambda: sum("或它已经解决" in m["text"] for m in d.fake.bot_messages(d.group)) == 2,
        what="both staff taps told the ticket is resolved",
    )
    taps = len(d.fake.callback_answers)
    await d.fake.tap_raw(d.alice, prompt, "end:1")  # 结束咨询, after the specialist resolved it
    await d.fake.tap_raw(d.bob, prompt, "rt:1:1")  # someone else's ticket
    await d.fake.wait_until(lambda: len(d.fake.callback_answers) >= taps + 2, what="answers")
    expired = [texts("zh").t("error.expired"), texts("en").t("error.expired")]
    assert [a.get("text") for a in d.fake.callback_answers[taps:]] == expired
    await settle()
    assert (await counts(d), await d.services.desk.card(1)) == before
    new = [m["text"] for m in d.fake.bot_messages(d.group)[group_messages:]]
    assert not any("提问人已结束咨询" in text for text in new), new
    assert sum("请为本次服务打分" in m["text"] for m in d.fake.bot_messages(d.alice)) == 1
    async with d.services.log.sessions() as session:
        assert await session.scalar(select(Ticket.rating).where(Ticket.id == 1)) is None
