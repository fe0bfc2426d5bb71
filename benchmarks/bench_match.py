"""Match latency and index build time at 100, 1,000 and 10,000 entries.

The real knowledge base is scaled up synthetically: each copy of an entry gets a unique
made-up two-character "topic" word in its title, keywords and questions, so copies are
distinct for the index the way new real entries would be. Queries are the labelled questions
of ``tests/eval/questions.yaml``. Beside our matcher, the same run times a plain
``rapidfuzz.process.extractOne`` over the raw question strings, the naive baseline.

Above ``ranker_max_logistic`` entries the learned ranker is the nearest-centroid variant
(``knowledge/ranker.py``); the ``ranker`` column says which one ran. Each size runs in its own
process, so ``peak MB`` is that size's own peak resident memory.

Run: ``.venv/bin/python -m benchmarks.bench_match`` (``--sizes 100 1000`` to choose sizes).
"""

from __future__ import annotations

import argparse
import gc
import random
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

from rapidfuzz import fuzz, process

from knowledge.evaluation import load_eval_set
from knowledge.loader import KnowledgeBase, load_knowledge_base
from knowledge.matcher import Matcher
from knowledge.schema import Entry

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT / "tests" / "eval" / "questions.yaml"
POOL = "甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌亥金木水火土山川河海风云雷电松竹梅兰菊荷桃李杏桂"


def synthetic_kb(base: KnowledgeBase, size: int, seed: int = 7) -> KnowledgeBase:
    """``size`` entries: the real ones first, then tagged copies."""
    rng = random.Random(seed)
    entries: list[Entry] = list(base.entries[:size])
    tags: set[str] = set()
    copy = 0
    while len(entries) < size:
        original = base.entries[copy % len(base.entries)]
        copy += 1
        tag = "".join(rng.choice(POOL) for _ in range(3))
        while tag in tags:
            tag = "".join(rng.choice(POOL) for _ in range(3))
        tags.add(tag)
        entries.append(
            original.model_copy(
                update={
                    "id": f"{original.id}-x{copy}",
                    "title": f"{tag}{original.title}"[:20],
                    "questions": [f"{tag}{q}" for q in original.questions],
                    "keywords": [tag, *original.keywords],
                }
            )
        )
    return replace(base, entries=tuple(entries))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def run(sizes: list[int], repeats: int, *, quiet: bool = False) -> None:
    base = load_knowledge_base()
    queries = [item.question for item in load_eval_set(EVAL).items]
    Matcher(replace(base, entries=base.entries[:2]))  # warm jieba's dictionary, not our index
    if not quiet:
        print(f"queries: {len(queries)} x {repeats} repeats; real KB: {len(base)} entries")
    header = (
        f"{'entries':>8} {'ranker':>9} {'build s':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}"
        f" {'peak MB':>8} | {'extractOne p50':>14} {'p99 ms':>8}"
    )
    if not quiet:
        print(header)
        print("-" * len(header))
    for size in sizes:
        kb = synthetic_kb(base, size)
        gc.collect()
        started = time.perf_counter()
        matcher = Matcher(kb)
        build = time.perf_counter() - started
        latencies = []
        for _ in range(repeats):
            for query in queries:
                t0 = time.perf_counter()
                matcher.match(query)
                latencies.append((time.perf_counter() - t0) * 1000)
        choices = [q for e in kb.entries for q in e.questions]
        naive = []
        for query in queries:
            t0 = time.perf_counter()
            process.extractOne(query, choices, scorer=fuzz.WRatio)
            naive.append((time.perf_counter() - t0) * 1000)
        kind = matcher.ranker_kind
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"{size:>8} {kind:>9} {build:>8.3f} {statistics.median(latencies):>8.3f} "
            f"{percentile(latencies, 0.99):>8.3f} {max(latencies):>8.3f} {peak:>8.0f}"
            f" | {statistics.median(naive):>14.3f} {percentile(naive, 0.99):>8.3f}",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quiet", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if len(args.sizes) == 1:
        run(args.sizes, args.repeats, quiet=args.quiet)
        return
    run([], args.repeats)  # the header
    for size in args.sizes:  # each size in a fresh process, so peak memory is its own
        command = [sys.executable, "-m", "benchmarks.bench_match", "--quiet"]
        subprocess.run([*command, "--sizes", str(size), "--repeats", str(args.repeats)], check=True)


if __name__ == "__main__":
    main()
