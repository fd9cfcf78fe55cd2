"""Editing scanned CI files by offset: :class:`Splice` edits made and checked by :func:`apply_splices`.

Offsets come from :mod:`codemods.ci.scan`: YAML scalars are spliced with
:mod:`codemods.edit.yamlsplice`; Makefiles, tox.ini and shell scripts as text, then scanned again
to check that every pytest invocation is still there; pyproject.toml ``addopts`` (a string or a
list) through tomlkit, keeping its quote style and layout, and checked to change nothing else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from codemods.ci.scan import CiFile, scan_file

__all__ = ["Splice", "apply_splices"]


@dataclass(frozen=True)
class Splice:
    """Replace ``[start, end)`` with ``new``: offsets index ``scalar.value`` for YAML, the file text
    for Makefiles and tox.ini, and the addopts string for pyproject.toml."""

    start: int
    end: int
    new: str
    scalar: Any = None


def apply_splices(ci: CiFile, splices: list[Splice]) -> str:
    """The new file text with every splice made and checked (raises StabfixError when unsafe)."""
    from codemods.errors import StabfixError

    if not splices:
        return ci.text
    if ci.yaml is not None:
        return str(ci.yaml.splice([(s.scalar, s.start, s.end, s.new) for s in splices]))
    if ci.kind == "pyproject":
        return _apply_addopts(ci, splices)
    new_text = _splice_text(ci.text, splices)
    if new_text is None:
        raise StabfixError("two edits overlap; nothing changed", path=ci.path)
    # every invocation must still be there, with only the edited options changed
    again = scan_file(ci.path, new_text, ci.kind)
    if len(again.sites) != len(ci.sites):
        raise StabfixError("stabfix bug: the edit changed the number of pytest invocations", path=ci.path)
    return new_text


def _splice_text(text: str, splices: list[Splice]) -> str | None:
    parts: list[str] = []
    last = 0
    for s in sorted(splices, key=lambda s: (s.start, s.end)):
        if s.start < last:
            return None
        parts.append(text[last:s.start])
        parts.append(s.new)
        last = s.end
    parts.append(text[last:])
    return "".join(parts)


def _apply_addopts(ci: CiFile, splices: list[Splice]) -> str:
    import tomlkit

    from codemods.errors import StabfixError

    doc = tomlkit.parse(ci.text)
    tool: Any = doc["tool"]["pytest"]
    table: Any = tool["ini_options"] if "ini_options" in tool and "addopts" in tool["ini_options"] else tool
    old = table["addopts"]
    if isinstance(old, str):
        new_value = _splice_text(str(old), splices)
        if new_value is None:
            raise StabfixError("two edits overlap; nothing changed", path=ci.path)
        kind = getattr(old, "type", None)
        literal = bool(kind is not None and kind.is_literal())
        multiline = bool(kind is not None and kind.is_multiline())
        table["addopts"] = tomlkit.string(new_value, literal=literal, multiline=multiline)
        expected: Any = new_value
    else:
        expected = _edit_list(old, [str(a) for a in old], splices, ci.path)
    from codemods.core import tomlread as tomllib

    new_text = tomlkit.dumps(doc)
    before, after = tomllib.loads(ci.text), tomllib.loads(new_text)
    for data in (before, after):
        pt = data["tool"]["pytest"]
        (pt["ini_options"] if "ini_options" in pt and "addopts" in pt["ini_options"] else pt).pop("addopts")
    if before != after or _addopts(tomllib.loads(new_text)) != expected:
        raise StabfixError("stabfix bug: the addopts edit changed other values; nothing written", path=ci.path)
    return new_text


def _edit_list(array: Any, items: list[str], splices: list[Splice], rel: str) -> list[str]:
    """Apply splices (offsets into ``" ".join(items)``) to a tomlkit array item by item, so that
    its layout and comments stay; returns the new items."""
    from codemods.errors import StabfixError

    starts, at = [], 0
    for item in items:
        starts.append(at)
        at += len(item) + 1
    new_items = list(items)
    for sp in sorted(splices, key=lambda x: (x.start, x.end), reverse=True):
        k = next((i for i in range(len(items)) if starts[i] <= sp.start <= starts[i] + len(items[i])), None)
        if k is None:
            raise StabfixError("stabfix bug: an addopts edit falls outside its items", path=rel)
        a, b = sp.start - starts[k], sp.end - starts[k]
        if a == b == len(items[k]) and sp.new[:1] == " ":  # new arguments after item k
            for j, word in enumerate(sp.new.split()):
                array.insert(k + 1 + j, word)
                new_items.insert(k + 1 + j, word)
        elif b <= len(items[k]) and not re.search(r"\s", sp.new):
            value = new_items[k][:a] + sp.new + new_items[k][b:]
            array[k] = value
            new_items[k] = value
        else:
            raise StabfixError("an addopts edit spans list items; edit it by hand", path=rel)
    return new_items


def _addopts(data: dict[str, Any]) -> Any:
    pt = data["tool"]["pytest"]
    return (pt["ini_options"] if "ini_options" in pt and "addopts" in pt["ini_options"] else pt)["addopts"]
