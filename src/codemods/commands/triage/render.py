"""The human summary of a triage: one table row per category, then each category's commands.

Rendered with rich (a table: category, count, jobs, example); plain text when the output is not a
terminal. Commands are printed as shell lines (``shlex.join``) ready to copy. Every string that
comes from a log, a report or a fixer goes through :func:`~codemods.commands.triage.logs.printable` first:
no control sequence of a log reaches the terminal.
"""

from __future__ import annotations

import shlex
from typing import Any, TextIO

from codemods.commands.triage.logs import printable
from codemods.commands.triage.model import Triage

MAX_SHOWN = 6


def summary(result: Triage, file: TextIO, *, width: int | None = None, evidence: bool = True) -> None:
    """Print the summary table and the proposed commands to ``file``.

    ``width`` None: the terminal's (rich asks it, and honours ``COLUMNS``). Colour follows rich's
    rules, ``NO_COLOR`` included. Off a terminal, lines carry no padding to the width.
    """
    import io
    import os

    from rich.console import Console
    from rich.table import Table

    plain = not file.isatty()
    buffer = io.StringIO() if plain else file
    no_color = bool(os.environ.get("NO_COLOR"))  # https://no-color.org: no styling at all
    console = Console(file=buffer, width=width, highlight=False, emoji=False,
                      color_system=None if no_color or plain else "auto")
    try:
        _render(result, console, Table, evidence)
    finally:
        if plain:
            assert isinstance(buffer, io.StringIO)
            file.write("".join(line.rstrip() + "\n" for line in buffer.getvalue().splitlines()))


def _render(result: Triage, console: Any, Table: Any, evidence: bool) -> None:

    def say(text: str) -> None:
        console.print(printable(text), markup=False, soft_wrap=True)

    if not result.categories:
        console.print(f"No failures found in {len(result.logs)} log(s) ({result.lines:,} lines) and "
                      f"{len(result.junit)} JUnit report(s).", markup=False)
        return
    table = Table(title=f"stabfix triage: {result.failures} failure(s) in {len(result.logs)} log(s), "
                        f"{len(result.junit)} JUnit report(s)", title_justify="left")
    table.add_column("category", no_wrap=True)
    table.add_column("count", justify="right")
    table.add_column("jobs")
    table.add_column("example", overflow="fold")
    for cat in result.categories:
        first = cat.findings[0]
        example = first.id + (f" - {first.message}" if first.message and first.kind == "test" else "")
        table.add_row(cat.name, str(len(cat.findings)), printable(", ".join(cat.jobs) or "-"), printable(example[:160]))
    console.print(table)
    for cat in result.categories:
        console.print(f"\n[bold]{cat.name}[/bold]: {cat.title}")
        for f in cat.findings:
            extra = f" (also: {', '.join(f.also)})" if f.also else ""
            runs = (" runs: " + ", ".join(f"{k} {v}" for k, v in f.runs.items())) if len(f.runs) > 1 else ""
            say(f"  - {f.id}{extra}{runs}")
            if f.message and f.kind == "test":
                say(f"      {f.message[:200]}")
            if evidence:  # a failed step that matched nothing: its last lines say why
                for e in (f.evidence[-MAX_SHOWN:] if f.kind == "log" and f.category == "unknown" else f.evidence[:2]):
                    where = f"{e.file}:{e.line}" if e.line else e.file
                    say(f"      {where}: {e.text[:160]}")
        for c in cat.commands:
            mark = f"  # {c.note}" if c.note else ("" if c.available else "  # fixer not available")
            prefix = "  $ " if c.available else "  # "
            say(prefix + shlex.join(c.argv()) + mark)
