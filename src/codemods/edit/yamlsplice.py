"""Byte-preserving YAML edits: locate scalars with libyaml's composer, splice the original text, verify.

No YAML library re-prints a large CI config byte for byte (quotes, long lines, folded scalars,
CRLF). So :class:`YamlSource` only *reads*: it composes the node graph (every node carries its
start/end mark, i.e. line, column and character index), maps a position inside a scalar's value
back to the source text (literal ``|``, folded ``>``, plain, single- and double-quoted styles), and
:meth:`YamlSource.splice` replaces exactly those characters. The result is parsed again and
compared with the original: if any value other than the intended ones differs (or the structure,
styles or anchors do), the edit is refused.

The node graph comes from PyYAML's C binding of libyaml (``CSafeLoader``: composing LiteLLM's
3,957-line CircleCI config takes ~15 ms, ruamel.yaml's pure-Python composer ~250 ms), the check
from libyaml's parser events of both texts. Plain scalars get YAML 1.1 implicit tags (PyYAML's
safe resolver). ruamel.yaml (YAML 1.2) takes over where libyaml is not the right reader: a file
with a ``%YAML`` directive or a byte-order mark, a PyYAML built without libyaml, and a file libyaml
refuses (ruamel's error message, with line and column, or its node graph when it accepts the file).

Anchors and ``<<:`` merge keys are honoured when walking (:meth:`YamlSource.items`), aliases are
visited once (at their anchor, which is where the text lives), and multi-document files work.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from codemods.errors import StabfixError

MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass
class Scalar:
    """A scalar node located in the source text."""

    node: Any  # ruamel.yaml ScalarNode
    text: str  # the whole source text (for mapping)
    path: tuple[Any, ...]  # keys / indexes from the document root (first place it was reached)
    doc: int  # document index (multi-document files)
    _map: list[int] | None = field(default=None, repr=False)

    @property
    def value(self) -> str:
        return str(self.node.value)

    @property
    def style(self) -> str | None:
        return self.node.style or None  # plain: None (libyaml's nodes say "")

    @property
    def start(self) -> int:
        return int(self.node.start_mark.index)

    @property
    def end(self) -> int:
        return int(self.node.end_mark.index)

    @property
    def line(self) -> int:
        """1-based line of the scalar's first character (the indicator for block scalars)."""
        return int(self.node.start_mark.line) + 1

    def value_line(self, i: int) -> int:
        """1-based source line of ``value[i]`` (falls back to the scalar's line)."""
        pos = self.source_index(i)
        return self.line if pos is None else self.text.count("\n", 0, pos) + 1

    def source_index(self, i: int) -> int | None:
        """Source offset of ``value[i]``, or None when that char comes from an escape or a fold."""
        m = self._char_map()
        return m[i] if 0 <= i < len(m) and m[i] >= 0 else None

    def source_span(self, i: int, j: int) -> tuple[int, int] | None:
        """Source span of ``value[i:j]`` when it is verbatim and contiguous in the text.

        ``i == j`` asks for an insertion point: right after ``value[i-1]``.
        """
        m = self._char_map()
        if i == j:
            if 0 < i <= len(m) and m[i - 1] >= 0:
                return (m[i - 1] + 1, m[i - 1] + 1)
            return None
        if not (0 <= i < j <= len(m)) or m[i] < 0:
            return None
        for k in range(i, j):
            if m[k] != m[i] + (k - i):
                return None
        return (m[i], m[j - 1] + 1)

    def _char_map(self) -> list[int]:
        if self._map is None:
            self._map = _char_map(self.text, self.start, self.end, self.style, self.value)
        return self._map


def _pieces(text: str, start: int, end: int, style: str | None) -> list[tuple[int, str]]:
    """Runs of source text that appear verbatim, in order, in the scalar's value."""
    if style in ("|", ">"):
        eol = text.find("\n", start)
        if eol < 0 or eol >= end:
            return []
        lo = eol + 1
    elif style in ("'", '"'):
        lo, end = start + 1, end - 1
    else:
        lo = start
    out: list[tuple[int, str]] = []
    pos = lo
    for raw in text[lo:end].split("\n"):
        line = raw[:-1] if raw.endswith("\r") else raw
        stripped = line.lstrip(" \t")
        begin = pos + (len(line) - len(stripped))
        stripped = stripped.rstrip(" \t") if style not in ("|", ">") else stripped
        if style == "'":
            k = 0
            for seg in stripped.split("''"):
                if seg:
                    out.append((begin + k, seg))
                k += len(seg) + 2
        elif style == '"':
            k = 0
            n = len(stripped)
            seg_start = 0
            while k < n:
                if stripped[k] == "\\":
                    if k > seg_start:
                        out.append((begin + seg_start, stripped[seg_start:k]))
                    width = {"x": 4, "u": 6, "U": 10}.get(stripped[k + 1] if k + 1 < n else "", 2)
                    k += width
                    seg_start = k
                else:
                    k += 1
            if seg_start < n:
                out.append((begin + seg_start, stripped[seg_start:]))
        elif stripped:
            out.append((begin, stripped))
        pos += len(raw) + 1
    return out


