"""``python -m guardkit`` runs the CLI."""

from guardkit.cli import main

main()
