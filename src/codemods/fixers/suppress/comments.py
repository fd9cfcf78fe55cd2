"""Trailing-comment grammar: parse a line's comment into directives, merge codes, render it back.

A trailing comment is split into *segments* at every ``#`` that starts the comment or follows
whitespace (``# a  # b`` is two segments; ``# see x#y`` is one). Each segment is one of

* ``type-ignore``   ``# type: ignore`` / ``# type: ignore[a, b]`` (mypy honours it only FIRST);
* ``type-comment``  ``# type: List[int]`` (a PEP 484 type comment; it must stay first);
* ``pyright``       ``# pyright: ignore`` / ``# pyright: ignore[rule]`` (anywhere after a ``#``);
* ``noqa``          ``# noqa`` / ``# noqa: X, Y`` plus reason text in the same segment (ruff finds
  it anywhere in the comment);
* ``other``         everything else, pragmas (``# fmt: skip``, ``# pylint: disable=...``) included.

Edits are minimal: segments that do not change keep their exact text and spacing, trailing
whitespace is kept, and only the directive that needs new codes is re-rendered. The layout of a
line stabfix touches is the canonical one::

    code  # type: ignore[a, b]  # pyright: ignore[r]  # <other comments>  # noqa: X, Y  # reason

Codes are de-duplicated and sorted. Blanket directives (no codes) already suppress everything and
are left alone; an effective blanket makes the request a no-op (:attr:`LineEdit.blanket`).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

SEP = "  "

_SPLIT = re.compile(r"(?<=\s)(?=#)")
_TYPE_IGNORE = re.compile(r"#\s*type:\s*ignore(?![\w-])(?:\[([^\]#]*)\])?(.*)\Z", re.S)
_TYPE_COMMENT = re.compile(r"#\s*type:\s*\S")
_PYRIGHT = re.compile(r"#\s*pyright:\s*ignore(?![\w-])(?:\[([^\]#]*)\])?(.*)\Z", re.S)
_NOQA = re.compile(
    r"#\s*noqa(?![\w-])(?:(:)\s*((?:[A-Z]+[0-9]+)(?:(?:\s*,\s*|\s+)[A-Z]+[0-9]+)*)?)?(.*)\Z", re.S | re.I
)
_CODE_SPLIT = re.compile(r"[\s,]+")


def _codes(text: str | None) -> list[str]:
    return [c for c in _CODE_SPLIT.split(text or "") if c]


@dataclass
class Segment:
    """One ``#`` comment of a trailing comment."""

    sep: str  # whitespace before the '#'
    text: str  # from '#' to the segment's end, trailing whitespace excluded
    kind: str  # "type-ignore" | "type-comment" | "pyright" | "noqa" | "other"
    codes: list[str] | None = None  # None: blanket directive (or not a directive)
    rest: str = ""  # text after the directive's codes inside the segment (a noqa reason)
    changed: bool = False

    def render(self) -> str:
        if not self.changed:
            return self.sep + self.text
        codes = ", ".join(self.codes or [])
        if self.kind == "type-ignore":
            # text glued to a type-ignore is an error for mypy: it becomes a comment of its own
            body = f"# type: ignore[{codes}]" + (f"{SEP}# {self.rest.strip()}" if self.rest.strip() else "")
        elif self.kind == "pyright":
            body = f"# pyright: ignore[{codes}]" + self.rest
        else:  # the noqa directive
            body = f"# noqa: {codes}" + self.rest
        return self.sep + body


def parse_segment(sep: str, text: str) -> Segment:
    """Classify one segment (``text`` starts with ``#``)."""
    m = _TYPE_IGNORE.match(text)
    if m:
        has = m.group(1) is not None
        return Segment(sep, text, "type-ignore", _codes(m.group(1)) if has else None, m.group(2))
    if _TYPE_COMMENT.match(text):
        return Segment(sep, text, "type-comment")
    m = _PYRIGHT.match(text)
    if m:
        has = m.group(1) is not None
        return Segment(sep, text, "pyright", _codes(m.group(1)) if has else None, m.group(2))
    m = _NOQA.match(text)
    if m:
        return Segment(sep, text, "noqa", _codes(m.group(2)) if m.group(1) else None, m.group(3))
    return Segment(sep, text, "other")


@dataclass
class ParsedLine:
    """A physical line split into code, comment segments and trailing whitespace."""

    code: str  # everything before the comment, without the gap before '#'
    segments: list[Segment]
    trailing: str  # whitespace after the comment (or after the code)

    def render(self) -> str:
        return self.code + "".join(s.render() for s in self.segments) + self.trailing

    def find(self, kind: str) -> tuple[int, Segment] | None:
        for i, s in enumerate(self.segments):
            if s.kind == kind:
                return i, s
        return None


def parse_line(line: str, comment_col: int | None) -> ParsedLine:
    """Split ``line`` (no line ending) whose comment starts at ``comment_col`` (None: no comment)."""
    if comment_col is None:
        code = line.rstrip()
        return ParsedLine(code, [], line[len(code):])
    code = line[:comment_col].rstrip()
    gap = line[len(code):comment_col]
    body = line[comment_col:]
    stripped = body.rstrip()
    trailing = body[len(stripped):]
    segments: list[Segment] = []
    sep = gap
    for part in _SPLIT.split(stripped):
        text = part.rstrip()
        segments.append(parse_segment(sep, text))
        sep = part[len(text):]
    return ParsedLine(code, segments, trailing)


