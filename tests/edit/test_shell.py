"""The shell lexer: word values as a POSIX shell splits them (Python's shlex as the oracle), and
offsets that point at the text each value character came from."""

from __future__ import annotations

import shlex

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codemods.edit.shell import Op, Word, lex

#: pieces of shell words without expansions, operators or comments (shlex does not expand, and it
#: takes ``#`` inside a word or ``\\$`` in double quotes otherwise than POSIX): plain runs, both
#: quotings, escapes, blanks
PIECES = st.sampled_from([
    "pytest", "-n", "8", "--cov=litellm", "tests/proxy_unit_tests", "a.b", "x==1.2", "é", "-k", "not slow",
    '"', "'", '\\"', "\\\\", "\\ ", "\\n", "\\'", "\\", " ", "  ", "\t", "=",
])


def _words(text: str) -> list[Word]:
    return [t for t in lex(text) if isinstance(t, Word)]


def _closed(text: str) -> bool:
    try:
        shlex.split(text)
    except ValueError:  # an open quote or a trailing backslash: no oracle
        return False
    return True


@settings(max_examples=600, deadline=None)
@given(st.lists(PIECES, max_size=14).map("".join))
def test_word_values_are_what_a_posix_shell_splits(text: str) -> None:
    if not _closed(text):
        return
    words = _words(text)
    assert [w.value for w in words] == shlex.split(text)
    for w in words:
        assert len(w.offsets) == len(w.value)
        assert all(text[o] == ch for o, ch in zip(w.offsets, w.value, strict=True))


@pytest.mark.parametrize(("text", "values"), [
    ('uv add "pytest==7.3.1" "pytest-cov==5.0.0"', ["uv", "add", "pytest==7.3.1", "pytest-cov==5.0.0"]),
    ('echo "a $(date "+%s") b" x', ["echo", 'a $(date "+%s") b', "x"]),
    ('echo "tab\\"q\\\\ $HOME"', ["echo", 'tab"q\\ $HOME']),
    ("python -m pytest -n 8 2>&1 | tee out", ["python", "-m", "pytest", "-n", "8", "1", "tee", "out"]),
    ("pytest -n 8  # all of them\npytest#1 x", ["pytest", "-n", "8", "pytest#1", "x"]),
    ('echo "\\$HOME \\`x\\`"', ["echo", "$HOME `x`"]),
    ("pytest << parameters.args >> -n 4", ["pytest", "<< parameters.args >>", "-n", "4"]),
])
def test_quotes_substitutions_and_redirections(text: str, values: list[str]) -> None:
    assert [w.value for w in _words(text)] == values
    assert ("|" in [t.kind for t in lex(text) if isinstance(t, Op)]) == (" | " in text)
