"""Format-preserving JSON member edits: only the changed lines differ, json.loads agrees on the rest."""

from __future__ import annotations

import difflib
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codemods.edit.jsonsplice import JsonSpliceError, parse, set_member


def assert_pure_insertion(old: str, new: str) -> None:
    """``new`` is ``old`` with one string inserted at one offset: no byte of ``old`` changed or moved
    but for what follows the insertion point (the comma after the previous last member is the start
    of the insertion)."""
    k = next((i for i, (a, b) in enumerate(zip(old, new, strict=False)) if a != b), min(len(old), len(new)))
    assert new.endswith(old[k:]), (old, new)
    assert len(new) > len(old)


def changed_lines(old: str, new: str) -> tuple[list[str], list[str]]:
    """(old lines removed, new lines added)."""
    removed, added = [], []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old.splitlines(True), new.splitlines(True),
                                                       autojunk=False).get_opcodes():
        if tag != "equal":
            removed += old.splitlines(True)[i1:i2]
            added += new.splitlines(True)[j1:j2]
    return removed, added


@pytest.mark.parametrize("indent", [2, 4, "\t"])
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize("final", [True, False])
def test_override_added_in_the_files_style(indent: Any, newline: str, final: bool) -> None:
    doc = {"name": "app", "version": "1.0.0", "scripts": {"test": "vitest"}, "dependencies": {"mkdirp": "0.5.1"}}
    text = json.dumps(doc, indent=indent).replace("\n", newline) + (newline if final else "")
    new = set_member(text, ("overrides", "minimist"), "0.2.4")
    assert json.loads(new) == {**doc, "overrides": {"minimist": "0.2.4"}}
    assert list(json.loads(new)) == [*doc, "overrides"]  # key order kept, the new key last
    # exactly what `json.dumps` with the same indent writes: the file's own style
    want = json.dumps({**doc, "overrides": {"minimist": "0.2.4"}}, indent=indent).replace("\n", newline)
    assert new == want + (newline if final else "")
    assert_pure_insertion(text, new)


def test_replace_changes_one_line() -> None:
    text = '{\n    "dependencies": {\n        "json5": "~2.1.0",\n        "x": "1"\n    }\n}\n'
    new = set_member(text, ("dependencies", "json5"), "~2.2.2")
    assert new == text.replace("~2.1.0", "~2.2.2")
    removed, added = changed_lines(text, new)
    assert (len(removed), len(added)) == (1, 1)


def test_existing_empty_overrides_and_one_line_documents() -> None:
    assert set_member('{\n  "overrides": {}\n}\n', ("overrides", "a"), "1") == \
        '{\n  "overrides": {\n    "a": "1"\n  }\n}\n'
    assert set_member('{"a": {"b": 1}}', ("overrides", "m"), "1") == '{"a": {"b": 1}, "overrides": {"m": "1"}}'
    assert set_member("{}", ("overrides", "m"), "1") == '{"overrides": {"m": "1"}}'


def test_escapes_and_unicode_elsewhere_are_kept() -> None:
    text = '{\n  "description": "caf\\u00e9 \\"x\\"",\n  "author": "Zoë"\n}\n'
    new = set_member(text, ("overrides", "minimist"), "0.2.4")
    assert new.startswith('{\n  "description": "caf\\u00e9 \\"x\\"",\n  "author": "Zoë",\n')


@pytest.mark.parametrize(("text", "message"), [
    ('{\n  "a": 1,\n}\n', "line 3: expected a quoted key"),
    ('{\n  "a": 1\n  "b": 2\n}\n', "line 3: expected ',' or '}'"),
    ('{"a": 1, "a": 2}', "duplicate key 'a'"),
    ('{"a": 1} x', "extra text"),
    ("", "unexpected end"),
    ('{"a": "\x01"}', "invalid string"),
])
def test_invalid_json_is_one_error_with_its_line(text: str, message: str) -> None:
    with pytest.raises(JsonSpliceError, match=message):
        parse(text)


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    with pytest.raises(JsonSpliceError, match="nested too deeply"):
        parse("[" * 5000 + "]" * 5000)


_KEYS = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=8)
_SCALARS = st.none() | st.booleans() | st.integers() | st.text(max_size=10)
_JSON = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_KEYS, inner, max_size=3),
                     max_leaves=12)


@settings(max_examples=150, deadline=None)
@given(doc=st.dictionaries(_KEYS, _JSON, max_size=5), key=_KEYS, indent=st.sampled_from([2, 4, "\t"]),
       ascii_=st.booleans())
def test_any_document_only_the_key_changes(doc: dict[str, Any], key: str, indent: Any, ascii_: bool) -> None:
    text = json.dumps(doc, indent=indent, ensure_ascii=ascii_) + "\n"
    overrides = doc.get("overrides", {})
    if not isinstance(overrides, dict):
        with pytest.raises(JsonSpliceError, match="not an object"):
            set_member(text, ("overrides", key), "1.2.3")
        return
    new = set_member(text, ("overrides", key), "1.2.3")
    expected = {**doc, "overrides": {**overrides, key: "1.2.3"}}
    assert json.loads(new) == expected
    if key in overrides:  # a value replaced in place: one line (a value may itself span lines)
        _, added = changed_lines(text, new)
        assert len(added) == 1
    else:
        assert_pure_insertion(text, new)
