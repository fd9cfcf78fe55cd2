"""The engine: discover, pre-filter, run a fixer (in a process pool when there are many files),
validate what it proposes, and hand back a :class:`~codemods.core.plan.Plan`. It knows no fixer by name.

Validation: every changed Python file must parse again; a fixer output that does not parse is a
failure for that file (reported, not written). Edits that a fixer declares as touching trailing
comments only are checked line by line instead (:func:`comment_only_change`), which proves the same
for them at a fraction of the cost; a false claim fails the file (no fallback to a full parse, which
would accept new code). A file that does not decode, or that a fixer rejects
(:class:`~codemods.errors.FileFailure`), is failed too; the other files go on.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pickle
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from codemods.core.context import Context
from codemods.core.contract import FileFixer, Fixer, Outcome, RepoFixer
from codemods.core.plan import FileChange, FileResult, Notice, Plan
from codemods.core.source import MAX_FILE_SIZE, SourceFile, decode, is_generated, read_source
from codemods.core.validate import comment_only_change, validate_python
from codemods.errors import FileFailure

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

#: below this many candidate files a pool costs more than it saves
POOL_THRESHOLD = 48
#: with no --jobs / `jobs` given, files run here first (at least this many, and this share of
#: them) to measure what one byte costs to fix and to send back from a worker (see _pool_pays)
SAMPLE_FILES, SAMPLE_SHARE = 8, 0.04
#: without a pool after the sample, the decision is made again after each this many files
RECHECK_FILES = 24
#: sampled files that are run but not timed (the first ones pay for lazy imports and caches)
WARM_UP = 2
#: a pool must save at least this share of the time left, net of its measured costs
POOL_MARGIN = 0.25
#: what starting one worker costs (fork, first-call costs, the pool's threads), and how many times
#: an in-process pickle round trip a result's real trip from a worker costs (pipes, the pool's
#: thread, the GIL): calibrated on ``noqa`` over litellm (1,086 files), where a 2-worker pool
#: measured no faster than one process
WORKER_START, TRIP_FACTOR = 0.1, 4

Progress = Callable[[int, int], None]


def run_one(fixer: FileFixer, source: SourceFile) -> FileResult:
    """Run a file fixer on one decoded file and turn its outcome into a validated result."""
    try:
        outcome: Outcome = fixer.fix(source)
    except FileFailure as exc:
        where = f"line {exc.line}: " if exc.line else ""
        return FileResult(source.rel, "failed", where + exc.message)
    except RecursionError:
        return FileResult(source.rel, "failed", "too deeply nested for the parser")
    result = _decide(fixer, source, outcome)
    result.notices = [n if n.path else Notice(n.message, source.rel, n.line, n.level) for n in outcome.notices]
    return result


def _decide(fixer: FileFixer, source: SourceFile, outcome: Outcome) -> FileResult:
    edits = outcome.edits
    if outcome.text is None or outcome.text == source.text:
        status = outcome.status if outcome.status in ("skipped", "failed") else "unchanged"
        return FileResult(source.rel, status, outcome.reason, edits)  # type: ignore[arg-type]
    if outcome.comment_lines is not None:
        # a claim to touch comments only is checked, and a false claim fails the file: falling back
        # to a full parse would accept new code that still parses (e.g. a code field from a report
        # that carries a newline and a statement)
        if not comment_only_change(source.text, outcome.text, outcome.comment_lines):
            return FileResult(
                source.rel, "failed",
                f"stabfix bug: the {fixer.name} edit changes more than trailing comments; nothing written",
                edits,
            )
    elif source.is_python:
        err = validate_python(source, outcome.text)
        if err is not None:
            return FileResult(
                source.rel, "failed",
                f"stabfix bug: the {fixer.name} output does not parse ({err}); nothing written", edits,
            )
    try:
        new = source.encode(outcome.text)
    except UnicodeEncodeError:
        return FileResult(source.rel, "failed", f"the new text cannot be encoded as {source.encoding}", edits)
    reason = outcome.reason or f"{len(edits)} edit(s)"
    return FileResult(source.rel, "changed", reason, edits,
                      FileChange(source.rel, source.raw, new, reason, stamp=source.stamp))


# -- process pool: the fixer is sent once per worker, then only paths travel ------------------------
_WORKER_FIXER: FileFixer | None = None
_WORKER_LIMIT = MAX_FILE_SIZE


def _init_worker(fixer: FileFixer, limit: int = MAX_FILE_SIZE) -> None:
    global _WORKER_FIXER, _WORKER_LIMIT
    _WORKER_FIXER, _WORKER_LIMIT = fixer, limit
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10000))


def _load(fixer: FileFixer, path: Path, rel: str, *, screen: bool = True,
          limit: int = MAX_FILE_SIZE) -> SourceFile | FileResult:
    """Read one file, and screen it (over ``limit`` bytes or generated: skipped; pre-filtered out:
    unchanged).

    Returns the source when the fixer must see it, else the file's result.
    """
    try:
        source = read_source(path, rel, limit)
    except FileFailure as exc:
        return FileResult(rel, "skipped" if exc.status == "skipped" else "failed", exc.message)
    except OSError as exc:
        return FileResult(rel, "failed", f"cannot read: {exc.strerror}")
    if screen and is_generated(source.raw):
        return FileResult(rel, "skipped", "generated file (@generated)")
    if screen and not fixer.prefilter(source):
        return FileResult(rel, "unchanged", "")
    return source


def _work(item: tuple[str, str, bool]) -> FileResult:
    """One file in a worker process; ``item`` is (path, rel, screen it here)."""
    path, rel, screen = item
    assert _WORKER_FIXER is not None
    loaded = _load(_WORKER_FIXER, Path(path), rel, screen=screen, limit=_WORKER_LIMIT)
    return loaded if isinstance(loaded, FileResult) else _guarded(_WORKER_FIXER, loaded)


def _work_chunk(chunk: list[tuple[str, str, bool]]) -> list[FileResult]:
    return [_work(item) for item in chunk]


def _guarded(fixer: FileFixer, source: SourceFile) -> FileResult:
    try:
        return run_one(fixer, source)
    except Exception as exc:  # a fixer bug must not take the whole run down
        return FileResult(source.rel, "failed", f"stabfix bug in {fixer.name}: {type(exc).__name__}: {exc}")


# -- interrupts: the parent handles them (SIGINT, SIGTERM), terminating its workers ----------------
_INTERRUPTS = {signal.SIGINT, signal.SIGTERM}
#: live process pools -> the thread whose run uses each (see stop_workers)
_POOLS: dict[ProcessPoolExecutor, int] = {}


def _start_worker(fixer: FileFixer, limit: int) -> None:
    """A worker's initializer: ignore Ctrl-C (sent to the whole process group), die of SIGTERM."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _INTERRUPTS)
    _init_worker(fixer, limit)


