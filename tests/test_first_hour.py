"""A user's first hour (issue 15): a plain `pip install .` runs the whole demo, the demo's command
lines paste into a shell, shell completion, the licence, and the split of `make test` / `make test-all`."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, run_stabfix


def _names() -> list[str]:
    from codemods.core import registry

    return list(registry.names())


@pytest.mark.slow
def test_plain_pip_install_runs_the_whole_demo_in_an_empty_folder(tmp_path: Path) -> None:
    """`pip install .` into a fresh venv (stabfix's own dependencies only: no ruff, mypy or
    pyright), then `stabfix demo` in an empty folder: exit 0, every fixer of `stabfix list` shown."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    proc = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q",
                           "--disable-pip-version-check", str(REPO_ROOT)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    empty = tmp_path / "empty"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["PATH"] = f"{venv / 'bin'}:/usr/bin:/bin"  # no other venv's ruff, mypy or pyright
    stabfix = str(venv / "bin" / "stabfix")
    listed = subprocess.run([stabfix, "list"], cwd=empty, capture_output=True, text=True, env=env)
    assert listed.returncode == 0, listed.stderr
    names = [line.split()[0] for line in listed.stdout.splitlines() if line.strip()]
    assert set(_names()) <= set(names)
    demo = subprocess.run([stabfix, "demo"], cwd=empty, capture_output=True, text=True, env=env, timeout=120)
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr
    shown = re.findall(r"^\$ stabfix apply (\S+)", demo.stdout, re.M)
    assert shown == _names()
    assert not re.search(r"^error:", demo.stdout + demo.stderr, re.M)
    assert list(empty.iterdir()) == []


def test_every_fixer_has_a_demo_with_a_diff() -> None:
    demo = run_stabfix("demo")
    assert demo.returncode == 0, demo.stdout[-2000:] + demo.stderr
    sections = re.split(r"^\$ stabfix apply ", demo.stdout, flags=re.M)[1:]
    assert [s.split()[0] for s in sections] == _names()
    for section in sections:
        assert "\n+++ b/" in section, section[:400]  # each one shows a diff


@pytest.mark.parametrize(("fixer", "needle"), [
    ("type-ignore", "# type: ignore[arg-type]"),
    ("pyright-ignore", "# pyright: ignore[reportArgumentType]"),
    ("noqa", "# noqa: B008"),
])
def test_suppression_demos_read_stored_reports(fixer: str, needle: str) -> None:
    env = {**os.environ, "PATH": "/usr/bin:/bin"}  # no ruff, mypy or pyright to run
    demo = run_stabfix("demo", "--fixer", fixer, env=env)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert f"$ stabfix apply {fixer} . --from ci-logs/" in demo.stdout
    assert needle in demo.stdout and "--run" not in demo.stdout


def test_unknown_demo_fixer_is_one_line_exit_2() -> None:
    demo = run_stabfix("demo", "--fixer", "nope")
    assert demo.returncode == 2 and demo.stderr.strip().count("\n") == 0 and "nope" in demo.stderr


def test_demo_command_lines_are_shell_quoted() -> None:
    from codemods.commands.demo import command_line
    from codemods.core import registry

    for name in registry.names():
        cls = registry.load(name)
        if cls.demo is None:
            continue
        line = command_line(name, cls)
        words = shlex.split(line)
        assert shlex.join(words) == line
        for word in words:  # globbing characters of bash and zsh are always quoted
            if any(c in word for c in "[]*?{}$`!;&|<>()'\" "):
                assert shlex.quote(word) in line, (name, word)
    auth = command_line("auth", registry.load("auth"))
    assert "'tests/proxy_unit_tests/test_proxy_routes.py::test_generate_key[alice]'" in auth
    out = subprocess.run(["bash", "-c", f"printf '%s\\n' {auth.removeprefix('stabfix ')}"],
                         capture_output=True, text=True, check=True).stdout
    assert "tests/proxy_unit_tests/test_proxy_routes.py::test_generate_key[alice]" in out.splitlines()


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_prints_clicks_script(shell: str) -> None:
    proc = run_stabfix("completion", shell)
    assert proc.returncode == 0, proc.stderr
    assert "_STABFIX_COMPLETE" in proc.stdout and f"{shell}_complete" in proc.stdout
    same = subprocess.run([str(Path(sys.executable).with_name("stabfix"))], capture_output=True, text=True,
                          env={**os.environ, "_STABFIX_COMPLETE": f"{shell}_source"})
    assert same.stdout.strip() == proc.stdout.strip()


def test_completion_completes_subcommands() -> None:
    proc = run_stabfix(env={"COMP_WORDS": "stabfix com", "COMP_CWORD": "1", "_STABFIX_COMPLETE": "bash_complete"})
    assert "plain,completion" in proc.stdout.splitlines()
    assert run_stabfix("completion", "tcsh").returncode == 2


def test_license_is_mit() -> None:
    text = (REPO_ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License") and "Copyright (c) 2026 the stabfix authors" in text


def test_make_test_is_the_quick_suite_and_ci_runs_both() -> None:
    makefile = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    test_rule = re.search(r"^test: (.*)\n((?:\t.*\n)+)", makefile, re.M)
    assert test_rule is not None
    assert "services" not in test_rule.group(1) and "not corpus and not slow and not oracle" in makefile
    assert "$(FAST_TESTS)" in test_rule.group(2)
    assert re.search(r"^test-all: .*services", makefile, re.M)
    assert re.search(r"^demo: \$\(DEMO_VENV\)", makefile, re.M)  # a plain install, no test toolchain
    ci = [line for line in (REPO_ROOT / ".ci" / "run").read_text().splitlines()
          if line.strip() and not line.startswith("#")]
    assert ci[-2:] == ["make test", "make test-all"]
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert "make test-all" in readme and "make test " in readme


def test_no_quick_test_needs_the_network_or_a_service() -> None:
    """Every test that downloads (sdists, npm packages, PyPI packages) or starts PostgreSQL is marked
    corpus, slow or oracle, which `make test` deselects."""
    needles = ("ensure_engine()", "Postgres", "fetch_sdist", "sdist(", "pip\", \"install")
    marked = ("pytest.mark.corpus", "pytest.mark.slow", "pytest.mark.oracle")
    for path in (REPO_ROOT / "tests").rglob("test_*.py"):
        if "fixtures" in path.parts or path.name == "test_first_hour.py":
            continue
        text = path.read_text(encoding="utf-8")
        if any(n in text for n in needles):
            assert any(m in text for m in marked), path
