"""``--run``: run ruff / mypy / pyright ourselves and return their machine-readable report.

The command line comes from ``command`` (``[tool.stabfix.<fixer>] command = "ruff check ."``) or
the tool's default. Its first word must be the tool's own program name (the config is the
repository's, so it may not name another program or a path); it is looked up next to the running
interpreter (the active virtualenv) first, then on ``PATH``. stabfix adds the output-format flag the tool needs when the
command does not already give it. The command runs in ``cwd`` (``--report-root``), which is also
where relative paths in the report are resolved.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from codemods.errors import ToolError

DEFAULTS = {
    "ruff": "ruff check .",
    "mypy": "mypy .",
    "pyright": "",  # pyright, else basedpyright
}
_FORMAT_FLAGS = {
    "ruff": (("--output-format",), ["--output-format", "json"]),
    "mypy": (("-O", "--output"), ["-O", "json"]),
    "pyright": (("--outputjson",), ["--outputjson"]),
}
#: the programs a command may start with, per tool
PROGRAMS = {"ruff": ("ruff",), "mypy": ("mypy", "dmypy"), "pyright": ("pyright", "basedpyright")}
#: exit codes that mean "ran fine" (with or without findings)
_OK = {"ruff": {0, 1}, "mypy": {0, 1}, "pyright": {0, 1}}


def find_tool(name: str) -> str | None:
    """The executable ``name`` in the active environment, else on PATH."""
    if os.sep in name or (os.altsep and os.altsep in name):
        return name if Path(name).exists() else None
    here = Path(sys.executable).parent
    for candidate in (here / name, here / f"{name}.exe"):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which(name)


def command_line(tool: str, command: str | None) -> list[str]:
    """The argv to run (format flag added), or a clear error when the tool is missing."""
    text = command or DEFAULTS[tool]
    if not text and tool == "pyright":
        name = "pyright" if find_tool("pyright") else "basedpyright"
        text = name
    argv = shlex.split(text)
    if not argv:
        raise ToolError(f"the {tool} command is empty; set `command` in [tool.stabfix.{TOOL_FIXER[tool]}]")
    if argv[0] not in PROGRAMS[tool]:
        # the command may come from the repository's config, which is untrusted: it runs only the
        # tool itself (looked up in this environment, then on PATH), never a path the repo names
        raise ToolError(
            f"the {tool} command must start with {' or '.join(PROGRAMS[tool])} (no path), not `{argv[0][:60]}`; "
            f"set `command` in [tool.stabfix.{TOOL_FIXER[tool]}]"
        )
    exe = find_tool(argv[0])
    if exe is None:
        raise ToolError(
            f"`{argv[0]}` not found in this environment ({Path(sys.executable).parent}) or on PATH; "
            f"install it or set `command` in [tool.stabfix.{TOOL_FIXER[tool]}]"
        )
    names, flag = _FORMAT_FLAGS[tool]
    if not any(a == n or a.startswith(n + "=") for a in argv for n in names):
        argv = [argv[0], *argv[1:], *flag] if tool != "ruff" else _ruff_argv(argv, flag)
    if tool == "mypy" and "--no-error-summary" not in argv:
        argv.append("--no-error-summary")
    return [exe, *argv[1:]]


TOOL_FIXER = {"ruff": "noqa", "mypy": "type-ignore", "pyright": "pyright-ignore"}


def _ruff_argv(argv: list[str], flag: list[str]) -> list[str]:
    # `ruff check` takes the flag after the subcommand
    if len(argv) > 1 and argv[1] == "check":
        return [argv[0], "check", *flag, *argv[2:]]
    return [*argv, *flag]


def run_tool(tool: str, command: str | None, cwd: Path) -> tuple[str, str]:
    """Run the tool in ``cwd``; return (stdout, the command shown to the user)."""
    argv = command_line(tool, command)
    shown = shlex.join([Path(argv[0]).name, *argv[1:]])
    try:
        proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, encoding="utf-8", errors="replace")
    except OSError as exc:
        raise ToolError(f"cannot run `{shown}`: {exc.strerror}") from None
    if proc.returncode not in _OK[tool]:
        detail = (proc.stderr.strip() or proc.stdout.strip()).splitlines()
        first = detail[0] if detail else "no output"
        raise ToolError(f"`{shown}` failed (exit {proc.returncode}) in {cwd}: {first}")
    return proc.stdout, shown
