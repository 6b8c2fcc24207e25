"""Twelve weeks of a small seller's mail, generated: the history behind ``hygiene demo``.

The bundled sample (``mail/``) is the mailbox as it stands on the demo's last three days; a
dashboard's weekly trend and response-time histogram need the weeks before. This module
writes them, deterministically (one seed, one fixed clock: the same bytes every run), as real
RFC 5322 messages that take the ingest path every message takes (parse → classify → store,
see :func:`load_history`), then the reply matching of :mod:`hygiene.threads`.

The story of さくら雑貨店 over the 12 weeks up to the demo clock (2026-11-20 09:00 JST):

- weeks 1–3 (from 28 Aug): a steady small shop, most buyers answered within a few hours;
- week 4: the shop closes for Silver Week (19–23 Sep). An out-of-office responder answers
  buyers at once (【自動返信】 / "Automatic reply", which never counts as a reply) and the
  real replies come after the 24th;
- weeks 5–8: the backlog, then the October Prime sale (more buyers than usual): replies a
  day or more late, some never sent, curter and sometimes rude replies, and Seller
  Performance writing about late responses. Part of what was missed is answered in a
  catch-up at the end of October;
- weeks 9–12: recovery, replies within hours, polite again.

Every category is there: buyers through the marketplace relay (random local parts
``@marketplace.amazon.co.jp`` / ``.com``, Japanese and English), Seller Performance (account
health; often answered on the Account Health page, i.e. a manual mark), Seller Support cases
(ケースID / Case ID), and notifications from no-reply senders. Replies are found as real mail
programs leave them: In-Reply-To/References, the same subject (a phone's mail app that drops
the headers), an order ID or case ID in a new mail, a buyer's follow-up in the same thread;
some buyers are answered only in Seller Central (``hygiene replied``), and thank-you notes are
dismissed (``hygiene dismiss``). Inbound mail stops 4 days before the clock and replies 3 days
before it, so the history never changes what the bundled sample's check list shows — except
the few messages never answered, which stay critical as they would in a real mailbox.
"""

from __future__ import annotations

import base64
import hashlib
import math
import quopri
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from email.header import Header
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any

from hygiene.threads import SUBJECT_WINDOW

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

    from hygiene.config import Config
    from hygiene.mail.ingest import IngestStats, RawMessage

JST = timezone(timedelta(hours=9))
#: the demo's clock (manifest.json "now"); the history ends here
DEMO_NOW = datetime(2026, 11, 20, 9, 0, tzinfo=JST)
DEFAULT_SEED = 20261120
WEEKS = 12
#: no history message arrives later than this before the clock (the bundled sample's days)
INBOUND_STOP = timedelta(hours=96)
#: and no reply or mark is later than this (nothing answers the bundled sample's open mail)
REPLY_STOP = timedelta(hours=72)

SHOP = "shop@sakura-zakka.example.jp"
SHOP_NAME = "さくら雑貨店 山田太郎"
PERF = {"jp": "seller-performance@amazon.co.jp", "us": "seller-performance@amazon.com"}
SUPPORT = {"jp": "seller-support@amazon.co.jp", "us": "seller-support@amazon.com"}
NOREPLY = {"jp": "no-reply@amazon.co.jp", "us": "donotreply@amazon.com"}
RELAY = {"jp": "marketplace.amazon.co.jp", "us": "marketplace.amazon.com"}

#: Silver Week: the shop is closed, the out-of-office responder is on
VACATION = (datetime(2026, 9, 19, 0, 0, tzinfo=JST), datetime(2026, 9, 24, 9, 0, tzinfo=JST))
#: end of October: the seller works through what was missed in the bad weeks
CATCH_UP = datetime(2026, 10, 27, 10, 0, tzinfo=JST)


@dataclass(frozen=True)
class Week:
    """How the seller does in one week: median reply time (hours), the share never answered
    by mail or Seller Central, the share of curt and of rude replies, buyers per week."""

    median_hours: float
    miss: float
    curt: float
    rude: float
    buyers: int
    #: Seller Performance writes about late responses this week
    warning: bool = False


#: Oldest first; the last entry is the week ending at the clock.
PROFILE: tuple[Week, ...] = (
    Week(4.0, 0.00, 0.10, 0.03, 8),  # 28 Aug
    Week(5.0, 0.00, 0.10, 0.03, 8),
    Week(6.0, 0.03, 0.15, 0.05, 9),
    Week(8.0, 0.04, 0.15, 0.05, 9),  # Silver Week: closed 19–23 Sep
    Week(26.0, 0.10, 0.30, 0.15, 10, warning=True),  # the backlog
    Week(30.0, 0.16, 0.35, 0.25, 15),  # October Prime sale
    Week(24.0, 0.14, 0.30, 0.20, 13, warning=True),  # returns after the sale
    Week(14.0, 0.08, 0.20, 0.10, 10),
    Week(7.0, 0.02, 0.10, 0.03, 9),  # catch-up, recovery
    Week(4.0, 0.00, 0.05, 0.00, 8),
    Week(3.0, 0.00, 0.05, 0.00, 8),
    Week(2.5, 0.00, 0.05, 0.00, 8),
)

