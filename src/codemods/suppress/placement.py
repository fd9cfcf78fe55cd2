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
import re
import tokenize
from dataclasses import dataclass, field

_NL = re.compile(r"\r\n|\r|\n")
_SQ = r"'[^'\\\r\n]*(?:\\(?:\r\n|.)[^'\\\r\n]*)*'"
_DQ = r'"[^"\\\r\n]*(?:\\(?:\r\n|.)[^"\\\r\n]*)*"'
_TSQ = r"'''[^'\\]*(?:(?:\\.|'(?!''))[^'\\]*)*'''"
_TDQ = r'"""[^"\\]*(?:(?:\\.|"(?!""))[^"\\]*)*"""'
_TOKEN = re.compile(
    rf"(?P<c>#[^\r\n]*)|(?P<p>[rRbBuUfFtT]{{0,2}})(?P<s>{_TSQ}|{_TDQ}|{_SQ}|{_DQ})|(?P<bad>['\"])",
    re.S,
)
_FPREFIX = re.compile(r"[fFtT]")


class NeedsTokenize(Exception):
    """The fast scan cannot judge this text."""


@dataclass
class LineMap:
    """What the scan found in one file (lines are 1-based)."""

    text: str
    starts: list[int]  # offset of each line's first character, plus len(text) as sentinel
    comments: dict[int, int] = field(default_factory=dict)  # line -> column where its comment starts
    in_string: set[int] = field(default_factory=set)  # lines whose end is inside a string literal
    tokenized: bool = False  # the tokenize fallback was used

    @property
    def count(self) -> int:
        """Number of lines (a final line without a line ending counts)."""
        n = len(self.starts) - 1
        if n and self.starts[-2] == len(self.text):
            n -= 1
        return n

    def content(self, line: int) -> str:
        """Line ``line`` without its line ending."""
        start, end = self.starts[line - 1], self.starts[line]
        return self.text[start:end].rstrip("\r\n")

    def eol(self, line: int) -> str:
        start, end = self.starts[line - 1], self.starts[line]
        seg = self.text[start:end]
        return seg[len(seg.rstrip("\r\n")):]

    def line_of(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset)

    def continued(self, line: int) -> bool:
        """The line ends with a backslash continuation (outside strings and comments)."""
        return (
            line not in self.in_string
            and line not in self.comments
            and self.content(line).endswith("\\")
        )

    def blocker(self, line: int) -> str | None:
        """Why ``line`` cannot hold a trailing comment, or None when it can."""
        if line in self.in_string:
            return "the line ends inside a string literal"
        if self.continued(line):
            return "the line ends with a backslash continuation"
        if not self.content(line).strip():
            return (
                "the line is whitespace-only: a comment there would remove the violation itself "
                "and leave an unused directive (fix it instead, e.g. `ruff check --fix`)"
            )
        return None


def _line_starts(text: str) -> list[int]:
    starts = [0]
    starts.extend(m.end() for m in _NL.finditer(text))
    starts.append(len(text))  # sentinel (a duplicate when the text ends with a line ending)
    return starts


def _balanced(body: str) -> bool:
    body = body.replace("{{", "").replace("}}", "")
    return body.count("{") == body.count("}")


def _fast(text: str, lm: LineMap) -> None:
    starts = lm.starts
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        if kind == "c":
            pos = m.start()
            line = bisect.bisect_right(starts, pos)
            lm.comments[line] = pos - starts[line - 1]
        elif kind == "s":
            body = m.group("s")
            prefix = m.group("p")
            if prefix and _FPREFIX.search(prefix) and "{" in body and not _balanced(body):
                raise NeedsTokenize
            if "\n" in body or "\r" in body:
                first = bisect.bisect_right(starts, m.start("s"))
                last = bisect.bisect_right(starts, m.end() - 1)
                lm.in_string.update(range(first, last))
        else:
            raise NeedsTokenize


def _slow(text: str, lm: LineMap) -> None:
    lm.tokenized = True
    readline = io.StringIO(text, newline=None).readline
    fstring_start: list[int] = []
    fs_start = getattr(tokenize, "FSTRING_START", -1)
    fs_end = getattr(tokenize, "FSTRING_END", -1)
    tstart = getattr(tokenize, "TSTRING_START", -1)
    tend = getattr(tokenize, "TSTRING_END", -1)
    for tok in tokenize.generate_tokens(readline):
        if tok.type == tokenize.COMMENT:
            lm.comments.setdefault(tok.start[0], tok.start[1])
        elif tok.type == tokenize.STRING:
            if tok.end[0] > tok.start[0]:
                lm.in_string.update(range(tok.start[0], tok.end[0]))
        elif tok.type in (fs_start, tstart):
            fstring_start.append(tok.start[0])
        elif tok.type in (fs_end, tend) and fstring_start:
            first = fstring_start.pop()
            if tok.end[0] > first:
                lm.in_string.update(range(first, tok.end[0]))


def scan(text: str) -> LineMap:
    """Scan ``text``; raise :class:`SyntaxError` / :class:`tokenize.TokenError` when it does not tokenize."""
    lm = LineMap(text, _line_starts(text))
    try:
        _fast(text, lm)
    except NeedsTokenize:
        lm = LineMap(text, lm.starts)
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
