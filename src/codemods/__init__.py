"""stabfix: codemods and auto-fixers for getting a red CI back to green.

The Python API (the CLI is a thin layer over it)::

    import codemods
    report = codemods.apply("xdist-group", ["tests/local_testing"], root=".", group="heavy", mode="diff")
    print(report.diff)             # unified diff, `git apply` accepts it
    report.to_json()               # the JSON report (schema in the README)

Names are imported lazily so that ``import codemods`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from codemods._version import __version__

if TYPE_CHECKING:
    from codemods.api import FixerInfo, Report, apply, list_fixers, make_plan, render_diff
    from codemods.core.plan import Edit, FileChange, FileResult, Notice, Plan
    from codemods.errors import StabfixError

__all__ = [
    "Edit", "FileChange", "FileResult", "FixerInfo", "Notice", "Plan", "Report", "StabfixError",
    "__version__", "apply", "list_fixers", "make_plan", "render_diff",
]

_LAZY = {
    "apply": "api", "make_plan": "api", "list_fixers": "api", "render_diff": "api", "Report": "api",
    "FixerInfo": "api", "StabfixError": "errors", "Edit": "core.plan", "FileChange": "core.plan",
    "FileResult": "core.plan", "Notice": "core.plan", "Plan": "core.plan",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'codemods' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f".{module}", __name__), name)
