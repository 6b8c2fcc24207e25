"""Classification (issue 10, items 6 and 7): Amazon's addresses are its registrable domains
(the Public Suffix List, bundled, never fetched), and A-to-z Guarantee claims and chargebacks
are a category of their own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hygiene.classify import classify, could_keep
from hygiene.config import DEFAULT_RULES, default_config, parse_config
from hygiene.domains import address_matches, check_pattern, split_domain
from hygiene.errors import ConfigError
from hygiene.mail.imap import quick_headers
from hygiene.mail.parse import parse_message

CONFIG = default_config()

#: Amazon's marketplaces (and amazon.jp, amazon.cn): registrable domains under every kind of
#: public suffix the list knows (com, co.jp, com.br, com.au, co.za, ...).
MARKETPLACES = [
    "amazon.com", "amazon.ca", "amazon.com.mx", "amazon.com.br", "amazon.co.uk", "amazon.de",
    "amazon.fr", "amazon.it", "amazon.es", "amazon.nl", "amazon.se", "amazon.pl", "amazon.com.be",
    "amazon.com.tr", "amazon.ae", "amazon.sa", "amazon.eg", "amazon.in", "amazon.co.jp",
    "amazon.jp", "amazon.com.au", "amazon.sg", "amazon.cn", "amazon.ie", "amazon.co.za",
]

#: Domains that hold "amazon." as a label but are someone else's.
LOOK_ALIKES = [
    "amazon.co.jp.login-check.example",
    "amazon.com-verify.example",
    "amazon.co.jp.account-verify.com",
    "marketplace.amazon.co.jp.evil.net",
    "amazon.com.evil.co.jp",
    "amazon.herokuapp.com",  # a private-section suffix: herokuapp.com is the registrable domain
    "amazon.github.io",
    "amazon.example",
    "amazon.invalid",
    "amazon-co-jp.com",
    "amazon.co.jp-security.info",
    "seller.amazon.co.jp.secure-login.cn",
]


def message(sender: str, subject: str = "お知らせ", body: str = "本文です。", to: str = "shop@example.jp") -> bytes:
    return (
        f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\nDate: Thu, 19 Nov 2026 09:00:00 +0900\r\n"
        f"Message-ID: <t@example.jp>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    ).encode()


def category(sender: str, subject: str = "お知らせ", body: str = "本文です。") -> str | None:
    kind = classify(parse_message(message(sender, subject, body)), CONFIG)
    return kind.category if kind else None


def prefilter_keeps(sender: str, subject: str = "お知らせ") -> bool:
    head = f"From: {sender}\r\nTo: shop@example.jp\r\nSubject: {subject}\r\n\r\n".encode()
    return could_keep(quick_headers(head), CONFIG)


# --------------------------------------------------------------------------- item 7


@pytest.mark.parametrize("domain", MARKETPLACES)
def test_every_marketplace_and_its_subdomains_are_amazons(domain: str) -> None:
    assert category(f"no-reply@{domain}") == "notification"
    assert category(f"shipment-tracking@email.{domain}") == "notification"
    assert category(f"k4m2x9q1@marketplace.{domain}") == "buyer"
    assert category(f"seller-performance@{domain}", "Notice") == "account_health"
    assert category(f"seller-support@{domain}") == "seller_support"
    assert category(f"atoz-guarantee-no-reply@{domain}", "A-to-z Guarantee claim") == "claim"
    assert prefilter_keeps(f"no-reply@{domain}") and prefilter_keeps(f"x@sellercentral.{domain}")
    assert category(f"NO-REPLY@{domain.upper()}") == "notification"  # addresses are read lower-case


@pytest.mark.parametrize("domain", LOOK_ALIKES)
def test_look_alike_domains_are_never_amazons(domain: str) -> None:
    # Never one of Amazon's categories, never awaiting a reply: kept as 'suspicious' (issue
    # 11), so the header prefilter reads them to be judged.
    for local in ("no-reply", "seller-performance", "seller-support", "atoz-guarantee-no-reply"):
        assert category(f"{local}@{domain}", "アカウント停止のお知らせ A-to-z Guarantee claim") == "suspicious"
        assert prefilter_keeps(f"{local}@{domain}", "アカウント停止のお知らせ"), domain
    assert category(f"buyer@marketplace.{domain}") == "suspicious"
    # The seller's own mail to such an address is not kept either (outbound_to).
    sent = classify(parse_message(message("shop@example.jp", "Re: 確認", to=f"verify@{domain}")), CONFIG, folder_role="sent")
    assert sent is None


def test_a_look_alike_with_a_display_name_that_is_amazons_is_suspicious() -> None:
    sender = '"seller-performance@amazon.co.jp" <seller-performance@amazon.co.jp.login-check.example>'
    assert category(sender, "アカウント停止") == "suspicious"
    assert prefilter_keeps(sender, "アカウント停止")


def test_registrable_domains_come_from_the_public_suffix_list() -> None:
    assert split_domain("marketplace.amazon.co.jp") == ("marketplace.amazon", "co.jp")
    assert split_domain("amazon.com.br") == ("amazon", "com.br")
    assert split_domain("amazon.co.jp.") == ("amazon", "co.jp")
    assert split_domain("amazon.herokuapp.com") == ("amazon.herokuapp", "com")  # ICANN section only
    assert split_domain("amazon.co.jp.login-check.example") is None  # .example is no public suffix
    assert split_domain("co.jp") is None  # a suffix itself
    # internationalised suffixes, written in Unicode or punycode
    assert split_domain("amazon.xn--p1ai") == ("amazon", "xn--p1ai")  # .рф
    assert split_domain("shop.amazon.みんな") == ("shop.amazon", "みんな")
    assert split_domain("amazon.xn--zzzz-invalid") is None
    assert split_domain("a..amazon.com") is None
    assert split_domain("") is None


def test_suffix_patterns() -> None:
    assert address_matches("a@amazon.co.jp", "*@amazon.{suffix}")
    assert not address_matches("a@x.amazon.co.jp", "*@amazon.{suffix}")
    assert address_matches("a@x.amazon.co.jp", "*@*.amazon.{suffix}")
    assert not address_matches("a@amazon.co.jp", "*@*.amazon.{suffix}")
    assert not address_matches("a@notamazon.co.jp", "*@amazon.{suffix}")
    assert not address_matches("amazon.co.jp", "*@amazon.{suffix}")
    assert address_matches("a@amazon.co.jp", "*@amazon.co.jp")  # plain globs as before
    assert address_matches("a@amazon.co.jp.evil.example", "*@amazon.*")  # what the old defaults did
    assert check_pattern("*@amazon.{suffix}") is None and check_pattern("*@amazon.*") is None
    for bad in ("*@{suffix}", "*@amazon{suffix}", "*@amazon.{suffix}.jp", "amazon.{suffix}", "*@a.{suffix}.{suffix}"):
        assert check_pattern(bad) is not None, bad


def test_no_default_pattern_matches_by_a_bare_wildcard_suffix() -> None:
    patterns = [p for rule in DEFAULT_RULES for p in rule.from_ + rule.to] + list(CONFIG.outbound_to)
    assert patterns and all(p.endswith(".{suffix}") for p in patterns)


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ('[classify]\noutbound_to = ["*@{suffix}"]\n', "classify.outbound_to[0]"),
        ('[[classify.rules]]\ncategory = "claim"\nfrom = ["ok@amazon.co.jp", "*@amazon.{suffix}.jp"]\n', "classify.rules[0].from[1]"),
        ('[[classify.rules]]\ncategory = "claim"\nto = ["amazon.{suffix}"]\n', "classify.rules[0].to[0]"),
    ],
)
def test_a_misplaced_suffix_is_a_one_line_config_error(tmp_path: Path, toml: str, key: str) -> None:
    import tomllib

    with pytest.raises(ConfigError) as info:
        parse_config(tomllib.loads(toml), tmp_path / "c.toml")
    text = str(info.value)
    assert key in text and "{suffix}" in text and "\n" not in text


def test_own_rules_may_use_the_suffix() -> None:
    import tomllib

    config = parse_config(
        tomllib.loads('[[classify.rules]]\ncategory = "claim"\nfrom = ["Disputes@Amazon.{suffix}"]\n'), Path("c.toml")
    )
    kind = classify(parse_message(message("disputes@amazon.de", "Hallo")), config)
    assert kind is not None and kind.category == "claim"


def test_the_list_is_the_bundled_one_no_network_no_cache(tmp_path: Path) -> None:
    """In a fresh process with the network refused and HOME/XDG dirs empty: the list loads
    from the package, classification works, and nothing is written anywhere."""
    code = (
        "import sys\n"
        "def audit(event, args):\n"
        "    if event.startswith(('socket.', 'urllib.')):\n"
        "        raise AssertionError(f'network used: {event}')\n"
        "    if event == 'open' and args[1] and any(c in str(args[1]) for c in 'wax+'):\n"
        "        raise AssertionError(f'file written: {args[0]}')\n"
        "sys.addaudithook(audit)\n"
        "from hygiene.domains import suffix_list, address_matches\n"
        "psl = suffix_list()\n"
        "assert address_matches('a@marketplace.amazon.co.jp', '*@*.amazon.{suffix}')\n"
        "assert not address_matches('a@amazon.co.jp.login-check.example', '*@amazon.{suffix}')\n"
        "import publicsuffixlist\n"
        "print(publicsuffixlist.__version__)\n"
    )
    home = tmp_path / "sandbox"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache"), "XDG_DATA_HOME": str(home / ".local")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=home, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip()
    assert list(home.iterdir()) == []


def test_plain_mail_never_loads_the_list() -> None:
    code = (
        "import sys\n"
        "from hygiene.classify import classify\n"
        "from hygiene.config import default_config\n"
        "from hygiene.mail.parse import parse_message\n"
        "raw = b'From: news@shop.example.com\\r\\nTo: shop@example.jp\\r\\nSubject: sale\\r\\n\\r\\nhi\\r\\n'\n"
        "assert classify(parse_message(raw), default_config()) is None\n"
        "print('publicsuffixlist' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


# --------------------------------------------------------------------------- item 6


@pytest.mark.parametrize(
    ("sender", "subject"),
    [
        ("atoz-guarantee-no-reply@amazon.co.jp", "「Amazonマーケットプレイス保証」申請について（注文番号：250-1234567-7654321）"),
        ("atoz-guarantee-no-reply@amazon.com", "A-to-z Guarantee claim on order 111-1234567-7654321"),
        ("atoz-guarantee-no-reply@amazon.co.jp", "ご注文についてのお知らせ"),  # the sender alone says it
        ("no-reply@amazon.co.jp", "「Amazonマーケットプレイス保証」申請のお知らせ"),
        ("no-reply@amazon.com", "Action required: A-to-z Guarantee claim filed by a buyer"),
        ("no-reply@amazon.com", "A-to-Z guarantee claim received"),
        ("seller-notification@amazon.co.jp", "チャージバック請求のお知らせ（注文番号：250-1234567-7654321）"),
        ("cb-seller-notification@amazon.com", "Chargeback claim for order 111-1234567-7654321"),
        ("chargeback-no-reply@amazon.de", "Rückbuchung"),
        ("no-reply@sellercentral.amazon.co.jp", "Aから Z 保証の申請"),
    ],
)
def test_claims_and_chargebacks_are_their_own_category(sender: str, subject: str) -> None:
    assert category(sender, subject) == "claim"
    assert prefilter_keeps(sender, subject)
    kind = classify(parse_message(message(sender, subject)), CONFIG)
    assert kind is not None and kind.needs_reply


@pytest.mark.parametrize(
    ("sender", "subject", "expected"),
    [
        # a claim's decision or withdrawal is news
        ("atoz-guarantee-no-reply@amazon.com", "A-to-z Guarantee claim decision", "notification"),
        ("atoz-guarantee-no-reply@amazon.co.jp", "「Amazonマーケットプレイス保証」申請の取り下げ", "notification"),
        ("no-reply@amazon.co.jp", "Amazonマーケットプレイス保証申請の決定について", "notification"),
        ("no-reply@amazon.com", "Chargeback claim closed", "notification"),
        # Seller Support / Seller Performance writing about a claim keep their own category
        ("seller-support@amazon.co.jp", "Re: A-to-z Guarantee claim ケースID: 12345678901", "seller_support"),
        ("seller-performance@amazon.com", "A-to-z Guarantee claims and your account", "account_health"),
        # a buyer through the relay is a buyer
        ("k4m2x9q1@marketplace.amazon.co.jp", "A-to-z保証を申請します", "buyer"),
        # words that only look alike
        ("no-reply@amazon.com", "Everything from A to Zebra", "notification"),
    ],
)
def test_what_is_not_a_claim(sender: str, subject: str, expected: str) -> None:
    assert category(sender, subject) == expected


def test_a_claim_word_in_the_body_alone_is_no_claim() -> None:
    # Order confirmations mention the A-to-z Guarantee in their footers.
    assert category("auto-confirm@amazon.co.jp", "ご注文の確認", "Amazonマーケットプレイス保証の対象です。A-to-z Guarantee") == "notification"
