"""Where a suppression comment can go: a cheap scan of strings, comments and continuations.

:func:`scan` finds, for one file, where each line's comment starts, which lines end inside a
string literal (triple-quoted, or a quoted string continued with a backslash) and which lines end
with a backslash continuation. It uses one compiled regular expression over the whole text (the
``re`` engine runs in C; ``tokenize`` costs ~10x more on big files) and falls back to
:mod:`tokenize` for the hard cases the regex cannot judge: an unterminated quote (e.g. Python 3.12
f-strings that span lines) or an f-string whose braces do not balance (3.12 nested quotes such as
``f"{d["k"]}"``).

:func:`choose_line` applies the placement rules (DESIGN.md, "Where the comment goes"): the
preferred line, else the fallback line (mypy's ``end_line``, pyright's range end), else not
suppressible, with the reason. A line cannot take a comment when it ends inside a string, when it
ends with a backslash continuation, or when it is whitespace-only (a comment there would remove
the W293-style violation itself and leave an unused directive: such diagnostics are reported, not
"suppressed").
"""

from __future__ import annotations

import bisect
import io
import itertools
import operator
import re
import tokenize
from dataclasses import dataclass, field

from codemods.core.source import split_lines

_SQ = r"'[^'\\\r\n]*(?:\\(?:\r\n|.)[^'\\\r\n]*)*'"
_DQ = r'"[^"\\\r\n]*(?:\\(?:\r\n|.)[^"\\\r\n]*)*"'
_TSQ = r"'''[^'\\]*(?:(?:\\.|'(?!''))[^'\\]*)*'''"
_TDQ = r'"""[^"\\]*(?:(?:\\.|"(?!""))[^"\\]*)*"""'
# Each match skips the code before the next comment or string in one tight loop (the gap), then
# takes the comment or the whole string literal; an unmatched quote is "bad"; \Z ends the scan.
_TOKEN = re.compile(
    rf"[^#'\"]*(?:(?P<c>#[^\r\n]*)|(?P<s>{_TSQ}|{_TDQ}|{_SQ}|{_DQ})|(?P<bad>['\"])|\Z)",
    re.S,
)
assert _TOKEN.groupindex == {"c": 1, "s": 2, "bad": 3}  # _fast reads them by number
_FSTRING = frozenset("fFtT")
_PREFIX = frozenset("rRbBuUfFtT")


class NeedsTokenize(Exception):
    """The fast scan cannot judge this text."""


@dataclass
class LineMap:
    """What the scan found in one file (lines are 1-based)."""

    text: str
    starts: list[int]  # offset of each line's first character, plus len(text) as sentinel
    lines: list[str] = field(default_factory=list)  # each line's text without its line ending
    comment_offsets: list[int] = field(default_factory=list)  # offsets of comment starts, ascending
    in_string: set[int] = field(default_factory=set)  # lines whose end is inside a string literal
    tokenized: bool = False  # the tokenize fallback was used

    @classmethod
    def of(cls, text: str) -> LineMap:
        """The map of ``text`` with its lines split and nothing scanned yet."""
        lines, starts = _split(text)
        return cls(text, starts, lines)

    @property
    def count(self) -> int:
        """Number of lines (a final line without a line ending counts)."""
        n = len(self.starts) - 1
        if n and self.starts[-2] == len(self.text):
            n -= 1
        return n

    def content(self, line: int) -> str:
        """Line ``line`` without its line ending."""
        return self.lines[line - 1]

    def comment_col(self, line: int) -> int | None:
        """Column where the line's comment starts, or None."""
        start = self.starts[line - 1]
        i = bisect.bisect_left(self.comment_offsets, start)
        if i < len(self.comment_offsets) and self.comment_offsets[i] < self.starts[line]:
            return self.comment_offsets[i] - start
        return None

    def continued(self, line: int) -> bool:
        """The line ends with a backslash continuation (outside strings and comments)."""
        return (
            line not in self.in_string
            and self.lines[line - 1].endswith("\\")
            and self.comment_col(line) is None
        )

    def blocker(self, line: int) -> str | None:
        """Why ``line`` cannot hold a trailing comment, or None when it can."""
        if line in self.in_string:
            return "the line ends inside a string literal"
        if self.continued(line):
            return "the line ends with a backslash continuation"
        if not self.lines[line - 1].strip():
            return (
                "the line is whitespace-only: a comment there would remove the violation itself "
                "and leave an unused directive (fix it instead, e.g. `ruff check --fix`)"
            )
        return None


def _split(text: str) -> tuple[list[str], list[int]]:
    """Each line's text without its ending, and each line's start offset plus len(text)."""
    lines, ends = split_lines(text)
    if ends is None:  # the common case, all in C: cumulative lengths of the lines plus their newlines
        sizes = map(operator.add, map(len, lines[:-1]), itertools.repeat(1))
    else:
        sizes = map(operator.add, map(len, lines), map(len, ends))
    starts = [0, *itertools.accumulate(sizes)]
    starts.append(len(text))  # sentinel (a duplicate when the text ends with a line ending)
    return lines, starts