#: What an inbound message's history holds for the seller (``HistoryMessage.outcome``).
ON_TIME, LATE, NO_RESPONSE, DISMISSED, NO_REPLY_NEEDED = "on_time", "late", "no_response", "dismissed", "no_reply_needed"


@dataclass(frozen=True)
class HistoryMessage:
    """One generated message and what it is meant to be."""

    data: bytes
    #: "inbox" or "sent": where it sits in the seller's mailbox
    role: str
    #: Message-ID without <>
    message_id: str
    #: buyer, account_health, seller_support, notification; "outbound" for the seller's
    category: str
    at: datetime
    subject: str
    #: inbound: ON_TIME / LATE (by Amazon's 24 h), NO_RESPONSE, DISMISSED, NO_REPLY_NEEDED
    outcome: str | None = None
    #: inbound answered: when the seller answered (mail or Seller Central)
    reply_at: datetime | None = None
    #: inbound answered: how the reply is meant to be found — references, subject, order_id,
    #: case_id, thread (answered through a follow-up), manual (Seller Central)
    via: str | None = None
    #: sent: an out-of-office auto-reply (never counts)
    auto_reply: bool = False
    #: sent: polite, plain, curt, rude
    tone: str | None = None


@dataclass(frozen=True)
class Mark:
    """What the seller recorded by hand: ``hygiene replied ID --at`` (answered in Seller
    Central) or ``hygiene dismiss ID --reason``."""

    message_id: str
    kind: str  # "replied" | "dismissed"
    at: datetime
    reason: str = ""


@dataclass(frozen=True)
class History:
    seed: int
    now: datetime
    weeks: int
    messages: tuple[HistoryMessage, ...]
    marks: tuple[Mark, ...]

    @property
    def inbound(self) -> list[HistoryMessage]:
        return [m for m in self.messages if m.role == "inbox"]

    @property
    def sent(self) -> list[HistoryMessage]:
        return [m for m in self.messages if m.role == "sent"]

    def fingerprint(self) -> str:
        """sha256 over every message's bytes and every mark: equal iff the history is."""
        digest = hashlib.sha256()
        for m in self.messages:
            digest.update(hashlib.sha256(m.data).digest())
        for mark in self.marks:
            digest.update(f"{mark.message_id}|{mark.kind}|{mark.at.isoformat()}|{mark.reason}".encode())
        return digest.hexdigest()

    def raw_messages(self) -> list[RawMessage]:
        """The messages as ``hygiene import`` hands them to the ingest path."""
        from hygiene.mail.files import IMPORT_FOLDER
        from hygiene.mail.ingest import RawMessage

        return [RawMessage(data=m.data, folder=IMPORT_FOLDER, role=m.role, source="import") for m in self.messages]


# --------------------------------------------------------------------------- loading


def load_history(engine: Engine, config: Config, history: History, *, now: datetime, account: str, batch_size: int = 500) -> IngestStats:
    """Store the history's messages as ``hygiene import`` does (parse → classify → row →
    :func:`hygiene.store.messages.store_batch`, one transaction per batch). Run
    :func:`hygiene.threads.match_replies`, then :func:`apply_marks`, afterwards."""
    from hygiene.mail.importer import store_raws
    from hygiene.mail.ingest import IngestStats

    stats = IngestStats()
    raws = history.raw_messages()
    for start in range(0, len(raws), batch_size):
        stats.add(store_raws(engine, config, raws[start : start + batch_size], now=now, account=account))
    return stats


def apply_marks(conn: Connection, history: History, ids: dict[str, int]) -> tuple[int, int]:
    """Record the history's manual marks as ``hygiene replied`` / ``hygiene dismiss`` would;
    ``ids`` maps Message-ID (without <>) to the stored id. Returns (replied, dismissed)."""
    from hygiene.threads import dismiss, mark_replied

    replied = dismissed = 0
    for mark in history.marks:
        stored = ids.get(mark.message_id)
        if stored is None:
            continue
        if mark.kind == "replied":
            mark_replied(conn, stored, mark.at.astimezone(UTC))
            replied += 1
        else:
            dismiss(conn, stored, mark.at.astimezone(UTC), mark.reason)
            dismissed += 1
    return replied, dismissed


# --------------------------------------------------------------------------- content

JP_SURNAMES = ("佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤", "吉田", "山田", "佐々木", "松本", "井上", "木村", "林", "清水", "山崎", "森")
JP_GIVEN = ("花子", "一郎", "健", "美咲", "誠", "由美", "大輔", "愛", "翔", "さくら", "剛", "陽子", "亮", "恵", "拓也", "真由美", "直樹", "彩")
US_FIRST = ("Emily", "Michael", "Sarah", "David", "Jessica", "James", "Ashley", "Robert", "Amanda", "Daniel", "Laura", "Kevin", "Megan", "Brian")
US_LAST = ("Johnson", "Brown", "Davis", "Wilson", "Miller", "Moore", "Taylor", "Anderson", "Thomas", "Martin", "Garcia", "Clark", "Lewis", "Walker")
PRODUCTS_JP = ("有田焼の湯呑み", "信楽焼のマグカップ", "美濃焼の小皿セット", "南部鉄器の急須", "木製の箸置き", "手ぬぐい（桜柄）", "漆塗りの汁椀", "九谷焼の豆皿")
PRODUCTS_US = ("ceramic teapot", "mug set", "rice bowl", "chopstick rest set", "tenugui towel", "cast iron kettle", "sake cup set", "lacquer bowl")

