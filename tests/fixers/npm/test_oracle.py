"""npm-overrides and dockerfile-pins against the real npm and registry (oracle: needs npm and the npm registry).

The audit reports are the stored hand-written ones (npm's audit endpoint is not reachable from these
machines); everything else is real: `npm view` gives the published versions, `--lock` runs `npm
install --package-lock-only`, then npm itself installs the edited project and `npm ls` must show the
patched versions.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, run_stabfix

pytestmark = [pytest.mark.oracle, pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed")]

CASES = REPO_ROOT / "tests/fixtures/npm-overrides"


def npm(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["npm", *args], cwd=cwd, capture_output=True, text=True, timeout=600, check=False)


def ls(cwd: Path, *names: str, lock_only: bool) -> dict:
    proc = npm("ls", *names, "--json", *(["--package-lock-only"] if lock_only else []), cwd=cwd)
    assert proc.returncode == 0, proc.stdout + proc.stderr  # npm ls exits 1 on an invalid or missing package
    return json.loads(proc.stdout)


def test_sample_dashboard_lock_resolves_the_patched_versions(sample_repo: Path) -> None:
    dash = sample_repo / "ui/litellm-dashboard"
    before = ls(dash, "minimist", "json5", lock_only=True)["dependencies"]
    assert before["mkdirp"]["dependencies"]["minimist"]["version"] == "0.0.8"
    assert before["json5"]["version"] == "2.2.1"
    # no --versions: the published versions come from the real `npm view`
    proc = run_stabfix("apply", "npm-overrides", "ui/litellm-dashboard", "--from", "ci-logs/npm-audit.json",
                       "--allow-major", "--lock", cwd=sample_repo)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "fixed ui/litellm-dashboard/package-lock.json" in proc.stdout
    after = ls(dash, "minimist", "json5", lock_only=True)["dependencies"]
    minimist = after["mkdirp"]["dependencies"]["minimist"]
    assert minimist["version"] == "0.2.4" and minimist.get("overridden") is True
    assert after["json5"]["version"] == "2.2.2"
    lock = json.loads((dash / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/minimist"]["version"] == "0.2.4"
    assert lock["packages"][""]["dependencies"]["json5"] == "2.2.2"
    # a second run changes nothing (lock included)
    again = run_stabfix("apply", "npm-overrides", "ui/litellm-dashboard", "--from", "ci-logs/npm-audit.json",
                        "--allow-major", "--lock", "--check", cwd=sample_repo)
    assert again.returncode == 0, again.stdout + again.stderr


@pytest.mark.parametrize(("case", "project", "old", "new"), [
    ("transitive_override", "app", "0.0.8", "0.2.4"),  # mkdirp 0.5.1 pins minimist 0.0.8
    ("transitive_minimist_125", ".", "1.2.5", "1.2.6"),  # mkdirp 0.5.5 with minimist 1.2.5 locked
])
def test_npm_installs_the_overridden_project(tmp_path: Path, case: str, project: str, old: str, new: str) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(CASES / case / "before", repo)
    app = repo / project
    assert ls(app, "minimist", lock_only=True)["dependencies"]["mkdirp"]["dependencies"]["minimist"]["version"] == old
    # the published versions from the real `npm view`, the lock from the real `npm install --package-lock-only`
    proc = run_stabfix("apply", "npm-overrides", project, "--from", "audit.json", "--lock", "--root", str(repo),
                       cwd=repo)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads((app / "package.json").read_text())["overrides"] == {"minimist": new}
    install = npm("ci", "--ignore-scripts", "--no-audit", "--no-fund", cwd=app)  # npm accepts package.json + lock
    assert install.returncode == 0, install.stderr
    tree = ls(app, "minimist", lock_only=False)
    minimist = tree["dependencies"]["mkdirp"]["dependencies"]["minimist"]
    assert minimist["version"] == new and minimist.get("overridden") is True
    assert json.loads((app / "node_modules/minimist/package.json").read_text())["version"] == new


def test_dockerfile_pin_is_a_published_version(sample_repo: Path) -> None:
    proc = run_stabfix("apply", "dockerfile-pins", "--from", "ci-logs/npm-audit.json", cwd=sample_repo)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    text = (sample_repo / "docker/Dockerfile.dashboard").read_text()
    assert "ARG JSON5_VERSION=2.2.2" in text and "minimist@1.2.6" in text
    for spec in ("json5@2.2.2", "minimist@1.2.6"):  # the registry has them
        view = npm("view", spec, "version", cwd=sample_repo)
        assert view.stdout.strip() == spec.split("@")[1], view.stderr
