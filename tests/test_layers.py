"""The package's architecture, checked as behaviour.

* The import-linter contracts in pyproject.toml hold (``lint-imports``): the layers
  cli | commands > api > fixers > ci > testsuite > edit > core, and fixer families that do not
  import each other. Every top-level module of ``codemods`` sits in a layer (or is one of the few
  kept outside on purpose), so a new package cannot slip past the contract.
* Heavy libraries load lazily: importing every registered fixer class, ``stabfix --version`` and
  ``stabfix list`` import none of libcst, ruamel.yaml, jinja2, tomlkit, httpx, rich.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

SRC = REPO_ROOT / "src" / "codemods"
HEAVY = ("libcst", "ruamel", "jinja2", "tomlkit", "httpx", "rich")
#: top-level modules every layer may import (no codemods imports of their own but _version)
OUTSIDE_LAYERS = {"codemods.errors", "codemods._version"}


def _contracts() -> dict[str, dict[str, object]]:
    config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    assert config["root_package"] == "codemods"
    return {c["id"]: c for c in config["contracts"]}


def _lint_imports() -> str:
    beside = Path(sys.executable).with_name("lint-imports")
    found = str(beside) if beside.exists() else shutil.which("lint-imports")
    if found is None:
        pytest.skip("lint-imports (import-linter) is not installed")
    return found


def test_import_contracts_hold() -> None:
    run = subprocess.run([_lint_imports(), "--no-cache"], cwd=REPO_ROOT, capture_output=True, text=True,
                         check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout, run.stdout


def test_every_top_level_module_is_in_a_layer() -> None:
    layers = _contracts()["layers"]["layers"]
    assert isinstance(layers, list)
    in_layers = {m.strip() for layer in layers for m in str(layer).split("|")}
    modules = {f"codemods.{p.stem}" for p in SRC.glob("*.py") if p.name != "__init__.py"}
    modules |= {f"codemods.{p.name}" for p in SRC.iterdir() if (p / "__init__.py").is_file()}
    assert sorted(modules - in_layers - OUTSIDE_LAYERS) == []
    assert sorted(in_layers - modules) == []  # no contract names a module that is gone


def test_every_fixer_family_is_independent() -> None:
    modules = set(_contracts()["fixer-independence"]["modules"])  # type: ignore[call-overload]
    fixers = SRC / "fixers"
    present = {f"codemods.fixers.{p.stem}" for p in fixers.glob("*.py") if p.name != "__init__.py"}
    present |= {f"codemods.fixers.{p.name}" for p in fixers.iterdir() if (p / "__init__.py").is_file()}
    assert modules == present


# -- lazy imports --------------------------------------------------------------------------------

_PROBE = """
import json, sys
HEAVY = {heavy!r}

def loaded():
    return sorted({{m.split(".")[0] for m in sys.modules}} & set(HEAVY))

what = sys.argv[1]
if what == "fixers":
    from codemods.core import registry
    out = {{}}
    for name in registry.names():
        registry.load(name)
        out[name] = loaded()  # cumulative: the first fixer that pulls one in is the culprit
else:
    import contextlib, io
    from codemods.cli import main
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            main(sys.argv[1:])
        except SystemExit:
            pass
    out = {{" ".join(sys.argv[1:]): loaded()}}
print(json.dumps(out))
"""


def _probe(*args: str) -> dict[str, list[str]]:
    run = subprocess.run([sys.executable, "-c", _PROBE.format(heavy=HEAVY), *args], cwd=REPO_ROOT,
                         capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    result: dict[str, list[str]] = json.loads(run.stdout.splitlines()[-1])
    return result


def test_loading_every_fixer_class_imports_no_heavy_library() -> None:
    from codemods.core import registry

    loaded = _probe("fixers")
    assert list(loaded) == registry.names()
    assert {name: mods for name, mods in loaded.items() if mods} == {}


@pytest.mark.parametrize("argv", [["--version"], ["list"], ["list", "--json"]])
def test_cli_startup_imports_no_heavy_library(argv: list[str]) -> None:
    assert _probe(*argv) == {" ".join(argv): []}


def test_every_public_name_of_the_package_resolves() -> None:
    """``codemods.<name>`` for each name in ``__all__`` (the facade imports them lazily, by module
    name: a module moved between layers must be renamed there too)."""
    import codemods

    missing = []
    for name in codemods.__all__:
        try:
            getattr(codemods, name)
        except (AttributeError, ImportError) as exc:
            missing.append(f"{name}: {exc}")
    assert missing == []
