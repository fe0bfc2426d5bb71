"""Answers render as plain text and as escaped Telegram HTML."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.chat import views
from bot.formatting import HTML, PLAIN, render_answer, render_suggestions, split_message
from bot.texts import texts
from knowledge.loader import KnowledgeBase, load_knowledge_base
from knowledge.schema import Audience
from tests.kbfactory import APARTMENT, CHANNEL, write_kb


@pytest.fixture
def small_kb(tmp_path: Path, seeds_dir: Path) -> KnowledgeBase:
    """One channel and the apartment, whose short answer and contacts the tests spell out."""
    return load_knowledge_base(write_kb(tmp_path, CHANNEL + APARTMENT), seeds_dir=seeds_dir)


OFFICE = {
    "office_name": "人才办",
    "office_phone": "<0730>",
    "office_address": "A&B",
    "office_hours": "9-5",
}


def test_an_answer_shows_title_status_text_contacts_and_source_title(
    small_kb: KnowledgeBase,
) -> None:
    entry = small_kb.get("housing-apartment")
    assert entry is not None
    zh = texts("zh")
    text = render_answer(entry, small_kb, zh, OFFICE, PLAIN)
    status = zh.t("answer.status", status=zh.t("status.planned"))
    assert text.startswith(
        f"【人才公寓】\n{status}\n\n区里提出建设由区人才服务中心管理的人才公寓。"
    )
    assert "【咨询】 人才服务窗口；人才办，电话<0730>" in text
    assert text.endswith("来源：《区推进人才强区战略的意见》")
    assert "001_2094e51072598db3.txt" not in text


def test_every_answer_names_the_office_even_without_channels(small_kb: KnowledgeBase) -> None:
    channel = small_kb.get("ch-window")
    assert channel is not None and not channel.channels
    assert "【咨询】 人才办，电话<0730>" in render_answer(
        channel, small_kb, texts("zh"), OFFICE, PLAIN
    )


def test_an_enterprise_only_channel_is_not_offered_to_talent(
    tmp_path: Path, seeds_dir: Path
) -> None:
    for_enterprises = CHANNEL.replace("audience: both", "audience: enterprise")
    kb = load_knowledge_base(write_kb(tmp_path, for_enterprises + APARTMENT), seeds_dir=seeds_dir)
    entry = kb.get("housing-apartment")
    assert entry is not None
    talent = render_answer(entry, kb, texts("zh"), OFFICE, PLAIN, audience=Audience.TALENT)
    company = render_answer(entry, kb, texts("zh"), OFFICE, PLAIN, audience=Audience.ENTERPRISE)
    assert "人才服务窗口" not in talent
    assert "【咨询】 人才服务窗口；" in company


def test_html_answers_escape_knowledge_and_settings_text(small_kb: KnowledgeBase) -> None:
    channel = small_kb.get("ch-window")
    assert channel is not None
    text = render_answer(channel, small_kb, texts("en"), OFFICE, HTML)
    assert "<b>人才服务窗口</b>" in text
    assert "电话 &lt;0730&gt;。" in text
    assert "<0730>" not in text
    assert "<i>Source：《区人才工作专项行动汇报材料》</i>" in text
    assert "[In place]" in text


def test_suggestions_are_numbered_for_the_console(small_kb: KnowledgeBase) -> None:
    text = render_suggestions(small_kb.entries, texts("zh"), PLAIN, numbered=True)
    assert text.splitlines() == [
        texts("zh").t("suggest.header"),
        "1. 人才服务窗口",
        "2. 人才公寓",
        texts("zh").t("suggest.pick"),
    ]


def test_choices_for_a_message_asking_several_things_say_what_it_touches_on(
    small_kb: KnowledgeBase,
) -> None:
    for language in ("zh", "en"):
        t = texts(language)
        text = render_suggestions(small_kb.entries, t, PLAIN, numbered=True, several=True)
        assert text.splitlines()[0] == t.t("suggest.several_header") != t.t("suggest.header")
        view = views.suggestions(small_kb.entries, t, several=True)
        assert view.text == t.t("suggest.several_header")
        assert [row[0].text for row in view.buttons] == ["人才服务窗口", "人才公寓"]


def test_long_messages_split_at_line_breaks_within_the_limit() -> None:
    paragraph = "政策" * 30
    text = "\n".join([paragraph] * 200)
    chunks = split_message(text, limit=4096)
    assert all(len(c) <= 4096 for c in chunks)
    assert "\n".join(chunks) == text
    assert all(line == paragraph for c in chunks for line in c.split("\n"))


def test_a_single_overlong_line_is_cut_hard() -> None:
    chunks = split_message("字" * 9000, limit=4096)
    assert [len(c) for c in chunks] == [4096, 4096, 808]


def test_short_messages_stay_whole() -> None:
    assert split_message("你好") == ["你好"]


def test_the_same_answer_asked_for_again_points_back_and_keeps_the_contacts(
    kb: KnowledgeBase,
) -> None:
    entry = kb.get("housing-talent-apartment")
    assert entry is not None
    zh = texts("zh")
    whole = render_answer(entry, kb, zh, OFFICE, PLAIN)
    again = render_answer(entry, kb, zh, OFFICE, PLAIN, repeated=True)
    assert again.startswith(f"【{entry.title}】\n\n{zh.t('answer.repeated')}\n\n【咨询】 ")
    assert "人才办，电话<0730>" in again and entry.answer[:20] in whole
    assert entry.answer[:20] not in again and len(again) < 0.6 * len(whole)


def test_a_short_answer_asked_for_again_is_simply_given_again(small_kb: KnowledgeBase) -> None:
    entry = small_kb.get("housing-apartment")
    assert entry is not None
    zh = texts("zh")
    assert render_answer(entry, small_kb, zh, OFFICE, PLAIN, repeated=True) == render_answer(
        entry, small_kb, zh, OFFICE, PLAIN
    )