#: (subject, question); {order} and {product} are filled in
BUYER_JP = (
    ("商品の到着予定について", "注文番号 {order} の{product}はいつ頃届きますでしょうか。"),
    ("配送状況の確認", "注文 {order} ですが、まだ発送されていないようです。確認をお願いします。"),
    ("ギフト包装は可能ですか", "{product}をプレゼントにしたいので、包装をお願いできますか。注文番号は {order} です。"),
    ("返品について", "{product}がイメージと違ったので返品したいです。注文番号 {order}。手続きを教えてください。"),
    ("商品が破損していました", "届いた{product}が割れていました。注文番号 {order} です。写真を添付します。"),
    ("領収書の発行について", "注文 {order} の領収書を会社宛てでいただけますか。"),
    ("色違いの在庫はありますか", "{product}の青色は在庫がありますか。"),
    ("電子レンジで使えますか", "{product}は電子レンジや食洗機で使えますか。"),
    ("まとめ買いについて", "{product}を10個購入したいのですが、割引はありますか。"),
    ("キャンセルしたいです", "注文 {order} を間違えて購入してしまいました。キャンセルできますか。"),
    ("配送先の変更", "注文 {order} の配送先を変更したいのですが、可能でしょうか。"),
    ("サイズについて", "{product}の直径は何センチですか。"),
)
BUYER_US = (
    ("Where is my order?", "Hi, my order {order} ({product}) has not arrived yet. Can you check?"),
    ("Item arrived damaged", "The {product} from order {order} arrived cracked. What can you do?"),
    ("Return request", "I would like to return the {product}, order {order}. It is smaller than I expected."),
    ("Question about the {product}", "Is the {product} dishwasher safe?"),
    ("Gift message", "Could you add a gift message to order {order}? It is a birthday present."),
    ("Invoice please", "Could you send an invoice for order {order}?"),
    ("Wrong item received", "I ordered the {product} (order {order}) but received something else."),
    ("Cancel my order", "Please cancel order {order}, I ordered it by mistake."),
)
THANKS_JP = ("ありがとうございました", "商品が無事に届きました。丁寧な梱包をありがとうございました。")
THANKS_US = ("Thank you!", "The package arrived today. Thank you, it is lovely.")
FOLLOW_UP_JP = "先日の件、まだご返信をいただいていません。どうなっていますでしょうか。"
FOLLOW_UP_US = "I have not heard back about this yet. Any update?"

#: (answer in Japanese, answer in English) per tone; the polite ones get a greeting and signature
ANSWERS_JP = {
    "polite": (
        "お問い合わせいただき、誠にありがとうございます。\nご注文の商品は本日発送いたしました。明日のお届け予定でございます。",
        "この度はご不便をおかけし、大変申し訳ございません。\n代替品を本日発送いたしました。お手数ですが、お手元の商品はご返送不要です。",
        "お問い合わせありがとうございます。\nご依頼の件、承りました。手続きが完了しましたらご連絡いたします。",
        "お問い合わせありがとうございます。\n電子レンジ・食洗機ともにお使いいただけます。",
    ),
    "plain": (
        "お問い合わせありがとうございます。\n明日発送予定です。",
        "ご連絡ありがとうございます。\n承知しました。対応いたします。",
    ),
    "late": (
        "ご返信が遅くなり、大変申し訳ございません。\nご注文の商品は本日発送いたしました。",
        "ご連絡が遅くなり申し訳ございません。\nご依頼の件、本日対応いたしました。",
    ),
    "curt": ("確認します。", "明日発送します。", "在庫はありません。", "説明文に書いてあります。確認してください。"),
    "rude": (
        "いい加減にしてください！！何度も同じことを聞くな。説明文くらい読め。",
        "しつこいです。発送済みだと言っているだろ。追跡番号くらい自分で見ろ。",
        "知らないよ。配送業者に聞いて。こっちは忙しいんだ。",
        "商品ページに書いてあるだろ。ちゃんと読んでから買え。",
    ),
}
ANSWERS_US = {
    "polite": (
        "Thank you for your message. Your order shipped today and should arrive tomorrow.",
        "We are very sorry for the trouble. A replacement ships today, and there is no need to return the item.",
        "Thank you for reaching out. We have taken care of your request and will confirm by email.",
    ),
    "plain": ("It ships tomorrow.", "Done, see the attached invoice."),
    "late": ("Sorry for the late reply. Your order shipped today.", "Apologies for the delay. We have processed your request today."),
    "curt": ("No.", "It is in the description.", "Check the tracking page."),
    "rude": (
        "Stop emailing me! It is not our problem, ask the carrier. This is ridiculous!!",
        "This is the third time you asked. Learn to read the tracking page yourself, idiot.",
        "What is wrong with you? Read the description!!",
    ),
}
AUTO_REPLY_JP = (
    "いつも さくら雑貨店 をご利用いただき、ありがとうございます。\n"
    "誠に勝手ながら、9月19日（土）から9月23日（水）まで休業いたします。\n"
    "いただいたお問い合わせには、9月24日（木）以降、順次ご返信いたします。"
)
AUTO_REPLY_US = "Thank you for your message. Our shop is closed from September 19 to 23; we will reply from September 24."

