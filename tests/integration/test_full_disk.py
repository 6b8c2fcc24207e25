"""A full or read-only file system is one clear line, and the data stays consistent (issue 7,
item 8). Uses a small tmpfs, which needs root (CI runs as root; elsewhere these are skipped
unless HYGIENE_REQUIRE_SERVERS=1 asks for every real part)."""

from __future__ import annotations

import gc
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from hygiene.cli import cli
from tests.builders import IMAP_BUYER, eml
from tests.conftest import missing_server


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        missing_server(f"a tmpfs mount ({done.stderr.decode(errors='replace').strip()})")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def remount(mount: Path, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", str(mount)], check=True)


def write_mail(folder: Path, n: int) -> None:
    folder.mkdir()
    for i in range(n):
        (folder / f"{i}.eml").write_bytes(eml(IMAP_BUYER, "shop@example.jp", f"質問 {i}", "本文です。" * 600, mid=f"d{i}@amazon"))


def test_a_full_disk_is_one_line_and_the_database_stays_consistent(tmpfs: Path, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    db = tmpfs / "hygiene.db"
    config.write_text(f'[database]\nurl = "sqlite:///{db}"\n[poll]\nbatch_size = 20\n')
    mail = tmp_path / "mail"
    write_mail(mail, 200)  # about 2.4 MB of text: more than the 1 MB file system holds
    runner = CliRunner()
    result = runner.invoke(cli, ["--config", str(config), "import", str(mail)])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert result.stderr.count("\n") == 1 and "full" in result.stderr, result.stderr
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = conn.execute("SELECT count(*) FROM messages").fetchone()[0]
    assert stored % 20 == 0  # whole batches only: nothing half-written
    # room again: the same import completes, nothing twice
    remount(tmpfs, "size=64m")
    again = runner.invoke(cli, ["--config", str(config), "import", "--json", str(mail)])
    assert again.exit_code == 0, again.output
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*), count(DISTINCT message_id) FROM messages").fetchone() == (200, 200)


def test_a_read_only_state_directory_is_one_line(tmpfs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    remount(tmpfs, "ro")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmpfs / "state"))
    monkeypatch.setenv("PW", "x")
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "h.db"}"\n'
        '[[accounts]]\nname = "jp"\nhost = "127.0.0.1"\nport = 1\ntls = "none"\nusername = "u"\npassword_env = "PW"\n'
    )
    result = CliRunner().invoke(cli, ["--config", str(config), "poll"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output and result.stderr.count("\n") == 1
    assert "Read-only file system" in result.stderr and str(tmpfs) in result.stderr


def test_a_database_on_a_read_only_file_system_is_one_line(tmpfs: Path, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmpfs / "hygiene.db"}"\n')
    mail = tmp_path / "mail"
    write_mail(mail, 3)
    assert CliRunner().invoke(cli, ["--config", str(config), "import", str(mail)]).exit_code == 0
    gc.collect()  # the in-process run's engine still holds the file open: a busy mount
    remount(tmpfs, "ro")
    # (a WAL database cannot even be read when its directory is read-only: check says so too)
    for args in (["dismiss", "1", "--reason", "x"], ["import", str(mail)], ["check", "--no-poll"]):
        result = CliRunner().invoke(cli, ["--config", str(config), *args])
        assert result.exit_code == 1, (args, result.output)
        assert "Traceback" not in result.output and result.stderr.count("\n") == 1, (args, result.stderr)
        assert "is read-only" in result.stderr
