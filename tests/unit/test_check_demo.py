"""``hygiene demo``: runs on its own throwaway database, touches nothing of the user's, and
shows what ``check`` would say at the demo clock."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from hygiene.cli import cli
from hygiene.demo import DEMO_DIR, manifest_history, manifest_messages, run_demo
from hygiene.demo.history import NO_RESPONSE
from tests.builders import BUYER, BUYER2, NOW, PERF, Mailbox


def files_under(path: Path) -> list[Path]:
    return [p for p in path.rglob("*") if p.is_file()] if path.exists() else []


def test_demo_machinery_on_a_written_sample(tmp_path: Path) -> None:
    box = Mailbox(tmp_path / "sample" / "mail")
    late = box.inbound(BUYER, "商品が届きません", hours_ago=30)
    central = box.inbound(PERF, "アカウント健全性について", hours_ago=30)
    q = box.inbound(BUYER2, "Question", hours_ago=40)
    box.outbound(BUYER2, "Re: Question", hours_ago=38, in_reply_to=q)
    manifest = {
        "now": NOW.isoformat(),
        "account": "demo",
        "messages": [
            {"message_id": f"<{central}>", "seller_central_reply_at": "2026-11-19T12:00:00+09:00"},
            {"message_id": late, "expected_state": "late"},
        ],
    }
    (tmp_path / "sample" / "manifest.json").write_text(json.dumps(manifest))
    result = run_demo(tmp_path / "sample" / "mail")
    assert result.states[late] == "late"
    assert result.states[central] == "replied"
    assert result.states[q] == "replied"
    assert result.check_exit_code == 3
    assert "1 message awaits a reply (1 late)" in result.text
    assert "Replies found: 2 — by rule: manual 1, references 1." in result.text
    assert "Answered only in Seller Central (marked with 'hygiene replied'): 1." in result.text
    assert "Median response time: 5 h 30 m." in result.text  # 2 h by mail, 9 h in Seller Central


def test_packaged_demo_matches_its_manifest(isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    manifest = json.loads((DEMO_DIR / "manifest.json").read_text(encoding="utf-8"))
    mail = DEMO_DIR / "mail"
    files = files_under(mail)
    assert len([p for p in files if p.suffix == ".eml"]) >= 60
    raw = b"".join(p.read_bytes() for p in files)
    assert b"charset=ISO-2022-JP" in raw and b"charset=shift_jis" in raw and b"text/html" in raw
    assert b"Auto-Submitted: auto-replied" in raw

    result = run_demo()
    # The generated weeks before the sample's last days (hygiene.demo.history): their few
    # never-answered messages join the check list as critical, their Seller Central answers
    # the manual marks; everything else the sample shows is unchanged.
    history = manifest_history(manifest, result.now)
    assert history is not None and history.weeks == 12
    never = sum(m.outcome == NO_RESPONSE for m in history.inbound)
    central = sum(mark.kind == "replied" for mark in history.marks)
    assert never >= 1 and central >= 1
    entries = [e for e in manifest_messages(manifest) if "expected_state" in e]
    assert len(entries) >= 40
    for entry in entries:
        mid = str(entry["message_id"]).strip("<>")
        expected = entry["expected_state"]
        if expected == "skipped":  # not from Amazon: no rule keeps it
            assert mid not in result.states
        else:
            assert result.states.get(mid) == expected, (entry["file"], expected, result.states.get(mid))
    states = set(result.states.values())
    assert {"pending", "due_soon", "late", "critical", "replied", "no_reply_needed", "outbound"} <= states
    assert result.check_exit_code == 4
    assert f"Answered only in Seller Central (marked with 'hygiene replied'): {2 + central}." in result.text
    for rule in ("references", "order_id", "case_id", "subject", "manual"):
        assert rule in result.text
    tone = result.text.split("Tone check of two sent replies", 1)[1]
    assert " polite " in tone and " ok " in tone and " angry " in tone and " block " in tone

    # The user's config must not matter: point HYGIENE_CONFIG at a broken file.
    broken = isolated_home / "broken.toml"
    broken.write_text("this is = not [valid toml\n")
    monkeypatch.setenv("HYGIENE_CONFIG", str(broken))
    started = time.perf_counter()
    cli_result = CliRunner().invoke(cli, ["demo"])
    elapsed = time.perf_counter() - started
    assert cli_result.exit_code == 0, cli_result.output + cli_result.stderr
    assert f"{14 + never} messages await a reply ({2 + never} critical, 4 late, 4 due soon, 4 pending)" in cli_result.output
    assert f"{len(history.messages)} are 12 weeks of history from 2026-08-28" in cli_result.output
    assert "Median response time" in cli_result.output
    assert not any((isolated_home / ".local" / "share").rglob("*.db"))  # nothing of the user's touched
    print(f"hygiene demo (CliRunner, in process): {elapsed:.2f} s")
    assert elapsed < 10
