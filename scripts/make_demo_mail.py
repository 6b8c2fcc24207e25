#!/usr/bin/env python3
"""Write the sample mailbox ``hygiene demo`` ships (src/hygiene/demo/mail + manifest.json).

The mail of さくら雑貨店 (a Japanese seller with a JP and a US store) as it stands at the
demo clock, 2026-11-20 09:00 JST: buyers, Seller Performance, Seller Support and
notifications, in Japanese and English, in the encodings real mail uses (ISO-2022-JP,
Shift_JIS, UTF-8 base64 and quoted-printable, an HTML-only notice); replies on time, late and
missing; some answered only in Seller Central; a polite and an angry sent reply; a vacation
auto-reply that must not count. Deterministic: run it again and the files are the same.

These are the demo's last days. The 12 weeks before them are not files: ``hygiene demo``
generates them in memory from the manifest's ``history`` seed (src/hygiene/demo/history.py).

    python scripts/make_demo_mail.py
"""

from __future__ import annotations

import base64
import json
import quopri
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.header import Header
from email.utils import format_datetime
from pathlib import Path

JST = timezone(timedelta(hours=9))
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=JST)
SHOP = "shop@sakura-zakka.example.jp"
SHOP_NAME = "さくら雑貨店 山田太郎"
OUT = Path(__file__).resolve().parents[1] / "src" / "hygiene" / "demo"

PERF_JP = "seller-performance@amazon.co.jp"
PERF_US = "seller-performance@amazon.com"
SUPPORT_JP = "seller-support@amazon.co.jp"
NOREPLY_JP = "no-reply@amazon.co.jp"
NOREPLY_US = "donotreply@amazon.com"


def buyer_jp(n: int) -> str:
    return f"{n:04d}xk7q9mz2lwbd@marketplace.amazon.co.jp"


def buyer_us(n: int) -> str:
    return f"{n:04d}r8t2v5ncp3hs@marketplace.amazon.com"


@dataclass
class Mail:
    file: str
    sender: str
    to: str
    subject: str
    body: str
    hours_ago: float
    charset: str = "utf-8"
    encoding: str = "base64"  # base64 | quoted-printable | 7bit | 8bit
    html: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    sender_name: str = ""
    manifest: dict[str, object] = field(default_factory=dict)

    @property
    def message_id(self) -> str:
        stem = Path(self.file).stem
        domain = "sakura-zakka.example.jp" if self.file.startswith("Sent/") else "amazon.example"
        return f"{stem}.demo@{domain}"

    def render(self) -> bytes:
        date = format_datetime(NOW - timedelta(hours=self.hours_ago))
        subject_charset = "iso-2022-jp" if self.charset == "iso-2022-jp" else "utf-8"
        subject = Header(self.subject, subject_charset).encode() if not self.subject.isascii() else self.subject
        sender = self.sender
        if self.sender_name:
            sender = f"{Header(self.sender_name, subject_charset).encode()} <{self.sender}>"
        lines = [
            f"From: {sender}",
            f"To: {self.to}",
            f"Subject: {subject}",
            f"Date: {date}",
            f"Message-ID: <{self.message_id}>",
            *[f"{k}: {v}" for k, v in self.headers.items()],
            "MIME-Version: 1.0",
            f"Content-Type: text/{'html' if self.html else 'plain'}; charset={self.charset.upper() if self.charset == 'iso-2022-jp' else self.charset}",
            f"Content-Transfer-Encoding: {self.encoding}",
        ]
        body = self.body.replace("\n", "\r\n").encode(self.charset)
        if self.encoding == "base64":
            body = base64.encodebytes(body).replace(b"\n", b"\r\n")
        elif self.encoding == "quoted-printable":
            body = quopri.encodestring(body).replace(b"\n", b"\r\n")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii") + body + b"\r\n"


def sign(text: str) -> str:
    name = "Sakura Zakka, Taro Yamada" if text.isascii() else SHOP_NAME
    return f"{text}\n\n--\n{name}\n{SHOP}\n"


