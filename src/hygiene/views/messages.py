"""Pure rendering of message lists and sync status (tests assert on these strings). Text from
mail and from the server goes through :func:`hygiene.safe_text.safe`; the dicts stay exact."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from hygiene.freshness import sync_phrase
from hygiene.safe_text import safe
from hygiene.views.columns import mail_cell, pad

if TYPE_CHECKING:  # the shape of the rows given; views never import the store at run time
    from hygiene.store.messages import FolderState


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def message_dict(r: Any) -> dict[str, Any]:
    """One row of ``messages --json``."""
    return {
        "id": r.id,
        "account": r.account,
        "folder": r.folder,
        "direction": r.direction,
        "category": r.category,
        "from": r.from_addr,
        "from_name": r.from_name,
        "subject": r.subject,
        "received_at": _iso(r.received_at),
        "parse_note": r.parse_note,
    }


def message_dicts(rows: Iterable[Any]) -> list[dict[str, Any]]:
    return [message_dict(r) for r in rows]


def message_line(r: Any) -> str:
    """One line of ``messages``."""
    when = r.received_at.strftime("%Y-%m-%d %H:%M") if r.received_at else "-"
    note = f"  [note: {safe(r.parse_note)}]" if r.parse_note else ""
    return (
        f"{r.id:>6}  {when}  {pad(safe(r.account), 8)} {r.direction:<8} {r.category:<14} "
        f"{mail_cell(r.from_addr, 32)}  {mail_cell(r.subject, 60, fill=False)}{note}"
    )


def render_messages(rows: Iterable[Any]) -> str:
    return "\n".join(message_line(r) for r in rows)


def status_dict(
    states: Sequence[FolderState], configured: Sequence[str], sync: Mapping[str, dict[str, Any]] | None = None
) -> dict[str, Any]:
    """``sync``: per configured account, its freshness (hygiene.freshness.AccountFreshness.as_json)."""
    accounts: dict[str, list[dict[str, Any]]] = {name: [] for name in configured}
    for s in states:
        accounts.setdefault(s.account, []).append(
            {
                "name": s.name,
                "role": s.role,
                "messages": s.messages,
                "uidvalidity": s.uidvalidity,
                "highest_uid": s.highest_uid,
                "highestmodseq": s.highestmodseq,
                "last_sync_at": _iso(s.last_sync_at),
                "last_error": s.last_error,
                "last_error_at": _iso(s.last_error_at),
            }
        )
    out = []
    for name, folders in accounts.items():
        entry: dict[str, Any] = {"name": name, "folders": folders}
        if sync and name in sync:
            entry["sync"] = sync[name]
        out.append(entry)
    return {"accounts": out}


def render_status(data: dict[str, Any]) -> str:
    lines = []
    for account in data["accounts"]:
        lines.append(f"{safe(account['name'])}:")
        sync = account.get("sync")
        if sync and sync["stale"]:
            age = sync["age_seconds"]
            when = sync_phrase(None if age is None else timedelta(seconds=age))
            lines.append(f"  STALE: {when}" + (f"; failing: {safe(sync['error'])}" if sync["error"] else ""))
        if not account["folders"]:
            lines.append("  (never synced)")
        for f in account["folders"]:
            synced = f["last_sync_at"] or "never"
            line = f"  {pad(safe(f['name']), 20)} {f['messages']:>7} messages  uidvalidity {f['uidvalidity'] or '-'}  last sync {synced}"
            if f["last_error"]:
                line += f"  ERROR: {safe(f['last_error'])}"
            lines.append(line)
    return "\n".join(lines) if lines else "no accounts configured and nothing stored"
