"""Where a repository pins its packages: requirements files, pyproject.toml, CI install lines.

Used to warn about known-bad combinations (pytest 9.2.x with pytest-xdist <= 3.8.0 silently does
not group with ``--dist loadgroup``: pytest-xdist #1386) and to detect which plugins a project uses
(pytest-retry vs pytest-rerunfailures).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codemods.core import tomlread as tomllib

if TYPE_CHECKING:
    from packaging.requirements import Requirement
    from packaging.version import Version

# packaging (about 20 ms to import) loads only when a requirement string or a version is parsed:
# a run that finds no pin (xdist-group's warning on most trees) does without it


def canonicalize_name(name: str) -> str:
    """The PEP 503 normalized name (runs of ``-_.`` become ``-``, lower case)."""
    return re.sub(r"[-_.]+", "-", name).lower()

#: where to look, relative to the root (globs)
DEFAULT_FILES = (
    "requirements*.txt", "requirements/*.txt", "*/requirements*.txt", ".circleci/requirements*.txt",
    "pyproject.toml", ".circleci/config.yml", ".github/workflows/*.yml", ".github/workflows/*.yaml",
    "Makefile", "tox.ini",
)

_INSTALL = re.compile(r"\b(?:pip3?|uv pip|python -m pip)\s+install\s+(.*)")


@dataclass(frozen=True)
class Pin:
    """One mention of a package with a version specifier."""

    package: str  # canonical name
    specifier: str  # e.g. "==9.2.0", ">=3.5", "" (unversioned)
    file: str  # POSIX relative to root
    line: int

    def exact(self) -> Version | None:
        """The version when the specifier is one ``==X`` (not a wildcard)."""
        m = re.fullmatch(r"===?\s*([^,*\s]+)", self.specifier.strip())
        if not m:
            return None
        from packaging.version import InvalidVersion, Version

        try:
            return Version(m.group(1))
        except InvalidVersion:
            return None


def _version(text: str) -> Version:
    from packaging.version import Version

    return Version(text)


def _req(text: str) -> Requirement | None:
    text = text.split(" #", 1)[0].strip().strip("'\"")
    if not text or text.startswith(("-", "#")):
        return None
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        return Requirement(text)
    except InvalidRequirement:
        return None


def _line_of(text: str, needle: str) -> int:
    idx = text.find(needle)
    return text.count("\n", 0, idx) + 1 if idx >= 0 else 0


def _from_pyproject(text: str, rel: str) -> Iterator[Pin]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return
    reqs: list[str] = []
    project = data.get("project", {})
    reqs += project.get("dependencies", []) or []
    for extra in (project.get("optional-dependencies", {}) or {}).values():
        reqs += extra
    for group in (data.get("dependency-groups", {}) or {}).values():
        reqs += [g for g in group if isinstance(g, str)]
    for r in reqs:
        req = _req(r)
        if req:
            yield Pin(canonicalize_name(req.name), str(req.specifier), rel, _line_of(text, r))
    poetry = data.get("tool", {}).get("poetry", {})
    tables: list[dict[str, Any]] = [poetry.get("dependencies", {}), poetry.get("dev-dependencies", {})]
    tables += [g.get("dependencies", {}) for g in (poetry.get("group", {}) or {}).values()]
    for table in tables:
        for name, spec in (table or {}).items():
            version = spec.get("version", "") if isinstance(spec, dict) else str(spec)
            version = version.strip()
            if version and version[0].isdigit():
                version = "==" + version
            elif version.startswith("^") or version.startswith("~"):
                version = ">=" + version[1:]
            yield Pin(canonicalize_name(name), version if version != "*" else "", rel, _line_of(text, name))


def _from_lines(text: str, rel: str, *, install_lines_only: bool) -> Iterator[Pin]:
    for no, line in enumerate(text.splitlines(), 1):
        if install_lines_only:
            m = _INSTALL.search(line)
            if not m:
                continue
            import shlex

            try:
                words = shlex.split(m.group(1), comments=True)
            except ValueError:
                continue
            for w in words:
                if w.startswith("-"):
                    continue
                req = _req(w)
                if req:
                    yield Pin(canonicalize_name(req.name), str(req.specifier), rel, no)
        else:
            req = _req(line)
            if req:
                yield Pin(canonicalize_name(req.name), str(req.specifier), rel, no)


def find_pins(root: Path, files: tuple[str, ...] = DEFAULT_FILES) -> list[Pin]:
    """Every package mention with its specifier in the usual files under ``root``."""
    pins: list[Pin] = []
    seen: set[Path] = set()
    for pattern in files:
        for path in sorted(root.glob(pattern)):
            if path in seen or not path.is_file():
                continue
            seen.add(path)
            rel = path.relative_to(root).as_posix()
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            if path.name == "pyproject.toml":
                pins.extend(_from_pyproject(text, rel))
            elif path.suffix == ".txt":
                pins.extend(_from_lines(text, rel, install_lines_only=False))
            else:
                pins.extend(_from_lines(text, rel, install_lines_only=True))
    return pins


def mentions(pins: list[Pin], package: str) -> list[Pin]:
    name = canonicalize_name(package)
    return [p for p in pins if p.package == name]


def xdist_grouping_broken(pins: list[Pin]) -> tuple[Pin, Pin] | None:
    """The (pytest, pytest-xdist) pins that pin pytest 9.2.x together with pytest-xdist <= 3.8.0."""
    bad_pytest = [p for p in mentions(pins, "pytest") if (v := p.exact()) and v.release[:2] == (9, 2)]
    bad_xdist = [p for p in mentions(pins, "pytest-xdist") if (v := p.exact()) and v <= _version("3.8.0")]
    if bad_pytest and bad_xdist:
        return bad_pytest[0], bad_xdist[0]
    return None


XDIST_1386 = (
    "pytest {pv} ({pf}:{pl}) with pytest-xdist {xv} ({xf}:{xl}) silently ignores xdist_group "
    "under --dist loadgroup (pytest-xdist #1386); pin pytest<9.2 or a fixed pytest-xdist"
)


def xdist_warning(pins: list[Pin]) -> str | None:
    pair = xdist_grouping_broken(pins)
    if pair is None:
        return None
    p, x = pair
    return XDIST_1386.format(pv=p.exact(), pf=p.file, pl=p.line, xv=x.exact(), xf=x.file, xl=x.line)
