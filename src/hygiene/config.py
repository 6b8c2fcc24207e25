"""Typed configuration: lookup, TOML parsing and validation.

The file is read with :mod:`tomllib` and validated into frozen dataclasses. Every problem is
reported as one :class:`~hygiene.errors.ConfigError` naming the file, the key and the fix.
Unknown keys are rejected with a "did you mean" so typos do not silently do nothing.
"""

from __future__ import annotations

import difflib
import ipaddress
import math
import os
import re
import subprocess
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from datetime import datetime as datetime_type
from pathlib import Path
from typing import Any

from hygiene.errors import ConfigError
from hygiene.paths import default_database_path

CATEGORIES = ("account_health", "claim", "seller_support", "buyer", "notification", "other")
OUTBOUND = "outbound"
TLS_MODES = ("ssl", "starttls", "none")

#: Whether a message of each category expects an answer from the seller.
DEFAULT_NEEDS_REPLY = {
    "account_health": True,
    "claim": True,
    "seller_support": True,
    "buyer": True,
    "notification": False,
    "other": False,
}

DEFAULT_DUE_HOURS = 24.0
DEFAULT_CRITICAL_HOURS = 48.0
DEFAULT_WARN_HOURS = 6.0
#: Categories whose default deadlines are not the seller's own target but Amazon's window:
#: an A-to-z Guarantee claim or a chargeback is decided 72 h after it is filed (or when the
#: notice says). ``[deadlines] due_hours`` / ``critical_hours`` do not change these; only
#: ``[deadlines.claim]`` does.
CATEGORY_DEADLINES: dict[str, tuple[float, float]] = {"claim": (72.0, 72.0)}

#: Upper bounds for numeric keys: generous, but finite so that nothing overflows later.
MAX_HOURS = 24.0 * 365  # due_hours, critical_hours, warn_hours: a year
MAX_TIMEOUT_S = 3600.0  # an account's network timeout: an hour

#: What ``password_env`` may hold: a variable name, never the password.
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: How long ``password_command`` may take (a pinentry prompt included).
PASSWORD_COMMAND_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class ClassifyRule:
    """One classification rule: every condition given must match; the first rule wins.

    ``from_`` and ``to`` are shell-style patterns on lower-cased addresses (any may match);
    ``subject`` and ``body`` are regular expressions searched case-insensitively.
    """

    category: str
    from_: tuple[str, ...] = ()
    to: tuple[str, ...] = ()
    subject: str | None = None
    body: str | None = None


#: Amazon's own addresses: its registrable domains (amazon.co.jp, amazon.com, amazon.de, …,
#: every marketplace) and their subdomains; ``{suffix}`` is any public suffix (see
#: :mod:`hygiene.domains`), so amazon.co.jp.login-check.example is not Amazon's.
AMAZON = ("*@amazon.{suffix}", "*@*.amazon.{suffix}")


def _amazon(*locals_: str) -> tuple[str, ...]:
    return tuple(f"{local}@{domain}" for local in locals_ for domain in ("amazon.{suffix}", "*.amazon.{suffix}"))


#: A-to-z Guarantee claims and chargebacks, in English and Japanese (Amazonマーケットプレイス保証
#: is the A-to-z Guarantee's Japanese name).
CLAIM_SUBJECT = (
    r"\bA-to-z\b|\bA\s+to\s+z\s+(?:guarantee|claim)|マーケットプレイス保証|Aから\s*Z\s*保証|"
    r"\bcharge-?backs?\b|チャージバック"
)
#: A claim's decision or withdrawal is news, not a request: left to the rules below (notification).
CLAIM_NEWS = (
    r"^(?!.*(?:decision|decided|closed|withdrawn|cancell?ed|resolved|granted|denied|reversed|"
    r"決定|取り下げ|取下げ|終了|完了|キャンセル|却下|撤回))"
)

