"""Real Vitest for the oracle tests: one npm install into .cache/vitest-oracle (git-ignored, reused
between runs), and a runner that returns Vitest's JSON report of a run."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
CACHE = REPO_ROOT / ".cache" / "vitest-oracle"
#: exact versions (vitest 5 needs Node 22; vite 8.3.8 is the one vitest 4.1.12 installs cleanly with on
#: Node 20); the same as the sample repository's ui/litellm-dashboard lock
PACKAGES = {
    "vite": "8.3.8",
    "vitest": "4.1.12",
    "jsdom": "26.1.0",
    "@testing-library/user-event": "14.6.13",
    "@testing-library/dom": "10.4.2",
}


@contextlib.contextmanager
def _lock(cache: Path) -> Iterator[None]:
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / "install.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _installed(cache: Path, packages: dict[str, str]) -> bool:
    for name, version in packages.items():
        meta = cache / "node_modules" / name / "package.json"
        try:
            if json.loads(meta.read_text(encoding="utf-8")).get("version") != version:
                return False
        except (OSError, ValueError):
            return False
    return True


def install(cache: Path, packages: dict[str, str], *, scripts: bool = True) -> Path:
    """``cache``/node_modules holding exactly ``packages`` (npm install on first use)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("Node.js 20+ with npm is needed")
    with _lock(cache):
        if not _installed(cache, packages):
            manifest = {"name": f"stabfix-{cache.name}", "private": True, "type": "module",
                        "devDependencies": packages}
            (cache / "package.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
            flags = [] if scripts else ["--ignore-scripts"]
            proc = subprocess.run(["npm", "install", "--no-audit", "--no-fund", *flags, "--loglevel=error"], cwd=cache, capture_output=True, text=True, timeout=900, check=False)
            if proc.returncode != 0 or not _installed(cache, packages):
                pytest.fail(f"npm install of {packages} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return cache / "node_modules"


def node_modules() -> Path:
    """The cached node_modules holding PACKAGES: Vitest and the testing libraries."""
    return install(CACHE, PACKAGES)


def link_node_modules(project: Path) -> None:
    """Give a Vitest project (a folder with package.json) the cached node_modules."""
    target = project / "node_modules"
    if not target.exists():
        target.symlink_to(node_modules(), target_is_directory=True)


def run_vitest(project: Path, out: Path, *, junit: bool = True) -> tuple[int, dict[str, Any], str]:
    """Run ``vitest run`` in ``project`` with the JSON (and JUnit) reporter writing ``out``.json / .xml.

    Returns the exit code, the JSON report and the console output."""
    link_node_modules(project)
    args = [str(project / "node_modules" / ".bin" / "vitest"), "run", "--reporter=default",
            "--reporter=json", f"--outputFile.json={out.with_suffix('.json')}"]
    if junit:
        args += ["--reporter=junit", f"--outputFile.junit={out.with_suffix('.xml')}"]
    env = {**os.environ, "NO_COLOR": "1", "CI": "true"}
    proc = subprocess.run(args, cwd=project, capture_output=True, text=True, timeout=600, env=env, check=False)
    report_file = out.with_suffix(".json")
    assert report_file.is_file(), proc.stdout + proc.stderr
    return proc.returncode, json.loads(report_file.read_text(encoding="utf-8")), proc.stdout + proc.stderr


def results(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The assertion results of a JSON report by full name ``suite > test``."""
    out = {}
    for suite in report["testResults"]:
        for case in suite["assertionResults"]:
            out[" > ".join([*case["ancestorTitles"], case["title"]])] = case
    return out
