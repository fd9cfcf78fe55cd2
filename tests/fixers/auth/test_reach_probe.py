"""Reachability measured by FastAPI itself: after ``stabfix apply auth tests`` on the sample
repository, a pytest plugin records, per test, whether FastAPI looked the auth dependency up in an
app's ``dependency_overrides`` while an override was set (it does so only when a request resolves a
route that depends on it). Every test auth wrapped must have been consulted: the precision on the
sample's extended proxy tests is 100%, measured, not inferred from the fixer's own analysis."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.conftest import run_stabfix

PLUGIN = textwrap.dedent('''
    """Records which tests made FastAPI consult an override of user_api_key_auth."""
    import json
    import os

    import fastapi

    CURRENT = {"test": None}
    CONSULTED = set()


    class RecordingOverrides(dict):
        def get(self, key, default=None):
            if CURRENT["test"] and getattr(key, "__name__", "") == "user_api_key_auth" and key in self:
                CONSULTED.add(CURRENT["test"])
            return super().get(key, default)


    _init = fastapi.FastAPI.__init__


    def _recording_init(self, *args, **kwargs):
        _init(self, *args, **kwargs)
        self.dependency_overrides = RecordingOverrides()


    fastapi.FastAPI.__init__ = _recording_init


    def pytest_runtest_setup(item):
        CURRENT["test"] = item.nodeid


    def pytest_runtest_teardown(item):
        CURRENT["test"] = None


    def pytest_sessionfinish(session):
        with open(os.environ["REACH_PROBE_OUT"], "w") as fh:
            json.dump(sorted(CONSULTED), fh)
''')


def test_every_wrapped_test_makes_fastapi_consult_the_override(sample_repo: Path, tmp_path: Path) -> None:
    proc = run_stabfix("apply", "auth", "tests", "--json", cwd=sample_repo)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    wrapped = {e["nodeid"] for f in report["files"] for e in f["edits"] if e.get("kind") == "auth-override"}
    assert len(wrapped) == 8, wrapped

    (tmp_path / "reach_probe.py").write_text(PLUGIN)
    out = tmp_path / "consulted.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "STABFIX_"))}
    env.pop("LITELLM_MASTER_KEY", None)
    env.update(PYTHONPATH=str(tmp_path), REACH_PROBE_OUT=str(out))
    run = subprocess.run([sys.executable, "-m", "pytest", "tests/proxy_unit_tests", "-q", "-p", "no:cacheprovider",
                          "-p", "reach_probe"], cwd=sample_repo, env=env, capture_output=True, text=True, check=False)
    assert "2 failed" in run.stdout, run.stdout  # the patched tests, left to auth-unpatch
    # stabfix names a parametrized test once; pytest once per case (all cases must consult it)
    ids = json.loads(out.read_text())
    consulted = {n.split("[", 1)[0] for n in ids}
    assert "tests/proxy_unit_tests/test_proxy_routes.py::test_generate_key[alice]" in ids
    assert "tests/proxy_unit_tests/test_proxy_routes.py::test_generate_key[bob]" in ids
    # tests that consulted an override they did not get from stabfix set it themselves (helper, body)
    assert wrapped <= consulted, sorted(wrapped - consulted)
    precision = len(wrapped & consulted) / len(wrapped)
    assert precision == 1.0
