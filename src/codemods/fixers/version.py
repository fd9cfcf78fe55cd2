"""`version`: bump a package's version the way commitizen's ``version_files`` say.

Reads ``<package>/pyproject.toml`` (default ``litellm-proxy-extras/``) with tomlkit and changes
only the values of ``[project] version`` or ``[tool.poetry] version`` and
``[tool.commitizen] version``, keeping every other byte and each value's quote style. Then
each ``[tool.commitizen] version_files`` entry (``path`` or ``path:regex``, paths relative to the
package, the regex matched per line so anchors like ``^version`` work) gets the old version
replaced by the new one on its matching lines, as ``cz bump`` does.

Exception: a ``requirements*.txt`` file is left alone unless ``--include-requirements``: pinning
the new version there before it is published on PyPI breaks every CI job that installs it
(the seed's pitfall). A ``uv.lock`` / ``poetry.lock`` next to the package or at the root is
reported: it needs refreshing after the bump.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from codemods.core.context import Context
from codemods.core.contract import DemoSpec, RepoFixer
from codemods.core.options import option
from codemods.core.plan import Edit
from codemods.errors import StabfixError, UsageError


@dataclass
class VersionOptions:
    part: str | None = option(None, "which part to bump (default patch)", choices=("patch", "minor", "major"),
                              config=False)
    set: str | None = option(None, "set this exact version instead of bumping", metavar="X.Y.Z", config=False)
    package: str = option("litellm-proxy-extras", "the package folder holding pyproject.toml", metavar="DIR")
    include_requirements: bool = option(False, "also bump pins in requirements*.txt named by version_files")


def normalise(text: str, what: str = "--set") -> str:
    """``text`` as PEP 440 normalises it (``" 1.2.3 "`` -> ``1.2.3``, ``v1`` -> ``1``,
    ``1.0-RC1`` -> ``1.0rc1``), or one clear error (also for absurd numbers such as 5,000 digits)."""
    from packaging.version import InvalidVersion, Version

    shown = text if len(text) <= 60 else text[:57] + "..."
    try:
        return str(Version(text))
    except InvalidVersion:
        raise UsageError(f"{what} {shown!r} is not a PEP 440 version (e.g. 1.2.3, 1.3.0rc1)") from None
    except ValueError:  # int() of a number too long to convert (more than 4,300 digits)
        raise UsageError(f"{what} {shown!r}: a version number is too large") from None


def bump(current: str, part: str) -> str:
    """``0.4.6`` + patch -> ``0.4.7``; minor -> ``0.5.0``; major -> ``1.0.0`` (PEP 440 releases)."""
    from packaging.version import Version

    try:
        v = Version(normalise(current, "current version"))
    except UsageError as exc:
        raise UsageError(f"{exc.message}; pass --set X.Y.Z") from None
    if v.pre or v.dev or v.post or v.local:
        raise UsageError(f"current version {current} is a pre/post/dev release; pass --set X.Y.Z")
    major, minor, patch = [*v.release, 0, 0, 0][:3]
    if part == "major":
        return f"{major + 1}.0.0"
    if part == "minor":
        return f"{major}.{minor + 1}.0"
    return f"{major}.{minor}.{patch + 1}"


def _set_string(table: Any, key: str, value: str) -> None:
    """Assign a string keeping the old value's quote style (basic or literal)."""
    from tomlkit.items import String

    old = table[key]
    table[key] = String.from_raw(value, type_=old.type) if isinstance(old, String) else value


def bump_lines(text: str, pattern: str | None, old: str, new: str) -> tuple[str, list[int]]:
    """Replace ``old`` with ``new`` on each line matching ``pattern`` (every line when None)."""
    try:
        rx = re.compile(pattern) if pattern else None
    except re.error as exc:
        raise StabfixError(f"[tool.commitizen] version_files: bad regex {pattern!r}: {exc}") from None
    out, changed = [], []
    for no, line in enumerate(text.splitlines(keepends=True), 1):
        if (rx is None or rx.search(line)) and old in line:
            line = line.replace(old, new)
            changed.append(no)
        out.append(line)
    return "".join(out), changed


