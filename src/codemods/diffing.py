"""Render a plan as a unified diff that ``git apply`` accepts.

Built on :mod:`difflib`. Each file gets a ``diff --git`` header (``new file mode`` for creations);
lines keep their own endings (CRLF stays CRLF); a missing final newline gets git's
``\\ No newline at end of file`` marker. Text is decoded with the file's own encoding.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from .plan import FileChange

NO_NEWLINE = "\\ No newline at end of file\n"


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return "\ufeff" + data[3:].decode("utf-8", errors="surrogateescape")
    return data.decode("utf-8", errors="surrogateescape")


def _lines(text: str) -> list[str]:
    # Split on \n only (keeping \r in CRLF lines) so that CRLF files diff and apply byte for byte.
    parts = text.split("\n")
    lines = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def file_diff(change: FileChange, context: int = 3) -> str:
    """The unified diff of one change (empty when old == new)."""
    old = _decode(change.old) if change.old is not None else ""
    new = _decode(change.new)
    if change.old is not None and old == new:
        return ""
    a, b = _lines(old), _lines(new)
    path = change.path
    out = [f"diff --git a/{path} b/{path}\n"]
    if change.is_creation:
        executable = bool((change.mode or 0o644) & 0o111)
        out.append(f"new file mode {'100755' if executable else '100644'}\n")
        fromfile = "/dev/null"
    else:
        fromfile = f"a/{path}"
    body = list(difflib.unified_diff(a, b, fromfile=fromfile, tofile=f"b/{path}", n=context))
    if not body:
        return ""
    for line in body:
        if line.endswith("\n"):
            out.append(line)
        else:
            out.append(line + "\n" + NO_NEWLINE)
    return "".join(out)


def render(changes: Iterable[FileChange], context: int = 3) -> str:
    """The whole plan as one patch."""
    return "".join(file_diff(c, context) for c in changes)


def to_bytes(diff: str) -> bytes:
    """Encode a rendered diff back to the files' bytes (undoing surrogateescape)."""
    return diff.encode("utf-8", errors="surrogateescape")
