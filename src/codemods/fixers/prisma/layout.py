"""Where a repository keeps its Prisma files: ``[tool.stabfix.prisma]`` plus LiteLLM's defaults.

Keys (all paths relative to the repository root)::

    [tool.stabfix.prisma]
    source = "litellm/proxy/schema.prisma"      # the schema people edit
    copies = ["schema.prisma", "litellm-proxy-extras/litellm_proxy_extras/schema.prisma"]
    partial-copies = ["litellm-js/spend-logs/schema.prisma"]
    migrations = "litellm-proxy-extras/litellm_proxy_extras/migrations"

The ``prisma-sync`` and ``migration`` fixers share this table; their own flags (``--source`` ...)
override it. LiteLLM later made the root ``schema.prisma`` the source: set ``source`` and
``copies`` accordingly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codemods.errors import ConfigError

DEFAULT_SOURCE = "litellm/proxy/schema.prisma"
DEFAULT_COPIES = ["schema.prisma", "litellm-proxy-extras/litellm_proxy_extras/schema.prisma"]
DEFAULT_PARTIAL_COPIES = ["litellm-js/spend-logs/schema.prisma"]
DEFAULT_MIGRATIONS = "litellm-proxy-extras/litellm_proxy_extras/migrations"
_KEYS = {"source", "copies", "partial-copies", "migrations"}


@dataclass
class PrismaLayout:
    source: str = DEFAULT_SOURCE
    copies: list[str] = field(default_factory=lambda: list(DEFAULT_COPIES))
    partial_copies: list[str] = field(default_factory=lambda: list(DEFAULT_PARTIAL_COPIES))
    migrations: str = DEFAULT_MIGRATIONS


def read_table(root: Path) -> dict[str, Any]:
    """``[tool.stabfix.prisma]`` of ``root/pyproject.toml`` (empty when absent)."""
    path = root / "pyproject.toml"
    if not path.is_file():
        return {}
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    try:
        doc = tomlkit.parse(path.read_text(encoding="utf-8")).unwrap()
    except TOMLKitError as exc:
        raise ConfigError(f"pyproject.toml is not valid TOML: {exc}", path="pyproject.toml") from None
    table = doc.get("tool", {}).get("stabfix", {}).get("prisma", {})
    if not isinstance(table, dict):
        raise ConfigError("[tool.stabfix.prisma] must be a table", path="pyproject.toml")
    return table


def load(root: Path, *, source: str | None = None, copies: list[str] | None = None,
         partial_copies: list[str] | None = None, migrations: str | None = None) -> PrismaLayout:
    """The layout: explicit values, else ``[tool.stabfix.prisma]``, else LiteLLM's defaults."""
    table = read_table(root)
    unknown = set(table) - _KEYS
    if unknown:
        raise ConfigError(
            f"[tool.stabfix.prisma]: unknown key `{sorted(unknown)[0]}` (known keys: {', '.join(sorted(_KEYS))})",
            path="pyproject.toml",
        )

    def text(key: str, value: str | None, default: str) -> str:
        if value:
            return value
        got = table.get(key, default)
        if not isinstance(got, str) or not got:
            raise ConfigError(f"[tool.stabfix.prisma]: `{key}` must be a path string", path="pyproject.toml")
        return got

    def paths(key: str, value: list[str] | None, default: list[str]) -> list[str]:
        if value:
            return list(value)
        got = table.get(key, default)
        if not isinstance(got, list) or not all(isinstance(p, str) for p in got):
            raise ConfigError(f"[tool.stabfix.prisma]: `{key}` must be a list of paths", path="pyproject.toml")
        return list(got)

    return PrismaLayout(
        source=text("source", source, DEFAULT_SOURCE),
        copies=paths("copies", copies, DEFAULT_COPIES),
        partial_copies=paths("partial-copies", partial_copies, DEFAULT_PARTIAL_COPIES),
        migrations=text("migrations", migrations, DEFAULT_MIGRATIONS),
    )
