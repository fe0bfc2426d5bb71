"""Knowledge-base edits from the console write YAML only after it passes ``kb check``.

The services here run over a copy of the knowledge base: these tests write to it.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.services import Services
from bot.settings import PROJECT_ROOT, load_settings
from knowledge.service import KnowledgeService
from tests.web.conftest import Site, client_for, csrf_of, write_settings

DRAFT = {
    "id": "housing-apartment-rotation",
    "kind": "policy",
    "audience": "talent",
    "category": "housing",
    "status": "in_place",
    "title": "人才公寓轮转入住",
    "questions": "公寓住满了怎么办\n公寓能轮换住吗\n人才公寓是不是轮流住\n排不上公寓怎么办\n公寓周转快吗",
    "keywords": "轮转，周转",
    "answer": "区里的人才公寓实行高频轮转，确保引进人才住有所居。",
    "file": "004_267f7e36beaeceb5.txt",
    "quote": "人才公寓实现高频轮转确保住有所居",
}


@pytest.fixture
async def editable(tmp_path: Path, seeds_dir: Path) -> AsyncIterator[Site]:
    kb_copy = tmp_path / "knowledge"
    shutil.copytree(PROJECT_ROOT / "knowledge", kb_copy, ignore=shutil.ignore_patterns("*.py"))
    db = f"sqlite+aiosqlite:///{tmp_path / 'edits.sqlite3'}"
    extra = f"knowledge:\n  dir: {kb_copy}\n  seeds_dir: {seeds_dir}\n  cache_dir: null\n"
    settings = load_settings(write_settings(tmp_path, db, extra))
    knowledge = KnowledgeService(kb_copy, seeds_dir=seeds_dir, config=settings.matching.to_config())
    knowledge.load()
    services = Services(settings, knowledge)
    await services.open()
    try:
        async with client_for(services) as client:
            yield Site(services, client)
    finally:
        await services.close()


async def test_a_drafted_entry_is_checked_then_written_and_served(editable: Site) -> None:
    await editable.signed_in("王专员")
    form = await editable.client.get("/gaps/draft?question=公寓住满了怎么办")
    assert "公寓住满了怎么办" in form.text
    csrf = csrf_of(form.text)
    path = editable.services.settings.knowledge.dir / "entries" / "housing.yaml"
    before = path.read_bytes()
    planned_as_done = {**DRAFT, "quote": "逐步建设一批产权归政府所有"}
    refused = await editable.client.post("/gaps/draft", data={**planned_as_done, "csrf": csrf})
    assert refused.status_code == 400 and "没有写入" in refused.text
    assert path.read_bytes() == before, "a draft that fails the check writes nothing"
    made = await editable.client.post("/gaps/draft", data={**DRAFT, "csrf": csrf})
    assert made.status_code == 303 and made.headers["location"] == f"/kb/{DRAFT['id']}"
    assert "housing-apartment-rotation" in path.read_text(encoding="utf-8")
    page = await editable.client.get(f"/kb/{DRAFT['id']}")
    assert page.status_code == 200 and "<mark>人才公寓实现高频轮转确保住有所居</mark>" in page.text
    match = editable.services.knowledge.matcher.match("公寓能轮换住吗")
    assert match.entry is not None and match.entry.id == DRAFT["id"]


async def test_a_gap_added_to_an_unknown_entry_is_refused_with_the_reason(
    editable: Site,
) -> None:
    csrf = await editable.signed_in("王专员")
    entries = editable.services.settings.knowledge.dir / "entries"
    before = {p: p.read_bytes() for p in entries.glob("*.yaml")}
    refused = await editable.client.post(
        "/gaps/add", data={"entry": "no-such-entry", "question": "公寓住满了", "csrf": csrf}
    )
    assert refused.status_code == 400 and "没有写入" in refused.text
    assert "no-such-entry" in refused.text
    assert {p: p.read_bytes() for p in before} == before
