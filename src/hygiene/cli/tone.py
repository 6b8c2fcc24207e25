"""``hygiene tone``: check a draft's tone before sending it to Amazon.

Only the stdlib scorer is imported on this path: no database, IMAP or plotting stack.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import IO, Any, TypedDict

import click

from hygiene.cli.context import AppContext
from hygiene.cli.output import print_json, style
from hygiene.errors import HygieneError

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


class _Options(TypedDict):
    extra_aggressive: tuple[str, ...]
    extra_polite: tuple[str, ...]
    allow: tuple[str, ...]


def _tone_options(app: AppContext) -> _Options:
    """[tone] extra_aggressive / extra_polite / allow from the config, when there is one."""
    config = app.config()
    return {
        "extra_aggressive": tuple(config.tone.extra_aggressive),
        "extra_polite": tuple(config.tone.extra_polite),
        "allow": tuple(config.tone.allow),
    }


def render(result: Any, text: str) -> str:
    """The human report: score and verdict, then each finding with its place and advice."""
    from hygiene.tone.model import POLITE_KINDS

    color = _VERDICT_COLOR[result.verdict]
    lines = [
        style(f"score {result.score}/100 — {result.verdict}", fg=color, bold=True)
        + f" ({result.language}, {result.kind}; politeness {result.politeness:.2f}, aggression {result.aggression:.2f})"
    ]
    if result.unchecked_chars:
        checked = len(text) - result.unchecked_chars
        lines.append(f"note: only the first {checked:,} characters were checked; {result.unchecked_chars:,} left unchecked")
    for f in result.findings:
        if f.kind == "wording":  # the learned layer's one line
            lines.append(f"{f.message} (learned from public labelled text; the findings below are the rules')")
    harmful = [f for f in result.findings if f.weight > 0]
    courteous = sorted({f.kind.replace("_", " ") for f in result.findings if f.kind in POLITE_KINDS})
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


#: the values a batch line may give for "lang" and "kind" (the options' choices)
_LANGS = ("auto", "ja", "en")
_KINDS = ("reply", "appeal")


def _batch(source: str, lang: str, kind: str, options: _Options, out: IO[str]) -> int:
    """Score JSON lines; one bad line gets ``{"id", "error"}`` and the run goes on.

    Lines are read as bytes and decoded one by one, so a line that is not UTF-8 costs only
    itself. Returns how many lines got an error record.
    """
    from hygiene.tone import check_tone

    try:
        handle = sys.stdin.buffer if source == "-" else open(source, "rb")  # closed below
    except OSError as exc:
        raise HygieneError(f"cannot read {source}: {exc.strerror or exc}", "give a JSON-lines file, or - for stdin") from None
    errors = 0
    try:
        for number, raw in enumerate(handle, 1):
            if not raw.strip():
                continue
            record = _batch_line(number, raw, lang, kind, options, check_tone)
            errors += "error" in record
            try:
                line = json.dumps(record, ensure_ascii=False)
            except (ValueError, RecursionError):  # an "id" too deep or odd to write back
                errors += "error" not in record
                line = json.dumps({"id": None, "error": f"line {number}: its \"id\" cannot be written as JSON"})
            out.write(line + "\n")
    finally:
        if handle is not sys.stdin.buffer:
            handle.close()
    return errors


def _batch_line(number: int, raw: bytes, lang: str, kind: str, options: _Options, check: Callable[..., Any]) -> dict[str, Any]:
    """The output record of one input line: its result, or its error (``id`` null when unknown)."""
    ident: Any = None
    try:
        try:
            line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            raise ValueError(f"not UTF-8 (byte 0x{raw[exc.start]:02x} at column {exc.start + 1})") from None
        try:
            item = json.loads(line)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None
        if not isinstance(item, dict):
            raise ValueError(f'expected a JSON object, got {type(item).__name__}')
        ident = item.get("id")
        text, line_lang, line_kind = item.get("text"), item.get("lang"), item.get("kind")
        if not isinstance(text, str):
            raise ValueError('expected a "text" string')
        # absent or null: the command's --lang / --kind
        line_lang = lang if line_lang is None else line_lang
        line_kind = kind if line_kind is None else line_kind
        if line_lang not in _LANGS:
            raise ValueError(f'unknown "lang" {line_lang!r} (one of {", ".join(_LANGS)})')
        if line_kind not in _KINDS:
            raise ValueError(f'unknown "kind" {line_kind!r} (one of {", ".join(_KINDS)})')
    except ValueError as exc:  # json.JSONDecodeError is one
        return {"id": ident, "error": f"line {number}: {exc}"}
    return {"id": ident, **check(text, line_lang, line_kind, **options).as_json()}


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
    Exit 0 ok, 3 review, 4 block (do not send), 1 error. --batch: 0, or 1 when a line got an
    error record.
    """
    from hygiene.tone import check_tone

    options = _tone_options(app)
    if batch is not None:
        # A corpus is scored, not gated: verdicts do not set the exit code, error records do
        # (1, after every line was read) so a script sees that some lines were not scored.
        errors = _batch(batch, lang, kind, options, sys.stdout)
        if errors:
            raise HygieneError(f"{errors} line{'s' if errors > 1 else ''} could not be scored", 'see the "error" records in the output')
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
