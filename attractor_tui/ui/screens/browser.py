"""The session browser: every session file in a folder, to replay, resume, fork,
export or delete, and (R) the report over all of them.

The list comes from `SessionIndex` (first line + last few KB of each file,
cached in `.index.json`), so it opens at once with 1,000 sessions; attractor
labels, which need a full analysis, are filled in by a background thread and
cached too. A file that cannot be read is listed as broken, with the reason;
one holding several conversations (a cross-model `conversations.json`) is not:
opening it asks which one.

The screen dismisses with a `BrowserResult` for what its caller must do
(`("resume", path)`: a live engine is the app's business); replaying,
forking, exporting and deleting happen here.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any, Literal

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.coordinate import Coordinate
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Input, OptionList, Static
from textual.worker import get_current_worker

from attractor_tui.analysis import LABELS, analyze_log, end_state_note
from attractor_tui.core.text import safe_line, safe_text
from attractor_tui.sessions import formats
from attractor_tui.sessions.export import export_session
from attractor_tui.sessions.index import (
    LABEL_MAX_BYTES,
    SessionIndex,
    SessionSummary,
    describe_error,
    human_size,
    session_label,
)
from attractor_tui.sessions.store import SessionFileError, SessionLog
from attractor_tui.ui.copying import ExportScreen
from attractor_tui.ui.screens.dialogs import ConfirmScreen
from attractor_tui.ui.screens.replay import AskScreen, ReplayScreen, int_check
from attractor_tui.ui.screens.report import ReportScreen
from attractor_tui.ui.widgets.footer import KeyFooter

BrowserResult = tuple[Literal["resume"], Path]

SORTS: dict[str, tuple[str, bool]] = {
    # key: (column label, newest/largest first by default)
    "date": ("date", True),
    "models": ("models", False),
    "rounds": ("rounds", True),
    "end": ("end", False),
    "label": ("state", False),
    "size": ("size", True),
    "name": ("file", False),
}
COLUMNS = list(SORTS)
LABEL_BATCH_SECONDS = 0.5
MAX_WIDTHS = {"models": 40, "end": 24, "label": 26, "name": 44}
"""Longer cells are cut; the detail lines below the list show them in full."""
PROMPT_HEAD = 70
"""Characters of a system prompt's first line in the detail lines (its length follows)."""


def prompt_line(preview: str) -> str:
    """`sessions.log.prompt_preview`'s text as one line: its head, cut, then its length."""
    head, cut, length = preview.partition(" … [")
    head = " ".join(head.split())
    short = head if len(head) <= PROMPT_HEAD else head[: PROMPT_HEAD - 1].rstrip() + "…"
    return f"{short} … [{length}" if cut else short


def prompt_lines(summary: SessionSummary) -> list[str]:
    """One line per side's system prompt, from the summary (B's may be "same as A's")."""
    a, b = summary.extra.get("prompt_a"), summary.extra.get("prompt_b")
    lines = []
    if isinstance(a, str):
        lines.append(f"A's prompt: {prompt_line(a)}")
    if isinstance(b, str):
        lines.append("B's prompt: same as A's" if b == a else f"B's prompt: {prompt_line(b)}")
    return lines


def end_state(log: SessionLog) -> str:
    """The browser's label column: `analyze`'s end state."""
    return str(analyze_log(log)["end_state"])


def sort_key(key: str) -> Any:
    """How a column sorts (broken files go with their own kind: end = "broken")."""
    return {
        "date": lambda s: (s.when, s.name),
        "models": lambda s: (s.models.lower(), s.name),
        "rounds": lambda s: (s.turns, s.name),
        "end": lambda s: (s.end_text, s.name),
        "label": lambda s: (s.label or "~", s.name),
        "size": lambda s: (s.size, s.name),
        "name": lambda s: s.name,
    }[key]


