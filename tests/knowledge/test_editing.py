"""Knowledge-base edits from the console: comments kept, validated first, picked up by the bot."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.editing import EditError, add_questions
from knowledge.service import KnowledgeService
from tests.kbfactory import copy_real_kb


def test_added_questions_keep_comments_and_order(tmp_path: Path, seeds_dir: Path) -> None:
    kb_dir = copy_real_kb(tmp_path)
    path = kb_dir / "entries" / "housing.yaml"
    before = path.read_text(encoding="utf-8")
    edited = add_questions(
        kb_dir,
        "housing-talent-apartment",
        ["  住的地方   有没有  ", "住的地方 有没有", "人才公寓怎么申请"],
        seeds_dir=seeds_dir,
    )
    assert edited.added == ("住的地方 有没有",), "spaces collapsed, duplicates skipped"
    after = path.read_text(encoding="utf-8")
    assert after.startswith(before.split("\n", 1)[0]), "the file's comments are kept"
    assert after.count("\n") == before.count("\n") + 1, "one line more, nothing else moved"
    start = after.index("- id: housing-talent-apartment")
    following = after.find("\n- id:", start + 1)
    where = after.index("住的地方 有没有")
    assert start < where < (following if following > 0 else len(after)), "inside its entry"


def test_an_edit_that_fails_validation_writes_nothing(tmp_path: Path, seeds_dir: Path) -> None:
    kb_dir = copy_real_kb(tmp_path)
    files = {p: p.read_bytes() for p in (kb_dir / "entries").glob("*.yaml")}
    with pytest.raises(EditError) as failed:
        add_questions(kb_dir, "no-such-entry", ["问题"], seeds_dir=seeds_dir)
    assert "no-such-entry" in str(failed.value)
    with pytest.raises(EditError):
        add_questions(kb_dir, "housing-talent-apartment", ["长" * 500], seeds_dir=seeds_dir)
    assert {p: p.read_bytes() for p in files} == files


async def test_the_running_bot_reloads_changed_files_and_keeps_a_broken_change_out(
    tmp_path: Path, seeds_dir: Path
) -> None:
    kb_dir = copy_real_kb(tmp_path)
    service = KnowledgeService(kb_dir, seeds_dir=seeds_dir, cache_dir=tmp_path / "cache")
    service.load()
    assert await service.reload_if_changed() is None, "nothing changed"
    add_questions(kb_dir, "housing-talent-apartment", ["想找个落脚的公寓"], seeds_dir=seeds_dir)
    assert await service.reload_if_changed() == []
    assert "想找个落脚的公寓" in service.kb.get("housing-talent-apartment").questions  # type: ignore[union-attr]
    (kb_dir / "entries" / "housing.yaml").write_text("- id: [broken\n", encoding="utf-8")
    problems = await service.reload_if_changed()
    assert problems, "the broken file is reported"
    assert service.kb.get("housing-talent-apartment") is not None, "the last good base serves"
    assert await service.reload_if_changed() is None, "not retried until the files change again"
