"""codemods.testsuite.junit: JUnit reports -> failures with pytest node ids, filtered by message."""

from __future__ import annotations

from pathlib import Path

import pytest

from codemods.errors import StabfixError
from codemods.testsuite.junit import failures, nodeid_from_junit

REPORT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" errors="1" failures="2" skipped="1" tests="5">
<testcase classname="tests.proxy.test_routes" name="test_a[alice-1]"><failure message="assert 401 == 200">E</failure></testcase>
<testcase classname="tests.proxy.test_routes.TestKeys" name="test_b"><failure message="boom">Unauthorized</failure></testcase>
<testcase classname="tests.proxy.test_routes" name="test_c"><error message="fixture setup failed: ReadTimeout"/></testcase>
<testcase classname="tests.proxy.test_routes" name="test_d"><skipped message="skip"/></testcase>
<testcase classname="tests.proxy.test_routes" name="test_e"/>
</testsuite></testsuites>
"""


def test_failures_and_node_ids(tmp_path: Path) -> None:
    report = tmp_path / "junit.xml"
    report.write_text(REPORT)
    found = failures([report])
    assert [(f.nodeid, f.kind) for f in found] == [
        ("tests/proxy/test_routes.py::test_a[alice-1]", "failure"),
        ("tests/proxy/test_routes.py::TestKeys::test_b", "failure"),
        ("tests/proxy/test_routes.py::test_c", "error"),
    ]
    assert found[0].node.function == "test_a" and found[0].node.param == "alice-1"
    assert found[1].file == "tests/proxy/test_routes.py"
    # --match searches the message and the text, case-insensitively
    assert [f.name for f in failures([report], match=[r"\b401\b", "unauthorized"])] == ["test_a[alice-1]", "test_b"]
    assert [f.name for f in failures([report], match=["timeout"])] == ["test_c"]


def test_single_testsuite_root(tmp_path: Path) -> None:
    report = tmp_path / "junit.xml"
    report.write_text(REPORT.replace("<testsuites>", "").replace("</testsuites>", ""))
    assert len(failures([report])) == 3


def test_module_split_uses_files_under_root(tmp_path: Path) -> None:
    # a lower-case class name would fool the heuristic; the file on disk decides
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_x.py").write_text("")
    assert nodeid_from_junit("tests.test_x.lowerclass", "test_y", tmp_path) == "tests/test_x.py::lowerclass::test_y"
    assert nodeid_from_junit("tests.test_x.TestA", "test_y") == "tests/test_x.py::TestA::test_y"
    assert nodeid_from_junit("tests.test_x.TestA", "test_y", file="tests/test_x.py") == "tests/test_x.py::TestA::test_y"


def test_bad_reports(tmp_path: Path) -> None:
    with pytest.raises(StabfixError, match="no such JUnit report"):
        failures([tmp_path / "missing.xml"])
    bad = tmp_path / "bad.xml"
    bad.write_text("not xml")
    with pytest.raises(StabfixError, match="not a JUnit XML report"):
        failures([bad])
