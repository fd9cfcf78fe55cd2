"""``stabfix apply type-ignore``: add ``# type: ignore[code]`` for what mypy reports.

Input: ``mypy -O json`` or mypy's text output with error codes (``--from FILE|-``), or ``--run``
(``--until-clean N`` repeats run -> apply while mypy surfaces new errors). The ignore goes on the
reported line, or on ``end_line`` when the reported line ends inside a string, always as the first
comment of the line (mypy ignores it elsewhere). See :mod:`codemods.fixers.suppress`.
"""

from __future__ import annotations

from codemods.core.contract import DemoSpec
from codemods.fixers.suppress.fixer import SuppressFixer


class TypeIgnoreFixer(SuppressFixer):
    """Suppress mypy errors with merged ``# type: ignore[code]`` comments."""

    name = "type-ignore"
    description = "add `# type: ignore[code]` where mypy reports (JSON or text report, or --run --until-clean)"
    tool = "mypy"
    kind = "type-ignore"
    demo = DemoSpec(
        paths=["."], options={"from_report": "ci-logs/mypy.txt"},
        note="mypy's two errors in litellm/utils.py, from its text report stored in the sample (`mypy .`)",
    )
