"""Screens, buttons and forms as pure functions: what people see, without a bot."""

from __future__ import annotations

import logging

import pytest

from bot.chat import callbacks, views
from bot.chat.demand_form import DemandDraft, Position, clean_count, clean_phone, clean_text
from bot.chat.menus import PAGE_SIZE, categories_for, entries_page
from bot.logging_config import RedactingFilter
from bot.texts import texts
from knowledge.loader import KnowledgeBase
from knowledge.schema import Audience, Category

ZH = texts("zh")
OFFICE = {
    "office_name": "人才办",
    "office_phone": "0730-1",
    "office_address": "x",
    "office_hours": "y",
}


def test_callback_data_round_trips_and_stays_within_64_bytes(kb: KnowledgeBase) -> None:
    for entry in kb.entries:
        data = callbacks.encode("entry", entry.id)
        assert len(data.encode()) <= 64
        assert callbacks.parse(data) == callbacks.Callback("entry", (entry.id,))
    assert callbacks.parse(callbacks.encode("feedback", 42, "n")) == callbacks.Callback(
        "feedback", ("42", "n")
    )


@pytest.mark.parametrize(
    "data",
    [
        None,
        "",
        "fb:abc:y",
        "fb:1:maybe",
        "cat:housing",
        "cat:HOUSING:0",
        "e:Bad_Id",
        "role:admin",
        "x" * 65,
        "fb:1:y:extra",
    ],
)
def test_anything_but_our_exact_shapes_is_rejected(data: str | None) -> None:
    assert callbacks.parse(data) is None


def test_the_menu_puts_the_persons_own_categories_first(kb: KnowledgeBase) -> None:
    talent = categories_for(kb, Audience.TALENT)
    enterprise = categories_for(kb, Audience.ENTERPRISE)
    assert talent[0] is Category.HOUSING and enterprise[0] is Category.RECRUITMENT
    assert set(talent) == set(enterprise) == {e.category for e in kb.entries}


def test_category_pages_hold_at_most_a_page_and_clamp_the_number(kb: KnowledgeBase) -> None:
    first = entries_page(kb, Category.RECRUITMENT, Audience.ENTERPRISE, 0)
    assert len(first.entries) == PAGE_SIZE and first.has_next and not first.has_previous
    assert all(e.audience is not Audience.TALENT for e in first.entries[:3])
    last = entries_page(kb, Category.RECRUITMENT, Audience.ENTERPRISE, 999)
    assert last.number == last.pages - 1 and not last.has_next


def test_an_answer_view_has_feedback_and_hand_over_buttons(kb: KnowledgeBase) -> None:
    entry = kb.get("housing-talent-apartment")
    assert entry is not None
    view = views.answer(entry, kb, ZH, OFFICE, inquiry_id=7)
    assert [b.data for row in view.buttons for b in row] == ["fb:7:y", "fb:7:n", "hu:7"]
    assert view.text.startswith("<b>人才公寓</b>")


def test_entries_offered_under_an_answer_are_buttons_above_the_feedback(
    kb: KnowledgeBase,
) -> None:
    entry, craftsman = kb.get("housing-talent-apartment"), kb.get("subsidy-craftsman-award")
    assert entry is not None and craftsman is not None
    view = views.answer(entry, kb, ZH, OFFICE, inquiry_id=7, also=[craftsman])
    assert [b.data for row in view.buttons for b in row] == [
        "e:subsidy-craftsman-award",
        "fb:7:y",
        "fb:7:n",
        "hu:7",
    ]
    assert view.buttons[0][0].text == craftsman.title
    assert view.text.endswith(ZH.t("multi.also_header"))


def test_a_long_view_is_split_under_the_telegram_limit() -> None:
    view = views.plain("段落内容" * 300 + "\n" + "第二段" * 1000)
    parts = view.parts()
    assert len(parts) == 2 and all(len(p) <= 4096 for p in parts)


def test_the_unmatched_view_asks_for_a_phone_only_when_we_lack_one() -> None:
    assert views.unmatched(ZH, OFFICE, ask_phone=True).request_contact == ZH.t(
        "contact.share_button"
    )
    assert views.unmatched(ZH, OFFICE, ask_phone=False).request_contact is None


def test_user_text_in_plain_views_is_escaped() -> None:
    assert views.plain("<script>&").text == "&lt;script&gt;&amp;"


@pytest.mark.parametrize(
    ("raw", "clean"),
    [("13800000000", "13800000000"), ("138 0000 0000", "13800000000"), ("+86 13800000000", "13800000000"),
     ("0730-1234567", "0730-1234567"), ("07301234567", "07301234567"), ("12345", None), ("abc", None), (None, None)],
)  # fmt: skip
def test_phone_numbers_are_validated(raw: str | None, clean: str | None) -> None:
    assert clean_phone(raw) == clean


def test_counts_and_texts_are_validated() -> None:
    assert (
        clean_count("５") == 5
        and clean_count("3人") == 3
        and clean_count("0") is None
        and clean_count("很多") is None
    )
    assert clean_text("  岳阳   某公司 ", low=2) == "岳阳 某公司"
    assert (
        clean_text("A", low=2) is None
        and clean_text("/cancel") is None
        and clean_text("字" * 101) is None
    )


def test_the_demand_summary_lists_every_position() -> None:
    draft = DemandDraft(
        "某公司", "王经理", "13800000000", [Position("焊工", 3, "焊工证", "面议")], "尽快"
    )
    summary = draft.summary(ZH)
    assert (
        "企业：某公司" in summary
        and "1. 焊工 × 3｜焊工证｜面议" in summary
        and "到岗时间：尽快" in summary
    )


def test_secrets_are_redacted_from_any_log_record(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("tests.redaction")
    redactor = RedactingFilter(["123456:SECRET-TOKEN", "dbpass"])
    logger.addFilter(redactor)
    try:
        with caplog.at_level(logging.INFO, logger="tests.redaction"):
            logger.info("POST https://api.telegram.org/bot%s/getUpdates", "123456:SECRET-TOKEN")
            logger.info("connecting with dbpass")
    finally:
        logger.removeFilter(redactor)
    assert [r.getMessage() for r in caplog.records] == [
        "POST https://api.telegram.org/bot***/getUpdates",
        "connecting with ***",
    ]


def test_internal_staff_matters_are_never_listed_in_public_menus(kb: KnowledgeBase) -> None:
    staff = [e for e in kb.entries if e.audience is Audience.STAFF]
    assert staff, "the KB keeps the office's internal matters as staff entries"
    listed = {
        e.id
        for audience in (None, Audience.TALENT, Audience.ENTERPRISE)
        for category in categories_for(kb, audience)
        for number in range(entries_page(kb, category, audience, 0).pages)
        for e in entries_page(kb, category, audience, number).entries
    }
    assert not listed & {e.id for e in staff}
    assert len(listed) == len(kb) - len(staff)
