"""Privacy in rows: ``forget`` leaves nothing of the person in any table; errors carry no data."""

from __future__ import annotations

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from bot.assistant import Assistant, Person
from bot.log import queries
from bot.log.inquiry_log import InquiryLog
from bot.log.models import Base, Inquiry, TicketLink
from bot.log.models import Person as PersonRow
from knowledge.schema import Audience
from knowledge.service import KnowledgeService

ALICE = Person("telegram:1001", "爱丽丝·隐私", Audience.ENTERPRISE, "zh")
BOB = Person("telegram:1002", "Bob", Audience.TALENT, "zh")


async def _counts(log: InquiryLog) -> dict[str, int]:
    async with log.engine.connect() as connection:
        return {
            table.name: int(await connection.scalar(select(func.count()).select_from(table)) or 0)
            for table in Base.metadata.sorted_tables
        }


async def _everything_about(
    knowledge: KnowledgeService, log: InquiryLog, person: Person, update_base: int
) -> None:
    """Gives the person a row in every table that can hold a person's data."""
    assistant = Assistant(knowledge, log)
    answered = await assistant.ask(
        person, "人才公寓怎么申请", channel="telegram", update_id=update_base
    )
    await assistant.ask(
        person, "火星上的停车位怎么申请", channel="telegram", update_id=update_base + 1
    )
    assert answered.inquiry_id is not None
    await log.feedback(answered.inquiry_id, helpful=False, comment="没用")
    await log.remember(person, phone="13800000000")
    _, ticket = await log.add_demand(
        person,
        company="某公司",
        contact_name=person.display_name,
        contact_phone="13800000000",
        positions=[{"title": "工程师", "count": 1}],
        needed_by="下月",
        summary="招聘",
    )
    assert ticket is not None
    async with log.engine.begin() as connection:
        await connection.execute(
            insert(TicketLink).values(chat_id=-100, message_id=update_base, ticket_id=ticket)
        )


async def test_forget_removes_the_person_from_every_table_and_leaves_the_others(
    knowledge: KnowledgeService, inquiry_log: InquiryLog
) -> None:
    await _everything_about(knowledge, inquiry_log, BOB, 100)
    only_bob = await _counts(inquiry_log)
    await _everything_about(knowledge, inquiry_log, ALICE, 200)
    with_alice = await _counts(inquiry_log)
    touched = {name for name, count in with_alice.items() if count > only_bob[name]}
    assert touched >= {
        "people",
        "inquiries",
        "feedback",
        "tickets",
        "ticket_messages",
        "demands",
        "ticket_links",
    }, "the test gives Alice a row in every table that can hold a person's data"
    assert await inquiry_log.forget(ALICE.key) is True
    assert await _counts(inquiry_log) == only_bob, "per table: exactly Bob's rows remain"


async def test_a_failed_statement_does_not_carry_the_persons_name_or_text_in_its_error(
    inquiry_log: InquiryLog,
) -> None:
    async with inquiry_log.engine.begin() as connection:
        await queries.touch_person(
            connection, key="telegram:77", channel="telegram", display_name="爱丽丝·隐私"
        )
    with pytest.raises(IntegrityError) as raised:
        async with inquiry_log.engine.begin() as connection:
            await connection.execute(
                insert(PersonRow).values(
                    key="telegram:77", channel="telegram", display_name="爱丽丝·隐私"
                )
            )
    with pytest.raises(IntegrityError) as raised_text:
        async with inquiry_log.engine.begin() as connection:
            await connection.execute(
                insert(Inquiry).values(
                    person_id=999_999, channel="telegram", text="我的秘密问题", outcome="answered"
                )
            )
    for error in (raised.value, raised_text.value):
        message = f"{error}\n{error!r}"
        assert "爱丽丝" not in message and "我的秘密问题" not in message
        assert "parameters hidden" in message