def row_cells(summary: SessionSummary, labels: bool = True) -> list[Text]:
    """The table cells of one file (model-controlled text is sanitised)."""
    when = summary.when.astimezone().strftime("%Y-%m-%d %H:%M")
    if summary.broken:
        error = safe_line(summary.error or "")
        return [Text(when), Text(safe_line(summary.models) or "?"), Text("–"),
                Text("✗ broken", style="bold red"), Text(error, style="red"),
                Text(human_size(summary.size), justify="right"),
                Text(safe_line(summary.name))]
    if summary.failed is not None:  # no model turn, an error: no result, shown apart
        return [Text(when), Text(safe_line(summary.models)), Text("–"),
                Text("✗ failed", style="bold red"), Text(safe_line(summary.failed), style="red"),
                Text(human_size(summary.size), justify="right"),
                Text(safe_line(summary.name), style="dim")]
    pending = summary.size <= LABEL_MAX_BYTES
    end = safe_line(summary.end_text)
    if summary.foreign:
        end += " (peer log)"
    return [
        Text(when),
        Text(safe_line(summary.models)),
        Text(str(summary.rounds), justify="right"),
        Text(end, style="dim" if summary.end_reason is None else ""),
        Text(safe_line(summary.label or ("…" if labels and pending else "")),
             style="dim" if summary.label is None else "bold"),
        Text(human_size(summary.size), justify="right"),
        Text(safe_line(summary.name), style="dim"),
    ]


class ConversationScreen(ModalScreen[int | None]):
    """Which conversation of a file holding several to open (Enter); Escape cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    ConversationScreen OptionList { height: auto; max-height: 16; margin-bottom: 1; }
    """

    def __init__(self, name: str, logs: list[SessionLog]) -> None:
        super().__init__(classes="dialog")
        self.file_name = name
        self.logs = logs

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Static(Content(safe_line(
                f"{self.file_name} holds {len(self.logs)} conversations: open which?")),
                classes="dialog-question")
            yield OptionList(*(Text(safe_line(self.describe(n, log)))
                               for n, log in enumerate(self.logs)), id="conversations")
            yield Static(Content("Enter: open · Escape: cancel"), classes="dialog-hint")

    @staticmethod
    def describe(number: int, log: SessionLog) -> str:
        config = log.config
        turns = len(log.turns)
        seed = " ".join(config.seed.split())
        seed = seed if len(seed) <= 40 else seed[:39] + "…"
        return (f"{number + 1}. {config.a.model} ↔ {config.b.model} · {turns} turn(s)"
                + (f" · seed: {seed}" if seed else ""))

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option_index)

    def action_cancel(self) -> None:
        self.dismiss(None)


