"""Every question is logged before the reply, on SQLite and on PostgreSQL alike."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from bot.assistant import Assistant, Person
from bot.log import listing, queries
from bot.log.db import SQLITE_POOL_SIZE, create_engine, upgrade
from bot.log.inquiry_log import InquiryLog, PersonState
from bot.log.models import Feedback, Inquiry, Ticket, TicketMessage, TicketReason, utcnow
from bot.log.models import Person as PersonRow
from knowledge.schema import Audience
from knowledge.service import KnowledgeService
from knowledge.verdict import Outcome

ALICE = Person("telegram:1001", "Alice", Audience.TALENT, "zh")
BOB = Person("telegram:1002", "Bob", Audience.ENTERPRISE, "en")


async def test_an_answered_question_is_logged_with_person_outcome_and_entry(
    knowledge: KnowledgeService, inquiry_log: InquiryLog
) -> None:
    reply = await Assistant(knowledge, inquiry_log).ask(
        ALICE, "人才公寓怎么申请", channel="telegram", chat_id="1001", update_id=7
    )
    assert reply.outcome is Outcome.ANSWERED
    assert reply.inquiry_id is not None and reply.ticket_id is None
    async with inquiry_log.sessions() as session:
        inquiry = await session.get(Inquiry, reply.inquiry_id)
        person = await session.scalar(select(PersonRow).where(PersonRow.key == "telegram:1001"))
    assert inquiry is not None and person is not None
    assert (inquiry.text, inquiry.outcome, inquiry.entry_id) == (
        "人才公寓怎么申请",
        "answered",
        "housing-talent-apartment",
    )
    assert inquiry.update_id == 7 and inquiry.chat_id == "1001" and inquiry.channel == "telegram"
    assert inquiry.created_at.tzinfo is not None
    assert (person.telegram_user_id, person.display_name, person.audience) == (
        1001,
        "Alice",
        "talent",
    )


async def test_a_redelivered_update_never_makes_a_second_inquiry(
    knowledge: KnowledgeService, inquiry_log: InquiryLog
) -> None:
    assistant = Assistant(knowledge, inquiry_log)
    first = await assistant.ask(ALICE, "公积金怎么提取", channel="telegram", update_id=42)
    again = await assistant.ask(ALICE, "公积金怎么提取", channel="telegram", update_id=42)
    assert first.inquiry_id == again.inquiry_id
    assert again.ticket_id is None, "a redelivery must not open another ticket"
    async with inquiry_log.sessions() as session:
        assert await listing.count_rows(session, Inquiry) == 1
        assert await listing.count_rows(session, Ticket) == 1


async def test_unmatched_questions_open_one_ticket_that_later_questions_join(
    knowledge: KnowledgeService, inquiry_log: InquiryLog
) -> None:
    assistant = Assistant(knowledge, inquiry_log)
    first = await assistant.ask(ALICE, "公积金怎么提取", channel="console")
    second = await assistant.ask(ALICE, "讲个笑话", channel="console")
    other = await assistant.ask(BOB, "明天天气怎么样", channel="console")
    assert first.ticket_id is not None and first.ticket_id == second.ticket_id
    assert other.ticket_id not in (None, first.ticket_id)
    async with inquiry_log.sessions() as session:
        messages = (
            await session.scalars(
                select(TicketMessage.text).where(TicketMessage.ticket_id == first.ticket_id)
            )
        ).all()
        ticket = await session.get(Ticket, first.ticket_id)
    assert list(messages) == ["公积金怎么提取", "讲个笑话"]
    assert ticket is not None and (ticket.status, ticket.reason) == ("open", "unmatched")


async def test_not_helpful_feedback_opens_a_ticket_and_helpful_does_not(
    knowledge: KnowledgeService, inquiry_log: InquiryLog
) -> None:
    assistant = Assistant(knowledge, inquiry_log)
    liked = await assistant.ask(ALICE, "人才公寓怎么申请", channel="telegram")
    disliked = await assistant.ask(BOB, "工匠奖金多少", channel="telegram")
    assert liked.inquiry_id and disliked.inquiry_id
    assert await inquiry_log.feedback(liked.inquiry_id, helpful=True) is None
    ticket_id = await inquiry_log.feedback(
        disliked.inquiry_id, helpful=False, comment="想知道申报时间"
    )
    assert ticket_id is not None
    async with inquiry_log.sessions() as session:
        ticket = await session.get(Ticket, ticket_id)
        assert await listing.count_rows(session, Feedback) == 2
        text = await session.scalar(
            select(TicketMessage.text).where(TicketMessage.ticket_id == ticket_id)
        )
    assert (
        ticket is not None
        and ticket.reason == "not_helpful"
        and ticket.inquiry_id == disliked.inquiry_id
    )
    assert text == "工匠奖金多少\n（反馈：想知道申报时间）"


async def test_asking_for_a_person_opens_a_ticket(inquiry_log: InquiryLog) -> None:
    ticket_id = await inquiry_log.request_human(ALICE, "我想和工作人员聊聊")
    async with inquiry_log.sessions() as session:
        ticket = await session.get(Ticket, ticket_id)
    assert ticket is not None and (ticket.reason, ticket.status) == ("human_request", "open")


async def test_staff_assign_reply_and_resolve_set_status_and_times(
    knowledge: KnowledgeService, inquiry_log: InquiryLog
) -> None:
    reply = await Assistant(knowledge, inquiry_log).ask(ALICE, "公积金怎么提取", channel="console")
    assert reply.inquiry_id and reply.ticket_id
    async with inquiry_log.sessions.begin() as session:
        ticket = await queries.assign_ticket(session, inquiry_id=reply.inquiry_id, staff="王专员")
        assert (ticket.status, ticket.assignee, ticket.first_response_at) == (
            "in_progress",
            "王专员",
            None,
        )
        await queries.add_staff_reply(
            session, ticket_id=reply.ticket_id, staff="王专员", text="公积金请咨询公积金中心"
        )
        ticket = await queries.resolve_ticket(session, inquiry_id=reply.inquiry_id, note="已答复")
    async with inquiry_log.sessions() as session:
        stored = await session.get(Ticket, reply.ticket_id)
    assert stored is not None and stored.status == "resolved" and stored.resolution_note == "已答复"
    assert stored.first_response_at is not None and stored.resolved_at is not None
    assert stored.opened_at <= stored.first_response_at <= stored.resolved_at


async def test_forgetting_a_person_deletes_everything_about_them_and_nothing_else(
    knowledge: KnowledgeService, inquiry_log: InquiryLog
) -> None:
    assistant = Assistant(knowledge, inquiry_log)
    asked = await assistant.ask(ALICE, "人才公寓怎么申请", channel="telegram")
    await assistant.ask(ALICE, "公积金怎么提取", channel="telegram")
    assert asked.inquiry_id
    await inquiry_log.feedback(asked.inquiry_id, helpful=False)
    await assistant.ask(BOB, "公积金怎么提取", channel="telegram")
    assert await inquiry_log.forget("telegram:1001") is True
    assert await inquiry_log.forget("telegram:1001") is False
    async with inquiry_log.sessions() as session:
        people = (await session.scalars(select(PersonRow.key))).all()
        assert list(people) == ["telegram:1002"]
        assert await listing.count_rows(session, Inquiry) == 1
        assert await listing.count_rows(session, Ticket) == 1
        assert await listing.count_rows(session, Feedback) == 0
        assert await listing.count_rows(session, TicketMessage) == 1


async def test_purge_removes_old_resolved_records_and_keeps_open_ones(
    inquiry_log: InquiryLog,
) -> None:
    old = utcnow() - timedelta(days=400)
    async with inquiry_log.sessions.begin() as session:
        person = await queries.touch_person(session, key="console:x", channel="console", now=old)
        kept_open, _ = await queries.log_inquiry(
            session, person_id=person, channel="console", text="a", outcome="unmatched", now=old
        )
        await queries.open_ticket(
            session,
            person_id=person,
            reason=TicketReason.UNMATCHED,
            text="a",
            inquiry_id=kept_open,
            now=old,
        )
        answered, _ = await queries.log_inquiry(
            session, person_id=person, channel="console", text="b", outcome="answered", now=old
        )
        recent, _ = await queries.log_inquiry(
            session, person_id=person, channel="console", text="c", outcome="answered"
        )
    async with inquiry_log.sessions.begin() as session:
        result = await queries.purge_resolved(session, older_than_days=365)
    assert (result.inquiries, result.tickets) == (1, 0)
    async with inquiry_log.sessions() as session:
        remaining = (await session.scalars(select(Inquiry.id).order_by(Inquiry.id))).all()
    assert list(remaining) == [kept_open, recent]
    assert answered not in remaining


async def test_listing_filters_by_status_outcome_date_and_text(
    knowledge: KnowledgeService, inquiry_log: InquiryLog
) -> None:
    assistant = Assistant(knowledge, inquiry_log)
    await assistant.ask(ALICE, "人才公寓怎么申请", channel="console")
    unmatched = await assistant.ask(BOB, "公积金怎么提取", channel="console")
    async with inquiry_log.sessions() as session:
        everything = await listing.list_inquiries(session)
        open_ones = await listing.list_inquiries(session, status="open")
        answered = await listing.list_inquiries(session, outcome="answered")
        found = await listing.list_inquiries(session, search="公积金")
        future = await listing.list_inquiries(session, since=utcnow() + timedelta(days=1))
    assert [r.text for r in everything] == ["公积金怎么提取", "人才公寓怎么申请"]
    assert [r.id for r in open_ones] == [unmatched.inquiry_id]
    assert [r.entry_id for r in answered] == ["housing-talent-apartment"]
    assert [r.person for r in found] == ["Bob"]
    assert future == []


async def test_fifty_concurrent_people_are_all_logged(
    knowledge: KnowledgeService, inquiry_log: InquiryLog, database_url: str
) -> None:
    """All stored, over a fixed pool: no connection is opened and closed again per burst."""
    opened: list[object] = []
    event.listen(inquiry_log.engine.sync_engine, "connect", lambda *_: opened.append(1))
    assistant = Assistant(knowledge, inquiry_log)
    people = [Person(f"telegram:{2000 + n}", f"P{n}") for n in range(50)]
    replies = await asyncio.gather(
        *(
            assistant.ask(p, "人才公寓怎么申请", channel="telegram", update_id=5000 + n)
            for n, p in enumerate(people)
        )
    )
    assert len({r.inquiry_id for r in replies}) == 50
    async with inquiry_log.sessions() as session:
        assert await listing.count_rows(session, Inquiry) == 50
        assert await listing.count_rows(session, PersonRow) == 50
    pool_size = SQLITE_POOL_SIZE if database_url.startswith("sqlite") else 20
    assert 1 <= len(opened) <= pool_size


async def test_the_same_update_arriving_several_times_at_once_is_stored_once(
    knowledge: KnowledgeService, inquiry_log: InquiryLog
) -> None:
    assistant = Assistant(knowledge, inquiry_log)
    await assistant.ask(BOB, "人才公寓怎么申请", channel="telegram", update_id=41)
    replies = await asyncio.gather(
        *(
            assistant.ask(ALICE, "公积金怎么提取", channel="telegram", update_id=42)
            for _ in range(5)
        ),
        *(
            assistant.ask(BOB, "人才公寓怎么申请", channel="telegram", update_id=41)
            for _ in range(3)
        ),
    )
    first = replies[:5]
    assert len({r.inquiry_id for r in first}) == 1
    assert sum(r.ticket_id is not None for r in first) == 1, "one ticket, not five"
    assert len({r.inquiry_id for r in replies[5:]}) == 1
    async with inquiry_log.sessions() as session:
        assert await listing.count_rows(session, Inquiry) == 2
        assert await listing.count_rows(session, Ticket) == 1


async def test_nul_bytes_and_huge_texts_are_stored_safely_and_matched_on_their_start(
    knowledge: KnowledgeService, inquiry_log: InquiryLog
) -> None:
    assistant = Assistant(knowledge, inquiry_log, match_chars=1000, store_chars=20_000)
    nul = await assistant.ask(ALICE, "人才公寓\x00怎么申请", channel="telegram", update_id=801)
    huge_text = "人才公寓怎么申请" + "啊" * 100_000
    huge = await assistant.ask(ALICE, huge_text, channel="telegram", update_id=802)
    assert huge.match.query == huge_text[:1000]
    async with inquiry_log.sessions() as session:
        stored_nul = await session.get(Inquiry, nul.inquiry_id)
        stored_huge = await session.get(Inquiry, huge.inquiry_id)
    assert stored_nul is not None and stored_nul.text == "人才公寓\ufffd怎么申请"
    assert stored_huge is not None and len(stored_huge.text) == 20_000
    assert stored_huge.text.startswith("人才公寓怎么申请") and stored_huge.text.endswith("…")


async def test_the_log_itself_stores_nul_bytes_safely_and_cuts_texts_at_the_storage_cap(
    knowledge: KnowledgeService, inquiry_log: InquiryLog
) -> None:
    """Also when a caller passes the raw text (defence behind the conversation core)."""
    reply = await Assistant(knowledge, None).ask(ALICE, "人才公寓怎么申请", channel="telegram")
    raw = "人才公寓\x00怎么申请" + "啊" * 30_000
    recorded = await inquiry_log.record(
        ALICE, raw, reply, channel="telegram", chat_id="1001", update_id=901
    )
    ticket = await inquiry_log.request_human(BOB, "找\x00人工" + "呀" * 30_000)
    async with inquiry_log.sessions() as session:
        stored = await session.get(Inquiry, recorded.inquiry_id)
        message = await session.scalar(
            select(TicketMessage.text).where(TicketMessage.ticket_id == ticket)
        )
    assert stored is not None and stored.text.startswith("人才公寓\ufffd怎么申请")
    assert len(stored.text) == inquiry_log.recorder.store_chars == 20_000
    assert message is not None and message.startswith("找\ufffd人工") and len(message) == 20_000


async def test_forged_ids_beyond_the_integer_range_simply_find_nothing(
    inquiry_log: InquiryLog,
) -> None:
    forged = 999_999_999_999
    with pytest.raises(queries.InquiryNotFound):
        await inquiry_log.feedback(forged, helpful=True, person_key=ALICE.key)
    with pytest.raises(queries.InquiryNotFound):
        await inquiry_log.request_human(ALICE, "", inquiry_id=forged)
    await inquiry_log.mark_replied(forged)
    await inquiry_log.mark_replied(-forged)
    async with inquiry_log.sessions.begin() as session:
        with pytest.raises(queries.InquiryNotFound):
            await listing.get_inquiry(session, forged)
        with pytest.raises(queries.InquiryNotFound):
            await queries.assign_ticket(session, inquiry_id=forged, staff="王")
        with pytest.raises(queries.InquiryNotFound):
            await queries.add_staff_reply(session, ticket_id=forged, staff="王", text="x")


async def test_a_persons_state_holds_profile_relayed_ticket_and_last_answer_in_one_read(
    knowledge: KnowledgeService, inquiry_log: InquiryLog
) -> None:
    assert await inquiry_log.state("telegram:404") == PersonState()  # someone new
    assistant = Assistant(knowledge, inquiry_log)
    await inquiry_log.remember(ALICE, phone="13800000000")
    answered = await assistant.ask(ALICE, "人才公寓怎么申请", channel="telegram")
    await assistant.ask(ALICE, "公积金怎么提取", channel="telegram")  # unmatched: not the state
    state = await inquiry_log.state(ALICE.key)
    assert state.profile is not None
    assert (state.profile.audience, state.profile.phone) == (Audience.TALENT, "13800000000")
    assert state.last_entry is not None and state.last_entry[0] == "housing-talent-apartment"
    assert state.last_entry == await inquiry_log.last_entry(ALICE.key)
    assert answered.inquiry_id is not None
    # The unmatched question's ticket is not a conversation with the office until taken.
    assert state.relay_ticket is None
    assert (await inquiry_log.state(BOB.key)).profile is None
    asked = await inquiry_log.request_human(BOB, "我想和工作人员聊聊")
    bob = await inquiry_log.state(BOB.key)
    assert bob.relay_ticket == asked and bob.last_entry is None


async def test_states_asked_for_at_once_share_one_statement_and_stay_each_persons_own(
    knowledge: KnowledgeService, inquiry_log: InquiryLog
) -> None:
    assistant = Assistant(knowledge, inquiry_log)
    await inquiry_log.remember(ALICE, phone="13800000000")
    await assistant.ask(ALICE, "人才公寓怎么申请", channel="telegram")
    ticket = await inquiry_log.request_human(BOB, "我想和工作人员聊聊")
    reads: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if "relay_ticket" in statement:
            reads.append(statement)

    event.listen(inquiry_log.engine.sync_engine, "before_cursor_execute", seen)
    try:
        keys = [ALICE.key, BOB.key, "telegram:404", ALICE.key]
        states = await asyncio.gather(*(inquiry_log.state(k) for k in keys))
        tapped = await inquiry_log.profile(BOB.key)
    finally:
        event.remove(inquiry_log.engine.sync_engine, "before_cursor_execute", seen)
    assert len(reads) == 2  # the four messages' reads, then the tap's
    alice, bob, new, alice_again = states
    assert alice == alice_again and alice.last_entry is not None
    assert alice.last_entry[0] == "housing-talent-apartment" and alice.relay_ticket is None
    assert alice.profile is not None and alice.profile.phone == "13800000000"
    assert bob.relay_ticket == ticket and bob.last_entry is None
    assert new == PersonState()
    assert tapped is not None and tapped.audience is Audience.ENTERPRISE


async def test_replies_marked_at_once_are_all_stored(
    knowledge: KnowledgeService, inquiry_log: InquiryLog
) -> None:
    assistant = Assistant(knowledge, inquiry_log)
    people = [Person(f"telegram:{3000 + n}", f"P{n}") for n in range(30)]
    replies = await asyncio.gather(
        *(
            assistant.ask(p, "人才公寓怎么申请", channel="telegram", update_id=7000 + n)
            for n, p in enumerate(people)
        )
    )
    ids = [r.inquiry_id for r in replies if r.inquiry_id is not None]
    await asyncio.gather(*(inquiry_log.mark_replied(i) for i in [*ids, 2**40]))
    async with inquiry_log.sessions() as session:
        marked = await session.scalars(select(Inquiry.id).where(Inquiry.replied_at.is_not(None)))
        assert sorted(marked) == sorted(ids)
    again = await assistant.ask(people[0], "人才公寓怎么申请", channel="telegram", update_id=7000)
    assert again.already_replied


async def test_a_write_that_fails_leaves_nothing_even_on_a_connection_an_autocommit_read_used(
    database_url: str,
) -> None:
    """The per-message reads run in autocommit; the pool must hand the connection back to the
    next writer transactional again, or a half-done write would stay."""
    engine = create_engine(database_url, pool_size=1)  # one connection: the read's, reused
    await upgrade(engine)
    log = InquiryLog(engine)
    try:
        assert await log.state(ALICE.key) == PersonState()
        with pytest.raises(RuntimeError, match="half-way"):
            async with engine.begin() as connection:
                await queries.touch_person(connection, key=ALICE.key, channel="telegram")
                raise RuntimeError("half-way")
        assert await log.profile(ALICE.key) is None
        await log.remember(ALICE)
        assert await log.profile(ALICE.key) is not None
    finally:
        await log.close()


async def test_the_entry_answered_just_before_answered_again_is_marked_repeated(
    knowledge: KnowledgeService, inquiry_log: InquiryLog
) -> None:
    assistant = Assistant(knowledge, inquiry_log)
    first = await assistant.ask(ALICE, "人才公寓怎么申请", channel="telegram")
    again = await assistant.ask(ALICE, "那要交哪些材料", channel="telegram")
    other = await assistant.ask(ALICE, "购房补贴有吗", channel="telegram")
    assert first.entry is not None and again.entry == first.entry, "the follow-up stays"
    assert (first.repeated, again.repeated) == (False, True)
    assert other.entry is not None and other.entry != first.entry and not other.repeated
    alone = await Assistant(knowledge, None).ask(BOB, "那要交哪些材料", channel="telegram")
    assert not alone.repeated, "no entry before, nothing to point back at"
