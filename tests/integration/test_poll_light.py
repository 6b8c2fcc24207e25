"""A poll imports only what it needs (issue 8, "Speed": a no-op poll within a quarter of a
second, whole process), and skipping what it does not need changes nothing it reports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from hygiene.cli import cli
from tests.builders import IMAP_BUYER, NOW, eml, run_poll
from tests.dovecot import Dovecot

#: Not needed by a poll with nothing new: the ORM (a third of the start-up), migrations, the
#: reply matcher, the parser and classifier, the process pool, and what other commands use.
NOT_FOR_A_NO_OP_POLL = (
    "sqlalchemy.orm",
    "alembic",
    "hygiene.threads",
    "hygiene.store.replies",
    "hygiene.store.models",
    "hygiene.mail.parse",
    "hygiene.classify",
    "multiprocessing",
    "concurrent.futures.process",
    "hygiene.tone",
    "hygiene.views",
    "dateparser",
    "plotext",
    "holidays",
)


def seed(box: Dovecot) -> None:
    """A buyer's question in INBOX and the seller's reply to it in Sent."""
    box.append("INBOX", eml(IMAP_BUYER, box.user, "商品が届きません", mid="q1@amazon", hours_ago=30))
    box.append(
        "Sent",
        eml(box.user, IMAP_BUYER, "Re: 商品が届きません", "確認いたします。", mid="r1@shop", hours_ago=28, extra="In-Reply-To: <q1@amazon>\r\n"),
        flags=["\\Seen"],
    )


def poll_modules(*args: str) -> tuple[str, list[str]]:
    """Run ``hygiene poll`` in a fresh interpreter: its output and the heavy modules it imported."""
    code = (
        "import sys\nfrom hygiene.cli import main\n"
        f"sys.argv = ['hygiene', 'poll', *{list(args)!r}]\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
        f"print([m for m in {NOT_FOR_A_NO_OP_POLL!r} if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=None).stdout
    *shown, modules = out.strip().splitlines()
    return "\n".join(shown), json.loads(modules.replace("'", '"'))


def test_a_poll_with_nothing_new_imports_no_orm_matcher_or_parser(mailbox: Dovecot, imap_config: Path) -> None:
    seed(mailbox)
    first, heavy = poll_modules()
    assert "INBOX +" in first and "hygiene.mail.parse" in heavy  # the first poll parses (the check can fail)
    again, heavy = poll_modules()
    assert "INBOX +0" in again
    assert heavy == []


def test_a_poll_with_nothing_new_still_matches_what_an_earlier_sync_left(mailbox: Dovecot, imap_config: Path) -> None:
    """Matching is skipped only when it has nothing to look at: after a sync that did not
    match (``check``'s poll, a run cut off before matching) a no-op poll still finds the reply."""
    seed(mailbox)
    run_poll(imap_config, match=False)
    payload = json.loads(CliRunner().invoke(cli, ["poll", "--json"], env={"HYGIENE_NOW": NOW.isoformat()}).stdout)
    account = payload["accounts"][0]
    assert [f["new"] for f in account["folders"]] == [0, 0]
    assert account["replies_found"] == 1
    again = json.loads(CliRunner().invoke(cli, ["poll", "--json"], env={"HYGIENE_NOW": NOW.isoformat()}).stdout)
    assert again["accounts"][0]["replies_found"] == 0
