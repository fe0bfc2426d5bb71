"""The learned ranker ranks, scales to large knowledge bases, and is cached between starts."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from knowledge.loader import KnowledgeBase
from knowledge.matcher import MatchConfig, Matcher
from knowledge.ranker import LearnedRanker, features
from knowledge.verdict import Outcome

TEXTS = [
    features("人才公寓怎么申请", ["人才公寓", "申请"]),
    features("公寓能住多久", ["公寓", "住"]),
    features("工匠奖金多少", ["工匠", "奖金"]),
    features("评工匠要什么条件", ["工匠", "条件"]),
]
LABELS = [0, 0, 1, 1]
ROOT = Path(__file__).resolve().parents[2]


def _heavy_imports_after(script: str, heavy: tuple[str, ...]) -> tuple[list[str], str]:
    """Runs ``script`` in a fresh interpreter: what it printed, and which of ``heavy`` it
    imported (as a printed sorted list)."""
    check = (
        f"import sys\nprint(sorted({{m.split('.')[0] for m in sys.modules}} & {set(heavy)!r}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script + check], capture_output=True, text=True, check=True, cwd=ROOT
    )
    *printed, imported = done.stdout.strip().splitlines()
    return printed, imported


@pytest.mark.parametrize("max_logistic", [10, 1])
def test_both_models_put_the_right_entry_first(max_logistic: int) -> None:
    ranker = LearnedRanker(TEXTS, LABELS, [1.0] * 4, 2, max_logistic_classes=max_logistic)
    assert ranker.kind == ("logistic" if max_logistic == 10 else "centroid")
    housing = ranker.probabilities(features("人才公寓", ["人才公寓"]))
    craftsman = ranker.probabilities(features("工匠奖金", ["工匠", "奖金"]))
    assert housing is not None and int(np.argmax(housing)) == 0
    assert craftsman is not None and int(np.argmax(craftsman)) == 1
    assert abs(float(housing.sum()) - 1.0) < 1e-4


def test_a_question_with_no_known_feature_has_no_probabilities() -> None:
    ranker = LearnedRanker(TEXTS, LABELS, [1.0] * 4, 2)
    assert ranker.probabilities(features("xyz", ["xyz"])) is None


@pytest.mark.parametrize("max_logistic", [10, 1])
def test_a_saved_model_loads_and_scores_the_same(tmp_path: Path, max_logistic: int) -> None:
    ranker = LearnedRanker(TEXTS, LABELS, [1.0] * 4, 2, max_logistic_classes=max_logistic)
    path = tmp_path / "ranker.npz"
    ranker.save(path)
    loaded = LearnedRanker.load(path)
    question = features("工匠奖金", ["工匠", "奖金"])
    assert loaded.kind == ranker.kind
    mine, theirs = loaded.probabilities(question), ranker.probabilities(question)
    assert mine is not None and theirs is not None
    assert np.allclose(mine, theirs)


def test_the_weights_are_kept_in_half_precision_even_from_a_full_precision_file(
    tmp_path: Path,
) -> None:
    """The weights matrix (features x entries) is most of the ranker's memory; half precision
    halves it, and an array written in full precision is narrowed when read."""
    ranker = LearnedRanker(TEXTS, LABELS, [1.0] * 4, 2)
    path = tmp_path / "ranker.npz"
    ranker.save(path)
    with np.load(path) as data:
        arrays = {name: data[name] for name in data.files}
    assert arrays["coef"].dtype == np.float16
    arrays["coef"] = arrays["coef"].astype(np.float32)
    wide = tmp_path / "wide.npz"
    np.savez(wide, **arrays)
    loaded = LearnedRanker.load(wide)
    question = features("人才公寓", ["人才公寓"])
    mine, theirs = loaded.probabilities(question), ranker.probabilities(question)
    assert mine is not None and theirs is not None and np.allclose(mine, theirs)
    assert loaded.probabilities(features("xyz", ["xyz"])) is None
    assert vars(loaded)["_coef"].dtype == np.float16


def test_the_matcher_caches_its_model_and_refits_a_damaged_cache(
    tmp_path: Path, kb: KnowledgeBase
) -> None:
    small = replace(kb, entries=kb.entries[:6])
    first = Matcher(small, cache_dir=tmp_path)
    [cached] = list(tmp_path.glob("ranker-*.npz"))
    second = Matcher(small, cache_dir=tmp_path)
    question = small.entries[2].questions[0]
    assert second.match(question) == first.match(question)
    cached.write_bytes(b"not a model")
    third = Matcher(small, cache_dir=tmp_path)
    assert third.match(question) == first.match(question)
    assert LearnedRanker.load(cached).kind == "logistic", "the damaged file was rewritten"


def test_a_changed_knowledge_base_gets_its_own_model(tmp_path: Path, kb: KnowledgeBase) -> None:
    Matcher(replace(kb, entries=kb.entries[:6]), cache_dir=tmp_path)
    Matcher(replace(kb, entries=kb.entries[:7]), cache_dir=tmp_path)
    assert len(list(tmp_path.glob("ranker-*.npz"))) == 2


def test_without_the_ranker_the_lexical_matcher_still_answers(kb: KnowledgeBase) -> None:
    plain = Matcher(kb, replace(MatchConfig(), ranker_weight=0.0, decision_weights=None))
    assert plain.ranker_kind == "none"
    assert plain.match("人才公寓怎么申请").outcome is Outcome.ANSWERED


@pytest.mark.parametrize("max_logistic", [10, 1])
def test_a_loaded_model_scores_without_scipy_or_scikit_learn(
    tmp_path: Path, max_logistic: int
) -> None:
    # The bot loads a cached model at every start; SciPy and scikit-learn cost ~90 MB of its
    # memory, so scoring must not import them (nor openpyxl, which only exports need).
    path = tmp_path / "ranker.npz"
    LearnedRanker(TEXTS, LABELS, [1.0] * 4, 2, max_logistic_classes=max_logistic).save(path)
    script = (
        "import bot.app\n"
        "from knowledge.ranker import LearnedRanker, features\n"
        f"ranker = LearnedRanker.load(__import__('pathlib').Path({str(path)!r}))\n"
        "assert ranker.probabilities(features('工匠奖金', ['工匠', '奖金'])) is not None\n"
    )
    _, imported = _heavy_imports_after(script, ("scipy", "sklearn", "openpyxl"))
    assert imported == "[]"


def test_a_ranker_the_cache_lacks_is_fitted_in_a_child_process(
    tmp_path: Path, seeds_dir: Path
) -> None:
    """Fitting holds ~250 MB that Python keeps after it; in a child, the bot never holds it."""
    script = (
        "from dataclasses import replace\n"
        "from pathlib import Path\n"
        "from knowledge.loader import DEFAULT_KB_DIR, load_knowledge_base\n"
        "from knowledge.matcher import Matcher\n"
        f"kb = load_knowledge_base(DEFAULT_KB_DIR, seeds_dir=Path({str(seeds_dir)!r}))\n"
        f"matcher = Matcher(replace(kb, entries=kb.entries[:6]), cache_dir=Path({str(tmp_path)!r}))\n"
        "print(matcher.ranker_kind)\n"
    )
    printed, imported = _heavy_imports_after(script, ("scipy", "sklearn"))
    assert imported == "[]", "the serving process imported the fitting libraries"
    assert printed == ["logistic"]
    assert len(list(tmp_path.glob("ranker-*.npz"))) == 1


def test_when_no_child_can_run_the_matcher_fits_in_its_own_process(
    tmp_path: Path,
    kb: KnowledgeBase,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    small = replace(kb, entries=kb.entries[:6])
    expected = Matcher(small)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-python-here"))
    fallback = Matcher(small, cache_dir=tmp_path / "cache")
    assert "cannot fit the ranker in a child process" in caplog.text
    assert len(list((tmp_path / "cache").glob("ranker-*.npz"))) == 1, "still cached"
    question = small.entries[2].questions[0]
    assert fallback.match(question) == expected.match(question)


def test_a_child_that_fails_is_reported_by_its_last_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from knowledge.fitting import fit_in_child

    path = tmp_path / "ranker.npz"
    # Two labels with one class: scikit-learn refuses, the child exits non-zero.
    assert not fit_in_child(TEXTS, LABELS, [1.0], 2, c=1.0, max_logistic_classes=10, path=path)
    assert "fitting the ranker in a child process failed (exit 1)" in caplog.text
    assert "Traceback" not in caplog.text
    assert not path.exists()
