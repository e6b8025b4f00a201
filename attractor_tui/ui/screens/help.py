"""The help screen: every key binding of the app, in one table."""

from __future__ import annotations

from collections.abc import Iterable

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

HelpSection = tuple[str, Iterable[BindingType]]


def bindings_table(sections: Iterable[HelpSection]) -> Table:
    """One row per binding: key(s), what it does, where it applies."""
    table = Table(box=None, expand=True, show_header=True, header_style="bold", pad_edge=False)
    table.add_column("Key", no_wrap=True, style="bold")
    table.add_column("Action")
    table.add_column("Where", style="dim")
    seen: set[tuple[str, str]] = set()
    for where, bindings in sections:
        for binding in bindings:
            if not isinstance(binding, Binding):
                continue
            keys = binding.key_display or ", ".join(k.strip() for k in binding.key.split(","))
            description = binding.description or binding.action.replace("_", " ")
            if (keys, where) in seen:
                continue
            seen.add((keys, where))
            table.add_row(keys, description, where)
    return table


class HelpScreen(ModalScreen[None]):
    """Lists the bindings it is given; any of escape, q, ? or F1 closes it."""

    BINDINGS = [Binding("escape,q,question_mark,f1", "dismiss", "Close", show=True)]

    def __init__(self, sections: list[HelpSection]) -> None:
        super().__init__(classes="dialog")
        self.sections = sections

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box"):
            yield Static(Content("Keys"), id="help-title")
            yield Static(bindings_table(self.sections), id="help-table")
            yield Static(
                Content(
                    "Themes: ctrl+p opens the command palette; type “theme”. "
                    "Your choice is remembered."
                ),
                id="help-note",
            )

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
