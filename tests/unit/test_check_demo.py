"""``hygiene demo``: runs on its own throwaway database, touches nothing of the user's, and
shows what ``check`` would say at the demo clock."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from hygiene.cli import cli
from hygiene.demo import DEMO_DIR, manifest_messages, run_demo
from tests.unit.test_threads import BUYER, BUYER2, NOW, PERF, Mailbox


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
    if not (DEMO_DIR / "manifest.json").exists():
        pytest.skip("the packaged demo mailbox is not there yet (src/hygiene/demo/mail, manifest.json)")
    # The user's config must not matter: point HYGIENE_CONFIG at a broken file.
    broken = isolated_home / "broken.toml"
    broken.write_text("this is = not [valid toml\n")
    monkeypatch.setenv("HYGIENE_CONFIG", str(broken))
    started = time.perf_counter()
    result = CliRunner().invoke(cli, ["demo"])
    elapsed = time.perf_counter() - started
    assert result.exit_code == 0, result.output + result.stderr
    assert "await" in result.output and "Median response time" in result.output
    assert elapsed < 10
    # Nothing written to the XDG config, data or state directories.
    for sub in (".config", ".local/share", ".local/state"):
        assert files_under(isolated_home / sub) == []

    demo = run_demo()
    expected = {}
    for entry in manifest_messages(json.loads((DEMO_DIR / "manifest.json").read_text(encoding="utf-8"))):
        state = entry.get("expected_state") or entry.get("state")
        mid = str(entry.get("message_id") or "").strip().strip("<>")
        if state and mid:
            expected[mid] = state
    assert expected, "the manifest names no expected states"
    got = {mid: demo.states.get(mid) for mid in expected}
    assert got == expected