#: Seller Performance notices (subject, body); {asin}
PERF_JP_NOTICES = (
    ("【重要】出品者パフォーマンスに関するお知らせ（ASIN: {asin}）", "出品者様\n\n出荷遅延率が目標値を超えています。72時間以内に改善計画をご提出ください。\n\nAmazon.co.jp 出品者パフォーマンスチーム"),
    ("真贋に関する申し立てについて（ASIN: {asin}）", "出品者様\n\nお客様から真贋に関する申し立てを受けました。仕入れ先の請求書をご提出ください。\n\nAmazon.co.jp"),
    ("出品制限のお知らせ（ASIN: {asin}）", "出品者様\n\n以下の商品に出品制限がかかりました。改善計画をご提出ください。\n\nAmazon.co.jp"),
    ("知的財産権の侵害に関する申し立て（ASIN: {asin}）", "出品者様\n\n権利者から申し立てを受けました。72時間以内にご返信ください。\n\nAmazon.co.jp"),
)
PERF_US_NOTICES = (
    ("Policy warning: action required (ASIN {asin})", "Hello,\n\nWe received a complaint about listing {asin}. Please respond within 72 hours with a plan of action.\n\nSeller Performance Team"),
    ("Authenticity complaint: ASIN {asin}", "Hello,\n\nA customer reported that {asin} may not be authentic. Please send supplier invoices.\n\nSeller Performance Team"),
)
PERF_WARNING = (
    "【重要】購入者からのメッセージへの返信について（アカウント健全性）",
    "出品者様\n\n過去7日間に、24時間以内に返信されていない購入者からのメッセージが複数ありました。"
    "返信の遅れはアカウント健全性に影響します。改善計画をご提出ください。\n\nAmazon.co.jp 出品者パフォーマンスチーム",
)
PERF_ANSWER_JP = "ご担当者様\n\nご連絡ありがとうございます。\n1. 原因：確認体制の不備でした。\n2. 是正措置：該当の商品を停止いたしました。\n3. 再発防止策：出品前に二名で確認いたします。\n\n何卒よろしくお願いいたします。"
PERF_ANSWER_US = "Hello,\n\nThank you for the notice.\n1. Root cause: the listing was not reviewed.\n2. Actions taken: the listing is removed.\n3. Preventive measures: every listing is reviewed by a second person.\n\nKind regards,\nTaro"

#: Seller Support cases: (Japanese topic, English topic)
SUPPORT_TOPICS = (
    ("在庫の不一致", "inventory discrepancy"),
    ("FBA納品の受領", "FBA shipment receipt"),
    ("返金の補填申請", "reimbursement request"),
    ("出品ページの修正", "listing correction"),
    ("手数料の確認", "fee review"),
)

#: notifications: (market, subject, body); {order}
NOTICES = (
    ("jp", "ご注文の商品を発送しました", "注文番号 {order} の商品を発送しました。"),
    ("jp", "FBA納品を受領しました", "納品プランの受領が完了しました。"),
    ("jp", "在庫に関するお知らせ", "在庫が少なくなっている商品があります。"),
    ("jp", "お支払いのお知らせ", "今期のお支払いを開始しました。"),
    ("jp", "出品レポートの準備ができました", "<html><body><p>出品レポートの準備ができました。</p><p><a href='https://sellercentral.amazon.co.jp/'>セラーセントラル</a>でご確認ください。</p></body></html>"),
    ("us", "Sold, ship now: {product}", "Congratulations, you sold an item (order {order}). Ship it within 2 days."),
    ("us", "Your payout is on its way", "Your payout has been initiated."),
)


# --------------------------------------------------------------------------- rendering


def _render(
    *,
    sender: str,
    to: str,
    subject: str,
    body: str,
    at: datetime,
    message_id: str,
    sender_name: str = "",
    headers: Sequence[tuple[str, str]] = (),
    charset: str = "utf-8",
    encoding: str = "base64",
    html: bool = False,
) -> bytes:
    jis = charset == "iso-2022-jp"
    header_charset = "iso-2022-jp" if jis else "utf-8"
    subject_value = subject if subject.isascii() else Header(subject, header_charset).encode()
    from_value = f"{Header(sender_name, header_charset).encode()} <{sender}>" if sender_name else sender
    lines = [
        f"From: {from_value}",
        f"To: {to}",
        f"Subject: {subject_value}",
        f"Date: {format_datetime(at)}",
        f"Message-ID: <{message_id}>",
        *(f"{k}: {v}" for k, v in headers),
        "MIME-Version: 1.0",
        f"Content-Type: text/{'html' if html else 'plain'}; charset={'ISO-2022-JP' if jis else charset}",
        f"Content-Transfer-Encoding: {encoding}",
    ]
    data = body.replace("\n", "\r\n").encode(charset)
    if encoding == "base64":
        data = base64.encodebytes(data).replace(b"\n", b"\r\n")
    elif encoding == "quoted-printable":
        data = quopri.encodestring(data).replace(b"\n", b"\r\n")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii") + data + b"\r\n"


