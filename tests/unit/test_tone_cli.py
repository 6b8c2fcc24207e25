"""``hygiene tone``: exit codes, the JSON shape, batch mode, config extensions, a light start."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from hygiene.cli import cli
from tests.unit.test_tone import ANGRY_EN, ANGRY_JA, POLITE_EN, POLITE_JA

KEYS = {"score", "verdict", "language", "kind", "politeness", "aggression", "findings"}


def tone(*args: str, stdin: str | None = None) -> object:
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
        assert set(finding) == {"kind", "start", "end", "text", "message", "suggestion"}
        assert ANGRY_EN[finding["start"] : finding["end"]] == finding["text"]
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
    assert result.exit_code == 0
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
        "print([m for m in ('sqlalchemy', 'alembic', 'imapclient', 'plotext', 'dateparser') if m in sys.modules])"
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
