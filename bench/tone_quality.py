"""How well the tone score separates rude, neutral and polite text (issue 3, item 4).

On the project's labeled development set (tests/data/tone/dev-ja.jsonl, dev-en.jsonl:
polite / neutral / rude) it prints ROC AUC of the score for rude-vs-rest (a low score should
mean rude) and polite-vs-rest (a high score should mean polite), and how the verdicts fall.
Targets: AUC >= 0.95 rude-vs-rest and >= 0.85 polite-vs-rest in each language.

On the appeals (tests/data/tone/appeals.jsonl) it prints the AUC of good-vs-bad and the recall
of the missing parts each bad appeal is labeled with.

When ../shared/data is there (or --shared-data PATH), it also reports the same figures on
public text labeled by outsiders. The learned layer's training sources are scored on exactly
the examples it learns from, as scripts/train_tone.py's ``load_source`` splits them (one
labelling for both, so they cannot drift apart): from ../shared/data the Stanford politeness
corpus (Wikipedia requests; top vs bottom quartile) and the offensive tweets (offensive or
hateful vs neither); from --extra-data (default ../extra-data) the Stack Exchange part of the
Stanford corpus (top vs bottom quartile), HateCheck (Röttger et al. 2021: rude = hateful or
abusive, acceptable = neutral, positive or negated statements about a group;
scripts/train_tone.py's HATECHECK_*), and the Japanese sources: the inspection-ai web comments
(not toxic vs toxic) and CoCoA-MT's Japanese translations (teineigo vs kudaketa). Measured
only, never trained on, with their own split: the multilingual Wikipedia-talk politeness sets
in English and Japanese (polite >= 3 vs rude <= 1 on the 0-4 scale, and Spearman's rho over
all). Each corpus is scored three ways (issue 12, item 6): by the rules alone
(``rules_only_auc``), as shipped, and held out (``held_out_auc``: leave one source out, the
learned layer retrained without that corpus by scripts/train_tone.py; a corpus the shipped
layer never learns from is held out as shipped). The held-out figures need scikit-learn (the
``train`` extra); the rest is stdlib only. A missing file is skipped with a note.

    python bench/tone_quality.py [--json] [--shared-data PATH] [--extra-data PATH] [--no-held-out]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "scripts"))

# scripts/train_tone.py: its sources' examples (load_source) and the one ROC AUC; stdlib
# only until it trains (its fit imports scikit-learn)
import train_tone  # noqa: E402
from train_tone import auc  # noqa: E402

from hygiene.tone import ToneResult, check_tone, learned  # noqa: E402

DEV = ROOT / "tests" / "data" / "tone"
TARGET_RUDE = 0.95
TARGET_POLITE = 0.85


def spearman(xs: Sequence[float], ys: Sequence[float]) -> float:
    def ranks(values: Sequence[float]) -> list[float]:
        order = sorted(range(len(values)), key=lambda i: values[i])
        out = [0.0] * len(values)
        i = 0
        while i < len(order):
            j = i
            while j < len(order) and values[order[j]] == values[order[i]]:
                j += 1
            for k in range(i, j):
                out[order[k]] = (i + j - 1) / 2
            i = j
        return out

    rx, ry = ranks(xs), ranks(ys)
    n = len(xs)
    mx, my = sum(rx) / n, sum(ry) / n
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    sx = sum((a - mx) ** 2 for a in rx) ** 0.5
    sy = sum((b - my) ** 2 for b in ry) ** 0.5
    return cov / (sx * sy) if sx and sy else float("nan")


def load_jsonl(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def dev_set(language: str) -> dict[str, object] | None:
    path = DEV / f"dev-{language}.jsonl"
    if not path.exists():
        return None
    rows = load_jsonl(path)
    scored = [(str(r["label"]), check_tone(str(r["text"]), language)) for r in rows]
    scores = [res.score for _, res in scored]
    counts = Counter(label for label, _ in scored)
    rude_auc = auc([-s for s in scores], [label == "rude" for label, _ in scored])
    polite_auc = auc(scores, [label == "polite" for label, _ in scored])
    confusion = Counter((label, res.verdict) for label, res in scored)
    flagged_right = sum(1 for label, res in scored if (label == "rude") == (res.verdict != "ok"))
    return {
        "set": f"dev-{language} ({len(rows)}: " + ", ".join(f"{k} {counts[k]}" for k in ("polite", "neutral", "rude")) + ")",
        "rude_vs_rest_auc": rude_auc,
        "polite_vs_rest_auc": polite_auc,
        "verdict_accuracy": flagged_right / len(scored),
        "confusion": {f"{label}->{verdict}": n for (label, verdict), n in sorted(confusion.items())},
        "pass": rude_auc >= TARGET_RUDE and polite_auc >= TARGET_POLITE,
    }


def appeals() -> dict[str, object] | None:
    path = DEV / "appeals.jsonl"
    if not path.exists():
        return None
    rows = load_jsonl(path)
    scores, good, expected, hit = [], [], 0, 0
    for r in rows:
        result = check_tone(str(r["text"]), str(r.get("lang", "auto")), "appeal")
        scores.append(result.score)
        good.append(r["label"] == "good")
        kinds = {f.kind for f in result.findings}
        for missing in r.get("missing", []) or []:  # type: ignore[union-attr]
            expected += 1
            hit += missing in kinds
    return {
        "set": f"appeals ({sum(good)} good, {len(good) - sum(good)} bad)",
        "good_vs_bad_auc": auc(scores, good),
        "missing_parts_recall": hit / expected if expected else float("nan"),
    }


def _scored(name: str, language: str, shared: Path, extra: Path) -> tuple[list[train_tone.Example], list[ToneResult]]:
    """A training source of scripts/train_tone.py as the layer learns it (train_tone.load_source:
    label 1 polite / acceptable, 0 rude / offensive), and each example's result."""
    examples = train_tone.load_source(name, shared, extra)
    return examples, [check_tone(e.text, language) for e in examples]


