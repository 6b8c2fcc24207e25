"""``hygiene tone``: exit codes, the JSON shape, batch mode, config extensions, a light start."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from hygiene.cli import cli
from tests.builders import ANGRY_EN, ANGRY_JA, POLITE_EN, POLITE_JA

KEYS = {"score", "verdict", "language", "kind", "politeness", "aggression", "findings", "unchecked_chars"}


def tone(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["tone", *args], input=stdin)


def test_exit_codes_ok_review_block_and_error(tmp_path: Path) -> None:
    draft = tmp_path / "draft.txt"
    draft.write_text(POLITE_JA, encoding="utf-8")
    assert tone(str(draft)).exit_code == 0
    assert tone("-", stdin="This is the third time I have asked about this order.").exit_code == 3
    assert tone(stdin=ANGRY_JA).exit_code == 4
    missing = tone(str(tmp_path / "nope.txt"))
    assert missing.exit_code == 1 and missing.stderr.startswith("hygiene: cannot read")
    assert tone(stdin="   \n").exit_code == 1


def test_human_output_marks_each_passage_with_a_suggestion() -> None:
    result = tone(stdin=ANGRY_JA)
    out = result.stdout
    assert out.startswith("score ") and "— block (ja, reply" in out
    assert '1:22  insult  "ふざけるな"' in out
    assert "→ " in out and "ご確認いただけますでしょうか" in out


def test_json_shape_and_offsets() -> None:
    result = tone("--json", stdin=ANGRY_EN)
    assert result.exit_code == 4
    data = json.loads(result.stdout)
    assert set(data) == KEYS and data["verdict"] == "block" and data["language"] == "en"
    for finding in data["findings"]:
        assert set(finding) == {"kind", "start", "end", "text", "message", "suggestion", "weight", "entry"}
        assert ANGRY_EN[finding["start"] : finding["end"]] == finding["text"]
        assert isinstance(finding["weight"], float) and isinstance(finding["entry"], str)
    assert {"insult", "threat", "demand", "accusing_question"} <= {f["kind"] for f in data["findings"]}


def test_lang_and_kind_options() -> None:
    data = json.loads(tone("--json", "--lang", "en", "--kind", "appeal", stdin=POLITE_EN).stdout)
    assert (data["language"], data["kind"]) == ("en", "appeal")
    assert any(f["kind"].startswith("appeal_") for f in data["findings"])
    assert tone("--lang", "fr", stdin="x").exit_code == 2


def test_batch_scores_json_lines_and_reports_bad_lines() -> None:
    lines = "\n".join(
        [
            json.dumps({"id": "a", "text": POLITE_JA}),
            json.dumps({"id": "b", "text": ANGRY_EN, "lang": "en"}),
            json.dumps({"id": "c", "text": POLITE_EN, "kind": "appeal"}),
            json.dumps({"id": "d"}),
            "not json",
        ]
    )
    result = tone("--batch", "-", stdin=lines + "\n")
    assert result.exit_code == 1  # some lines got error records
    assert result.stderr == 'hygiene: 2 lines could not be scored; see the "error" records in the output\n'
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["id"] for o in out] == ["a", "b", "c", "d", None]
    assert out[0]["verdict"] == "ok" and out[1]["verdict"] == "block" and out[2]["kind"] == "appeal"
    assert set(out[0]) == KEYS | {"id"}
    assert "error" in out[3] and "error" in out[4]


def test_config_tone_section_is_used(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[tone]\nallow = ["バカ売れ"]\nextra_aggressive = ["byzantine"]\n', encoding="utf-8")
    ok = CliRunner().invoke(cli, ["--config", str(config), "tone"], input="この商品はバカ売れしています。")
    assert ok.exit_code == 0
    flagged = CliRunner().invoke(cli, ["--config", str(config), "tone", "--json"], input="Your process is byzantine.")
    assert "complaint" in {f["kind"] for f in json.loads(flagged.stdout)["findings"]}


def test_tone_does_not_import_the_database_or_imap_stack(tmp_path: Path) -> None:
    draft = tmp_path / "d.txt"
    draft.write_text(POLITE_JA, encoding="utf-8")
    code = (
        f"import sys\nfrom hygiene.cli import main\nsys.argv = ['hygiene', 'tone', {str(draft)!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print([m for m in ('sqlalchemy', 'alembic', 'imapclient', 'plotext', 'dateparser', 'publicsuffixlist', 'numpy', 'scipy', 'sklearn', 'holidays') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_readme_tone_example_is_what_the_command_prints() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Tone check before sending", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    command, *shown = [line for line in section.strip().splitlines() if line != "…"]
    draft = command.split('echo "', 1)[1].split('" |', 1)[0]
    printed = tone(stdin=draft).stdout.splitlines()
    for line in shown:
        assert line in printed, line


def batch(data: bytes, *args: str) -> tuple[int, list[dict[str, Any]], str]:
    result = CliRunner().invoke(cli, ["tone", "--batch", "-", *args], input=data)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, [json.loads(line) for line in result.stdout.splitlines()], result.stderr


def test_batch_one_bad_line_never_stops_the_run() -> None:
    good = [json.dumps({"id": f"ok{i}", "text": POLITE_JA}, ensure_ascii=False).encode() for i in range(6)]
    bad = [
        b'{"id": "latin1", "text": "caf\xe9"}',  # not UTF-8
        b"[" * 100_000 + b"]" * 100_000,  # RecursionError in json.loads
        b'{"id": "cut", "text": "no end',
        json.dumps({"id": "fr", "text": "Bonjour", "lang": "fr"}).encode(),
        json.dumps({"id": "letter", "text": "Hi", "kind": "letter"}).encode(),
        b"[1, 2]",
        json.dumps({"id": 7}).encode(),
        json.dumps({"id": "num", "text": 42}).encode(),
        b'"just a string"',
    ]
    lines = [line for pair in zip(good, bad[:6], strict=True) for line in pair] + bad[6:]
    code, out, err = batch(b"\n".join(lines) + b"\n")
    assert [o["id"] for o in out] == ["ok0", None, "ok1", None, "ok2", None, "ok3", "fr", "ok4", "letter", "ok5", None, 7, "num", None]
    errors = {o["id"] if o["id"] is not None else i: o["error"] for i, o in enumerate(out) if "error" in o}
    assert set(errors) == {1, 3, 5, "fr", "letter", 11, 7, "num", 14}
    assert all(set(o) == {"id", "error"} for o in out if "error" in o)
    assert all(set(o) == KEYS | {"id"} and o["verdict"] == "ok" for o in out if str(o["id"]).startswith("ok"))
    assert errors[1].startswith("line 2: not UTF-8") and "nested too deeply" in errors[3]
    assert errors["fr"] == "line 8: unknown \"lang\" 'fr' (one of auto, ja, en)"
    assert errors["letter"] == "line 10: unknown \"kind\" 'letter' (one of reply, appeal)"
    assert "JSON object, got list" in errors[11] and "JSON object, got str" in errors[14]
    assert code == 1 and err == 'hygiene: 9 lines could not be scored; see the "error" records in the output\n'


def test_batch_exit_code_ignores_verdicts_and_null_options_mean_the_default(tmp_path: Path) -> None:
    lines = [{"id": 1, "text": ANGRY_JA}, {"id": 2, "text": POLITE_EN, "lang": None, "kind": None}]
    code, out, err = batch("\n".join(json.dumps(line) for line in lines).encode(), "--kind", "appeal")
    assert code == 0 and err == "" and out[0]["verdict"] == "block"
    assert (out[1]["language"], out[1]["kind"]) == ("en", "appeal")
    drafts = tmp_path / "drafts.jsonl"
    drafts.write_bytes(b"\xef\xbb\xbf" + json.dumps({"id": "bom", "text": POLITE_JA}).encode() + b"\n\xff\n")
    result = tone("--batch", str(drafts))
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == ["bom", None] and result.exit_code == 1


def test_an_overlong_draft_is_checked_up_to_the_cap_and_says_so() -> None:
    draft = (POLITE_JA + "\n") * (300_000 // len(POLITE_JA))
    data = json.loads(tone("--json", stdin=draft).stdout)
    checked = len(draft) - data["unchecked_chars"]
    assert 98_000 < checked <= 100_000 and draft[checked - 1] == "\n"
    assert max(f["end"] for f in data["findings"]) <= checked
    human = tone(stdin=draft).stdout.splitlines()
    assert human[1] == f"note: only the first {checked:,} characters were checked; {data['unchecked_chars']:,} left unchecked"
    assert "note:" not in tone(stdin=POLITE_JA).stdout
    out = batch(json.dumps({"id": "long", "text": draft}).encode())[1]
    assert out[0]["unchecked_chars"] == data["unchecked_chars"]


def _readme_tone() -> str:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    return readme.split("## Tone check before sending", 1)[1].split("\n## ", 1)[0]


def test_readme_documents_the_cap_and_the_batch_error_records() -> None:
    section = " ".join(_readme_tone().split())
    # the JSON shape: every key the command prints is named, in order
    shape = section.split("`--json` prints `", 1)[1].split("`", 1)[0]
    findings = re.search(r"\[(.*)\]", shape)
    assert findings and re.findall(r'"(\w+)"', findings.group(1)) == ["kind", "start", "end", "text", "message", "suggestion", "weight", "entry"]
    assert re.findall(r'"(\w+)"', shape.replace(findings.group(0), "")) == list(KEYS_IN_ORDER)
    note = "note: only the first 100,000 characters were checked; 412,345 left unchecked"
    assert note in section
    assert '`{"id", "error"}`' in section and "`\"id\"` null" in section
    assert "exits 1" in section and "verdicts do not set the exit code" in section


KEYS_IN_ORDER = ("score", "verdict", "language", "kind", "politeness", "aggression", "findings", "unchecked_chars")


def test_json_keys_come_in_the_documented_order() -> None:
    assert list(json.loads(tone("--json", stdin=POLITE_EN).stdout)) == list(KEYS_IN_ORDER)


def test_findings_carry_their_weight_and_entry() -> None:
    data = json.loads(tone("--json", stdin=ANGRY_EN).stdout)
    by_kind = {f["kind"]: f for f in data["findings"]}
    assert by_kind["insult"]["weight"] < 0 and by_kind["insult"]["entry"].startswith("en.tsv:")
    wording = by_kind["wording"]  # the learned layer, one line
    assert wording["entry"] == "learned:en" and wording["message"].startswith("wording overall: ")
    assert abs(wording["weight"]) < 20
    polite = json.loads(tone("--json", stdin=POLITE_EN).stdout)
    assert any(f["weight"] > 0 and f["entry"].startswith("en.tsv:") for f in polite["findings"])
