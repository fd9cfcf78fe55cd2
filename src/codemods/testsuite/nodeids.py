"""pytest node ids: parsing them and matching them to files, classes and functions.

A node id is ``path::Class::test_name[param-id]`` (the class part optional, classes may nest, the
parameter id optional). Node ids are relative to pytest's rootdir, which need not be stabfix's
root, so a node id's path matches a file when one is a suffix of the other at a ``/`` boundary.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from codemods.errors import UsageError

_TEST_FILE = re.compile(r"^(test_.*|.*_test)\.py$")


def is_test_file(name: str) -> bool:
    """Does a file name follow pytest's default ``python_files`` (``test_*.py``, ``*_test.py``)?"""
    return _TEST_FILE.match(name) is not None


@dataclass(frozen=True)
class NodeId:
    """One parsed pytest node id."""

    path: str  # POSIX, as written
    parts: tuple[str, ...]  # classes then the function (empty: the whole module)
    param: str | None = None  # the ``[...]`` part without brackets

    @property
    def function(self) -> str | None:
        return self.parts[-1] if self.parts and not self.is_class else None

    @property
    def classes(self) -> tuple[str, ...]:
        return self.parts if self.is_class else self.parts[:-1]

    @property
    def is_class(self) -> bool:
        # By pytest convention test classes start with an upper-case letter, functions do not.
        return bool(self.parts) and self.parts[-1][:1].isupper()

    def __str__(self) -> str:
        text = "::".join((self.path, *self.parts))
        return f"{text}[{self.param}]" if self.param is not None else text


def parse_node_id(text: str) -> NodeId:
    """Parse ``tests/x.py::TestA::test_b[1-2]``; a clear error for something that is not one."""
    raw = text.strip()
    param = None
    if raw.endswith("]") and "[" in raw:
        head, _, rest = raw.partition("[")
        raw, param = head, rest[:-1]
    pieces = raw.split("::")
    path = pieces[0].replace("\\", "/")
    if path.startswith("./"):
        path = path[2:]
    if not path.endswith((".py", ".pyi")) or any(not p.isidentifier() for p in pieces[1:]):
        raise UsageError(f"{text!r} is not a pytest node id (expected path/to/test_x.py::[Class::]test_name)")
    return NodeId(path=path, parts=tuple(pieces[1:]), param=param)


def parse_node_ids(values: Iterable[str]) -> list[NodeId]:
    out = []
    for value in values:
        for piece in value.split(","):
            if piece.strip():
                out.append(parse_node_id(piece))
    return out


def same_file(node_path: str, rel: str) -> bool:
    """True when a node id's path and a root-relative path name the same file."""
    a, b = node_path.strip("/"), rel.strip("/")
    return a == b or a.endswith("/" + b) or b.endswith("/" + a)


def for_file(nodes: Iterable[NodeId], rel: str) -> list[NodeId]:
    return [n for n in nodes if same_file(n.path, rel)]


def selects(nodes: Iterable[NodeId], classes: tuple[str, ...], function: str | None) -> bool:
    """Does any node id select this function (in these nested classes) or this class?

    A node id naming a class selects its methods; one naming a module selects everything in it.
    """
    for n in nodes:
        if not n.parts:
            return True
        if function is None:
            if n.is_class and n.parts == classes:
                return True
            continue
        if n.is_class and classes[: len(n.parts)] == n.parts:
            return True
        if n.function == function and n.classes == classes:
            return True
    return False


def unmatched(nodes: Iterable[NodeId], found: set[tuple[str, tuple[str, ...]]]) -> list[NodeId]:
    """Node ids whose ``(path, parts)`` was never seen (to report ids that match nothing)."""
    return [n for n in nodes if not any(same_file(n.path, p) and parts == n.parts for p, parts in found)]