def _needs_charset(text: str) -> bool:
    """Whether the text needs more than US-ASCII (Japanese, or a curly quote)."""
    return not text.isascii()


# --------------------------------------------------------------------------- generation


@dataclass
class _Builder:
    rng: random.Random
    now: datetime
    reply_stop: datetime
    messages: list[HistoryMessage] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)
    serial: int = 0

    # -- identifiers ------------------------------------------------------------------------

    def message_id(self, own: bool) -> str:
        self.serial += 1
        token = f"{self.rng.getrandbits(64):016x}"
        if own:  # as the seller's mail program writes them
            return f"{token[:8]}-{token[8:12]}-{token[12:]}.{self.serial:04d}@sakura-zakka.example.jp"
        return f"0106{token}-{self.serial:04d}-000000@email.amazonses.com"

    def order(self, market: str) -> str:
        head = "503" if market == "jp" else self.rng.choice(("111", "112", "113", "114"))
        return f"{head}-{self.rng.randrange(10**7):07d}-{self.rng.randrange(10**7):07d}"

    def buyer_address(self, market: str) -> str:
        alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
        local = "".join(self.rng.choice(alphabet) for _ in range(16))
        return f"{local}@{RELAY[market]}"

    def asin(self) -> str:
        alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
        return "B0" + "".join(self.rng.choice(alphabet) for _ in range(8))

    # -- the seller's clock -----------------------------------------------------------------

    def seller_time(self, t: datetime) -> datetime:
        """When the seller can have done something wanted at ``t``: not during Silver Week,
        not at night (23:00–08:00 JST), not on a Sunday."""
        local = t.astimezone(JST)
        for _ in range(4):
            if VACATION[0] <= local < VACATION[1]:
                local = VACATION[1] + timedelta(minutes=self.rng.uniform(0, 52 * 60))
            if local.hour >= 23:
                local = (local + timedelta(days=1)).replace(hour=8, minute=0) + timedelta(minutes=self.rng.uniform(0, 90))
            elif local.hour < 8:
                local = local.replace(hour=8, minute=0) + timedelta(minutes=self.rng.uniform(0, 90))
            if local.weekday() == 6:
                local = (local + timedelta(days=1)).replace(hour=9, minute=0) + timedelta(minutes=self.rng.uniform(0, 120))
        return local.replace(microsecond=0)

    def reply_time(self, received: datetime, median_hours: float) -> datetime:
        hours = min(self.rng.lognormvariate(math.log(median_hours), 0.9), 10 * 24.0)
        at = self.seller_time(received + timedelta(hours=max(hours, 0.2)))
        return self.clamp(received, at)

    def clamp(self, received: datetime, at: datetime) -> datetime:
        if at > self.reply_stop:  # the history's replies end before the bundled sample's days
            at = max(received + timedelta(minutes=20), self.reply_stop - timedelta(minutes=self.rng.uniform(0, 120)))
        return at

    # -- messages ---------------------------------------------------------------------------

    def add(self, message: HistoryMessage) -> HistoryMessage:
        self.messages.append(message)
        return message

    def inbound(
        self, sender: str, subject: str, body: str, at: datetime, category: str, *, name: str = "", headers: Sequence[tuple[str, str]] = (), html: bool = False
    ) -> HistoryMessage:
        mid = self.message_id(own=False)
        jp = _needs_charset(subject + body)
        if jp:
            charset, encoding = self.rng.choice((("iso-2022-jp", "7bit"), ("utf-8", "base64"), ("utf-8", "base64"), ("utf-8", "quoted-printable")))
        else:
            charset, encoding = ("us-ascii", "7bit") if (subject + body + name).isascii() else ("utf-8", "quoted-printable")
        data = _render(
            sender=sender, to=SHOP, subject=subject, body=body, at=at.astimezone(UTC), message_id=mid,
            sender_name=name, headers=headers, charset=charset, encoding=encoding, html=html,
        )
        return self.add(HistoryMessage(data=data, role="inbox", message_id=mid, category=category, at=at, subject=subject))

    def sent(
        self,
        to: str,
        subject: str,
        body: str,
        at: datetime,
        *,
        refer: HistoryMessage | None = None,
        tone: str | None = None,
        auto: bool = False,
        auto_headers: bool = False,
    ) -> HistoryMessage:
        mid = self.message_id(own=True)
        headers: list[tuple[str, str]] = []
        if refer is not None:
            headers += [("In-Reply-To", f"<{refer.message_id}>"), ("References", f"<{refer.message_id}>")]
        if auto_headers:
            headers += [("Auto-Submitted", "auto-replied"), ("X-Autoreply", "yes")]
        jp = _needs_charset(subject + body)
        charset, encoding = ("utf-8", "base64") if jp else ("us-ascii", "7bit")
        data = _render(
            sender=SHOP, to=to, subject=subject, body=body, at=at.astimezone(JST), message_id=mid,
            sender_name=SHOP_NAME, headers=headers, charset=charset, encoding=encoding,
        )
        return self.add(HistoryMessage(data=data, role="sent", message_id=mid, category="outbound", at=at, subject=subject, auto_reply=auto, tone=tone))

    def settle(self, message: HistoryMessage, outcome: str, reply_at: datetime | None = None, via: str | None = None) -> None:
        """Record what ``message`` is meant to end as (the messages are frozen: replace it)."""
        index = next(i for i, m in enumerate(self.messages) if m is message)
        if outcome in (ON_TIME, LATE) and reply_at is not None:
            outcome = LATE if reply_at - message.at > timedelta(hours=24) else ON_TIME
        self.messages[index] = HistoryMessage(
            **{**message.__dict__, "outcome": outcome, "reply_at": reply_at, "via": via}
        )


