"""The help screen: every key binding of the app, in one table."""

from __future__ import annotations

from collections.abc import Iterable

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

HelpSection = tuple[str, Iterable[BindingType]]


NARROW = 90
"""Below this many columns the "Where" column becomes a heading per section: three
columns in a 60-column terminal wrapped the actions one word per line."""


def bindings_table(sections: Iterable[HelpSection], *, grouped: bool = False) -> Table:
    """One row per binding: key(s), what it does, where it applies (`grouped`: under
    a heading per place instead of in a third column)."""
    table = Table(box=None, expand=True, show_header=not grouped, header_style="bold",
                  pad_edge=False)
    table.add_column("Key", no_wrap=not grouped, style="bold", max_width=16 if grouped else None)
    table.add_column("Action", ratio=1)
    if not grouped:
        table.add_column("Where", style="dim")
    for where, bindings in sections:
        # one row per key: `r` retries while running and resumes once ended, `p`
        # pauses or resumes; both meanings on the key's one row
        rows: dict[str, list[str]] = {}
        for binding in bindings:
            if not isinstance(binding, Binding):
                continue
            keys = binding.key_display or ", ".join(k.strip() for k in binding.key.split(","))
            # a footer's word or two, or the longer tooltip where a binding has one
            description = (binding.tooltip or binding.description
                           or binding.action.replace("_", " "))
            said = rows.setdefault(keys, [])
            if description not in said:
                said.append(description)
        if grouped and rows:
            table.add_row(Text(where, style="bold underline"), "")
        # and one row per meaning: `?, f1  Help`
        by_meaning: dict[str, list[str]] = {}
        for keys, descriptions in rows.items():
            by_meaning.setdefault("; ".join(descriptions), []).append(keys)
        for description, keys_list in by_meaning.items():
            table.add_row(", ".join(keys_list), description, *(() if grouped else (where,)))
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
            yield Static(self._table(), id="help-table")
            yield Static(
                Content(
                    "Themes: ctrl+p opens the command palette; type “theme”. "
                    "Your choice is remembered."
                ),
                id="help-note",
            )

    def _table(self) -> Table:
        return bindings_table(self.sections, grouped=self.app.size.width < NARROW)

    def on_resize(self) -> None:
        self.query_one("#help-table", Static).update(self._table())

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