# Documented, in this order, in config.example.toml. First match wins.
DEFAULT_RULES: tuple[ClassifyRule, ...] = (
    ClassifyRule("buyer", from_=("*@marketplace.amazon.{suffix}",)),
    ClassifyRule("claim", from_=_amazon("*atoz*", "*a-to-z*", "*chargeback*"), subject=CLAIM_NEWS),
    ClassifyRule(
        "account_health",
        from_=(
            "seller-performance@amazon.{suffix}",
            "*performance*@amazon.{suffix}",
            "account-health*@amazon.{suffix}",
            "*account-specialist*@amazon.{suffix}",
        ),
    ),
    ClassifyRule(
        "seller_support",
        from_=("*seller-support*@amazon.{suffix}", "*sellersupport*@amazon.{suffix}", "*seller-central*@amazon.{suffix}"),
    ),
    ClassifyRule("claim", from_=AMAZON, subject=f"{CLAIM_NEWS}.*(?:{CLAIM_SUBJECT})"),
    ClassifyRule(
        "account_health",
        from_=AMAZON,
        subject=(
            r"アカウント.{0,12}(停止|閉鎖|無効|保留|健全性)|出品(権限|停止|制限)|改善計画|真贋|"
            r"知的財産|ポリシー違反|account (deactivat|suspen|health)|plan of action|"
            r"policy (warning|violation)|seller performance|authenticity|intellectual property"
        ),
    ),
    ClassifyRule(
        "seller_support",
        from_=AMAZON,
        subject=r"(ケース\s*ID|case\s*id|case\s*#)\s*[:：]?\s*\d{8,}",
    ),
    ClassifyRule(
        "seller_support",
        from_=AMAZON,
        body=r"(ケース\s*ID|case\s*id)\s*[:：]?\s*\d{8,}",
    ),
    ClassifyRule("notification", from_=AMAZON),
)

#: Outbound mail is kept when one of its recipients matches one of these.
DEFAULT_OUTBOUND_TO: tuple[str, ...] = AMAZON


@dataclass(frozen=True)
class DatabaseConfig:
    url: str
    keep_raw: bool = False


@dataclass(frozen=True)
class AccountConfig:
    name: str
    host: str
    username: str
    port: int = 993
    tls: str = "ssl"
    password_env: str | None = None
    password_command: str | None = None
    #: "service/user" in the system keyring (the optional extra hygiene[keyring])
    password_keyring: str | None = None
    #: a command printing an OAuth2 access token (Gmail, Microsoft 365): sign in with it
    #: (XOAUTH2 or OAUTHBEARER, ``oauth2_mechanism``) instead of a password
    oauth2_token_command: str | None = None
    oauth2_mechanism: str = "XOAUTH2"
    folders: tuple[str, ...] = ("INBOX",)
    sent_folder: str | None = None
    addresses: tuple[str, ...] = ()
    timeout: float = 30.0
    #: a CA bundle to trust instead of the system's (a self-hosted server, a private CA)
    ca_file: Path | None = None
    #: the receiving servers whose Authentication-Results are believed; empty: the topmost
    #: header's (the one the seller's own provider adds last)
    trusted_authserv_ids: tuple[str, ...] = ()
    #: index in the ``accounts`` array, for error messages
    index: int = 0
    config_path: Path | None = None

    def own_addresses(self) -> frozenset[str]:
        """Addresses that mark a message as the seller's own (outbound)."""
        found = {a.lower() for a in self.addresses}
        if "@" in self.username:
            found.add(self.username.lower())
        return frozenset(found)

    def oauth2_token(self) -> str:
        assert self.oauth2_token_command is not None
        return _secret_from_command(self.config_path, f"accounts[{self.index}].oauth2_token_command", self.oauth2_token_command)

    def password(self) -> str:
        """Resolve the password from the environment or a command, at the moment it is needed."""
        key_prefix = f"accounts[{self.index}]"
        if self.password_env:
            if not ENV_NAME.fullmatch(self.password_env):  # checked when parsing too; never echo it
                raise _password_env_error(self.config_path, f"{key_prefix}.password_env")
            value = os.environ.get(self.password_env)
            if value is None:
                raise ConfigError(
                    self.config_path,
                    f"{key_prefix}.password_env",
                    f"environment variable {self.password_env} is not set",
                    f"export {self.password_env}=... or use password_command",
                )
            return value
        if self.password_command:
            return _secret_from_command(self.config_path, f"{key_prefix}.password_command", self.password_command)
        if self.password_keyring:
            return _keyring_password(self.config_path, f"{key_prefix}.password_keyring", self.password_keyring)
        raise ConfigError(
            self.config_path,
            f"{key_prefix}",
            "no password source",
            'add password_env = "VAR" or password_command = "..."',
        )



