"""``hygiene demo``: see the product work in seconds, with no mailbox and no config."""

from __future__ import annotations

import click


@click.command()
def demo() -> None:
    """Check a packaged sample mailbox, as 'hygiene check' would.

    Imports the sample (Japanese and English mail from Amazon, buyers and the seller's
    replies) into a throwaway database in a temporary directory, at a fixed clock, and shows
    what awaits a reply, how replies were matched and the response times. Your config and
    data are not read or touched.
    """
    from hygiene.demo import run_demo

    click.echo(run_demo().text)
