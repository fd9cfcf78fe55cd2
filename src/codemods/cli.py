"""The ``stabfix`` command line: a thin layer over :mod:`codemods.api`.

``stabfix apply FIXER`` is a click group whose sub-commands are built on demand from each fixer's
Options dataclass, so adding a fixer adds its flags here without touching this file. Errors are one
line on stderr with exit code 2 (``--debug`` shows the traceback). An interrupt (Ctrl-C, SIGTERM)
stops the run, cleans up and prints one line, with exit code 130.
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, NoReturn

import click

from codemods._version import __version__

if TYPE_CHECKING:
    from codemods.api import Report

#: top-level commands that live in their own modules: name -> "module:attribute" (a click command).
#: codemods.cli and codemods.commands are independent siblings (the import-linter layers contract in
#: pyproject.toml): the CLI knows the commands only by these names, and commands never import it.
EXTRA_COMMANDS: dict[str, str] = {
    "demo": "codemods.commands.demo:command",
    "triage": "codemods.commands.triage.cli:command",
    "ci": "codemods.commands.circleci:group",
    "loop": "codemods.commands.loop:command",
    "completion": "codemods.commands.completion:command",
}


def _fail(message: str) -> NoReturn:
    click.echo(message, err=True)
    raise SystemExit(2)


#: seconds the cleanup after an interrupt may take before the process exits regardless
CLEANUP_DEADLINE = 10.0


def _on_interrupt(signum: int, frame: FrameType | None) -> None:
    """SIGINT, SIGTERM: unwind the run as a KeyboardInterrupt (which stops the workers and removes
    temporary files on its way out); a second signal is ignored, not to cut that cleanup short.
    A watchdog guarantees the exit: a cleanup still running after :data:`CLEANUP_DEADLINE` seconds
    ends the process (exit 130; the next run removes any temporary file left)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    watchdog = threading.Timer(CLEANUP_DEADLINE, _give_up)
    watchdog.daemon = True
    watchdog.start()
    raise KeyboardInterrupt


def _give_up() -> None:
    os.write(2, b"interrupted: cleanup did not finish in time; temporary files may be left\n")
    os._exit(130)


def _interrupted(exc: KeyboardInterrupt, apply: bool = True) -> NoReturn:
    """One line on stderr, exit 130 (128 + SIGINT, what shells report for Ctrl-C)."""
    from codemods.errors import interrupted_line

    click.echo(interrupted_line(getattr(exc, "written", 0), apply), err=True)
    raise SystemExit(130)


@click.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the fixers as JSON.")
def list_cmd(as_json: bool) -> None:
    """List the fixers, one line each."""
    if not as_json:  # names and descriptions come from the registry: no fixer module is imported
        from codemods.core import registry

        width = max((len(n) for n in registry.names()), default=0)
        click.echo("\n".join(f"{n.ljust(width)}  {registry.describe(n)}" for n in registry.names()))
        return
    from codemods.api import list_fixers

    # "flag": the command-line flag, null when the option is not on the command line (e.g.
    # workers' `files`, a config key only); "key": the [tool.stabfix.<fixer>] key, null when
    # the option cannot be configured (e.g. version's --set)
    out = [
        {"name": i.name, "description": i.description, "kind": i.kind,
         "options": [{"flag": o.flag if o.cli else None, "key": o.key if o.config else None,
                      "help": o.help, "default": _plain(o.default)}
                     for o in i.options]}
        for i in list_fixers()
    ]
    click.echo(json.dumps(out, indent=2))


