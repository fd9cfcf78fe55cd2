"""What a Vitest test file defines: its tests with the full names Vitest gives them, and the
``userEvent.setup(...)`` calls of @testing-library/user-event.

A test is a call of ``it`` / ``test`` (or of a name made with ``test.extend(...)``), with Vitest's
modifiers (``.only``, ``.skip``, ``.concurrent``, ``.sequential``, ``.fails``, ``.skipIf(c)``,
``.runIf(c)``, ``.each(table)``, ``.for(table)``); a suite is a call of ``describe`` / ``suite`` with
the same modifiers. Vitest names a test ``suite > inner suite > test``. A name Vitest formats at run
time (``.each`` / ``.for`` titles with ``%s``, ``%i``, ``$name``..., template literals with ``${...}``)
becomes a pattern; a name that is an identifier (``describe(KeyForm, ...)``) is taken as its text
(a function's or class's name), else as any name (a string variable); any other expression matches
any name. The most precise matches win.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from codemods.fixers.vitest.syntax import named, string_value, template_parts, text_of

if TYPE_CHECKING:
    from tree_sitter import Node

TEST_BASES = frozenset({"it", "test"})
SUITE_BASES = frozenset({"describe", "suite"})
MODIFIERS = frozenset({"only", "skip", "todo", "concurrent", "sequential", "fails", "shuffle"})
#: modifiers that are called (``it.each(table)(name, fn)``): a call ending in one is a factory
CALLED = frozenset({"each", "for", "skipIf", "runIf"})
USER_EVENT = "@testing-library/user-event"
#: Vitest's own ``userEvent`` (browser mode) has a ``setup()`` without options
VITEST_BROWSER = re.compile(r"^(?:@vitest/browser(?:/.*)?|vitest/browser(?:/.*)?)$")


Parts = tuple[str | None, ...]  # literal text, or None: any text (a glob's ``*``)


@dataclass(frozen=True)
class Segment:
    """One part of a full name: literal text, or parts for a name formatted at run time."""

    text: str
    parts: Parts | None = None  # None: the literal text
    identifier: bool = False  # a name given as a variable: its text, or (failing that) any value

    def glob(self, loose: bool) -> Parts:
        if self.identifier and loose:
            return (None,)
        return self.parts if self.parts is not None else (self.text,)


@dataclass
class TestDef:
    """One ``it`` / ``test`` call."""

    segments: tuple[Segment, ...]  # its suites, then itself
    args: Node  # the call's ``arguments``
    line: int  # 1-based

    @property
    def name(self) -> str:
        return " > ".join(s.text for s in self.segments)

    @property
    def vagueness(self) -> int:
        return sum(1 for s in self.segments if s.parts is not None or s.identifier)

    def matches(self, full: str, loose: bool = False) -> bool:
        parts: list[str | None] = []
        for i, seg in enumerate(self.segments):
            if i:
                parts.append(" > ")
            parts.extend(seg.glob(loose))
        return glob_match(parts, full)


def glob_match(parts: list[str | None], text: str) -> bool:
    """Whether ``text`` is the literal parts in order, each None standing for any text.

    Linear in ``text`` for every pattern (leftmost search of each literal between wildcards, the
    first anchored at the start and the last at the end): a regex of several ``.*`` would
    backtrack polynomially on a long name from an untrusted report."""
    tokens: list[str | None] = []
    for p in parts:
        if p is None:
            if not tokens or tokens[-1] is not None:
                tokens.append(None)
        elif tokens and tokens[-1] is not None:
            tokens[-1] += p
        else:
            tokens.append(p)
    if None not in tokens:
        return "".join(t for t in tokens if t is not None) == text
    first, last = tokens[0], tokens[-1]
    pos, end = 0, len(text)
    if first is not None:
        if not text.startswith(first):
            return False
        pos = len(first)
    if last is not None:
        if not text.endswith(last) or end - len(last) < pos:
            return False
        end -= len(last)
    for middle in tokens[1:-1]:
        if middle is None:
            continue
        found = text.find(middle, pos, end)
        if found < 0:
            return False
        pos = found + len(middle)
    return True


@dataclass
class FileDefs:
    tests: list[TestDef]
    setups: list[Node]  # ``userEvent.setup(...)`` calls


# vitest's formatTitle: printf-style %s %d %i %f %j %o %O %c, %# (index), %$ (index + 1), %% and
# $name / $name.path for object cases
_FORMAT = re.compile(r"%[sdifjoOc#$%]|\$[A-Za-z_]\w*(?:\.\w+)*")


def _each_parts(title: str) -> Parts:
    out: list[str | None] = []
    pos = 0
    for m in _FORMAT.finditer(title):
        out.append(title[pos:m.start()])
        out.append("%" if m.group(0) == "%%" else None)
        pos = m.end()
    out.append(title[pos:])
    return tuple(out)


def _segment(node: Node, formatted: bool) -> Segment:
    value = string_value(node)
    if value is not None:
        if formatted and _FORMAT.search(value):
            return Segment(value, _each_parts(value))
        return Segment(value)
    parts = template_parts(node)
    if parts is not None:
        return Segment(text_of(node), parts)
    if node.type in ("identifier", "member_expression"):  # a function or class (Vitest uses its name)
        return Segment(text_of(node).rsplit(".", 1)[-1], identifier=True)  # or a string variable
    return Segment(text_of(node), (None,))


def _chain(node: Node | None) -> list[str] | None:
    """``it.concurrent.only`` -> ["it", "concurrent", "only"]; ``it.skipIf(c).each`` -> [..., "skipIf", "each"]."""
    if node is None:
        return None
    if node.type == "identifier":
        return [text_of(node)]
    if node.type == "member_expression":
        prop = node.child_by_field_name("property")
        head = _chain(node.child_by_field_name("object"))
        return None if head is None or prop is None else [*head, text_of(prop)]
    if node.type == "call_expression":  # it.skipIf(cond) / it.each(table) as the object of a chain
        inner = _chain(node.child_by_field_name("function"))
        return inner if inner and inner[-1] in CALLED else None
    return None


def _kind(call: Node, tests: frozenset[str]) -> tuple[str, bool] | None:
    """("test" | "suite", formatted name) for a test or suite call, else None."""
    fn = call.child_by_field_name("function")
    chain = _chain(fn)
    if not chain or chain[-1] == "extend":
        return None
    if chain[-1] in CALLED and fn is not None and fn.type != "call_expression":
        return None  # ``it.each(table)`` itself: the factory, not the test
    if any(m not in MODIFIERS and m not in CALLED for m in chain[1:]):
        return None
    base = chain[0]
    kind = "test" if base in tests else "suite" if base in SUITE_BASES else None
    if kind is None:
        return None
    return kind, any(m in ("each", "for") for m in chain[1:])


def _extended(root: Node) -> frozenset[str]:
    """``it`` / ``test`` and the names made from them with ``.extend(...)`` (``const myTest = test.extend({})``)."""
    names = set(TEST_BASES)
    for decl in root.named_children:
        if decl.type == "export_statement":
            decl = decl.child_by_field_name("declaration") or decl
        if decl.type not in ("lexical_declaration", "variable_declaration"):
            continue
        for d in decl.named_children:
            if d.type != "variable_declarator":
                continue
            name, value = d.child_by_field_name("name"), d.child_by_field_name("value")
            if name is None or value is None or name.type != "identifier" or value.type != "call_expression":
                continue
            chain = _chain(value.child_by_field_name("function"))
            if chain and chain[-1] == "extend" and chain[0] in names:
                names.add(text_of(name))
    return frozenset(names)


@dataclass
class Bindings:
    """The local names of @testing-library/user-event's ``userEvent`` (and of its namespace imports)."""

    direct: set[str]
    namespaces: set[str]

    def is_setup(self, call: Node) -> bool:
        fn = call.child_by_field_name("function")
        if fn is None or fn.type != "member_expression":
            return False
        prop, obj = fn.child_by_field_name("property"), fn.child_by_field_name("object")
        if prop is None or obj is None or text_of(prop) != "setup":
            return False
        if obj.type == "identifier":
            return text_of(obj) in self.direct
        if obj.type == "member_expression":  # ns.default.setup() / ns.userEvent.setup()
            base, attr = obj.child_by_field_name("object"), obj.child_by_field_name("property")
            return (base is not None and attr is not None and base.type == "identifier"
                    and text_of(base) in self.namespaces and text_of(attr) in ("default", "userEvent"))
        return False