def quote(original: Mail) -> str:
    when = (NOW - timedelta(hours=original.hours_ago)).strftime("%Y年%m月%d日 %H:%M")
    quoted = "\n".join(f"> {line}" for line in original.body.strip().splitlines())
    return f"\n\n{when} {original.sender}:\n{quoted}\n"


def build() -> list[Mail]:
    mails: list[Mail] = []
    inbound = 0
    sent = 0

    def inbox(sender: str, subject: str, body: str, hours_ago: float, state: str, **kwargs: object) -> Mail:
        nonlocal inbound
        inbound += 1
        mail = Mail(f"INBOX/i{inbound:03d}.eml", sender, SHOP, subject, body, hours_ago, **kwargs)  # type: ignore[arg-type]
        mail.manifest["expected_state"] = state
        mails.append(mail)
        return mail

    def reply(to: Mail | str, subject: str, body: str, hours_ago: float, *, refer: Mail | None = None, **kwargs: object) -> Mail:
        nonlocal sent
        sent += 1
        headers: dict[str, str] = dict(kwargs.pop("headers", {}) or {})  # type: ignore[arg-type]
        if refer is not None:
            headers["In-Reply-To"] = f"<{refer.message_id}>"
            headers["References"] = f"<{refer.message_id}>"
        address = to.sender if isinstance(to, Mail) else to
        mail = Mail(f"Sent/s{sent:03d}.eml", SHOP, address, subject, body, hours_ago, headers=headers, sender_name=SHOP_NAME, **kwargs)  # type: ignore[arg-type]
        mails.append(mail)
        return mail

    # -- buyers, JP store -------------------------------------------------------------------
    b = inbox(buyer_jp(1), "商品の到着予定について", "いつ頃届きますでしょうか。注文番号 503-1184230-5592137 です。", 50, "replied", sender_name="佐藤 花子")
    reply(b, "Re: 商品の到着予定について", sign("佐藤様\n\nお問い合わせありがとうございます。\nご注文の商品は本日発送いたしました。明日のお届け予定です。\n\nよろしくお願いいたします。") + quote(b), 47, refer=b)

    b = inbox(buyer_jp(2), "サイズ交換をお願いしたいです", "Mサイズを購入しましたが、Lサイズに交換できますか。", 62, "replied", sender_name="鈴木 一郎", encoding="quoted-printable")
    reply(b, "Re: サイズ交換をお願いしたいです", sign("鈴木様\n\nご返信が遅くなり申し訳ございません。\nLサイズへの交換を承りました。返送用の伝票をお送りいたします。\n\nよろしくお願いいたします。"), 33, refer=b)

    inbox(buyer_jp(3), "注文 503-2290117-4471820 の配送状況", "発送予定日を過ぎていますが、まだ発送されていないようです。確認をお願いします。", 20, "due_soon", sender_name="高橋 健")
    inbox(buyer_jp(4), "ギフト包装について", "プレゼント用に包装をお願いできますか。", 3, "pending", sender_name="田中 美咲")
    inbox(buyer_jp(5), "返品について", "イメージと違ったので返品したいです。手続きを教えてください。", 40, "late", sender_name="伊藤 誠")
    inbox(buyer_jp(6), "商品が破損していました", "届いた商品の箱が潰れていて、中の器が割れていました。写真を添付します。", 60, "critical", sender_name="渡辺 由美")

    b = inbox(buyer_jp(7), "お問い合わせ（注文番号 503-3381452-9902145）", "領収書の宛名を変更できますか。", 26, "replied", sender_name="山本 大輔")
    reply(b.sender, "発送のご連絡", sign("山本様\n\nご注文 503-3381452-9902145 の領収書を、ご指定の宛名で再発行いたしました。\n\nよろしくお願いいたします。"), 24)

    b = inbox(buyer_jp(8), "色違いの在庫はありますか", "この湯呑みの青色はありますか。", 10, "replied", sender_name="中村 愛")
    reply(b.sender, "Re: 色違いの在庫はありますか", sign("中村様\n\nお問い合わせありがとうございます。青色は在庫がございます。\n\nよろしくお願いいたします。"), 9)

    first = inbox(buyer_jp(9), "領収書の発行について", "領収書をいただけますか。", 31, "replied", sender_name="小林 翔")
    second = inbox(buyer_jp(9), "Re: 領収書の発行について", "先ほどの件、宛名は「小林商店」でお願いします。", 30, "replied", sender_name="小林 翔", headers={"In-Reply-To": f"<{first.message_id}>"})
    reply(second, "Re: 領収書の発行について", sign("小林様\n\n「小林商店」様宛ての領収書をお送りいたします。\n\nよろしくお願いいたします。"), 28, refer=second)

    b = inbox(buyer_jp(10), "キャンセルしたいです", "間違えて注文してしまいました。キャンセルできますか。", 20, "replied", sender_name="加藤 さくら")
    b.manifest["seller_central_reply_at"] = "2026-11-19T18:00:00+09:00"  # answered in Seller Central's buyer messages

    b = inbox(buyer_jp(11), "まだ届きません", "一週間たっても届きません。どうなっていますか。", 45, "replied", sender_name="吉田 剛")
    angry = reply(b, "Re: まだ届きません", "何度も同じことを聞かないでください！！発送済みだと言っているだろ。追跡番号くらい自分で見ろ。こっちも忙しいんだよ。", 44, refer=b)
    angry.manifest["tone"] = "angry"

    b = inbox(buyer_jp(12), "初期不良について", "電源が入りません。初期不良ではないでしょうか。", 36, "replied", sender_name="山田 陽子")
    polite = reply(b, "Re: 初期不良について", sign("山田様\n\nいつも当店をご利用いただき、誠にありがとうございます。\nこの度はご不便をおかけし、大変申し訳ございません。\nお手数をおかけしますが、商品をご返送いただけますでしょうか。到着を確認次第、新しい商品をお送りいたします。\n\n何卒よろしくお願いいたします。"), 35, refer=b)
    polite.manifest["tone"] = "polite"

    b = inbox(buyer_jp(13), "在庫確認のお願い", "この商品は年内に再入荷しますか。", 26, "late", sender_name="佐々木 亮")
    # The out-of-office responder answered at once; Amazon does not count that as a reply.
    reply(b, "自動返信: 在庫確認のお願い", "ただいま休暇をいただいております。11月21日以降に順次ご返信いたします。", 26, refer=b, headers={"Auto-Submitted": "auto-replied", "X-Autoreply": "yes"})

    inbox(buyer_jp(14), "配送先変更のお願い", "配送先を実家に変更したいのですが、可能でしょうか。", 5, "pending", sender_name="松本 恵", charset="shift_jis", encoding="8bit")

    # -- buyers, US store -------------------------------------------------------------------
    b = inbox(buyer_us(1), "Where is my order?", "Hi, my order 113-4459921-0034516 has not arrived yet. Can you check?", 70, "replied", sender_name="Emily Johnson", charset="utf-8", encoding="quoted-printable")
    reply(b, "Re: Where is my order?", sign("Hello Emily,\n\nThank you for your message. Your order shipped on November 16 and is out for delivery today.\n\nKind regards,\nTaro"), 68, refer=b)
    inbox(buyer_us(2), "Question about compatibility", "Does this teapot work on an induction stove?", 22, "due_soon", sender_name="Michael Brown", encoding="7bit", charset="us-ascii")
    inbox(buyer_us(3), "Return request", "I would like to return the mug set, it is too small.", 12, "pending", sender_name="Sarah Davis", encoding="7bit", charset="us-ascii")
    b = inbox(buyer_us(4), "Item arrived damaged", "The bowl arrived cracked. What can you do?", 30, "replied", sender_name="David Wilson", encoding="7bit", charset="us-ascii")
    reply(b, "Re: Item arrived damaged", sign("Hello David,\n\nWe are very sorry the bowl arrived damaged. A replacement ships today, and there is no need to return the broken one.\n\nKind regards,\nTaro"), 1, refer=b)

    # -- Seller Performance / account health ----------------------------------------------------
    inbox(PERF_JP, "【重要】出品者パフォーマンスに関するお知らせ", "出品者様\n\n出荷遅延率が目標値を超えています。72時間以内に改善計画をご提出ください。\n\nAmazon.co.jp 出品者パフォーマンスチーム", 20, "due_soon", charset="iso-2022-jp", encoding="7bit")
    inbox(PERF_JP, "アカウント健全性に関する警告", "出品者様\n\nお客様から真贋に関する申し立てを受けました。12時間以内にご返信ください。\n\nAmazon.co.jp", 8, "due_soon", charset="iso-2022-jp", encoding="7bit")
    p = inbox(PERF_US, "Policy warning: action required", "Hello,\n\nWe received a complaint about listing B0C8812345. Please respond within 72 hours with a plan of action.\n\nSeller Performance Team", 50, "replied")
    reply(p, "Re: Policy warning: action required", sign("Hello,\n\nThank you for the notice. Summary: we have removed the listing and added a second check before publishing.\n\n1. Root cause: the description was copied from the supplier without review.\n2. Actions taken: the listing is removed.\n3. Preventive measures: every new listing is reviewed by a second person.\n\nKind regards,\nTaro"), 41, refer=p)
    inbox(PERF_JP, "出品制限のお知らせ", "出品者様\n\n一部の商品に出品制限がかかりました。2026年11月21日までに改善計画をご提出ください。", 30, "late", charset="iso-2022-jp", encoding="7bit")
    inbox(PERF_US, "Your Amazon.com selling privileges have been removed", "Hello,\n\nYour selling privileges have been removed because of a high order defect rate. Submit a plan of action to reactivate your account.", 55, "critical", encoding="7bit", charset="us-ascii")
    p = inbox(PERF_JP, "真贋調査に関するお知らせ", "出品者様\n\n以下の商品について真贋調査を行っています。仕入れ先の請求書をご提出ください。", 30, "replied")
    p.manifest["seller_central_reply_at"] = "2026-11-19T10:00:00+09:00"  # answered on the Account Health page

    # -- Seller Support cases -----------------------------------------------------------------
    s = inbox(SUPPORT_JP, "ケースID: 12948833071 お問い合わせいただいた件について", "出品者様\n\nお問い合わせいただいた在庫の不一致について、追加の情報をお知らせください。\n\nAmazonテクニカルサポート", 28, "replied")
    reply(SUPPORT_JP, "在庫不一致の件（ケースID: 12948833071）", sign("ご担当者様\n\nいつもお世話になっております。\nご依頼の在庫レポートを添付いたします。ご確認のほどよろしくお願いいたします。"), 27)
    _ = s
    inbox("seller-support@amazon.com", "Case ID 13009876543 - Inventory reimbursement", "Hello,\n\nWe are reviewing your reimbursement request. Please confirm the shipment ID.\n\nSeller Support", 6, "pending")
    inbox(SUPPORT_JP, "ケースID: 13100000077 のご連絡", "出品者様\n\nFBA納品の受領について確認が必要です。納品プランIDをお知らせください。", 26, "late")

    # -- notifications (no reply expected) ------------------------------------------------------
    inbox(NOREPLY_JP, "ご注文の商品を発送しました", "注文番号 503-1184230-5592137 の商品を発送しました。", 46, "no_reply_needed")
    html = "<html><body><h1>出品レポート</h1><p>11月の出品レポートの準備ができました。</p><p><a href='https://sellercentral.amazon.co.jp/'>セラーセントラル</a>でご確認ください。</p></body></html>"
    inbox(NOREPLY_JP, "出品レポートの準備ができました", html, 15, "no_reply_needed", html=True)
    inbox(NOREPLY_US, "Your payout is on its way", "Your payout of $1,284.50 has been initiated.", 30, "no_reply_needed", encoding="7bit", charset="us-ascii")
    inbox(NOREPLY_US, "Sold, ship now: Ceramic Teapot", "Congratulations, you sold an item. Ship by November 21.", 4, "no_reply_needed", encoding="7bit", charset="us-ascii")
    inbox(NOREPLY_JP, "在庫に関するお知らせ", "在庫が少なくなっている商品があります。", 70, "no_reply_needed", charset="iso-2022-jp", encoding="7bit")
    inbox(NOREPLY_JP, "FBA納品を受領しました", "納品プラン FBA15ABCDEF の受領が完了しました。", 18, "no_reply_needed")

    # -- the weeks before: answered, at different speeds (the response-time history) ------------
    topics = [
        ("ラッピングについて", "包装紙の色を選べますか。", "包装紙は赤と紺からお選びいただけます。"),
        ("配達日時の指定", "土曜日の午前に届けてもらえますか。", "土曜日午前のお届けで手配いたしました。"),
        ("商品の素材について", "この器は電子レンジで使えますか。", "電子レンジでお使いいただけます。"),
        ("請求書の発行", "会社宛ての請求書をお願いします。", "請求書をお送りいたしました。"),
        ("まとめ買いの割引", "10個まとめて買うと割引はありますか。", "10個以上で5%お値引きいたします。"),
        ("再入荷のお知らせ", "黒色は再入荷しますか。", "来週再入荷の予定でございます。"),
        ("傷について", "小さな傷がありました。", "ご迷惑をおかけし申し訳ございません。交換品をお送りいたします。"),
        ("届いていません", "追跡番号を教えてください。", "追跡番号をお知らせいたします。"),
    ]
    delays = [0.5, 2, 5, 9, 20, 30, 3, 1.5]
    for i, ((subject, question, answer), delay) in enumerate(zip(topics, delays, strict=True)):
        asked = 24 * (6 + i * 2) + 3
        q = inbox(buyer_jp(20 + i), subject, question, asked, "replied", sender_name=f"購入者{i + 1}")
        reply(q, f"Re: {subject}", sign(f"お問い合わせありがとうございます。\n{answer}\n\nよろしくお願いいたします。"), asked - delay, refer=q)
    us_topics = [("Gift message", "Can you add a gift message?", "Yes, we added your gift message."),
                 ("Dishwasher safe?", "Is the bowl dishwasher safe?", "Yes, it is dishwasher safe."),
                 ("Invoice please", "Could you send an invoice?", "The invoice is attached."),
                 ("Wrong color", "I received the wrong color.", "We are sorry; the right color ships today.")]
    for i, ((subject, question, answer), delay) in enumerate(zip(us_topics, [4, 26, 1, 7], strict=True)):
        asked = 24 * (7 + i * 3) + 5
        q = inbox(buyer_us(20 + i), subject, question, asked, "replied", encoding="7bit", charset="us-ascii")
        reply(q, f"Re: {subject}", sign(f"Hello,\n\nThank you for your message. {answer}\n\nKind regards,\nTaro"), asked - delay, refer=q, encoding="7bit", charset="us-ascii")

    # -- not from Amazon: left out by the classification rules -----------------------------------
    inbox("news@ceramics-wholesale.example.com", "今週の新商品のご案内", "新商品が入荷しました。", 12, "skipped")
    return mails


def main() -> int:
    mails = build()
    mail_dir = OUT / "mail"
    if mail_dir.exists():
        shutil.rmtree(mail_dir)
    for sub in ("INBOX", "Sent"):
        (mail_dir / sub).mkdir(parents=True)
    entries = []
    for mail in mails:
        (mail_dir / mail.file).write_bytes(mail.render())
        if mail.manifest:
            entries.append({"file": mail.file, "message_id": f"<{mail.message_id}>", **mail.manifest})
    manifest = {
        "now": NOW.isoformat(),
        "account": "demo",
        "timezone": "Asia/Tokyo",
        "shop": SHOP,
        # the 12 weeks before, generated at every demo run (hygiene.demo.history)
        "history": {"seed": 20261120, "weeks": 12},
        "messages": entries,
    }
    (OUT / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"{len(mails)} messages ({sum(m.file.startswith('INBOX') for m in mails)} in INBOX) written to {mail_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
