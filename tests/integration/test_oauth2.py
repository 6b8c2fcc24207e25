"""OAuth2 sign-in (issue 13, item 3): XOAUTH2 and OAUTHBEARER against a minimal loopback IMAP
server that accepts one known token; the token is never shown, a rejected one is one line."""

from __future__ import annotations

import base64
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from hygiene.config import load_config
from hygiene.errors import ConfigError, MailSourceError
from hygiene.mail.imap import connect

TOKEN = "ya29.test-token-0123456789"
USER = "shop@example.jp"


class FakeOAuthIMAP:
    """Greeting, CAPABILITY, AUTHENTICATE XOAUTH2 / OAUTHBEARER (a continuation, then the
    base64 response), NOOP and LOGOUT: just what a sign-in needs."""

    def __init__(self) -> None:
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(4)
        self.port = int(self.listener.getsockname()[1])
        self.seen: list[str] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._session, args=(conn,), daemon=True).start()

    def _session(self, conn: socket.socket) -> None:
        caps = b"IMAP4rev1 AUTH=XOAUTH2 AUTH=OAUTHBEARER SASL-IR"
        reader = conn.makefile("rb")
        conn.sendall(b"* OK [CAPABILITY " + caps + b"] fake ready\r\n")
        try:
            while line := reader.readline():
                tag, _, rest = line.decode().strip().partition(" ")
                command = rest.split(" ")
                verb = command[0].upper()
                if verb == "CAPABILITY":
                    conn.sendall(b"* CAPABILITY " + caps + b"\r\n" + f"{tag} OK done\r\n".encode())
                elif verb == "AUTHENTICATE":
                    if len(command) > 2:  # SASL-IR: the response on the same line
                        payload = command[2]
                    else:
                        conn.sendall(b"+ \r\n")
                        payload = reader.readline().decode().strip()
                    decoded = base64.b64decode(payload).decode()
                    self.seen.append(f"{command[1].upper()} {decoded!r}")
                    if f"auth=Bearer {TOKEN}\x01" in decoded and USER in decoded:
                        conn.sendall(f"{tag} OK [CAPABILITY {caps.decode()}] signed in\r\n".encode())
                    else:
                        conn.sendall(f"{tag} NO [AUTHENTICATIONFAILED] Invalid credentials\r\n".encode())
                elif verb == "LOGOUT":
                    conn.sendall(b"* BYE bye\r\n" + f"{tag} OK done\r\n".encode())
                    return
                else:
                    conn.sendall(f"{tag} OK done\r\n".encode())
        finally:
            conn.close()

    def stop(self) -> None:
        self.listener.close()


@pytest.fixture
def server() -> Iterator[FakeOAuthIMAP]:
    fake = FakeOAuthIMAP()
    try:
        yield fake
    finally:
        fake.stop()


def config(tmp_path: Path, port: int, command: str, mechanism: str = "XOAUTH2") -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f'[[accounts]]\nname = "gmail"\nhost = "127.0.0.1"\nport = {port}\ntls = "none"\nusername = "{USER}"\n'
        f'oauth2_token_command = "{command}"\noauth2_mechanism = "{mechanism}"\ntimeout = 5\n'
    )
    return path


@pytest.mark.parametrize("mechanism", ["XOAUTH2", "OAUTHBEARER"])
def test_sign_in_with_a_token_from_the_command(server: FakeOAuthIMAP, tmp_path: Path, mechanism: str) -> None:
    account = load_config(config(tmp_path, server.port, f"echo {TOKEN}", mechanism), required=True).accounts[0]
    client = connect(account)
    client.logout()
    assert server.seen and server.seen[-1].startswith(mechanism)


def test_a_refused_token_is_one_line_without_the_token(server: FakeOAuthIMAP, tmp_path: Path) -> None:
    account = load_config(config(tmp_path, server.port, "echo ya29.expired-token"), required=True).accounts[0]
    with pytest.raises(MailSourceError) as caught:
        connect(account)
    text = str(caught.value)
    assert "gmail: OAuth2 sign-in (XOAUTH2) refused for shop@example.jp" in text and "Invalid credentials" in text
    assert "ya29" not in text and "\n" not in text


def test_a_failing_token_command_never_shows_its_output(tmp_path: Path) -> None:
    account = load_config(config(tmp_path, 1, "echo ya29.secret-in-output; exit 3"), required=True).accounts[0]
    with pytest.raises(ConfigError, match="oauth2_token_command: 'echo ya29.secret-in-output; exit 3' failed with exit code 3") as caught:
        account.oauth2_token()
    assert str(caught.value).count("ya29") == 1  # the command line (config), not what it printed


def test_one_sign_in_method_per_account(tmp_path: Path) -> None:
    path = config(tmp_path, 1, "echo x")
    path.write_text(path.read_text() + 'password_env = "P"\n')
    with pytest.raises(ConfigError, match="both password_env and oauth2_token_command are set"):
        load_config(path, required=True)
    path.write_text(path.read_text().replace('password_env = "P"\n', "").replace('"XOAUTH2"', '"PLAIN"'))
    with pytest.raises(ConfigError, match="oauth2_mechanism"):
        load_config(path, required=True)