def bindings(root: Node) -> Bindings:
    """How the file names user-event: ``import userEvent from '@testing-library/user-event'`` (any local
    name), ``import { userEvent as u }``, ``import * as ns``, ``require(...)`` / ``require(...).default``,
    and a ``userEvent`` imported from another module (a test-utils re-export), Vitest's browser mode aside."""
    out = Bindings(set(), set())
    for stmt in root.named_children:
        if stmt.type == "import_statement":
            source = stmt.child_by_field_name("source")
            module = string_value(source) if source is not None else None
            if module is None or VITEST_BROWSER.match(module):
                continue
            ours = module == USER_EVENT
            clause = next((c for c in stmt.named_children if c.type == "import_clause"), None)
            if clause is None or text_of(stmt).startswith("import type"):
                continue
            for part in clause.named_children:
                if part.type == "identifier" and (ours or text_of(part) == "userEvent"):
                    out.direct.add(text_of(part))
                elif part.type == "namespace_import" and ours:
                    out.namespaces.update(text_of(c) for c in part.named_children if c.type == "identifier")
                elif part.type == "named_imports":
                    for spec in part.named_children:
                        if spec.type != "import_specifier":
                            continue
                        imported, alias = spec.child_by_field_name("name"), spec.child_by_field_name("alias")
                        if imported is None:
                            continue
                        local = text_of(alias if alias is not None else imported)
                        if text_of(imported) == "userEvent" or (ours and text_of(imported) == "default"):
                            out.direct.add(local)
        elif stmt.type in ("lexical_declaration", "variable_declaration"):
            for d in stmt.named_children:
                if d.type == "variable_declarator":
                    _require(d, out)
    return out