def _is_fstring(text: str, s: int) -> bool:
    """The string literal starting (at its quote) at ``s`` has an f/t prefix."""
    i = s
    while i > 0 and s - i < 2 and text[i - 1] in _PREFIX:
        i -= 1
    if i == s or not _FSTRING.intersection(text[i:s]):
        return False
    return i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")


def _complete(body: str) -> bool:
    """False when an f-string body ends inside a replacement field (3.12 nested same quotes)."""
    if "{" not in body:
        return True
    naive = body.replace("{{", "").replace("}}", "")
    if naive.count("{") == naive.count("}"):
        return True
    q = 3 if body[:3] in ('"""', "\'\'\'") else 1
    inner, depth, quote, i = body[q:-q], 0, "", 0
    while i < len(inner):
        c = inner[i]
        if depth == 0:
            if c in "{}" and inner.startswith(c * 2, i):
                i += 2
                continue
            if c == "{":
                depth = 1
        elif quote:
            if c == quote:
                quote = ""
        elif c in "'\"":
            quote = c
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        i += 1
    return depth == 0


def _fast(text: str, lm: LineMap, stop: int) -> None:
    starts = lm.starts
    comments = lm.comment_offsets
    find = text.find
    for m in _TOKEN.finditer(text):
        kind = m.lastindex  # the groups by number (c, s, bad): cheaper than by name
        if kind == 1:
            pos = m.start(1)
            if pos >= stop:
                return
            comments.append(pos)
        elif kind == 2:
            s, e = m.span(2)
            if s >= stop:
                return
            if s and text[s - 1] in _PREFIX and _is_fstring(text, s) and not _complete(text[s:e]):
                raise NeedsTokenize
            if find("\n", s, e) != -1 or find("\r", s, e) != -1:
                first = bisect.bisect_right(starts, s)
                last = bisect.bisect_right(starts, e - 1)
                lm.in_string.update(range(first, last))
        elif kind == 3:
            if m.start(3) >= stop:
                return
            raise NeedsTokenize
        else:
            return


def _slow(text: str, lm: LineMap) -> None:
    lm.tokenized = True
    readline = io.StringIO(text, newline=None).readline
    fstring_start: list[int] = []
    fs_start = getattr(tokenize, "FSTRING_START", -1)
    fs_end = getattr(tokenize, "FSTRING_END", -1)
    tstart = getattr(tokenize, "TSTRING_START", -1)
    tend = getattr(tokenize, "TSTRING_END", -1)
    starts = lm.starts
    seen: set[int] = set()
    for tok in tokenize.generate_tokens(readline):
        if tok.type == tokenize.COMMENT:
            if tok.start[0] not in seen:
                seen.add(tok.start[0])
                lm.comment_offsets.append(starts[tok.start[0] - 1] + tok.start[1])
        elif tok.type == tokenize.STRING:
            if tok.end[0] > tok.start[0]:
                lm.in_string.update(range(tok.start[0], tok.end[0]))
        elif tok.type in (fs_start, tstart):
            fstring_start.append(tok.start[0])
        elif tok.type in (fs_end, tend) and fstring_start:
            first = fstring_start.pop()
            if tok.end[0] > first:
                lm.in_string.update(range(first, tok.end[0]))
    lm.comment_offsets.sort()


def scan(text: str, upto_line: int | None = None) -> LineMap:
    """Scan ``text`` (up to the end of line ``upto_line`` when given).

    Raises :class:`SyntaxError` / :class:`tokenize.TokenError` when the text does not tokenize.
    """
    lm = LineMap.of(text)
    starts = lm.starts
    stop = len(text) + 1
    if upto_line is not None and upto_line < len(starts) - 1:
        stop = starts[upto_line]
    try:
        _fast(text, lm, stop)
    except NeedsTokenize:
        lm = LineMap(text, starts, lm.lines)
        _slow(text, lm)
    return lm


@dataclass
class Placement:
    """Where a diagnostic's directive goes (``line``) or why it cannot (``reason``)."""

    line: int | None
    reason: str = ""


def choose_line(lm: LineMap, preferred: int, fallback: int | None = None) -> Placement:
    """The preferred line when it can hold a comment, else the fallback, else not suppressible."""
    why = lm.blocker(preferred)
    if why is None:
        return Placement(preferred)
    ok = fallback is not None and fallback != preferred and 1 <= fallback <= lm.count
    if ok and fallback is not None and lm.blocker(fallback) is None:
        return Placement(fallback)
    return Placement(None, f"cannot be suppressed by a comment: {why}")
