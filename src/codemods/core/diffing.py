"""Render a plan as a unified diff that ``git apply`` accepts.

Built on :mod:`difflib`. Each file gets a ``diff --git`` header (``new file mode`` for creations);
lines keep their own endings (CRLF stays CRLF); a missing final newline gets git's
``\\ No newline at end of file`` marker. Text is decoded with the file's own encoding.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from codemods.core.plan import FileChange

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


Opcode = tuple[str, int, int, int, int]


def _opcodes(a: list[str], b: list[str]) -> list[Opcode]:
    """difflib opcodes, cheaply for the common case of a fixer's edit.

    Common leading and trailing lines are trimmed first. When the changed middle keeps its
    length (lines edited in place, as comment and value edits are), a linear scan gives the
    equal/replace runs; otherwise SequenceMatcher aligns the middle only.
    """
    lo = 0
    top = min(len(a), len(b))
    while lo < top and a[lo] == b[lo]:
        lo += 1
    hi_a, hi_b = len(a), len(b)
    while hi_a > lo and hi_b > lo and a[hi_a - 1] == b[hi_b - 1]:
        hi_a -= 1
        hi_b -= 1
    ops: list[Opcode] = [("equal", 0, lo, 0, lo)] if lo else []
    if hi_a - lo == hi_b - lo:
        i = lo
        while i < hi_a:
            j = i
            same = a[i] == b[i]
            while j < hi_a and (a[j] == b[j]) == same:
                j += 1
            ops.append(("equal" if same else "replace", i, j, i, j))
            i = j
    else:
        matcher = difflib.SequenceMatcher(None, a[lo:hi_a], b[lo:hi_b], autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            ops.append((tag, i1 + lo, i2 + lo, j1 + lo, j2 + lo))
    if hi_a < len(a):
        ops.append(("equal", hi_a, len(a), hi_b, len(b)))
    return ops or [("equal", 0, 0, 0, 0)]


def _unified(a: list[str], b: list[str], fromfile: str, tofile: str, n: int) -> list[str]:
    """``difflib.unified_diff`` over :func:`_opcodes` (same format, linear time for in-place edits)."""
    out: list[str] = []
    for group in _grouped(_opcodes(a, b), n):
        if not out:
            out += [f"--- {fromfile}\n", f"+++ {tofile}\n"]
        first, last = group[0], group[-1]
        out.append(f"@@ -{_range(first[1], last[2])} +{_range(first[3], last[4])} @@\n")
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                out += [" " + line for line in a[i1:i2]]
                continue
            if tag in ("replace", "delete"):
                out += ["-" + line for line in a[i1:i2]]
            if tag in ("replace", "insert"):
                out += ["+" + line for line in b[j1:j2]]
    return out


def _grouped(codes: list[Opcode], n: int) -> list[list[Opcode]]:
    """Hunks with ``n`` lines of context (``SequenceMatcher.get_grouped_opcodes``' algorithm)."""
    if codes[0][0] == "equal":
        tag, i1, i2, j1, j2 = codes[0]
        codes[0] = (tag, max(i1, i2 - n), i2, max(j1, j2 - n), j2)
    if codes[-1][0] == "equal":
        tag, i1, i2, j1, j2 = codes[-1]
        codes[-1] = (tag, i1, min(i2, i1 + n), j1, min(j2, j1 + n))
    groups: list[list[Opcode]] = []
    group: list[Opcode] = []
    for tag, i1, i2, j1, j2 in codes:
        if tag == "equal" and i2 - i1 > 2 * n:
            group.append((tag, i1, min(i2, i1 + n), j1, min(j2, j1 + n)))
            groups.append(group)
            group = []
            i1, j1 = max(i1, i2 - n), max(j1, j2 - n)
        group.append((tag, i1, i2, j1, j2))
    if group and not (len(group) == 1 and group[0][0] == "equal"):
        groups.append(group)
    return groups


def _range(start: int, stop: int) -> str:
    """A hunk range as unified diff writes it (difflib's ``_format_range_unified``)."""
    beginning, length = start + 1, stop - start
    if length == 1:
        return str(beginning)
    if not length:
        beginning -= 1
    return f"{beginning},{length}"


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
    body = _unified(a, b, fromfile, f"b/{path}", context)
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
