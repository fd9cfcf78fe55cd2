"""The ``stabfix triage`` click command (wired into the top-level CLI as ``codemods.commands.triage.cli:command``).

``stabfix triage [LOGS...] [--junit FILE ...] [--json] [--apply [--write]]``. Exit codes: 0 when
triage ran, 1 when a failed CI step matched nothing known (reported as ``unknown`` with its last
lines: a red log never reads as "no failures"), 2 on bad input or when an applied fixer failed. ``python -m
codemods.commands.triage.cli`` runs the same command.

Nothing a log says reaches the terminal as a control sequence: the summary, the JSON (whose
strings may carry C1 controls and DEL unescaped), the per-run lines and errors all go through
:func:`~codemods.commands.triage.logs.printable`. The dry-run diff is written byte for byte when stdout is
a file or a pipe (it is a patch), and made printable too when stdout is a terminal.
"""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path
from typing import Any

import click

from codemods.commands.triage.logs import printable


def _printable_json(data: Any) -> Any:
    """``data`` with every string (keys too) made printable."""
    if isinstance(data, str):
        return printable(data)
    if isinstance(data, dict):
        return {_printable_json(k): _printable_json(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_printable_json(v) for v in data]
    return data


def _err(text: str) -> None:
    sys.stderr.write(printable(text) + "\n")


def _run(logs: tuple[Path, ...], junit: tuple[Path, ...], root: Path, out: Path | None, as_json: bool,
         apply: bool, write: bool, group: str, quiet: bool, history: Path | None = None) -> int:
    from codemods.commands.triage.core import triage
    from codemods.commands.triage.render import summary

    if write and not apply:
        raise click.UsageError("--write needs --apply")
    result = triage(list(logs), list(junit), root=root, out=out, group=group, history=history)
    outcomes: list[Any] = []
    diff = ""
    if apply:
        from codemods.commands.triage.runner import run_commands

        outcomes, diff = run_commands(result.commands, root, write=write)
    tty = sys.stdout.isatty()
    if as_json:
        data = _printable_json(result.to_json())
        if apply:
            data["apply"] = {"write": write, "runs": _printable_json([o.to_json() for o in outcomes]),
                             "diff": printable(diff) if tty else diff}
        from codemods.core.jsonout import write_json

        # no floats; up to a few hundred findings the json module is quicker than importing msgspec
        write_json(data, small=result.failures <= 200)
    else:
        if not quiet:
            stream = sys.stdout if not apply else sys.stderr
            summary(result, stream, width=None if stream.isatty() else _piped_width())
        if apply:
            if not write:
                sys.stdout.buffer.write((printable(diff) if tty else diff).encode("utf-8", errors="surrogateescape"))
                sys.stdout.flush()
            for o in outcomes:
                verb = "changed" if write else "would change"
                state = o.error or f"{verb} {len(o.changed)} file(s)"
                _err(f"{' '.join(o.command.argv())}: {state}")
                for n in o.notices:
                    _err(f"  {n}")
            skipped = [c for c in result.commands if not c.available]
            for c in skipped:
                _err(f"not run: {' '.join(c.argv())}  ({c.note or 'fixer not available'})")
    if any(o.exit_code == 2 for o in outcomes):
        return 2
    return 1 if result.unrecognised else 0



def _piped_width() -> int:
    """Off a terminal: ``COLUMNS`` when set (as rich and most tools honour it), else 120."""
    columns = os.environ.get("COLUMNS", "")
    return int(columns) if columns.isdigit() and int(columns) >= 40 else 120

@click.command("triage")
@click.argument("logs", nargs=-1, type=click.Path(path_type=Path))
@click.option("--junit", "junit", multiple=True, type=click.Path(path_type=Path), metavar="FILE",
              help="A pytest --junitxml report (repeatable; several runs reveal flaky tests).")
@click.option("--root", type=click.Path(path_type=Path, file_okay=False), default=Path("."), show_default=True,
              help="The repository the proposed commands run in.")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Where extracted tool reports go (default: ROOT/.stabfix/triage).")
@click.option("--json", "as_json", is_flag=True, help="Print the triage as JSON (schema in the README).")
@click.option("--apply", "apply", is_flag=True, help="Run the proposed fixers in dry-run and print their combined diff.")
@click.option("--write", is_flag=True, help="With --apply: write the changes.")
@click.option("--group", default="heavy", show_default=True, help="xdist group name for tests whose worker crashed.")
@click.option("--quiet", "-q", is_flag=True, help="No summary table.")
@click.option("--history", type=click.Path(path_type=Path, dir_okay=False), default=None, metavar="FILE",
              help="`stabfix ci history --json` output: a failed test that passed in other runs is flaky.")
@click.option("--debug", is_flag=True, help="Show a traceback on errors.")
def command(logs: tuple[Path, ...], junit: tuple[Path, ...], root: Path, out: Path | None, as_json: bool,
            apply: bool, write: bool, group: str, quiet: bool, history: Path | None, debug: bool) -> None:
    """Sort the failures of CI logs and JUnit reports into categories and propose stabfix commands."""
    raise SystemExit(_run(logs, junit, root, out, as_json, apply, write, group, quiet, history))


def main(argv: list[str] | None = None) -> None:
    """Run the command standalone (``python -m codemods.commands.triage.cli``)."""
    from codemods.errors import StabfixError

    args = sys.argv[1:] if argv is None else argv
    try:
        command.main(args=args, prog_name="stabfix triage", standalone_mode=True)
    except StabfixError as exc:
        if "--debug" in args or os.environ.get("STABFIX_DEBUG") == "1":
            traceback.print_exc()
        click.echo(printable(exc.one_line()), err=True)
        raise SystemExit(2) from None


if __name__ == "__main__":  # pragma: no cover
    main()
