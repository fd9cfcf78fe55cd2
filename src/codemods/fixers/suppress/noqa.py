"""``stabfix apply noqa``: add ``# noqa: CODE`` for what ruff reports, on ruff's ``noqa_row``.

Input: ``ruff check --output-format json`` (``--from FILE|-``) or ``--run``. Codes are merged into
an existing ``# noqa: ...`` (text after it, e.g. a reason, is kept), a blanket ``# noqa`` is left
alone, and ``--remove-unused`` drops what RUF100 reports as unused. See :mod:`codemods.fixers.suppress`.
"""

from __future__ import annotations

from codemods.core.contract import DemoSpec
from codemods.fixers.suppress.fixer import SuppressFixer


class NoqaFixer(SuppressFixer):
    """Suppress ruff diagnostics with merged ``# noqa`` directives."""

    name = "noqa"
    description = "add `# noqa: CODE` where ruff reports (from its JSON report or --run), merged and minimal"
    tool = "ruff"
    kind = "noqa"
    demo = DemoSpec(
        paths=["."], options={"from_report": "ci-logs/ruff.json"},
        note="FastAPI's `Depends()` defaults (ruff B008), suppressed as LiteLLM does: `# noqa: B008`; "
        "the report is `ruff check --select B008 --output-format json .`, stored in the sample",
    )
