"""Where a repository runs pytest, and with which ``--dist`` mode (for xdist-group's warning).

Looks at CI configs (CircleCI, GitHub workflows), Makefiles, tox.ini and the pytest configuration
(``addopts`` in pyproject.toml, pytest.ini, setup.cfg) and reports, per pytest invocation that uses
xdist (``-n``), the ``--dist`` mode it passes (None when it passes none).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

CI_FILES = (".circleci/config.yml", ".github/workflows/*.yml", ".github/workflows/*.yaml", "Makefile",
            "tox.ini", "noxfile.py")
CONFIG_FILES = ("pyproject.toml", "pytest.ini", "setup.cfg", "tox.ini")

_DIST = re.compile(r"(?:--dist[= ]\s*|(?<![\w-])-d\s*)(\w+)")


@dataclass(frozen=True)
class DistSetting:
    file: str
    line: int
    mode: str | None  # "loadgroup", "load", ... or None when -n is used without --dist
    test_paths: tuple[str, ...] = ()  # what the invocation runs (empty: pytest's default, everything)

    def runs(self, rel: str) -> bool:
        """Might this invocation run the test file ``rel`` (root-relative POSIX path)?"""
        if not self.test_paths:
            return True
        for p in self.test_paths:
            p = p.split("::")[0].strip("/").removeprefix("./")
            if p in ("", ".") or rel == p or rel.startswith(p + "/"):
                return True
        return False


_YAML_KEY = re.compile(r"^\s*(?:-\s+)?(?:run|command|script)\s*:\s*[|>]?[-+]?\s*")


def _xdist_invocations(text: str) -> list[tuple[int, str | None, tuple[str, ...]]]:
    """``(line, --dist value)`` of each xdist-using pytest invocation, one source line at a time
    (CI files keep each pytest command on one line; a YAML ``run:``/``command:`` key is dropped)."""
    from .pytest_cmd import find_invocations

    out: list[tuple[int, str | None, tuple[str, ...]]] = []
    for no, line in enumerate(text.splitlines(), 1):
        if "pytest" not in line and "py.test" not in line:
            continue
        for inv in find_invocations(_YAML_KEY.sub("", line)):
            if inv.uses_xdist:
                out.append((no, inv.dist.value if inv.dist else None, tuple(inv.test_paths)))
    return out


def dist_modes(root: Path) -> list[DistSetting]:
    """Every xdist-using pytest invocation and configured addopts with its ``--dist`` mode."""
    found: list[DistSetting] = []
    for pattern in CI_FILES:
        for path in sorted(root.glob(pattern)):
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            rel = path.relative_to(root).as_posix()
            for lineno, mode, paths in _xdist_invocations(text):
                found.append(DistSetting(rel, lineno, mode, paths))
    for name in CONFIG_FILES:
        path = root / name
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for no, line in enumerate(text.splitlines(), 1):
            if "addopts" in line or line.strip().startswith(("-n", "--dist", "--numprocesses")):
                m = _DIST.search(line)
                if m:
                    found.append(DistSetting(name, no, m.group(1)))
    return found
