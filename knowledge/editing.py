"""Editing the knowledge base's YAML from the staff console, keeping comments and order.

Why ruamel.yaml: the entry files are written by people, with comments that explain where a fact
comes from; PyYAML would drop every comment and reorder nothing-but-risk. ruamel's round-trip
mode changes only the lines that change.

A change is validated before it is written: the edited files go to a scratch copy of the
knowledge directory, which must load exactly as ``kb check`` loads (schema, quotes verbatim in
the cited source). Only then is the real file replaced (atomically); otherwise nothing is
written and the problems are returned.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from knowledge.loader import KnowledgeBaseError, load_knowledge_base
from knowledge.schema import Problem

__all__ = ["ENTRY_FIELDS", "EditError", "Edited", "add_entry", "add_questions"]

MAX_QUESTION_CHARS = 120


class EditError(Exception):
    """The change was not written; ``problems`` say why (as ``kb check`` would)."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{p.file}:{p.line}: {p.field}: {p.message}" for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class Edited:
    file: Path
    added: tuple[str, ...]
    """The questions that were new to the entry (duplicates are skipped)."""


def _yaml() -> YAML:
    yaml = YAML()  # round-trip
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def _find(kb_dir: Path, entry_id: str) -> tuple[Path, Any, CommentedMap]:
    yaml = _yaml()
    for path in sorted((kb_dir / "entries").glob("*.yaml")):
        document = yaml.load(path.read_text(encoding="utf-8"))
        if not isinstance(document, CommentedSeq):
            continue
        for entry in document:
            if isinstance(entry, CommentedMap) and entry.get("id") == entry_id:
                return path, document, entry
    raise EditError([Problem(str(kb_dir / "entries"), 1, "id", f"no entry {entry_id!r}")])


ENTRY_FIELDS = ("id", "kind", "audience", "category", "status", "title", "questions", "keywords")
"""The order a drafted entry's fields are written in (then answer and sources), as people do."""


def _validated_write(kb_dir: Path, path: Path, document: Any, seeds_dir: Path | None) -> None:
    """Writes ``document`` to ``path`` only if the whole knowledge base then loads cleanly."""
    yaml = _yaml()
    with tempfile.TemporaryDirectory(prefix="kb-edit-") as scratch:
        copy = Path(scratch) / "kb"
        shutil.copytree(kb_dir, copy, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
        target = copy / path.relative_to(kb_dir)
        with target.open("w", encoding="utf-8") as handle:
            yaml.dump(document, handle)
        try:
            load_knowledge_base(copy, seeds_dir=seeds_dir)
        except KnowledgeBaseError as exc:
            raise EditError(exc.problems) from None
        staged = path.with_suffix(".yaml.new")
        shutil.copyfile(target, staged)
        os.replace(staged, path)


def add_entry(kb_dir: Path, fields: dict[str, Any], *, seeds_dir: Path | None) -> Path:
    """Appends a new entry to its category's file (``entries/<category>.yaml``).

    ``fields`` are the entry's YAML fields (``sources`` as a list of ``{file, quote}``); the
    schema, the quotes and the status markers are checked as ``kb check`` checks them.
    """
    category = str(fields.get("category") or "")
    path = kb_dir / "entries" / f"{category}.yaml"
    if not category.replace("_", "").isalpha() or not path.is_file():
        raise EditError([Problem(str(kb_dir / "entries"), 1, "category", "unknown category")])
    yaml = _yaml()
    document = yaml.load(path.read_text(encoding="utf-8"))
    if not isinstance(document, CommentedSeq):
        raise EditError([Problem(str(path), 1, "entries", "the file is not a list of entries")])
    entry = CommentedMap()
    for name in (*ENTRY_FIELDS, "answer", "eligibility", "how_to_apply", "channels", "sources"):
        value = fields.get(name)
        if value not in (None, "", []):
            entry[name] = value
    document.append(entry)
    _validated_write(kb_dir, path, document, seeds_dir)
    return path


def add_questions(
    kb_dir: Path, entry_id: str, questions: list[str], *, seeds_dir: Path | None
) -> Edited:
    """Adds ``questions`` as new ways of asking ``entry_id``; raises ``EditError``."""
    cleaned: list[str] = []
    for question in questions:
        text = " ".join(question.split())
        if text and text not in cleaned:
            cleaned.append(text)
    too_long = [q for q in cleaned if len(q) > MAX_QUESTION_CHARS]
    if too_long or not cleaned:
        message = f"a question must have 1 to {MAX_QUESTION_CHARS} characters"
        raise EditError([Problem(entry_id, 1, "questions", message)])
    path, document, entry = _find(kb_dir, entry_id)
    existing = entry.get("questions")
    if not isinstance(existing, CommentedSeq):
        raise EditError([Problem(str(path), 1, "questions", "the entry has no question list")])
    added = tuple(q for q in cleaned if q not in existing)
    if not added:
        return Edited(path, ())
    existing.extend(added)
    _validated_write(kb_dir, path, document, seeds_dir)
    return Edited(path, added)