def _quote(original: HistoryMessage, sender: str, body: str) -> str:
    when = original.at.astimezone(JST).strftime("%Y/%m/%d %H:%M")
    quoted = "\n".join(f"> {line}" for line in body.strip().splitlines())
    return f"\n\n{when}, {sender}:\n{quoted}\n"


def _sign(text: str, greeting: str, english: bool) -> str:
    if english:
        return f"{greeting}\n\n{text}\n\nKind regards,\nTaro\n--\nSakura Zakka\n{SHOP}\n"
    return f"{greeting}\n\n{text}\n\nよろしくお願いいたします。\n--\n{SHOP_NAME}\n{SHOP}\n"


def _pick_tone(rng: random.Random, week: Week, late: bool) -> str:
    roll = rng.random()
    if roll < week.rude:
        return "rude"
    if roll < week.rude + week.curt:
        return "curt"
    if late:
        return "late"
    return "polite" if rng.random() < 0.7 else "plain"


def generate_history(seed: int = DEFAULT_SEED, *, now: datetime = DEMO_NOW, weeks: int = WEEKS) -> History:
    """The seller's mail over ``weeks`` weeks ending at ``now`` (inbound mail stops
    :data:`INBOUND_STOP` before it), the same bytes for the same arguments. The weekly
    profile (:data:`PROFILE`) is stretched or cut to ``weeks``; the story's dates (Silver Week,
    the catch-up) are fixed in the calendar, so they only apply when the span covers them."""
    if weeks < 1:
        raise ValueError("weeks must be at least 1")
    rng = random.Random(seed)
    b = _Builder(rng=rng, now=now, reply_stop=now - REPLY_STOP)
    start = now - timedelta(weeks=weeks)
    inbound_stop = now - INBOUND_STOP
    for w in range(weeks):
        week = PROFILE[round(w * (len(PROFILE) - 1) / max(weeks - 1, 1))] if weeks != len(PROFILE) else PROFILE[w]
        week_start = start + timedelta(weeks=w)
        events: list[tuple[datetime, str]] = []
        limit = min(week_start + timedelta(weeks=1), inbound_stop)
        awake = (7, 8, 9, 10, 11, 12, 12, 13, 14, 15, 16, 18, 19, 20, 20, 21, 21, 22, 23, 0)
        for _ in range(max(0, week.buyers + rng.randint(-2, 2))):
            _arrive(rng, events, week_start, limit, "buyer_jp" if rng.random() < 0.7 else "buyer_us", awake)
        for _ in range(rng.choice((0, 1, 1, 2))):
            _arrive(rng, events, week_start, limit, "support", (10, 11, 13, 14, 15, 16, 17))
        if rng.random() < 0.6:
            _arrive(rng, events, week_start, limit, "perf", (2, 4, 9, 11, 15, 17))
        if week.warning:
            _arrive(rng, events, week_start, limit, "perf_warning", (9, 10, 11))
        for _ in range(rng.randint(2, 4)):
            _arrive(rng, events, week_start, limit, "notice", (1, 3, 6, 9, 12, 15, 18, 21))
        for at, kind in sorted(events):
            if kind.startswith("buyer"):
                _buyer(b, week, at, kind[-2:])
            elif kind == "support":
                _support(b, week, at)
            elif kind.startswith("perf"):
                _performance(b, week, at, warning=kind == "perf_warning")
            else:
                _notice(b, at)
    messages = sorted(b.messages, key=lambda m: (m.at, m.role, m.message_id))
    return History(seed=seed, now=now, weeks=weeks, messages=tuple(messages), marks=tuple(sorted(b.marks, key=lambda k: (k.at, k.message_id))))


