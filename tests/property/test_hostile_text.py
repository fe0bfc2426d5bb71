"""Any text a person can send: the matcher and the conversation core answer, never raise.

Hypothesis generates the texts (empty, whitespace, control and zero-width characters, RTL
overrides, emoji, NUL bytes, HTML/Markdown/SQL fragments, mixed scripts, arbitrary Unicode);
every reply the bot would send for them, and the staff-group card of every ticket they open,
must be HTML Telegram accepts. The examples are derandomized and their number fixed, so CI is
deterministic; there are no timing assertions here (benchmarks/ measures speed).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.assistant import STORE_CHARS, Assistant, Person, Reply, clean_text
from bot.chat import views
from bot.desk import cards
from bot.desk.staff_desk import StaffDesk
from bot.formatting import TELEGRAM_LIMIT, shorten
from bot.log.inquiry_log import InquiryLog
from bot.log.models import Inquiry
from bot.texts import texts
from knowledge.schema import Audience
from knowledge.service import KnowledgeService
from knowledge.verdict import Outcome
from tests.property import telegram_html

OFFICE = {
    "office_name": "人才办 <b>&",
    "office_phone": "0730-1",
    "office_address": "x",
    "office_hours": "y",
}
FRAGMENTS = [
    "",
    " ",
    "\t\n\r ",
    "\x00",
    "\x00\x01\x07\x1b[31m\x7f",
    "\u200b\u200c\u200d\u2060\ufeff",
    "\u202e\u202d\u2066\u2067\u2069",
    "👨‍👩‍👧‍👦🇨🇳🏳️‍🌈😀",
    "<b>",
    "</i>",
    "<script>alert(1)</script>",
    '<a href="javascript:alert(1)">x</a>',
    "&",
    "&amp;",
    "&lt;",
    "&#0;",
    "<<>>&&",
    "*粗体* _斜体_ `code` [链接](http://e.x) ~~删~~ ||剧透||",
    "'; DROP TABLE inquiries; --",
    "1' OR '1'='1",
    "%s %(x)s {0} {x}",
    "人才公寓怎么申请",
    "博士补贴多少钱？",
    "转人工",
    "？？？",
    "مرحبا بالعالم",
    "Привет, мир",
    "שלום",
    "こんにちは",
    "\U0010ffff\U000e0001",
]
hostile_text = st.lists(
    st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=40)), max_size=8
).map("".join)
"""Texts built from hostile fragments and arbitrary Unicode, up to a few hundred characters."""

long_text = st.tuples(st.sampled_from(FRAGMENTS[1:]), st.integers(1, 3000), hostile_text).map(
    lambda parts: parts[0] * parts[1] + parts[2]
)
"""Texts past ``limits.match_chars`` (and some past ``store_chars``)."""

PROFILE = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
HUGE = [
    "人才公寓怎么申请" + "啊" * 100_000,
    "x" * 100_000,
    "\u200b" * 100_000,
    "<b>" * 34_000,
    "😀" * 100_000,
    "\x00" * 100_000,
]


def visible_parts(view: views.View) -> str:
    """Checks every message of ``view`` and returns their visible text."""
    visible = []
    for part in view.parts():
        assert telegram_html.utf16_len(part) <= TELEGRAM_LIMIT
        visible.append(telegram_html.check(part))
    for row in view.buttons:
        for button in row:
            assert button.text and len(button.data.encode()) <= 64
    return "".join(visible)


def people_view(reply: Reply, assistant: Assistant, person: Person) -> views.View:
    """The view ``handlers/people.py`` sends for ``reply`` (the same branches)."""
    t = texts(person.language)
    kb = assistant.knowledge.kb
    if reply.outcome is Outcome.LIMITED:
        return views.plain(t.t("limits.slow_down"))
    if reply.outcome in (Outcome.ANSWERED, Outcome.MULTI) and reply.entries:
        return views.answer(
            reply.entries, kb, t, OFFICE, reply.inquiry_id, audience=person.audience
        )
    if reply.outcome is Outcome.SUGGESTED:
        return views.suggestions(reply.suggestions, t)
    if reply.outcome is Outcome.SMALLTALK and reply.smalltalk:
        return views.plain(t.t(f"smalltalk.{reply.smalltalk}"))
    if reply.outcome is Outcome.UNCLEAR:
        return views.plain(t.t("unclear.text"))
    if reply.outcome is Outcome.HANDOVER and reply.ticket_id is not None:
        return views.plain(t.t("human.opened", ticket=reply.ticket_id))
    return views.unmatched(t, OFFICE, ask_phone=True)


@dataclass
class Core:
    """The conversation core over the real inquiry log on an SQLite file, on one event loop."""

    runner: asyncio.Runner
    assistant: Assistant
    log: InquiryLog
    desk: StaffDesk
    numbers: Iterator[int]


@pytest.fixture(scope="module")
def core(knowledge: KnowledgeService, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Core]:
    path: Path = tmp_path_factory.mktemp("property") / "log.sqlite3"
    runner = asyncio.Runner()
    log = runner.run(InquiryLog.open(f"sqlite+aiosqlite:///{path}"))
    assistant = Assistant(knowledge, log, match_chars=1000, store_chars=STORE_CHARS)
    try:
        yield Core(runner, assistant, log, StaffDesk(log), itertools.count(1))
    finally:
        runner.run(log.close())
        runner.close()


def ask_and_render(core: Core, text: str, name: str, audience: Audience | None) -> None:
    """Asks ``text`` as a new person called ``name``; checks the record and every rendering."""
    number = next(core.numbers)
    language = "en" if number % 2 else "zh"
    person = Person(f"telegram:{number}", name, audience, language)

    async def run() -> None:
        reply = await core.assistant.ask(
            person, text, channel="telegram", chat_id=str(number), update_id=number
        )
        assert isinstance(reply.outcome, Outcome)
        stored = clean_text(text, STORE_CHARS)
        assert reply.match.query in stored[: core.assistant.match_chars], "matched on its start"
        assert reply.inquiry_id is not None
        async with core.log.sessions() as session:
            row = await session.get(Inquiry, reply.inquiry_id)
        assert row is not None and row.text == stored
        visible_parts(people_view(reply, core.assistant, person))
        if reply.ticket_id is not None:
            ticket = await core.desk.card(reply.ticket_id)
            for t in (texts("zh"), texts("en")):
                seen = visible_parts(cards.card(ticket, t))
                question = shorten(ticket.question, cards.CARD_QUESTION_CHARS)
                assert question in seen, "the question reaches the card escaped, not mangled"
                assert (ticket.person_name or ticket.person_key) in seen

    core.runner.run(run())


@PROFILE
@given(text=st.one_of(hostile_text, long_text), audience=st.sampled_from([None, *Audience]))
@example(text="", audience=None)
@example(text="\x00", audience=None)
@example(text="<script>alert('x')</script>&amp;", audience=Audience.TALENT)
def test_the_matcher_returns_an_outcome_for_any_text(
    knowledge: KnowledgeService, text: str, audience: Audience | None
) -> None:
    match = knowledge.matcher.match(text, audience=audience)
    understood = knowledge.understanding.understand(text, audience=audience, context=None)
    assert isinstance(match.outcome, Outcome) and isinstance(understood.outcome, Outcome)
    assert match.outcome is not Outcome.LIMITED


@pytest.mark.parametrize("text", HUGE, ids=["cjk", "latin", "zero-width", "tags", "emoji", "nul"])
def test_the_matcher_returns_an_outcome_for_a_text_of_100000_characters(
    knowledge: KnowledgeService, text: str
) -> None:
    assert isinstance(knowledge.matcher.match(text).outcome, Outcome)


@PROFILE
@given(
    text=st.one_of(hostile_text, long_text),
    name=hostile_text,
    audience=st.sampled_from([None, *Audience]),
)
@example(text="", name="", audience=None)
@example(text="转人工 <b>&</b>", name="<i>Eve & co", audience=None)
@example(text="公积金 '; DROP TABLE inquiries; --\x00", name="\u202eevE", audience=Audience.TALENT)
def test_the_conversation_core_records_and_renders_any_text_as_valid_telegram_html(
    core: Core, text: str, name: str, audience: Audience | None
) -> None:
    ask_and_render(core, text, name, audience)


@pytest.mark.parametrize("text", HUGE, ids=["cjk", "latin", "zero-width", "tags", "emoji", "nul"])
def test_a_text_of_100000_characters_is_matched_on_its_start_and_stored_up_to_the_cap(
    core: Core, text: str
) -> None:
    ask_and_render(core, text, "Eve", None)


def test_a_long_text_is_matched_on_its_first_match_chars_and_stored_whole(core: Core) -> None:
    question = "人才公寓怎么申请"
    text = (
        question + "。" + "顺便说一下我的情况" * 300
    )  # 2,709 characters: over 1,000, under 20,000

    async def run() -> tuple[Reply, Inquiry | None]:
        reply = await core.assistant.ask(
            Person("telegram:long", "Eve"), text, channel="telegram", update_id=10**9
        )
        async with core.log.sessions() as session:
            return reply, await session.get(Inquiry, reply.inquiry_id)

    reply, row = core.runner.run(run())
    assert reply.match.query == text[:1000]
    start = core.assistant.decide(Person("telegram:long", "Eve"), text[:1000])
    assert (reply.outcome, reply.entry) == (start.outcome, start.entry)
    assert row is not None and row.text == text, "stored whole, not cut at match_chars"