def _char_map(text: str, start: int, end: int, style: str | None, value: str) -> list[int]:
    """For each char of ``value`` its source offset, or -1 (escape, fold, indentation)."""
    out = [-1] * len(value)
    cursor = 0
    for src, piece in _pieces(text, start, end, style):
        at = value.find(piece, cursor)
        if at < 0:
            continue
        for k in range(len(piece)):
            out[at + k] = src + k
        cursor = at + len(piece)
    return out


def _yaml() -> Any:
    from ruamel.yaml import YAML

    return YAML(typ="safe", pure=True)


def _c_loader() -> Any:
    """PyYAML's libyaml-backed safe loader class, or None (PyYAML built without libyaml)."""
    try:
        import yaml
    except ImportError:  # pragma: no cover - PyYAML comes with libcst
        return None
    return getattr(yaml, "CSafeLoader", None)


def _libyaml_reads(text: str) -> bool:
    """Is libyaml the reader for ``text``? Not with a BOM (its marks would not count it) nor with a
    ``%YAML`` directive (ruamel follows the version it names)."""
    return not text.startswith("\ufeff") and "%YAML" not in text and _c_loader() is not None


class YamlSource:
    """A parsed YAML file that can be edited by splicing its original text."""

    def __init__(self, text: str, rel: str) -> None:
        self.text = text
        self.rel = rel
        self.libyaml = _libyaml_reads(text)
        self.documents: list[Any] = []
        if self.libyaml:
            try:
                self.documents = _compose_c(text)
            except Exception:  # refused by libyaml: ruamel's message, or its nodes if it reads the file
                self.libyaml = False
        if not self.libyaml:
            self.documents = compose(text, rel)
        else:
            _refuse_duplicate_keys(self.documents, rel)

    # -- walking -----------------------------------------------------------------------------------
    @staticmethod
    def items(node: Any) -> list[tuple[str, Any]]:
        """``(key, value node)`` pairs of a mapping, ``<<:`` merges resolved (own keys win)."""
        if node is None or node.id != "mapping":
            return []
        own: list[tuple[str, Any]] = []
        merged: list[tuple[str, Any]] = []
        for k, v in node.value:
            if k.tag == MERGE_TAG or (k.id == "scalar" and k.value == "<<" and not k.style):
                sources = v.value if v.id == "sequence" else [v]
                for src in sources:
                    merged.extend(YamlSource.items(src))
            elif k.id == "scalar":
                own.append((str(k.value), v))
        keys = {k for k, _ in own}
        seen: set[str] = set()
        out = list(own)
        for k, v in merged:
            if k not in keys and k not in seen:
                seen.add(k)
                out.append((k, v))
        return out

    @staticmethod
    def get(node: Any, *keys: str) -> Any:
        """Follow mapping keys (merges honoured); None when a key is missing."""
        for key in keys:
            node = next((v for k, v in YamlSource.items(node) if k == key), None)
            if node is None:
                return None
        return node

    def scalars(self) -> Iterator[Scalar]:
        """Every scalar once (aliases are not revisited), with the first path that reaches it."""
        seen: set[int] = set()
        for d, root in enumerate(self.documents):
            stack: list[tuple[Any, tuple[Any, ...]]] = [(root, ())]
            while stack:
                node, path = stack.pop()
                if node is None or id(node) in seen:
                    continue
                seen.add(id(node))
                if node.id == "scalar":
                    yield Scalar(node, self.text, path, d)
                elif node.id == "mapping":
                    for k, v in reversed(node.value):
                        key = k.value if k.id == "scalar" else "?"
                        stack.append((v, (*path, key)))
                elif node.id == "sequence":
                    for i, v in reversed(list(enumerate(node.value))):
                        stack.append((v, (*path, i)))

    def scalar(self, node: Any, path: tuple[Any, ...] = (), doc: int = 0) -> Scalar:
        return Scalar(node, self.text, path, doc)

    @staticmethod
    def reachable(node: Any) -> set[int]:
        """ids of every node reachable from ``node`` (aliases and merges followed)."""
        out: set[int] = set()
        stack = [node]
        while stack:
            n = stack.pop()
            if n is None or id(n) in out:
                continue
            out.add(id(n))
            if n.id == "mapping":
                for k, v in n.value:
                    stack.extend((k, v))
            elif n.id == "sequence":
                stack.extend(n.value)
        return out

    # -- editing -----------------------------------------------------------------------------------
    def splice(self, edits: list[tuple[Scalar, int, int, str]]) -> str:
        """Apply ``(scalar, i, j, new)`` = "replace ``value[i:j]`` with ``new``" and verify.

        Raises :class:`StabfixError` when a span is not verbatim in the source, edits overlap, or
        the re-parsed file differs anywhere else than in the intended values.
        """
        if not edits:
            return self.text
        expected: dict[int, str] = {}
        by_node: dict[int, list[tuple[int, int, str]]] = {}
        nodes: dict[int, Scalar] = {}
        splices: list[tuple[int, int, str]] = []
        for sc, i, j, new in edits:
            span = sc.source_span(i, j)
            if span is None:
                raise StabfixError(
                    f"line {sc.value_line(i)}: cannot edit {sc.value[i:j]!r} in place (it is written with "
                    "escapes or across a line fold); edit it by hand",
                    path=self.rel,
                )
            splices.append((span[0], span[1], new))
            by_node.setdefault(id(sc.node), []).append((i, j, new))
            nodes[id(sc.node)] = sc
        for key, changes in by_node.items():
            value = nodes[key].value
            for i, j, new in sorted(changes, reverse=True):
                value = value[:i] + new + value[j:]
            expected[key] = value
        splices.sort()
        for (_, e1, _), (s2, _, _) in itertools.pairwise(splices):
            if s2 < e1:
                raise StabfixError("two edits overlap; nothing changed", path=self.rel)
        parts: list[str] = []
        last = 0
        for s, e, new in splices:
            parts.append(self.text[last:s])
            parts.append(new)
            last = e
        parts.append(self.text[last:])
        new_text = "".join(parts)
        self.verify(new_text, expected)
        return new_text

    def verify(self, new_text: str, expected: dict[int, str]) -> None:
        """Parse ``new_text`` and check it equals this file except for ``expected`` scalar values.

        The new text's parser events are compared with the original node graph walked in document
        order (an alias where a node was already seen): same structure, anchors, styles and values,
        apart from the intended values. Parsing without composing keeps the check cheap. The events
        come from the parser that composed the file: libyaml's (anchors as :func:`_compose_c` read
        them from the text) or ruamel's.
        """
        if self.libyaml:
            import yaml

            self._compare(yaml.parse(new_text, Loader=_c_loader()), yaml, expected,
                          (yaml.MarkedYAMLError, yaml.YAMLError))
            return
        from ruamel.yaml import events
        from ruamel.yaml.error import MarkedYAMLError, YAMLError

        self._compare(_yaml().parse(new_text), events, expected, (MarkedYAMLError, YAMLError))

    def _compare(self, parsed: Iterator[Any], ev_mod: Any, expected: dict[int, str],
                 errors: tuple[type[Exception], type[Exception]]) -> None:
        """:meth:`verify`'s check over ``parsed``, the events of one parser; ``ev_mod`` holds that
        parser's event classes, ``errors`` its (marked, any) YAML error classes."""
        marked_error, yaml_error = errors

        def bug(what: str, line: int | None = None) -> StabfixError:
            where = f"line {line}: " if line else ""
            return StabfixError(f"stabfix bug: {where}{what}; nothing written", path=self.rel)

        remaining = dict(expected)
        want = _walk(self.documents)
        kinds = (ev_mod.NodeEvent, ev_mod.CollectionEndEvent)
        try:
            for ev in parsed:
                if not isinstance(ev, kinds):
                    continue  # stream and document boundaries: the node events carry the structure
                line = ev.start_mark.line + 1
                item = next(want, None)
                if item is None:
                    raise bug("the edit added to the YAML structure", line)
                kind, node = item
                if isinstance(ev, ev_mod.CollectionEndEvent):
                    if kind != "end":
                        raise bug("the edit changed the YAML structure", line)
                    continue
                anchor = getattr(node, "anchor", None)
                if isinstance(ev, ev_mod.AliasEvent):
                    if kind != "alias" or ev.anchor != anchor:
                        raise bug("the edit changed an alias", line)
                elif isinstance(ev, ev_mod.ScalarEvent):
                    if kind != "scalar" or ev.anchor != anchor:
                        raise bug("the edit changed the YAML structure", line)
                    value = expected.get(id(node), node.value)
                    remaining.pop(id(node), None)
                    # libyaml reports a plain scalar's style as "" where its composer kept None
                    if ev.value != value or (ev.style or None) != (node.style or None):
                        raise bug(f"value {node.value!r} became {ev.value!r}, expected {value!r}", line)
                else:
                    same_kind = (kind == "mapping" and isinstance(ev, ev_mod.MappingStartEvent)) or (
                        kind == "sequence" and isinstance(ev, ev_mod.SequenceStartEvent))
                    if not same_kind or ev.anchor != anchor:
                        raise bug("the edit changed the YAML structure", line)
        except marked_error as exc:
            mark = exc.problem_mark or exc.context_mark  # type: ignore[attr-defined]
            raise bug(f"the edited file no longer parses ({' '.join(str(exc.problem).split())})",  # type: ignore[attr-defined]
                      mark.line + 1 if mark is not None else None) from None
        except yaml_error as exc:
            raise bug(f"the edited file no longer parses ({' '.join(str(exc).split())})") from None
        if next(want, None) is not None:
            raise bug("the edit removed part of the YAML structure")
        if remaining:
            raise bug("an intended edit did not reach its value")


