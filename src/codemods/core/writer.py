"""Applying a plan: atomic writes that refuse stale files and never leave the root.

Each new content goes to a temporary file beside its target, is fsynced, given the original
file's permission bits, and renamed over the original (``os.replace`` is atomic on POSIX and
Windows): a file is never seen half-written, whatever happens to the process or the machine. The
folders are not fsynced after the renames (nor does git): after a power cut within the few seconds
the filesystem takes to commit them, a file may show its old content again, never a mix.

Before any rename, every target is checked: inside the root once symlinks are resolved, and as
the fixer read it: the same size, mtime and inode as the stat taken when it was read
(:attr:`~codemods.core.plan.FileChange.stamp`), else its current bytes equal to the bytes read (or
to their digest, once dropped). A check that fails refuses the whole plan and removes the temporary
files, so a run either writes every change or none. A file that its owner may not write (mode
without ``u+w``) or that another user owns is refused the same way: the rename would replace it
with a file of ours. Each file is then checked *again*, reading it, right before its own rename: an
edit another process makes while the others are renamed (or one that kept the stat) leaves that
file as it is (reported, exit 2) instead of being lost. What remains is the few microseconds
between that last read and the rename, per file.

Temporary files are named ``.<name>.stabfix-tmp-<random>`` (:data:`TEMP_GLOB`), the first half
of the random part the run's token. A run killed with SIGKILL cannot remove them; the next run
removes the ones older than itself (and not its own) in every folder it writes to, and the pattern
is added once to the repository's ``.git/info/exclude`` (local to the clone, never committed) so
that git does not offer them meanwhile.

An interrupt (``KeyboardInterrupt``) stops the threads at once: a file being written or renamed
finishes, the others are left as they were, and every temporary file is removed; :attr:`Writer.written`
counts the files put in place.

:class:`Writer` can *stage* changes while the plan is still being made (the engine hands it each
changed file as it comes): temporary files are written by a few threads, in parallel with the
fixers, and :meth:`Writer.commit` then only checks and renames. Past :data:`PROCESS_AFTER` files
the rest are staged by a process of their own (:mod:`codemods.core.stager`): the threads' system
calls contend with the planning for the interpreter lock; that process's do not. Staging writes
nothing a user sees under a file's own name; :meth:`Writer.discard` removes what was staged but not
committed. A change the engine marks ``releasable`` (a write: nothing renders it) drops its texts
once its temporary file is written (or sent to that process), so that a run holds the bytes of the
files in flight, not of every changed file.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import re
import stat
import sys
import threading
import time
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, NamedTuple

from codemods.core.plan import FileChange
from codemods.errors import StabfixError

if TYPE_CHECKING:
    import subprocess

#: threads that write, fsync and rename files in parallel (the waits are on the disk); more of them
#: only contend for the interpreter lock between their system calls (noqa renaming 1,130 files on
#: 2 CPUs: 4 threads took 5-10% less time than 8)
WRITE_THREADS = 4
#: changes staged by those threads; a run that stages more hands the rest to a staging process
#: (:mod:`codemods.core.stager`), whose system calls do not contend with the planning for the GIL
PROCESS_AFTER = 24

#: the names of stabfix's temporary files (a gitignore pattern), and the same as a regex
TEMP_GLOB = ".*.stabfix-tmp-*"
TEMP_NAME = re.compile(r"\..+\.stabfix-tmp-[0-9a-f]{12}\Z", re.S)
_EXCLUDE_LINE = f"{TEMP_GLOB}\n"


def run_token() -> str:
    """A new run's token: the first half of the random part of each of its temporary files' names."""
    return os.urandom(3).hex()


def temp_name(name: str, token: str | None = None) -> str:
    """The temporary file's name for a target named ``name``: ``.<name>.stabfix-tmp-<12 hex>``,
    whose first 6 hex digits are the run's ``token`` when given (a new random one otherwise)."""
    # secrets.token_hex is this, without importing secrets (and hashlib's OpenSSL: MBs)
    return f".{name}.stabfix-tmp-{token or os.urandom(3).hex()}{os.urandom(3).hex()}"


