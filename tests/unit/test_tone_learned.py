"""The learned wording layer (issue 12): plain arrays read with the stdlib, a continuous
score, a block that always names its finding."""

from __future__ import annotations

import subprocess
import sys
import time
from array import array
from pathlib import Path

import pytest

from hygiene.tone import check_tone, learned
from hygiene.tone.engine import lexicon, lexicon_crc


@pytest.fixture(autouse=True)
def _no_override() -> object:
    learned.reset()
    yield
    learned.reset()


def test_the_shipped_english_layer_matches_the_lexicon_and_loads_fast() -> None:
    path = learned.DATA / "learned-en.bin"
    started = time.perf_counter()
    layer = learned.parse(path.read_bytes(), "en")
    assert time.perf_counter() - started < 0.05
    assert layer.entries == len(lexicon("en")) and layer.lexicon == lexicon_crc("en")
    assert layer.strategies == len(learned.STRATEGIES["en"]) and layer.buckets == learned.BUCKETS
    assert path.stat().st_size < 2_500_000


def test_dump_and_parse_round_trip() -> None:
    weights = array("f", [0.5, -1.0, 0.25, 0.0])
    layer = learned.Layer("en", 1, 1, 2, 1234, 3.0, -0.5, weights)
    again = learned.parse(layer.dump(), "en")
    assert again == layer
    with pytest.raises(ValueError):
        learned.parse(b"XXXX" + layer.dump()[4:], "en")


#: replies with nothing the rules find: before the learned layers each language's scored one
#: constant (66 in English; 76 in Japanese, its です・ます endings)
NOTHING_FOUND = {
    "en": [
        "The parcel left our warehouse today.",
        "We have sent the replacement and it should arrive on Friday.",
        "Send the tracking number.",
        "I checked the order and the item was delivered on Monday to the front desk.",
        "Your order will arrive soon, we are looking after it for you.",
    ],
    "ja": [
        "商品は本日発送しました。",
        "注文の件、確認しましたが、在庫がないようです。",
        "配送業者に問い合わせたところ、住所が違うとのことでした。",
        "返品の手続きは完了しています。来週返金されます。",
        "その商品は先月で販売を終了しました。",
    ],
}


@pytest.mark.parametrize("language", ["en", "ja"])
def test_no_constant_score_for_nothing_found(language: str) -> None:
    results = [check_tone(text, language) for text in NOTHING_FOUND[language]]
    assert all(not any(f.weight > 0 for f in r.findings) for r in results)
    assert len({r.score for r in results}) >= 3


def test_the_wording_is_one_line_and_never_blocks_alone() -> None:
    layer = learned.layer("en")
    assert layer is not None
    harsh = learned.Layer("en", layer.entries, layer.strategies, layer.buckets, layer.lexicon, 1000.0, 1000.0, layer.weights)
    learned.use("en", harsh)  # pulls every text down as far as the layer can
    result = check_tone("The parcel left our warehouse today.", "en")
    lines = [f for f in result.findings if f.kind == "wording"]
    assert len(lines) == 1 and lines[0].as_json()["weight"] <= -19 and lines[0].entry == "learned:en"
    assert result.verdict == "review"  # asks for a look, but a block needs a finding
    assert check_tone("You idiots.", "en").verdict == "block"


def test_a_layer_from_another_lexicon_is_not_used() -> None:
    layer = learned.layer("en")
    assert layer is not None
    learned.use("en", learned.Layer("en", layer.entries, layer.strategies, layer.buckets, layer.lexicon ^ 1,
                                    layer.scale, layer.centre, layer.weights))
    assert not any(f.kind == "wording" for f in check_tone("The parcel left today.", "en").findings)


def test_the_shipped_japanese_layer_matches_the_lexicon() -> None:
    layer = learned.layer("ja")
    assert layer is not None and layer.entries == len(lexicon("ja")) and layer.lexicon == lexicon_crc("ja")
    assert layer.strategies == len(learned.STRATEGIES["ja"])
    lines = [f for f in check_tone("商品を発送いたしました。", "ja").findings if f.kind == "wording"]
    assert len(lines) == 1 and lines[0].entry == "learned:ja"


def test_the_training_script_names_a_missing_source_and_exits_2(tmp_path: Path) -> None:
    script = Path(__file__).resolve().parents[2] / "scripts" / "train_tone.py"
    run = subprocess.run([sys.executable, str(script), "--extra-data", str(tmp_path), "--check"],
                         capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert "inspection-ai-japanese-toxic-subset.csv is missing" in run.stderr
    assert "https://github.com/inspection-ai/japanese-toxic-dataset" in run.stderr
    assert "9320c51c8528325d1bc9b89e847475dcc5adc2665a0fc56952a2ab9bd4736148" in run.stderr


def test_the_japanese_o_go_prefix_is_not_omae() -> None:
    names = [name for name, _ in learned.STRATEGIES["ja"]]
    prefix = names.index("prefix_o_go")
    assert learned.strategy_counts("ご注文の商品をお届けします。", "ja")[prefix] == 2
    assert learned.strategy_counts("お前のせいだ。", "ja")[prefix] == 0  # a rude "you", not a courtesy