#: a node's properties where libyaml's start mark finds them, each followed by white space: a tag,
#: an anchor, in either order (``&a !!str x`` / ``!!str &a x``)
_PROPS = re.compile(r"(?:(?:&(?P<anchor>[^\s,\[\]{}]+)|![^\s]*)(?:\s+|(?=[,\]}])|$))+")


def _compose_c(text: str) -> list[Any]:
    """The node graph of every document, composed by libyaml (marks: line, column, character index).

    libyaml's nodes keep no anchor and start a node at its properties (``&a !!str x``); ruamel's
    start a scalar at its content. So each node that has properties gets its ``anchor`` read from
    the text there, and a scalar's start mark moves past them: the nodes then read as ruamel's.
    """
    import yaml

    documents = [d for d in yaml.compose_all(text, Loader=_c_loader()) if d is not None]
    if "&" not in text and "!" not in text:
        return documents  # no node has properties
    seen: set[int] = set()
    stack = list(documents)
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        kind = node.id
        if kind == "mapping":
            for k, v in node.value:
                stack.append(k)
                stack.append(v)
        elif kind == "sequence":
            stack.extend(node.value)
        mark = node.start_mark
        i = mark.index
        if text[i:i + 1] not in ("&", "!"):
            continue
        m = _PROPS.match(text, i)
        if m is None:
            continue
        node.anchor = m.group("anchor")
        if kind == "scalar" and m.end() < node.end_mark.index:
            end = m.end()
            line = mark.line + text.count("\n", i, end)
            node.start_mark = yaml.Mark(mark.name, end, line, end - (text.rfind("\n", 0, end) + 1), None, 0)
    return documents