def _arrive(rng: random.Random, events: list[tuple[datetime, str]], week_start: datetime, limit: datetime, kind: str, hours: Sequence[int]) -> None:
    """A message of ``kind`` on a random day of the week, at one of ``hours`` (JST)."""
    day = rng.randrange(7)
    at = (week_start.astimezone(JST) + timedelta(days=day)).replace(hour=rng.choice(hours), minute=rng.randrange(60), second=rng.randrange(60))
    if week_start <= at < limit:
        events.append((at, kind))


def _missed(b: _Builder, message: HistoryMessage, week: Week) -> datetime | None:
    """Whether ``message`` is forgotten in a bad week: None when not; else it is either
    answered in the end-of-October catch-up (the time returned: very late) or never (settled
    as NO_RESPONSE, returns ``message.at``)."""
    if b.rng.random() >= week.miss:
        return None
    if message.at < CATCH_UP - timedelta(days=3) and b.rng.random() < 0.6:
        return b.clamp(message.at, b.seller_time(CATCH_UP + timedelta(hours=b.rng.uniform(0, 72))))
    b.settle(message, NO_RESPONSE)
    return message.at


def _buyer(b: _Builder, week: Week, at: datetime, market: str) -> None:
    rng = b.rng
    english = market == "us"
    sender = b.buyer_address(market)
    name = f"{rng.choice(US_FIRST)} {rng.choice(US_LAST)}" if english else f"{rng.choice(JP_SURNAMES)} {rng.choice(JP_GIVEN)}"
    product = rng.choice(PRODUCTS_US if english else PRODUCTS_JP)
    order = b.order(market)

    if rng.random() < 0.07:  # a thank-you note: nothing to answer, dismissed
        subject, body = THANKS_US if english else THANKS_JP
        message = b.inbound(sender, subject, body, at, "buyer", name=name)
        dismissed_at = b.clamp(at, b.seller_time(at + timedelta(hours=rng.uniform(0.5, 8))))
        b.marks.append(Mark(message.message_id, "dismissed", dismissed_at, "thanks only, no reply needed" if english else "お礼のみ・返信不要"))
        b.settle(message, DISMISSED)
        return

    subject, question = rng.choice(BUYER_US if english else BUYER_JP)
    subject = subject.format(product=product)
    body = question.format(order=order, product=product)
    message = b.inbound(sender, subject, body, at, "buyer", name=name)

    if VACATION[0] <= at.astimezone(JST) < VACATION[1]:  # the out-of-office responder, at once
        auto_at = at + timedelta(seconds=rng.randint(20, 180))
        headers = rng.random() < 0.5  # some responders set Auto-Submitted, some only the subject
        auto_subject = f"Automatic reply: {subject}" if english else f"【自動返信】{subject}"
        b.sent(sender, auto_subject, AUTO_REPLY_US if english else AUTO_REPLY_JP, auto_at, refer=message, auto=True, auto_headers=headers)

    forgotten = _missed(b, message, week)
    if forgotten == at:
        return
    reply_at = forgotten or b.reply_time(at, week.median_hours)
    late = reply_at - at > timedelta(hours=24)

    if rng.random() < 0.08:  # answered in Seller Central's buyer messages: a manual mark
        b.marks.append(Mark(message.message_id, "replied", reply_at))
        b.settle(message, ON_TIME, reply_at, "manual")
        return

    refer: HistoryMessage = message
    via = "references"
    if late and rng.random() < 0.35:  # the buyer asks again before the answer comes
        asked = at + timedelta(hours=rng.uniform(12, max(12.5, (reply_at - at).total_seconds() / 3600 - 1)))
        if asked < reply_at:
            # A subject of its own: only the thread (References) ties the reply to the first.
            again = f"Second request: {subject}" if english else f"【再送】{subject}"
            thread = [("In-Reply-To", f"<{message.message_id}>"), ("References", f"<{message.message_id}>")]
            refer = b.inbound(sender, again, FOLLOW_UP_US if english else FOLLOW_UP_JP, asked, "buyer", name=name, headers=thread)
            b.settle(refer, ON_TIME, reply_at, "references")
            via = "thread"

    tone = _pick_tone(rng, week, late)
    answer = rng.choice((ANSWERS_US if english else ANSWERS_JP)[tone])
    greeting = f"Hello {name.split()[0]}," if english else f"{name.split()[0]}様"
    text = _sign(answer, greeting, english) if tone in ("polite", "plain", "late") else answer + "\n"
    style = rng.random()
    # A reply by subject alone counts within the matcher's window only (hygiene.threads).
    if via == "thread" or style < 0.72 or reply_at - at > SUBJECT_WINDOW - timedelta(days=1):
        reply_subject = f"Re: {refer.subject}"
        if rng.random() < 0.6:
            text += _quote(refer, sender, body if refer is message else (FOLLOW_UP_US if english else FOLLOW_UP_JP))
        b.sent(sender, reply_subject, text, reply_at, refer=refer, tone=tone)
    elif style < 0.86 or order not in body:  # a mail app that keeps the subject, not the headers
        b.sent(sender, f"Re: {subject}", text, reply_at, tone=tone)
        via = "subject"
    else:  # a new mail naming the order
        b.sent(sender, f"ご注文 {order} について" if not english else f"About your order {order}", text if order in text else f"{text}\n({order})\n", reply_at, tone=tone)
        via = "order_id"
    b.settle(message, ON_TIME, reply_at, via)


