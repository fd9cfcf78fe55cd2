"""docs/fixers/<name>.md is generated from each fixer's code (scripts/gen_docs.py): every registered
fixer has a page, the README's table links to it, and no page is stale."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import REPO_ROOT

GEN = REPO_ROOT / "scripts" / "gen_docs.py"
DOCS = REPO_ROOT / "docs" / "fixers"


@pytest.fixture
def gen_docs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The generator, pointed at a copy of docs/fixers and README.md in ``tmp_path``."""
    spec = importlib.util.spec_from_file_location("gen_docs_under_test", GEN)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    shutil.copytree(DOCS, tmp_path / "docs" / "fixers")
    shutil.copy(REPO_ROOT / "README.md", tmp_path / "README.md")
    monkeypatch.setattr(module, "REPO_ROOT", tmp_path)
    monkeypatch.setattr(module, "DOCS", tmp_path / "docs" / "fixers")
    monkeypatch.setattr(module, "README", tmp_path / "README.md")
    return module


def test_every_registered_fixer_has_a_page_linked_from_the_readme() -> None:
    from codemods.core import registry

    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    missing = [name for name in registry.names() if not (DOCS / f"{name}.md").is_file()]
    unlinked = [name for name in registry.names() if f"(docs/fixers/{name}.md)" not in readme]
    orphans = sorted(p.name for p in DOCS.glob("*.md") if p.stem not in registry.FIXERS)
    assert (missing, unlinked, orphans) == ([], [], []), "run `python scripts/gen_docs.py`"


def test_generated_pages_are_up_to_date() -> None:
    run = subprocess.run([sys.executable, str(GEN), "--check"], cwd=REPO_ROOT, capture_output=True,
                         text=True, check=False)
    assert run.returncode == 0, run.stdout + run.stderr


def test_check_mode_fails_on_a_stale_missing_or_orphan_page(gen_docs: ModuleType,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    docs: Path = gen_docs.DOCS
    assert gen_docs.main(["--check"]) == 0
    (docs / "noqa.md").write_text("# noqa\n\nedited by hand\n", encoding="utf-8")
    (docs / "dist.md").unlink()
    (docs / "gone.md").write_text("# a fixer no longer registered\n", encoding="utf-8")
    assert gen_docs.main(["--check"]) == 1
    err = capsys.readouterr().err
    assert all(f"docs/fixers/{n}.md" in err for n in ("noqa", "dist", "gone"))
    assert (docs / "noqa.md").read_text(encoding="utf-8") == "# noqa\n\nedited by hand\n"  # --check writes nothing
    assert gen_docs.main([]) == 0
    assert gen_docs.main(["--check"]) == 0
    assert not (docs / "gone.md").exists()
    assert (docs / "dist.md").read_bytes() == (DOCS / "dist.md").read_bytes()


def test_check_mode_fails_on_a_stale_readme_table(gen_docs: ModuleType) -> None:
    readme: Path = gen_docs.README
    text = readme.read_text(encoding="utf-8")
    readme.write_text(text.replace("(docs/fixers/version.md)", "(docs/fixers/old.md)"), encoding="utf-8")
    assert gen_docs.main(["--check"]) == 1
    assert gen_docs.main([]) == 0
    assert readme.read_text(encoding="utf-8") == text


def test_pages_depend_only_on_the_code() -> None:
    """Fresh interpreters with different hash seeds generate the same bytes; no local paths leak."""
    code = ("import hashlib, runpy, sys; g = runpy.run_path(sys.argv[1]); pages, readme = g['expected']();"
            "print(hashlib.sha256(repr(sorted((p.name, t) for p, t in pages.items())).encode()"
            " + readme.encode()).hexdigest())")
    digests = set()
    for seed in ("1", "2"):
        run = subprocess.run([sys.executable, "-c", code, str(GEN)], cwd=REPO_ROOT, capture_output=True,
                             text=True, check=False, env={**os.environ, "PYTHONHASHSEED": seed})
        assert run.returncode == 0, run.stderr
        digests.add(run.stdout.strip())
    assert len(digests) == 1
    for page in DOCS.glob("*.md"):
        text = page.read_text(encoding="utf-8")
        assert str(REPO_ROOT) not in text and "Do not edit" in text and f"# `{page.stem}`" in text
