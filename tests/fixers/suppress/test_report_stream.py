"""A ruff report file is decoded block by block (memory: the diagnostics plus one block): the same
diagnostics as decoding it whole, and the same errors (it falls back to the whole-file path)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from codemods.errors import ToolError
from codemods.fixers.suppress import reports

RUFF = Path(sys.executable).with_name("ruff")


def _report(tmp_path: Path) -> Path:
    """A real ruff 0.17 JSON report (pretty-printed, as ruff writes it) over 30 small modules."""
    src = tmp_path / "src"
    src.mkdir()
    for i in range(30):
        (src / f"m{i}.py").write_text("import os\nimport sys\n" + "".join(f"x{j} = {j}  \n" for j in range(i % 5)))
    report = tmp_path / "ruff.json"
    with report.open("wb") as fh:
        subprocess.run([str(RUFF), "check", "--isolated", "--no-cache", "--select", "F401,W291", "--output-format",
                        "json", "."], cwd=src, stdout=fh, check=False)
    return report


@pytest.mark.parametrize("block", [1, 100, 1 << 20])
def test_streamed_equals_whole(tmp_path: Path, monkeypatch: Any, block: int) -> None:
    report = _report(tmp_path)
    monkeypatch.setattr(reports, "STREAM_BLOCK", block)
    streamed = reports.load_ruff_file(report, "ruff.json")
    whole = reports.load_report(report.read_bytes(), "ruff", "ruff.json")
    assert streamed is not None and len(whole) > 60 and streamed == whole


def test_bad_entry_falls_back_to_the_whole_file_error(tmp_path: Path, monkeypatch: Any) -> None:
    report = _report(tmp_path)
    items = json.loads(report.read_text())
    items[41]["code"] = "F401\nimport os"
    report.write_text(json.dumps(items, indent=2))
    monkeypatch.setattr(reports, "STREAM_BLOCK", 200)
    assert reports.load_ruff_file(report, "ruff.json") is None
    with pytest.raises(ToolError, match="entry 41"):
        reports.load_report(report.read_bytes(), "ruff", "ruff.json")


@pytest.mark.parametrize("text", ['[{"filename": "a.py"}]', "", "not json", json.dumps([]),
                                  '[\n  {\n    "filename": "a.py",\n    "location": {"row": 1}'])
def test_other_shapes_are_read_whole(tmp_path: Path, text: str) -> None:
    path = tmp_path / "r.json"
    path.write_text(text)
    assert reports.load_ruff_file(path, "r.json") is None  # one line, empty, invalid, truncated: whole