def _support(b: _Builder, week: Week, at: datetime) -> None:
    rng = b.rng
    english = rng.random() < 0.25
    case = f"1{rng.randrange(10**10):010d}"
    topic_jp, topic_en = rng.choice(SUPPORT_TOPICS)
    if english:
        sender, subject = SUPPORT["us"], f"Case ID {case} - {topic_en}"
        body = f"Hello,\n\nWe are looking into your {topic_en}. Please send the shipment ID and any supporting documents.\n\nSeller Support"
    else:
        sender, subject = SUPPORT["jp"], f"ケースID: {case} {topic_jp}について"
        body = f"出品者様\n\nお問い合わせいただいた{topic_jp}について、追加の情報をお知らせください。\n\nAmazon出品サポート"
    message = b.inbound(sender, subject, body, at, "seller_support")
    forgotten = _missed(b, message, week)
    if forgotten == at:
        return
    reply_at = forgotten or b.reply_time(at, week.median_hours * 1.3)
    if rng.random() < 0.5:  # a new mail naming the case, as Seller Support asks
        reply_subject = f"Case ID {case}: {topic_en}" if english else f"{topic_jp}の件（ケースID: {case}）"
        text = "Hello,\n\nPlease find the shipment ID and the invoice attached.\n\nKind regards,\nTaro\n" if english else "ご担当者様\n\nいつもお世話になっております。\nご依頼の資料を添付いたします。ご確認のほどよろしくお願いいたします。\n"
        b.sent(sender, reply_subject, text, reply_at, tone="polite")
        b.settle(message, ON_TIME, reply_at, "case_id")
    else:
        text = "Hello,\n\nThe shipment ID is FBA18XYZ. Thank you for your help.\n\nKind regards,\nTaro\n" if english else "ご担当者様\n\nお世話になっております。納品プランIDは FBA18XYZ です。\nよろしくお願いいたします。\n"
        b.sent(sender, f"Re: {subject}", text + _quote(message, sender, body), reply_at, refer=message, tone="polite")
        b.settle(message, ON_TIME, reply_at, "references")


def _performance(b: _Builder, week: Week, at: datetime, *, warning: bool) -> None:
    rng = b.rng
    english = not warning and rng.random() < 0.3
    asin = b.asin()
    if warning:  # dated: two warnings never share a subject
        sender, (subject, body) = PERF["jp"], PERF_WARNING
        subject = f"{subject}（{at.astimezone(JST):%Y年%m月%d日}）"
    elif english:
        sender = PERF["us"]
        subject, body = (s.format(asin=asin) for s in rng.choice(PERF_US_NOTICES))
    else:
        sender = PERF["jp"]
        subject, body = (s.format(asin=asin) for s in rng.choice(PERF_JP_NOTICES))
    message = b.inbound(sender, subject, body, at, "account_health")
    # Feared more than anything: answered faster, never left unanswered.
    reply_at = b.reply_time(at, max(1.5, week.median_hours * 0.5))
    if rng.random() < 0.5:  # answered on the Account Health page: a manual mark
        b.marks.append(Mark(message.message_id, "replied", reply_at))
        b.settle(message, ON_TIME, reply_at, "manual")
        return
    text = PERF_ANSWER_US if english else PERF_ANSWER_JP
    b.sent(sender, f"Re: {subject}", text + _quote(message, sender, body), reply_at, refer=message, tone="polite")
    b.settle(message, ON_TIME, reply_at, "references")


def _notice(b: _Builder, at: datetime) -> None:
    rng = b.rng
    market, subject, body = rng.choice(NOTICES)
    product = rng.choice(PRODUCTS_US if market == "us" else PRODUCTS_JP)
    message = b.inbound(
        NOREPLY[market], subject.format(product=product), body.format(order=b.order(market)), at, "notification", html=body.startswith("<html>")
    )
    b.settle(message, NO_REPLY_NEEDED)


# --------------------------------------------------------------------------- summaries


def weekly_counts(history: History) -> list[dict[str, Any]]:
    """Per week (oldest first): inbound per category, sent, and the outcomes — what the
    README and the tests describe."""
    start = history.now - timedelta(weeks=history.weeks)
    rows: list[dict[str, Any]] = []
    for w in range(history.weeks):
        lo, hi = start + timedelta(weeks=w), start + timedelta(weeks=w + 1)
        week = [m for m in history.messages if lo <= m.at < hi]
        row: dict[str, Any] = {"week": w + 1, "from": lo.astimezone(JST).date().isoformat()}
        for category in ("buyer", "account_health", "seller_support", "notification"):
            row[category] = sum(m.category == category for m in week)
        row["sent"] = sum(m.role == "sent" for m in week)
        for outcome in (ON_TIME, LATE, NO_RESPONSE, DISMISSED):
            row[outcome] = sum(m.outcome == outcome for m in week)
        rows.append(row)
    return rows

