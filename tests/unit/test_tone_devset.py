"""The labeled development sets are well formed, and the scorer keeps a quality floor on them
(the bench, bench/tone_quality.py, prints the full figures; this only guards regressions)."""

from __future__ import annotations

import importlib.util
import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from hygiene.tone import check_tone

DATA = Path(__file__).parents[1] / "data" / "tone"


def _bench() -> object:
    spec = importlib.util.spec_from_file_location("tone_quality", Path(__file__).parents[2] / "bench" / "tone_quality.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def rows(name: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.mark.parametrize("language", ["ja", "en"])
def test_dev_set_shape(language: str) -> None:
    data = rows(f"dev-{language}.jsonl")
    assert len(data) >= 300
    assert len({r["id"] for r in data}) == len(data) and len({r["text"] for r in data}) == len(data)
    counts = Counter(r["label"] for r in data)
    assert set(counts) == {"polite", "neutral", "rude"} and min(counts.values()) >= 100
    assert all(r["lang"] == language for r in data)


@pytest.mark.parametrize("language", ["ja", "en"])
def test_score_separates_rude_and_polite(language: str) -> None:
    auc = _bench().auc  # type: ignore[attr-defined]
    scored = [(r["label"], check_tone(str(r["text"]), language).score) for r in rows(f"dev-{language}.jsonl")]
    scores = [s for _, s in scored]
    assert auc([-s for s in scores], [label == "rude" for label, _ in scored]) >= 0.95
    assert auc(scores, [label == "polite" for label, _ in scored]) >= 0.85


def test_appeals_get_their_missing_parts_named() -> None:
    data = rows("appeals.jsonl")
    assert len(data) >= 20 and {r["label"] for r in data} == {"good", "bad"} and {r["lang"] for r in data} == {"ja", "en"}
    good_scores, bad_scores = [], []
    for appeal in data:
        result = check_tone(str(appeal["text"]), str(appeal["lang"]), "appeal")
        kinds = {f.kind for f in result.findings}
        assert set(appeal["missing"]) <= kinds, (appeal["id"], set(appeal["missing"]) - kinds)
        if appeal["label"] == "good":
            assert not {k for k in kinds if k.startswith("appeal_")}, appeal["id"]
            good_scores.append(result.score)
        else:
            bad_scores.append(result.score)
    assert min(good_scores) > max(bad_scores)


def test_auc_helper_counts_ties_as_half() -> None:
    auc = _bench().auc  # type: ignore[attr-defined]
    # values, labels (1 should score higher)
    assert auc([1, 2, 0, 0], [1, 1, 0, 0]) == 1.0 and auc([0, 0], [1, 0]) == 0.5 and auc([0, 1], [1, 0]) == 0.0
    assert auc([0.5, 1, 1, 2], [0, 1, 0, 1]) == 0.875  # one tie among the four pairs
    assert math.isnan(auc([1, 2], [1, 1]))  # no label-0 text: no figure
