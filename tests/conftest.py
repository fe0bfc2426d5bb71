"""Shared fixtures: the real knowledge base (loaded once) and paths to the seeds."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import PROJECT_ROOT
from knowledge.loader import DEFAULT_KB_DIR, KnowledgeBase, load_knowledge_base
from knowledge.matcher import Matcher
from knowledge.service import KnowledgeService

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