def _require(decl: Node, out: Bindings) -> None:
    name, value = decl.child_by_field_name("name"), decl.child_by_field_name("value")
    if name is None or value is None:
        return
    member = None
    if value.type == "member_expression":
        prop = value.child_by_field_name("property")
        member = text_of(prop) if prop is not None else None
        value = value.child_by_field_name("object") or value
    if value.type != "call_expression":
        return
    fn, args = value.child_by_field_name("function"), value.child_by_field_name("arguments")
    if fn is None or args is None or text_of(fn) != "require":
        return
    items = named(args)
    if len(items) != 1 or string_value(items[0]) != USER_EVENT:
        return
    if name.type == "identifier":
        if member in ("default", "userEvent"):
            out.direct.add(text_of(name))
        elif member is None:
            out.namespaces.add(text_of(name))
    elif name.type == "object_pattern" and member is None:
        for p in name.named_children:
            if p.type == "shorthand_property_identifier_pattern" and text_of(p) == "userEvent":
                out.direct.add("userEvent")
            elif p.type == "pair_pattern":
                key, val = p.child_by_field_name("key"), p.child_by_field_name("value")
                if key is not None and val is not None and val.type == "identifier" \
                        and text_of(key) in ("default", "userEvent"):
                    out.direct.add(text_of(val))


def collect(root: Node, *, want_tests: bool = True, want_setups: bool = True) -> FileDefs:
    """The tests (with their suites) and the user-event setup calls of a parsed file."""
    tests_names = _extended(root) if want_tests else frozenset()
    ue = bindings(root) if want_setups else Bindings(set(), set())
    want_setups = want_setups and bool(ue.direct or ue.namespaces)
    out = FileDefs([], [])
    if not want_tests and not want_setups:  # no user-event import: nothing to walk for
        return out
    stack: list[tuple[Node, tuple[Segment, ...]]] = [(root, ())]
    while stack:
        node, suites = stack.pop()
        inner = suites
        if node.type == "call_expression":
            if want_setups and ue.is_setup(node):
                out.setups.append(node)
            kind = _kind(node, tests_names) if want_tests else None
            args = node.child_by_field_name("arguments")
            if kind is not None and args is not None and args.type == "arguments" and named(args):
                seg = _segment(named(args)[0], kind[1])
                if kind[0] == "test":
                    out.tests.append(TestDef((*suites, seg), args, node.start_point[0] + 1))
                else:
                    inner = (*suites, seg)
        stack.extend((c, inner) for c in reversed(node.named_children))
    out.setups.sort(key=lambda n: n.start_byte)
    out.tests.sort(key=lambda t: t.args.start_byte)
    return out


def select(tests: list[TestDef], full: str) -> list[TestDef]:
    """The tests whose full name (without the file) is ``full``: the most precise matches only (a
    name given as a variable is first taken as its own text, a function's or class's name)."""
    hits = [t for t in tests if t.matches(full)] or [t for t in tests if t.matches(full, loose=True)]
    if not hits:
        return []
    best = min(t.vagueness for t in hits)
    return [t for t in hits if t.vagueness == best]