def _secret_from_command(path: Path | None, key: str, command: str) -> str:
    """The first line a command prints (a password, an access token). Errors name the command
    (it is config) but nothing it printed: its output, even on stderr, may be the secret."""
    fix = "run it in a shell to see why"
    try:
        done = subprocess.run(command, shell=True, capture_output=True, text=True, timeout=PASSWORD_COMMAND_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise ConfigError(path, key, f"{command!r} did not finish within {PASSWORD_COMMAND_TIMEOUT_S:g} s", fix) from None
    except OSError as exc:
        raise ConfigError(path, key, f"could not run {command!r}: {exc.strerror or exc.__class__.__name__}", fix) from None
    if done.returncode < 0:
        raise ConfigError(path, key, f"{command!r} was killed by signal {-done.returncode}", fix)
    if done.returncode != 0:
        raise ConfigError(path, key, f"{command!r} failed with exit code {done.returncode}", fix)
    lines = done.stdout.splitlines()
    # Like pass(1): the first line is the secret.
    return lines[0] if lines else ""

def _keyring_password(path: Path | None, key: str, entry: str) -> str:
    """The password stored in the system keyring under ``service/user``."""
    service, _, user = entry.rpartition("/")
    try:
        import keyring
        import keyring.errors
    except ImportError:
        raise ConfigError(path, key, "the keyring package is not installed", "pip install 'hygiene[keyring]'") from None
    try:
        value = keyring.get_password(service, user)
    except keyring.errors.KeyringError as exc:
        raise ConfigError(path, key, f"the system keyring could not be read ({exc.__class__.__name__})", "unlock it, or use password_command") from None
    if value is None:
        raise ConfigError(path, key, f"no password stored for service {service!r}, user {user!r}", f"store it: keyring set {service} {user}")
    return value


def _password_env_error(path: Path | None, key: str) -> ConfigError:
    # Without the value: someone who wrote the password here would see it echoed in logs.
    return ConfigError(
        path,
        key,
        "must name an environment variable (letters, digits, _), not hold the password",
        'e.g. password_env = "JP_IMAP_PASSWORD", then export JP_IMAP_PASSWORD=...',
    )


@dataclass(frozen=True)
class Deadline:
    due_hours: float = DEFAULT_DUE_HOURS
    critical_hours: float = DEFAULT_CRITICAL_HOURS


@dataclass(frozen=True)
class ToneConfig:
    extra_aggressive: tuple[str, ...] = ()
    extra_polite: tuple[str, ...] = ()
    allow: tuple[str, ...] = ()


@dataclass(frozen=True)
class RepliesConfig:
    """Auto-replies recognised by their words, added to the defaults in
    :data:`hygiene.mail.parse.AUTO_REPLY_SUBJECTS` / ``AUTO_REPLY_BODIES`` (regular expressions)."""

    auto_reply_subjects: tuple[str, ...] = ()
    auto_reply_bodies: tuple[str, ...] = ()


#: the keys of ``[schedule.hours]``, Monday first (as :meth:`datetime.date.weekday`)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: working hours with ``[schedule]`` and no ``hours``: Monday to Friday, 09:00-18:00
DEFAULT_WORKDAY = ((9 * 60, 18 * 60),)
DEFAULT_WORKING_HOURS: tuple[tuple[tuple[int, int], ...], ...] = (DEFAULT_WORKDAY,) * 5 + ((), ())
DEFAULT_BUSINESS_TARGET_HOURS = 24.0
#: a country code as the holidays package takes it (ISO 3166-1 alpha-2, a few alpha-3)
COUNTRY = re.compile(r"[A-Z]{2,3}")
_SPAN_TEXT = re.compile(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*")


@dataclass(frozen=True)
class ScheduleConfig:
    """The seller's business-hours clock (``[schedule]``): the seller's own service target
    beside Amazon's 24/7 clock (see :mod:`hygiene.business`)."""

    #: per weekday, Monday first: working spans as (start, end) minutes after local midnight,
    #: in order, not overlapping; empty: a day off
    hours: tuple[tuple[tuple[int, int], ...], ...] = DEFAULT_WORKING_HOURS
    #: public holidays of this country (the holidays package); None: no public holiday
    country: str | None = "JP"
    #: a subdivision (state, province) of the country, for its own holidays
    subdivision: str | None = None
    extra_holidays: tuple[date, ...] = ()
    #: the seller's service target, in business hours
    target_hours: float = DEFAULT_BUSINESS_TARGET_HOURS
    config_path: Path | None = None


@dataclass(frozen=True)
class Config:
    path: Path | None
    database: DatabaseConfig
    accounts: tuple[AccountConfig, ...] = ()
    keep_other: bool = False
    timezone: str | None = None
    rules: tuple[ClassifyRule, ...] = DEFAULT_RULES
    outbound_to: tuple[str, ...] = DEFAULT_OUTBOUND_TO
    needs_reply: Mapping[str, bool] = field(default_factory=lambda: dict(DEFAULT_NEEDS_REPLY))
    deadlines: Mapping[str, Deadline] = field(default_factory=dict)
    warn_hours: float = DEFAULT_WARN_HOURS
    batch_size: int = 500
    #: an account whose last successful sync is older than this is flagged by check / status
    stale_after_hours: float = 24.0
    #: a Date header further than this ahead of the server's INTERNALDATE is not believed
    date_skew_minutes: float = 15.0
    tone: ToneConfig = field(default_factory=ToneConfig)
    replies: RepliesConfig = field(default_factory=RepliesConfig)
    #: 'hygiene check' warns of mail claiming to be Amazon received in the last this many
    #: days (0: no warning)
    suspicious_check_days: int = 7
    #: verify Amazon DKIM signatures ourselves when the receiving server gave no verdict
    verify_dkim: bool = True
    #: hygiene watch: the command run (item as JSON on stdin) when a message turns due soon,
    #: late or critical, and how often every account is polled anyway (seconds)
    watch_notify: str | None = None
    watch_interval: float = 300.0
    #: the business-hours clock; None (default): Amazon's 24/7 clock only
    schedule: ScheduleConfig | None = None

    def account(self, name: str) -> AccountConfig:
        for account in self.accounts:
            if account.name == name:
                return account
        known = ", ".join(a.name for a in self.accounts) or "none configured"
        raise ConfigError(self.path, "accounts", f"no account named {name!r}", f"known: {known}")

    def deadline(self, category: str) -> Deadline:
        found = self.deadlines.get(category)
        if found is not None:
            return found
        return Deadline(*CATEGORY_DEADLINES[category]) if category in CATEGORY_DEADLINES else Deadline()


def default_config(path: Path | None = None) -> Config:
    """The configuration used when no file exists: no accounts, default database."""
    return Config(path=path, database=DatabaseConfig(url=sqlite_url(default_database_path())))


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


# --------------------------------------------------------------------------- validation


class _Table:
    """A TOML table being validated: typed getters that name the key on failure."""

    def __init__(self, path: Path, prefix: str, data: Any) -> None:
        self.path = path
        self.prefix = prefix
        if not isinstance(data, dict):
            raise ConfigError(path, prefix or "(top level)", f"must be a table, not {_tname(data)}")
        self.data: dict[str, Any] = data

    def key(self, name: str) -> str:
        return f"{self.prefix}.{name}" if self.prefix else name

    def error(self, name: str, problem: str, fix: str | None = None) -> ConfigError:
        return ConfigError(self.path, self.key(name), problem, fix)

    def check_known(self, known: tuple[str, ...]) -> None:
        for name in self.data:
            if name not in known:
                close = difflib.get_close_matches(name, known, n=1)
                fix = f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(known)}"
                raise self.error(name, "unknown key", fix)

    def _get(self, name: str, types: tuple[type, ...], tname: str, required: bool) -> Any:
        if name not in self.data:
            if required:
                raise self.error(name, "missing required key", f"add {name} = ... ")
            return None
        value = self.data[name]
        # bool is an int subclass; refuse it where a number is meant.
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            raise self.error(name, f"must be {tname}, not {_tname(value)}")
        return value

    def get_str(self, name: str, *, required: bool = False) -> str | None:
        value = self._get(name, (str,), "a string", required)
        if value is not None and not value.strip():
            raise self.error(name, "must not be empty")
        return value

    def get_bool(self, name: str, default: bool) -> bool:
        value = self._get(name, (bool,), "true or false", False)
        return default if value is None else value

    def get_number(self, name: str, default: float, *, maximum: float, minimum: float = 0.0) -> float:
        """A number in (minimum, maximum]. TOML allows nan and inf (``1e400`` reads as inf):
        refused here, since they pass a plain comparison and crash later (a socket timeout,
        a deadline's timedelta)."""
        value = self._get(name, (int, float), "a number", False)
        if value is None:
            return default
        if not (math.isfinite(value) and minimum < value <= maximum):
            raise self.error(
                name,
                f"must be greater than {minimum:g} and at most {maximum:g}, not {value}",
                f"e.g. {name} = {default:g}",
            )
        return float(value)

    def get_int(self, name: str, default: int, *, lo: int, hi: int) -> int:
        value = self._get(name, (int,), "an integer", False)
        if value is None:
            return default
        if not lo <= value <= hi:
            raise self.error(name, f"must be between {lo} and {hi}, not {value}", f"e.g. {name} = {default}")
        return int(value)

    def get_str_list(self, name: str) -> tuple[str, ...] | None:
        value = self.data.get(name)
        if value is None:
            return None
        if isinstance(value, str):
            return (value,)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error(name, "must be a string or a list of strings")
        return tuple(value)

    def get_table(self, name: str) -> _Table | None:
        if name not in self.data:
            return None
        return _Table(self.path, self.key(name), self.data[name])


def _tname(value: Any) -> str:
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "an array",
        dict: "a table",
    }.get(type(value), type(value).__name__)


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


