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


def _build(node: yaml.Node, path: PathKey, lines: dict[PathKey, int], ctor: _Builder) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        ctor.flatten_mapping(node)
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = ctor.construct_object(key_node, deep=True)
            child = (*path, str(key))
            result[key] = _build(value_node, child, lines, ctor)
            lines[child] = key_node.start_mark.line + 1
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*path, i), lines, ctor) for i, item in enumerate(node.value)]
    return ctor.construct_object(node, deep=True)


def load_located(path: Path, *, display_name: str | None = None) -> Located:
    """Reads ``path`` as YAML; raises ``YamlSyntaxError`` naming file and line."""
    name = display_name or str(path)
    text = path.read_text(encoding="utf-8")
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
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
        data = _build(node, (), lines, _Builder())
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise YamlSyntaxError(name, line, str(exc.problem or exc)) from exc
    return Located(name, data, lines)
