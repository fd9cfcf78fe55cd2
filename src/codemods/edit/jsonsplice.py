"""Format-preserving JSON edits: set one member of an object by splicing the original text.

``json.loads`` then ``json.dumps`` rewrites a whole package.json (indentation, key order kept only
by luck, escapes, the final newline). Here a small JSON reader keeps the offsets of every key and
value (the standard library gives none), and :func:`set_member` replaces one value or inserts one
member after the last one, in the file's own indentation (2 or 4 spaces, tabs), key/value separator
and line endings. Only the lines that change differ: a replaced value's line, or the previous last
member's line (which gains a comma) plus the new lines. The caller checks the result with
``json.loads`` (see :func:`loads_checked`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

__all__ = ["JsonSpliceError", "Member", "Node", "loads_checked", "parse", "set_member"]

_WS = re.compile(r"[ \t\n\r]*")
_STRING = re.compile(r'"(?:[^"\\\x00-\x1f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"')
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_LITERALS = {"true": True, "false": False, "null": None}
MAX_DEPTH = 256


class JsonSpliceError(ValueError):
    """Not valid JSON (with the 1-based line), or an edit that cannot be made."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass
class Member:
    """``"key": value`` inside an object: the key's span and the value node."""

    key: str
    key_start: int
    key_end: int
    value: Node


@dataclass
class Node:
    """A JSON value with its span ``text[start:end]``; objects keep their members in order."""

    kind: str  # "object" | "array" | "string" | "number" | "literal"
    start: int
    end: int
    value: Any = None  # the decoded value of a scalar
    members: list[Member] = field(default_factory=list)
    items: list[Node] = field(default_factory=list)

    def get(self, key: str) -> Member | None:
        return next((m for m in self.members if m.key == key), None)


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