def merge_codes(old: list[str] | None, new: list[str]) -> list[str]:
    """Sorted, de-duplicated union."""
    return sorted(set(old or []) | set(new))


@dataclass
class LineEdit:
    """The result of editing one line."""

    text: str  # the new line (equal to the input when nothing changed)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    blanket: bool = False  # a blanket directive already covers the request


def _first_slot(line: ParsedLine) -> int:
    """Index where a type-ignore must go: first, or right after a PEP 484 type comment."""
    return 1 if line.segments and line.segments[0].kind == "type-comment" else 0


def _insert(line: ParsedLine, index: int, seg: Segment) -> None:
    segs = line.segments
    if index < len(segs):
        old = segs[index]
        if index == 0:
            # the new first segment takes the gap after the code (indentation on a comment-only line)
            seg.sep = old.sep if (not line.code or len(old.sep) >= len(SEP)) else SEP
            old.sep = SEP  # text kept verbatim; only the gap before it becomes canonical
        else:
            seg.sep = SEP
    else:
        seg.sep = SEP if line.code or segs else seg.sep
    segs.insert(index, seg)


def _remove(line: ParsedLine, index: int) -> None:
    segs = line.segments
    seg = segs.pop(index)
    if index < len(segs) and index == 0:
        segs[0].sep = seg.sep


def add_codes(line: ParsedLine, kind: str, codes: list[str], reason: str | None = None) -> LineEdit:
    """Add ``codes`` to the ``kind`` directive of ``line`` in place ("type-ignore", "pyright", "noqa")."""
    before = line.render()
    found = line.find(kind)
    if kind == "type-ignore":
        # mypy honours only an effective (first) type-ignore; a misplaced one is moved first
        slot = _first_slot(line)
        if found and found[1].codes is None:
            return LineEdit(before, blanket=True)
        have = found[1].codes if found else []
        missing = sorted(set(codes) - set(have or []))
        if found and found[0] == slot and not missing:
            return LineEdit(before)
        rest = found[1].rest if found else ""
        seg = Segment(SEP, "", "type-ignore", merge_codes(have, codes), rest, changed=True)
        if found:
            _remove(line, found[0])
        _insert(line, slot, seg)
        if reason and not found:
            _insert(line, slot + 1, Segment(SEP, _reason(reason), "other"))
        return LineEdit(line.render(), added=missing)
    if found and found[1].codes is None:
        return LineEdit(before, blanket=True)
    if found:
        seg = found[1]
        missing = sorted(set(codes) - set(seg.codes or []))
        if not missing:
            return LineEdit(before)
        seg.codes = merge_codes(seg.codes, codes)
        seg.changed = True
        return LineEdit(line.render(), added=missing)
    seg = Segment(SEP, "", kind, sorted(set(codes)), changed=True)
    if kind == "pyright":
        # right after the type-ignore / type comment, before other comments
        index = 0
        while index < len(line.segments) and line.segments[index].kind in ("type-ignore", "type-comment"):
            index += 1
        _insert(line, index, seg)
        if reason:
            _insert(line, index + 1, Segment(SEP, _reason(reason), "other"))
    else:
        if reason:
            seg.rest = SEP + _reason(reason)
        _insert(line, len(line.segments), seg)
    return LineEdit(line.render(), added=sorted(set(codes)))


def fresh(line: str, kind: str, codes: list[str], reason: str | None = None) -> str:
    """Fast path of :func:`add_codes` for a line without any comment (same output)."""
    return fresh_sorted(line, len(line.rstrip()), kind, sorted(set(codes)), reason)


def fresh_sorted(line: str, code_end: int, kind: str, codes: list[str], reason: str | None = None) -> str:
    """:func:`fresh` for codes already sorted and unique, the code ending at ``code_end``."""
    before, after = affixes(kind, reason)
    return line[:code_end] + before + ", ".join(codes) + after + line[code_end:]


@functools.cache  # one pair per run: fresh_sorted asks for every line it writes
def affixes(kind: str, reason: str | None = None) -> tuple[str, str]:
    """What :func:`fresh_sorted` puts before and after the joined codes, for a line without a
    comment: ``("  # noqa: ", "")``, ``("  # type: ignore[", "]")``... (the reason included)."""
    if kind == "noqa":
        before, after = SEP + "# noqa: ", ""
    elif kind == "type-ignore":
        before, after = SEP + "# type: ignore[", "]"
    else:
        before, after = SEP + "# pyright: ignore[", "]"
    if reason:
        after += SEP + _reason(reason)
    return before, after


def _reason(text: str) -> str:
    """``--reason`` as a comment of its own: ``# TEXT``."""
    return "# " + text.lstrip("# ").rstrip()


def remove_codes(line: ParsedLine, kind: str, codes: list[str] | None) -> LineEdit:
    """Remove ``codes`` (None: the whole directive) from the ``kind`` directive of ``line``.

    The directive disappears when no code is left; the other comments stay.
    """
    before = line.render()
    found = line.find(kind)
    if found is None:
        return LineEdit(before)
    index, seg = found
    if codes is None or seg.codes is None:
        gone = list(seg.codes or [kind])
        _remove(line, index)
        return LineEdit(line.render(), removed=gone)
    gone = [c for c in seg.codes if c in set(codes)]
    if not gone:
        return LineEdit(before)
    left = [c for c in seg.codes if c not in set(codes)]
    if left:
        seg.codes = sorted(left)
        seg.changed = True
    else:
        _remove(line, index)
    return LineEdit(line.render(), removed=gone)
