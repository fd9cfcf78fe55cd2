"""Configuration: ``[tool.stabfix]`` in the target repository's pyproject.toml.

Top-level keys apply to every fixer that walks files (``include``, ``exclude``, ``jobs``, ``gitignore``:
false makes discovery ignore ``.gitignore`` files, ``max-file-size``: larger files are skipped, in
bytes); a sub-table
``[tool.stabfix.<fixer>]`` holds that fixer's options (validated against its Options dataclass).
An unknown key is an error that names it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from codemods.core import tomlread as tomllib
from codemods.errors import ConfigError

GLOBAL_KEYS = {
    "include": list,
    "exclude": list,
    "jobs": int,
    "gitignore": bool,
    "max-file-size": int,
}


def load(root: Path, fixer_names: list[str], shared_tables: Mapping[str, Sequence[str]] | None = None) -> dict[str, Any]:
    """The ``[tool.stabfix]`` table of ``root/pyproject.toml`` (empty when there is none)."""
    path = root / "pyproject.toml"
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read it: {exc}; fix the TOML or pass --root", path="pyproject.toml") from None
    table = data.get("tool", {}).get("stabfix", {})
    if not isinstance(table, dict):
        raise ConfigError("[tool.stabfix] must be a table", path="pyproject.toml")
    shared_tables = shared_tables or {}
    for key, value in table.items():
        if isinstance(value, dict):
            shared = shared_tables.get(key)
            if shared is not None:
                unknown = sorted(set(value) - set(shared))
                if unknown:
                    raise ConfigError(f"[tool.stabfix.{key}]: unknown key `{unknown[0]}` (known keys: "
                                      f"{', '.join(sorted(shared))})", path="pyproject.toml")
            if key not in fixer_names and key not in shared_tables:
                raise ConfigError(
                    f"[tool.stabfix.{key}]: unknown fixer `{key}` (fixers: {', '.join(fixer_names)})",
                    path="pyproject.toml",
                )
            continue
        expected = GLOBAL_KEYS.get(key)
        if expected is None:
            raise ConfigError(
                f"[tool.stabfix]: unknown key `{key}` (known keys: {', '.join(sorted(GLOBAL_KEYS))})",
                path="pyproject.toml",
            )
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise ConfigError(f"[tool.stabfix]: `{key}` must be a {expected.__name__}", path="pyproject.toml")
        if isinstance(value, list) and not all(isinstance(v, str) for v in value):
            raise ConfigError(f"[tool.stabfix]: `{key}` must be a list of glob strings", path="pyproject.toml")
    return table
