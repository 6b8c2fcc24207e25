"""Train the tone checker's learned wording layer (src/hygiene/tone/data/learned-<lang>.bin).

A logistic regression (scikit-learn, the ``train`` extra: ``pip install -e '.[train]'``) over
the rules' own score, the lexicon entries' match counts, politeness-strategy and face-threat
features and hashed character n-grams (hygiene.tone.learned), on public labelled text whose
licence lets the weights ship:

  stanford  ../shared/data/politeness-wikipedia-en.csv  Stanford Politeness Corpus, Wikipedia
            requests (Danescu-Niculescu-Mizil et al. 2013), CC BY 4.0: top quartile polite,
            bottom quartile impolite
  tweets    ../shared/data/offensive-tweets-en.csv  Davidson et al. 2017, MIT: "neither" vs
            offensive or hateful

The multilingual Wikipedia-talk sets (Havaldar et al. 2023) are CC BY-NC: measured on, never
trained on. There is no Japanese set a shipped model may learn from, so no Japanese layer is
written (Japanese scores come from the rules alone).

    python scripts/train_tone.py [--shared-data PATH] [--check]

--check: train and compare with the shipped file byte for byte (exit 1 when they differ).
The run is deterministic (liblinear, fixed order, float32 rounding), so the same data gives
the same bytes.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import math
import sys
import zlib
from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from hygiene.tone import learned  # noqa: E402
from hygiene.tone.engine import lexicon, lexicon_crc, rule_parts  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
EXTRA = ROOT.parent / "extra-data"
#: sources a shipped model may learn from, per language
TRAINABLE = {"en": ("stanford", "tweets"), "ja": ("inspection", "cocoa")}
#: the Japanese sources' files under --extra-data: (path, where to get it, sha256)
_COCOA = "https://github.com/amazon-science/contrastive-controlled-mt/blob/441e23a7c41beeac6329ffdb27d47024eb71b829/CoCoA-MT/"
JA_FILES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "inspection": (
        ("inspection-ai-japanese-toxic-subset.csv",
         "https://github.com/inspection-ai/japanese-toxic-dataset/blob/main/data/subset.csv",
         "9320c51c8528325d1bc9b89e847475dcc5adc2665a0fc56952a2ab9bd4736148"),
    ),
    "cocoa": tuple(
        (f"cocoa-mt-ja/formality-control.{split}.{domain}.en-ja.{register}",
         f"{_COCOA}{split}/en-ja/formality-control.{split}.{domain}.en-ja.{register}", sha)
        for split, domain, register, sha in (
            ("train", "telephony", "formal", "d6a6d507279f607aeeb078d4879325267a5294a3ce12306f5d8a305fcd8bcd8d"),
            ("train", "telephony", "informal", "686c7ccfb64bfb520b22af297d5800cf49fc91d22ff0ae371a536ec2faf98512"),
            ("train", "topical_chat", "formal", "c1833262ba8b6775b217d1dfdc1b4c40c7c3757d5a15ed78d099782975f2e9b4"),
            ("train", "topical_chat", "informal", "c808420c621e2a64c76e40cfba90ca227c42ba60dcc4e8818030e10d74520f38"),
            ("test", "call_center", "formal", "f65a947160673ba37ccc4a29479002d18e37ac72fa5f75d1bd698a1302a5b698"),
            ("test", "call_center", "informal", "8047b44ce8e9260e7d149fea27b15697e646649caa331a5674c4b5eb6f2cb344"),
            ("test", "telephony", "formal", "8e9de006aee840bd5f5087af2d6f15fc977f71a076f7b0fefdcd496a04ea929f"),
            ("test", "telephony", "informal", "24a9d940fc92064eef57cf56f1a5922300f571a570af0724a9c192d9ee01d8da"),
            ("test", "topical_chat", "formal", "fb6757df8b7d7ae8e19ccd6bdfd3676a993931ad600e112c5180c88671ead74d"),
            ("test", "topical_chat", "informal", "9d1a679505a9aec00ca4bb59c66d0c83219969243249ad05b571437263b94832"),
        )
    ),
}
#: the inverse regularisation strength (chosen on leave-one-source-out, bench/tone_quality.py)
C = 0.5
#: the learned part's standard deviation over the training texts, in score points, at most
SPREAD = 6.0
#: the rules' score enters the model divided by this (so its weight is not shrunk away)
RULES_UNIT = 10.0
#: the strategies whose direction the politeness literature fixes (Danescu-Niculescu-Mizil et
#: al. 2013; Brown and Levinson's face threats): +1 polite, -1 rude. Only these are learned,
#: and a weight that comes out against its sign is dropped and the model refitted: on
#: one source alone the rest (exclamations, pronouns, hashtags) and a sign left free learn
#: that source's style, which reverses on the next (tweets' "?" and "!" read as inoffensive,
#: Wikipedia requests' as impolite), so a free layer ranked a corpus it never saw below the
#: rules alone (issue 12). Chosen from the literature, not on the held-out corpus's figures.
SIGNS: dict[str, dict[str, int]] = {
    "en": {
        "please": 1, "hedge": 1, "indirect_btw": 1, "gratitude": 1, "apology": 1, "deference": 1,
        "greeting": 1, "praise": 1, "commitment": 1, "counterfactual_modal": 1,
        "first_person_plural": 1,
        "challenge": -1, "you_negative": -1, "disguised": -1, "imperative_start": -1,
        "direct_question": -1, "question": -1, "factuality": -1, "direct_start": -1, "second_person_start": -1,
    },
    # Japanese: keigo (teineigo, honorific and humble verbs, ございます, いただく, the お/ご
    # prefix), gratitude, apology, cushion words, hedges, polite questions and "let's … together"
    # polite (Ide 1989; Brown and Levinson); why-questions, second-person pronouns (Japanese
    # avoids addressing the reader as あなた/お前: Suzuki 1973), imperatives, the prohibitive
    # な, plain (kudaketa) endings, ill-wishes and insult words rude. Left unsigned, so not
    # learned: "?", "!", laughing (笑, ｗ, 草) and kaomoji, which mark friendliness among
    # peers and carelessness towards a customer alike.
    "ja": {
        "desu_masu": 1, "gozaimasu": 1, "honorific": 1, "humble": 1, "receive": 1, "prefix_o_go": 1,
        "gratitude": 1, "casual_thanks": 1, "apology": 1, "cushion": 1, "hedge": 1, "question_polite": 1,
        "thanks_together": 1,
        "why": -1, "second_person": -1, "imperative": -1, "prohibitive_na": -1, "plain_end": -1,
        "ill_wish": -1, "insult_word": -1,
    },
}
#: per-language C and SPREAD where they differ from the English ones above (chosen by
#: bench/tone_select.py: cross-validation within the Japanese training sources only)
LANGUAGE_C: dict[str, float] = {"ja": 0.3}
LANGUAGE_SPREAD: dict[str, float] = {"ja": 6.0}


@dataclass
class Example:
    text: str
    label: int  # 1 polite / acceptable, 0 rude / offensive


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


class MissingSource(Exception):
    """A source's file is not there (or not the file the weights were trained on)."""


