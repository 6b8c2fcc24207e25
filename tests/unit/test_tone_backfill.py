"""Migration 0004: sent mail stored before tone scoring existed is scored once, as polling
scores it; auto-replies and mail already scored are left alone; running it again changes
nothing."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime

from sqlalchemy import Connection, text

from hygiene.config import default_config
from hygiene.mail.ingest import sent_tone
from hygiene.store.db import current_revision, make_engine, upgrade

POLITE = "いつもお世話になっております。ご連絡ありがとうございます。"
RUDE = "バカ野郎"


def _insert(conn: Connection, n: int, direction: str, body: str, *, auto: bool = False, score: float | None = None) -> None:
    stamp = datetime(2026, 11, 19, 1, 0, tzinfo=UTC).replace(tzinfo=None)
    conn.execute(
        text(
            "INSERT INTO messages (id, account, folder, fingerprint, source, received_at, flags, seen,"
            " answered, direction, category, needs_reply, auto_reply, body_text, size, stored_at, tone_score)"
            " VALUES (:id, 'jp', 'Sent', :fp, 'imap', :t, '', 0, 0, :d, 'outbound', 0, :auto, :body, 2, :t, :score)"
        ),
        {"id": n, "fp": f"f{n}", "t": stamp, "d": direction, "auto": auto, "body": body, "score": score},
    )


def test_0004_scores_old_sent_mail_once(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    upgrade(engine, "0003")
    with engine.begin() as conn:
        _insert(conn, 1, "outbound", POLITE)
        _insert(conn, 2, "outbound", RUDE + "\n\n> 引用された元のメール")
        _insert(conn, 3, "outbound", RUDE, auto=True)  # an auto-reply: never scored
        _insert(conn, 4, "outbound", RUDE, score=88.0)  # already scored: kept
        _insert(conn, 5, "inbound", RUDE)  # not the seller's
        _insert(conn, 6, "outbound", "> only a quote")  # nothing of the seller's own
    upgrade(engine, "0004")
    assert current_revision(engine) == "0004"
    with engine.connect() as conn:
        rows = {r.id: (r.tone_score, r.tone_verdict) for r in conn.execute(text("SELECT id, tone_score, tone_verdict FROM messages"))}
    config = default_config()
    assert rows[1] == sent_tone(POLITE, config)
    assert rows[2] == sent_tone(RUDE, config) and rows[2][1] == "block"
    assert rows[3] == (None, None) and rows[5] == (None, None) and rows[6] == (None, None)
    assert rows[4] == (88.0, None)

    migration = importlib.import_module("hygiene.migrations.versions.0004_figures_tone_backfill")
    with engine.begin() as conn:
        assert migration.backfill_tone(conn, batch=2) == 0  # idempotent: nothing left to score
