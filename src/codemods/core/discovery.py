"""File discovery: the given paths, minus what .gitignore, excludes and generated markers rule out.

Directories are walked without following symlinks out of the root; ``.gitignore`` files are honoured
at every level (gitwildmatch semantics, via pathspec); a path named explicitly on the command line is
taken even when an exclude would match it (as ruff does without ``--force-exclude``), but never when it
lies outside the root.
"""

from __future__ import annotations

import errno
import fnmatch
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from codemods.errors import StabfixError

# Folders nobody wants a codemod to walk into (ruff's default excludes, roughly).
DEFAULT_EXCLUDES = frozenset({
    ".git", ".hg", ".svn", ".bzr", ".tox", ".nox", ".venv", "venv", ".direnv", "__pycache__",
    "node_modules", ".mypy_cache", ".ruff_cache", ".pytest_cache", "__pypackages__", ".eggs",
    "site-packages", "build", "dist", "_build", "buck-out", ".pants.d", ".ipynb_checkpoints",
})


def glob_match(rel: str, patterns: Iterable[str]) -> bool:
    """Match a POSIX relative path against globs (``**`` allowed; a bare name matches any part)."""
    for pat in patterns:
        if fnmatch.fnmatchcase(rel, pat) or fnmatch.fnmatchcase(rel, pat.rstrip("/") + "/*"):
            return True
        if "/" not in pat and any(fnmatch.fnmatchcase(part, pat) for part in rel.split("/")):
            return True
        if pat.startswith("**/") and fnmatch.fnmatchcase(rel, pat[3:]):
            return True
    return False


