"""Our own DKIM check of Amazon-signed mail without a server verdict (issue 11): a test key
supplied through the lookup hook, no network."""

from __future__ import annotations

import base64
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hygiene.config import default_config, load_config
from hygiene.domains import is_amazon_domain
from hygiene.mail import dkim_check
from hygiene.mail.ingest import RawMessage, build_row

MESSAGE = (
    b"From: Amazon.co.jp <seller-performance@amazon.co.jp>\r\nTo: shop@example.jp\r\n"
    b"Subject: =?utf-8?b?44Ki44Kr44Km44Oz44OI5YGl5YWo5oCn?=\r\nDate: Thu, 19 Nov 2026 10:00:00 +0000\r\n"
    b"Message-ID: <dk1@amazon.co.jp>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
    b"Please review https://sellercentral.amazon.co.jp/ and https://tracking.example-esp.net/x\r\n"
)


@pytest.fixture(scope="module")
def key(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, bytes]:
    """(private key PEM, the TXT record publishing its public half)."""
    folder = tmp_path_factory.mktemp("dkim")
    subprocess.run(["openssl", "genrsa", "-out", str(folder / "k.pem"), "1024"], check=True, capture_output=True)
    der = subprocess.run(["openssl", "rsa", "-in", str(folder / "k.pem"), "-pubout", "-outform", "DER"], check=True, capture_output=True).stdout
    return (folder / "k.pem").read_bytes(), b"v=DKIM1; k=rsa; p=" + base64.b64encode(der)


def signed(private: bytes, message: bytes = MESSAGE, domain: bytes = b"amazon.co.jp") -> bytes:
    import dkim

    return dkim.sign(message, b"sel", domain, private, include_headers=[b"from", b"subject", b"date"]) + message


def lookup_for(record: bytes, domain: bytes = b"amazon.co.jp") -> dict[bytes, bytes]:
    return {b"sel._domainkey." + domain + b".": record}


def test_a_good_signature_verifies_and_a_tampered_one_fails(key: tuple[bytes, bytes]) -> None:
    private, record = key
    dns = lookup_for(record)
    good = signed(private)
    assert dkim_check.verify_signatures(good, is_amazon_domain, dns.get) is True
    assert dkim_check.verify_signatures(good.replace(b"Please review", b"Please verify"), is_amazon_domain, dns.get) is False
    # no answer from DNS (offline, a timeout): no verdict, never suspicion
    assert dkim_check.verify_signatures(good, is_amazon_domain, lambda name: None) is None
    # a signature by someone else is not ours to check here (authenticity judges the signer)
    other = signed(private, domain=b"mailer.example")
    assert dkim_check.verify_signatures(other, is_amazon_domain, lookup_for(record, b"mailer.example").get) is None
    assert dkim_check.verify_signatures(MESSAGE, is_amazon_domain, dns.get) is None  # unsigned


def test_the_verdict_decides_the_category(key: tuple[bytes, bytes], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    private, record = key
    monkeypatch.setattr(dkim_check, "lookup_txt", lookup_for(record).get)
    now = datetime(2026, 11, 20, tzinfo=UTC)

    def category(data: bytes, config: object = default_config()) -> tuple[str, str | None]:
        row, _ = build_row(RawMessage(data, "INBOX"), "jp", config, now)  # type: ignore[arg-type]
        assert row is not None
        return row["category"], row["suspicious_reasons"]

    # verified: genuine, and its link to another host no longer matters
    assert category(signed(private)) == ("account_health", None)
    forged, reasons = category(signed(private).replace(b"Please review", b"Please verify"))
    assert forged == "suspicious" and reasons and "does not verify" in reasons
    # turned off: the link to another host is what the judge goes by
    off = tmp_path / "c.toml"
    off.write_text("[phishing]\nverify_dkim = false\n")
    kind, why = category(signed(private), load_config(off))
    assert kind == "suspicious" and why and "tracking.example-esp.net" in why