class VersionFixer(RepoFixer):
    """Bumps the package version in pyproject.toml and in the files commitizen names."""

    name = "version"
    description = "Bump a package version in pyproject.toml and the files [tool.commitizen] version_files names."
    Options: ClassVar[type] = VersionOptions
    demo = DemoSpec(options={"part": "patch"},
                    note="bump litellm-proxy-extras; requirements.txt is left alone until it is published")
    options: VersionOptions

    def plan(self, ctx: Context) -> None:
        import tomlkit
        from tomlkit.exceptions import TOMLKitError

        o = self.options
        if o.part and o.set:
            raise UsageError("pass --part or --set, not both")
        pkg = ctx.resolve(o.package)
        pyproject = pkg / "pyproject.toml"
        if not pyproject.is_file():
            raise StabfixError("no pyproject.toml in the package folder; pass --package DIR",
                               path=ctx.rel(pyproject))
        src = ctx.read(pyproject)
        try:
            doc = tomlkit.parse(src.text)
        except TOMLKitError as exc:
            raise StabfixError(f"not valid TOML: {exc}", path=src.rel) from None

        tables: list[tuple[str, Any]] = []
        project = doc.get("project")
        if project is not None and "version" in project:
            tables.append(("[project]", project))
        poetry = doc.get("tool", {}).get("poetry")
        if poetry is not None and "version" in poetry:
            tables.append(("[tool.poetry]", poetry))
        cz = doc.get("tool", {}).get("commitizen")
        if not tables:
            raise StabfixError("has no [project] or [tool.poetry] version to bump", path=src.rel)
        current = str(tables[0][1]["version"])
        new = normalise(o.set) if o.set else bump(current, o.part or "patch")
        if new == current:
            ctx.mark(src.rel, "unchanged", f"already at {new}")
            return

        edits: list[Edit] = []
        for label, table in tables:
            if str(table["version"]) != current:
                ctx.warn(f"{label} version {table['version']} differs from {current}; set to {new} too", path=src.rel)
            _set_string(table, "version", new)
            edits.append(Edit(f"{label} version {current} -> {new}", kind="version"))
        if cz is not None and "version" in cz:
            if str(cz["version"]) != current:
                ctx.warn(f"[tool.commitizen] version {cz['version']} differs from {current}; set to {new}",
                         path=src.rel)
            _set_string(cz, "version", new)
            edits.append(Edit(f"[tool.commitizen] version {current} -> {new}", kind="version"))
        texts: dict[Path, str] = {pyproject: tomlkit.dumps(doc)}
        sources = {pyproject: src}
        file_edits: dict[Path, list[Edit]] = {pyproject: edits}

        for entry in (cz or {}).get("version_files", []):
            entry = str(entry)
            rel_path, _, pattern = entry.partition(":")
            path = ctx.resolve(pkg / rel_path)
            if re.fullmatch(r"requirements.*\.(txt|in)", path.name) and not o.include_requirements:
                ctx.warn(
                    f"left {ctx.rel(path)} alone (version_files `{entry}`): pinning {new} there before it is "
                    "published breaks every job that installs it; bump it after the release or pass "
                    "--include-requirements", path=ctx.rel(path),
                )
                continue
            if not path.is_file():
                ctx.warn(f"version_files names {ctx.rel(path)}, which does not exist; skipped", path=src.rel)
                continue
            if path not in texts:
                sources[path] = ctx.read(path)
                texts[path] = sources[path].text
                file_edits[path] = []
            texts[path], lines = bump_lines(texts[path], pattern or None, current, new)
            if path == pyproject:
                continue  # the tomlkit edit already covered it
            if not lines:
                ctx.warn(f"no line matching `{pattern}` holds {current}; nothing bumped (version_files `{entry}`)",
                         path=ctx.rel(path))
            file_edits[path] += [Edit(f"{current} -> {new} (version_files `{entry}`)", line=n, kind="version")
                                 for n in lines]

        for path, text in texts.items():
            ctx.propose_edit(sources[path], text, f"version {current} -> {new}", file_edits[path])

        for lock in ("uv.lock", "poetry.lock"):
            for where in (pkg, ctx.root):
                if (where / lock).is_file():
                    ctx.warn(f"{lock} needs refreshing after the bump (`{lock.split('.')[0]} lock`)",
                             path=ctx.rel(where / lock))
