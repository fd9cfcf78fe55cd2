"""End to end on the sample repository: pytest fails with 401s, stabfix fixes the tests, pytest passes.

Each test copies the embedded sample repository, runs its proxy tests with the real FastAPI app
(``--junitxml``), runs the ``stabfix`` command, runs pytest again and checks: the selected tests now
pass, every other test has the same outcome as before, and no file other than the expected ones
changed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import run_stabfix

PROXY = "tests/proxy_unit_tests"
ROUTES = f"{PROXY}/test_proxy_routes.py"
KEYS = f"{PROXY}/test_key_management.py"
ROUTE_401 = {
    f"{ROUTES}::test_model_list", f"{ROUTES}::test_generate_key[alice]", f"{ROUTES}::test_generate_key[bob]",
    f"{ROUTES}::TestKeyList::test_list_keys",
}
KEY_401 = {f"{KEYS}::test_generate_key_as_admin", f"{KEYS}::test_spend_logs_as_admin"}
# LiteLLM's other shapes: a module-scoped client, refusal tests, a helper that overrides (shapes),
# a local app with a guarded router (team), endpoint functions called directly (functions)
SHAPES = f"{PROXY}/test_proxy_auth_shapes.py"
TEAM = f"{PROXY}/test_team_router.py"
FUNCTIONS = f"{PROXY}/test_endpoint_functions.py"
SHAPES_401 = {
    f"{SHAPES}::test_model_list_over_module_client", f"{SHAPES}::test_spend_logs_over_module_client",
    f"{SHAPES}::TestKeyGenerate::test_generate_key_records_user",
    f"{TEAM}::test_team_list", f"{TEAM}::test_team_whoami",
}
# pass before and after, never touched: refusals, the helper's own override, direct calls
UNTOUCHED_PASSING = {
    f"{SHAPES}::test_anonymous_request_is_refused", f"{SHAPES}::test_invalid_authorization_header",
    f"{SHAPES}::test_key_list_as_internal_user", f"{TEAM}::test_team_list_without_key_is_refused",
    f"{FUNCTIONS}::test_model_list_called_directly", f"{FUNCTIONS}::test_generate_key_called_directly",
}
AUTH_401 = ROUTE_401 | SHAPES_401


def run_pytest(repo: Path, junit: Path) -> dict[str, str]:
    """Run the sample's proxy tests; ``{node id: passed|failed}`` read back from the JUnit report."""
    from junitparser import Error, Failure, JUnitXml, TestCase

    from codemods.testsuite.junit import nodeid_from_junit

    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "STABFIX_"))}
    env.pop("LITELLM_MASTER_KEY", None)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", PROXY, "-q", "-p", "no:cacheprovider", f"--junitxml={junit}"],
        cwd=repo, env=env, capture_output=True, text=True, check=False,
    )
    assert "ScopeMismatch" not in proc.stdout + proc.stderr, proc.stdout
    outcomes = {}
    for suite in JUnitXml.fromfile(str(junit)):
        for case in suite:
            assert isinstance(case, TestCase)
            nodeid = nodeid_from_junit(case.classname, case.name, repo)
            failed = any(isinstance(r, (Failure, Error)) for r in case.result)
            outcomes[nodeid] = "failed" if failed else "passed"
    return outcomes


def snapshot(repo: Path) -> dict[str, bytes]:
    return {p.relative_to(repo).as_posix(): p.read_bytes() for p in sorted(repo.rglob("*"))
            if p.is_file() and ".git" not in p.parts and "__pycache__" not in p.parts}


def changed_files(before: dict[str, bytes], after: dict[str, bytes]) -> set[str]:
    return {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}


def failing_with_401(repo: Path, tmp_path: Path) -> tuple[dict[str, str], Path]:
    junit = tmp_path / "junit-before.xml"
    before = run_pytest(repo, junit)
    assert {n for n, o in before.items() if o == "failed"} == AUTH_401 | KEY_401
    assert {n for n, o in before.items() if o == "passed"} >= UNTOUCHED_PASSING
    assert "401" in junit.read_text()
    return before, junit


