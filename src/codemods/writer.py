"""Applying a plan: atomic writes that refuse stale files and never leave the root.

Each file is written to a temporary file in its own folder, flushed and fsynced, given the original
file's permission bits, and renamed over the original (``os.replace`` is atomic on POSIX and
Windows). Before any write, every target is checked: inside the root once symlinks are resolved, and
its current bytes equal to the bytes the fixer read. A check that fails refuses the whole plan, so a
run either writes every change or none.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from .errors import StabfixError
from .plan import FileChange


def _target(root: Path, change: FileChange) -> Path:
    path = (root / change.path).resolve()
    if path != root and root not in path.parents:
        raise StabfixError(
            "refusing to write outside the repository root (symlink or '..' in the path)", path=change.path
        )
    return path


def check(root: Path, changes: list[FileChange]) -> None:
    """Refuse the plan when a file changed since it was read, or a creation target exists."""
    for change in changes:
        path = _target(root, change)
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


def write_atomic(path: Path, data: bytes, mode: int | None, *, sync_dir: bool = True) -> None:
    """Write ``data`` to ``path`` through a fsynced temporary file and a rename.

    ``sync_dir=False`` leaves the folder's fsync (which makes the rename durable) to the caller,
    so that a plan touching many files in one folder syncs that folder once.
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".stabfix-tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if mode is not None:
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


def apply_changes(root: Path, changes: list[FileChange]) -> None:
    """Check every change, then write them one by one (each atomically)."""
    check(root, changes)
    folders: set[Path] = set()
    for change in changes:
        path = _target(root, change)
        if change.is_creation:
            parent = path.parent
            if not parent.exists():
                parent.mkdir(parents=True)
            mode = change.mode if change.mode is not None else 0o644
        else:
            st = path.stat()
            mode = stat.S_IMODE(st.st_mode)
            # Last-moment staleness check (another process may have written since check()).
            if path.read_bytes() != change.old:
                raise StabfixError("changed during the run; not written, run stabfix again", change.path)
        try:
            write_atomic(path, change.new, mode, sync_dir=False)
        except OSError as exc:
            raise StabfixError(f"cannot write: {exc.strerror}; nothing of this file was written", change.path) from None
        folders.add(path.parent)
    for folder in sorted(folders):
        fsync_dir(folder)
