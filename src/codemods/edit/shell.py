"""A POSIX shell lexer that keeps offsets: shell words with their spans, for format-preserving edits.

CI files run pytest from shell snippets: YAML ``run:``/``command:`` scalars, Makefile recipes,
tox ``commands``, GitHub ``run:`` blocks. :func:`lex` splits such text the way a POSIX shell
splits it (quotes, backslash continuations, comments, ``&&``/``;``/``|``, ``$(...)``, heredocs,
CircleCI ``<< parameters.x >>``) into :class:`Word` and :class:`Op` tokens and keeps every word's
character offsets, so that callers edit the original text by splicing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Op", "Token", "Word", "lex"]


@dataclass(frozen=True)
class Word:
    """One shell word: its raw span in the text and its value after quote removal.

    ``offsets[i]`` is the text offset of ``value[i]`` (quotes and escapes have no value chars).
    """

    start: int
    end: int
    value: str
    offsets: tuple[int, ...]
    quoted: bool

    def span(self, i: int, j: int) -> tuple[int, int] | None:
        """Text span of ``value[i:j]`` when those chars are contiguous in the text, else None."""
        if i >= j:
            return None
        a, b = self.offsets[i], self.offsets[j - 1] + 1
        return (a, b) if b - a == j - i else None


@dataclass(frozen=True)
class Op:
    """A control operator (``&&``, ``||``, ``;``, ``|``, ``&``, newline, parentheses) or redirection."""

    kind: str
    start: int
    end: int


Token = Word | Op

_CONTROL = ("&&", "||", ";;", "|&", ";", "|", "&", "(", ")")
_REDIRS = ("<<<", "<<-", "<<", ">>", ">&", "<&", "&>", ">|", "<>", "<", ">")
_CONTROL_RE = re.compile("|".join(re.escape(o) for o in _CONTROL))
_REDIR_RE = re.compile("|".join(re.escape(o) for o in _REDIRS))
_OP_CHARS = frozenset(";&|()")
#: what ends a word outside quotes
_WORD_END = frozenset(" \t\r\n;&|()")
#: a run of characters that stand for themselves inside a word
_PLAIN_RUN = re.compile(r"[^\s;&|()<>\\'\"$`]+")
#: characters inside double quotes that stand for themselves (any but the quote, ``\\`` and ``$``)
_DOUBLE_RUN = re.compile(r'[^"\\$]*')
_CIRCLE_PARAM = re.compile(r"<<\s*[\w.-]+\s*>>")
_HEREDOC_WORD = re.compile(r"\s*(['\"]?)([\w.-]+)\1")


def _skip_subst(text: str, i: int, open_: str, close: str) -> int:
    """Index after the ``close`` that matches the ``open_`` at ``text[i]`` (quotes respected)."""
    depth = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == "'" and open_ == "(":
            j = text.find("'", i + 1)
            i = n if j < 0 else j + 1
            continue
        if c == '"' and open_ == "(":
            i = _skip_double(text, i)
            continue
        if c == open_:
            depth += 1
        elif c == close:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return n


def _skip_double(text: str, i: int) -> int:
    """Index after the double-quoted string starting at ``text[i]``."""
    i += 1
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
        elif c == '"':
            return i + 1
        elif c == "$" and text.startswith("$(", i):
            i = _skip_subst(text, i + 1, "(", ")")
        else:
            i += 1
    return n


def lex(text: str) -> list[Token]:
    """Split shell text into words and operators, keeping offsets (comments are dropped)."""
    tokens: list[Token] = []
    n = len(text)
    i = 0
    pending_heredocs: list[tuple[str, bool]] = []
    while i < n:
        c = text[i]
        if c in " \t":
            i += 1
            continue
        if c == "\\" and text.startswith(("\\\n", "\\\r\n"), i):
            i += 2 if text[i + 1] == "\n" else 3
            continue
        if c in "\r\n":
            end = i + (2 if text.startswith("\r\n", i) else 1)
            tokens.append(Op("\n", i, end))
            i = end
            for delim, strip_tabs in pending_heredocs:  # skip heredoc bodies
                while i < n:
                    eol = text.find("\n", i)
                    eol = n if eol < 0 else eol + 1
                    line = text[i:eol].rstrip("\r\n")
                    i = eol
                    if (line.lstrip("\t") if strip_tabs else line) == delim:
                        break
            pending_heredocs = []
            continue
        if c == "#":
            eol = text.find("\n", i)
            i = n if eol < 0 else eol
            if i > 0 and text[i - 1] == "\r":
                i -= 1
            continue
        if c == "<" and _CIRCLE_PARAM.match(text, i):
            pass  # a CircleCI parameter starts a word
        else:
            m_op = _CONTROL_RE.match(text, i) if c in _OP_CHARS else None
            if m_op is not None:
                op = m_op.group()
                tokens.append(Op(op, i, i + len(op)))
                i += len(op)
                continue
            m_red = _REDIR_RE.match(text, i) if c in "<>&" else None
            if m_red is not None:
                red = m_red.group()
                tokens.append(Op("redir", i, i + len(red)))
                i += len(red)
                if red in ("<<", "<<-"):
                    m = _HEREDOC_WORD.match(text, i)
                    if m:
                        pending_heredocs.append((m.group(2), red == "<<-"))
                        i = m.end()
                continue
        i = _lex_word(text, i, tokens)
    return tokens


def _lex_word(text: str, i: int, tokens: list[Token]) -> int:
    """Read one word starting at ``i``; append it; return the index after it."""
    n = len(text)
    start = i
    run = _PLAIN_RUN.match(text, i)
    if run is not None:  # most words: one plain run up to a blank or an operator
        end = run.end()
        if end == n or text[end] in _WORD_END:
            tokens.append(Word(start, end, run.group(), tuple(range(start, end)), False))
            return end
    value: list[str] = []
    offsets: list[int] = []
    quoted = False

    def take(a: int, b: int) -> None:
        value.append(text[a:b])
        offsets.extend(range(a, b))

    while i < n:
        run = _PLAIN_RUN.match(text, i)
        if run is not None:
            take(i, run.end())
            i = run.end()
            continue
        c = text[i]
        if c in " \t\r\n;&|()":
            break
        if c in "<>":
            m = _CIRCLE_PARAM.match(text, i) if c == "<" else None
            if m is None:
                if value and "".join(value).isdigit():  # io-number: `2>&1`
                    tokens.append(Op("redir", start, i))
                    return i
                break
            take(i, m.end())
            i = m.end()
            continue
        if c == "\\":
            if text.startswith(("\\\n", "\\\r\n"), i):
                i += 2 if text[i + 1] == "\n" else 3
                continue
            quoted = True
            if i + 1 < n:
                take(i + 1, i + 2)
            i += 2
            continue
        if c == "'":
            quoted = True
            j = text.find("'", i + 1)
            j = n if j < 0 else j
            take(i + 1, j)
            i = j + 1
            continue
        if c == '"':
            quoted = True
            j = i + 1
            while j < n and text[j] != '"':
                if text[j] == "\\" and j + 1 < n and text[j + 1] in '"\\$`\n':
                    if text[j + 1] != "\n":
                        take(j + 1, j + 2)
                    j += 2
                elif text.startswith("$(", j):
                    k = _skip_subst(text, j + 1, "(", ")")
                    take(j, k)
                    j = k
                else:  # up to the next quote, backslash or `$(`
                    run = _DOUBLE_RUN.match(text, j + 1)
                    k = run.end() if run is not None else j + 1
                    take(j, k)
                    j = k
            i = j + 1
            continue
        if c == "$" and i + 1 < n and text[i + 1] in "({":
            j = _skip_subst(text, i + 1, text[i + 1], ")" if text[i + 1] == "(" else "}")
            take(i, j)
            i = j
            continue
        if c == "`":
            j = text.find("`", i + 1)
            j = n if j < 0 else j + 1
            take(i, j)
            i = j
            continue
        take(i, i + 1)
        i += 1
    tokens.append(Word(start, i, "".join(value), tuple(offsets), quoted))
    return i