def ruff_isort_clean(repo: Path, files: set[str]) -> None:
    """The changed modules pass ``ruff check --select I,E501`` (the sample's litellm is first party)."""
    py = sorted(f for f in files if f.endswith(".py"))
    lint = subprocess.run([sys.executable, "-m", "ruff", "check", "--isolated", "--select", "I,E501",
                           "--line-length", "88", *py], cwd=repo, capture_output=True, text=True, check=False)
    assert lint.returncode == 0, lint.stdout + lint.stderr


@pytest.mark.parametrize("style", [[], ["--style", "fixture"], ["--style", "fixture", "--conftest"]],
                         ids=["wrap", "fixture", "fixture-conftest"])
def test_auth_from_junit_makes_the_401_tests_pass(sample_repo: Path, tmp_path: Path, style: list[str]) -> None:
    before, junit = failing_with_401(sample_repo, tmp_path)
    files_before = snapshot(sample_repo)

    proc = run_stabfix("apply", "auth", PROXY, "--from-junit", junit, *style, cwd=sample_repo)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    # the patched tests are left to auth-unpatch, with the reason
    assert "run `stabfix apply auth-unpatch`" in proc.stdout + proc.stderr

    expected_changes = {ROUTES, SHAPES, TEAM} | ({f"{PROXY}/conftest.py"} if "--conftest" in style else set())
    assert changed_files(files_before, snapshot(sample_repo)) == expected_changes
    ruff_isort_clean(sample_repo, expected_changes)

    after = run_pytest(sample_repo, tmp_path / "junit-after.xml")
    assert after.keys() == before.keys()
    for nodeid, outcome in after.items():
        if nodeid in AUTH_401:
            assert outcome == "passed", nodeid
        else:
            assert outcome == before[nodeid], nodeid  # no other test changed

    # a second run finds every selected test covered: nothing to do
    again = run_stabfix("apply", "auth", PROXY, "--from-junit", junit, *style, "--check", cwd=sample_repo)
    assert again.returncode == 0, again.stdout


@pytest.mark.parametrize("style", [[], ["--style", "fixture"]], ids=["wrap", "fixture"])
def test_auth_by_reachability_then_unpatch_makes_all_pass(sample_repo: Path, tmp_path: Path, style: list[str]) -> None:
    """No selection: auth picks the tests whose requests reach the auth dependency; refusal tests,
    the helper-covered test and the direct calls stay as they are (their files byte-identical when
    nothing in them reaches the app); auth-unpatch then takes the patched tests: all green."""
    before, _ = failing_with_401(sample_repo, tmp_path)
    files_before = snapshot(sample_repo)

    proc = run_stabfix("apply", "auth", "tests", *style, cwd=sample_repo)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    out = proc.stdout + proc.stderr
    assert "test_anonymous_request_is_refused: expects a refusal" in out
    assert "test_team_list_without_key_is_refused: expects a refusal" in out
    assert "test_key_list_as_internal_user: a helper it calls already overrides" in out
    assert "test_model_list_called_directly: no request reaches the auth dependency" in out
    # the sample's proxy_server.py is read: /health/liveliness has no auth dependency
    assert "test_health_liveliness_is_public: no request reaches the auth dependency: its requests go only " \
        "to routes of the app that do not depend on `user_api_key_auth`" in out
    changed = changed_files(files_before, snapshot(sample_repo))
    assert changed == {ROUTES, SHAPES, TEAM}  # functions and key management: byte-identical
    ruff_isort_clean(sample_repo, changed)
    assert "ScopeMismatch" not in out

    after = run_pytest(sample_repo, tmp_path / "junit-after.xml")
    assert {n for n, o in after.items() if o == "failed"} == KEY_401  # left to auth-unpatch
    assert run_stabfix("apply", "auth", "tests", *style, "--check", cwd=sample_repo).returncode == 0

    proc = run_stabfix("apply", "auth-unpatch", "tests", cwd=sample_repo)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    final = run_pytest(sample_repo, tmp_path / "junit-final.xml")
    assert final.keys() == before.keys() and set(final.values()) == {"passed"}, final


