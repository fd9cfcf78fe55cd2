"""Corpus run of the test codemods (scripts/corpus_tests.py): over 1,000 real test modules, `auth`
(LiteLLM defaults, then aimed at the corpus's FastAPI tests in both styles) and `flaky` — no crash,
every written file parses, a second run changes nothing."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.corpus
def test_corpus_tests(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        import corpus_tests
    finally:
        sys.path.remove(str(REPO / "scripts"))
    code = corpus_tests.main(["--work", str(tmp_path / "work")])
    out = capsys.readouterr().out
    print(out)
    assert code == 0, out
    modules = int(out.split("corpus: ", 1)[1].split()[0])
    assert modules >= 1000
    assert "PROBLEM" not in out