def _plain(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    return value


# -- apply ---------------------------------------------------------------------------------------

COMMON_HELP = {
    "diff": "Dry run: print the unified diff, write nothing.",
    "check": "Dry run: print the diff and exit 1 if anything would change (for CI).",
    "json": "Print the JSON report on stdout.",
}


def _option_for(spec: Any) -> click.Option:
    decls = [spec.flag] + ([spec.short] if spec.short else [])
    kwargs: dict[str, Any] = {"help": spec.help, "default": None, "show_default": False}
    if spec.default not in (None, [], (), False, ""):
        kwargs["help"] = f"{spec.help} [default: {_plain(spec.default)}]".strip()
    if spec.kind == "bool":
        decls = [f"{spec.flag}/--no-{spec.flag[2:]}"]
        kwargs["default"] = None
    elif spec.kind == "list":
        kwargs["multiple"] = True
        kwargs["metavar"] = spec.metavar or "VALUE"
    else:
        ptype: Any = {"int": int, "float": float, "path": click.Path(path_type=Path)}.get(spec.kind, str)
        if spec.choices:
            ptype = click.Choice(list(spec.choices))
        kwargs["type"] = ptype
        if spec.metavar:
            kwargs["metavar"] = spec.metavar
        if spec.flag_value is not None:
            kwargs["is_flag"] = False
            kwargs["flag_value"] = spec.flag_value
    return click.Option([*decls, spec.name], **kwargs)


def _common_options() -> list[click.Parameter]:
    return [
        click.Argument(["paths"], nargs=-1, type=click.Path(path_type=Path)),
        click.Option(["--diff", "diff"], is_flag=True, help=COMMON_HELP["diff"]),
        click.Option(["--check", "check"], is_flag=True, help=COMMON_HELP["check"]),
        click.Option(["--json", "as_json"], is_flag=True, help=COMMON_HELP["json"]),
        click.Option(["--root", "root"], type=click.Path(path_type=Path, file_okay=False),
                     help="Where the config (pyproject.toml) and git are read (default: the git top level, "
                          "else the nearest folder up holding pyproject.toml or .git, else the current folder)."),
        click.Option(["--include", "include"], multiple=True, metavar="GLOB", help="Only files matching GLOB."),
        click.Option(["--exclude", "exclude"], multiple=True, metavar="GLOB", help="Skip files matching GLOB."),
        click.Option(["--jobs", "-j", "jobs"], type=click.IntRange(min=1), help="Worker processes, at most one per CPU (default: a pool only where the first files' measured cost says it pays)."),
        click.Option(["--quiet", "-q", "quiet"], is_flag=True, help="No summary, no progress bar."),
        click.Option(["--debug", "debug"], is_flag=True, help="Show a traceback on errors."),
    ]


COMMON_NAMES = {"paths", "diff", "check", "as_json", "root", "include", "exclude", "jobs", "quiet", "debug"}


def _progress_factory(enabled: bool) -> Any:
    if not enabled or not sys.stderr.isatty():
        return None, None
    state: dict[str, Any] = {}

    def progress(done: int, total: int) -> None:
        if total < 50:
            return
        if "bar" not in state:
            from rich.console import Console
            from rich.progress import Progress

            bar = Progress(console=Console(stderr=True), transient=True)
            bar.start()
            state["bar"] = bar
            state["task"] = bar.add_task("stabfix", total=total)
        state["bar"].update(state["task"], completed=done)

    def stop() -> None:
        if "bar" in state:
            state["bar"].stop()

    return progress, stop


def _run_apply(name: str, params: dict[str, Any]) -> int:
    from codemods import api

    common = {k: params.pop(k) for k in list(params) if k in COMMON_NAMES}
    fixer_opts = {k: (list(v) if isinstance(v, tuple) else v) for k, v in params.items()}
    fixer_opts = {k: v for k, v in fixer_opts.items() if v is not None and v != []}
    if common["check"]:
        mode = "check"
    elif common["diff"]:
        mode = "diff"
    else:
        mode = "write"
    quiet = common["quiet"]
    progress, stop = _progress_factory(not quiet and not common["as_json"])
    try:
        report = api.apply(
            name,
            list(common["paths"]) or None,
            root=common["root"],
            cwd=Path.cwd(),  # PATHS are relative to the current folder (as ruff and black take them)
            mode=mode,  # type: ignore[arg-type]
            include=common["include"],
            exclude=common["exclude"],
            jobs=common["jobs"],
            progress=progress,
            options=fixer_opts,
            keep_texts=mode != "write",  # a write prints no text: each file's bytes go once staged
        )
    finally:
        if stop:
            stop()
    try:
        _print_report(report, mode, common["as_json"], quiet)
    except KeyboardInterrupt:
        from codemods.core.writer import Interrupted

        raise Interrupted(len(report.changed) if report.applied else 0) from None
    return report.exit_code


def _print_report(report: Report, mode: str, as_json: bool, quiet: bool) -> None:
    out = sys.stdout
    if as_json:
        data = report.to_json()
        if mode != "write":
            data["diff"] = report.diff
        from codemods.api import write_json

        write_json(data)
    else:
        if mode in ("diff", "check"):
            out.buffer.write(report.diff.encode("utf-8", errors="surrogateescape"))
            out.flush()
        if not quiet:
            stream = sys.stderr if mode != "write" else sys.stdout
            stream.write(report.summary() + "\n")
        elif report.failed:
            for f in report.failed:
                sys.stderr.write(f"error: {f.path}: {f.reason}\n")


class ApplyGroup(click.Group):
    """``stabfix apply FIXER``: one sub-command per registered fixer, built on demand."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        from codemods.core import registry

        return registry.names()

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        from codemods.core import options, registry
        from codemods.errors import StabfixError

        if cmd_name not in registry.FIXERS:
            raise registry.unknown_fixer(cmd_name)  # with a close match, not click's "No such command"
        try:
            cls = registry.load(cmd_name)
        except StabfixError as exc:
            _fail(exc.one_line())
        params = _common_options()
        for spec in options.specs(cls.Options):
            if spec.cli and spec.name not in COMMON_NAMES:
                params.append(_option_for(spec))

        def callback(**kwargs: Any) -> None:
            raise SystemExit(_run_apply(cmd_name, kwargs))

        return click.Command(cmd_name, params=params, callback=callback, help=cls.description,
                             short_help=cls.description)


class LazyGroup(click.Group):
    """The top-level group: fixed commands plus ``apply`` and lazily imported extras."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*super().list_commands(ctx), "apply", *EXTRA_COMMANDS]

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt as exc:  # before click turns it into "Aborted!" and exit 1
            _interrupted(exc, apply=ctx.invoked_subcommand == "apply")

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name == "apply":
            return ApplyGroup("apply", help="Plan a fixer and apply it (or --diff / --check / --json).",
                              no_args_is_help=True)
        target = EXTRA_COMMANDS.get(cmd_name)
        if target:
            module, _, attr = target.partition(":")
            cmd: click.Command = getattr(importlib.import_module(module), attr)
            return cmd
        return super().get_command(ctx, cmd_name)


#: `-h` is `--help` everywhere (sub-commands inherit the context settings)
CONTEXT_SETTINGS: dict[str, Any] = {"help_option_names": ["-h", "--help"]}


@click.group("stabfix", cls=LazyGroup, no_args_is_help=True, context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "--version", prog_name="stabfix", message="%(prog)s %(version)s")
def cli() -> None:
    """stabfix: codemods and auto-fixers that turn CI-stabilisation edits into reviewable commands.

    Plan, review, then apply: `stabfix apply FIXER --diff` shows what would change.
    """


cli.add_command(list_cmd)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    from codemods.errors import StabfixError

    args = sys.argv[1:] if argv is None else argv
    # A run builds tens of thousands of small containers (report entries, edits) and few cycles:
    # keep the cyclic collector from re-scanning them, and the imported modules, again and again.
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    debug = "--debug" in args or os.environ.get("STABFIX_DEBUG") == "1"
    signal.signal(signal.SIGINT, _on_interrupt)
    signal.signal(signal.SIGTERM, _on_interrupt)
    try:
        cli.main(args=args, prog_name="stabfix", standalone_mode=True)
    except StabfixError as exc:
        if debug:
            import traceback

            traceback.print_exc()
        _fail(exc.one_line())
    except KeyboardInterrupt as exc:
        _interrupted(exc, apply="apply" in args)
    except SystemExit:
        raise
    except Exception as exc:
        if debug:
            import traceback

            traceback.print_exc()
        _fail(f"error: internal error: {type(exc).__name__}: {exc} (rerun with --debug for a traceback)")
    finally:  # over, and cleaned up: a late signal must not turn the exit into a traceback
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)


if __name__ == "__main__":  # pragma: no cover
    main()
