"""The comment grammar as a specification: Fixit-style cases of (directive, line, codes) -> new line.

``None`` as the expected line means "left exactly as it is". The comment column comes from the
real scanner, so strings that contain ``#`` are part of the cases.
"""

from __future__ import annotations

import pytest

from codemods.fixers.suppress import comments as cm
from codemods.fixers.suppress.placement import scan


def parsed(line: str) -> cm.ParsedLine:
    return cm.parse_line(line, scan(line + "\n").comment_col(1))


ADD = [
    # kind, line, codes, reason, expected
    ("noqa", "x = 1", ["E501"], None, "x = 1  # noqa: E501"),
    ("noqa", "x = 1", ["F401", "E501", "E501"], None, "x = 1  # noqa: E501, F401"),
    ("noqa", "x = 1  # noqa: F401", ["E501"], None, "x = 1  # noqa: E501, F401"),
    ("noqa", "x = 1  # noqa: E501", ["E501"], None, None),
    ("noqa", "x = 1  # noqa", ["E501"], None, None),
    ("noqa", "x = 1  # NOQA", ["E501"], None, None),
    ("noqa", "x = 1  # noqa:E501,W291", ["F401"], None, "x = 1  # noqa: E501, F401, W291"),
    # LiteLLM's reasons after the codes are kept (ruff --add-noqa deletes them: ruff #26287)
    ("noqa", "x = f()  # noqa: BLE001  # get_model_info raises bare Exception", ["E501"], None,
     "x = f()  # noqa: BLE001, E501  # get_model_info raises bare Exception"),
    ("noqa", "x = 1  # noqa: E501 because the tool says so", ["F401"], None,
     "x = 1  # noqa: E501, F401 because the tool says so"),
    ("noqa", "import a  # type: ignore[import-untyped]", ["F401"], None,
     "import a  # type: ignore[import-untyped]  # noqa: F401"),
    ("noqa", "x = 1  # fmt: skip", ["E501"], None, "x = 1  # fmt: skip  # noqa: E501"),
    ("noqa", "x = 1  # pylint: disable=invalid-name", ["E501"], None,
     "x = 1  # pylint: disable=invalid-name  # noqa: E501"),
    # the spacing before an existing comment is kept: E261 stays reported, and suppressed
    ("noqa", "x = 1 # tight", ["E261"], None, "x = 1 # tight  # noqa: E261"),
    # trailing whitespace is kept after the directive: W291 stays reported, and suppressed
    ("noqa", "x = 1   ", ["W291"], None, "x = 1  # noqa: W291   "),
    ("noqa", 'x = "#"', ["E501"], None, 'x = "#"  # noqa: E501'),
    ("noqa", "x = 1  # see http://a#b", ["E501"], None, "x = 1  # see http://a#b  # noqa: E501"),
    ("noqa", "    #comment", ["E265"], None, "    #comment  # noqa: E265"),
    ("noqa", "x = 1", ["E501"], "LiteLLM reason", "x = 1  # noqa: E501  # LiteLLM reason"),
    ("noqa", "x = 1  # keep", ["E501"], "why", "x = 1  # keep  # noqa: E501  # why"),
    ("noqa", "x = 1  # noqa: F401  # old reason", ["E501"], "new", "x = 1  # noqa: E501, F401  # old reason"),
    ("type-ignore", "x = f()", ["arg-type"], None, "x = f()  # type: ignore[arg-type]"),
    ("type-ignore", "x = f()  # type: ignore[arg-type]", ["assignment"], None,
     "x = f()  # type: ignore[arg-type, assignment]"),
    ("type-ignore", "x = f()  # type: ignore[arg-type]", ["arg-type"], None, None),
    ("type-ignore", "x = f()  # type: ignore", ["misc"], None, None),
    # mypy honours a type-ignore only as the first comment: it goes first, existing ones move
    ("type-ignore", "x = f()  # noqa: E501", ["misc"], None, "x = f()  # type: ignore[misc]  # noqa: E501"),
    ("type-ignore", "x = f()  # noqa: E501  # type: ignore[misc]", ["misc"], None,
     "x = f()  # type: ignore[misc]  # noqa: E501"),
    ("type-ignore", "codes.moved,  # 301  # type: ignore[attr-defined]", ["arg-type"], None,
     "codes.moved,  # type: ignore[arg-type, attr-defined]  # 301"),
    ("type-ignore", "x = f() # tight", ["misc"], None, "x = f()  # type: ignore[misc]  # tight"),
    ("type-ignore", "x = f()  # fmt: skip", ["misc"], None, "x = f()  # type: ignore[misc]  # fmt: skip"),
    # `# type: ignore[x] because` is an error for mypy: the text becomes its own comment
    ("type-ignore", "x = f()  # type: ignore[misc] because", ["arg-type"], None,
     "x = f()  # type: ignore[arg-type, misc]  # because"),
    # a PEP 484 type comment must stay first; mypy reads the ignore after it
    ("type-ignore", "x = []  # type: List[int]", ["misc"], None, "x = []  # type: List[int]  # type: ignore[misc]"),
    ("type-ignore", "x = f()  # keep", ["misc"], "why", "x = f()  # type: ignore[misc]  # why  # keep"),
    ("pyright", "x = f()", ["reportCallIssue"], None, "x = f()  # pyright: ignore[reportCallIssue]"),
    ("pyright", "x = f()  # pyright: ignore[reportB]", ["reportA"], None, "x = f()  # pyright: ignore[reportA, reportB]"),
    ("pyright", "x = f()  # pyright: ignore", ["reportA"], None, None),
    ("pyright", "x = f()  # type: ignore[misc]  # noqa: E501", ["reportX"], None,
     "x = f()  # type: ignore[misc]  # pyright: ignore[reportX]  # noqa: E501"),
    ("pyright", "x = f()  # fmt: skip", ["reportX"], None, "x = f()  # pyright: ignore[reportX]  # fmt: skip"),
]


