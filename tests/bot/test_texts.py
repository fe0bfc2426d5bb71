"""Both interface languages define the same strings."""

from __future__ import annotations

from bot.texts import language_for, texts
from knowledge.loader import KnowledgeBase
from knowledge.schema import Audience, Category


def test_chinese_and_english_define_the_same_keys() -> None:
    assert texts("zh").keys() == texts("en").keys()


def test_every_category_audience_and_smalltalk_intent_has_a_label(kb: KnowledgeBase) -> None:
    for language in ("zh", "en"):
        t = texts(language)
        for category in Category:
            assert t.t(f"category.{category.value}")
        for audience in Audience:
            assert t.t(f"audience.{audience.value}")
        for intent in kb.smalltalk:
            assert t.t(f"smalltalk.{intent.id}")


def test_telegram_language_codes_map_to_interface_languages() -> None:
    assert language_for("en") == "en"
    assert language_for("en-GB") == "en"
    assert language_for("zh-hans") == "zh"
    assert language_for(None) == "zh"
    assert language_for("ru") == "zh"
    assert texts("fr").language == "zh"
