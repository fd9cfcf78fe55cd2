"""yamlsplice reads with libyaml's C composer: the same nodes, marks and verification as ruamel.yaml."""

from __future__ import annotations

from typing import Any

import pytest

from codemods.edit.yamlsplice import YamlSource, compose
from codemods.errors import StabfixError

TEXTS = [
    'a: "h\u00e9llo"\r\nb: |\r\n  x \u20ac y\r\n  pytest -n 8\r\nc: &x {d: 1}\r\ne: *x\r\n',
    "jobs:\n  t: &t\n    run: >-\n      pytest\n      -n 8\n  u:\n    <<: *t\n    k: [1, 'two', \"th\\tree\"]\n",
    "a: !!str &s pytest -n 8\nb: &m !!map {x: 1}\nc: *s\nd: *m\n---\ne: 'it''s'\n",
]


def _nodes(documents: list[Any]) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    stack = list(reversed(documents))
    while stack:
        n = stack.pop()
        out.append((n.id, n.start_mark.index, n.start_mark.line, n.start_mark.column, n.end_mark.index,
                    n.value if n.id == "scalar" else None, (n.style or None) if n.id == "scalar" else None))
        if n.id == "mapping":
            stack.extend(x for kv in reversed(n.value) for x in reversed(kv))
        elif n.id == "sequence":
            stack.extend(reversed(n.value))
    return out


@pytest.mark.parametrize("text", TEXTS[:2])
def test_libyaml_nodes_equal_ruamel_nodes(text: str) -> None:
    y = YamlSource(text, "t.yml")
    assert y.libyaml
    assert _nodes(y.documents) == _nodes(compose(text, "t.yml"))


@pytest.mark.parametrize("text", TEXTS)
def test_splice_with_anchors_and_tags(text: str) -> None:
    y = YamlSource(text, "t.yml")
    sc = next(s for s in y.scalars() if "pytest" in s.value or s.value == "1")
    i = sc.value.find("8") if "8" in sc.value else 0
    new = y.splice([(sc, i, i + 1, "4" if "8" in sc.value else "2")])
    assert new != text and len(new) == len(text)


def test_anchor_changes_are_caught_with_tags_before_or_after() -> None:
    text = "a: !!str &s pytest -n 8\nb: &m !!map {x: 1}\nc: *s\nd: *m\n"
    y = YamlSource(text, "t.yml")
    y.verify(text, {})
    for changed in (text.replace("&s", "&z").replace("*s", "*z"), text.replace("&m", "&n").replace("*m", "*n"),
                    text.replace("c: *s", "c: pytest -n 8"), text.replace("!!str &s", "!!str")):
        with pytest.raises(StabfixError, match="stabfix bug"):
            y.verify(changed, {})


@pytest.mark.parametrize("text", ["\ufeffa: pytest -n 8\n", "%YAML 1.2\n---\na: pytest -n 8\n"])
def test_bom_and_version_directive_read_by_ruamel(text: str) -> None:
    y = YamlSource(text, "t.yml")
    assert not y.libyaml
    sc = next(s for s in y.scalars() if "pytest" in s.value)
    assert sc.start == text.index("pytest")


def test_refused_by_libyaml_gives_ruamel_message() -> None:
    with pytest.raises(StabfixError) as err:
        YamlSource("a: [b\nc: d\n", "ci.yml")
    assert err.value.one_line().startswith("error: ci.yml: invalid YAML at line 2, column 2:")


def test_duplicate_keys_refused_on_the_libyaml_path() -> None:
    with pytest.raises(StabfixError, match="duplicate key 'a' at lines 1 and 2"):
        YamlSource("a: 1\na: 2\n", "t.yml")


@pytest.mark.parametrize(("text", "value"), [
    ("a: !!str &s pytest -n 8\nb: *s\n", "pytest -n 8"), ("a: &s 'pytest -n 8'\nb: *s\n", "pytest -n 8"),
    ("a: &s\n  pytest -n 8\nb: *s\n", "pytest -n 8"),
])
def test_scalar_with_properties_starts_at_its_content(text: str, value: str) -> None:
    """A scalar's start is its content, past its anchor and tag (ruamel starts it at the first
    property, so such plain and quoted scalars could not be edited in place)."""
    y = YamlSource(text, "t.yml")
    sc = next(s for s in y.scalars() if s.value == value)
    assert sc.line == text[:text.index("pytest")].count("\n") + 1
    new = y.splice([(sc, 10, 11, "4")])
    assert new == text.replace("-n 8", "-n 4")
