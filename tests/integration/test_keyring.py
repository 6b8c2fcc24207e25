"""Passwords from the system keyring (issue 13, item 4): `password_keyring = "service/user"`,
tested with an in-memory keyring backend and keyring's own failing backend, and a real poll."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from click.testing import CliRunner
from keyring.backend import KeyringBackend
from keyring.backends import fail

from hygiene.cli import cli
from hygiene.config import load_config
from hygiene.errors import ConfigError
from tests.dovecot import Dovecot


class MemoryKeyring(KeyringBackend):
    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.store.pop((service, username), None)


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    before = keyring.get_keyring()
    ring = MemoryKeyring()
    keyring.set_keyring(ring)
    try:
        yield ring
    finally:
        keyring.set_keyring(before)


def keyring_config(imap_config: Path, entry: str) -> None:
    text = re.sub(r'(?m)^password_(env|keyring) = ".*"$', f'password_keyring = "{entry}"', imap_config.read_text())
    imap_config.write_text(text)


def test_a_poll_with_the_password_from_the_keyring(mailbox: Dovecot, imap_config: Path, memory_keyring: MemoryKeyring) -> None:
    keyring_config(imap_config, f"imap.test/{mailbox.user}")
    memory_keyring.set_password("imap.test", mailbox.user, mailbox.password)
    result = CliRunner().invoke(cli, ["poll"])
    assert result.exit_code == 0, result.output
    assert re.match(r"jp: INBOX \+0", result.stdout)


def test_keyring_errors_are_one_line_without_the_secret(imap_config: Path, memory_keyring: MemoryKeyring) -> None:
    keyring_config(imap_config, "imap.test/shop@example.jp")
    account = load_config(imap_config, required=True).accounts[0]
    with pytest.raises(ConfigError, match=r"password_keyring: no password stored for service 'imap.test', user 'shop@example.jp'; store it: keyring set imap.test shop@example.jp"):
        account.password()
    keyring.set_keyring(fail.Keyring())
    with pytest.raises(ConfigError, match="the system keyring could not be read"):
        account.password()
    for bad in ("no-slash", "/user", "service/"):
        keyring_config(imap_config, bad)
        with pytest.raises(ConfigError, match='must be "service/user"'):
            load_config(imap_config, required=True)
    keyring_config(imap_config, "a/b")
    imap_config.write_text(imap_config.read_text().replace('password_keyring = "a/b"', 'password_keyring = "a/b"\npassword_command = "echo x"'))
    with pytest.raises(ConfigError, match="both password_command and password_keyring are set"):
        load_config(imap_config, required=True)