def test_auth_unpatch_makes_the_patched_tests_pass(sample_repo: Path, tmp_path: Path) -> None:
    before, _ = failing_with_401(sample_repo, tmp_path)
    files_before = snapshot(sample_repo)

    proc = run_stabfix("apply", "auth-unpatch", PROXY, cwd=sample_repo)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert changed_files(files_before, snapshot(sample_repo)) == {KEYS}
    text = (sample_repo / KEYS).read_text()
    assert "import patch" not in text and "@patch" not in text and "with patch" not in text
    assert "app.dependency_overrides[user_api_key_auth] = lambda: _admin()" in text

    after = run_pytest(sample_repo, tmp_path / "junit-after.xml")
    for nodeid, outcome in after.items():
        if nodeid in KEY_401:
            assert outcome == "passed", nodeid
        else:
            assert outcome == before[nodeid], nodeid
    assert run_stabfix("apply", "auth-unpatch", PROXY, "--check", cwd=sample_repo).returncode == 0


def pytest_retry_plugin() -> Path:
    """pytest-retry 1.7.0 (the sample's pin) installed into a cache folder, not into the venv: only
    the sample's pytest run loads it (through PYTHONPATH), the rest of the suite never sees it."""
    import tempfile

    cache = Path(__file__).resolve().parents[3] / ".cache" / "plugins"
    target = cache / "pytest-retry-1.7.0"
    if not target.is_dir():
        cache.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=cache))
        proc = subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--disable-pip-version-check",
             "--target", str(tmp), "pytest-retry==1.7.0"], capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            pytest.fail(f"pip install pytest-retry==1.7.0 failed: {proc.stderr[-500:]}")
        try:
            tmp.rename(target)
        except OSError:  # another worker got there first
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)
    return target


@pytest.mark.oracle  # installs pytest-retry from PyPI
def test_flaky_from_junit_makes_pytest_retry_retry(sample_repo: Path, tmp_path: Path) -> None:
    """A test failing once with a connection error: flaky --from-junit marks it, pytest-retry retries it."""
    plugin = pytest_retry_plugin()
    module = "tests/local_testing/test_provider_calls.py"
    attempts = tmp_path / "attempts"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "STABFIX_"))}
    env.update(STABFIX_ATTEMPTS_FILE=str(attempts), PYTHONPATH=str(plugin))
    junit = tmp_path / "junit.xml"
    run = [sys.executable, "-m", "pytest", module, "-q", "-p", "no:cacheprovider", f"--junitxml={junit}"]
    before = subprocess.run(run, cwd=sample_repo, env=env, capture_output=True, text=True, check=False)
    assert before.returncode == 1 and "APIConnectionError" in junit.read_text(), before.stdout
    files_before = snapshot(sample_repo)

    proc = run_stabfix("apply", "flaky", "tests/local_testing", "--from-junit", junit, "--delay", "0",
                       cwd=sample_repo)
    assert proc.returncode == 0, proc.stderr
    assert changed_files(files_before, snapshot(sample_repo)) == {module}
    text = (sample_repo / module).read_text()
    # the sample pins pytest-retry in requirements.txt: its keywords are used
    assert "@pytest.mark.flaky(retries=3, delay=0)\ndef test_completion_retries_on_connection_error" in text

    attempts.unlink()
    after = subprocess.run(run, cwd=sample_repo, env=env, capture_output=True, text=True, check=False)
    assert after.returncode == 0, after.stdout
    assert attempts.read_text() == "2"  # failed once, passed on the retry
    assert run_stabfix("apply", "flaky", "tests/local_testing", "--from-junit", junit, "--delay", "0",
                       "--check", cwd=sample_repo).returncode == 0
