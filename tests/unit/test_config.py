from __future__ import annotations

import stat
from pathlib import Path

import pytest

from hygiene.config import load_config, parse_config, write_starter_config
from hygiene.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]

GOOD = """
[[accounts]]
name = "jp"
host = "imap.example.jp"
username = "shop@example.jp"
password_env = "JP_IMAP_PASSWORD"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_example_config_is_valid() -> None:
    config = load_config(REPO / "config.example.toml")
    assert [a.name for a in config.accounts] == ["jp"]
    assert config.accounts[0].port == 993
    assert config.deadline("buyer").due_hours == 24


def test_defaults_for_minimal_account(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD))
    account = config.accounts[0]
    assert (account.tls, account.port, account.folders) == ("ssl", 993, ("INBOX",))
    assert config.database.url.endswith("hygiene/hygiene.db")
    assert config.keep_other is False


@pytest.mark.parametrize(
    ("text", "key", "fragment"),
    [
        (GOOD.replace('host = "imap.example.jp"\n', ""), "accounts[0].host", "missing"),
        (GOOD + 'tls = "tsl"\n', "accounts[0].tls", "unknown value 'tsl'"),
        (GOOD + 'tls = "none"\n', "accounts[0].tls", "refused"),
        (GOOD + "port = \"993\"\n", "accounts[0].port", "must be an integer"),
        (GOOD + "prot = 993\n", "accounts[0].prot", "did you mean 'port'"),
        ("keep_othr = true\n" + GOOD, "keep_othr", "did you mean 'keep_other'"),
        (GOOD + '\n[deadlines.buyer]\ndue_hours = "soon"\n', "deadlines.buyer.due_hours", "must be a number"),
        ('[database]\nurl = "hygiene.db"\n', "database.url", "not a database URL"),
        (GOOD + 'ca_file = "missing-ca.pem"\n', "accounts[0].ca_file", "no such file"),
        (GOOD + "\n[deadlines]\ndue_hours = 30\ncritical_hours = 10\n", "deadlines.critical_hours", "earlier than due_hours"),
    ],
)
def test_bad_config_names_file_key_and_fix(tmp_path: Path, text: str, key: str, fragment: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert str(path) in message
    assert f": {key}:" in message
    assert fragment in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("text", "key"),
    [
        (GOOD + "timeout = nan\n", "accounts[0].timeout"),
        (GOOD + "timeout = inf\n", "accounts[0].timeout"),
        (GOOD + "timeout = -inf\n", "accounts[0].timeout"),
        (GOOD + "timeout = 1e400\n", "accounts[0].timeout"),  # TOML reads it as inf
        (GOOD + "timeout = 0\n", "accounts[0].timeout"),
        (GOOD + "timeout = -5\n", "accounts[0].timeout"),
        (GOOD + "timeout = 86400\n", "accounts[0].timeout"),
        (GOOD + "\n[deadlines]\nwarn_hours = nan\n", "deadlines.warn_hours"),
        (GOOD + "\n[deadlines]\ndue_hours = 1e300\n", "deadlines.due_hours"),
        (GOOD + "\n[deadlines.buyer]\ncritical_hours = inf\n", "deadlines.buyer.critical_hours"),
        (GOOD + "\n[deadlines.buyer]\ndue_hours = -1\n", "deadlines.buyer.due_hours"),
        (GOOD + "\n[poll]\nbatch_size = 0\n", "poll.batch_size"),
        (GOOD + "\n[poll]\nbatch_size = 99999999999999999999\n", "poll.batch_size"),
        (GOOD + "port = 0\n", "accounts[0].port"),
    ],
)
def test_numbers_must_be_finite_and_in_range(tmp_path: Path, text: str, key: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert message.startswith(f"config error: {path}: {key}: must be ")
    assert "; e.g. " in message or "; use " in message  # a fix, not only the complaint
    assert "\n" not in message


def test_numbers_at_the_edges_of_their_range_are_accepted(tmp_path: Path) -> None:
    text = GOOD + "timeout = 3600\n\n[deadlines]\nwarn_hours = 0.5\ndue_hours = 8760\ncritical_hours = 8760\n"
    config = load_config(write(tmp_path, text))
    assert config.accounts[0].timeout == 3600.0
    assert config.deadline("buyer").critical_hours == 8760.0


def test_invalid_toml_is_one_line(tmp_path: Path) -> None:
    path = write(tmp_path, "[[accounts]\nname=")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_config(path)


def test_tls_none_allowed_on_loopback(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD.replace("imap.example.jp", "127.0.0.1") + 'tls = "none"\n'))
    assert config.accounts[0].port == 143


def test_password_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = load_config(write(tmp_path, GOOD))
    monkeypatch.delenv("JP_IMAP_PASSWORD", raising=False)
    with pytest.raises(ConfigError, match="password_env.*not set"):
        config.accounts[0].password()
    monkeypatch.setenv("JP_IMAP_PASSWORD", "s3cret")
    assert config.accounts[0].password() == "s3cret"

    cmd = GOOD.replace('password_env = "JP_IMAP_PASSWORD"', 'password_command = "printf \'pw1\\\\nmeta\\\\n\'"')
    assert load_config(write(tmp_path, cmd)).accounts[0].password() == "pw1"

    failing = GOOD.replace('password_env = "JP_IMAP_PASSWORD"', 'password_command = "echo nope >&2; exit 3"')
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, failing)).accounts[0].password()
    assert "accounts[0].password_command" in str(info.value) and "exit code 3" in str(info.value)


def test_user_rules_come_first(tmp_path: Path) -> None:
    text = GOOD + '\n[[classify.rules]]\ncategory = "account_health"\nfrom = ["boss@example.jp"]\n'
    config = parse_config(__import__("tomllib").loads(text), tmp_path / "c.toml")
    assert config.rules[0].from_ == ("boss@example.jp",)
    assert len(config.rules) > 1


def test_bad_rule_regex(tmp_path: Path) -> None:
    text = GOOD + '\n[[classify.rules]]\ncategory = "buyer"\nsubject = "("\n'
    with pytest.raises(ConfigError, match=r"classify.rules\[0\].subject: invalid regular expression"):
        load_config(write(tmp_path, text))


def test_starter_config_is_private_and_valid(tmp_path: Path) -> None:
    path = tmp_path / "cfg" / "config.toml"
    write_starter_config(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_config(path).accounts[0].name == "jp"
    with pytest.raises(ConfigError, match="already exists"):
        write_starter_config(path)


def test_ca_file_is_read_relative_to_the_config(tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    config = load_config(write(tmp_path, GOOD + 'ca_file = "ca.pem"\n'))
    assert config.accounts[0].ca_file == tmp_path / "ca.pem"


SECRET = "hunter2!Secret"


@pytest.mark.parametrize("value", [SECRET, "hunter2 secret", "9LIVES", "pass-word", "pässword"])
def test_password_env_that_is_not_a_variable_name_is_not_echoed(tmp_path: Path, value: str) -> None:
    path = write(tmp_path, GOOD.replace('"JP_IMAP_PASSWORD"', f'"{value}"'))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert value not in message
    assert message.startswith(f"config error: {path}: accounts[0].password_env: ")
    assert "must name an environment variable (letters, digits, _), not hold the password" in message


def test_database_url_is_not_echoed(tmp_path: Path) -> None:
    # A URL missing its "://" may still hold the database password.
    path = write(tmp_path, f'[database]\nurl = "postgresql//shop:{SECRET}@db/hygiene"\n')
    with pytest.raises(ConfigError, match="database.url: not a database URL") as info:
        load_config(path)
    assert SECRET not in str(info.value)


@pytest.mark.parametrize(
    ("command", "fragment"),
    [
        (f"echo 'wrong: {SECRET}' >&2; echo {SECRET}; exit 3", "failed with exit code 3"),
        (f"echo {SECRET} >&2; kill -9 $$", "was killed by signal 9"),
    ],
)
def test_failing_password_command_does_not_echo_its_output(tmp_path: Path, command: str, fragment: str) -> None:
    text = GOOD.replace('password_env = "JP_IMAP_PASSWORD"', f'password_command = "{command}"')
    account = load_config(write(tmp_path, text)).accounts[0]
    with pytest.raises(ConfigError) as info:
        account.password()
    message = str(info.value)
    assert "accounts[0].password_command" in message and fragment in message
    # The command line is config and is named; nothing it printed is.
    assert message.count(SECRET) == command.count(SECRET)


def test_password_command_timeout_is_one_line_without_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from hygiene import config as config_module

    monkeypatch.setattr(config_module, "PASSWORD_COMMAND_TIMEOUT_S", 0.5)
    text = GOOD.replace('password_env = "JP_IMAP_PASSWORD"', 'password_command = "echo out; exec sleep 5"')
    account = load_config(write(tmp_path, text)).accounts[0]
    with pytest.raises(ConfigError) as info:
        account.password()
    message = str(info.value)
    assert "did not finish within 0.5 s" in message and "out\n" not in message and "\n" not in message


def test_replies_auto_reply_patterns(tmp_path: Path) -> None:
    text = GOOD + '\n[replies]\nauto_reply_subjects = ["^受付のお知らせ"]\nauto_reply_bodies = "ご注文ありがとうございます。自動配信"\n'
    config = load_config(write(tmp_path, text))
    assert config.replies.auto_reply_subjects == ("^受付のお知らせ",)
    assert config.replies.auto_reply_bodies == ("ご注文ありがとうございます。自動配信",)
    assert load_config(write(tmp_path, GOOD)).replies.auto_reply_subjects == ()


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('[replies]\nauto_reply_subjects = ["ok", "("]\n', "replies.auto_reply_subjects[1]: invalid regular expression '('"),
        ('[replies]\nauto_reply_bodies = [""]\n', "replies.auto_reply_bodies[0]: must not be empty"),
        ("[replies]\nauto_reply_bodies = [1]\n", "replies.auto_reply_bodies: must be a string or a list of strings"),
        ('[replies]\nauto_reply_subject = ["x"]\n', "replies.auto_reply_subject: unknown key"),
    ],
)
def test_bad_replies_patterns_are_one_line(tmp_path: Path, text: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, GOOD + "\n" + text))
    assert fragment in str(info.value) and "\n" not in str(info.value)
