"""The writer's staging process: writes the temporary files of a run's changes beside their targets.

A run that stages many files (:data:`~codemods.core.writer.PROCESS_AFTER`) hands the rest to this
process instead of to threads of its own: writing, fsyncing and checking files takes system calls
whose threads would contend with the planning for the interpreter lock (on a 1,000-file run they
slowed it down by as much as they wrote). Here they run beside the planning, on another CPU.

Protocol (the parent is :class:`~codemods.core.writer.Writer`; nothing else speaks it): the
parent writes frames to stdin, each ``<index, path length, data length>`` (three unsigned 32-bit
little-endian integers), the path (UTF-8, relative to the root) and the new bytes, then the frame
:data:`DONE` and closes stdin. This process stages each file as the writer's threads would
(:class:`~codemods.core.writer.Stager`) and, after :data:`DONE`, writes back one ``marshal``-ed
list of ``(index, temporary path or None, error message or None)``. Stdin closed without
:data:`DONE` (the parent was interrupted, refused the plan or died), or a new parent (the old one
was killed: frames may still wait in the pipe), stops it and removes every temporary file it wrote.
Interrupts are the parent's: this process ignores SIGINT and SIGTERM.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import signal
import struct
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from typing import BinaryIO

from codemods.core.plan import FileChange
from codemods.core.writer import Stager, StageSpec
from codemods.errors import StabfixError

HEADER = struct.Struct("<III")
#: the index of the frame that ends the input
DONE = 0xFFFFFFFF
#: files written at once here (their fsyncs wait on the disk, not on a CPU)
THREADS = 4

Reply = tuple[int, str | None, str | None]


def _stage(stager: Stager, index: int, rel: str, data: bytes, parent: int) -> Reply:
    if os.getppid() != parent:
        return index, None, "the run was stopped"  # its parent was killed: nobody will rename it
    try:
        return index, str(stager.stage(FileChange(rel, None, data, ""))), None
    except StabfixError as exc:
        return index, None, exc.message
    except Exception as exc:  # a bug: the parent refuses the plan with it
        return index, None, f"stabfix bug in the writer process: {type(exc).__name__}: {exc}"


def _read(stream: BinaryIO, n: int) -> bytes | None:
    """Exactly ``n`` bytes, or None at the end of the input."""
    data = stream.read(n)
    return data if len(data) == n else None


def serve(spec: StageSpec, stdin: BinaryIO, stdout: BinaryIO) -> int:
    """Stage the frames of ``stdin``; answer on ``stdout`` after :data:`DONE` (see the module).

    The parent's death (its input ends without :data:`DONE`, or this process gets another parent
    while frames are still buffered or staged) stops the staging at once: what was written is
    removed, nothing more is."""
    stager = Stager(spec)
    parent = os.getppid()
    futures: list[Future[Reply]] = []
    done = False
    threads = ThreadPoolExecutor(max_workers=THREADS)
    try:
        while True:
            head = _read(stdin, HEADER.size)
            if head is None or os.getppid() != parent:
                break
            index, path_len, data_len = HEADER.unpack(head)
            if index == DONE:
                done = True
                break
            rel, data = _read(stdin, path_len), _read(stdin, data_len)
            if rel is None or data is None:
                break
            futures.append(threads.submit(_stage, stager, index, rel.decode("utf-8"), data, parent))
    finally:
        threads.shutdown(wait=True, cancel_futures=not done)
    replies = [f.result() for f in futures if not f.cancelled()]
    if done and os.getppid() == parent:
        try:
            stdout.write(marshal.dumps(replies))
            stdout.flush()
            return 0
        except OSError:  # the parent is gone
            pass
    for _, tmp, _ in replies:  # nobody will rename them
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    return 1


def main(argv: list[str]) -> int:
    """``root started token``: the :class:`~codemods.core.writer.StageSpec` of the parent's run."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    root, started, token = argv
    return serve(StageSpec(root, float(started), token), sys.stdin.buffer, sys.stdout.buffer)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
