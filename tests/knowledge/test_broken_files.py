"""A corpus of broken knowledge-base files: each is reported as ``file:line: field: message``,
quickly, and never as a traceback. Built at test time from a copy of the real knowledge base
(the 50 MB file is not committed)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from knowledge.loader import KnowledgeBaseError, load_knowledge_base
from tests.kbfactory import copy_real_kb

HOUSING = "entries/housing.yaml"


def _edit(name: str, change: Callable[[str], str]) -> Callable[[Path], None]:
    def apply(kb: Path) -> None:
        path = kb / name
        path.write_text(change(path.read_text(encoding="utf-8")), encoding="utf-8")

    return apply


def _append_bytes(name: str, data: bytes) -> Callable[[Path], None]:
    def apply(kb: Path) -> None:
        with (kb / name).open("ab") as f:
            f.write(data)

    return apply


def _huge(kb: Path) -> None:
    with (kb / "entries" / "huge.yaml").open("w", encoding="utf-8") as f:
        line = "# " + "人" * 100 + "\n"
        for _ in range(50 * 1024 * 1024 // len(line.encode())):
            f.write(line)


def _write(name: str, text: str) -> Callable[[Path], None]:
    def apply(kb: Path) -> None:
        (kb / name).write_text(text, encoding="utf-8")

    return apply


BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + n)}: &{chr(98 + n)} [*{chr(97 + n)}, *{chr(97 + n)}, *{chr(97 + n)}, "
    f"*{chr(97 + n)}, *{chr(97 + n)}, *{chr(97 + n)}, *{chr(97 + n)}, *{chr(97 + n)}, "
    f"*{chr(97 + n)}, *{chr(97 + n)}]\n"
    for n in range(8)
)

CASES: dict[str, tuple[Callable[[Path], None], str, str]] = {
    "bad yaml": (_edit(HOUSING, lambda s: s.replace("  title: 人才公寓", "  title: [人才公寓", 1)),
                 HOUSING, "yaml"),
    "a tab": (_edit(HOUSING, lambda s: s.replace("  kind: policy", "\tkind: policy", 1)),
              HOUSING, "yaml"),
    "duplicate id": (_edit(HOUSING, lambda s: s.replace("- id: housing-purchase-subsidy",
                                                        "- id: housing-talent-apartment", 1)),
                     HOUSING, "id"),
    "missing field": (_edit(HOUSING, lambda s: s.replace("  status: in_place\n", "", 1)),
                      HOUSING, "status"),
    "wrong type": (_edit(HOUSING, lambda s: s.replace("  title: 人才公寓", "  title: [1, 2]", 1)),
                   HOUSING, "title"),
    "dangling channel": (_edit(HOUSING, lambda s: s.replace("channels: [", "channels: [ch-nope, ",
                                                            1)),
                         HOUSING, "channels"),
    "duplicate key": (_edit(HOUSING, lambda s: s.replace("  title: 人才公寓",
                                                         "  title: 人才公寓\n  title: 公寓", 1)),
                      HOUSING, "yaml"),
    "alias bomb": (_write("entries/bomb.yaml", BOMB), "entries/bomb.yaml", "yaml"),
    "python tag": (_write("entries/evil.yaml", "- !!python/object/apply:os.system [echo hi]\n"),
                   "entries/evil.yaml", "yaml"),
    "deep nesting": (_write("entries/deep.yaml", "[" * 5000 + "]" * 5000 + "\n"),
                     "entries/deep.yaml", "yaml"),
    "not utf-8": (_append_bytes(HOUSING, b"\n# \xff\xfe\n"), HOUSING, "yaml"),
    "emptied file": (_write("entries/housing.yaml", "[]\n"), HOUSING, "file"),
    "50 MB file": (_huge, "entries/huge.yaml", "yaml"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
def test_a_broken_file_is_named_with_line_and_field(
    case: str, tmp_path: Path, seeds_dir: Path
) -> None:
    kb = copy_real_kb(tmp_path)
    breaker, file, field = CASES[case]
    breaker(kb)
    with pytest.raises(KnowledgeBaseError) as caught:
        load_knowledge_base(kb, seeds_dir=seeds_dir)
    mine = [p for p in caught.value.problems if p.file.endswith(file)]
    assert mine, [str(p) for p in caught.value.problems]
    assert any(p.field.startswith(field) and p.line >= 1 for p in mine), [str(p) for p in mine]


def test_every_schema_error_is_reported_in_one_run(tmp_path: Path, seeds_dir: Path) -> None:
    kb = copy_real_kb(tmp_path)
    _edit(HOUSING, lambda s: s.replace("  status: in_place\n", "  status: maybe\n", 1))(kb)
    _edit("entries/subsidies.yaml", lambda s: s.replace("  kind: ", "  kind: nonsense-", 1))(kb)
    _edit("entries/recruitment.yaml", lambda s: s.replace("  category: ", "  category: x", 1))(kb)
    with pytest.raises(KnowledgeBaseError) as caught:
        load_knowledge_base(kb, seeds_dir=seeds_dir)
    files = {p.file.rsplit("/", 1)[-1] for p in caught.value.problems}
    assert {"housing.yaml", "subsidies.yaml", "recruitment.yaml"} <= files
