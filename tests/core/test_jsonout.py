"""--json output: a document written piece by piece (each item of a top-level list encoded alone)
is byte for byte the whole document as msgspec indents it; text UTF-8 cannot encode falls back to
ASCII escapes, written whole."""

from __future__ import annotations

import io
import json
import sys
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codemods.core.jsonout import write_json

SCALARS = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=8)
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
    st.text(max_size=5), inner, max_size=4), max_leaves=25)


def _written(data: Any, monkeypatch: pytest.MonkeyPatch, small: bool = False) -> bytes:
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    monkeypatch.setattr(sys, "stdout", out)
    write_json(data, small=small)
    out.flush()
    return out.buffer.getvalue()  # type: ignore[attr-defined, no-any-return]


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=6), VALUES, max_size=6) | VALUES)
def test_pieces_make_the_whole_document(data: Any) -> None:
    with pytest.MonkeyPatch.context() as mp:
        assert _written(data, mp) == msgspec.json.format(msgspec.json.encode(data), indent=2) + b"\n"


def test_a_report_and_the_escaped_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    report = {"fixer": "noqa", "files": [{"path": f"m{i}.py", "edits": [{"line": i}]} for i in range(3)],
              "notices": [], "totals": {"changed": 3}}
    assert json.loads(_written(report, monkeypatch)) == report
    lone = {"files": [{"path": "bad\udce9.py"}]}  # an undecodable name, as os.fsdecode gives it
    out = _written(lone, monkeypatch)
    assert out.isascii() and out.endswith(b"}\n") and b"\\udce9" in out
    assert _written(report, monkeypatch, small=True) == _written(report, monkeypatch)
