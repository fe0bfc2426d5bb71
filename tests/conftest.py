"""Shared fixtures: the real knowledge base (loaded once), the seeds, and real databases."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.log.inquiry_log import InquiryLog
from bot.settings import PROJECT_ROOT
from knowledge.loader import DEFAULT_KB_DIR, KnowledgeBase, load_knowledge_base
from knowledge.matcher import Matcher
from knowledge.service import KnowledgeService
from tests.pgserver import ThrowawayPostgres

SEEDS_DIR = PROJECT_ROOT.parent / "shared" / "seeds"


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    """The five source documents (``../shared/seeds``); CI always has them."""
    assert SEEDS_DIR.is_dir(), f"source documents missing at {SEEDS_DIR}"
    return SEEDS_DIR


@pytest.fixture(scope="session")
def kb(seeds_dir: Path) -> KnowledgeBase:
    """The project's knowledge base, validated against the seeds."""
    return load_knowledge_base(DEFAULT_KB_DIR, seeds_dir=seeds_dir)


@pytest.fixture(scope="session")
def matcher(kb: KnowledgeBase) -> Matcher:
    """A matcher over the real knowledge base."""
    return Matcher(kb)


@pytest.fixture(scope="session")
def knowledge(seeds_dir: Path) -> KnowledgeService:
    """The knowledge service the bot uses, over the real knowledge base."""
    service = KnowledgeService(DEFAULT_KB_DIR, seeds_dir=seeds_dir)
    service.load()
    return service


@pytest.fixture(scope="session")
def postgres() -> Iterator[ThrowawayPostgres]:
    """A throwaway PostgreSQL server for the whole run (installed by scripts/ensure-postgres.sh)."""
    with ThrowawayPostgres() as server:
        yield server


_database_numbers = itertools.count(1)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database: an SQLite file, or a new database on the PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'log.sqlite3'}"
    server: ThrowawayPostgres = request.getfixturevalue("postgres")
    return server.create_database(f"t{next(_database_numbers)}")


@pytest.fixture
async def inquiry_log(database_url: str) -> AsyncIterator[InquiryLog]:
    """The inquiry log on a fresh database, schema upgraded to head."""
    log = await InquiryLog.open(database_url)
    try:
        yield log
    finally:
        await log.close()
