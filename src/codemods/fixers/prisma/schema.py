"""A block parser for Prisma schema files (``schema.prisma``).

Prisma schemas are a sequence of top-level blocks: ``datasource``, ``generator``, ``model``,
``enum``, ``view`` and ``type``, each ``keyword Name { ... }``, separated by blank lines and
``//`` / ``///`` comments. This parser finds each block's exact character span (and the comment
lines attached directly above it) without interpreting the fields, so that a copy of a schema
can be updated by splicing one block's text and leaving every other byte alone. It understands
what can hide a brace: string literals with escapes (``@default("{}")``) and comments
(``// a { in a comment``). Anything else at the top level is a syntax error with its line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

BLOCK_KINDS = ("datasource", "generator", "model", "enum", "view", "type")
#: the kinds a partial copy has synced from the source (data shapes, not its own config blocks)
DATA_KINDS = ("model", "enum", "view", "type")

_HEADER = re.compile(r"([A-Za-z]+)[ \t]+([A-Za-z_][A-Za-z0-9_]*)[ \t]*(?:\r?\n[ \t]*)?\{")


class PrismaSyntaxError(ValueError):
    """The schema text is not a sequence of well-formed blocks."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(f"line {line}: {message}")
        self.message = message
        self.line = line


@dataclass(frozen=True)
class Block:
    """One top-level block.

    ``start``/``end`` cover ``keyword`` to the closing ``}`` (character offsets into the text);
    ``lead`` is where the comment lines directly above it begin (== ``start`` without any).
    """

    kind: str
    name: str
    lead: int
    start: int
    end: int
    line: int  # 1-based line of the keyword

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind, self.name)


@dataclass
class Schema:
    """A parsed schema: the original text and its blocks in order."""

    text: str
    blocks: list[Block]

    def block_text(self, block: Block, *, with_comments: bool = True) -> str:
        return self.text[block.lead if with_comments else block.start : block.end]

    def find(self, kind: str, name: str) -> Block | None:
        for b in self.blocks:
            if b.kind == kind and b.name == name:
                return b
        return None

    def of_kind(self, *kinds: str) -> list[Block]:
        return [b for b in self.blocks if b.kind in kinds]

    def byte_span(self, block: Block, *, with_comments: bool = True) -> tuple[int, int]:
        """The block's span in the UTF-8 encoded text (for byte-level splicing)."""
        begin = block.lead if with_comments else block.start
        head = len(self.text[:begin].encode("utf-8"))
        return head, head + len(self.text[begin : block.end].encode("utf-8"))


def _line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _skip_string(text: str, pos: int) -> int:
    """``pos`` is at an opening quote; return the index just after the closing quote."""
    i = pos + 1
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == '"':
            return i + 1
        if c == "\n":
            break
        i += 1
    raise PrismaSyntaxError("unterminated string literal", _line_of(text, pos))


def _block_end(text: str, open_brace: int) -> int:
    """Index just after the ``}`` matching the ``{`` at ``open_brace``."""
    depth = 0
    i = open_brace
    n = len(text)
    while i < n:
        c = text[i]
        if c == '"':
            i = _skip_string(text, i)
            continue
        if c == "/" and text.startswith("//", i):
            nl = text.find("\n", i)
            i = n if nl < 0 else nl
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise PrismaSyntaxError("block is not closed (missing `}`)", _line_of(text, open_brace))


def _comment_lead(text: str, start: int, floor: int) -> int:
    """Start of the run of comment-only lines directly above ``start`` (no blank line between)."""
    lead = start
    line_start = text.rfind("\n", 0, start) + 1
    if text[line_start:start].strip():
        return start
    lead = line_start
    while lead > floor:
        prev_end = lead - 1  # the "\n" ending the previous line
        prev_start = text.rfind("\n", 0, prev_end) + 1
        if prev_start < floor:
            break
        if not text[prev_start:prev_end].strip().startswith("//"):
            break
        lead = prev_start
    return lead


def parse(text: str) -> Schema:
    """Parse a schema's text into blocks; raise :class:`PrismaSyntaxError` on anything else."""
    blocks: list[Block] = []
    seen: dict[tuple[str, str], int] = {}
    i = 0
    n = len(text)
    floor = 0  # end of the previous block: comments above a block never reach into it
    while i < n:
        c = text[i]
        if c in " \t\r\n\ufeff":
            i += 1
            continue
        if text.startswith("//", i):
            nl = text.find("\n", i)
            i = n if nl < 0 else nl + 1
            continue
        m = _HEADER.match(text, i)
        if not m:
            word = re.match(r"\S+", text[i:])
            raise PrismaSyntaxError(
                f"expected a block (datasource, generator, model, enum, view, type), found "
                f"{(word.group(0) if word else text[i])!r}",
                _line_of(text, i),
            )
        kind, name = m.group(1), m.group(2)
        line = _line_of(text, i)
        if kind not in BLOCK_KINDS:
            raise PrismaSyntaxError(f"unknown block type {kind!r}", line)
        end = _block_end(text, m.end() - 1)
        if (kind, name) in seen:
            raise PrismaSyntaxError(f"{kind} {name} is defined twice (first at line {seen[kind, name]})", line)
        seen[kind, name] = line
        blocks.append(Block(kind, name, _comment_lead(text, i, floor), i, end, line))
        floor = end
        i = end
    return Schema(text, blocks)


def blank_datasource_urls(text: str) -> str:
    """Blank ``url``/``directUrl``/``shadowDatabaseUrl`` lines of datasource blocks.

    Prisma 7 rejects them in the schema (they moved to prisma.config.ts); a diff does not need
    them. Line count and every other byte stay the same, so engine messages keep their lines.
    """
    schema = parse(text)
    out = []
    pos = 0
    for b in schema.of_kind("datasource"):
        body = text[b.start : b.end]
        body = re.sub(r"(?m)^([ \t]*)(url|directUrl|shadowDatabaseUrl)[ \t]*=[^\r\n]*", r"\1", body)
        out.append(text[pos : b.start])
        out.append(body)
        pos = b.end
    out.append(text[pos:])
    return "".join(out)


def splice_partial(source: Schema, copy: Schema, newline: str | None = None) -> tuple[str, list[Block], list[Block]]:
    """Replace the data blocks (model/enum/view/type) the copy has with the source's versions.

    Returns ``(new_text, replaced, missing)``: the copy's text with each shared block (with its
    attached comments) swapped for the source's, the copy's blocks that were replaced with a
    different text, and the copy's data blocks that the source does not have (left as they are).
    The copy's own other blocks (generator, datasource) and the order are kept. With
    ``newline``, the inserted blocks take the copy's line ending (a CRLF copy stays CRLF).
    """
    parts: list[str] = []
    replaced: list[Block] = []
    missing: list[Block] = []
    pos = 0
    for b in copy.blocks:
        if b.kind not in DATA_KINDS:
            continue
        src = source.find(b.kind, b.name)
        if src is None:
            missing.append(b)
            continue
        new = source.block_text(src)
        if newline is not None:
            new = re.sub(r"\r\n|\r|\n", newline, new)
        if copy.block_text(b) != new:
            replaced.append(b)
        parts.append(copy.text[pos : b.lead])
        parts.append(new)
        pos = b.end
    parts.append(copy.text[pos:])
    return "".join(parts), replaced, missing
