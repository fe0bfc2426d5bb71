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

from knowledge.schema import Document, Entry, Kind, Problem, SmalltalkIntent, Status
from knowledge.statements import SeedText, check_statements
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
    documents: dict[str, Document]
    origin: dict[str, tuple[str, int]] = field(default_factory=dict)
    """Entry id -> (file, line), for messages about an entry."""
    out_of_scope: tuple[str, ...] = ()
    """Questions the office does not handle (公积金, 户口…): the matcher learns to refuse them."""

    _by_id: dict[str, Entry] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_id = {alias: e for e in self.entries for alias in e.aliases}
        by_id.update({e.id: e for e in self.entries})
        object.__setattr__(self, "_by_id", by_id)

    def get(self, entry_id: str) -> Entry | None:
        """Returns the entry with this id (or a former id merged into it), or ``None``."""
        return self._by_id.get(entry_id)

    def title_of(self, file: str) -> str:
        """The title a person sees for a source document (its file name if unknown)."""
        document = self.documents.get(file)
        return document.title if document is not None else file

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
    broken: set[str],
) -> tuple[list[Entry], dict[str, tuple[str, int]]]:
    entries: list[Entry] = []
    origin: dict[str, tuple[str, int]] = {}
    for path in files:
        located = _read(path, root, problems)
        if located is None:
            continue
        if located.data is None or located.data == []:
            # An emptied file would silently drop every measure it held from the bot.
            problems.append(
                Problem(located.file, 1, "file", "has no entries (delete the file if intended)")
            )
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
                if isinstance(raw.get("id"), str):
                    broken.add(raw["id"])  # reported once; references to it are not errors too
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


def _load_out_of_scope(path: Path, root: Path, problems: list[Problem]) -> tuple[str, ...]:
    """``out_of_scope.yaml``: topic -> questions the knowledge base must not answer."""
    if not path.exists():
        return ()
    located = _read(path, root, problems)
    if located is None or located.data is None:
        return ()
    if not isinstance(located.data, dict):
        problems.append(Problem(located.file, 1, "file", "must map a topic to a list of questions"))
        return ()
    questions: list[str] = []
    for topic, items in located.data.items():
        if not isinstance(items, list) or not all(isinstance(q, str) and q.strip() for q in items):
            line = located.line_of((str(topic),))
            problems.append(Problem(located.file, line, str(topic), "must be a list of questions"))
            continue
        questions.extend(q.strip() for q in items)
    return tuple(questions)


def _load_documents(path: Path, root: Path, problems: list[Problem]) -> dict[str, Document]:
    located = _read(path, root, problems)
    if located is None:
        return {}
    if not isinstance(located.data, dict):
        problems.append(
            Problem(located.file, 1, "file", "must map a seed file name to its details")
        )
        return {}
    documents: dict[str, Document] = {}
    for name, raw in located.data.items():
        try:
            documents[str(name)] = Document.model_validate(raw)
        except ValidationError as exc:
            problems.extend(_pydantic_problems(exc, located, (str(name),)))
    return documents


def _read_seeds(
    documents: dict[str, Document], seeds_dir: Path | None
) -> dict[str, SeedText | None]:
    """Each cited document's text, or ``None`` where the file is missing."""
    seeds: dict[str, SeedText | None] = {}
    if seeds_dir is None:
        return seeds
    for name, document in documents.items():
        path = seeds_dir / name
        seeds[name] = (
            SeedText.of(name, document, path.read_text(encoding="utf-8")) if path.exists() else None
        )
    return seeds


