"""TypeScript and JavaScript through tree-sitter: parsing, syntax errors and literal values.

``.ts``, ``.mts`` and ``.cts`` files use the TypeScript grammar; ``.tsx`` and every JavaScript
suffix the TSX grammar (JSX is valid there, and plain JavaScript is TypeScript without types).
The parsers are made once per process. Offsets are UTF-8 byte offsets, as tree-sitter gives them.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tree_sitter import Node, Parser, Tree

TS_SUFFIXES = (".ts", ".mts", ".cts")
SUFFIXES = (*TS_SUFFIXES, ".tsx", ".js", ".jsx", ".mjs", ".cjs")

_PARSERS: dict[str, Parser] = {}


def parser_for(path: str) -> Parser:
    """The (cached) parser for a file name: TypeScript for ``.ts``, TSX for the rest."""
    grammar = "typescript" if path.endswith(TS_SUFFIXES) else "tsx"
    parser = _PARSERS.get(grammar)
    if parser is None:
        import tree_sitter_typescript
        from tree_sitter import Language, Parser

        lang = tree_sitter_typescript.language_typescript() if grammar == "typescript" \
            else tree_sitter_typescript.language_tsx()
        parser = _PARSERS[grammar] = Parser(Language(lang))
    return parser


def parse(data: bytes, path: str) -> Tree:
    return parser_for(path).parse(data)


def syntax_errors(tree: Tree) -> list[Node]:
    """The ERROR and MISSING nodes of a tree, the most precise first: tree-sitter may wrap a whole
    file in an ERROR node around the one that marks the real place (only subtrees that hold one
    are walked)."""
    out: list[Node] = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            out.append(node)
        if node.has_error:
            stack.extend(reversed(node.children))
    out.sort(key=lambda n: (n.end_byte - n.start_byte, n.start_byte))
    return out


def describe_error(node: Node) -> str:
    """``line 3, column 5: unexpected `}``` (1-based) for an ERROR or MISSING node."""
    row, col = node.start_point
    if node.is_missing:
        what = f"missing `{node.type}`"
    else:
        text = (node.text or b"").decode("utf-8", "replace").split("\n", 1)[0][:40]
        what = f"unexpected `{text}`" if text else "unexpected input"
    return f"line {row + 1}, column {col + 1}: {what}"


def named(node: Node) -> list[Node]:
    """The named children of a node, comments left out."""
    return [c for c in node.named_children if c.type != "comment"]


def text_of(node: Node) -> str:
    return (node.text or b"").decode("utf-8", "replace")


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}


def _unescape(seq: str) -> str:
    body = seq[1:]
    if body.startswith("u{") and body.endswith("}"):
        return chr(int(body[2:-1], 16))
    if body[:1] in ("u", "x") and len(body) > 1:
        return chr(int(body[1:], 16))
    if body.startswith(("\n", "\r")):  # a line continuation
        return ""
    return _ESCAPES.get(body, body)


def string_value(node: Node) -> str | None:
    """The value of a string literal or of a template literal without substitutions, else None."""
    if node.type not in ("string", "template_string"):
        return None
    parts: list[str] = []
    for child in node.named_children:
        if child.type == "string_fragment":
            parts.append(text_of(child))
        elif child.type == "escape_sequence":
            parts.append(_unescape(text_of(child)))
        else:  # a template_substitution
            return None
    return "".join(parts)


def template_parts(node: Node) -> tuple[str | None, ...] | None:
    """A template literal with substitutions as literal parts and None for each ``${...}`` (any text)."""
    if node.type != "template_string":
        return None
    parts: list[str | None] = []
    for child in node.named_children:
        if child.type == "string_fragment":
            parts.append(text_of(child))
        elif child.type == "escape_sequence":
            parts.append(_unescape(text_of(child)))
        elif child.type == "template_substitution":
            parts.append(None)
    return tuple(parts)


_NUMBER = re.compile(r"(?:0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|(?:\d[\d_]*)?\.?\d[\d_]*(?:[eE][+-]?\d+)?)")


def number_value(node: Node) -> float | None:
    """The value of a numeric literal or of simple arithmetic on them (``5 * 1000``, ``60_000``)."""
    kind = node.type
    if kind == "number":
        raw = text_of(node).replace("_", "")
        if not _NUMBER.fullmatch(raw):
            return None
        try:
            if raw[:2].lower() in ("0x", "0o", "0b"):
                return float(int(raw, 0))
            return float(raw)
        except ValueError:
            return None
    if kind == "parenthesized_expression":
        inner = named(node)
        return number_value(inner[0]) if len(inner) == 1 else None
    if kind == "unary_expression":
        arg = node.child_by_field_name("argument")
        op = node.child_by_field_name("operator")
        value = number_value(arg) if arg is not None else None
        if value is None or op is None:
            return None
        return {"-": -value, "+": value}.get(text_of(op))
    if kind == "binary_expression":
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        op = node.child_by_field_name("operator")
        a = number_value(left) if left is not None else None
        b = number_value(right) if right is not None else None
        if a is None or b is None or op is None:
            return None
        sym = text_of(op)
        if sym == "*":
            return a * b
        if sym == "+":
            return a + b
        if sym == "-":
            return a - b
        if sym == "/" and b:
            return a / b
    return None


def property_name(node: Node) -> str | None:
    """The key of an object member (``a: 1``, ``"a": 1``, shorthand ``a``, method ``a() {}``)."""
    if node.type == "shorthand_property_identifier":
        return text_of(node)
    key = node.child_by_field_name("name") if node.type == "method_definition" else node.child_by_field_name("key")
    if key is None:
        return None
    if key.type in ("property_identifier", "identifier"):
        return text_of(key)
    return string_value(key)
