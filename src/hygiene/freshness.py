"""How fresh each account's data is: a check on data that stopped syncing must not say
"clear". Pure functions of the folders' sync state (no database, no clock of their own)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol


class FolderSync(Protocol):
    account: str
    role: str
    last_sync_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None


@dataclass(frozen=True)
class AccountFreshness:
    name: str
    #: when every folder of the account last synced successfully (the oldest of them);
    #: None when one never did
    last_success_at: datetime | None
    #: the newest error not followed by a successful sync of its folder
    error: str | None
    stale: bool

    def age(self, now: datetime) -> timedelta | None:
        return None if self.last_success_at is None else now - self.last_success_at

    def as_json(self, now: datetime) -> dict[str, Any]:
        age = self.age(now)
        return {
            "name": self.name,
            "last_success_at": self.last_success_at.isoformat() if self.last_success_at else None,
            "age_seconds": None if age is None else int(age.total_seconds()),
            "stale": self.stale,
            "error": self.error,
        }


def account_freshness(
    states: Iterable[FolderSync], accounts: Sequence[str], now: datetime, stale_after: timedelta
) -> list[AccountFreshness]:
    """One entry per configured account, in config order. An account is stale when a folder
    never synced or the oldest successful sync is older than ``stale_after``."""
    by_account: dict[str, list[FolderSync]] = {name: [] for name in accounts}
    for state in states:
        if state.account in by_account and state.role != "import":
            by_account[state.account].append(state)
    out = []
    for name in accounts:
        folders = by_account[name]
        synced = [f.last_sync_at for f in folders]
        last = None if not synced or any(t is None for t in synced) else min(t for t in synced if t is not None)
        failing = [
            f for f in folders
            if f.last_error and f.last_error_at is not None and (f.last_sync_at is None or f.last_error_at >= f.last_sync_at)
        ]
        failing.sort(key=lambda f: f.last_error_at or now)
        error = failing[-1].last_error if failing else None
        stale = last is None or now - last > stale_after
        out.append(AccountFreshness(name, last, error, stale))
    return out


def describe_age(age: timedelta) -> str:
    """'3 d 4 h', '5 h 12 min', '40 min', 'moments'."""
    minutes = int(age.total_seconds() // 60)
    if minutes < 1:
        return "moments"
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min"


def sync_phrase(age: timedelta | None) -> str:
    """'last successful sync 3 d 4 h ago', or 'never synced successfully'."""
    return "never synced successfully" if age is None else f"last successful sync {describe_age(age)} ago"


def stale_line(fresh: AccountFreshness, now: datetime) -> str:
    """One line for a stale account: 'jp: last successful sync 3 d 4 h ago (error: …)'."""
    when = sync_phrase(fresh.age(now))
    return f"{fresh.name}: {when}" + (f" (error: {fresh.error})" if fresh.error else "")
