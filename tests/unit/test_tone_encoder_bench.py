"""bench/tone_encoder.py's plain-array form of a profanity model (what would ship in package
data if one were adopted) scores as its formula says, and the stdlib snippet the bench times
computes the same number from the files it writes (so the speed figure times the real work)."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import math
import sys
from array import array
from pathlib import Path
from typing import Any


def _bench() -> Any:
    spec = importlib.util.spec_from_file_location("tone_encoder", Path(__file__).parents[2] / "bench" / "tone_encoder.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["tone_encoder"] = module  # its dataclass looks its module up there
    spec.loader.exec_module(module)
    return module


def _model(bench: Any, tfidf: bool) -> Any:
    return bench.PlainProfanity(
        "toy",
        {"idiot": 0, "thanks": 1, "order": 2},
        array("f", [2.0, 1.0, 1.5]) if tfidf else None,
        tfidf,
        [array("f", [3.0, -2.0, 0.0]), array("f", [1.0, -1.0, 0.5])],
        [-0.5, 0.25],
        [(-1.5, 0.0), (-2.0, 0.5)],
        r"(?u)\b\w\w+\b",
        True,
    )


def _by_hand(x: dict[int, float], model: Any) -> float:
    total = 0.0
    for w, c, (a, b) in zip(model.weights, model.intercepts, model.platt, strict=True):
        f = sum(w[i] * v for i, v in x.items()) + c
        total += 1 / (1 + math.exp(a * f + b))
    return total / 2


def test_plain_profanity_follows_the_calibrated_svm_formula() -> None:
    bench = _bench()
    counts = _model(bench, tfidf=False)
    # counts: "idiot" twice, "order" once; unknown words and one-letter tokens count nothing
    assert math.isclose(counts.probability("You IDIOT, idiot! a order zzz"), _by_hand({0: 2.0, 2: 1.0}, counts), rel_tol=1e-6)
    tfidf = _model(bench, tfidf=True)
    x = {0: 2 * 2.0, 2: 1 * 1.5}
    norm = math.sqrt(sum(v * v for v in x.values()))
    assert math.isclose(tfidf.probability("idiot idiot order"), _by_hand({i: v / norm for i, v in x.items()}, tfidf), rel_tol=1e-6)
    assert tfidf.probability("thanks") < 0.5 < tfidf.probability("idiot")


def test_the_timed_snippet_computes_what_the_scorer_does(tmp_path: Path) -> None:
    bench = _bench()
    for tfidf in (False, True):
        model = _model(bench, tfidf)
        folder = tmp_path / str(tfidf)
        folder.mkdir()
        model.write(folder)
        text = "Thanks for the order, you idiot. Thanks again."
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(bench.PLAIN_SCORER.format(folder=str(folder)), {"text": text})
        assert math.isclose(float(printed.getvalue()), model.probability(text), rel_tol=1e-6)
