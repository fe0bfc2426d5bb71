"""People use the bot on Telegram: the real Application over HTTP to the fake Bot API."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from bot.app import COMMANDS
from bot.log import listing
from bot.log.models import Feedback, Inquiry, Person, Ticket
from bot.texts import texts
from tests.e2e.conftest import Running
from tests.fakegram import FakeUser

ZH = texts("zh")
EN = texts("en")


async def person_row(running: Running, user: FakeUser) -> Person | None:
    async with running.services.log.sessions() as session:
        return await session.scalar(select(Person).where(Person.key == f"telegram:{user.id}"))


async def inquiries_of(running: Running) -> list[Inquiry]:
    async with running.services.log.sessions() as session:
        return list((await session.scalars(select(Inquiry).order_by(Inquiry.id))).all())


async def test_the_command_list_is_published_in_chinese_and_english(running: Running) -> None:
    zh = [c["command"] for c in running.fake.commands("")]
    en = running.fake.commands("en")
    assert zh == list(COMMANDS)
    assert [c["description"] for c in en] == [EN.t(f"commands.{name}") for name in COMMANDS]


async def test_start_explains_the_bot_and_the_chosen_role_is_remembered(running: Running) -> None:
    fake = running.fake
    alice = fake.user(101, "Alice")
    await fake.send_text(alice, "/start")
    welcome = await fake.wait_for_bot_message(alice, "人才政策咨询助手")
    assert "我不能" in welcome["text"]
    await fake.tap(alice, welcome, ZH.t("start.talent_button"))
    await fake.wait_until(
        lambda: ZH.t("role.set", audience="人才") in fake.last_bot_message(alice)["text"],
        what="role set",
    )
    menu = fake.last_bot_message(alice)
    labels = [b["text"] for row in menu["reply_markup"]["inline_keyboard"] for b in row]
    assert labels[:3] == [
        ZH.t("category.housing"),
        ZH.t("category.subsidies"),
        ZH.t("category.green_card"),
    ]
    row = await person_row(running, alice)
    assert row is not None and row.audience == "talent" and row.display_name == "Alice"


async def test_enterprises_see_recruitment_first_and_the_demand_button(running: Running) -> None:
    fake = running.fake
    boss = fake.user(102, "Boss")
    await fake.send_text(boss, "/start")
    welcome = await fake.wait_for_bot_message(boss)
    await fake.tap(boss, welcome, ZH.t("start.enterprise_button"))
    await fake.wait_until(
        lambda: "已记住：您是企业" in fake.last_bot_message(boss)["text"], what="role set"
    )
    labels = [
        b["text"]
        for row in fake.last_bot_message(boss)["reply_markup"]["inline_keyboard"]
        for b in row
    ]
    assert labels[0] == ZH.t("category.recruitment")
    assert labels[-1] == ZH.t("menu.demand_button")


async def test_browsing_a_category_and_opening_an_entry_logs_it(running: Running) -> None:
    fake = running.fake
    alice = fake.user(103, "Alice")
    await fake.send_text(alice, "/menu")
    menu = await fake.wait_for_bot_message(alice, ZH.t("menu.header"))
    await fake.tap(alice, menu, ZH.t("category.housing"))
    await fake.wait_until(
        lambda: "住房（第 1/1 页）" in fake.last_bot_message(alice)["text"], what="housing page"
    )
    page = fake.last_bot_message(alice)
    await fake.tap(alice, page, "人才公寓")
    answer = await fake.wait_for_bot_message(alice, "来源")
    assert answer["text"].startswith("人才公寓")
    logged = await inquiries_of(running)
    assert [(i.text, i.entry_id) for i in logged] == [
        ("[menu] 人才公寓", "housing-talent-apartment")
    ]


async def test_a_question_is_answered_with_source_and_feedback_is_stored(running: Running) -> None:
    fake = running.fake
    alice = fake.user(104, "Alice")
    await fake.send_text(alice, "人才公寓怎么申请")
    answer = await fake.wait_for_bot_message(alice, "来源")
    sent = fake.sent_request(answer)
    assert sent.parse_mode == "HTML" and sent.text is not None and "<b>人才公寓</b>" in sent.text
    assert "区人才服务中心" in answer["text"]
    await fake.tap(alice, answer, ZH.t("answer_buttons.helpful"))
    await fake.wait_until(lambda: bool(fake.callback_answers), what="callback answered")
    (inquiry,) = await inquiries_of(running)
    assert inquiry.outcome == "answered" and inquiry.replied_at is not None
    async with running.services.log.sessions() as session:
        feedback = (await session.scalars(select(Feedback))).all()
    assert [(f.inquiry_id, f.helpful) for f in feedback] == [(inquiry.id, True)]


async def test_not_helpful_and_asking_for_a_person_open_a_ticket(running: Running) -> None:
    fake = running.fake
    alice = fake.user(105, "Alice")
    await fake.send_text(alice, "工匠奖金多少")
    answer = await fake.wait_for_bot_message(alice, "来源")
    await fake.tap(alice, answer, ZH.t("answer_buttons.not_helpful"))
    sorry = await fake.wait_for_bot_message(alice, "抱歉没帮上忙")
    await fake.send_text(alice, "/human 想当面咨询")
    opened = await fake.wait_for_bot_message(alice, "已为您转人工")
    async with running.services.log.sessions() as session:
        tickets = (await session.scalars(select(Ticket))).all()
    assert len(tickets) == 1, "the hand-over joins the person's open ticket"
    assert f"工单 {tickets[0].id}" in sorry["text"] and f"工单 {tickets[0].id}" in opened["text"]


async def test_suggestions_offer_buttons_that_open_the_entry(running: Running) -> None:
    fake = running.fake
    alice = fake.user(106, "Alice")
    await fake.send_text(alice, "工作站")
    suggested = await fake.wait_for_bot_message(alice)
    assert suggested["text"] == ZH.t("suggest.header")
    assert len(suggested["reply_markup"]["inline_keyboard"]) == 3
    first = suggested["reply_markup"]["inline_keyboard"][0][0]["text"]
    await fake.tap(alice, suggested, first)
    answer = await fake.wait_for_bot_message(alice, "来源")
    assert answer["text"].startswith(first)


async def test_an_entry_offered_under_an_answer_opens_from_its_button(running: Running) -> None:
    fake = running.fake
    alice = fake.user(120, "Alice")
    await fake.send_text(alice, "人才公寓怎么申请，另外工匠有啥说法")
    answer = await fake.wait_for_bot_message(alice, ZH.t("multi.also_header"))
    assert answer["text"].startswith("人才公寓")
    offered = answer["reply_markup"]["inline_keyboard"][0][0]["text"]
    await fake.tap(alice, answer, offered)
    opened = await fake.wait_for_bot_message(alice, "工匠")
    assert opened["text"].startswith(offered)
    asked = next(i for i in await inquiries_of(running) if "另外" in i.text)
    assert [s["entry_id"] for s in asked.suggestions if s.get("also")] == [
        "subsidy-craftsman-award"
    ]


async def test_an_unmatched_question_is_handed_over_and_the_phone_can_be_shared(
    running: Running,
) -> None:
    fake = running.fake
    alice = fake.user(107, "Alice")
    await fake.send_text(alice, "公积金怎么提取")
    reply = await fake.wait_for_bot_message(alice, "这个问题我暂时回答不了")
    assert "0730-0000000" in reply["text"]
    keyboard = fake.reply_keyboard(alice)
    assert keyboard is not None and keyboard["keyboard"][0][0]["request_contact"] is True
    await fake.send_contact(alice, "13800000000")
    await fake.wait_for_bot_message(alice, ZH.t("contact.thanks"))
    row = await person_row(running, alice)
    assert row is not None and row.phone == "13800000000"
    async with running.services.log.sessions() as session:
        ticket = await session.scalar(select(Ticket))
    assert ticket is not None and ticket.reason == "unmatched"
    await fake.send_text(alice, "护照怎么办理")
    again = await fake.wait_for_bot_message(alice, "这个问题我暂时回答不了")
    assert "reply_markup" not in again, "no phone button once we have the number"


async def test_greetings_get_a_friendly_reply_not_a_policy(running: Running) -> None:
    fake = running.fake
    alice = fake.user(108, "Alice")
    await fake.send_text(alice, "你好")
    assert (await fake.wait_for_bot_message(alice))["text"] == ZH.t("smalltalk.greeting")


async def test_english_speakers_get_an_english_interface_and_chinese_answers(
    running: Running,
) -> None:
    fake = running.fake
    bob = fake.user(109, "Bob", language_code="en")
    await fake.send_text(bob, "/help")
    assert (await fake.wait_for_bot_message(bob))["text"] == EN.t("help.text")
    await fake.send_text(bob, "How do I apply for a talent apartment?")
    answer = await fake.wait_for_bot_message(bob, "Source")
    assert "人才公寓" in answer["text"]
    labels = [b["text"] for row in answer["reply_markup"]["inline_keyboard"] for b in row]
    assert EN.t("answer_buttons.helpful") in labels


async def test_forget_deletes_everything_only_after_confirmation(running: Running) -> None:
    fake = running.fake
    alice = fake.user(110, "Alice")
    await fake.send_text(alice, "公积金怎么提取")
    await fake.wait_for_bot_message(alice)
    await fake.send_text(alice, "/forget")
    confirm = await fake.wait_for_bot_message(alice, ZH.t("forget.confirm"))
    await fake.tap(alice, confirm, ZH.t("forget.keep_button"))
    await fake.wait_until(
        lambda: fake.last_bot_message(alice)["text"] == ZH.t("forget.cancelled"), what="cancel"
    )
    assert await person_row(running, alice) is not None
    await fake.send_text(alice, "/forget")
    confirm = await fake.wait_for_bot_message(alice, ZH.t("forget.confirm"))
    await fake.tap(alice, confirm, ZH.t("forget.delete_button"))
    await fake.wait_until(
        lambda: fake.last_bot_message(alice)["text"] == ZH.t("forget.done"), what="deleted"
    )
    assert await person_row(running, alice) is None
    assert await inquiries_of(running) == []


async def test_a_forged_feedback_button_for_someone_elses_inquiry_changes_nothing(
    running: Running,
) -> None:
    fake = running.fake
    alice, mallory = fake.user(111, "Alice"), fake.user(112, "Mallory")
    await fake.send_text(alice, "人才公寓怎么申请")
    await fake.wait_for_bot_message(alice, "来源")
    (inquiry,) = await inquiries_of(running)
    await fake.send_text(mallory, "你好")
    greeting = await fake.wait_for_bot_message(mallory)
    for data in (
        f"fb:{inquiry.id}:n",
        f"hu:{inquiry.id}",
        "fb:999999:n",
        "cat:nonsense:0",
        "e:no-such-entry",
        "x" * 80,
    ):
        await fake.tap_raw(mallory, greeting, data)
    await fake.wait_until(lambda: len(fake.callback_answers) >= 6, what="all taps answered")
    assert all(a.get("text") == ZH.t("error.expired") for a in fake.callback_answers)
    async with running.services.log.sessions() as session:
        assert await listing.count_rows(session, Feedback) == 0
        assert await listing.count_rows(session, Ticket) == 0


async def test_a_flood_wait_in_the_middle_of_a_conversation_is_retried(running: Running) -> None:
    fake = running.fake
    alice = fake.user(113, "Alice")
    fake.inject("sendMessage", "429", retry_after=1)
    await fake.send_text(alice, "人才公寓怎么申请")
    answer = await fake.wait_for_bot_message(alice, "来源", timeout=10)
    assert answer["text"].startswith("人才公寓")
    assert len(fake.calls("sendMessage")) >= 2


async def test_a_person_who_blocked_the_bot_is_noted(running: Running) -> None:
    fake = running.fake
    alice = fake.user(114, "Alice")
    await fake.send_text(alice, "/start")
    await fake.wait_for_bot_message(alice)
    fake.block(alice)
    await fake.send_text(alice, "人才公寓怎么申请")

    async def blocked() -> bool:
        row = await person_row(running, alice)
        return row is not None and row.blocked_bot

    for _ in range(100):
        if await blocked():
            break
        await asyncio.sleep(0.05)
    assert await blocked()


async def test_a_dropped_connection_while_sending_is_retried(running: Running) -> None:
    fake = running.fake
    alice = fake.user(115, "Alice")
    fake.inject("sendMessage", "drop")
    await fake.send_text(alice, "人才公寓怎么申请")
    answer = await fake.wait_for_bot_message(alice, "来源", timeout=10)
    assert answer["text"].startswith("人才公寓")


async def tickets_of(running: Running) -> list[Ticket]:
    async with running.services.log.sessions() as session:
        return list((await session.scalars(select(Ticket).order_by(Ticket.id))).all())


async def test_a_follow_up_is_answered_about_the_entry_before(running: Running) -> None:
    fake = running.fake
    alice = fake.user(150, "Alice")
    await fake.send_text(alice, "人才公寓怎么申请")
    await fake.wait_for_bot_message(alice, "人才公寓")
    await fake.send_text(alice, "那要什么材料")
    await fake.wait_until(lambda: len(fake.bot_messages(alice)) >= 2, what="the follow-up answered")
    follow_up = fake.last_bot_message(alice)["text"]
    assert follow_up.startswith("人才公寓"), follow_up
    # The chat still shows the whole answer, so the follow-up points back at it.
    assert texts("zh").t("answer.repeated") in follow_up
    assert len(follow_up) < len(fake.bot_messages(alice)[0]["text"])
    rows = await inquiries_of(running)
    assert [r.entry_id for r in rows] == ["housing-talent-apartment", "housing-talent-apartment"]


async def test_asking_for_a_person_opens_a_ticket_and_says_so(running: Running) -> None:
    fake = running.fake
    bob = fake.user(151, "Bob")
    await fake.send_text(bob, "转人工")
    reply = await fake.wait_for_bot_message(bob, "转人工")
    [ticket] = await tickets_of(running)
    assert reply["text"] == ZH.t("human.opened", ticket=ticket.id)
    assert ticket.reason == "human_request"


async def test_an_unclear_message_asks_to_rephrase_and_opens_no_ticket(running: Running) -> None:
    fake = running.fake
    carol = fake.user(152, "Carol")
    await fake.send_text(carol, "？？？")
    reply = await fake.wait_for_bot_message(carol)
    assert reply["text"] == ZH.t("unclear.text")
    assert await tickets_of(running) == []
    [row] = await inquiries_of(running)
    assert row.outcome == "unclear"