def _temps(folder: str | os.PathLike[str]) -> list[os.DirEntry[str]]:
    """The entries of ``folder`` named as stabfix's temporary files (regular files only)."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    out = []
    for entry in entries:
        if "stabfix-tmp-" in entry.name and TEMP_NAME.match(entry.name):
            with contextlib.suppress(OSError):
                if entry.is_file(follow_symlinks=False):
                    out.append(entry)
    return out


def _of_run(entry: os.DirEntry[str], token: str) -> bool:
    """Is ``entry`` (one of :func:`_temps`) a temporary file of the run ``token``?"""
    return entry.name.rpartition("-")[2].startswith(token)


def remove_stale_temps(folder: str | os.PathLike[str], before: float, keep: str | None = None) -> int:
    """Remove stabfix's temporary files in ``folder`` last modified before ``before`` (a
    ``time.time()``): what a killed run left. ``keep``: a run token whose files are never removed
    (the running run's, whatever a coarse clock says of their age). Returns how many were removed."""
    removed = 0
    for entry in _temps(folder):
        if keep and _of_run(entry, keep):
            continue
        try:
            if entry.stat(follow_symlinks=False).st_mtime < before:
                os.unlink(entry.path)
                removed += 1
        except OSError:
            continue
    return removed


def remove_run_temps(folders: Iterable[str], token: str) -> None:
    """Remove the temporary files of the run ``token`` in ``folders`` (a staging process that was
    stopped or killed may have left some)."""
    for folder in folders:
        for entry in _temps(folder):
            if _of_run(entry, token):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)


def exclude_temps_from_git(root: Path) -> None:
    """Add :data:`TEMP_GLOB` to ``root/.git/info/exclude`` once (a clone's own ignore list, never
    committed), so that a temporary file a killed run leaves is not offered by ``git status``."""
    info = root / ".git" / "info"
    if not (root / ".git").is_dir():
        return
    exclude = info / "exclude"
    with contextlib.suppress(OSError):
        current = exclude.read_text(encoding="utf-8", errors="replace") if exclude.exists() else ""
        if TEMP_GLOB in current.splitlines():
            return
        info.mkdir(exist_ok=True)
        with open(exclude, "a", encoding="utf-8") as fh:
            sep = "\n" if current and not current.endswith("\n") else ""
            fh.write(f"{sep}# temporary files of stabfix (a killed run may leave some; the next run removes them)\n"
                     + _EXCLUDE_LINE)


class _Targets:
    """Resolve each change's path with symlinks followed: one ``lstat`` per folder and per file,
    folders resolved from their (cached) parent. Called by the staging threads: a race on its
    caches only computes the same entry twice."""

    def __init__(self, root: Path) -> None:
        self.root = os.path.realpath(root)
        self.prefix = self.root.rstrip(os.sep) + os.sep
        self.folders: dict[str, str] = {"": self.root}
        self.paths: dict[str, Path] = {}
        #: the lstat of each file resolved that is no symlink (its stat too): taken by the check of
        #: its permissions, which then needs no system call of its own
        self.stats: dict[str, os.stat_result] = {}

    def _folder(self, rel: str) -> str:
        real = self.folders.get(rel)
        if real is None:
            parent, _, name = rel.rpartition("/")
            real = os.path.join(self._folder(parent), name)
            if name in ("", ".", "..") or os.path.islink(real):
                real = os.path.realpath(real)
            self.folders[rel] = real
        return real

    def __call__(self, change: FileChange) -> Path:
        rel = change.path
        known = self.paths.get(rel)
        if known is not None:
            return known
        folder, _, name = rel.rpartition("/")
        full = os.path.join(self._folder(folder), name)
        special = name in ("", ".", "..")
        st: os.stat_result | None = None
        if not special:
            with contextlib.suppress(OSError, ValueError):  # missing: no symlink (as os.path.islink)
                st = os.lstat(full)
        if special or (st is not None and stat.S_ISLNK(st.st_mode)):
            full, st = os.path.realpath(full), None
        if not (full + os.sep).startswith(self.prefix) or full == self.root:
            raise StabfixError(
                "refusing to write outside the repository root (symlink or '..' in the path)", path=rel
            )
        if st is not None:
            self.stats[rel] = st
        path = self.paths[rel] = Path(full)
        return path