@pytest.mark.parametrize(("kind", "line", "codes", "reason", "expected"), ADD)
def test_add_codes(kind: str, line: str, codes: list[str], reason: str | None, expected: str | None) -> None:
    p = parsed(line)
    result = cm.add_codes(p, kind, codes, reason)
    assert result.text == (line if expected is None else expected)
    if scan(line + "\n").comment_col(1) is None:
        assert cm.fresh(line, kind, codes, reason) == result.text


def test_blanket_is_reported_as_covering() -> None:
    assert cm.add_codes(parsed("x = 1  # noqa"), "noqa", ["E501"]).blanket
    assert cm.add_codes(parsed("x = 1  # type: ignore"), "type-ignore", ["misc"]).blanket


REMOVE = [
    ("noqa", "x = 1  # noqa: E501, F401", ["E501"], "x = 1  # noqa: F401"),
    ("noqa", "x = 1  # noqa: E501  # reason", ["E501"], "x = 1  # reason"),
    ("noqa", "x = 1  # noqa", None, "x = 1"),
    ("noqa", "x = 1  # noqa: E501", ["F401"], None),
    ("noqa", "x = 1  # type: ignore[misc]  # noqa: E501", ["E501"], "x = 1  # type: ignore[misc]"),
    ("type-ignore", "x = 1  # type: ignore[a, b]  # noqa: E501", ["a"], "x = 1  # type: ignore[b]  # noqa: E501"),
    ("type-ignore", "x = 1  # type: ignore[a]  # noqa: E501", ["a"], "x = 1  # noqa: E501"),
    ("type-ignore", "x = 1  # type: ignore  # keep", None, "x = 1  # keep"),
    ("pyright", "x = 1  # type: ignore[a]  # pyright: ignore[rA, rB]", ["rA"], "x = 1  # type: ignore[a]  # pyright: ignore[rB]"),
    ("pyright", "x = 1  # pyright: ignore[rA]  # fmt: skip", ["rA"], "x = 1  # fmt: skip"),
]


@pytest.mark.parametrize(("kind", "line", "codes", "expected"), REMOVE)
def test_remove_codes(kind: str, line: str, codes: list[str] | None, expected: str | None) -> None:
    result = cm.remove_codes(parsed(line), kind, codes)
    assert result.text == (line if expected is None else expected)


@pytest.mark.parametrize(
    ("text", "kind", "codes"),
    [
        ("# noqa: E501, W291", "noqa", ["E501", "W291"]),
        ("# noqa:E501 W291 reason", "noqa", ["E501", "W291"]),
        ("# noqa", "noqa", None),
        ("# type: ignore[a,b]", "type-ignore", ["a", "b"]),
        ("# type: ignore", "type-ignore", None),
        ("# type: ignored stuff", "type-comment", None),
        ("# pyright: ignore[reportX]", "pyright", ["reportX"]),
        ("# pyright: basic", "other", None),
        ("# fmt: skip", "other", None),
        ("# noqaish", "other", None),
    ],
)
def test_parse_segment(text: str, kind: str, codes: list[str] | None) -> None:
    seg = cm.parse_segment("  ", text)
    assert (seg.kind, seg.codes) == (kind, codes)
