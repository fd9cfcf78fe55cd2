"""End to end with the real tools: the invocation `workers` and `dist` write is run by pytest-xdist.

On a copy of the sample repository whose heavy router tests carry an ``xdist_group`` mark, the
fixers lower ``-n 8`` to 2 (adding ``--max-worker-restart=2``) and add ``--dist loadgroup``; the pytest command read back from the
edited CircleCI config is then executed as CI would run it. xdist must start 2 workers and run
every grouped test on the same one (pytest 9.1.1 + pytest-xdist 3.8.0, pinned in requirements-test.txt).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import codemods
from codemods.ci.scan import scan_file

SAMPLE = Path(codemods.__file__).parent / "commands" / "sample_repo"


def test_lowered_grouped_invocation_runs_under_xdist(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(SAMPLE, repo)
    heavy = repo / "tests/local_testing/test_router_heavy.py"
    heavy.write_text(heavy.read_text().replace(
        "import pytest\n", 'import pytest\n\npytestmark = pytest.mark.xdist_group("router")\n', 1))

    assert codemods.apply("workers", root=repo, mode="write", to=2, add_max_worker_restart=2).applied
    dist = codemods.apply("dist", root=repo, mode="write")
    assert dist.applied
    (edit,) = dist.plan.files[0].edits  # only the job whose tests carry the mark
    assert edit.data["job"] == "local_testing"

    config = (repo / ".circleci/config.yml").read_text()
    sites = {s.jobs: s.invocation for s in scan_file(".circleci/config.yml", config).sites}
    local = sites[("local_testing",)]
    proxy = sites[("proxy_unit_testing",)]
    assert local.numprocesses is not None and local.numprocesses.value == "2"
    assert local.dist is not None and local.dist.value == "loadgroup"
    assert local.max_worker_restart is not None and local.max_worker_restart.value == "2"
    assert proxy.dist is None and proxy.numprocesses is not None and proxy.numprocesses.value == "2"

    argv = [w.value for w in local.words]
    assert argv[:3] == ["python", "-m", "pytest"]
    log = tmp_path / "workers.log"
    env = {**os.environ, "STABFIX_WORKER_LOG": str(log), "PYTHONDONTWRITEBYTECODE": "1"}
    run = subprocess.run([sys.executable, *argv[1:], "-p", "no:cacheprovider"], cwd=repo, env=env,
                         capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert re.search(r"created: 2/2 workers", run.stdout), run.stdout[-2000:]
    ran = [line.split() for line in log.read_text().splitlines()]
    router = {worker for name, worker in ran if name.startswith("test_router_")}
    assert len([1 for name, _ in ran if name.startswith("test_router_")]) == 5
    assert len(router) == 1 and router <= {"gw0", "gw1"}
