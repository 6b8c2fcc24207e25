"""``hygiene tone``: check a draft's tone before sending it to Amazon.

Only the stdlib scorer is imported on this path: no database, IMAP or plotting stack.
"""

from __future__ import annotations

import json
import sys
from typing import IO, Any

import click

from hygiene.cli.context import AppContext
from hygiene.cli.output import print_json, style
from hygiene.errors import HygieneError

_COURTEOUS = ("greeting", "self_identification", "gratitude", "apology", "cushion", "closing", "polite_form")
_VERDICT_COLOR = {"ok": "green", "review": "yellow", "block": "red"}


def _read(source: str) -> str:
    if source == "-":
        data = sys.stdin.buffer.read()
    else:
        try:
            with open(source, "rb") as f:
                data = f.read()
        except OSError as exc:
            raise HygieneError(f"cannot read {source}: {exc.strerror or exc}", "give a readable text file, or - for stdin") from None
    for encoding in ("utf-8-sig", "cp932", "euc_jp"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", "replace")


def _tone_options(app: AppContext) -> dict[str, tuple[str, ...]]:
    """[tone] extra_aggressive / extra_polite / allow from the config, when there is one."""
    config = app.config()
    return {
        "extra_aggressive": tuple(config.tone.extra_aggressive),
        "extra_polite": tuple(config.tone.extra_polite),
        "allow": tuple(config.tone.allow),
    }


def render(result: Any, text: str) -> str:
    """The human report: score and verdict, then each finding with its place and advice."""
    color = _VERDICT_COLOR[result.verdict]
    lines = [
        style(f"score {result.score}/100 — {result.verdict}", fg=color, bold=True)
        + f" ({result.language}, {result.kind}; politeness {result.politeness:.2f}, aggression {result.aggression:.2f})"
    ]
    harmful = [f for f in result.findings if f.weight > 0]
    courteous = sorted({f.kind.replace("_", " ") for f in result.findings if f.kind in _COURTEOUS})
    if courteous:
        lines.append(f"Courteous: {', '.join(courteous)}.")
    if not harmful:
        lines.append("Nothing reads as emotional, aggressive or accusing.")
    for f in result.findings:
        if f.weight == 0 and f.suggestion:  # advice that does not cost points
            lines.append(f"{f.line}:{f.column}  {f.kind}  — {f.message}")
            lines.append(f"    → {f.suggestion}")
    for f in harmful:
        passage = f.text if len(f.text) <= 60 else f.text[:57] + "…"
        passage = passage.replace("\n", " ")
        lines.append(f"{f.line}:{f.column}  {style(f.kind, fg=color)}  \"{passage}\"  — {f.message}")
        if f.suggestion:
            lines.append(f"    → {f.suggestion}")
    return "\n".join(lines)


def _batch(source: str, lang: str, kind: str, options: dict[str, tuple[str, ...]], out: IO[str]) -> None:
    from hygiene.tone import check_tone

    stream = sys.stdin if source == "-" else None
    try:
        handle = stream or open(source, encoding="utf-8")
    except OSError as exc:
        raise HygieneError(f"cannot read {source}: {exc.strerror or exc}", "give a JSON-lines file, or - for stdin") from None
    with handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            ident: Any = None
            try:
                item = json.loads(line)
                ident = item.get("id") if isinstance(item, dict) else None
                if not isinstance(item, dict) or not isinstance(item.get("text"), str):
                    raise ValueError('expected an object with a "text" string')
                result = check_tone(item["text"], item.get("lang", lang), item.get("kind", kind), **options)
                record: dict[str, Any] = {"id": ident, **result.as_json()}
            except ValueError as exc:
                record = {"id": ident, "error": f"line {number}: {exc}"}
            out.write(json.dumps(record, ensure_ascii=False) + "\n")


@click.command()
@click.argument("source", metavar="[FILE|-]", default="-", required=False)
@click.option("--lang", type=click.Choice(["auto", "ja", "en"]), default="auto", show_default=True, help="Language of the draft.")
@click.option("--kind", type=click.Choice(["reply", "appeal"]), default="reply", show_default=True, help="appeal: also check a plan of action's structure.")
@click.option("--json", "as_json", is_flag=True, help='Print {"score", "verdict", "language", "kind", "politeness", "aggression", "findings": [...]}.')
@click.option("--batch", metavar="FILE|-", help='Score JSON lines {"id", "text"[, "lang", "kind"]}; one JSON line out per line in.')
@click.pass_obj
def tone(app: AppContext, source: str, lang: str, kind: str, as_json: bool, batch: str | None) -> None:
    """Check a draft's tone before you send it (FILE, or stdin).

    Prints a score (100: courteous and businesslike), a verdict and every passage that reads
    as emotional, aggressive, accusing or complaining, with a suggested rewording.
    Exit 0 ok, 3 review, 4 block (do not send), 1 error.
    """
    from hygiene.tone import check_tone

    options = _tone_options(app)
    if batch is not None:
        _batch(batch, lang, kind, options, sys.stdout)
        return
    text = _read(source)
    if not text.strip():
        raise HygieneError("the draft is empty", "give a file with the text, or pipe it on stdin")
    result = check_tone(text, lang, kind, **options)
    if as_json:
        print_json(result.as_json())
    else:
        click.echo(render(result, text))
    raise SystemExit(result.exit_code)
