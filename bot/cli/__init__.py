"""The ``talentbot`` command line: the console chat, the inquiry log and staff commands."""

from bot.cli.main import main

__all__ = ["main"]
