"""Produce the ``stabfix triage`` fixture logs from the real tools.

Writes a small failing project to a temporary folder (a module with lint and type errors, a test
whose xdist worker dies with ``os._exit``, a test that outlives its pytest-timeout) and runs on it:

* ruff from the venv (``--output-format concise``, the default full output, ``format --check``);
* ruff 0.11.13, the last release before 0.12 changed the default output (``pip download`` into
  ``.cache/triage-tools/``; skipped when the index is not reachable);
* flake8 (pip, cached the same way);
* ``mypy --pretty`` at an 80-column width (messages wrap, the code lands on a later line) and plain mypy;
* basedpyright from the venv (messages that span lines);
* pytest with pytest-xdist (``-n 2``; a worker dies) and pytest-timeout (pip, cached; ``thread`` method:
  the dump with no FAILED line).

Outputs go to ``tests/fixtures/triage/real/<name>.log`` with the temporary folder's path replaced by
``/home/circleci/project``; ``manifest.json`` there names every tool version and command. Lines only a CI
system prints (CircleCI's no-output kill, GitHub's exit code 137, CircleCI step banners) are added around
the tool output in those systems' exact wording; they are marked ``ci_wording`` in the manifest.

Run ``.venv/bin/python scripts/make_triage_fixtures.py``; the tests read the stored files, they do not
rerun the tools.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "tests" / "fixtures" / "triage" / "real"
CACHE = REPO / ".cache" / "triage-tools"
VENV_BIN = Path(sys.executable).parent
CI_ROOT = "/home/circleci/project"

MODULE = '''\
import os
import sys


def double(x: int) -> int:
    return x * 2


def use() -> None:
    double("a string argument that is long enough to make the mypy message wrap at eighty columns")
    count: int = "a string assigned to an int variable, with enough words to wrap the message"
    os.path.joinn("a")
'''

CRASH_TESTS = '''\
import os


def test_fine():
    assert True


def test_worker_dies():
    os._exit(1)
'''

SLOW_TESTS = '''\
import time


def test_waits_for_the_queue():
    time.sleep(30)
'''


def _cached(spec: str, name: str) -> Path | None:
    """``pip install --target`` a pinned tool into the cache once; None when pip cannot reach the index."""
    target = CACHE / name
    if (target / ".complete").is_file():
        return target
    shutil.rmtree(target, ignore_errors=True)
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-warn-script-location",
                           "--target", str(target), *spec.split()], capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        print(f"skip {spec}: {proc.stderr.strip().splitlines()[-1:] or proc.returncode}", file=sys.stderr)
        return None
    (target / ".complete").write_text(spec + "\n")
    return target


def _run(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "NO_COLOR": "1", "COLUMNS": "80", **(env or {})})
    return (proc.stdout + proc.stderr).replace(str(cwd), CI_ROOT).replace(str(VENV_BIN.parent), "/home/circleci/.venv")


def _version(argv: list[str], env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(argv, capture_output=True, text=True, env={**os.environ, **(env or {})})
    return (proc.stdout or proc.stderr).strip().splitlines()[0] if (proc.stdout or proc.stderr).strip() else "?"


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        proj = Path(tmp)
        (proj / "pkg").mkdir()
        (proj / "pkg" / "__init__.py").write_text("")
        (proj / "pkg" / "mod.py").write_text(MODULE)
        (proj / "tests").mkdir()
        (proj / "tests" / "test_crash.py").write_text(CRASH_TESTS)
        (proj / "tests" / "test_slow.py").write_text(SLOW_TESTS)
        (proj / "pyproject.toml").write_text("[tool.ruff]\nline-length = 88\n[tool.ruff.lint]\nselect = ['E', 'F']\n")

        def store(name: str, text: str, tool: str, version: str, command: str, ci_wording: str = "") -> None:
            (OUT / f"{name}.log").write_text(text, encoding="utf-8")
            manifest[name] = {"tool": tool, "version": version, "command": command, "ci_wording": ci_wording}

        ruff = str(VENV_BIN / "ruff")
        ruff_v = _version([ruff, "--version"])
        cmd = "ruff check --output-format concise pkg"
        store("ruff_concise", f"$ {cmd}\n" + _run([ruff, "check", "--output-format", "concise", "pkg"], proj)
              + "\nExited with code exit status 1\n", "ruff", ruff_v, cmd, "CircleCI: Exited with code")
        cmd = "ruff check --output-format json pkg; ruff check --output-format concise pkg"
        both = _run([ruff, "check", "--output-format", "json", "pkg"], proj) + "\n" + \
            _run([ruff, "check", "--output-format", "concise", "--select", "E501", "pkg"], proj)
        store("ruff_json_and_text", both, "ruff", ruff_v, cmd)
        cmd = "ruff format --check pkg"
        store("ruff_format", f"$ {cmd}\n" + _run([ruff, "format", "--check", "pkg"], proj)
              + "Error: Process completed with exit code 1.\n", "ruff", ruff_v, cmd, "GitHub: Process completed")

        old = _cached("ruff==0.11.13", "ruff-0.11.13")
        if old is not None:
            exe = old / "bin" / "ruff"
            cmd = "ruff check pkg  (ruff 0.11.13 default output)"
            store("ruff_0_11_default", _run([str(exe), "check", "pkg"], proj), "ruff",
                  _version([str(exe), "--version"]), cmd)

        flake = _cached("flake8==7.3.0", "flake8")
        if flake is not None:
            env = {"PYTHONPATH": str(flake)}
            cmd = "flake8 pkg"
            store("flake8", f"Run {cmd}\n" + _run([sys.executable, "-m", "flake8", "pkg"], proj, env)
                  + "Error: Process completed with exit code 1.\n", "flake8",
                  _version([sys.executable, "-m", "flake8", "--version"], env), cmd, "GitHub: Process completed")

        mypy = str(VENV_BIN / "mypy")
        mypy_v = _version([mypy, "--version"])
        cmd = "mypy --pretty pkg  (80 columns)"
        store("mypy_pretty", _run([mypy, "--pretty", "--no-incremental", "pkg"], proj,
                                  {"MYPY_FORCE_TERMINAL_WIDTH": "80"}), "mypy", mypy_v, cmd)

        bpr = str(VENV_BIN / "basedpyright")
        cmd = "basedpyright pkg"
        store("basedpyright", _run([bpr, "pkg"], proj), "basedpyright", _version([bpr, "--version"]), cmd)

        pytest = str(VENV_BIN / "pytest")
        pytest_v = _version([pytest, "--version"])
        xdist_v = _version([sys.executable, "-c", "import xdist; print('pytest-xdist', xdist.__version__)"])
        cmd = "pytest -n 2 -p no:cacheprovider tests/test_crash.py"
        out = _run([pytest, "-n", "2", "-p", "no:cacheprovider", "-p", "no:randomly", "tests/test_crash.py"], proj)
        store("xdist_crash", f"====>> Run tests\n#!/bin/bash -eo pipefail\n{cmd}\n{out}Exited with code exit status 1\n",
              "pytest-xdist", f"{pytest_v}; {xdist_v}", cmd, "CircleCI: step banner, Exited with code")

        timeout = _cached("pytest-timeout==2.4.0 --no-deps", "pytest-timeout")
        if timeout is not None:
            env = {"PYTHONPATH": str(timeout)}
            cmd = "pytest --timeout 2 --timeout-method thread tests/test_slow.py"
            out = _run([pytest, "-p", "no:cacheprovider", "-p", "no:xdist", "--timeout", "2",
                        "--timeout-method", "thread", "tests/test_slow.py"], proj, env)
            store("pytest_timeout_thread", f"$ {cmd}\n{out}##[error]Process completed with exit code 1.\n",
                  "pytest-timeout", _version([sys.executable, "-c", "import pytest_timeout, importlib.metadata as m;"
                                              " print('pytest-timeout', m.version('pytest-timeout'))"], env),
                  cmd, "GitHub: ##[error]Process completed")

    # lines only a CI system prints, in its exact wording
    store_ci = {
        "circleci_no_output": ("====>> Run tests\n#!/bin/bash -eo pipefail\npython -m pytest -n 8 tests/\n"
                               "============================= test session starts ==============================\n"
                               "created: 8/8 workers\n8 workers [1204 items]\n\n"
                               "........................................................................ [  5%]\n"
                               "Too long with no output (exceeded 10m0s): context deadline exceeded\n"),
        "github_exit_137": ("Run python -m pytest -n 4 tests/\n"
                            "============================= test session starts ==============================\n"
                            "gw0 [318] / gw1 [318] / gw2 [318] / gw3 [318]\n"
                            "........................................................................ [ 22%]\n"
                            "##[error]Process completed with exit code 137.\n"),
    }
    for name, text in store_ci.items():
        (OUT / f"{name}.log").write_text(text, encoding="utf-8")
        manifest[name] = {"tool": "ci", "version": "", "command": "", "ci_wording": "CircleCI / GitHub Actions"}
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {len(manifest)} fixture logs to {OUT.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
