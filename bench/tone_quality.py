"""How well the tone score separates rude, neutral and polite text (issue 3, item 4).

On the project's labeled development set (tests/data/tone/dev-ja.jsonl, dev-en.jsonl:
polite / neutral / rude) it prints ROC AUC of the score for rude-vs-rest (a low score should
mean rude) and polite-vs-rest (a high score should mean polite), and how the verdicts fall.
Targets: AUC >= 0.95 rude-vs-rest and >= 0.85 polite-vs-rest in each language.

On the appeals (tests/data/tone/appeals.jsonl) it prints the AUC of good-vs-bad and the recall
of the missing parts each bad appeal is labeled with.

When ../shared/data is there (or --shared-data PATH), it also reports the same figures on
public text labeled by outsiders: the Stanford politeness corpus (Wikipedia requests; top vs
bottom quartile), the multilingual Wikipedia-talk politeness sets in English and Japanese
(polite >= 3 vs rude <= 1 on the 0-4 scale, and Spearman's rho over all), and the offensive
tweets (offensive or hateful vs neither). From --extra-data (default ../extra-data), the Japanese
training sources of scripts/train_tone.py: the inspection-ai web comments (not toxic vs
toxic) and CoCoA-MT's Japanese translations (teineigo vs kudaketa). Each corpus is scored three ways (issue 12, item 6):
by the rules alone (``rules_only_auc``), as shipped, and held out (``held_out_auc``: leave
one source out, the learned layer retrained without that corpus by scripts/train_tone.py; a
corpus the shipped layer never learns from is held out as shipped). The held-out figures
need scikit-learn (the ``train`` extra); the rest is stdlib only.

From --extra-data it also scores the English ones: the Stack Exchange part of the Stanford
corpus (top vs bottom quartile) and HateCheck (Röttger et al. 2021: rude = hateful or
abusive, acceptable = neutral, positive or negated statements about a group;
scripts/train_tone.py's HATECHECK_*), both training sources. A missing file is skipped with
a note.

    python bench/tone_quality.py [--json] [--shared-data PATH] [--extra-data PATH] [--no-held-out]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from hygiene.tone import check_tone, learned  # noqa: E402

DEV = ROOT / "tests" / "data" / "tone"
#: the public data fetched outside the project (--extra-data)
EXTRA = ROOT.parent / "extra-data"
TARGET_RUDE = 0.95
TARGET_POLITE = 0.85


def auc(positives: Sequence[float], negatives: Sequence[float]) -> float:
    """P(a random positive scores above a random negative), ties counting half (Mann-Whitney)."""
    if not positives or not negatives:
        return float("nan")
    ranked = sorted([(v, 1) for v in positives] + [(v, 0) for v in negatives])
    rank_sum = 0.0
    i = 0
    while i < len(ranked):
        j = i
        while j < len(ranked) and ranked[j][0] == ranked[i][0]:
            j += 1
        mean_rank = (i + j + 1) / 2  # ranks are 1-based
        rank_sum += mean_rank * sum(1 for k in range(i, j) if ranked[k][1])
        i = j
    n_pos, n_neg = len(positives), len(negatives)
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


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
    scores = {label: [res.score for lab, res in scored if lab == label] for label in ("polite", "neutral", "rude")}
    rude_auc = auc([-s for s in scores["rude"]], [-s for s in scores["polite"] + scores["neutral"]])
    polite_auc = auc(scores["polite"], scores["rude"] + scores["neutral"])
    confusion = Counter((label, res.verdict) for label, res in scored)
    flagged_right = sum(1 for label, res in scored if (label == "rude") == (res.verdict != "ok"))
    return {
        "set": f"dev-{language} ({len(rows)}: " + ", ".join(f"{k} {len(v)}" for k, v in scores.items()) + ")",
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
    good, bad, expected, hit = [], [], 0, 0
    for r in rows:
        result = check_tone(str(r["text"]), str(r.get("lang", "auto")), "appeal")
        (good if r["label"] == "good" else bad).append(result.score)
        kinds = {f.kind for f in result.findings}
        for missing in r.get("missing", []) or []:  # type: ignore[union-attr]
            expected += 1
            hit += missing in kinds
    return {
        "set": f"appeals ({len(good)} good, {len(bad)} bad)",
        "good_vs_bad_auc": auc(good, bad),
        "missing_parts_recall": hit / expected if expected else float("nan"),
    }


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _stanford(folder: Path) -> dict[str, object] | None:
    return _quartiles(folder / "politeness-wikipedia-en.csv", "Stanford politeness, Wikipedia")


def _stackexchange(folder: Path) -> dict[str, object] | None:
    return _quartiles(folder / "stack-exchange.annotated.csv", "Stanford politeness, Stack Exchange")


def _quartiles(stanford: Path, title: str) -> dict[str, object] | None:
    """A Stanford Politeness Corpus part: its top vs bottom quartile of ``Normalized Score``."""
    if not stanford.exists():
        return None
    rows = _csv(stanford)
    values = sorted(float(r["Normalized Score"]) for r in rows)
    q1, q3 = values[len(values) // 4], values[3 * len(values) // 4]
    top = [check_tone(r["Request"], "en").score for r in rows if float(r["Normalized Score"]) >= q3]
    bottom = [check_tone(r["Request"], "en").score for r in rows if float(r["Normalized Score"]) <= q1]
    threshold = sorted(top + bottom)[len(top + bottom) // 2]
    accuracy = (sum(s > threshold for s in top) + sum(s <= threshold for s in bottom)) / len(top + bottom)
    return {"set": f"{title} (top vs bottom quartile, {len(top)}+{len(bottom)})",
            "polite_vs_impolite_auc": auc(top, bottom), "accuracy_at_median": accuracy,
            "distinct_scores": len(set(top + bottom))}


def _wikitalk(folder: Path, language: str) -> dict[str, object] | None:
    path = folder / f"politeness-wikitalk-{language}-train.csv"
    if not path.exists():
        return None
    rows = _csv(path)
    labels = [float(r["labels"]) for r in rows]
    scores = [float(check_tone(r["Utterance"], language).score) for r in rows]
    polite = [s for s, lab in zip(scores, labels, strict=True) if lab >= 3]
    rude = [s for s, lab in zip(scores, labels, strict=True) if lab <= 1]
    return {"set": f"Wikipedia talk politeness, {language} ({len(polite)} polite >= 3, {len(rude)} rude <= 1)",
            "polite_vs_rude_auc": auc(polite, rude), "spearman_all": spearman(scores, labels),
            "distinct_scores": len(set(scores)), "largest_tie": _largest_tie(scores)}


def _largest_tie(scores: Sequence[float]) -> str:
    """How many texts share the commonest score (a constant for "nothing found" shows here)."""
    score, count = Counter(scores).most_common(1)[0]
    return f"{count} of {len(scores)} score {score:g}"


def _japanese_source(name: str, title: str, key: str) -> dict[str, object] | None:
    """A Japanese training source of scripts/train_tone.py (its own labelling), from EXTRA."""
    sys.path.insert(0, str(ROOT / "scripts"))
    import train_tone

    try:
        examples = train_tone.load_source(name, extra=EXTRA)
    except train_tone.MissingSource as missing:
        print(f"(skipped: {missing})", file=sys.stderr)
        return None
    scores = [float(check_tone(e.text, "ja").score) for e in examples]
    good = [s for s, e in zip(scores, examples, strict=True) if e.label]
    bad = [s for s, e in zip(scores, examples, strict=True) if not e.label]
    return {"set": f"{title} ({len(good)}+{len(bad)})", key: auc(good, bad),
            "distinct_scores": len(set(scores)), "largest_tie": _largest_tie(scores)}


def _tweets(folder: Path) -> dict[str, object] | None:
    tweets = folder / "offensive-tweets-en.csv"
    if not tweets.exists():
        return None
    rows = _csv(tweets)
    offensive = [check_tone(r["tweet"], "en").score for r in rows if r["class"] in ("0", "1")]
    neither = [check_tone(r["tweet"], "en").score for r in rows if r["class"] == "2"]
    return {"set": f"offensive tweets ({len(offensive)} offensive or hateful, {len(neither)} neither)",
            "offensive_vs_neither_auc": auc([-s for s in offensive], [-s for s in neither]),
            "distinct_scores": len(set(offensive + neither))}


def _hatecheck(folder: Path) -> dict[str, object] | None:
    path = folder / "hatecheck-test_suite_cases.csv"
    if not path.exists():
        return None
    sys.path.insert(0, str(ROOT / "scripts"))
    import train_tone  # the split it trains on (stdlib only until it trains)

    rows = _csv(path)
    results = [(r, check_tone(r["test_case"], "en")) for r in rows]
    rude = [res for r, res in results if r["label_gold"] == "hateful" or r["functionality"] in train_tone.HATECHECK_RUDE_NH]
    fine = [res for r, res in results if r["functionality"] in train_tone.HATECHECK_ACCEPTABLE]
    hateful = [res.score for r, res in results if r["label_gold"] == "hateful"]
    not_hateful = [res.score for r, res in results if r["label_gold"] != "hateful"]
    return {"set": f"HateCheck (rude: hateful or abusive, {len(rude)}; acceptable: neutral, positive, negated, {len(fine)})",
            "rude_vs_acceptable_auc": auc([-r.score for r in rude], [-r.score for r in fine]),
            "rude_flagged": sum(r.verdict != "ok" for r in rude) / len(rude),
            "acceptable_flagged": sum(r.verdict != "ok" for r in fine) / len(fine),
            "hateful_vs_not_all": auc([-s for s in hateful], [-s for s in not_hateful]),
            "distinct_scores": len({r.score for r in rude + fine})}


#: corpus name (scripts/train_tone.py's source names where it trains on one) → language, figure
CORPORA: dict[str, tuple[str, Callable[[Path], dict[str, object] | None]]] = {
    "stanford": ("en", _stanford),
    "wikitalk-en": ("en", lambda folder: _wikitalk(folder, "en")),
    "wikitalk-ja": ("ja", lambda folder: _wikitalk(folder, "ja")),
    "tweets": ("en", _tweets),
    "inspection": ("ja", lambda folder: _japanese_source(
        "inspection", "inspection-ai Japanese web comments, not toxic vs toxic", "not_toxic_vs_toxic_auc")),
    "cocoa": ("ja", lambda folder: _japanese_source(
        "cocoa", "CoCoA-MT Japanese, teineigo vs kudaketa translations", "formal_vs_informal_auc")),
}
#: the same, for the public data fetched outside the project (--extra-data)
EXTRA_CORPORA: dict[str, tuple[str, Callable[[Path], dict[str, object] | None]]] = {
    "stackexchange": ("en", _stackexchange),
    "hatecheck": ("en", _hatecheck),
}


def _headline(entry: dict[str, object]) -> float:
    return next(float(v) for k, v in entry.items() if k.endswith("_auc"))  # type: ignore[arg-type]


def shared_sets(folder: Path, held_out: bool = True, extra: Path | None = None) -> list[dict[str, object]]:
    """Each public corpus scored three ways: by the rules alone (no learned layer), as
    shipped, and held out (leave one source out: the layer trained without that corpus;
    a corpus the shipped layer never learns from is held out as shipped)."""
    out: list[dict[str, object]] = []
    trainer = _trainer() if held_out else None
    extra = extra or EXTRA
    corpora = [(name, corpus, folder) for name, corpus in CORPORA.items()]
    corpora += [(name, corpus, extra) for name, corpus in EXTRA_CORPORA.items()]
    for name, (language, figure), where in corpora:
        learned.use(language, None)
        rules_only = figure(where)
        learned.reset()
        if rules_only is None:
            print(f"({name}: no data in {where}; skipped)", file=sys.stderr)
            continue
        entry = figure(where) or {}
        entry["rules_only_auc"] = _headline(rules_only)
        if trainer is not None:
            sources = trainer.TRAINABLE.get(language, ())
            if name in sources:
                others = [source for source in sources if source != name]
                try:
                    layer = trainer.train([_featurized(trainer, s, language, folder, extra) for s in others], language) if others else None
                except trainer.MissingSource as missing:
                    print(f"(no held-out figure for {name}: {missing})", file=sys.stderr)
                    out.append(entry)
                    continue
                except SystemExit as weightless:  # the rules got no weight: there is no layer
                    print(f"(held out {name}: {weightless}; the rules alone)", file=sys.stderr)
                    layer = None
                learned.use(language, layer)
                entry["held_out_auc"] = _headline(figure(where) or {})
                # what "held out" means here: with no other source it is the rules alone
                entry["held_out_trained_on"] = ", ".join(others) if layer else "nothing (the rules alone)"
                learned.reset()
            else:
                entry["held_out_auc"] = _headline(entry)  # never trained on
        out.append(entry)
    return out


_features: dict[str, object] = {}


def _featurized(trainer: Any, source: str, language: str, folder: Path, extra: Path) -> object:
    if source not in _features:
        learned.use(language, None)
        _features[source] = trainer.featurize(trainer.load_source(source, folder, extra), language, source)
        learned.reset()
    return _features[source]


def _trainer() -> Any:
    """scripts/train_tone.py, when scikit-learn (the train extra) is installed."""
    try:
        import sklearn  # noqa: F401
    except ImportError:
        print("(scikit-learn not installed: no held-out figures; pip install -e '.[train]')", file=sys.stderr)
        return None
    sys.path.insert(0, str(ROOT / "scripts"))
    import train_tone

    return train_tone


def main() -> int:
    global EXTRA
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--shared-data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--extra-data", type=Path, default=EXTRA, help="public data fetched outside the project")
    parser.add_argument("--no-held-out", action="store_true", help="skip the leave-one-source-out training")
    args = parser.parse_args()
    EXTRA = args.extra_data  # the extra corpora's figure functions read it
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
