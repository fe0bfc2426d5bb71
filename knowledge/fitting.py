"""Fits the learned ranker in a child process, so the serving process never holds its peak.

Fitting imports scikit-learn and SciPy and builds the TF-IDF matrix and the solver's work
arrays: about 250 MB on top of the bot's own 250 MB, once, on the first start after the
knowledge base changed. Python gives little of that back to the system, so a bot that fitted
its ranker would stay near 500 MB for its whole life. A child process does the fit, writes the
model to the cache (``LearnedRanker.save``) and exits; the parent loads the saved arrays, which
needs neither library.

A subprocess (``python -m knowledge.fitting``) rather than ``multiprocessing``: spawning
re-imports the parent's ``__main__``, and ``python -m bot`` runs the CLI at import. The
training data goes over stdin as JSON (lists of strings and numbers), never pickle. (bandit's
B404/B603, silenced below: the child is this interpreter on our own module, a fixed argv, no
shell; nothing from a person reaches it.)
"""

from __future__ import annotations

import json
import logging
import subprocess  # nosec B404
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["fit_in_child"]

logger = logging.getLogger(__name__)

FIT_TIMEOUT_S = 600
"""A fit takes seconds (1,000 entries: about 20 s); past this the child is stuck, not slow."""


def fit_in_child(
    samples: Sequence[list[str]],
    labels: Sequence[int],
    weights: Sequence[float],
    classes: int,
    *,
    c: float,
    max_logistic_classes: int,
    path: Path,
) -> bool:
    """Fits a ranker in a child process and saves it at ``path``; False (logged) on failure.

    The caller loads ``path`` on success, or fits in its own process on failure: a missing
    cache must never stop the bot, only cost memory.
    """
    job = {
        "samples": list(samples),
        "labels": list(labels),
        "weights": list(weights),
        "classes": classes,
        "c": c,
        "max_logistic_classes": max_logistic_classes,
        "path": str(path),
    }
    try:
        done = subprocess.run(  # nosec B603
            [sys.executable, "-m", "knowledge.fitting"],
            input=json.dumps(job, ensure_ascii=False).encode(),
            capture_output=True,
            timeout=FIT_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        logger.warning("cannot fit the ranker in a child process: %s", exc)
        return False
    if done.returncode != 0 or not path.exists():
        lines = done.stderr.decode(errors="replace").strip().splitlines()
        logger.warning(
            "fitting the ranker in a child process failed (exit %s): %s",
            done.returncode,
            lines[-1] if lines else "no message",
        )
        return False
    return True


def _main() -> None:
    """The child: reads one job from stdin, fits, saves."""
    from knowledge.ranker import LearnedRanker

    job = json.loads(sys.stdin.buffer.read())
    ranker = LearnedRanker(
        job["samples"],
        job["labels"],
        job["weights"],
        job["classes"],
        c=job["c"],
        max_logistic_classes=job["max_logistic_classes"],
    )
    ranker.save(Path(job["path"]))


if __name__ == "__main__":
    _main()
