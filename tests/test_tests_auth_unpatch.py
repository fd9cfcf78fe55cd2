"""auth-unpatch fixer: before/after fixture pairs (tests/fixtures/auth_unpatch/)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.testscases_lib import cases, run_case

CASES = cases("auth_unpatch")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fixture_case(case: Path, tmp_path: Path) -> None:
    run_case("auth-unpatch", case, tmp_path)
