"""The fixer registry: every entry carries its class's own description, so `stabfix list` imports no fixer."""

from __future__ import annotations

import subprocess
import sys

import pytest

from codemods.core import registry


@pytest.mark.parametrize("name", registry.names())
def test_entry_description_is_the_class_description(name: str) -> None:
    target = registry.FIXERS[name]
    assert getattr(target, "description", None) is not None, (
        f"registry entry {name!r} is a plain import string: write it as "
        f'fixer("{target}", "<the class\'s description>") so that `stabfix list` need not import it'
    )
    assert registry.describe(name) == registry.load(name).description


def test_list_imports_no_fixer_module_and_matches_json() -> None:
    code = (
        "import sys\nfrom codemods.cli import main\n"
        "try:\n    main(['list'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('codemods.fixers.')), file=sys.stderr)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stderr.strip() == "[]"
    width = max(len(n) for n in registry.names())
    classes = {n: registry.load(n) for n in registry.names()}
    assert proc.stdout.splitlines() == [f"{n.ljust(width)}  {cls.description}" for n, cls in classes.items()]


def test_plain_import_string_entry_still_described() -> None:
    """An entry added as a plain "module:Class" string works: its class is imported for the text."""
    registry.FIXERS["plain-entry"] = "codemods.fixers.workers:WorkersFixer"
    try:
        assert registry.describe("plain-entry") == registry.load("workers").description
    finally:
        del registry.FIXERS["plain-entry"]
