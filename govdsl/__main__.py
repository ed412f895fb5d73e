"""Run the command-line interface as ``python -m govdsl``."""

from govdsl.cli import main

main()
