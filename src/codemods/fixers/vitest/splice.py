"""Byte splices into TypeScript source: add an item to an object or argument list in its style.

A :class:`Splice` replaces ``data[start:end]``; :func:`apply` applies several at once (they must not
overlap). :func:`append_item` follows the container's layout: on one line it adds ``, item`` (after
a trailing comma: `` item,``); when the last item sits on its own line, the new item gets a line of
its own with the same indentation and the same trailing-comma habit, after any comment that ends
the last item's line. Nothing else in the file moves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from codemods.fixers.vitest.syntax import named

if TYPE_CHECKING:
    from tree_sitter import Node


@dataclass(frozen=True)
class Splice:
    start: int
    end: int
    new: bytes


def apply(data: bytes, splices: list[Splice]) -> bytes:
    """Apply splices (in any order); overlapping ones are a bug in the caller."""
    out = data
    last = len(data) + 1
    for s in sorted(splices, key=lambda s: (s.start, s.end), reverse=True):
        if s.end > last:
            raise ValueError("overlapping splices")
        out = out[:s.start] + s.new + out[s.end:]
        last = s.start
    return out


def _line_start(data: bytes, pos: int) -> int:
    return data.rfind(b"\n", 0, pos) + 1


def _indent(data: bytes, pos: int) -> bytes:
    start = _line_start(data, pos)
    end = start
    while end < len(data) and data[end:end + 1] in (b" ", b"\t"):
        end += 1
    return data[start:end]


def _rest_of_line(data: bytes, pos: int) -> tuple[int, bytes]:
    """Where the line holding ``pos`` ends (before ``\\r\\n`` / ``\\n``), and its text from ``pos``."""
    end = data.find(b"\n", pos)
    if end < 0:
        end = len(data)
    if end > pos and data[end - 1:end] == b"\r":
        end -= 1
    return end, data[pos:end]


def _only_comment(rest: bytes) -> bool:
    """Whether what follows on a line is blank or one comment (``// ...`` or a closed ``/* ... */``)."""
    body = rest.strip()
    if not body or body.startswith(b"//"):
        return True
    return body.startswith(b"/*") and body.endswith(b"*/") and body.find(b"*/") == len(body) - 2


def append_item(data: bytes, container: Node, item: bytes, newline: bytes) -> Splice:
    """A splice that adds ``item`` after the last item of ``container`` (an ``object`` or ``arguments``)."""
    items = named(container)
    close = container.children[-1]  # `}` or `)`
    if not items:
        open_ = container.children[0]
        inner = data[open_.end_byte:close.start_byte]
        if inner.strip():  # comments only: keep them, the item goes before the closing bracket
            return Splice(close.start_byte, close.start_byte, b" " + item + b" " if container.type == "object" else item)
        if container.type == "object":
            return Splice(open_.start_byte, close.end_byte, b"{ " + item + b" }")
        return Splice(open_.end_byte, close.start_byte, item)
    last = items[-1]
    comma = None
    for child in container.children:
        if child.start_byte >= last.end_byte and child.type == "," and child.start_byte < close.start_byte:
            comma = child
            break
    after = comma.end_byte if comma is not None else last.end_byte
    own_line = last.start_point[0] > container.start_point[0] and close.start_point[0] > last.end_point[0]
    if own_line:
        end, rest = _rest_of_line(data, after)
        if _only_comment(rest):
            indent = _indent(data, last.start_byte)
            if comma is not None:
                return Splice(end, end, newline + indent + item + b",")
            if rest.strip():  # `last // note`: the comma goes right after the item, before the comment
                return Splice(last.end_byte, end, b"," + rest + newline + indent + item)
            return Splice(end, end, b"," + newline + indent + item)
    if comma is not None:
        return Splice(comma.end_byte, comma.end_byte, b" " + item + b",")
    return Splice(last.end_byte, last.end_byte, b", " + item)


def insert_before(data: bytes, container: Node, index: int, item: bytes) -> Splice:
    """A splice that puts ``item`` before the ``index``-th item of ``container`` (an argument list),
    on its own line when that item starts a line."""
    target = named(container)[index]
    line_start = _line_start(data, target.start_byte)
    if not data[line_start:target.start_byte].strip() and target.start_point[0] > container.start_point[0]:
        indent = data[line_start:target.start_byte]
        eol = b"\r\n" if data[:line_start].endswith(b"\r\n") else b"\n"
        return Splice(target.start_byte, target.start_byte, item + b"," + eol + indent)
    return Splice(target.start_byte, target.start_byte, item + b", ")