class _Reader:
    def __init__(self, text: str) -> None:
        self.text = text

    def fail(self, message: str, at: int) -> JsonSpliceError:
        return JsonSpliceError(f"line {_line(self.text, at)}: {message}", _line(self.text, at))

    def ws(self, i: int) -> int:
        m = _WS.match(self.text, i)
        return m.end() if m else i

    def value(self, i: int, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise self.fail("nested too deeply", i)
        text = self.text
        c = text[i:i + 1]
        if c == "{":
            return self.obj(i, depth)
        if c == "[":
            node = Node("array", i, i)
            j = self.ws(i + 1)
            if text.startswith("]", j):
                node.end = j + 1
                return node
            while True:
                item = self.value(j, depth + 1)
                node.items.append(item)
                j = self.ws(item.end)
                if text.startswith(",", j):
                    j = self.ws(j + 1)
                    continue
                if text.startswith("]", j):
                    node.end = j + 1
                    return node
                raise self.fail("expected ',' or ']' in an array", j)
        if c == '"':
            m = _STRING.match(text, i)
            if m is None:
                raise self.fail("unterminated or invalid string", i)
            return Node("string", i, m.end(), json.loads(m.group()))
        m = _NUMBER.match(text, i)
        if m is not None and m.end() > i:
            return Node("number", i, m.end(), json.loads(m.group()))
        for word, val in _LITERALS.items():
            if text.startswith(word, i):
                return Node("literal", i, i + len(word), val)
        raise self.fail("expected a JSON value" if c else "unexpected end of the file", i)

    def obj(self, i: int, depth: int) -> Node:
        text = self.text
        node = Node("object", i, i)
        seen: set[str] = set()
        j = self.ws(i + 1)
        if text.startswith("}", j):
            node.end = j + 1
            return node
        while True:
            m = _STRING.match(text, j)
            if m is None:
                raise self.fail("expected a quoted key", j)
            key = json.loads(m.group())
            if key in seen:
                raise self.fail(f"duplicate key {key!r}", j)
            seen.add(key)
            k = self.ws(m.end())
            if not text.startswith(":", k):
                raise self.fail(f"expected ':' after the key {key!r}", k)
            value = self.value(self.ws(k + 1), depth + 1)
            node.members.append(Member(key, j, m.end(), value))
            j = self.ws(value.end)
            if text.startswith(",", j):
                j = self.ws(j + 1)
                continue
            if text.startswith("}", j):
                node.end = j + 1
                return node
            raise self.fail("expected ',' or '}' in an object", j)


def parse(text: str) -> Node:
    """The JSON document with offsets; :class:`JsonSpliceError` (with the line) when invalid.

    Stricter than ``json.loads`` in one way: a duplicate key is an error (``json.loads`` keeps the
    last one silently, npm too, so an edit of the first would change nothing)."""
    reader = _Reader(text)
    start = reader.ws(0)
    root = reader.value(start, 0)
    end = reader.ws(root.end)
    if end != len(text):
        raise reader.fail("extra text after the JSON value", end)
    return root


def loads_checked(text: str) -> Any:
    """``json.loads`` of a spliced result (a splice bug surfaces here, never in the file)."""
    try:
        return json.loads(text)
    except ValueError as exc:  # pragma: no cover - a bug in this module
        raise JsonSpliceError(f"the edited JSON does not parse ({exc})") from None


def _line_start(text: str, offset: int) -> int:
    return text.rfind("\n", 0, offset) + 1


def _indent_before(text: str, offset: int) -> str | None:
    """The whitespace between the line start and ``offset`` when only whitespace is there."""
    start = _line_start(text, offset)
    lead = text[start:offset]
    return lead if lead.strip(" \t") == "" else None


def indent_unit(text: str, root: Node) -> str:
    """The file's indentation step: that of the root object's first member (2 spaces by default)."""
    if root.kind == "object" and root.members:
        lead = _indent_before(text, root.members[0].key_start)
        root_lead = _indent_before(text, root.start) or ""
        if lead and lead != root_lead:
            return lead[len(root_lead):] if lead.startswith(root_lead) else lead
    return "  "


def render(value: Any, unit: str, level: int, newline: str, sep: str) -> str:
    """``value`` as JSON in the file's style (objects one member per line, like npm writes)."""
    if isinstance(value, dict) and value:
        inner = unit * (level + 1)
        parts = [f"{inner}{json.dumps(k, ensure_ascii=False)}{sep}{render(v, unit, level + 1, newline, sep)}"
                 for k, v in value.items()]
        return "{" + newline + ("," + newline).join(parts) + newline + unit * level + "}"
    return json.dumps(value, ensure_ascii=False)


def _level_of(text: str, offset: int, unit: str) -> int:
    """The indentation level (in ``unit`` steps) of the line holding ``offset``."""
    start = _line_start(text, offset)
    line = text[start:offset]
    lead = line[:len(line) - len(line.lstrip(" \t"))]
    return len(lead.expandtabs(len(unit))) // len(unit.expandtabs(len(unit))) if unit else 0


def set_member(text: str, path: tuple[str, ...], value: Any, root: Node | None = None) -> str:
    """Set ``path[-1]`` of the object at ``path[:-1]`` to ``value`` (a JSON-able Python value).

    An existing member gets its value replaced in place; a missing one is added after the last
    member of its object (objects on the way are created the same way). Indentation, separator
    and line endings follow the file.
    """
    if not path:
        raise JsonSpliceError("an empty path")
    root = parse(text) if root is None else root
    newline = "\r\n" if "\r\n" in text else "\n"
    unit = indent_unit(text, root)
    node = root
    for depth, key in enumerate(path):
        if node.kind != "object":
            raise JsonSpliceError(f"`{'.'.join(path[:depth]) or '(root)'}` is not an object")
        member = node.get(key)
        if member is None:
            rest: Any = value
            for k in reversed(path[depth + 1:]):
                rest = {k: rest}
            return _insert(text, node, key, rest, unit, newline)
        if depth == len(path) - 1:
            level = _level_of(text, member.key_start, unit)
            sep = text[member.key_end:member.value.start] or ": "
            new = render(value, unit, level, newline, sep.strip() + " " if "\n" in sep else sep)
            return text[:member.value.start] + new + text[member.value.end:]
        node = member.value
    raise AssertionError("unreachable")  # pragma: no cover


def _insert(text: str, obj: Node, key: str, value: Any, unit: str, newline: str) -> str:
    level = _level_of(text, obj.start, unit)
    if obj.members:
        last = obj.members[-1]
        sep = text[last.key_end:last.value.start]
        sep = sep if "\n" not in sep and sep.strip() == ":" else ": "
        lead = _indent_before(text, last.key_start)
        multiline = lead is not None
        member_level = _level_of(text, last.key_start, unit) if multiline else level + 1
        shown = render(value, unit, member_level, newline, sep) if multiline else json.dumps(value, ensure_ascii=False)
        body = json.dumps(key, ensure_ascii=False) + sep + shown
        glue = "," + (newline + (lead or "") if multiline else " ")
        return text[:last.value.end] + glue + body + text[last.value.end:]
    sep = ": "
    if "\n" not in text:  # a one-line document stays on one line
        return text[:obj.start] + "{" + json.dumps({key: value}, ensure_ascii=False)[1:] + text[obj.end:]
    inner = unit * (level + 1)
    body = json.dumps(key, ensure_ascii=False) + sep + render(value, unit, level + 1, newline, sep)
    new = "{" + newline + inner + body + newline + unit * level + "}"
    return text[:obj.start] + new + text[obj.end:]
