"""Errors that end a run with exit code 2 and one clear line (never a traceback)."""

from __future__ import annotations


class StabfixError(Exception):
    """Bad input, a missing tool, a refused write: the message is the whole story.

    ``path`` names the file concerned when there is one; the message should say what to do.
    """

    exit_code = 2

    def __init__(self, message: str, path: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path

    def one_line(self) -> str:
        text = " ".join(self.message.split("\n"))
        return f"error: {self.path}: {text}" if self.path else f"error: {text}"


class UsageError(StabfixError):
    """An option or argument that cannot work (e.g. ``--to 0``)."""


class ConfigError(StabfixError):
    """A bad ``[tool.stabfix]`` table (unknown key, wrong type)."""


class ToolError(StabfixError):
    """An external tool is missing, failed, or printed something we cannot read."""


class FileFailure(Exception):
    """Raised by a file fixer for one file: the file is reported as failed, others go on."""

    def __init__(self, message: str, line: int | None = None, status: str = "failed") -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.status = status  # "failed", or "skipped" for a file left out on purpose (too large)


def interrupted_line(written: int = 0, apply: bool = True) -> str:
    """What an interrupted command prints (exit code 130): how many files it had put in place."""
    if written:
        return f"interrupted after writing {written} file{'s' if written != 1 else ''}"
    return "interrupted: nothing written" if apply else "interrupted"
