"""An enterprise registers a recruitment need step by step, with re-asks, /cancel and a summary."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from bot.app import build_application
from bot.log.models import Demand, Ticket
from bot.services import Services
from bot.settings import load_settings
from bot.texts import texts
from knowledge.service import KnowledgeService
from tests.e2e.conftest import Running, start_polling, stop_polling
from tests.fakegram import FakeTelegram, FakeUser

ZH = texts("zh")


async def become_enterprise(running: Running, user: FakeUser) -> None:
    fake = running.fake
    await fake.send_text(user, "/start")
    welcome = await fake.wait_for_bot_message(user)
    await fake.tap(user, welcome, ZH.t("start.enterprise_button"))
    await fake.wait_until(lambda: "已记住" in fake.last_bot_message(user)["text"], what="role set")


async def say(running: Running, user: FakeUser, text: str, expect: str) -> dict[str, object]:
    await running.fake.send_text(user, text)
    return await running.fake.wait_for_bot_message(user, expect)


async def test_a_recruitment_need_with_two_positions_is_saved_with_a_ticket(
    running: Running,
) -> None:
    fake = running.fake
    boss = fake.user(201, "Boss")
    await become_enterprise(running, boss)
    menu = fake.last_bot_message(boss)
    await fake.tap(boss, menu, ZH.t("menu.demand_button"))
    await fake.wait_for_bot_message(boss, ZH.t("demand.start"))
    await say(running, boss, "A", ZH.t("demand.company_invalid"))
    await say(running, boss, "岳阳<新材料>有限公司", ZH.t("demand.contact_name"))
    await say(running, boss, "王经理", ZH.t("demand.contact_phone"))
    await say(running, boss, "12345", ZH.t("demand.contact_phone_invalid"))
    await say(running, boss, "138 0000 0000", ZH.t("demand.position_title", number=1))
    await say(running, boss, "数控技术员", ZH.t("demand.position_count"))
    await say(running, boss, "很多", ZH.t("demand.position_count_invalid"))
    await say(running, boss, "５", ZH.t("demand.position_requirement"))
    await say(running, boss, "中专，持证", ZH.t("demand.position_pay"))
    more = await say(running, boss, "6000-8000元/月", ZH.t("demand.more"))
    await fake.tap(boss, more, ZH.t("demand.more_button"))
    await fake.wait_for_bot_message(boss, ZH.t("demand.position_title", number=2))
    await say(running, boss, "质检员", ZH.t("demand.position_count"))
    await say(running, boss, "2", ZH.t("demand.position_requirement"))
    await say(running, boss, "大专", ZH.t("demand.position_pay"))
    more = await say(running, boss, "面议", ZH.t("demand.more"))
    await fake.tap(boss, more, ZH.t("demand.done_button"))
    await fake.wait_for_bot_message(boss, ZH.t("demand.needed_by"))
    summary = await say(running, boss, "2027年3月前", ZH.t("demand.summary_header"))
    text = str(summary["text"])
    assert "企业：岳阳<新材料>有限公司" in text
    assert (
        "1. 数控技术员 × 5｜中专，持证｜6000-8000元/月" in text
        and "2. 质检员 × 2｜大专｜面议" in text
    )
    assert "&lt;新材料&gt;" in str(fake.sent_request(summary).text), (
        "company names are escaped in HTML"
    )
    await fake.tap(boss, summary, ZH.t("demand.confirm_button"))
    saved = await fake.wait_for_bot_message(boss, "已登记招聘需求")
    async with running.services.log.sessions() as session:
        demand = await session.scalar(select(Demand))
        ticket = await session.scalar(select(Ticket))
    assert demand is not None and ticket is not None
    assert f"编号 {demand.id}" in str(saved["text"])
    assert (demand.company, demand.contact_name, demand.contact_phone) == (
        "岳阳<新材料>有限公司",
        "王经理",
        "13800000000",
    )
    assert [p["title"] for p in demand.positions] == ["数控技术员", "质检员"]
    assert (
        demand.needed_by == "2027年3月前"
        and demand.ticket_id == ticket.id
        and ticket.reason == "demand"
    )


async def test_cancel_leaves_the_form_at_any_step_and_saves_nothing(running: Running) -> None:
    fake = running.fake
    boss = fake.user(202, "Boss")
    await become_enterprise(running, boss)
    await say(running, boss, "/demand", ZH.t("demand.start"))
    await say(running, boss, "某某科技公司", ZH.t("demand.contact_name"))
    await say(running, boss, "/cancel", ZH.t("demand.cancelled"))
    await say(running, boss, "人才公寓怎么申请", "来源")
    async with running.services.log.sessions() as session:
        assert await session.scalar(select(Demand)) is None


async def test_edit_starts_the_form_over(running: Running) -> None:
    fake = running.fake
    boss = fake.user(203, "Boss")
    await become_enterprise(running, boss)
    await say(running, boss, "/demand", ZH.t("demand.start"))
    for text, expect in (
        ("某某科技公司", ZH.t("demand.contact_name")),
        ("李四", ZH.t("demand.contact_phone")),
        ("0730-1234567", ZH.t("demand.position_title", number=1)),
        ("焊工", ZH.t("demand.position_count")),
        ("3", ZH.t("demand.position_requirement")),
        ("焊工证", ZH.t("demand.position_pay")),
    ):
        await say(running, boss, text, expect)
    more = await say(running, boss, "面议", ZH.t("demand.more"))
    await fake.tap(boss, more, ZH.t("demand.done_button"))
    await fake.wait_for_bot_message(boss, ZH.t("demand.needed_by"))
    summary = await say(running, boss, "尽快", ZH.t("demand.summary_header"))
    await fake.tap(boss, summary, ZH.t("demand.edit_button"))
    await fake.wait_for_bot_message(boss, ZH.t("demand.start"))


async def test_talent_are_told_the_form_is_for_enterprises(running: Running) -> None:
    fake = running.fake
    alice = fake.user(204, "Alice")
    await say(running, alice, "/demand", ZH.t("demand.enterprise_only"))
    await say(running, alice, "人才公寓怎么申请", "来源")


async def test_a_half_filled_form_survives_a_restart(
    tmp_path: Path, knowledge: KnowledgeService
) -> None:
    path = tmp_path / "settings.yaml"
    path.write_text(
        f"database:\n  url: sqlite+aiosqlite:///{tmp_path / 'forms.sqlite3'}\n"
        f"telegram:\n  state_file: {tmp_path / 'state.pickle'}\n",
        encoding="utf-8",
    )
    async with FakeTelegram() as fake:
        boss = fake.user(205, "Boss")

        async def started() -> Running:
            services = Services(load_settings(path), knowledge)
            app = build_application(
                services, token=fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url
            )
            await start_polling(app)
            return Running(fake, app, services)

        first = await started()
        try:
            await become_enterprise(first, boss)
            await say(first, boss, "/demand", ZH.t("demand.start"))
            await say(first, boss, "某某科技公司", ZH.t("demand.contact_name"))
        finally:
            await stop_polling(first.app)
        second = await started()
        try:
            await say(second, boss, "王经理", ZH.t("demand.contact_phone"))
        finally:
            await stop_polling(second.app)
