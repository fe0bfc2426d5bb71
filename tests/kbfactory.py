"""Builds small knowledge bases on disk for tests that need to break one on purpose."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

from knowledge.loader import DEFAULT_KB_DIR

SEED_FILE = "001_2094e51072598db3.txt"
SEED_QUOTE = "由区人才服务中心管理的人才公寓"
REPORT_FILE = "003_68e7bb52513ef553.txt"
REPORT_QUOTE = "设立人才服务窗口"

CHANNEL = f"""\
- id: ch-window
  kind: channel
  audience: both
  category: channels
  status: in_place
  title: 人才服务窗口
  questions: [窗口在哪, 去哪里办, 找谁办理, 线下窗口, 服务窗口在哪儿]
  keywords: [窗口]
  answer: 人才服务窗口提供一站式服务，电话 {{office_phone}}。
  sources:
    - file: {REPORT_FILE}
      quote: {REPORT_QUOTE}
"""

APARTMENT = f"""\
- id: housing-apartment
  kind: policy
  audience: talent
  category: housing
  status: planned
  title: 人才公寓
  questions: [人才公寓怎么申请, 有没有人才公寓, 人才公寓谁管, 公寓能住多久, 来了没地方住]
  keywords: [人才公寓, 公寓]
  answer: 区里提出建设由区人才服务中心管理的人才公寓。
  channels: [ch-window]
  sources:
    - file: {SEED_FILE}
      quote: {SEED_QUOTE}
"""


def write_kb(root: Path, entries: str, *, extra_files: dict[str, str] | None = None) -> Path:
    """Writes a KB folder with one entries file plus the real side files; returns the folder."""
    kb = root / "kb"
    (kb / "entries").mkdir(parents=True, exist_ok=True)
    (kb / "entries" / "main.yaml").write_text(textwrap.dedent(entries), encoding="utf-8")
    for name in ("documents.yaml", "smalltalk.yaml"):
        shutil.copy(DEFAULT_KB_DIR / name, kb / name)
    (kb / "synonyms.yaml").write_text("人才公寓: [人才房]\n", encoding="utf-8")
    for name, text in (extra_files or {}).items():
        (kb / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return kb


def copy_real_kb(root: Path) -> Path:
    """Copies the project's knowledge base to ``root/kb`` so a test can break it."""
    target = root / "kb"
    shutil.copytree(DEFAULT_KB_DIR, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target
