"""Mail that only claims to be Amazon (issue 11): the judge on written samples of each shape."""

from __future__ import annotations

import pytest

from hygiene.authenticity import MessageClaims, judge, looks_like_amazon, skeleton

AMAZON = ("amazon.co.jp", "amazon.com", "amazon.de")


def is_amazon(domain: str) -> bool:
    domain = domain.lower()
    return any(domain == d or domain.endswith("." + d) for d in AMAZON)


def verdict(**claims: object) -> tuple[bool, tuple[str, ...]]:
    v = judge(MessageClaims(**claims), is_amazon=is_amazon)  # type: ignore[arg-type]
    return v.suspicious, v.reasons


GOOD_AR = "mx.shop.example; dkim=pass header.d=amazon.co.jp header.s=x; spf=pass smtp.mailfrom=bounce.amazon.co.jp; dmarc=pass (p=QUARANTINE) header.from=amazon.co.jp"


def test_genuine_amazon_mail_with_dmarc_pass_is_verified_and_links_do_not_matter() -> None:
    v = judge(
        MessageClaims(from_addr="seller-performance@amazon.co.jp", from_name="Amazon.co.jp", auth_results=(GOOD_AR,), link_hosts=("sellercentral.amazon.co.jp", "click.example-tracker.com")),
        is_amazon=is_amazon,
    )
    assert (v.claims_amazon, v.verified, v.suspicious) == (True, True, False)


def test_aligned_dkim_pass_alone_is_genuine() -> None:
    ar = "mx.shop.example; dkim=pass header.d=amazon.com; spf=softfail smtp.mailfrom=x.example"
    v = judge(MessageClaims(from_addr="no-reply@marketplace.amazon.com", auth_results=(ar,)), is_amazon=is_amazon)
    assert v.verified and not v.suspicious


def test_genuine_mail_without_any_authentication_results_is_not_suspicious_on_that_alone() -> None:
    assert verdict(from_addr="seller-performance@amazon.co.jp", from_name="Amazon", link_hosts=("sellercentral.amazon.co.jp", "amzn.to")) == (False, ())


def test_forged_from_with_dmarc_fail() -> None:
    ar = "mx.shop.example; dmarc=fail (p=REJECT) header.from=amazon.co.jp; spf=fail smtp.mailfrom=evil.example"
    suspicious, reasons = verdict(from_addr="seller-performance@amazon.co.jp", auth_results=(ar,))
    assert suspicious and reasons == ("the receiving server's DMARC check failed for amazon.co.jp",)


def test_dkim_and_spf_both_failing() -> None:
    ar = "mx.shop.example; dkim=fail header.d=amazon.co.jp; spf=softfail smtp.mailfrom=amazon.co.jp"
    assert verdict(from_addr="a@amazon.co.jp", auth_results=(ar,))[0]


def test_only_trusted_receivers_count() -> None:
    # the forger adds a glowing header of his own below the seller's server's one
    forged = "mx.forger.example; dmarc=pass header.from=amazon.co.jp"
    mine = "mx.shop.example; dmarc=fail header.from=amazon.co.jp"
    assert verdict(from_addr="a@amazon.co.jp", auth_results=(mine, forged))[0]
    v = judge(MessageClaims(from_addr="a@amazon.co.jp", auth_results=(forged, mine)), is_amazon=is_amazon, trusted_authserv_ids=("mx.shop.example",))
    assert v.suspicious


def test_display_name_claim_on_another_domain() -> None:
    for name in ("Amazon.co.jp", "アマゾン カスタマーサービス", "Amazon Seller Support", "ＡＭＡＺＯＮ", "Аmazon"):  # the last with a Cyrillic А
        suspicious, reasons = verdict(from_addr="support@secure-login.example", from_name=name)
        assert suspicious and reasons == ("display name says Amazon but the address is support@secure-login.example",), name


@pytest.mark.parametrize(
    "address",
    ["service@amaz0n.co.jp", "info@arnazon.com", "alert@amazon-security.example", "a@amazon.co.jp.login-check.example",
     "a@amazon.com-verify.example", "a@\u0430mazon.com", "a@amazom.jp"],
)
def test_look_alike_addresses(address: str) -> None:
    suspicious, reasons = verdict(from_addr=address)
    assert suspicious and reasons[0].startswith("address imitates Amazon: ")


def test_mailing_list_rewritten_from_is_not_a_claim() -> None:
    assert verdict(from_addr="list@lists.example.org", from_name="Amazon.co.jp via sellers-forum") == (False, ())


def test_an_amazon_looking_link_to_another_host() -> None:
    suspicious, reasons = verdict(from_addr="a@amazon.co.jp", from_name="Amazon", link_hosts=("sellercentral.amazon.co.jp", "amazon.co.jp.verify-account.example"))
    assert suspicious and reasons == ("links to hosts that are not Amazon's: amazon.co.jp.verify-account.example",)


def test_signature_by_someone_else_and_spf_fail_without_a_server_verdict() -> None:
    suspicious, reasons = verdict(from_addr="a@amazon.co.jp", dkim_domains=("bulk-mailer.example",), received_spf=("Fail (mailfrom) identity=mailfrom; envelope-from=a@amazon.co.jp",))
    assert suspicious and reasons == (
        "signed (DKIM) by bulk-mailer.example, not by amazon.co.jp",
        "Received-SPF: fail for a sender claiming amazon.co.jp",
    )


def test_mail_not_claiming_amazon_is_not_judged() -> None:
    v = judge(MessageClaims(from_addr="news@shop.example.com", from_name="Shop news", link_hosts=("evil.example",)), is_amazon=is_amazon)
    assert (v.claims_amazon, v.suspicious) == (False, False)
    assert not looks_like_amazon("amazing-deals.example") and not looks_like_amazon("mazda.example")


def test_unreadable_authentication_results_are_no_verdict() -> None:
    assert verdict(from_addr="a@amazon.co.jp", auth_results=(";;;garbage==",)) == (False, ())


def test_skeleton_folds_confusables_and_full_width() -> None:
    assert skeleton("ＡＭＡＺＯＮ") == "amazon" and skeleton("\u0430mazon") == "amazon"


def test_a_buyers_links_through_amazons_relay_are_the_buyers() -> None:
    assert verdict(from_addr="k4m2x9q1@marketplace.amazon.co.jp", from_name="Amazon Seller Support", link_hosts=("imgur.com",)) == (False, ())