def _check_one(path: Path, change: FileChange, *, by_stat: bool = False) -> None:
    """Refuse a file that is not as the fixer read it (or, for a creation, exists now).

    ``by_stat``: a file whose size, mtime and inode are still those of the stat taken before it was
    read (:attr:`FileChange.stamp`) passes without being read again; any other is read and compared
    (its bytes, or their digest once dropped). The check right before each rename
    (:func:`_check_late`) always reads, so an edit that leaves the stat as it was is still caught.
    """
    if change.is_creation:
        if path.exists() or path.is_symlink():
            raise StabfixError("exists already (created since the plan was made); nothing written", change.path)
        return
    try:
        if by_stat and change.stamp is not None:
            st = os.stat(path)
            if (st.st_size, st.st_mtime_ns, st.st_ino) == change.stamp:
                return
        current = path.read_bytes()
    except FileNotFoundError:
        raise _deleted(change) from None
    if not change.matches(current):
        raise StabfixError("changed during the run; nothing written, run stabfix again", change.path)


def _check_late(path: Path, change: FileChange) -> None:
    """The check of :func:`_check_one` again (reading the file), right before the rename, once
    other files may have been written: a file changed since is left as it is (its temporary file
    removed) and reported."""
    try:
        _check_one(path, change)
    except StabfixError as exc:
        what = "exists already (created during the run)" if change.is_creation else (
            "was deleted during the run" if "deleted" in exc.message else "changed during the run")
        raise StabfixError(f"{what}; left as it is (the other files were written); run stabfix again",
                           change.path) from None


def _check_writable(path: Path, change: FileChange, st: os.stat_result | None = None) -> int:
    """The permission bits of ``path`` (``st``: its stat, if taken already); refuse a file we must
    not replace by a rename."""
    if st is None:
        st = path.stat()
    if not st.st_mode & stat.S_IWUSR:
        raise StabfixError("write-protected (its owner may not write it); nothing written", change.path)
    if hasattr(os, "geteuid") and st.st_uid != os.geteuid():
        raise StabfixError(f"owned by another user (uid {st.st_uid}); nothing written", change.path)
    return stat.S_IMODE(st.st_mode)


def _temp_beside(path: Path, data: bytes, mode: int, token: str | None = None) -> Path:
    """Write ``data`` to a new fsynced temporary file in ``path``'s folder; return its path."""
    for attempt in range(8):  # a random name of one pattern; O_EXCL refuses anything already there
        tmp = path.parent / temp_name(path.name, token)
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
            break
        except FileExistsError:
            if attempt == 7:
                raise
    try:
        try:
            if hasattr(os, "fchmod"):
                os.fchmod(fd, mode)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        if not hasattr(os, "fchmod"):
            os.chmod(tmp, mode)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return tmp


def write_atomic(path: Path, data: bytes, mode: int | None = None) -> None:
    """Write ``data`` to ``path`` through a fsynced temporary file and a rename."""
    if mode is None:
        mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else 0o644
    tmp = _temp_beside(path, data, mode)
    try:
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _deleted(change: FileChange) -> StabfixError:
    return StabfixError("was deleted during the run; nothing written, run stabfix again", change.path)


def _cannot_write(change: FileChange, exc: OSError) -> StabfixError:
    return StabfixError(f"cannot write: {exc.strerror}; nothing of this file was written", change.path)


class Interrupted(KeyboardInterrupt):
    """A run stopped by an interrupt after ``written`` files were put in place (each whole)."""

    def __init__(self, written: int = 0) -> None:
        super().__init__(written)
        self.written = written


class StageSpec(NamedTuple):
    """What a worker process needs to stage changes as the run's :class:`Writer` would: the root,
    when the run started (older temporary files are a killed run's) and the run's token."""

    root: str
    started: float
    token: str


