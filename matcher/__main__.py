"""``python -m matcher``: the command line."""

from matcher.cli import run

run()
