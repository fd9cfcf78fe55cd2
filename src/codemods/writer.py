"""Applying a plan: atomic writes that refuse stale files and never leave the root.

Each file is written to a temporary file in its own folder, flushed and fsynced, given the original
file's permission bits, and renamed over the original (``os.replace`` is atomic on POSIX and
Windows). Before any write, every target is checked: inside the root once symlinks are resolved, and
its current bytes equal to the bytes the fixer read. A check that fails refuses the whole plan, so a
run either writes every change or none. The writes themselves run in a few threads (``fsync`` waits
on the disk, not on the interpreter), each re-checking its file at the last moment.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .errors import StabfixError
from .plan import FileChange

#: threads that write and fsync files in parallel
WRITE_THREADS = 16


class _Targets:
    """Resolve each change's path with symlinks followed, one ``realpath`` per folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.prefix = str(root).rstrip(os.sep) + os.sep
        self.folders: dict[str, str] = {}

    def __call__(self, change: FileChange) -> Path:
        rel = change.path
        folder, _, name = rel.rpartition("/")
        real = self.folders.get(folder)
        if real is None:
            real = self.folders[folder] = os.path.realpath(os.path.join(self.root, folder))
        full = os.path.join(real, name)
        if name in ("", ".", "..") or os.path.islink(full):
            full = os.path.realpath(full)
        if not (full + os.sep).startswith(self.prefix) or full == str(self.root):
            raise StabfixError(
                "refusing to write outside the repository root (symlink or '..' in the path)", path=rel
            )
        return Path(full)


def check(root: Path, changes: list[FileChange]) -> list[Path]:
    """Refuse the plan when a file changed since it was read, or a creation target exists.

    Returns each change's resolved target path.
    """
    resolve = _Targets(root)
    targets: list[Path] = []
    for change in changes:
        path = resolve(change)
        targets.append(path)
        if change.is_creation:
            if path.exists() or path.is_symlink():
                raise StabfixError("exists already (created since the plan was made); nothing written", change.path)
            continue
        try:
            current = path.read_bytes()
        except FileNotFoundError:
            raise StabfixError("was deleted during the run; nothing written, run stabfix again", change.path) from None
        if current != change.old:
            raise StabfixError("changed during the run; nothing written, run stabfix again", change.path)
    return targets


_serial = itertools.count()


def write_atomic(path: Path, data: bytes, mode: int | None, *, sync_dir: bool = True) -> None:
    """Write ``data`` to ``path`` through a fsynced temporary file and a rename.

    ``sync_dir=False`` leaves the folder's fsync (which makes the rename durable) to the caller,
    so that a plan touching many files in one folder syncs that folder once.
    """
    # a name unique to this process and write (O_EXCL refuses anything already there)
    tmp = path.parent / f".{path.name}.{os.getpid()}-{next(_serial)}.stabfix-tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
    try:
        try:
            if mode is not None and hasattr(os, "fchmod"):
                os.fchmod(fd, mode)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        if mode is not None and not hasattr(os, "fchmod"):
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    if sync_dir:
        fsync_dir(path.parent)


def fsync_dir(folder: Path) -> None:
    """Make the renames in ``folder`` durable (a no-op where folders cannot be opened)."""
    try:
        dfd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


def _write_one(path: Path, change: FileChange) -> None:
    if change.is_creation:
        parent = path.parent
        if not parent.exists():
            parent.mkdir(parents=True, exist_ok=True)
        mode = change.mode if change.mode is not None else 0o644
    else:
        mode = stat.S_IMODE(path.stat().st_mode)
        # Last-moment staleness check (another process may have written since check()).
        if path.read_bytes() != change.old:
            raise StabfixError("changed during the run; not written, run stabfix again", change.path)
    try:
        write_atomic(path, change.new, mode, sync_dir=False)
    except OSError as exc:
        raise StabfixError(f"cannot write: {exc.strerror}; nothing of this file was written", change.path) from None


def apply_changes(root: Path, changes: list[FileChange]) -> None:
    """Check every change, then write them (each atomically, several at a time)."""
    targets = check(root, changes)
    if len(changes) < 4:
        for path, change in zip(targets, changes, strict=True):
            _write_one(path, change)
    else:
        with ThreadPoolExecutor(max_workers=WRITE_THREADS) as pool:
            futures = [pool.submit(_write_one, p, c) for p, c in zip(targets, changes, strict=True)]
            errors = [exc for f in futures if (exc := f.exception()) is not None]
        if errors:
            raise errors[0]
    for folder in sorted({p.parent for p in targets}):
        fsync_dir(folder)