TOP_KEYS = (
    "database",
    "accounts",
    "keep_other",
    "timezone",
    "classify",
    "categories",
    "deadlines",
    "poll",
    "tone",
    "replies",
    "phishing",
    "schedule",
    "watch",
)
ACCOUNT_KEYS = (
    "name",
    "host",
    "port",
    "tls",
    "username",
    "password_env",
    "password_command",
    "password_keyring",
    "oauth2_token_command",
    "oauth2_mechanism",
    "folders",
    "sent_folder",
    "addresses",
    "timeout",
    "ca_file",
    "trusted_authserv_ids",
)


def load_config(path: Path, *, required: bool = False) -> Config:
    """Read and validate the config at ``path``.

    A missing file yields the defaults unless ``required`` (commands that need accounts).
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        if required:
            raise ConfigError(
                path, None, "no config file", "run 'hygiene init' to write one, or pass --config"
            ) from None
        return default_config(path)
    except OSError as exc:
        raise ConfigError(path, None, f"cannot read: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(path, None, "not UTF-8 text", "save the file as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, None, f"invalid TOML: {exc}", "fix the syntax there") from None
    return parse_config(data, path)


def parse_config(data: dict[str, Any], path: Path) -> Config:
    top = _Table(path, "", data)
    top.check_known(TOP_KEYS)

    db_url = sqlite_url(default_database_path())
    keep_raw = False
    if (db := top.get_table("database")) is not None:
        db.check_known(("url", "keep_raw"))
        db_url = db.get_str("url") or db_url
        keep_raw = db.get_bool("keep_raw", False)
        if "://" not in db_url:
            # Not echoed: a URL may hold the database password.
            raise db.error("url", "not a database URL", 'e.g. "sqlite:////path/to/hygiene.db" or "postgresql://user@host/db"')

    accounts = _parse_accounts(top, path)

    timezone = top.get_str("timezone")
    if timezone is not None:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise top.error("timezone", f"unknown time zone {timezone!r}", 'use an IANA name such as "Asia/Tokyo"') from None

    rules, outbound_to = _parse_classify(top)

    needs_reply = dict(DEFAULT_NEEDS_REPLY)
    if (cats := top.get_table("categories")) is not None:
        cats.check_known(CATEGORIES)
        for name in cats.data:
            cat = cats.get_table(name)
            assert cat is not None
            cat.check_known(("needs_reply",))
            needs_reply[name] = cat.get_bool("needs_reply", DEFAULT_NEEDS_REPLY[name])

    deadlines: dict[str, Deadline] = {}
    warn_hours = DEFAULT_WARN_HOURS
    if (dl := top.get_table("deadlines")) is not None:
        dl.check_known((*CATEGORIES, "warn_hours", "due_hours", "critical_hours"))
        warn_hours = dl.get_number("warn_hours", DEFAULT_WARN_HOURS, maximum=MAX_HOURS)
        base = Deadline(
            dl.get_number("due_hours", DEFAULT_DUE_HOURS, maximum=MAX_HOURS),
            dl.get_number("critical_hours", DEFAULT_CRITICAL_HOURS, maximum=MAX_HOURS),
        )
        if base.critical_hours < base.due_hours:
            raise dl.error(
                "critical_hours",
                f"{base.critical_hours:g} is earlier than due_hours {base.due_hours:g}",
                "make critical_hours >= due_hours",
            )
        for name in CATEGORIES:
            own = Deadline(*CATEGORY_DEADLINES[name]) if name in CATEGORY_DEADLINES else base
            deadlines[name] = own
            if (cat := dl.get_table(name)) is not None:
                cat.check_known(("due_hours", "critical_hours"))
                due = cat.get_number("due_hours", own.due_hours, maximum=MAX_HOURS)
                critical = cat.get_number("critical_hours", max(own.critical_hours, due), maximum=MAX_HOURS)
                if critical < due:
                    raise cat.error("critical_hours", f"{critical:g} is earlier than due_hours {due:g}", "make critical_hours >= due_hours")
                deadlines[name] = Deadline(due, critical)

    batch_size = 500
    stale_after_hours = 24.0
    date_skew_minutes = 15.0
    if (poll := top.get_table("poll")) is not None:
        poll.check_known(("batch_size", "stale_after_hours", "date_skew_minutes"))
        batch_size = poll.get_int("batch_size", 500, lo=1, hi=10000)
        stale_after_hours = poll.get_number("stale_after_hours", 24.0, maximum=MAX_HOURS)
        date_skew_minutes = poll.get_number("date_skew_minutes", 15.0, maximum=MAX_HOURS * 60)

    tone = ToneConfig()
    if (tt := top.get_table("tone")) is not None:
        tt.check_known(("extra_aggressive", "extra_polite", "allow"))
        tone = ToneConfig(
            extra_aggressive=tt.get_str_list("extra_aggressive") or (),
            extra_polite=tt.get_str_list("extra_polite") or (),
            allow=tt.get_str_list("allow") or (),
        )

    replies = RepliesConfig()
    if (rt := top.get_table("replies")) is not None:
        rt.check_known(("auto_reply_subjects", "auto_reply_bodies"))
        replies = RepliesConfig(
            auto_reply_subjects=_patterns(rt, "auto_reply_subjects"),
            auto_reply_bodies=_patterns(rt, "auto_reply_bodies"),
        )

    suspicious_check_days = 7
    verify_dkim = True
    if (st := top.get_table("phishing")) is not None:
        st.check_known(("check_days", "verify_dkim"))
        suspicious_check_days = st.get_int("check_days", 7, lo=0, hi=365)
        verify_dkim = st.get_bool("verify_dkim", True)

    watch_notify: str | None = None
    watch_interval = 300.0
    if (wt := top.get_table("watch")) is not None:
        wt.check_known(("notify", "interval"))
        watch_notify = wt.get_str("notify")
        watch_interval = wt.get_number("interval", 300.0, maximum=24 * 3600, minimum=4.0)

    return Config(
        path=path,
        database=DatabaseConfig(url=db_url, keep_raw=keep_raw),
        accounts=accounts,
        keep_other=top.get_bool("keep_other", False),
        timezone=timezone,
        rules=rules,
        outbound_to=outbound_to,
        needs_reply=needs_reply,
        deadlines=deadlines,
        warn_hours=warn_hours,
        batch_size=batch_size,
        stale_after_hours=stale_after_hours,
        date_skew_minutes=date_skew_minutes,
        tone=tone,
        replies=replies,
        suspicious_check_days=suspicious_check_days,
        verify_dkim=verify_dkim,
        watch_notify=watch_notify,
        watch_interval=watch_interval,
        schedule=_parse_schedule(top),
    )


def _parse_schedule(top: _Table) -> ScheduleConfig | None:
    """``[schedule]``. The country is checked for its form here; whether the holidays package
    knows it is checked when the clock is built (:mod:`hygiene.business`), so that reading
    the config never imports that package (``hygiene tone`` reads the config too)."""
    st = top.get_table("schedule")
    if st is None:
        return None
    st.check_known(("hours", "country", "subdivision", "extra_holidays", "target_hours"))
    hours = DEFAULT_WORKING_HOURS
    if (ht := st.get_table("hours")) is not None:
        ht.check_known(WEEKDAYS)
        hours = tuple(_working_spans(ht, day) for day in WEEKDAYS)
        if not any(hours):
            raise ht.error("mon", "no working hours on any day", 'e.g. mon = "09:00-18:00"')
    country: str | None = "JP"
    if "country" in st.data:
        raw = st._get("country", (str,), "a string", False)
        country = raw.strip().upper() or None
        if country is not None and not COUNTRY.fullmatch(country):
            raise st.error("country", f"{raw!r} is not a country code", 'use an ISO 3166 code such as "JP", "US", "DE", or "" for none')
    subdivision = st.get_str("subdivision")
    if subdivision is not None and country is None:
        raise st.error("subdivision", "a subdivision without a country", 'set country = "US" (for example), or remove subdivision')
    return ScheduleConfig(
        hours=hours,
        country=country,
        subdivision=subdivision.strip() if subdivision else None,
        extra_holidays=_dates(st, "extra_holidays"),
        target_hours=st.get_number("target_hours", DEFAULT_BUSINESS_TARGET_HOURS, maximum=MAX_HOURS),
        config_path=top.path,
    )


def _working_spans(t: _Table, day: str) -> tuple[tuple[int, int], ...]:
    """``"09:00-18:00"``, ``"09:00-12:00, 13:00-18:00"``; ``""``: a day off. ``24:00`` ends
    a day; a span past midnight is two (one on each day)."""
    if day not in t.data:
        raise t.error(day, "missing: every weekday needs its hours", f'add {day} = "09:00-18:00", or {day} = "" for a day off')
    text = t._get(day, (str,), "a string", False)
    fix = f'e.g. {day} = "09:00-18:00" or "09:00-12:00, 13:00-18:00"; "" for a day off'
    spans: list[tuple[int, int]] = []
    for part in text.split(",") if text.strip() else ():
        m = _SPAN_TEXT.fullmatch(part)
        if not m:
            raise t.error(day, f"{part.strip()!r} is not a span HH:MM-HH:MM", fix)
        h1, m1, h2, m2 = (int(g) for g in m.groups())
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if m1 > 59 or m2 > 59 or start >= 24 * 60 or end > 24 * 60:
            raise t.error(day, f"{part.strip()!r} is not a time of day (00:00 to 24:00)", fix)
        if end <= start:
            raise t.error(day, f"{part.strip()!r} ends before it starts", "a span past midnight is two: end this day at 24:00, start the next at 00:00")
        if spans and start < spans[-1][1]:
            raise t.error(day, f"{part.strip()!r} overlaps or precedes the span before it", "list the spans in order, apart")
        spans.append((start, end))
    return tuple(spans)


def _dates(t: _Table, name: str) -> tuple[date, ...]:
    """A list of days: TOML dates (2026-12-29) or ISO strings ("2026-12-29")."""
    raw = t.data.get(name, [])
    if not isinstance(raw, list):
        raise t.error(name, f"must be an array of dates, not {_tname(raw)}", f'e.g. {name} = ["2026-12-29", "2026-12-30"]')
    found: list[date] = []
    for i, value in enumerate(raw):
        day: date | None = None
        if isinstance(value, date) and not isinstance(value, datetime_type):
            day = value
        elif isinstance(value, str):
            try:
                day = date.fromisoformat(value.strip())
            except ValueError:
                day = None
        if day is None:
            raise t.error(f"{name}[{i}]", f"{value!r} is not a date", 'write it as "YYYY-MM-DD", e.g. "2026-12-29"')
        found.append(day)
    return tuple(sorted(set(found)))


def _patterns(t: _Table, name: str) -> tuple[str, ...]:
    """A list of regular expressions, each compiled here so a bad one is one line now, not a
    crash in a parse worker later; an empty one would match every message."""
    patterns = t.get_str_list(name) or ()
    for i, pattern in enumerate(patterns):
        if not pattern.strip():
            raise t.error(f"{name}[{i}]", "must not be empty (it would match every message)")
        try:
            re.compile(pattern)
        except re.error as exc:
            raise t.error(f"{name}[{i}]", f"invalid regular expression {pattern!r}: {exc}") from None
    return patterns


def _parse_accounts(top: _Table, path: Path) -> tuple[AccountConfig, ...]:
    raw = top.data.get("accounts", [])
    if not isinstance(raw, list):
        raise top.error("accounts", "must be an array of tables", "write each account as [[accounts]]")
    accounts: list[AccountConfig] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        t = _Table(path, f"accounts[{i}]", item)
        t.check_known(ACCOUNT_KEYS)
        name = t.get_str("name", required=True)
        assert name is not None
        if name in seen:
            raise t.error("name", f"duplicate account name {name!r}", "give each account its own name")
        seen.add(name)
        host = t.get_str("host", required=True)
        username = t.get_str("username", required=True)
        assert host is not None and username is not None
        tls = t.get_str("tls") or "ssl"
        if tls not in TLS_MODES:
            raise t.error("tls", f"unknown value {tls!r}", 'use "ssl", "starttls" or "none"')
        if tls == "none" and not _is_loopback(host):
            raise t.error(
                "tls",
                f'"none" refused for non-loopback host {host!r}: the password would cross the network in clear',
                'use "ssl" or "starttls"',
            )
        port = t.get_int("port", 993 if tls == "ssl" else 143, lo=1, hi=65535)
        password_env = t.get_str("password_env")
        password_command = t.get_str("password_command")
        password_keyring = t.get_str("password_keyring")
        if password_env is not None and not ENV_NAME.fullmatch(password_env):
            raise _password_env_error(path, t.key("password_env"))
        oauth2_token_command = t.get_str("oauth2_token_command")
        oauth2_mechanism = (t.get_str("oauth2_mechanism") or "XOAUTH2").upper()
        if oauth2_mechanism not in ("XOAUTH2", "OAUTHBEARER"):
            raise t.error("oauth2_mechanism", f"{oauth2_mechanism!r} is not XOAUTH2 or OAUTHBEARER", 'e.g. oauth2_mechanism = "XOAUTH2"')
        sources = [
            k for k, v in (("password_env", password_env), ("password_command", password_command),
                           ("password_keyring", password_keyring), ("oauth2_token_command", oauth2_token_command)) if v
        ]
        if len(sources) > 1:
            raise t.error(sources[1], f"both {sources[0]} and {sources[1]} are set", "keep one of them")
        if not sources:
            raise t.error(
                "password_env", "missing: no password source",
                'add password_env = "VAR", password_command = "...", password_keyring = "service/user" or oauth2_token_command = "..."',
            )
        if password_keyring and ("/" not in password_keyring or password_keyring.startswith("/") or password_keyring.endswith("/")):
            raise t.error("password_keyring", "must be \"service/user\"", 'e.g. password_keyring = "imap.example.jp/shop@example.jp"')
        folders = t.get_str_list("folders") or ("INBOX",)
        accounts.append(
            AccountConfig(
                name=name,
                host=host,
                username=username,
                port=port,
                tls=tls,
                password_env=password_env,
                password_command=password_command,
                password_keyring=password_keyring,
                oauth2_token_command=oauth2_token_command,
                oauth2_mechanism=oauth2_mechanism,
                folders=folders,
                sent_folder=t.get_str("sent_folder"),
                addresses=t.get_str_list("addresses") or (),
                timeout=t.get_number("timeout", 30.0, maximum=MAX_TIMEOUT_S),
                ca_file=_ca_file(t, path),
                trusted_authserv_ids=t.get_str_list("trusted_authserv_ids") or (),
                index=i,
                config_path=path,
            )
        )
    return tuple(accounts)


def _ca_file(t: _Table, config_path: Path | None) -> Path | None:
    value = t.get_str("ca_file")
    if value is None:
        return None
    found = Path(value).expanduser()
    if not found.is_absolute() and config_path is not None:
        found = config_path.parent / found  # relative to the config file, not the cwd
    if not found.is_file():
        raise t.error("ca_file", f"no such file: {found}", "give the path of a PEM CA bundle, or remove the key")
    return found


def _address_patterns(t: _Table, name: str) -> tuple[str, ...] | None:
    """Shell patterns on addresses, lower-cased; ``{suffix}`` only where it can mean a public
    suffix (see :mod:`hygiene.domains`)."""
    from hygiene.domains import check_pattern

    patterns = t.get_str_list(name)
    if patterns is None:
        return None
    for i, pattern in enumerate(patterns):
        problem = check_pattern(pattern)
        if problem is not None:
            raise t.error(f"{name}[{i}]", f"{pattern!r}: {problem}", 'e.g. "*@amazon.{suffix}"')
    return tuple(p.lower() for p in patterns)


def _parse_classify(top: _Table) -> tuple[tuple[ClassifyRule, ...], tuple[str, ...]]:
    rules = DEFAULT_RULES
    outbound_to: tuple[str, ...] = DEFAULT_OUTBOUND_TO
    cl = top.get_table("classify")
    if cl is None:
        return rules, outbound_to
    cl.check_known(("rules", "replace_defaults", "outbound_to"))
    outbound_to = _address_patterns(cl, "outbound_to") or outbound_to
    raw_rules = cl.data.get("rules", [])
    if not isinstance(raw_rules, list):
        raise cl.error("rules", "must be an array of tables", "write each rule as [[classify.rules]]")
    parsed: list[ClassifyRule] = []
    for i, item in enumerate(raw_rules):
        t = _Table(top.path, f"classify.rules[{i}]", item)
        t.check_known(("category", "from", "to", "subject", "body"))
        category = t.get_str("category", required=True)
        if category not in CATEGORIES:
            raise t.error("category", f"unknown category {category!r}", f"use one of {', '.join(CATEGORIES)}")
        for key in ("subject", "body"):
            pattern = t.get_str(key)
            if pattern is not None:
                try:
                    re.compile(pattern)
                except re.error as exc:
                    raise t.error(key, f"invalid regular expression: {exc}") from None
        from_ = _address_patterns(t, "from") or ()
        to = _address_patterns(t, "to") or ()
        if not (from_ or to or t.data.get("subject") or t.data.get("body")):
            raise t.error("category", "rule has no condition", "add from, to, subject or body")
        parsed.append(
            ClassifyRule(
                category=category,
                from_=from_,
                to=to,
                subject=t.get_str("subject"),
                body=t.get_str("body"),
            )
        )
    if cl.get_bool("replace_defaults", False):
        return tuple(parsed), outbound_to
    # The seller's own rules come first so they can override the defaults.
    return (*parsed, *DEFAULT_RULES), outbound_to


STARTER_CONFIG = """\
# hygiene configuration. Every key is documented in config.example.toml.

[[accounts]]
name = "jp"
host = "imap.example.jp"
port = 993
tls = "ssl"
username = "shop@example.jp"
password_env = "JP_IMAP_PASSWORD"
"""


def write_starter_config(path: Path, *, force: bool = False) -> None:
    if path.exists() and not force:
        raise ConfigError(path, None, "already exists", "edit it, or pass --force to overwrite")
    path.parent.mkdir(parents=True, exist_ok=True)
    # Created 0600 from the start: it names the mailbox and how to get its password.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(STARTER_CONFIG)
    os.chmod(path, 0o600)
