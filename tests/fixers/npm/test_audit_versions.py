"""Reading npm audit reports (v2 only, validated) and computing the first patched version."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codemods.commands.demo import sample_path
from codemods.errors import StabfixError
from codemods.fixers.npm.audit import parse_report, valid_name
from codemods.fixers.npm.versions import first_patched, raise_range

SAMPLE_AUDIT = sample_path() / "ci-logs" / "npm-audit.json"
VERSIONS = json.loads((sample_path() / "ci-logs" / "npm-versions.json").read_text())


def test_the_sample_report_reads() -> None:
    vulns = {v.name: v for v in parse_report(SAMPLE_AUDIT.read_bytes(), "npm-audit.json")}
    assert sorted(vulns) == ["json5", "minimist", "mkdirp"]
    assert vulns["mkdirp"].advisories == [] and vulns["mkdirp"].via == ["minimist"]
    assert [a.range for a in vulns["minimist"].advisories] == ["<0.2.1", ">=1.0.0 <1.2.3", "<0.2.4", ">=1.0.0 <1.2.6"]
    assert vulns["json5"].is_direct and vulns["json5"].at_least("high") and not vulns["json5"].at_least("critical")


def _with(change: dict[str, object]) -> bytes:
    doc = json.loads(SAMPLE_AUDIT.read_text())
    doc["vulnerabilities"]["minimist"]["via"][0].update(change)
    return json.dumps(doc).encode()


@pytest.mark.parametrize(("data", "message"), [
    (b"", "an empty file"),
    (b"{\"auditReportVersion\": 2, ", "not JSON"),
    (b"[]", "not an `npm audit --json` object"),
    (json.dumps({"advisories": {}, "actions": [], "muted": []}).encode(), "npm 6's format"),
    (json.dumps({"auditReportVersion": 3, "vulnerabilities": {}}).encode(), "auditReportVersion 3"),
    (json.dumps({"error": {"code": "ENOAUDIT", "summary": "Your configured registry does not support audit"}}).encode(),
     "npm reported an error instead of an audit: Your configured registry"),
    (json.dumps({"auditReportVersion": 2, "vulnerabilities": {"x": {"name": "x"}}}).encode(),
     "not the auditReportVersion 2 shape"),
    (_with({"range": "<1.2.3 && rm -rf /"}), "is not a semver range"),
    (_with({"severity": "urgent"}), "unknown severity"),
    (json.dumps({"auditReportVersion": 2, "vulnerabilities": {"-x": {"name": "-x", "severity": "high", "via": []}}})
     .encode(), "is not an npm package name"),
])
def test_bad_reports_are_one_line(data: bytes, message: str) -> None:
    with pytest.raises(StabfixError, match=message.replace("(", r"\(")) as info:
        parse_report(data, "audit.json")
    assert "\n" not in info.value.one_line()


@pytest.mark.parametrize(("name", "ok"), [
    ("minimist", True), ("@testing-library/user-event", True), ("JSONStream", True), ("lodash.merge", True),
    ("-rf", False), (".bin", False), ("_x", False), ("a b", False), ("a;b", False), ("@scope/", False),
    ("x" * 215, False), ("$(id)", False),
])
def test_package_names(name: str, ok: bool) -> None:
    assert valid_name(name) is ok


@pytest.mark.parametrize(("name", "ranges", "floor", "want"), [
    ("minimist", ["<0.2.4", ">=1.0.0 <1.2.6"], "0.0.8", "0.2.4"),  # stays on the 0.x line
    ("minimist", ["<0.2.4", ">=1.0.0 <1.2.6"], "1.2.5", "1.2.6"),
    ("minimist", ["<0.2.4", ">=1.0.0 <1.2.6"], None, "1.2.6"),  # no lock: above every vulnerable version
    ("minimist", ["<0.2.4", ">=1.0.0 <1.2.6"], "1.2.8", "1.2.8"),  # never a downgrade
    ("json5", [">=2.0.0 <2.2.2", "<1.0.2"], "2.1.3", "2.2.2"),
    ("json5", [">=0.0.0"], "2.1.3", None),  # no patched version
])
def test_first_patched(name: str, ranges: list[str], floor: str | None, want: str | None) -> None:
    assert first_patched(VERSIONS[name], ranges, floor) == want


def test_first_patched_skips_prereleases_and_junk() -> None:
    assert first_patched(["1.0.0", "1.0.1-rc.1", "latest", "1.0.1", "01.2.3"], ["<1.0.1"], None) == "1.0.1"


@pytest.mark.parametrize(("declared", "version", "want"), [
    ("^1.2.3", "2.0.1", "^2.0.1"), ("~2.1.0", "2.2.2", "~2.2.2"), ("2.2.1", "2.2.2", "2.2.2"),
    ("=1.0.0", "1.0.2", "=1.0.2"), (">=1.0.0", "2.0.0", ">=2.0.0"), ("v1.0.0", "1.0.2", "v1.0.2"),
    ("^1.0.0 || ^2.0.0", "3.0.0", None), ("1.x", "2.0.0", None), ("1.0.0 - 1.2.0", "2.0.0", None),
    ("latest", "2.0.0", None), ("github:a/b", "2.0.0", None),
])
def test_raise_range(declared: str, version: str, want: str | None) -> None:
    assert raise_range(declared, version) == want


def test_advisory_text_with_control_sequences_is_dropped() -> None:
    (vuln,) = [v for v in parse_report(_with({"url": "https://x.invalid/\x1b]0;pwned\x07", "title": "a\x1b[2Jb"}),
                                       "a.json") if v.name == "minimist"]
    assert vuln.advisories[0].url == "" and vuln.advisories[0].title == ""
    assert vuln.advisories[1].url == "https://github.com/advisories/GHSA-vh95-rmgr-6w4m"


_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=12),
                     lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
                     max_leaves=20)
_VULN = st.fixed_dictionaries({
    "name": st.sampled_from(["minimist", "json5", "-x", "a b"]),
    "severity": st.sampled_from(["high", "critical", "bad", ""]),
    "via": st.lists(st.sampled_from(["minimist", "x\x1b"]) | st.fixed_dictionaries({
        "name": st.sampled_from(["minimist", "json5"]), "severity": st.sampled_from(["high", "low", "?"]),
        "range": st.sampled_from(["<1.2.6", ">=1 <2", "x", "", "* || foo"]) | st.text(max_size=8)}), max_size=3),
}, optional={"nodes": _JSON, "isDirect": _JSON, "range": st.text(max_size=8), "fixAvailable": _JSON})


@settings(max_examples=300, deadline=None)
@given(doc=_JSON | st.fixed_dictionaries({"auditReportVersion": st.sampled_from([2, 1, "2"]),
                                          "vulnerabilities": st.dictionaries(st.sampled_from(["minimist", "json5"]),
                                                                             _VULN, max_size=2)}))
def test_any_json_is_a_report_or_one_error(doc: object) -> None:
    try:
        vulns = parse_report(json.dumps(doc).encode(), "fuzz.json")
    except StabfixError as exc:
        assert "\n" not in exc.one_line()
        return
    for v in vulns:
        assert valid_name(v.name) and all(valid_name(n) for n in v.via)
