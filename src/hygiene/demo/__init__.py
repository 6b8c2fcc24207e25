"""``hygiene demo``: the product at work on a packaged sample mailbox, in seconds.

The sample is two parts, imported into a throwaway SQLite database in a temporary directory
under the account ``demo``, with the fixed clock of ``manifest.json``:

- ``mail/INBOX`` and ``mail/Sent`` (written by ``scripts/make_demo_mail.py``): the mailbox as
  it stands on the last three days, with the state each message must be in at the clock;
- the 12 weeks before, generated in memory at every run from the seed of the manifest's
  ``history`` entry (:mod:`hygiene.demo.history`), so that response-time figures have weeks
  to work on. Its messages take the same ingest path (parse → classify → store).

The replies the manifest (and the history) say were made only in Seller Central are marked
as ``hygiene replied`` would, and the history's thank-you notes dismissed as ``hygiene
dismiss`` would; then replies are matched and the check list is rendered as ``hygiene
check`` would print it at that clock. Nothing of the user's config or data is read or
written.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from datetime import tzinfo

    from hygiene.demo.history import History
    from hygiene.figures import Figures

DEMO_DIR = Path(__file__).parent
DEFAULT_NOW = "2026-11-20T09:00:00+09:00"
DEFAULT_TIMEZONE = "Asia/Tokyo"

#: manifest keys (per message) that may say it was answered only in Seller Central
_SELLER_CENTRAL_KEYS = ("seller_central_reply_at", "seller_central_replied_at", "seller_central", "answered_in_seller_central", "seller_central_only")


@dataclass
class DemoResult:
    text: str
    now: datetime
    #: Message-ID (without <>) → state at the demo clock
    states: dict[str, str] = field(default_factory=dict)
    check_exit_code: int = 0
    #: the sample's record at the demo clock (what ``hygiene dashboard`` draws), and its zone
    figures: Figures | None = field(default=None, repr=False)
    tz: tzinfo | None = field(default=None, repr=False)

    def dashboard(self, width: int, height: int, color: bool) -> str:
        """The dashboard of the sample mailbox (the demo ends with it)."""
        from hygiene.views.dashboard import render_dashboard

        if self.figures is None or self.tz is None:
            return ""
        return render_dashboard(self.figures, self.tz, width, height, color)


def load_manifest(path: Path | None = None) -> dict[str, Any]:
    path = path or DEMO_DIR / "manifest.json"
    if not path.exists():
        return {}
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def manifest_messages(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """The per-message entries, whether the manifest holds them as a list or a mapping."""
    entries = manifest.get("messages", [])
    if isinstance(entries, dict):
        return [{"file": name, **value} for name, value in entries.items()]
    return list(entries)


def _message_id(entry: dict[str, Any]) -> str | None:
    value = entry.get("message_id") or entry.get("message-id")
    return str(value).strip().strip("<>") if value else None


def _seller_central_reply(entry: dict[str, Any], received_now: datetime) -> datetime | None:
    for key in _SELLER_CENTRAL_KEYS:
        value = entry.get(key)
        if not value:
            continue
        if isinstance(value, str):
            return datetime.fromisoformat(value).astimezone(UTC)
        if isinstance(value, dict) and value.get("at"):
            return datetime.fromisoformat(str(value["at"])).astimezone(UTC)
        return received_now  # a bare true: replied, time unknown
    return None


def run_demo(mail_dir: Path | None = None, manifest_path: Path | None = None) -> DemoResult:
    """Run the demo in a temporary directory and return what it shows."""
    from hygiene.clock import zone
    from hygiene.config import Config, DatabaseConfig
    from hygiene.deadlines import check_report
    from hygiene.demo.history import apply_marks, load_history
    from hygiene.figures import compute_figures
    from hygiene.mail.importer import import_paths
    from hygiene.store.db import open_database
    from hygiene.store.messages import direction_counts, ids_by_message_id, reply_states
    from hygiene.store.replies import reply_summary
    from hygiene.threads import mark_replied, match_replies
    from hygiene.views.check import render_check, render_demo_summary

    mail_dir = mail_dir or DEMO_DIR / "mail"
    manifest = load_manifest(manifest_path or (mail_dir.parent / "manifest.json"))
    now = datetime.fromisoformat(str(manifest.get("now", DEFAULT_NOW))).astimezone(UTC)
    history = manifest_history(manifest, now)
    account = str(manifest.get("account", "demo"))
    tz_name = str(manifest.get("timezone", DEFAULT_TIMEZONE))
    tz = zone(tz_name)

    with tempfile.TemporaryDirectory(prefix="hygiene-demo-") as tmp:
        config = Config(path=None, database=DatabaseConfig(url=f"sqlite:///{Path(tmp) / 'demo.db'}"), timezone=tz_name)
        engine = open_database(config.database.url)
        try:
            stats = import_paths(engine, config, [mail_dir], now=now, account=account)
            if history is not None:
                stats.add(load_history(engine, config, history, now=now, account=account))
            with engine.begin() as conn:
                match_replies(conn, account, tz=tz)
                ids = ids_by_message_id(conn, account)
                manual = 0
                for entry in manifest_messages(manifest):
                    at = _seller_central_reply(entry, now)
                    mid = _message_id(entry)
                    if at is not None and mid in ids:
                        mark_replied(conn, ids[mid], at)
                        manual += 1
                if history is not None:
                    manual += apply_marks(conn, history, ids)[0]
            with engine.connect() as conn:
                report = check_report(conn, config, now, account, with_totals=True)
                by_rule, seconds = reply_summary(conn, account)
                counts = direction_counts(conn, account)
                states = _states(reply_states(conn, account), report)
                figures = compute_figures(conn, config, now)
        finally:
            engine.dispose()

    sections = [
        f"hygiene demo — a sample seller mailbox, checked as 'hygiene check' would at {now.astimezone(tz):%Y-%m-%d %H:%M %Z}",
        "(a throwaway database in a temporary directory; your config and data are not touched)",
        "",
        render_check(report, tz, verbose=True),
        "",
        render_demo_summary(
            messages=stats.new + stats.existing,
            inbound=counts.get("inbound", 0),
            outbound=counts.get("outbound", 0),
            by_rule=by_rule,
            response_seconds=seconds,
            manual=manual,
        ),
        f"'hygiene check' would exit {report.exit_code} (0 clear, 3 something late, 4 something critical).",
    ]
    if history is not None:
        sections.insert(-1, _history_line(history, tz))
    tone = _tone_section(mail_dir, manifest)
    if tone:
        sections += ["", tone]
    sections += [
        "",
        "Your own mail:",
        "  hygiene init               write a starter config (then add your IMAP account)",
        "  hygiene poll               copy your Amazon mail and your replies into the local database",
        "  hygiene check              what awaits your reply; for cron: 0 8 * * * hygiene check",
        "  hygiene show ID            one message, its thread and timeline",
        "  hygiene replied ID --at 'yesterday 18:00'   answered in Seller Central",
        "  hygiene dashboard          your record at a glance (below: the sample's); hygiene report: as data",
    ]
    return DemoResult(
        text="\n".join(sections), now=now, states=states, check_exit_code=report.exit_code, figures=figures, tz=tz
    )


def manifest_history(manifest: dict[str, Any], now: datetime) -> History | None:
    """The generated weeks the manifest asks for (``"history": {"seed": N, "weeks": W}``),
    ending at the demo clock; None when it asks for none."""
    from hygiene.demo.history import DEFAULT_SEED, WEEKS, generate_history

    spec = manifest.get("history")
    if not spec:
        return None
    if not isinstance(spec, dict):
        spec = {}
    return generate_history(int(spec.get("seed", DEFAULT_SEED)), now=now, weeks=int(spec.get("weeks", WEEKS)))


def _history_line(history: History, tz: Any) -> str:
    from hygiene.demo.history import DISMISSED, LATE, NO_RESPONSE

    start = (history.now - timedelta(weeks=history.weeks)).astimezone(tz)
    inbound = history.inbound
    late = sum(m.outcome == LATE for m in inbound)
    missing = sum(m.outcome == NO_RESPONSE for m in inbound)
    dismissed = sum(m.outcome == DISMISSED for m in inbound)
    return (
        f"Of these, {len(history.messages)} are {history.weeks} weeks of history from {start:%Y-%m-%d} "
        f"(generated, seed {history.seed}): {late} answered after 24 h, {missing} never, {dismissed} dismissed."
    )


def _states(rows: Any, report: Any) -> dict[str, str]:
    """Message-ID → state at the demo clock, for every stored message (the states of
    'hygiene show', by the same rule)."""
    from hygiene.deadlines import NO_REPLY_NEEDED, message_state

    open_states: dict[int, str] = {item.id: item.state for item in report.items}

    def still_open(row: Any) -> str:
        return open_states.get(row.id, NO_REPLY_NEEDED)

    states: dict[str, str] = {}
    for row in rows:
        if row.message_id:
            states[row.message_id.strip().strip("<>")] = message_state(row, still_open)
    return states


def _tone_section(mail_dir: Path, manifest: dict[str, Any]) -> str:
    """The tone check of the sample's polite and angry sent replies."""
    from hygiene.tone import check_tone

    picks = [
        (str(entry.get("tone")), entry)
        for entry in manifest_messages(manifest)
        if entry.get("tone") in ("polite", "angry") and entry.get("file")
    ]
    if not picks:
        return ""
    from hygiene.mail.parse import parse_message
    from hygiene.safe_text import safe

    lines = ["Tone check of two sent replies (hygiene tone):"]
    for label, entry in sorted(picks, key=lambda p: p[0] != "polite"):
        path = mail_dir / str(entry["file"])
        if not path.exists():
            path = mail_dir.parent / str(entry["file"])
        if not path.exists():
            continue
        parsed = parse_message(path.read_bytes())
        result = check_tone(parsed.body_text, lang="auto", kind="reply")
        first = " ".join(safe(parsed.body_text).split())[:60]
        lines.append(f"  {label:<7} score {result.score:>5}  {result.verdict:<8} “{first}…”")
    return "\n".join(lines) if len(lines) > 1 else ""
