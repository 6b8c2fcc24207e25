"""``python -m hygiene`` runs the CLI."""

from hygiene.cli import main

main()
