"""Where a repository runs pytest, and with which ``--dist`` mode (for xdist-group's warning).

Uses :func:`codemods.pytest_cmd.scan_repo` for CI configs (CircleCI, GitHub workflows), Makefiles,
tox.ini and pyproject ``addopts``, and reads ``addopts`` of pytest.ini / setup.cfg; reports, per
pytest invocation that uses xdist (``-n``), the ``--dist`` mode it passes (None when none).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

#: pytest configuration files that pytest_cmd.scan_repo does not read
CONFIG_FILES = ("pytest.ini", "setup.cfg")

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


def dist_modes(root: Path) -> list[DistSetting]:
    """Every xdist-using pytest invocation and configured addopts with its ``--dist`` mode."""
    from .pytest_cmd import scan_repo

    found: list[DistSetting] = []
    files, _problems = scan_repo(root)  # unreadable files are simply not evidence either way
    for ci in files:
        for site in ci.sites:
            inv = site.invocation
            if inv.uses_xdist or (ci.kind == "pyproject" and inv.dist is not None):
                found.append(DistSetting(ci.path, site.line, inv.dist.value if inv.dist else None,
                                         tuple(inv.test_paths)))
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
