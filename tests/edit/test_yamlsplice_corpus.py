"""Corpus: the YAML splicer on every YAML file of the litellm 1.80.0 sdist plus LiteLLM's real CI
files (scripts/corpus_yamlsplice.py): exact value-to-source maps, one verified splice per scalar."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
REAL_WORLD = REPO.parent / "shared" / "real-world"


@pytest.mark.corpus
@pytest.mark.skipif(not REAL_WORLD.is_dir(), reason=f"{REAL_WORLD} is absent (LiteLLM's real CI files, "
                    "2 of the corpus's 25 files)")
def test_yamlsplice_corpus(capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location("corpus_yamlsplice", REPO / "scripts" / "corpus_yamlsplice.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    code = module.main(["--cache", str(REPO / ".cache" / "corpus-yamlsplice")])

    out = capsys.readouterr().out
    numbers = dict(line.strip().split(": ", 1) for line in out.splitlines() if ": " in line and "FAIL" not in line)
    assert code == 0, out
    assert int(numbers["failures"]) == 0
    assert int(numbers["files"]) >= 25 and int(numbers["scalars"]) >= 1500
    assert int(numbers["splices"]) >= 1500
    assert float(numbers["mapped share"]) > 0.95
