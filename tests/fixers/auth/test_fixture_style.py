"""``--style fixture`` on a module's own app (built in the module or by a factory) with module-,
class- and session-scoped client fixtures, under pytest: the 401s are gone, the refusal test still gets its 401, and pytest reports no ScopeMismatch."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT, run_stabfix

CASE = REPO_ROOT / "tests" / "fixtures" / "auth" / "fixture_style_local_app"
MODULE = "tests/proxy_unit_tests/test_team_local_app.py"
FACTORY = "tests/proxy_unit_tests/test_org_factory_app.py"


def _pytest(repo: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "STABFIX_"))}
    env.pop("LITELLM_MASTER_KEY", None)
    return subprocess.run([sys.executable, "-m", "pytest", MODULE, FACTORY, "-q", "-p", "no:cacheprovider", "-rA"],
                          cwd=repo, env=env, capture_output=True, text=True, check=False)


def test_local_app_fixture_style_under_pytest(sample_repo: Path) -> None:
    # the fixture case's modules, in the sample repository (its litellm package is real FastAPI code)
    (sample_repo / MODULE).write_bytes((CASE / "before" / "tests" / "test_case.py").read_bytes())
    (sample_repo / FACTORY).write_bytes((CASE / "before" / "tests" / "test_factory.py").read_bytes())
    before = _pytest(sample_repo)
    assert "3 failed, 1 passed" in before.stdout and "401" in before.stdout, before.stdout

    proc = run_stabfix("apply", "auth", MODULE, FACTORY, "--style", "fixture", cwd=sample_repo)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert (sample_repo / MODULE).read_bytes() == (CASE / "after" / "tests" / "test_case.py").read_bytes()
    assert (sample_repo / FACTORY).read_bytes() == (CASE / "after" / "tests" / "test_factory.py").read_bytes()

    after = _pytest(sample_repo)
    assert "4 passed" in after.stdout, after.stdout
    assert "ScopeMismatch" not in after.stdout + after.stderr
    assert f"PASSED {MODULE}::test_team_info_without_key_is_refused" in after.stdout