class Stager:
    """Writes each change's temporary file: resolved inside the root, its folder cleaned of what a
    killed run left, its permissions checked, its new bytes fsynced. The :class:`Writer`'s threads
    share one; its staging process (:mod:`codemods.core.stager`) makes its own from the same
    :class:`StageSpec`."""

    def __init__(self, spec: StageSpec) -> None:
        self.spec = spec
        self.resolve = _Targets(Path(spec.root))
        self._swept: set[str] = set()  # folders cleaned of stale temporary files

    def sweep(self, folder: Path) -> None:
        """Remove what a killed run left in ``folder`` (once per folder; two threads or workers
        that race sweep it twice, harmlessly: this run's own files carry its token and stay)."""
        key = str(folder)
        if key not in self._swept:
            remove_stale_temps(folder, self.spec.started, keep=self.spec.token)
            self._swept.add(key)

    def stage(self, change: FileChange) -> Path:
        """Write ``change``'s temporary file beside its target and return its path; raise
        :class:`StabfixError` for a file that must not be written. A ``releasable`` change then
        drops its texts."""
        path = self.resolve(change)
        self.sweep(path.parent)
        try:
            st = self.resolve.stats.pop(change.path, None)
            tmp = _temp_beside(path, change.new, _check_writable(path, change, st), self.spec.token)
        except FileNotFoundError:
            raise _deleted(change) from None
        except OSError as exc:
            raise _cannot_write(change, exc) from None
        if change.releasable:
            change.release()  # its new bytes are in the temporary file; a digest replaces the old ones
        return tmp


