"""Fixtures for the real-server tests: one Dovecot per test session, a fresh mailbox per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import missing_server
from tests.dovecot import USERS, Dovecot, private_dovecot, unavailable_reason


@pytest.fixture(scope="session")
def dovecot_server() -> Iterator[Dovecot]:
    reason = unavailable_reason()
    if reason:
        missing_server(f"Dovecot IMAP server ({reason})")
    with private_dovecot() as server:
        yield server


@pytest.fixture
def mailbox(dovecot_server: Dovecot) -> Dovecot:
    """A fresh, empty mailbox (INBOX, Sent with \\Sent, Trash) on the session's Dovecot."""
    return dovecot_server.add_user(next(USERS))


@pytest.fixture
def new_mailbox(dovecot_server: Dovecot) -> Callable[[], Dovecot]:
    """Makes a fresh, empty mailbox at each call (a property test wants one per example)."""
    return lambda: dovecot_server.add_user(next(USERS))


@pytest.fixture
def imap_config(mailbox: Dovecot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A config file for that mailbox, as a seller would write it (password from the env)."""
    monkeypatch.setenv("TEST_IMAP_PASSWORD", mailbox.password)
    path = tmp_path / "config.toml"
    path.write_text(
        f"""
[database]
url = "sqlite:///{tmp_path / 'hygiene.db'}"

[[accounts]]
name = "jp"
host = "127.0.0.1"
port = {mailbox.port}
tls = "none"
username = "{mailbox.user}"
password_env = "TEST_IMAP_PASSWORD"
timeout = 10
"""
    )
    monkeypatch.setenv("HYGIENE_CONFIG", str(path))
    return path
