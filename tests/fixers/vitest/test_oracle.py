"""The vitest fixer against real Vitest 4.1.12 (vite 8.3.8, jsdom 26.1.0, @testing-library/user-event
14.6.13, @testing-library/dom 10.4.2, installed with npm into .cache/vitest-oracle).

The sample repository's dashboard test types a 4,500-character description into a form with
``userEvent.setup()``: it times out at Vitest's default 5000 ms. After ``stabfix apply vitest`` it
passes: with ``delay: null`` alone, with the timeout raised from the JSON report the failing run
wrote (plus ``delay: null``), and with the timeout raised alone from its JUnit report. The measured
durations are printed (``pytest -s``). A second test shows why ``--form object`` puts the options
second: Vitest 4 rejects them as the third argument, and runs both forms the fixer writes.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest

from codemods.commands.demo import copy_sample
from tests.conftest import run_stabfix
from tests.fixers.vitest.vitest_testlib import results, run_vitest

pytestmark = [pytest.mark.oracle, pytest.mark.slow]

DASHBOARD = "ui/litellm-dashboard"
TEST_FILE = f"{DASHBOARD}/src/components/KeyForm.test.ts"
SLOW = "KeyForm > submits the alias and a long description"


def _check_nothing_left(repo: Path, *args: str) -> None:
    again = run_stabfix("apply", "vitest", *args, "--check", "--root", repo, cwd=repo)
    assert again.returncode == 0, again.stdout + again.stderr


def test_long_typing_times_out_before_and_passes_after(tmp_path: Path) -> None:
    before_repo = copy_sample(tmp_path / "before")
    code, report, output = run_vitest(before_repo / DASHBOARD, tmp_path / "before-report")
    case = results(report)[SLOW]
    assert code == 1, output
    assert case["status"] == "failed" and case["duration"] >= 5000, case
    assert "Test timed out in 5000ms" in output
    junit = (tmp_path / "before-report.xml").read_text(encoding="utf-8")
    assert "Test timed out in 5000ms" in junit
    assert results(report)["KeyForm > asks for an alias"]["status"] == "passed"
    measured = {"before": f"timed out at 5000 ms (ran {case['duration']:.0f} ms)"}

    # 1. delay: null alone (the whole dashboard folder)
    repo = copy_sample(tmp_path / "delay")
    proc = run_stabfix("apply", "vitest", DASHBOARD, "--root", repo, cwd=repo)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    text = (repo / TEST_FILE).read_text(encoding="utf-8")
    assert text.count("userEvent.setup({ delay: null })") == 2 and "15000" not in text
    code, report, output = run_vitest(repo / DASHBOARD, tmp_path / "delay-report", junit=False)
    assert code == 0, output
    measured["delay: null"] = f"passed in {results(report)[SLOW]['duration']:.0f} ms"
    _check_nothing_left(repo, DASHBOARD)

    # 2. from the JSON report the failing run wrote: its test gets a timeout, its file delay: null
    repo = copy_sample(tmp_path / "report")
    proc = run_stabfix("apply", "vitest", "--from-report", tmp_path / "before-report.json", "--root", repo, cwd=repo)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    text = (repo / TEST_FILE).read_text(encoding="utf-8")
    assert "  }, 15000);\n" in text and "userEvent.setup({ delay: null })" in text
    code, report, output = run_vitest(repo / DASHBOARD, tmp_path / "report-report", junit=False)
    assert code == 0, output
    measured["--from-report JSON (timeout 15000 + delay: null)"] = f"passed in {results(report)[SLOW]['duration']:.0f} ms"
    _check_nothing_left(repo, "--from-report", str(tmp_path / "before-report.json"))

    # 3. the timeout alone, from the JUnit report: the test still types slowly, but has the time
    repo = copy_sample(tmp_path / "timeout")
    proc = run_stabfix("apply", "vitest", "--no-setup-delay", "--timeout", "30000", "--from-report",
                       tmp_path / "before-report.xml", "--root", repo, cwd=repo)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    text = (repo / TEST_FILE).read_text(encoding="utf-8")
    assert "  }, 30000);\n" in text and "delay: null" not in text
    code, report, output = run_vitest(repo / DASHBOARD, tmp_path / "timeout-report", junit=False)
    assert code == 0, output
    slow = results(report)[SLOW]["duration"]
    assert slow > 5000, slow  # the same slow typing, which the raised timeout now allows
    measured["--from-report JUnit, --no-setup-delay --timeout 30000"] = f"passed in {slow:.0f} ms"

    print("\nvitest 4.1.12 / user-event 14.6.13 / jsdom 26.1.0:")
    for what, value in measured.items():
        print(f"  {what}: {value}")


SLOW_TESTS = '''import { describe, it } from "vitest";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("KeyList", () => {
  it("loads", async () => {
    await sleep(300);
  });

  it(
    "pages",
    async () => {
      await sleep(300);
    },
  );
});
'''


@pytest.mark.parametrize("form", ["number", "object"])
def test_both_forms_run_in_vitest_4(tmp_path: Path, form: str) -> None:
    project = tmp_path / "web"
    (project / "src").mkdir(parents=True)
    (project / "package.json").write_text('{"name": "web", "private": true, "type": "module"}\n', encoding="utf-8")
    (project / "vitest.config.ts").write_text(
        'import { defineConfig } from "vitest/config";\n\nexport default defineConfig({ test: { testTimeout: 100 } });\n',
        encoding="utf-8")
    (project / "src" / "KeyList.test.ts").write_text(SLOW_TESTS, encoding="utf-8")
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    code, report, output = run_vitest(project, tmp_path / "before")
    assert code == 1 and output.count("Test timed out in 100ms") == 2, output

    proc = run_stabfix("apply", "vitest", "--form", form, "--timeout", "2000", "--from-report",
                       tmp_path / "before.xml", "--root", tmp_path, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    text = (project / "src" / "KeyList.test.ts").read_text(encoding="utf-8")
    assert text.count("{ timeout: 2000 }" if form == "object" else "2000") == 2, text
    code, report, output = run_vitest(project, tmp_path / "after", junit=False)
    assert code == 0, output
    assert all(c["status"] == "passed" for c in results(report).values())


def test_vitest_4_rejects_options_as_the_third_argument(tmp_path: Path) -> None:
    """Why stabfix never adds ``{ timeout }`` as the third argument (the seed's habit from Vitest 1-2)."""
    project = tmp_path / "web"
    (project / "src").mkdir(parents=True)
    (project / "package.json").write_text('{"name": "web", "private": true, "type": "module"}\n', encoding="utf-8")
    (project / "src" / "old.test.ts").write_text(
        'import { it } from "vitest";\n\nit("old form", async () => {}, { timeout: 15000 });\n', encoding="utf-8")
    start = time.monotonic()
    code, _, output = run_vitest(project, tmp_path / "r", junit=False)
    assert code == 1, output
    assert 'Signature "test(name, fn, { ... })" was deprecated in Vitest 3 and removed in Vitest 4' in output
    assert time.monotonic() - start < 120
    shutil.rmtree(project / "src")