class Writer:
    """Stage changes early, commit them all at once (or none); usable as a context manager that
    discards whatever was staged but not committed."""

    #: files per task handed to a thread (one hand-off per file costs more than the write)
    BATCH = 8

    def __init__(self, root: Path) -> None:
        self.root = root
        self._stager = Stager(StageSpec(str(root), time.time(), run_token()))
        self._resolve = self._stager.resolve
        self._pool: ThreadPoolExecutor | None = None
        # path -> (the change, its future temporary file, or the error that refuses the plan)
        self._staged: dict[str, tuple[FileChange, Future[Path] | StabfixError]] = {}
        self._batch: list[tuple[FileChange, Future[Path]]] = []
        self._stop = threading.Event()  # set on an interrupt: the threads start no other file
        self._done: list[str] = []  # files put in place (list.append is atomic across threads)
        self._excluded = False
        self._threaded = 0  # changes staged by the threads
        self._proc: subprocess.Popen[bytes] | None = None  # the staging process, once started
        self._sent: list[tuple[FileChange, Future[Path]]] = []  # changes it stages, by index
        self._sent_folders: set[str] = set()
        self._no_process = False

    @property
    def written(self) -> int:
        """How many files :meth:`commit` has put in place."""
        return len(self._done)

    def _threads(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=WRITE_THREADS, thread_name_prefix="stabfix-write")
        return self._pool

    def _exclude(self) -> None:
        if not self._excluded:
            self._excluded = True
            exclude_temps_from_git(Path(self._resolve.root))

    def stage(self, change: FileChange) -> None:
        """Start writing ``change``'s temporary file (existing files only; creations wait for commit)."""
        if change.is_creation or change.path in self._staged:
            return
        if change.released:  # its texts went with another writer's temporary file
            self._staged[change.path] = (change, StabfixError(
                "stabfix bug: a change whose texts were dropped is staged again; nothing written", change.path))
            return
        future: Future[Path] = Future()  # its path is resolved where it is staged (outside the root fails it)
        self._staged[change.path] = (change, future)
        if self._threaded >= PROCESS_AFTER and self._process() is not None:
            self._send(change, future)
            return
        self._threaded += 1
        self._batch.append((change, future))
        if len(self._batch) >= self.BATCH:
            self._flush()

    # -- the staging process -----------------------------------------------------------------------
    def _start(self) -> subprocess.Popen[bytes]:
        import subprocess

        self._exclude()
        spec = self._stager.spec
        where = str(Path(__file__).resolve().parents[2])  # the folder that holds the codemods package
        code = (f"import sys; sys.path.insert(0, {where!r}); from codemods.core.stager import main; "
                "sys.exit(main(sys.argv[1:]))")
        # -S: the standard library and codemods are all it imports; its own session: a Ctrl-C
        # is the parent's to handle, which then closes the process's input
        proc = subprocess.Popen(
            [sys.executable, "-S", "-c", code, spec.root, repr(spec.started), spec.token],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=1 << 16,
            start_new_session=os.name == "posix",
        )
        with contextlib.suppress(AttributeError, OSError):  # more room in the pipe (Linux): fewer waits
            import fcntl

            fcntl.fcntl(proc.stdin.fileno(), fcntl.F_SETPIPE_SZ, 1 << 20)  # type: ignore[union-attr]
        return proc

    def _process(self) -> subprocess.Popen[bytes] | None:
        """The staging process, started on first use; None where it cannot start (no
        interpreter to run it: the threads stage everything)."""
        if self._proc is None and not self._no_process:
            try:
                if not sys.executable:
                    raise OSError("no interpreter")
                self._proc = self._start()
            except OSError:
                self._no_process = True
        return self._proc

    def _send(self, change: FileChange, future: Future[Path]) -> None:
        from codemods.core.stager import HEADER

        assert self._proc is not None
        stdin: IO[bytes] | None = self._proc.stdin
        assert stdin is not None
        rel = change.path.encode("utf-8")
        self._sent.append((change, future))
        self._sent_folders.add(os.path.dirname(os.path.join(self._resolve.root, change.path)))
        try:
            stdin.write(HEADER.pack(len(self._sent) - 1, len(rel), len(change.new)) + rel)
            stdin.write(change.new)
        except OSError:  # the process ended: _collect says so
            pass
        if change.releasable:
            change.release()  # its new bytes are in the pipe; a digest replaces the old ones

    def _collect(self) -> None:
        """End the staging process's input and take its answers: each sent change's temporary
        file, or the error that refuses the plan. Interrupted, the process is :meth:`_abandon`'s."""
        proc = self._proc
        if proc is None:
            return
        from codemods.core.stager import DONE, HEADER

        assert proc.stdin is not None and proc.stdout is not None
        replies: list[tuple[int, str | None, str | None]]
        try:
            proc.stdin.write(HEADER.pack(DONE, 0, 0))
            proc.stdin.close()
            data = proc.stdout.read()
            replies = marshal.loads(data) if data else []
        except (OSError, ValueError, EOFError, TypeError):
            replies = []
        code = proc.wait()
        proc.stdout.close()
        sent, self._proc, self._sent = self._sent, None, []
        answered = set()
        for index, tmp, error in replies:
            change, future = sent[index]
            answered.add(index)
            if tmp is not None:
                future.set_result(Path(tmp))
            else:
                future.set_exception(StabfixError(error or "not staged", change.path))
        for index, (change, future) in enumerate(sent):
            if index not in answered:
                future.set_exception(StabfixError(
                    f"stabfix bug: the writer's staging process ended (exit {code}); nothing written", change.path))

    def _abandon(self) -> None:
        """Stop the staging process without renaming anything (it removes what it wrote), then
        remove whatever of this run's is left where it wrote: the files of a process that got
        the end of its input, or was killed, carry this run's token."""
        proc, self._proc, self._sent = self._proc, None, []
        try:
            if proc is not None:
                for stream in (proc.stdin, proc.stdout):  # its answers are not wanted: not read
                    with contextlib.suppress(OSError, ValueError):
                        if stream is not None:
                            stream.close()
                try:
                    proc.wait(30)
                except BaseException:
                    proc.kill()
                    proc.wait()
                    raise
        finally:
            if self._sent_folders:
                remove_run_temps(self._sent_folders, self._stager.spec.token)
                self._sent_folders = set()

    def _flush(self) -> None:
        if self._batch:
            self._exclude()
            self._threads().submit(self._stage_batch, self._batch)
            self._batch = []

    def _stage_batch(self, batch: list[tuple[FileChange, Future[Path]]]) -> None:
        for change, future in batch:
            if self._stop.is_set():
                future.cancel()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(self._stager.stage(change))
            except BaseException as exc:
                future.set_exception(exc)

    def commit(self, changes: list[FileChange]) -> None:
        """Check every change, then put them all in place; refuse all of them on any problem."""
        for change in changes:
            entry = self._staged.get(change.path)
            if entry is not None and entry[0] is not change:
                self._forget(change.path)
            self.stage(change)
        self._flush()
        self._collect()
        try:
            self._commit(changes)
        except BaseException:
            self._stop.set()  # e.g. an interrupt: no other file is started; discard() cleans up
            raise

    def _commit(self, changes: list[FileChange]) -> None:
        targets: list[tuple[Path, FileChange, Path | None]] = []
        self._exclude()
        for change in changes:
            if change.is_creation:
                targets.append((self._resolve(change), change, None))
                continue
            staged = self._staged[change.path][1]
            if isinstance(staged, StabfixError):
                raise staged
            tmp = staged.result()  # raises the staging error, if any
            targets.append((self._resolve(change), change, tmp))
        for path, change, _ in targets:  # every file as the fixer read it, right before any rename
            _check_one(path, change, by_stat=True)
        step = self.BATCH
        futures = [self._threads().submit(self._put_batch, targets[i:i + step]) for i in range(0, len(targets), step)]
        errors = [exc for f in futures for exc in f.result()]
        done = {c.path for c in changes}
        self._staged = {p: e for p, e in self._staged.items() if p not in done}
        self._sent_folders = set()  # nothing of the staging process's is left to remove
        if len(errors) == 1:
            raise errors[0]
        if errors:
            names = [e.path or "?" for e in errors if isinstance(e, StabfixError)]
            first = next((e for e in errors if not isinstance(e, StabfixError)), None)
            if first is not None:
                raise first
            raise StabfixError(
                f"{len(errors)} files were not written (changed during the run, or not writable): "
                f"{', '.join(names)}; the other {self.written} were written; run stabfix again"
            )

    def _put_batch(self, batch: list[tuple[Path, FileChange, Path | None]]) -> list[BaseException]:
        errors: list[BaseException] = []
        for path, change, tmp in batch:
            if self._stop.is_set():
                break  # the temporary files left are discard()'s
            try:
                if tmp is None:  # a creation: its folder was not swept while staging
                    self._stager.sweep(path.parent)
                _check_late(path, change)  # right before its own rename: the window is per file
                self._put(path, change, tmp)
                self._done.append(change.path)
            except BaseException as exc:
                if tmp is not None:
                    with contextlib.suppress(OSError):
                        os.unlink(tmp)
                errors.append(exc)
        return errors

    @staticmethod
    def _put(path: Path, change: FileChange, tmp: Path | None) -> None:
        try:
            if tmp is None:  # a creation
                if not path.parent.exists():
                    path.parent.mkdir(parents=True, exist_ok=True)
                write_atomic(path, change.new, change.mode if change.mode is not None else 0o644)
                return
            os.replace(tmp, path)
        except OSError as exc:
            if tmp is not None:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
            raise _cannot_write(change, exc) from None

    def _forget(self, rel: str) -> None:
        self._flush()  # its future may still sit in the batch
        entry = self._staged.pop(rel, None)
        if entry is None or isinstance(entry[1], StabfixError):
            return
        future = entry[1]
        if any(f is future for _, f in self._sent):
            self._collect()  # the staging process's: its answers first
        with contextlib.suppress(Exception):
            tmp = future.result()
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)

    def discard(self) -> None:
        """Remove every staged temporary file that was not committed; stop the threads (a file
        being written finishes, no other is started)."""
        self._stop.set()
        futures = [entry for _, entry in self._staged.values() if isinstance(entry, Future)]
        for future in futures:
            future.cancel()  # not started yet (or the staging process's): never will be
        self._abandon()
        self._batch, self._staged = [], {}
        step = self.BATCH * 4  # removed by the threads too: an unlink may wait on a busy disk
        for i in range(0, len(futures), step):
            self._threads().submit(self._remove, futures[i:i + step])
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        self._stop.clear()

    @staticmethod
    def _remove(futures: list[Future[Path]]) -> None:
        """Remove the temporary files of staged changes (each cancelled, or done by now or soon)."""
        for future in futures:
            with contextlib.suppress(Exception):  # cancelled or failed: no file; or gone already
                os.unlink(future.result())

    def __enter__(self) -> Writer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.discard()


def apply_changes(root: Path, changes: list[FileChange]) -> None:
    """Check every change, then write them all (each atomically, several at a time)."""
    with Writer(root) as writer:
        writer.commit(changes)
