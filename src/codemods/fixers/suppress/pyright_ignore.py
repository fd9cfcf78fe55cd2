"""``stabfix apply pyright-ignore``: add ``# pyright: ignore[rule]`` for what pyright reports.

Input: ``pyright --outputjson`` / ``basedpyright --outputjson`` (``--from FILE|-``) or ``--run``
(pyright, else basedpyright). The comment goes on the range's start line (its end line when the
start ends inside a string), right after any ``# type: ignore``. See :mod:`codemods.fixers.suppress`.
"""

from __future__ import annotations

from codemods.core.contract import DemoSpec
from codemods.fixers.suppress.fixer import SuppressFixer


class PyrightIgnoreFixer(SuppressFixer):
    """Suppress pyright / basedpyright diagnostics with merged ``# pyright: ignore[rule]`` comments."""

    name = "pyright-ignore"
    description = "add `# pyright: ignore[rule]` where pyright/basedpyright reports (JSON report or --run)"
    tool = "pyright"
    kind = "pyright"
    demo = DemoSpec(
        paths=["."], options={"from_report": "ci-logs/pyright.json"},
        note="basedpyright's errors in litellm/utils.py, from its JSON report stored in the sample "
        "(`basedpyright --outputjson`)",
    )