class BrowserScreen(Screen[BrowserResult | None]):
    """Sessions in one folder, newest first; filter, sort and act on them."""

    BINDINGS = [
        Binding("enter", "replay", "Replay", priority=True),
        Binding("r", "resume", "Resume"),
        Binding("f", "fork", "Fork"),
        Binding("e", "export", "Export"),
        Binding("d", "delete", "Delete"),
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("s", "sort", "Sort"),
        Binding("S", "reverse", "Reverse", key_display="S", show=False),
        Binding("R", "report", "Report", key_display="R"),
        Binding("ctrl+r", "reload", "Reload", show=False),
        Binding("escape", "back", "Back"),
        # The table's own Home/End scroll sideways and leave the selection (and so
        # the detail line and `d`) on a row out of sight; these move the selection.
        Binding("home", "first_row", "First", show=False, priority=True),
        Binding("end", "last_row", "Last", show=False, priority=True),
    ]
    DEFAULT_CSS = """
    BrowserScreen #browser-top { height: auto; padding: 0 1; }
    BrowserScreen #browser-title { width: 1fr; text-style: bold; color: $primary; }
    BrowserScreen #browser-count { width: auto; color: $text-muted; }
    BrowserScreen #browser-filter { margin: 0 1; }
    BrowserScreen #browser-table { height: 1fr; margin: 0 1; }
    BrowserScreen #browser-detail {
        height: auto; max-height: 8; padding: 0 1; margin: 0 1;
        border-top: solid $panel-lighten-2; color: $text-muted;
    }
    BrowserScreen #browser-detail.broken { color: $text-error; }
    """
    AUTO_FOCUS = "#browser-table"

    def __init__(self, directory: Path, *, labels: bool = True, replay_speed: float = 1.0) -> None:
        super().__init__(id="browser")
        self.directory = Path(directory)
        self.index = SessionIndex(self.directory)
        self.labels = labels
        self.replay_speed = replay_speed
        self.sort_by = "date"
        self.descending = True
        self.summaries: list[SessionSummary] = []
        self.shown: list[SessionSummary] = []
        self._busy = False

    # ---------------------------------------------------------------- layout

    def compose(self) -> ComposeResult:
        with Horizontal(id="browser-top"):
            yield Static(Content(f"Sessions in {safe_line(str(self.directory.absolute()))}/"),
                         id="browser-title")
            yield Static(id="browser-count")
        yield Input(placeholder="/ filter: text in date, models, end, state or file name",
                    id="browser-filter")
        table: DataTable[Text] = DataTable(id="browser-table", cursor_type="row",
                                           zebra_stripes=True)
        yield table
        yield Static(id="browser-detail")
        yield KeyFooter()

    @property
    def table(self) -> DataTable[Text]:
        return self.query_one("#browser-table", DataTable)

    @property
    def filter_text(self) -> str:
        return self.query_one("#browser-filter", Input).value

    def on_mount(self) -> None:
        self.reload()

    def on_screen_resume(self) -> None:
        if self.summaries:  # back from a replay or a dialog: files may have changed
            self.reload(keep=self.current_name)

    # ----------------------------------------------------------------- data

    def reload(self, keep: str | None = None) -> None:
        """Re-read the folder (cheap: the index only reads changed files)."""
        self.summaries = self.index.refresh()
        self.populate(keep)
        if self.labels:
            self.fill_labels()

    def populate(self, keep: str | None = None) -> None:
        """Filter, sort and show; keep the cursor on `keep` when it is still listed."""
        needle = self.filter_text.strip().lower()
        shown = [s for s in self.summaries if not needle or needle in s.search_text()]
        shown.sort(key=sort_key(self.sort_by), reverse=self.descending)
        self.shown = shown
        table = self.table
        rows = [row_cells(summary, self.labels) for summary in shown]
        # Widths are set here rather than measured by the table on idle: after
        # `clear(columns=True)` its cached row renders kept the old widths.
        arrow = " ↓" if self.descending else " ↑"
        labels = [SORTS[key][0] + (arrow if key == self.sort_by else "") for key in COLUMNS]
        widths = [max([len(label), *(row[i].cell_len for row in rows)])
                  for i, label in enumerate(labels)]
        if self.labels:  # room for the labels the background analysis fills in
            state = COLUMNS.index("label")
            widths[state] = max(widths[state], *map(len, LABELS))
        table.clear(columns=True)  # the sorted column's label carries the arrow
        for key, label, width in zip(COLUMNS, labels, widths, strict=True):
            table.add_column(label, key=key, width=min(width, MAX_WIDTHS.get(key, width)))
        for summary, cells in zip(shown, rows, strict=True):
            table.add_row(*cells, key=summary.name)  # the file name: unique and stable
        if keep is not None:
            row = next((i for i, s in enumerate(shown) if s.name == keep), None)
            if row is not None:
                table.move_cursor(row=row, animate=False)
        count = f"{len(shown)} of {len(self.summaries)}" if needle else str(len(shown))
        self.query_one("#browser-count", Static).update(
            Content(f"{count} session file(s) · sort: {self.sort_by}")
        )
        self.show_detail()

    @property
    def current(self) -> SessionSummary | None:
        table = self.table
        if not self.shown or table.cursor_row < 0 or table.cursor_row >= len(self.shown):
            return None
        return self.shown[table.cursor_row]

    @property
    def current_name(self) -> str | None:
        current = self.current
        return current.name if current else None

    def path_of(self, summary: SessionSummary) -> Path:
        return self.index.path(summary)

    def show_detail(self) -> None:
        detail = self.query_one("#browser-detail", Static)
        summary = self.current
        if summary is None:
            empty = "Nothing matches." if self.summaries else (
                "No session files here yet.\n"
                "A session is saved here as it runs: start one from the start screen "
                "(ctrl+s) or with `attractor-tui run`. Logs of the peer harness become "
                "sessions with `attractor-tui import`."
            )
            detail.update(Content(empty))
            detail.remove_class("broken")
            return
        lines = [f"{self.path_of(summary)}  ({human_size(summary.size)})"]
        if summary.broken:
            lines.append(f"broken: {summary.error}")
            lines.append("d deletes it; the other actions need a readable file.")
        else:
            lines.append(f"A: {summary.model_a}   B: {summary.model_b}")
            lines.extend(prompt_lines(summary))
            end = summary.end_reason or (
                "none recorded (still running, not run since a fork, or stopped by a crash)")
            lines.append(f"{summary.turns} turn(s), {summary.rounds} round(s) · end: {end}"
                         + (f" ({summary.end_detail})" if summary.end_detail else ""))
            if summary.failed is not None:
                lines.append(f"failed run: {summary.failed} (no model turn; left out of "
                             "analyze and report)")
            if summary.label:
                lines.append(f"attractor state: {summary.label}")
            if summary.parent:
                lines.append(f"forked from {summary.parent}")
            if summary.foreign:
                lines.append("peer-harness log: replay and export work; "
                             "`attractor-tui import` it to resume or fork")
            count = summary.extra.get("conversations")
            if isinstance(count, int) and count > 1:
                lines.append(f"holds {count} conversations (the list shows the first); "
                             "Enter asks which to open")
        detail.update(Content("\n".join(safe_line(line) for line in lines)))
        detail.set_class(summary.broken, "broken")

    @on(DataTable.RowHighlighted)
    def _highlighted(self) -> None:
        self.show_detail()
        self.refresh_bindings()

    @on(DataTable.RowSelected)
    def _selected(self) -> None:  # a click on the highlighted row
        self.replay_current()

    @on(DataTable.HeaderSelected)
    def _header(self, event: DataTable.HeaderSelected) -> None:
        key = str(event.column_key.value)
        if key == self.sort_by:
            self.descending = not self.descending
        else:
            self.sort_by, self.descending = key, SORTS[key][1]
        self.populate(self.current_name)

    @on(Input.Changed, "#browser-filter")
    def _filter_changed(self) -> None:
        self.populate(self.current_name)

    # -------------------------------------------------------------- labels

    @work(thread=True, exclusive=True, group="labels")
    def fill_labels(self) -> None:
        """Analyse files without a label, newest first, and cache the result.

        Runs in a thread; results reach the table in batches (one redraw per
        batch, not per file) and the thread pauses between files, so the list
        stays responsive while it works through a big folder.
        """
        worker = get_current_worker()
        todo = [s for s in self.index.list()
                if s.label is None and not s.broken and s.failed is None
                and s.size <= LABEL_MAX_BYTES]
        batch: list[tuple[str, str | None, str | None]] = []
        sent = time.monotonic()
        for summary in todo:
            if worker.is_cancelled:
                return
            path = self.path_of(summary)
            label, error = session_label(path, end_state)
            try:
                stat = path.stat()
            except OSError:
                continue
            if (stat.st_size, stat.st_mtime_ns) != (summary.size, summary.mtime_ns):
                continue  # changed meanwhile: the next reload summarises it again
            batch.append((summary.name, label, error))
            if time.monotonic() - sent > LABEL_BATCH_SECONDS:
                self.app.call_from_thread(self._labelled, batch)
                batch, sent = [], time.monotonic()
            time.sleep(0.005)  # let the UI thread have the interpreter
        if not worker.is_cancelled:
            self.app.call_from_thread(self._labelled, batch)

    def _labelled(self, batch: list[tuple[str, str | None, str | None]]) -> None:
        for name, label, error in batch:
            self.index.update(name, label=label, error=error)
        self.index.save()
        if not self.is_attached:
            return
        if any(error for _, _, error in batch):  # newly broken: the error needs room
            self.populate(self.current_name)
            return
        for name, _, _ in batch:
            summary = self.index.get(name)
            if summary is None:
                continue
            try:
                row = self.table.get_row_index(name)
            except Exception:  # filtered out: the label shows when it is listed again
                continue
            column = COLUMNS.index("label")
            self.table.update_cell_at(Coordinate(row, column),
                                      row_cells(summary, self.labels)[column])
        if self.current_name in {name for name, _, _ in batch}:
            self.show_detail()

    # ------------------------------------------------------------- actions

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "replay" and self.query_one("#browser-filter", Input).has_focus:
            return True
        if action in ("first_row", "last_row"):  # in the filter box they move the caret
            return self.table.has_focus
        if action in ("replay", "resume", "fork", "export"):
            current = self.current
            if current is None or current.broken:
                return None
            if action in ("resume", "fork") and current.foreign:
                return None
        if action == "delete" and self.current is None:
            return None
        return True

    def _mark_broken(self, summary: SessionSummary, error: str) -> None:
        self.index.update(summary.name, error=error)
        self.index.save()
        self.populate(summary.name)

    async def _load(self, summary: SessionSummary) -> tuple[SessionLog, int] | None:
        """A full log (off the UI thread) and its conversation (0-based) in the file.

        A file of several asks which (`ConversationScreen`); None if cancelled, or
        with the error shown if the file is broken.
        """
        path = self.path_of(summary)
        try:
            logs = await asyncio.to_thread(formats.load, path)
            if len(logs) <= 1:
                if not logs:
                    raise SessionFileError(path, "holds no conversation")
                return logs[0], 0
            choice = await self.app.push_screen_wait(ConversationScreen(summary.name, logs))
            return None if choice is None else (logs[choice], choice)
        except SessionFileError as exc:
            message = describe_error(exc, path)
            self.notify(safe_text(f"{summary.name}: {message}"), title="Cannot open",
                        severity="error", markup=False)
            self._mark_broken(summary, message)
        except OSError as exc:
            self.notify(safe_text(f"{summary.name}: {exc}"), title="Cannot open", severity="error",
                        markup=False)
            self.reload()
        return None

    def action_replay(self) -> None:
        """Enter: in the filter box, go to the list; in the list, replay the file."""
        if self.query_one("#browser-filter", Input).has_focus:
            self.table.focus()
            return
        self.replay_current()

    @work(exclusive=True, group="action")
    async def replay_current(self) -> None:
        summary = self.current
        if summary is None or summary.broken:
            return
        loaded = await self._load(summary)
        if loaded is not None:
            self.app.push_screen(ReplayScreen(loaded[0], speed=self.replay_speed))

    def action_resume(self) -> None:
        summary = self.current
        if summary is None or summary.broken:
            return
        if summary.foreign:
            self.notify("A peer-harness log cannot be resumed: run `attractor-tui import` on "
                        "it first, then resume the imported file.", severity="warning")
            return
        self.dismiss(("resume", self.path_of(summary)))

    @work(exclusive=True, group="action")
    async def action_fork(self) -> None:
        summary = self.current
        if summary is None or summary.broken or summary.foreign:
            return
        total = summary.turns
        answer = await self.app.push_screen_wait(AskScreen(
            f"Fork {summary.name}: keep how many turns (0–{total})?\n"
            "The new session starts with them; resume it to continue from there.",
            str(total), check=int_check(0, total),
        ))
        if answer is None:
            return
        from attractor_tui.sessions.continuation import fork_session

        try:
            target = await asyncio.to_thread(fork_session, self.path_of(summary), int(answer))
        except (SessionFileError, OSError) as exc:
            self.notify(safe_text(str(exc)), title="Fork failed", severity="error", markup=False)
            return
        self.reload(keep=target.name)
        self.notify(safe_text(f"Forked to {target.name} with {answer} turn(s); r resumes it."),
                    title="Forked", markup=False)

    @work(exclusive=True, group="action")
    async def action_export(self) -> None:
        summary = self.current
        if summary is None or summary.broken:
            return
        fmt = await self.app.push_screen_wait(ExportScreen(summary.name))
        if fmt is None:
            return
        loaded = await self._load(summary)
        if loaded is None:
            return
        log, number = loaded
        path = self.path_of(summary)
        count = summary.extra.get("conversations")
        several = isinstance(count, int) and count > 1
        target = (path.with_name(f"{path.stem}.conversation-{number + 1}.{fmt}") if several
                  else path.with_suffix(f".{fmt}"))

        def write() -> None:
            text = export_session(log, fmt, notes=[end_state_note(log.turns)])
            target.write_text(text, encoding="utf-8")

        try:
            await asyncio.to_thread(write)
        except OSError as exc:
            self.notify(safe_text(f"cannot write {target}: {exc.strerror or exc}"),
                        title="Export failed",
                        severity="error", markup=False)
            return
        self.notify(safe_text(f"Wrote {target}"), title="Exported", markup=False, timeout=8)

    @work(exclusive=True, group="action")
    async def action_delete(self) -> None:
        summary = self.current
        if summary is None:
            return
        what = "broken file" if summary.broken else (
            f"{summary.turns} turn(s), {human_size(summary.size)}")
        confirmed = await self.app.push_screen_wait(ConfirmScreen(
            f"Delete {summary.name}?\n({what}) This cannot be undone.", yes="Delete",
        ))
        if not confirmed:
            return
        row = self.table.cursor_row
        try:
            self.path_of(summary).unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            self.notify(safe_text(f"cannot delete: {exc.strerror or exc}"), severity="error",
                        markup=False)
            return
        self.index.forget(summary.name)
        self.summaries = self.index.refresh()
        self.populate()
        if self.shown:
            self.table.move_cursor(row=min(row, len(self.shown) - 1), animate=False)
        self.notify(safe_text(f"Deleted {summary.name}"), markup=False)

    def action_first_row(self) -> None:
        self.table.action_scroll_top()

    def action_last_row(self) -> None:
        self.table.action_scroll_bottom()

    def action_filter(self) -> None:
        self.query_one("#browser-filter", Input).focus()

    def action_sort(self) -> None:
        """Next sort column (each with its natural direction)."""
        position = COLUMNS.index(self.sort_by)
        self.sort_by = COLUMNS[(position + 1) % len(COLUMNS)]
        self.descending = SORTS[self.sort_by][1]
        self.populate(self.current_name)

    def action_reverse(self) -> None:
        self.descending = not self.descending
        self.populate(self.current_name)

    def action_reload(self) -> None:
        self.reload(keep=self.current_name)

    def action_report(self) -> None:
        """R: charts and tables over every conversation in this folder."""
        self.app.push_screen(ReportScreen(self.directory))

    def action_back(self) -> None:
        """Escape: leave the filter box, then clear the filter, then leave the browser."""
        box = self.query_one("#browser-filter", Input)
        if box.has_focus:
            self.table.focus()
        elif box.value:
            box.value = ""
        else:
            self.dismiss(None)

    def on_unmount(self) -> None:
        self.index.save()
