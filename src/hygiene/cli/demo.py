"""``hygiene demo``: see the product work in seconds, with no mailbox and no config."""

from __future__ import annotations

import click


@click.command()
def demo() -> None:
    """Check a packaged sample mailbox, as 'hygiene check' would.

    Imports the sample (Japanese and English mail from Amazon, buyers and the seller's
    replies) into a throwaway database in a temporary directory, at a fixed clock, and shows
    what awaits a reply, how replies were matched and the response times; ends with the
    sample's dashboard (plain text of 100 columns when not a terminal). Your config and data
    are not read or touched.
    """
    from hygiene.cli.dashboard import screen_size
    from hygiene.cli.output import use_color
    from hygiene.demo import run_demo

    result = run_demo()
    click.echo(result.text)
    width, height, _terminal = screen_size()
    board = result.dashboard(width, height, use_color())
    if board:
        click.echo("")
        click.echo(board)
