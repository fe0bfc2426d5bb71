"""The knowledge base in service: loaded once, matched many times, reloaded safely.

A reload builds a whole new knowledge base and matcher off to the side and swaps them in only
when everything validated; on any problem the last good one keeps serving and the problems are
returned for the staff member who asked for the reload.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path

from knowledge.conversation import Understanding
from knowledge.loader import DEFAULT_KB_DIR, KnowledgeBase, KnowledgeBaseError, load_knowledge_base
from knowledge.matcher import MatchConfig, Matcher
from knowledge.schema import Problem

__all__ = ["KnowledgeService"]


class KnowledgeService:
    """Holds the current ``Matcher`` (and through it the ``KnowledgeBase``)."""

    def __init__(
        self,
        kb_dir: Path = DEFAULT_KB_DIR,
        *,
        seeds_dir: Path | None = None,
        config: MatchConfig | None = None,
        cache_dir: Path | None = None,
        on_fit: Callable[[int], None] | None = None,
    ) -> None:
        self.kb_dir = kb_dir
        self.on_fit = on_fit
        """Told when a load must fit the ranker (``Matcher``), to say why start-up takes long."""
        self.seeds_dir = seeds_dir
        self.config = config
        self.cache_dir = cache_dir
        """Where fitted rankers are cached (``Matcher``); ``None`` fits at every start."""
        self._lock = threading.Lock()
        self._matcher: Matcher | None = None
        self._stamp: tuple[tuple[str, int, int], ...] = ()

    def load(self) -> Matcher:
        """Loads and indexes; raises ``KnowledgeBaseError`` when the KB has problems."""
        seeds = self.seeds_dir if self.seeds_dir is not None and self.seeds_dir.is_dir() else None
        stamp = self.files_stamp()
        kb = load_knowledge_base(self.kb_dir, seeds_dir=seeds)
        matcher = Matcher(kb, self.config, cache_dir=self.cache_dir, on_fit=self.on_fit)
        with self._lock:
            self._matcher = matcher
            self._stamp = stamp
        return matcher

    async def reload_async(self) -> list[Problem]:
        """``reload`` in a worker thread, so a running bot keeps answering while it builds.

        Loading, validating and fitting take seconds (longer for a hostile file); on the event
        loop every person would wait that long. The old matcher serves until the new one is
        swapped in, and stays if the new files have problems.
        """
        return await asyncio.to_thread(self.reload)

    def files_stamp(self) -> tuple[tuple[str, int, int], ...]:
        """Every YAML file of the knowledge base with its modification time and size."""
        stamps = []
        for path in sorted(self.kb_dir.rglob("*.yaml")):
            try:
                info = path.stat()
            except OSError:
                continue
            stamps.append((str(path), info.st_mtime_ns, info.st_size))
        return tuple(stamps)

    async def reload_if_changed(self) -> list[Problem] | None:
        """Reloads (off the loop) when a file changed since the last load; ``None`` if none did.

        How a change made elsewhere (the staff console's knowledge-gap edits, an editor on the
        server) reaches a running bot without anyone typing /reload. A failed reload keeps the
        old knowledge base and is not retried until the files change again.
        """
        stamp = await asyncio.to_thread(self.files_stamp)
        if stamp == self._stamp:
            return None
        problems = await self.reload_async()
        if problems:
            self._stamp = stamp
        return problems

    def reload(self) -> list[Problem]:
        """Re-reads the files; returns the problems, empty when the new KB is in service."""
        try:
            self.load()
        except KnowledgeBaseError as exc:
            return exc.problems
        return []

    @property
    def matcher(self) -> Matcher:
        """The matcher in service (loads on first use)."""
        with self._lock:
            current = self._matcher
        return current if current is not None else self.load()

    @property
    def understanding(self) -> Understanding:
        """Matching in conversation (follow-ups, several questions) over the current matcher."""
        return Understanding(self.matcher)

    @property
    def kb(self) -> KnowledgeBase:
        """The knowledge base in service."""
        return self.matcher.kb
