"""Top-1 by cross-validation over the knowledge base's own example questions.

The blind set's tune half is small (about 190 in-scope questions) and nearly saturated, so
choosing how the matcher ranks on it alone would chase noise. The knowledge base's 1,700+
example questions, written in many voices, give a second, larger signal that never touches the
blind set: each entry's every fifth question is held out in turn, the matcher is built without
them, and the held-out questions are ranked.

Run: ``.venv/bin/python -m benchmarks.cross_validate [--folds 5] [KEY=VALUE ...]`` where the
pairs override ``MatchConfig`` (``ranker_weight=0.6 ranker_c=3``).
"""

from __future__ import annotations

import argparse
import ast
from dataclasses import replace

from knowledge.loader import KnowledgeBase, load_knowledge_base
from knowledge.matcher import MatchConfig, Matcher


def cross_validated_top1(kb: KnowledgeBase, config: MatchConfig, folds: int = 5) -> float:
    """Share of held-out example questions whose best candidate is their own entry."""
    right = total = 0
    for fold in range(folds):
        held: list[tuple[str, str]] = []
        entries = []
        for entry in kb.entries:
            kept = [q for n, q in enumerate(entry.questions) if n % folds != fold]
            held.extend((q, entry.id) for n, q in enumerate(entry.questions) if n % folds == fold)
            entries.append(entry.model_copy(update={"questions": kept}))
        matcher = Matcher(replace(kb, entries=tuple(entries)), config)
        for question, entry_id in held:
            match = matcher.match(question)
            total += 1
            right += bool(match.candidates) and match.candidates[0].entry.id == entry_id
    return right / total if total else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("overrides", nargs="*", help="MatchConfig fields as KEY=VALUE")
    args = parser.parse_args()
    values = {k: ast.literal_eval(v) for k, v in (o.split("=", 1) for o in args.overrides)}
    config = replace(MatchConfig(), **values)
    print(f"{values}: top-1 {cross_validated_top1(load_knowledge_base(), config, args.folds):.4f}")


if __name__ == "__main__":
    main()
