"""Command line: the parser, one module per command group, the headless printer."""

from attractor_tui.cli.parser import main

__all__ = ["main"]