@contextlib.contextmanager
def _interrupts_blocked() -> Iterator[None]:
    """Hold SIGINT/SIGTERM back (delivered on exit): workers started here inherit the mask, so
    none is interrupted before its initializer ignores SIGINT."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, _INTERRUPTS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _terminate(pool: ProcessPoolExecutor) -> None:
    """Stop a pool now: terminate its workers (killed after 1 s); its queued work fails."""
    _POOLS.pop(pool, None)
    procs = list((pool._processes or {}).values())  # None once shut down
    for proc in procs:
        proc.terminate()
    for proc in procs:
        proc.join(1)
        if proc.exitcode is None:
            proc.kill()
            proc.join()
    # A worker killed while sending a result leaves half a message in the pipe, which the pool's
    # thread would wait to complete forever: with our copy of the write end closed, that read ends.
    if pool._result_queue is not None:
        getattr(pool._result_queue, "_writer").close()  # noqa: B009 - private, not in the stubs
    pool.shutdown()  # its thread ends now (left running, it races the interpreter's exit in 3.11)


def stop_workers() -> None:
    """Terminate the worker processes of the runs of this thread (on an interrupt: a suspended
    :func:`_pool` generator would only stop them when it is collected)."""
    for pool, owner in list(_POOLS.items()):
        if owner == threading.get_ident():
            _terminate(pool)


def _pool(
    fixer: FileFixer, items: list[tuple[str, str, bool]], jobs: int, progress: Progress | None,
    limit: int = MAX_FILE_SIZE,
) -> Iterator[FileResult]:
    """Run the fixer over ``(path, rel, screen)`` items in worker processes (only paths cross over)."""
    from concurrent.futures import ProcessPoolExecutor  # multiprocessing: only when pooling

    total = len(items)
    jobs = max(1, min(jobs, total))  # never more workers than files
    # chunks of ~10-50 ms of work: fewer hand-offs through the main process, a short tail
    chunk = max(1, min(48, total // (jobs * 12)))
    pool = ProcessPoolExecutor(max_workers=jobs, initializer=_start_worker, initargs=(fixer, limit))
    _POOLS[pool] = threading.get_ident()
    try:
        with _interrupts_blocked():  # the workers start here
            futures = [pool.submit(_work_chunk, items[i:i + chunk]) for i in range(0, total, chunk)]
        # (not pool.map: stopped, it cancels its futures, which trips the stopping pool in 3.11)
        for i, result in enumerate(itertools.chain.from_iterable(f.result() for f in futures), 1):
            if progress:
                progress(i, total)
            yield result
    except BaseException:  # an interrupt, or the caller stopped early: no result is wanted
        _terminate(pool)
        raise
    pool.shutdown()
    _POOLS.pop(pool, None)


def _run_files(fixer: FileFixer, ctx: Context, progress: Progress | None) -> Iterator[FileResult]:
    """Read and pre-filter every file here; parse only the candidates (in a pool when it pays).

    A fixer that names its candidates up front (:meth:`FileFixer.candidates`) has nothing to
    pre-filter: with many files, the workers read them and the main process reads none.

    With ``--jobs N`` (or ``jobs`` in the config) the pool runs from :data:`POOL_THRESHOLD` files
    on. Without, the first files run here and their measured cost decides (:func:`_pool_pays`):
    a pool only where it is worth more than it costs, so never slower than ``--jobs 1``. Files
    sorted by path need not cost alike (a tree's first folder of quick skips, then modules to
    rewrite): while no pool, the decision is made again every :data:`RECHECK_FILES` files, on all
    that ran here.
    """
    known = fixer.candidates(ctx)
    found = ctx.discover(fixer.suffixes) if known is None else ctx.filter(known, fixer.suffixes)
    files = fixer.select(ctx, found)
    limit = ctx.max_file_size
    auto = ctx.jobs == 0
    jobs = default_jobs(ctx.jobs or None)
    if not auto and known is not None and jobs > 1 and len(files) >= POOL_THRESHOLD:
        yield from _pool(fixer, [(str(f), ctx.rel(f), True) for f in files], jobs, progress, limit)
        return
    candidates: list[SourceFile | Path] = []
    if known is not None:  # read as they run (here, or by the workers)
        candidates = list(files)
    else:
        for f in files:
            loaded = _load(fixer, f, ctx.rel(f), limit=limit)
            if isinstance(loaded, FileResult):
                yield loaded
            else:
                candidates.append(loaded)
    total = len(candidates)
    done = 0
    if auto and jobs > 1 and total >= POOL_THRESHOLD:
        sample = max(SAMPLE_FILES, int(total * SAMPLE_SHARE))
        sizes = [_size(c) for c in candidates]
        took = sent = after = 0.0  # sent: the trips of the sample's timed files (after the warm-up)
        timed_bytes, timed_files = sum(sizes[WARM_UP:sample]), sample - WARM_UP
        cpu, own = time.process_time(), time.thread_time()  # other threads' CPU: the writer's
        pays = False
        # the sample decides; a cost per byte that grows later in the (sorted) list is seen at the
        # next checks, while the files left can still fill a pool
        while not pays and done < total - POOL_THRESHOLD:
            for item in candidates[done:done + (sample if done == 0 else RECHECK_FILES)]:
                start = time.perf_counter()
                result = _run_item(fixer, ctx, item, limit)
                if done >= WARM_UP:  # the first files pay one-time costs (lazy imports, caches)
                    took += time.perf_counter() - start
                    if done < sample:
                        start = time.perf_counter()
                        pickle.loads(pickle.dumps(result, pickle.HIGHEST_PROTOCOL))  # its trip from a worker
                        sent += time.perf_counter() - start
                done += 1
                if progress:
                    progress(done, total)
                start = time.perf_counter()
                yield result
                if done > WARM_UP:
                    after += time.perf_counter() - start  # what this process does with it (staging it...)
            writer = max(0.0, (time.process_time() - cpu) - (time.thread_time() - own))
            # the rest costs what the files run here cost per byte, or per file (small files with
            # a fixed cost each): a pool when either says it pays
            measured, n_run = sum(sizes[WARM_UP:done]), done - WARM_UP
            per_byte = (measured, sum(sizes[done:]), sent * measured / max(1, timed_bytes), sum(sizes[:done]))
            per_file = (n_run, total - done, sent * n_run / timed_files, done)
            pays = any(_pool_pays(fixer, run, left, (took, trip, after), jobs, total - done, writer * run / max(1, every))
                       for run, left, trip, every in (per_byte, per_file))
        if not pays:
            jobs = 1
    if jobs > 1 and total - done >= POOL_THRESHOLD:
        items = [(str(c), ctx.rel(c), True) if isinstance(c, Path) else (str(c.path), c.rel, False)
                 for c in candidates[done:]]  # sources were screened here already
        del candidates  # workers read the files themselves: only paths cross the process boundary
        for result in _pool(fixer, items, jobs, None, limit):
            done += 1
            if progress:
                progress(done, total)
            yield result
        return
    for item in candidates[done:]:
        result = _run_item(fixer, ctx, item, limit)
        done += 1
        if progress:
            progress(done, total)
        yield result


def _size(item: SourceFile | Path) -> int:
    if isinstance(item, Path):
        try:
            return item.stat().st_size
        except OSError:
            return 0
    return len(item.raw)


def _run_item(fixer: FileFixer, ctx: Context, item: SourceFile | Path, limit: int) -> FileResult:
    """One file here: a loaded source, or a path to read and screen first."""
    if isinstance(item, Path):
        loaded = _load(fixer, item, ctx.rel(item), limit=limit)
        if isinstance(loaded, FileResult):
            return loaded
        item = loaded
    return _guarded(fixer, item)


def _pool_pays(fixer: FileFixer, sampled: int, left: int, costs: tuple[float, float, float], jobs: int,
               files: int, threads: float = 0.0) -> bool:
    """Does a pool of ``jobs`` finish the ``left`` bytes sooner than this process, by POOL_MARGIN?

    ``costs``, measured on the sample (``sampled`` bytes): the seconds to fix it, to pickle and
    unpickle its results (their trip back from a worker) and what this process did with them
    (staging the writes). ``threads``: the CPU seconds this process's other threads (the writer's,
    which write the staged files) spent on the sample. Here, the rest costs ``left`` bytes at the
    sample's rates, the writer's threads on another CPU. In a pool it costs starting the workers
    (sending each the fixer: free when they fork), then the slower of the workers' share of the
    work and this process taking in and staging their results, and never less than all of that
    CPU time (the writer's included) shared by the machine's CPUs.
    """
    took, sent, after = costs
    if sampled <= 0 or took <= 0 or files < POOL_THRESHOLD:
        return False
    rate, trip, main = took / sampled, TRIP_FACTOR * sent / sampled, after / sampled
    here = (rate + main) * left
    pooled = jobs * WORKER_START + max((rate + trip / 2) * left / jobs, (trip / 2 + main) * left,
                                       (rate + trip + main + threads / sampled) * left / (os.cpu_count() or 1))
    if pooled >= here * (1 - POOL_MARGIN):
        return False
    import multiprocessing

    if multiprocessing.get_start_method(allow_none=True) not in (None, "fork") or sys.platform != "linux":
        start = time.perf_counter()  # spawned workers unpickle the fixer: time that trip too
        pickle.loads(pickle.dumps(fixer, pickle.HIGHEST_PROTOCOL))
        pooled += (time.perf_counter() - start) * jobs
    return pooled < here * (1 - POOL_MARGIN)


def run_fixer(
    fixer: Fixer, ctx: Context, progress: Progress | None = None,
    on_change: Callable[[FileChange], None] | None = None, release: bool = False,
) -> Plan:
    """Plan one fixer over the context (no writes).

    ``on_change`` sees each file fixer's change as soon as it is validated (the writer stages it
    while the other files are still being planned). ``release``: in a write whose caller renders
    no text afterwards (the command line), a file fixer's changes are marked ``releasable`` and the
    writer drops their texts once staged.
    """
    fixer.prepare(ctx)
    plan = Plan(fixer=fixer.name, root=ctx.root)
    if isinstance(fixer, FileFixer):
        releasable = release and on_change is not None and ctx.mode == "write"
        for result in _run_files(fixer, ctx, progress):
            plan.files.append(result)
            plan.notices.extend(result.notices)
            if on_change is not None and result.change is not None:
                result.change.releasable = releasable
                on_change(result.change)
    elif isinstance(fixer, RepoFixer):
        fixer.plan(ctx)
        plan.files.extend(ctx.results())
        _validate_repo_changes(ctx, plan)
    else:  # pragma: no cover - contract violation
        raise TypeError(f"{type(fixer).__name__} must subclass FileFixer or RepoFixer")
    fixer.finish(ctx, plan)
    plan.notices = ctx.notices + plan.notices
    return plan


def _validate_repo_changes(ctx: Context, plan: Plan) -> None:
    """Re-parse Python files that a repo fixer changed (file fixers were checked in run_one)."""
    for i, result in enumerate(plan.files):
        change = result.change
        if change is None or not change.path.endswith((".py", ".pyi")) or change.is_creation:
            continue
        source = read_source(ctx.root / change.path, change.path)
        try:
            new_text, _, _ = decode(change.new, source.path, python=True)
        except FileFailure:
            continue
        err = validate_python(source, new_text)
        if err is not None:
            plan.files[i] = FileResult(
                result.path, "failed", f"stabfix bug: output does not parse ({err}); nothing written", result.edits
            )


def default_jobs(requested: int | None = None) -> int:
    """Worker processes: ``requested`` (default: one per CPU), never more than the CPUs."""
    cpus = os.cpu_count() or 1
    return max(1, min(requested or cpus, cpus))
