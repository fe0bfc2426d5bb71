"""Load and validate the whole knowledge base; keep the last good one on reload.

Loading is all-or-nothing: ``load_knowledge_base`` either returns a ``KnowledgeBase`` in which
every entry is valid, every channel resolves and every quote is verbatim in its source, or it
raises ``KnowledgeBaseError`` listing every problem found (not just the first one), each with
file, line and field, so that a staff member can fix the YAML in one pass.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from knowledge.schema import Entry, Kind, Problem, SmalltalkIntent
from knowledge.yamlsource import Located, YamlSyntaxError, load_located

__all__ = [
    "DEFAULT_KB_DIR",
    "KnowledgeBase",
    "KnowledgeBaseError",
    "load_knowledge_base",
]

DEFAULT_KB_DIR = Path(__file__).resolve().parent
"""The packaged knowledge base: ``entries/*.yaml`` plus the side files beside them."""


class KnowledgeBaseError(Exception):
    """The knowledge base has problems; ``problems`` lists every one."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(frozen=True)
class KnowledgeBase:
    """A validated knowledge base: entries in file order plus the side tables."""

    entries: tuple[Entry, ...]
    synonyms: dict[str, tuple[str, ...]]
    smalltalk: tuple[SmalltalkIntent, ...]
    documents: dict[str, str]
    origin: dict[str, tuple[str, int]] = field(default_factory=dict)
    """Entry id -> (file, line), for messages about an entry."""

    _by_id: dict[str, Entry] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {e.id: e for e in self.entries})

    def get(self, entry_id: str) -> Entry | None:
        """Returns the entry with this id, or ``None``."""
        return self._by_id.get(entry_id)

    def __len__(self) -> int:
        return len(self.entries)


def _display(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root.parent))
    except ValueError:
        return str(path)


def _pydantic_problems(
    exc: ValidationError, located: Located, base: tuple[str | int, ...]
) -> list[Problem]:
    problems = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        path = (*base, *loc)
        field_name = ".".join(str(p) for p in loc) or "entry"
        message = err["msg"]
        if err["type"] == "extra_forbidden":
            message = "unknown field"
        problems.append(Problem(located.file, located.line_of(path), field_name, message))
    return problems


def _read(path: Path, root: Path, problems: list[Problem]) -> Located | None:
    try:
        return load_located(path, display_name=_display(path, root))
    except YamlSyntaxError as exc:
        problems.append(Problem(exc.file, exc.line, "yaml", exc.message))
    except OSError as exc:
        problems.append(Problem(_display(path, root), 1, "file", exc.strerror or str(exc)))
    return None


def _load_entries(
    files: Iterable[Path],
    root: Path,
    problems: list[Problem],
    where: dict[str, tuple[Located, int]],
) -> tuple[list[Entry], dict[str, tuple[str, int]]]:
    entries: list[Entry] = []
    origin: dict[str, tuple[str, int]] = {}
    for path in files:
        located = _read(path, root, problems)
        if located is None or located.data is None:
            continue
        if not isinstance(located.data, list):
            problems.append(Problem(located.file, 1, "file", "must be a YAML list of entries"))
            continue
        for index, raw in enumerate(located.data):
            line = located.line_of((index,))
            if not isinstance(raw, dict):
                problems.append(
                    Problem(located.file, line, f"[{index}]", "an entry must be a mapping")
                )
                continue
            try:
                entry = Entry.model_validate(raw)
            except ValidationError as exc:
                problems.extend(_pydantic_problems(exc, located, (index,)))
                continue
            if entry.id in origin:
                first_file, first_line = origin[entry.id]
                problems.append(
                    Problem(
                        located.file,
                        located.line_of((index, "id")),
                        "id",
                        f"duplicate id {entry.id!r} (first at {first_file}:{first_line})",
                    )
                )
                continue
            origin[entry.id] = (located.file, located.line_of((index, "id")))
            where[entry.id] = (located, index)
            entries.append(entry)
    return entries, origin


def _load_synonyms(path: Path, root: Path, problems: list[Problem]) -> dict[str, tuple[str, ...]]:
    if not path.exists():
        return {}
    located = _read(path, root, problems)
    if located is None or located.data is None:
        return {}
    if not isinstance(located.data, dict):
        problems.append(
            Problem(located.file, 1, "file", "must map a KB term to a list of variants")
        )
        return {}
    result: dict[str, tuple[str, ...]] = {}
    owner: dict[str, str] = {}
    for term, variants in located.data.items():
        line = located.line_of((str(term),))
        if not isinstance(term, str) or not term.strip():
            problems.append(Problem(located.file, line, str(term), "a term must be text"))
            continue
        if not isinstance(variants, list) or not all(
            isinstance(v, str) and v.strip() for v in variants
        ):
            problems.append(Problem(located.file, line, term, "variants must be a list of text"))
            continue
        for variant in variants:
            key = variant.strip().lower()
            if key in owner and owner[key] != term:
                problems.append(
                    Problem(
                        located.file,
                        line,
                        term,
                        f"variant {variant!r} already maps to {owner[key]!r}",
                    )
                )
            owner[key] = term
        result[term] = tuple(v.strip() for v in variants)
    return result


def _load_smalltalk(path: Path, root: Path, problems: list[Problem]) -> list[SmalltalkIntent]:
    if not path.exists():
        return []
    located = _read(path, root, problems)
    if located is None or located.data is None:
        return []
    if not isinstance(located.data, list):
        problems.append(Problem(located.file, 1, "file", "must be a YAML list of intents"))
        return []
    intents = []
    for index, raw in enumerate(located.data):
        try:
            intents.append(SmalltalkIntent.model_validate(raw))
        except ValidationError as exc:
            problems.extend(_pydantic_problems(exc, located, (index,)))
    return intents


def _load_documents(path: Path, root: Path, problems: list[Problem]) -> dict[str, str]:
    located = _read(path, root, problems)
    if located is None:
        return {}
    if not isinstance(located.data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in located.data.items()
    ):
        problems.append(Problem(located.file, 1, "file", "must map a seed file name to its title"))
        return {}
    return dict(located.data)


def _cross_check(
    entries: list[Entry],
    where: dict[str, tuple[Located, int]],
    documents: dict[str, str],
    seeds_dir: Path | None,
    problems: list[Problem],
) -> None:
    by_id = {e.id: e for e in entries}
    seen_questions: dict[str, str] = {}
    seed_text: dict[str, str | None] = {}
    for entry in entries:
        located, index = where[entry.id]
        file = located.file

        def line(*path: str | int, _index: int = index, _located: Located = located) -> int:
            return _located.line_of((_index, *path))

        for number, channel in enumerate(entry.channels):
            target = by_id.get(channel)
            at = line("channels", number)
            if target is None:
                problems.append(
                    Problem(file, at, f"channels.{number}", f"unknown channel id {channel!r}")
                )
            elif target.kind is not Kind.CHANNEL:
                problems.append(
                    Problem(
                        file, at, f"channels.{number}", f"{channel!r} is not a kind: channel entry"
                    )
                )
        for number, question in enumerate(entry.questions):
            key = "".join(question.split()).lower()
            if key in seen_questions and seen_questions[key] != entry.id:
                problems.append(
                    Problem(
                        file,
                        line("questions", number),
                        f"questions.{number}",
                        f"{question!r} is also a question of {seen_questions[key]!r}",
                    )
                )
            seen_questions.setdefault(key, entry.id)
        for number, source in enumerate(entry.sources):
            field_name = f"sources.{number}"
            if source.file not in documents:
                problems.append(
                    Problem(
                        file,
                        line("sources", number, "file"),
                        f"{field_name}.file",
                        f"unknown source document {source.file!r}",
                    )
                )
                continue
            if seeds_dir is None:
                continue
            if source.file not in seed_text:
                seed_path = seeds_dir / source.file
                seed_text[source.file] = (
                    seed_path.read_text(encoding="utf-8") if seed_path.exists() else None
                )
            text = seed_text[source.file]
            if text is None:
                problems.append(
                    Problem(
                        file,
                        line("sources", number, "file"),
                        f"{field_name}.file",
                        f"{seeds_dir / source.file} not found",
                    )
                )
            elif source.quote not in text:
                problems.append(
                    Problem(
                        file,
                        line("sources", number, "quote"),
                        f"{field_name}.quote",
                        f"not verbatim in {source.file}: {source.quote!r}",
                    )
                )


def load_knowledge_base(
    kb_dir: Path = DEFAULT_KB_DIR, *, seeds_dir: Path | None = None
) -> KnowledgeBase:
    """Loads ``kb_dir``; checks quotes against ``seeds_dir`` when given.

    Raises:
        KnowledgeBaseError: listing every problem, each with file, line and field.
    """
    problems: list[Problem] = []
    entries_dir = kb_dir / "entries"
    files = sorted(entries_dir.glob("*.yaml")) if entries_dir.is_dir() else []
    if not files:
        problems.append(Problem(str(entries_dir), 1, "entries", "no *.yaml entry files found"))
    where: dict[str, tuple[Located, int]] = {}
    entries, origin = _load_entries(files, kb_dir, problems, where)
    synonyms = _load_synonyms(kb_dir / "synonyms.yaml", kb_dir, problems)
    smalltalk = _load_smalltalk(kb_dir / "smalltalk.yaml", kb_dir, problems)
    documents = _load_documents(kb_dir / "documents.yaml", kb_dir, problems)
    _cross_check(entries, where, documents, seeds_dir, problems)
    if problems:
        raise KnowledgeBaseError(problems)
    return KnowledgeBase(tuple(entries), synonyms, tuple(smalltalk), documents, origin)