def source_files(name: str, extra: Path = EXTRA) -> list[Path]:
    """The Japanese source's files under ``extra``, each checked against its sha256."""
    paths = []
    for relative, url, sha in JA_FILES[name]:
        path = extra / relative
        if not path.exists():
            raise MissingSource(f"{name}: {path} is missing; get it from {url} (sha256 {sha})")
        if hashlib.sha256(path.read_bytes()).hexdigest() != sha:
            raise MissingSource(f"{name}: {path} is not the file the layer is trained on "
                                f"(sha256 {sha}, from {url})")
        paths.append(path)
    return paths


def load_source(name: str, folder: Path = SHARED, extra: Path = EXTRA) -> list[Example]:
    """One public source as binary examples (the same split bench/tone_quality.py scores)."""
    if name == "inspection":
        out = []
        for r in _csv(source_files(name, extra)[0]):
            fine = int(r["Not Toxic"])
            rest = int(r["Hard to Say"]) + int(r["Toxic"]) + int(r["Very Toxic"])
            if fine != rest:  # a tie says nothing either way
                out.append(Example(r["text"], int(fine > rest)))
        return out
    if name == "cocoa":
        files = source_files(name, extra)
        out = []
        for formal, informal in zip(files[::2], files[1::2], strict=True):
            pairs = zip(formal.read_text(encoding="utf-8").splitlines(),
                        informal.read_text(encoding="utf-8").splitlines(), strict=True)
            for polite, casual in pairs:
                if polite.strip() and casual.strip() and polite != casual:  # some pairs do not differ
                    out += [Example(polite, 1), Example(casual, 0)]
        return out
    if name == "stanford":
        rows = _csv(folder / "politeness-wikipedia-en.csv")
        values = sorted(float(r["Normalized Score"]) for r in rows)
        q1, q3 = values[len(values) // 4], values[3 * len(values) // 4]
        out = []
        for r in rows:
            score = float(r["Normalized Score"])
            if score >= q3 or score <= q1:
                out.append(Example(r["Request"], int(score >= q3)))
        return out
    if name == "tweets":
        return [Example(r["tweet"], int(r["class"] == "2")) for r in _csv(folder / "offensive-tweets-en.csv")]
    raise ValueError(f"unknown source {name!r}")


@dataclass
class Features:
    """One source's examples as sparse rows: (column, value) pairs; column 0 is the rules."""

    rows: list[list[tuple[int, float]]]
    labels: list[int]


def featurize(examples: Iterable[Example], language: str) -> Features:
    entries = len(lexicon(language))
    strategies = len(learned.STRATEGIES[language])
    offset = 1 + entries + strategies
    rows, labels = [], []
    for example in examples:
        rules, counts, own = rule_parts(example.text, language)
        row: list[tuple[int, float]] = [(0, rules / RULES_UNIT)]
        row += [(1 + i, v) for i, v in learned.dense(counts, learned.strategy_counts(own, language), entries)]
        grams = Counter(learned.ngrams(own, language))
        norm = math.sqrt(sum(grams.values())) or 1.0
        row += [(offset + b, n / norm) for b, n in sorted(grams.items())]
        rows.append(row)
        labels.append(example.label)
    return Features(rows, labels)


def train(sets: Sequence[Features], language: str) -> learned.Layer:
    """Fit on ``sets`` (each source weighs the same, and within it each class) and return the
    layer in score points."""
    from scipy.sparse import csr_matrix  # the train extra's
    from sklearn.linear_model import LogisticRegression

    entries = len(lexicon(language))
    strategies = len(learned.STRATEGIES[language])
    width = 1 + entries + strategies + learned.BUCKETS
    data: list[float] = []
    indices: list[int] = []
    pointers = [0]
    labels: list[int] = []
    weights: list[float] = []
    for features in sets:
        per_class = Counter(features.labels)
        for row, label in zip(features.rows, features.labels, strict=True):
            indices += [c for c, _ in row]
            data += [v for _, v in row]
            pointers.append(len(indices))
            labels.append(label)
            weights.append(1000.0 / (len(per_class) * per_class[label]))
    matrix = csr_matrix((data, indices, pointers), shape=(len(labels), width))
    names = [name for name, _ in learned.STRATEGIES[language]]
    signs = {1 + entries + i: SIGNS[language].get(name, 0) for i, name in enumerate(names)}
    dropped = {column for column, sign in signs.items() if not sign}
    while True:
        kept = [c for c in range(width) if c not in dropped]
        model = LogisticRegression(C=LANGUAGE_C.get(language, C), solver="liblinear", max_iter=1000, random_state=0)
        model.fit(matrix[:, kept], labels, sample_weight=weights)
        coef = [0.0] * width
        for column, value in zip(kept, model.coef_[0], strict=True):
            coef[column] = float(value)
        against = {c for c, sign in signs.items() if c not in dropped and coef[c] * sign < 0}
        if not against:
            break
        dropped |= against
    per_point = coef[0] / RULES_UNIT  # log-odds per rule point
    if per_point <= 1e-3:
        raise SystemExit(f"{language}: the rules' score got weight {per_point:.4f}; the layer would be noise")
    rest = array("f", coef[1:])
    # the mean learned log-odds over the training texts: a typical text moves nothing
    values = [sum(float(rest[c - 1]) * v for c, v in row[1:]) for features in sets for row in features.rows]
    centre = sum(values) / len(values)
    spread = math.sqrt(sum((v - centre) ** 2 for v in values) / len(values))
    # the rules' exchange rate, but never more than SPREAD points for a typical swing
    scale = min(1.0 / per_point, LANGUAGE_SPREAD.get(language, SPREAD) / spread)
    return learned.Layer(language, entries, strategies, learned.BUCKETS, lexicon_crc(language), scale, centre, rest)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared-data", type=Path, default=SHARED)
    parser.add_argument("--extra-data", type=Path, default=EXTRA, help="the Japanese sources' folder")
    parser.add_argument("--check", action="store_true", help="compare with the shipped weights instead of writing them")
    args = parser.parse_args()
    try:  # every file there before anything is trained: never a layer from less than its sources
        for name in JA_FILES:
            source_files(name, args.extra_data)
    except MissingSource as missing:
        print(missing, file=sys.stderr)
        return 2
    status = 0
    for language, sources in TRAINABLE.items():
        if not sources:
            print(f"{language}: no public labelled data a shipped model may learn from; no layer")
            continue
        learned.use(language, None)
        try:
            sets = [featurize(load_source(name, args.shared_data, args.extra_data), language) for name in sources]
        except MissingSource as missing:
            print(missing, file=sys.stderr)
            return 2
        layer = train(sets, language)
        blob = layer.dump()
        path = learned.DATA / f"learned-{language}.bin"
        if args.check:
            same = path.exists() and path.read_bytes() == blob
            print(f"{language}: {'identical to' if same else 'DIFFERS from'} {path.name} (crc32 {zlib.crc32(blob):08x})")
            status |= not same
        else:
            path.write_bytes(blob)
            print(f"{language}: wrote {path.name}, {len(blob):,} bytes, crc32 {zlib.crc32(blob):08x}, "
                  f"scale {layer.scale:.2f} points per log-odds unit, centre {layer.centre:.3f}")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