class _Checker:
    """Rules that span entries: references, uniqueness, quotes, statements, shared passages."""

    def __init__(
        self,
        entries: list[Entry],
        where: dict[str, tuple[Located, int]],
        documents: dict[str, Document],
        seeds: dict[str, SeedText | None],
        problems: list[Problem],
        broken: set[str],
    ) -> None:
        self.broken = broken
        """Ids of entries that failed validation: already reported, so not "unknown" elsewhere."""
        self.entries = entries
        self.where = where
        self.documents = documents
        self.seeds = seeds
        self.problems = problems
        self.by_id = {e.id: e for e in entries}

    def add(self, entry: Entry, path: tuple[str | int, ...], field_name: str, message: str) -> None:
        located, index = self.where[entry.id]
        line = located.line_of((index, *path))
        self.problems.append(Problem(located.file, line, field_name, message))

    def run(self) -> None:
        seen_questions: dict[str, str] = {}
        owners: dict[str, str] = {}
        for entry in self.entries:
            self.references(entry)
            self.aliases(entry, owners)
            self.questions(entry, seen_questions)
            self.quotes(entry)
        self.statements()
        self.shared_passages()

    def references(self, entry: Entry) -> None:
        for number, channel in enumerate(entry.channels):
            target = self.by_id.get(channel)
            field_name = f"channels.{number}"
            if channel in self.broken:
                continue
            if target is None:
                self.add(entry, ("channels", number), field_name, f"unknown channel id {channel!r}")
            elif target.kind is not Kind.CHANNEL:
                self.add(
                    entry,
                    ("channels", number),
                    field_name,
                    f"{channel!r} is not a kind: channel entry",
                )
            elif target.status is not Status.IN_PLACE:
                self.add(
                    entry,
                    ("channels", number),
                    field_name,
                    f"{channel!r} is {target.status.value}, not in place: "
                    "send people only where the documents show a service exists",
                )
        for number, other in enumerate(entry.related):
            if other in self.broken:
                continue
            if other == entry.id or other not in self.by_id:
                self.add(
                    entry, ("related", number), f"related.{number}", f"unknown entry id {other!r}"
                )

    def aliases(self, entry: Entry, owners: dict[str, str]) -> None:
        for number, alias in enumerate(entry.aliases):
            clash = "an entry's id" if alias in self.by_id else None
            if clash is None and alias in owners:
                clash = f"already an alias of {owners[alias]!r}"
            if clash is not None:
                self.add(entry, ("aliases", number), f"aliases.{number}", f"{alias!r} is {clash}")
            owners.setdefault(alias, entry.id)

    def questions(self, entry: Entry, seen: dict[str, str]) -> None:
        for number, question in enumerate(entry.questions):
            key = "".join(question.split()).lower()
            if key in seen and seen[key] != entry.id:
                self.add(
                    entry,
                    ("questions", number),
                    f"questions.{number}",
                    f"{question!r} is also a question of {seen[key]!r}",
                )
            seen.setdefault(key, entry.id)

    def quotes(self, entry: Entry) -> None:
        for number, source in enumerate(entry.sources):
            field_name = f"sources.{number}"
            if source.file not in self.documents:
                self.add(
                    entry,
                    ("sources", number, "file"),
                    f"{field_name}.file",
                    f"unknown source document {source.file!r}",
                )
                continue
            if source.file not in self.seeds:
                continue  # seeds not given: quotes cannot be checked
            seed = self.seeds[source.file]
            if seed is None:
                self.add(
                    entry, ("sources", number, "file"), f"{field_name}.file", "seed file not found"
                )
            elif not seed.contains(source.quote):
                self.add(
                    entry,
                    ("sources", number, "quote"),
                    f"{field_name}.quote",
                    f"not verbatim in {source.file}: {source.quote!r}",
                )

    def statements(self) -> None:
        seeds = {name: seed for name, seed in self.seeds.items() if seed is not None}
        if not seeds:
            return
        for problem in check_statements(self.entries, seeds):
            entry = self.by_id[problem.entry_id]
            self.add(entry, (problem.field,), problem.field, problem.message)

    def shared_passages(self, min_overlap: int = 8) -> None:
        """Two entries quoting the same passage on the same topic compete in matching."""
        spans: list[tuple[Entry, str, int, int]] = []
        for entry in self.entries:
            for source in entry.sources:
                seed = self.seeds.get(source.file)
                position = seed.text.find(source.quote) if seed is not None else -1
                if position >= 0:
                    spans.append((entry, source.file, position, position + len(source.quote)))
        reported: set[tuple[str, str]] = set()
        for i, (first, file, start, end) in enumerate(spans):
            for second, other_file, other_start, other_end in spans[i + 1 :]:
                if second is first or other_file != file:
                    continue
                if min(end, other_end) - max(start, other_start) < min_overlap:
                    continue
                pair = (first.id, second.id)
                shared = set(first.keywords) & set(second.keywords)
                linked = second.id in first.related or first.id in second.related
                if shared and not linked and pair not in reported:
                    reported.add(pair)
                    self.add(
                        second,
                        ("sources",),
                        "related",
                        f"quotes the passage {first.id!r} quotes and shares keyword "
                        f"{sorted(shared)[0]!r}: merge the two, or list {first.id!r} under related",
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
    broken: set[str] = set()
    entries, origin = _load_entries(files, kb_dir, problems, where, broken)
    synonyms = _load_synonyms(kb_dir / "synonyms.yaml", kb_dir, problems)
    smalltalk = _load_smalltalk(kb_dir / "smalltalk.yaml", kb_dir, problems)
    documents = _load_documents(kb_dir / "documents.yaml", kb_dir, problems)
    out_of_scope = _load_out_of_scope(kb_dir / "out_of_scope.yaml", kb_dir, problems)
    seeds = _read_seeds(documents, seeds_dir)
    _Checker(entries, where, documents, seeds, problems, broken).run()
    if problems:
        raise KnowledgeBaseError(problems)
    return KnowledgeBase(
        tuple(entries), synonyms, tuple(smalltalk), documents, origin, out_of_scope
    )
