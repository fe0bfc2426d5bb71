"""Normalisation makes differently typed questions look alike."""

from __future__ import annotations

from knowledge.normalize import Normalizer, clean

SYNONYMS = {
    "住房补贴": ["房补"],
    "配偶": ["老婆", "wife"],
    "人才绿卡": ["green card"],
    "子女": ["娃"],
}


def test_clean_folds_width_case_and_punctuation() -> None:
    assert clean("ＡＢＣ，人才　公寓？！") == "abc人才公寓"
    assert clean("Green  Card, please!") == "green card please"


def test_fillers_and_trailing_particles_are_dropped() -> None:
    normalizer = Normalizer({})
    assert normalizer.normalize("请问，人才公寓怎么申请呢？") == "人才公寓怎么申请"
    assert normalizer.normalize("我想问一下有房子吗") == "有房子"


def test_variants_become_the_knowledge_base_terms() -> None:
    normalizer = Normalizer(SYNONYMS, protected=["购房补贴"])
    assert normalizer.normalize("房补有吗") == "住房补贴有"
    assert normalizer.normalize("娃上学咋办") == "子女上学咋办"
    assert normalizer.normalize("My wife needs a job") == "my配偶needs a job"
    assert normalizer.normalize("how to get a GREEN CARD") == "how to get a人才绿卡"


def test_a_variant_inside_a_protected_term_is_left_alone() -> None:
    normalizer = Normalizer(SYNONYMS, protected=["购房补贴"])
    assert normalizer.normalize("购房补贴多少钱") == "购房补贴多少钱"


def test_latin_variants_only_match_whole_words() -> None:
    normalizer = Normalizer({"配偶": ["wife"]})
    assert normalizer.normalize("midwifery") == "midwifery"


def test_empty_and_symbol_only_input_normalises_to_nothing() -> None:
    normalizer = Normalizer(SYNONYMS)
    assert normalizer.normalize("") == ""
    assert normalizer.normalize("？？？ ！！") == ""