def _quartiles(name: str, title: str, shared: Path, extra: Path) -> dict[str, object]:
    """A Stanford Politeness Corpus part: its top (1) vs bottom (0) quartile of ``Normalized Score``."""
    examples, results = _scored(name, "en", shared, extra)
    labels, scores = [e.label for e in examples], [r.score for r in results]
    top = sum(labels)
    threshold = sorted(scores)[len(scores) // 2]
    accuracy = sum((s > threshold) == bool(label) for s, label in zip(scores, labels, strict=True)) / len(scores)
    return {"set": f"{title} (top vs bottom quartile, {top}+{len(labels) - top})",
            "polite_vs_impolite_auc": auc(scores, labels), "accuracy_at_median": accuracy,
            "distinct_scores": len(set(scores))}


def _wikitalk(folder: Path, language: str) -> dict[str, object]:
    """A Wikipedia-talk set: AUC over train_tone.load_source's ends of the 0-4 scale (polite vs
    rude), Spearman's rho over every text."""
    name = f"wikitalk-{language}"
    rows = train_tone.read_csv(train_tone.wikitalk_file(name, folder))
    labels = [float(r["labels"]) for r in rows]
    scored = {r["Utterance"]: float(check_tone(r["Utterance"], language).score) for r in rows}
    scores = [scored[r["Utterance"]] for r in rows]
    ends = train_tone.load_source(name, folder)
    polite = sum(e.label for e in ends)
    return {"set": f"Wikipedia talk politeness, {language} ({polite} polite >= {train_tone.WIKITALK_POLITE:g}, "
                   f"{len(ends) - polite} rude <= {train_tone.WIKITALK_RUDE:g})",
            "polite_vs_rude_auc": auc([scored[e.text] for e in ends], [e.label for e in ends]), "spearman_all": spearman(scores, labels),
            "distinct_scores": len(set(scores)), "largest_tie": _largest_tie(scores)}


def _largest_tie(scores: Sequence[float]) -> str:
    """How many texts share the commonest score (a constant for "nothing found" shows here)."""
    score, count = Counter(scores).most_common(1)[0]
    return f"{count} of {len(scores)} score {score:g}"


def _japanese_source(name: str, title: str, key: str, shared: Path, extra: Path) -> dict[str, object]:
    examples, results = _scored(name, "ja", shared, extra)
    labels, scores = [e.label for e in examples], [r.score for r in results]
    good = sum(labels)
    return {"set": f"{title} ({good}+{len(labels) - good})", key: auc(scores, labels),
            "distinct_scores": len(set(scores)), "largest_tie": _largest_tie(scores)}


def _tweets(shared: Path, extra: Path) -> dict[str, object]:
    examples, results = _scored("tweets", "en", shared, extra)
    labels, scores = [e.label for e in examples], [r.score for r in results]
    neither = sum(labels)
    return {"set": f"offensive tweets ({len(labels) - neither} offensive or hateful, {neither} neither)",
            "offensive_vs_neither_auc": auc(scores, labels), "distinct_scores": len(set(scores))}


def _hatecheck(shared: Path, extra: Path) -> dict[str, object]:
    examples, results = _scored("hatecheck", "en", shared, extra)
    labels = [e.label for e in examples]
    rude = [res for res, label in zip(results, labels, strict=True) if not label]
    fine = [res for res, label in zip(results, labels, strict=True) if label]
    # HateCheck's own label over every case (its "non-hateful" side holds abuse and profanity)
    cases = train_tone.read_csv(train_tone.english_file("hatecheck", shared, extra))
    known = {e.text: res.score for e, res in zip(examples, results, strict=True)}
    everything = [known[r["test_case"]] if r["test_case"] in known else check_tone(r["test_case"], "en").score for r in cases]
    return {"set": f"HateCheck (rude: hateful or abusive, {len(rude)}; acceptable: neutral, positive, negated, {len(fine)})",
            "rude_vs_acceptable_auc": auc([r.score for r in results], labels),
            "rude_flagged": sum(r.verdict != "ok" for r in rude) / len(rude),
            "acceptable_flagged": sum(r.verdict != "ok" for r in fine) / len(fine),
            "hateful_vs_not_all": auc(everything, [r["label_gold"] != "hateful" for r in cases]),
            "distinct_scores": len({r.score for r in results})}


#: corpus name (scripts/train_tone.py's source names where it trains on one) → language, and
#: its figures from the --shared-data and --extra-data folders (train_tone.MissingSource when
#: its file is not there)
CORPORA: dict[str, tuple[str, Callable[[Path, Path], dict[str, object]]]] = {
    "stanford": ("en", lambda shared, extra: _quartiles("stanford", "Stanford politeness, Wikipedia", shared, extra)),
    "wikitalk-en": ("en", lambda shared, extra: _wikitalk(shared, "en")),
    "wikitalk-ja": ("ja", lambda shared, extra: _wikitalk(shared, "ja")),
    "tweets": ("en", _tweets),
    "inspection": ("ja", lambda shared, extra: _japanese_source(
        "inspection", "inspection-ai Japanese web comments, not toxic vs toxic", "not_toxic_vs_toxic_auc", shared, extra)),
    "cocoa": ("ja", lambda shared, extra: _japanese_source(
        "cocoa", "CoCoA-MT Japanese, teineigo vs kudaketa translations", "formal_vs_informal_auc", shared, extra)),
    "stackexchange": ("en", lambda shared, extra: _quartiles(
        "stackexchange", "Stanford politeness, Stack Exchange", shared, extra)),
    "hatecheck": ("en", _hatecheck),
}


def _headline(entry: dict[str, object]) -> float:
    return next(float(v) for k, v in entry.items() if k.endswith("_auc"))  # type: ignore[arg-type]


def shared_sets(folder: Path, held_out: bool = True, extra: Path = train_tone.EXTRA) -> list[dict[str, object]]:
    """Each public corpus scored three ways: by the rules alone (no learned layer), as
    shipped, and held out (leave one source out: the layer trained without that corpus;
    a corpus the shipped layer never learns from is held out as shipped)."""
    out: list[dict[str, object]] = []
    can_train = held_out and _can_train()
    for name, (language, figure) in CORPORA.items():
        learned.use(language, None)
        try:
            rules_only = figure(folder, extra)
        except train_tone.MissingSource as missing:
            print(f"(skipped: {missing})", file=sys.stderr)
            continue
        finally:
            learned.reset()
        entry = figure(folder, extra)
        entry["rules_only_auc"] = _headline(rules_only)
        if can_train:
            sources = train_tone.TRAINABLE.get(language, ())
            if name in sources:
                others = [source for source in sources if source != name]
                try:
                    layer = train_tone.train([_featurized(s, language, folder, extra) for s in others], language) if others else None
                except train_tone.MissingSource as missing:
                    print(f"(no held-out figure for {name}: {missing})", file=sys.stderr)
                    out.append(entry)
                    continue
                except SystemExit as weightless:  # the rules got no weight: there is no layer
                    print(f"(held out {name}: {weightless}; the rules alone)", file=sys.stderr)
                    layer = None
                learned.use(language, layer)
                entry["held_out_auc"] = _headline(figure(folder, extra))
                # what "held out" means here: with no other source it is the rules alone
                entry["held_out_trained_on"] = ", ".join(others) if layer else "nothing (the rules alone)"
                learned.reset()
            else:
                entry["held_out_auc"] = _headline(entry)  # never trained on
        out.append(entry)
    return out


_features: dict[str, train_tone.Features] = {}


def _featurized(source: str, language: str, folder: Path, extra: Path) -> train_tone.Features:
    if source not in _features:
        learned.use(language, None)
        _features[source] = train_tone.featurize(train_tone.load_source(source, folder, extra), language, source)
        learned.reset()
    return _features[source]


def _can_train() -> bool:
    """Whether scikit-learn (the train extra), which scripts/train_tone.py trains with, is installed."""
    try:
        import sklearn  # noqa: F401
    except ImportError:
        print("(scikit-learn not installed: no held-out figures; pip install -e '.[train]')", file=sys.stderr)
        return False
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--shared-data", type=Path, default=train_tone.SHARED)
    parser.add_argument("--extra-data", type=Path, default=train_tone.EXTRA, help="public data fetched outside the project")
    parser.add_argument("--no-held-out", action="store_true", help="skip the leave-one-source-out training")
    args = parser.parse_args()
    started = time.perf_counter()
    report: list[dict[str, object]] = [r for r in (dev_set("ja"), dev_set("en"), appeals()) if r]
    if args.shared_data.is_dir():
        report += shared_sets(args.shared_data, not args.no_held_out, args.extra_data)
    seconds = time.perf_counter() - started
    if args.json:
        print(json.dumps({"results": report, "seconds": round(seconds, 2)}, ensure_ascii=False, indent=2))
    else:
        for entry in report:
            print(entry["set"])
            for key, value in entry.items():
                if key == "set":
                    continue
                shown = f"{value:.3f}" if isinstance(value, float) else ("PASS" if value is True else "FAIL" if value is False else value)
                print(f"  {key:<24} {shown}")
        print(f"({seconds:.1f} s)")
    return 0 if all(e.get("pass", True) for e in report) else 1


if __name__ == "__main__":
    raise SystemExit(main())