class _Ignore:
    """Stack of .gitignore specs keyed by the folder that holds them."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._specs: dict[Path, object | None] = {}
        self._chains: dict[Path, list[tuple[Path, object]]] = {}
        self._by_name: dict[str, list[tuple[Path, object]]] = {}

    def _spec(self, folder: Path, has_file: bool | None = None) -> object | None:
        """The spec of ``folder``'s .gitignore (``has_file``: whether it has one, when the caller
        knows from listing the folder; else a stat finds out)."""
        if folder not in self._specs:
            spec = None
            if has_file is None:
                has_file = (folder / ".gitignore").is_file()
            if has_file:
                import pathspec

                lines = (folder / ".gitignore").read_text(encoding="utf-8", errors="replace").splitlines()
                spec = pathspec.GitIgnoreSpec.from_lines(lines)
            self._specs[folder] = spec
        return self._specs[folder]

    def listed(self, folder: Path, has_file: bool) -> None:
        """A walk lists ``folder``: whether it holds a .gitignore is known without a stat."""
        self._spec(folder, has_file)

    def _chain(self, folder: Path) -> list[tuple[Path, object]]:
        """The (folder, spec) pairs that apply inside ``folder``, root first (cached per folder)."""
        cached = self._chains.get(folder)
        if cached is None:
            inner = folder != self.root and inside(self.root, folder)
            above = self._chain(folder.parent) if inner else []
            spec = self._spec(folder)
            cached = [*above, (folder, spec)] if spec is not None else above
            self._chains[folder] = cached
        return cached

    def ignored(self, path: Path, is_dir: bool) -> bool:
        """Is ``path`` ignored by the .gitignore files from the root down to its folder? (deeper win)"""
        text = str(path)
        parent = os.path.dirname(text)  # the chain by folder name: no Path built or hashed per file
        chain = self._by_name.get(parent)
        if chain is None:
            chain = self._by_name[parent] = self._chain(path.parent)
        if not chain:
            return False
        result = False
        for folder, spec in chain:  # relative_to as string slicing (called for every file walked)
            rel = text[len(str(folder).rstrip(os.sep)) + 1:].replace(os.sep, "/") + ("/" if is_dir else "")
            res = spec.check_file(rel)  # type: ignore[attr-defined]
            if res.include is not None:
                result = bool(res.include)
        return result


def resolve(path: Path, given: str | Path | None = None) -> Path:
    """``path.resolve()``; a symlink loop (or a path the system cannot resolve) is one clear
    :class:`StabfixError` naming ``given`` (default: the path), not an internal error."""
    try:
        return path.resolve()
    except RuntimeError:  # "Symlink loop from ..." (Python < 3.13)
        raise StabfixError("is a symlink loop; remove it or --exclude it", path=str(given or path)) from None
    except OSError as exc:  # ELOOP on Python >= 3.13, or e.g. a name too long
        what = "is a symlink loop" if exc.errno == errno.ELOOP else f"cannot be resolved ({exc.strerror})"
        raise StabfixError(f"{what}; remove it or --exclude it", path=str(given or path)) from None


def inside(root: Path, path: Path) -> bool:
    """Is ``path`` the root or under it (both absolute; compared as strings, not ``path.parents``)?"""
    base, text = str(root), str(path)
    return text == base or text.startswith(base if base.endswith(os.sep) else base + os.sep)


def inside_root(root: Path, path: Path, given: str | Path) -> Path:
    """``path`` (resolved by the caller) if it is the root or under it, else a :class:`StabfixError`
    naming ``given`` (the path as the user wrote it). The one "outside the repository root" check:
    the command line's paths, the API's paths and :meth:`Context.resolve` all go through it."""
    if not inside(root, path):
        raise StabfixError(f"{given} is outside the repository root {root}; pass --root or a path inside it")
    return path


def _given(root: Path, given: Path) -> Path:
    """A path from the command line, under the root (not resolved); refused outside it or missing."""
    p = given if given.is_absolute() else root / given
    inside_root(root, resolve(p, given), given)
    if not p.exists():
        raise StabfixError(f"{given} does not exist (paths are relative to the root {root})")
    return p


class _Rules:
    """What a walk keeps, beside the given paths: shared by :func:`discover` and :func:`filter_files`."""

    def __init__(self, root: Path, include: list[str] | None, exclude: list[str] | None, gitignore: bool) -> None:
        self.include = include or []
        self.exclude = exclude or []
        self.ignore = _Ignore(root) if gitignore else None

    def folder_ok(self, folder: Path, rel: str) -> bool:
        """Does a walk descend into ``folder`` (``rel``: its POSIX path under the root)?"""
        return (
            folder.name not in DEFAULT_EXCLUDES
            and not (self.exclude and glob_match(rel, self.exclude))
            and not (self.ignore is not None and self.ignore.ignored(folder, is_dir=True))
        )

    def ignored(self, path: Path) -> bool:
        """Is the file ``path`` gitignored?"""
        return self.ignore is not None and self.ignore.ignored(path, is_dir=False)

    def globs_ok(self, rel: str) -> bool:
        """Do --include/--exclude keep the file ``rel`` (not named explicitly)?"""
        return not (self.exclude and glob_match(rel, self.exclude)) and not (
            self.include and not glob_match(rel, self.include))


def _name(entry: os.DirEntry[str]) -> str:
    return entry.name


def _is_dir(entry: os.DirEntry[str]) -> bool:
    """A folder, or a symlink to one (as os.walk sorts entries; no system call on most systems)."""
    try:
        return entry.is_dir()
    except OSError:
        return False


def _walk(top: Path) -> Iterator[tuple[Path, list[os.DirEntry[str]], list[str]]]:
    """Top-down like ``os.walk(top, followlinks=False)`` (unreadable folders skipped), but with
    the entries themselves: their types come with the listing, so the caller stats nothing. Yields
    each folder, its entries sorted by name, and a list the caller fills with the names of the
    subfolders to walk."""
    pending = [top]
    while pending:
        folder = pending.pop()
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=_name)
        except OSError:
            continue
        descend: list[str] = []
        yield folder, entries, descend
        pending.extend(folder / name for name in reversed(descend))


def discover(
    root: Path,
    paths: list[Path],
    *,
    suffixes: tuple[str, ...] = (".py",),
    names: tuple[str, ...] = (),
    include: list[str] | None = None,
    exclude: list[str] | None = None,
    gitignore: bool = True,
) -> list[Path]:
    """Sorted absolute paths of the files to consider under ``paths``."""
    rules = _Rules(root, include, exclude, gitignore)
    found: list[Path] = []
    seen: set[Path] = set()

    def wanted(name: str) -> bool:  # Path(name).suffix in suffixes, or one of the names
        dot = name.rfind(".")
        return (0 < dot < len(name) - 1 and name[dot:] in suffixes) or name in names

    globs = bool(include or exclude)

    def accept(p: Path, explicit: bool, real: Path | None = None) -> None:
        if real is None:  # else known: no symlink on the way (thousands of files: skip realpath)
            try:
                real = resolve(p, p.relative_to(root) if inside(root, p) else p)
            except StabfixError:  # a symlink loop: an error, unless --exclude rules it out
                if not explicit and not rules.globs_ok(p.relative_to(root).as_posix()):
                    return
                raise
            if not inside(root, real):
                return
        if real in seen:
            return
        if not explicit and globs and not rules.globs_ok(real.relative_to(root).as_posix()):
            return
        seen.add(real)
        found.append(real)

    for given in paths:
        p = _given(root, given)
        if p.is_file():
            accept(p, explicit=True)
            continue
        # the walk does not follow symlinked folders: from a real start, a file that is not itself a
        # symlink is its own real path, inside the root
        real_walk = resolve(p, given) == p
        for d, entries, descend in _walk(p):
            if rules.ignore is not None:
                rules.ignore.listed(d, any(e.name == ".gitignore" and e.is_file() for e in entries))
            for e in entries:
                if _is_dir(e):
                    if e.is_symlink():
                        continue  # listed, never walked into (os.walk's followlinks=False)
                    sub = d / e.name
                    if rules.folder_ok(sub, sub.relative_to(root).as_posix()):
                        descend.append(e.name)
                    continue
                if not wanted(e.name):  # most files: no Path built, no system call
                    continue
                f = d / e.name
                if not rules.ignored(f):
                    accept(f, explicit=False, real=f if real_walk and not e.is_symlink() else None)
    found.sort()
    return found


def filter_files(
    root: Path,
    paths: list[Path],
    files: Iterable[Path],
    *,
    suffixes: tuple[str, ...] = (".py",),
    names: tuple[str, ...] = (),
    include: list[str] | None = None,
    exclude: list[str] | None = None,
    gitignore: bool = True,
) -> list[Path]:
    """The subset of ``files`` (absolute, resolved) that :func:`discover` would find under ``paths``.

    For fixers that already know their candidates (the files a report names): the same rules as a
    walk (default excludes, .gitignore, include/exclude globs, explicit file paths) without walking
    the whole tree. Paths are compared as strings (thousands of files: pathlib costs add up).
    """
    rules = _Rules(root, include, exclude, gitignore)
    sep = os.sep
    root_prefix = str(root).rstrip(sep) + sep
    given: list[tuple[str, bool]] = []  # (the walked folder with a trailing separator, or the file)
    for g in paths:
        p = _given(root, g)
        # a folder is walked as given (symlinks inside it resolved); a file is taken as named
        given.append((str(resolve(p, g)), True) if p.is_file() else (str(p).rstrip(sep) + sep, False))
    dir_ok: dict[tuple[str, str], bool] = {}

    def folder_ok(top: str, folder: str) -> bool:
        """Would a walk from ``top`` (ending with a separator) descend into ``folder``?"""
        if folder + sep == top:
            return True
        key = (top, folder)
        ok = dir_ok.get(key)
        if ok is None:
            rel = folder[len(root_prefix):].replace(sep, "/")
            ok = dir_ok[key] = folder_ok(top, folder.rpartition(sep)[0]) and rules.folder_ok(Path(folder), rel)
        return ok

    found: set[Path] = set()
    for f in files:
        s = str(f)
        if not (s.endswith(suffixes) or f.name in names) or not s.startswith(root_prefix):
            continue
        folder = s.rpartition(sep)[0]
        for top, is_file in given:
            if is_file:
                if s == top:
                    found.add(f)
                    break
                continue
            if not s.startswith(top) or not folder_ok(top, folder) or rules.ignored(f):
                continue
            if rules.globs_ok(s[len(root_prefix):].replace(sep, "/")):
                found.add(f)
                break
    return sorted(found)
