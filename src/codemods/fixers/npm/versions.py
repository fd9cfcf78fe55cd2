"""npm's semver, through node-semver (a Python port of npm's own ``semver`` package): ranges as npm
reads them (``^``, ``~``, x-ranges, hyphens, ``||``), and the first patched version of a package.

:func:`first_patched` answers "which published version fixes this?": the lowest stable published
version not below the installed one (or, when that is unknown, above every vulnerable published
version) that no advisory range contains. It never goes down, and it never invents a version: only
what the registry lists (``npm view NAME versions --json``, or a stored map of them) qualifies.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import Any

from codemods.errors import StabfixError

#: a plain version as package.json and Dockerfiles pin it: 1.2.3, 1.2.3-rc.1 (no range)
EXACT = re.compile(r"v?(\d+)\.(\d+)\.(\d+)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?")
#: a declared range stabfix can raise: ^X, ~X, =X, >=X or X itself (X a full version)
SIMPLE_RANGE = re.compile(r"(\^|~|=|>=)?\s*(v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)")


def _semver() -> Any:
    import nodesemver

    return nodesemver


def check_range(text: str, what: str) -> str:
    """``text`` if it is a semver range npm understands, else one clear error."""
    if len(text) > 500:
        raise StabfixError(f"{what}: a range of {len(text)} characters")
    try:
        _semver().make_range(text, False)
    except (ValueError, TypeError):
        raise StabfixError(f"{what}: {text[:60]!r} is not a semver range") from None
    return text


def is_range(text: str) -> bool:
    try:
        _semver().make_range(text, False)
    except (ValueError, TypeError):
        return False
    return bool(text.strip())


def parse_version(text: str) -> Any | None:
    """A node-semver ``SemVer`` for a full version, or None (``1.2``, ``latest``, a URL)."""
    if not EXACT.fullmatch(text):
        return None
    try:
        return _semver().make_semver(text, False)
    except (ValueError, TypeError):
        return None


def is_stable(version: Any) -> bool:
    return not version.prerelease


@functools.lru_cache(maxsize=4096)
def satisfies(version: str, range_: str) -> bool:
    return bool(_semver().satisfies(version, range_, False))


def gt(a: str, b: str) -> bool:
    return bool(_semver().gt(a, b, False))


def max_version(versions: Iterable[str]) -> str | None:
    out: str | None = None
    for v in versions:
        if out is None or gt(v, out):
            out = v
    return out


def first_patched(published: Iterable[str], ranges: list[str], floor: str | None) -> str | None:
    """The lowest stable published version, not below ``floor``, outside every range in ``ranges``.

    ``floor`` is the installed version (the highest in the lock file, or a pin); None means
    "unknown": then the answer must be above every published version the ranges contain, so it
    is never a downgrade of whatever is installed. None when no published version qualifies.
    """
    stable = [str(v) for v in (parse_version(p) for p in published) if v is not None and is_stable(v)]
    stable = sorted(set(stable), key=functools.cmp_to_key(lambda a, b: _semver().compare(a, b, False)))
    if floor is None:
        floor = max_version(v for v in stable if any(satisfies(v, r) for r in ranges))
    for v in stable:
        if floor is not None and gt(floor, v):
            continue
        if not any(satisfies(v, r) for r in ranges):
            return v
    return None


def raise_range(declared: str, version: str) -> str | None:
    """``declared`` moved to include ``version`` in the same style (``^1.2.3`` -> ``^2.0.1``,
    ``~1.2.3`` -> ``~1.3.0``, ``1.2.3`` -> ``1.3.0``), or None for a range stabfix does not rewrite
    (``||``, hyphen ranges, x-ranges, tags, URLs)."""
    m = SIMPLE_RANGE.fullmatch(declared.strip())
    if m is None:
        return None
    lead = declared[:len(declared) - len(declared.lstrip())]
    op = m.group(1) or ""
    v = "v" if m.group(2).startswith("v") else ""
    return f"{lead}{op}{v}{version}"
