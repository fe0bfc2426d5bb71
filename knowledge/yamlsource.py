"""YAML reading that remembers where every value came from.

PyYAML's ``safe_load`` forgets line numbers, but staff who edit the knowledge base or
``settings.yaml`` need errors that say *which line* is wrong. ``load_located`` composes the
node tree and builds plain Python values alongside a map from each value's path to its line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = ["Located", "YamlSyntaxError", "load_located"]

PathKey = tuple[str | int, ...]

MAX_FILE_BYTES = 5 * 1024 * 1024
"""Larger files are refused before parsing (the whole KB is well under 1 MB; a 50 MB file
would take a minute and gigabytes to parse)."""
MAX_VALUES = 500_000
"""Values built at most from one file: aliases that expand without end (a "billion laughs")
are refused instead of exhausting memory."""


class YamlSyntaxError(Exception):
    """The file is not valid YAML; ``line`` is 1-based."""

    def __init__(self, file: str, line: int, message: str) -> None:
        super().__init__(f"{file}:{line}: {message}")
        self.file = file
        self.line = line
        self.message = message


@dataclass
class Located:
    """Plain data from a YAML file plus the 1-based line of every path in it."""

    file: str
    data: Any
    lines: dict[PathKey, int] = field(default_factory=dict)

    def line_of(self, path: PathKey) -> int:
        """Returns the line of ``path``, or of its nearest ancestor that has one."""
        probe = tuple(path)
        while probe:
            if probe in self.lines:
                return self.lines[probe]
            probe = probe[:-1]
        return self.lines.get((), 1)


class _Builder(yaml.constructor.SafeConstructor):
    """Turns scalar nodes into Python values the way ``safe_load`` would."""


class _TooBig(Exception):
    """More than ``MAX_VALUES`` values: an alias bomb or a runaway file."""


_PLAIN_TAGS = frozenset({"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"})


class _Refused(Exception):
    """A value the file must not hold (a repeated key, a language-specific tag), with its line."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line

    @classmethod
    def key(cls, key: object, line: int) -> _Refused:
        return cls(f"duplicate key {key!r} (the second would silently replace the first)", line)

    @classmethod
    def tag(cls, tag: str, line: int) -> _Refused:
        return cls(f"unsupported tag {tag!r}", line)


def _build(
    node: yaml.Node,
    path: PathKey,
    lines: dict[PathKey, int],
    ctor: _Builder,
    budget: list[int],
) -> Any:
    budget[0] -= 1
    if budget[0] < 0:
        raise _TooBig
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode | yaml.SequenceNode) and node.tag not in _PLAIN_TAGS:
        # e.g. !!python/object: never constructed, and never silently read as plain data
        raise _Refused.tag(node.tag, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        ctor.flatten_mapping(node)
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = ctor.construct_object(key_node, deep=True)
            if key in result:
                raise _Refused.key(key, key_node.start_mark.line + 1)
            child = (*path, str(key))
            result[key] = _build(value_node, child, lines, ctor, budget)
            lines[child] = key_node.start_mark.line + 1
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*path, i), lines, ctor, budget) for i, item in enumerate(node.value)]
    return ctor.construct_object(node, deep=True)


def load_located(path: Path, *, display_name: str | None = None) -> Located:
    """Reads ``path`` as YAML; raises ``YamlSyntaxError`` naming file and line."""
    name = display_name or str(path)
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise YamlSyntaxError(
            name, 1, f"file is {size / 1e6:.1f} MB; the limit is {MAX_FILE_BYTES / 1e6:.0f} MB"
        )
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise YamlSyntaxError(name, line, "not UTF-8 text (save the file as UTF-8)") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except RecursionError:
        raise YamlSyntaxError(name, 1, "nested too deeply to be a knowledge-base file") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise YamlSyntaxError(name, line, str(exc.problem or exc)) from exc
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(name, 1, str(exc)) from exc
    lines: dict[PathKey, int] = {}
    if node is None:
        return Located(name, None, {(): 1})
    try:
        data = _build(node, (), lines, _Builder(), [MAX_VALUES])
    except _Refused as exc:
        raise YamlSyntaxError(name, exc.line, str(exc)) from None
    except _TooBig:
        raise YamlSyntaxError(
            name, 1, f"more than {MAX_VALUES:,} values (aliases that expand without end?)"
        ) from None
    except RecursionError:
        raise YamlSyntaxError(name, 1, "nested too deeply to be a knowledge-base file") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise YamlSyntaxError(name, line, str(exc.problem or exc)) from exc
    return Located(name, data, lines)