def _walk(documents: list[Any]) -> Iterator[tuple[str, Any]]:
    """The node graph in document order as parser-like items: ("scalar"|"mapping"|"sequence"|
    "alias"|"end", node); a node met again is an alias (its anchor was defined first)."""
    seen: set[int] = set()
    stack: list[tuple[str, Any]] = [("node", d) for d in reversed(documents)]
    while stack:
        what, node = stack.pop()
        if what == "end":
            yield ("end", node)
            continue
        if id(node) in seen:
            yield ("alias", node)
            continue
        seen.add(id(node))
        yield (node.id, node)
        if node.id == "mapping":
            stack.append(("end", node))
            for k, v in reversed(node.value):
                stack.append(("node", v))
                stack.append(("node", k))
        elif node.id == "sequence":
            stack.append(("end", node))
            stack.extend(("node", v) for v in reversed(node.value))


def compose(text: str, rel: str) -> list[Any]:
    """The node graph of every document; invalid YAML raises one line with line and column."""
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    try:
        documents = [d for d in _yaml().compose_all(text) if d is not None]
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        what = " ".join(str(exc.problem or exc.context or "syntax error").split())
        raise StabfixError(f"invalid YAML at {where}{what}; fix the file and run again", path=rel) from None
    except YAMLError as exc:
        raise StabfixError(f"invalid YAML: {' '.join(str(exc).split())}; fix the file and run again",
                           path=rel) from None
    _refuse_duplicate_keys(documents, rel)
    return documents


def _refuse_duplicate_keys(documents: list[Any], rel: str) -> None:
    """A mapping that gives a key twice is an error naming both lines: YAML loaders disagree on
    which copy wins, so an edit of either could be the one that does nothing."""
    for kind, node in _walk(documents):
        if kind != "mapping":
            continue
        first: dict[str, Any] = {}
        for k, _ in node.value:
            if k.id != "scalar" or k.tag == MERGE_TAG or (k.value == "<<" and not k.style):
                continue
            other = first.setdefault(str(k.value), k)
            if other is not k:
                raise StabfixError(
                    f"duplicate key {str(k.value)[:60]!r} at lines {other.start_mark.line + 1} and "
                    f"{k.start_mark.line + 1}; keep one and run again", path=rel)
