"""Choose a language's learned-layer hyper-parameters (C, SPREAD, feature groups) on its
training sources only (issue 12): never on the corpora the bench holds out (the Wikipedia-talk
sets) nor on the dev sets.

For each setting it prints ROC AUC of the final score (rules + learned wording, rounded as
``hygiene tone`` rounds it) two ways:

  loso     leave one training source out: trained on the others, scored on it (how the layer
           does on text unlike what it learned from)
  5-fold   each source cut into five folds (every fifth text); trained on four folds of every
           source, scored on the fifth

and the criterion, the mean of all of them (each source weighs the same). Needs scikit-learn
(the ``train`` extra) and the language's sources (scripts/train_tone.py).

    python bench/tone_select.py [--language ja] [--extra-data PATH] [--shared-data PATH]
"""

from __future__ import annotations

import argparse
import itertools
import math
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "bench"))

import train_tone  # noqa: E402
from tone_quality import auc  # noqa: E402

from hygiene.tone import learned  # noqa: E402
from hygiene.tone.engine import lexicon  # noqa: E402

CS = (0.03, 0.1, 0.3, 1.0, 3.0)
SPREADS = (3.0, 6.0, 10.0, 15.0)
#: feature groups: which columns a setting keeps besides the rules' score (column 0)
GROUPS = ("all", "no n-grams", "no entries", "strategies only")


def _filtered(features: train_tone.Features, group: str, language: str) -> train_tone.Features:
    entries = len(lexicon(language))
    strategies = len(learned.STRATEGIES[language])
    first_strategy, first_gram = 1 + entries, 1 + entries + strategies

    def kept(column: int) -> bool:
        if column == 0 or group == "all":
            return True
        if group == "no n-grams":
            return column < first_gram
        if group == "no entries":
            return not 1 <= column < first_strategy
        return first_strategy <= column < first_gram  # strategies only

    return train_tone.Features([[(c, v) for c, v in row if kept(c)] for row in features.rows], features.labels)


def _scores(layer: learned.Layer, spread_points: float, trained_on: Sequence[train_tone.Features],
            features: train_tone.Features) -> list[float]:
    """The scores ``hygiene tone`` would give, with the layer's scale recomputed for
    ``spread_points`` (the layer is fitted once per C; SPREAD only rescales it)."""
    def z(row: list[tuple[int, float]]) -> float:
        return sum(float(layer.weights[c - 1]) * v for c, v in row[1:])

    values = [z(row) for f in trained_on for row in f.rows]
    spread = math.sqrt(sum((v - layer.centre) ** 2 for v in values) / len(values)) or 1.0
    scale = min(layer.scale, spread_points / spread)  # layer.scale is 1/per_point here
    out = []
    for row in features.rows:
        rules = row[0][1] * train_tone.RULES_UNIT
        points = learned.CLIP * math.tanh(scale * (z(row) - layer.centre) / learned.CLIP)
        out.append(float(max(0, min(100, round(rules + points)))))
    return out


def _auc(scores: Sequence[float], labels: Sequence[int]) -> float:
    return auc([s for s, y in zip(scores, labels, strict=True) if y], [s for s, y in zip(scores, labels, strict=True) if not y])


def _folds(features: train_tone.Features, k: int = 5) -> list[tuple[train_tone.Features, train_tone.Features]]:
    out = []
    for fold in range(k):
        train_rows = [(r, y) for i, (r, y) in enumerate(zip(features.rows, features.labels, strict=True)) if i % k != fold]
        test_rows = [(r, y) for i, (r, y) in enumerate(zip(features.rows, features.labels, strict=True)) if i % k == fold]
        out.append((train_tone.Features([r for r, _ in train_rows], [y for _, y in train_rows]),
                    train_tone.Features([r for r, _ in test_rows], [y for _, y in test_rows])))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--language", default="ja")
    parser.add_argument("--shared-data", type=Path, default=train_tone.SHARED)
    parser.add_argument("--extra-data", type=Path, default=train_tone.EXTRA)
    args = parser.parse_args()
    language = args.language
    sources = train_tone.TRAINABLE[language]
    learned.use(language, None)
    try:
        raw = {name: train_tone.featurize(train_tone.load_source(name, args.shared_data, args.extra_data), language)
               for name in sources}
    except train_tone.MissingSource as missing:
        print(missing, file=sys.stderr)
        return 2
    for name, f in raw.items():
        print(f"{name}: {len(f.labels)} texts, {sum(f.labels)} positive; rules alone AUC "
              f"{_auc([row[0][1] * train_tone.RULES_UNIT for row in f.rows], f.labels):.3f}")
    print(f"{'group':<16} {'C':>5} {'SPREAD':>6}  " + "  ".join(f"{'loso ' + n:>16}" for n in sources)
          + "  " + "  ".join(f"{'5-fold ' + n:>18}" for n in sources) + "  criterion")
    best: tuple[float, str] = (-1.0, "")
    spread_default = train_tone.LANGUAGE_SPREAD.get(language)
    for group, c in itertools.product(GROUPS, CS):
        sets = {name: _filtered(f, group, language) for name, f in raw.items()}
        train_tone.LANGUAGE_C[language] = c
        train_tone.LANGUAGE_SPREAD[language] = 1e9  # scale = the rules' exchange rate; rescaled below
        fits: list[tuple[str, str, learned.Layer | None, list[train_tone.Features], train_tone.Features]] = []
        for name in sources:
            others = [sets[o] for o in sources if o != name]
            fits.append(("loso", name, _train(others, language), others, sets[name]))
        for name in sources:
            for fold, (_, test) in enumerate(_folds(sets[name])):
                trained_on = [_folds(sets[o])[fold][0] for o in sources]
                fits.append(("fold", name, _train(trained_on, language), trained_on, test))
        for spread_points in SPREADS:
            figures: dict[tuple[str, str], list[float]] = {}
            for kind, name, layer, trained_on, test in fits:
                # no layer (the rules' score got no weight): the rules alone, as shipped it would be
                scores = _scores(layer, spread_points, trained_on, test) if layer else [row[0][1] * train_tone.RULES_UNIT for row in test.rows]
                value = _auc(scores, test.labels)
                figures.setdefault((kind, name), []).append(value)
            loso = [sum(figures[("loso", n)]) / len(figures[("loso", n)]) for n in sources]
            folds = [sum(figures[("fold", n)]) / len(figures[("fold", n)]) for n in sources]
            criterion = sum(loso + folds) / len(loso + folds)
            line = (f"{group:<16} {c:>5} {spread_points:>6}  " + "  ".join(f"{v:>16.3f}" for v in loso)
                    + "  " + "  ".join(f"{v:>18.3f}" for v in folds) + f"  {criterion:.4f}")
            print(line, flush=True)
            if criterion > best[0]:
                best = (criterion, line)
    if spread_default is not None:
        train_tone.LANGUAGE_SPREAD[language] = spread_default
    print(f"best:\n{best[1]}")
    return 0


def _train(sets: Sequence[train_tone.Features], language: str) -> learned.Layer | None:
    try:
        return train_tone.train(sets, language)
    except SystemExit:  # the rules' score got no weight: no layer
        return None


if __name__ == "__main__":
    raise SystemExit(main())
