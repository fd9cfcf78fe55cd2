"""Reading CI logs: stream a (possibly huge, possibly gzipped) log and yield only the lines that matter.

A 100 MB log must not be decoded line by line in Python: :class:`LogReader` finds the lines that
contain one of a few keywords and decodes only those (plus every line while a caller has ``follow``
set, to read a multi-line block such as embedded JSON or a pytest failure section). Finding them is
GNU/BSD ``grep -F`` when it is on PATH (a multi-keyword search in C, the log streamed, byte offsets
used to read blocks from the file itself); otherwise, and for gzip logs, Python reads binary
chunks and searches each with one compiled regex of the same keywords (same results, slower).
Memory stays flat either way: one chunk (or one grep output line) plus the longest line.

:func:`clean` removes what CI output wraps around a line: carriage-return progress overwrites,
terminal control sequences and characters (:func:`printable`) and a leading timestamp (ISO 8601 as
CircleCI / GitHub Actions write it, or ``[HH:MM:SS]``). :func:`printable` is also what everything
triage prints goes through, so a log can never drive the terminal that shows its triage.

The parsers examine at most :data:`MAX_LINE` characters of a line, and their patterns are written
so that a match attempt never re-scans the line: triage stays linear in the size of the log
however long one line is (a multi-megabyte assertion message, say).
"""

from __future__ import annotations

import contextlib
import gzip
import itertools
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from codemods.errors import StabfixError

CHUNK = 1 << 20
#: How many characters of a line the parsers and the rules examine. The test id, message and
#: markers triage looks for sit at a line's start; JSON reports embedded on one line are still
#: decoded whole.
MAX_LINE = 4096

#: What a terminal acts on: OSC / DCS / SOS / PM / APC strings up to their terminator (BEL or ST,
#: else the end of the text), CSI sequences (7-bit ``ESC [`` and 8-bit U+009B), any other ESC
#: sequence (``ESC c``, ``ESC ( B``, ``ESC 7``), then every remaining C0 control but tab and
#: newline, DEL, and the C1 controls U+0080-U+009F. No quantifier here can backtrack.
_CONTROL = re.compile(
    r"(?:\x1b[]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|\x1b[ -/]*[0-~]?"
    r"|[\x00-\x08\x0b-\x1f\x7f-\x9f]"
)
_TIMESTAMP = re.compile(
    r"^\s*\[?(?:\d{4}-\d{2}-\d{2}[T ])?\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?\]?(?:\s|$)"
)
_GZIP_MAGIC = b"\x1f\x8b"


def printable(text: str) -> str:
    """``text`` without terminal control sequences and control characters (tab and newline kept)."""
    return text if text.isprintable() else _CONTROL.sub("", text)


def clean(line: str) -> str:
    """The line as a person reads it: no control codes, no leading timestamp, no trailing newline."""
    line = line.rstrip("\r\n")
    if "\r" in line:  # progress bars overwrite themselves: keep what was shown last
        line = line.rsplit("\r", 1)[-1]
    line = printable(line)
    if line[:1].isdigit() or line[:2].startswith(("[", " ")):
        line = _TIMESTAMP.sub("", line, count=1)
    return line


def job_from_name(path: Path) -> str | None:
    """The CI job a file belongs to, from ``stabfix ci failures`` naming (``<job>.log``, ``<job>.junit.xml``)."""
    name = path.name
    for suffix in (".gz", ".log", ".txt", ".xml", ".junit", ".json"):
        name = name.removesuffix(suffix)
    return name or None


def _open(path: Path) -> BinaryIO:
    try:
        fh: BinaryIO = open(path, "rb")  # noqa: SIM115 - returned to the caller, closed there
    except FileNotFoundError:
        raise StabfixError(f"{path}: no such log file; pass a CI step log or a folder of them") from None
    except IsADirectoryError:
        raise StabfixError(f"{path}: is a folder; pass the log files or the folder as a LOGS argument") from None
    except OSError as exc:
        raise StabfixError(f"{path}: cannot read it ({exc.strerror})") from None
    head = fh.peek(2)[:2] if hasattr(fh, "peek") else b""
    if head == _GZIP_MAGIC:
        fh.close()
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return fh


def _check_text(path: Path, data: bytes) -> None:
    if b"\x00" in data:
        raise StabfixError(
            f"{path}: binary file (NUL bytes), not a CI log; pass the text output of a CI step "
            "(`stabfix ci failures` downloads them)"
        )
    try:
        data[:4096].decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < 4093:  # not just a character cut at the sample's end
            bad = sum(1 for b in data[:4096] if b < 9 or 13 < b < 32)
            if bad > 8:
                raise StabfixError(
                    f"{path}: binary file (control bytes), not a CI log; pass the text output of a CI step"
                ) from None


def _grep() -> str | None:
    if os.environ.get("STABFIX_TRIAGE_NO_GREP"):
        return None
    return shutil.which("grep")


def _decode(raw: bytes) -> str:
    return clean(raw.decode("utf-8", "replace"))


class LogReader:
    """Stream one log file; :meth:`lines` yields ``(line_number, cleaned_text)`` for keyword lines.

    Set :attr:`follow` to True while reading a block: every following line is then yielded until
    it is set back to False. :attr:`lines_read` is the file's line count once iteration ended.
    :attr:`raw` holds the undecoded bytes of the line last yielded (for a caller that tells apart
    which of several keyword sets a line matched).
    """

    def __init__(self, path: Path, chunk_size: int | None = None) -> None:
        self.path = path
        self.chunk_size = chunk_size or CHUNK
        self.follow = False
        self.lines_read = 0
        self.offset = 0  # byte offset (in the decompressed text for gzip) where the last yielded line starts
        self.raw = b""  # the last yielded line's bytes

    def lines(self, keywords: Sequence[bytes]) -> Iterator[tuple[int, str]]:
        with _open(self.path) as fh:
            head = fh.read(1 << 16)
            _check_text(self.path, head)
            compressed = isinstance(fh, gzip.GzipFile)
        grep = None if compressed else _grep()
        if grep and head:
            yield from self._lines_grep(grep, keywords)
        else:
            yield from self._lines_python(trigger(keywords))

    def _lines_grep(self, grep: str, keywords: Sequence[bytes]) -> Iterator[tuple[int, str]]:
        """Keyword lines found by grep. From :data:`PARALLEL_MIN` bytes on, the file is cut at line
        starts into one part per core, one grep per part, run at once and read in order (a part
        but the last reaches its grep through a pipe that ``os.splice`` fills, else ``head -c``). Line
        numbers: grep's own in the first part; past it, and for :attr:`lines_read`, the last line
        seen plus the newlines between it and the point asked for (only those gaps are read)."""
        size = self.path.stat().st_size
        bounds = _cut(self.path, size, _parts(size))
        # literals: grep -F for one keyword (Boyer-Moore), else one extended regex of the keywords
        # (GNU grep scans one alternation faster than -F with many patterns), with ``.py:1`` ...
        # ``.py:9`` merged as in the Python scan
        pattern = ["-F", "-e", keywords[0].decode("latin-1")] if len(keywords) == 1 else ["-E", "-e", _ere(keywords)]
        env = {**os.environ, "LC_ALL": "C"}
        procs: list[subprocess.Popen[bytes]] = []
        feeders: list[subprocess.Popen[bytes]] = []
        threads: list[threading.Thread] = []
        try:
            for lo, hi in bounds:
                with open(self.path, "rb") as src:  # each part from its own descriptor, at its start
                    src.seek(lo)
                    feed: Any = src
                    if hi < size and _SPLICE:  # the kernel moves the part's pages into a pipe: no copy
                        r, w = os.pipe()
                        threads.append(threading.Thread(target=_splice, args=(os.dup(src.fileno()), w, lo, hi),
                                                        daemon=True))
                        threads[-1].start()
                        feed = open(r, "rb", buffering=0)  # noqa: SIM115 - closed below, once grep holds it
                    elif hi < size:  # ``head -c`` ends the part where the next one starts
                        feeders.append(subprocess.Popen([_head() or "head", "-c", str(hi - lo)], stdin=src,
                                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env))
                        feed = feeders[-1].stdout
                    try:
                        part = subprocess.Popen([grep, "-a", "-b", "-n", *pattern, "-"], stdin=feed,
                                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
                    finally:
                        if feed is not src:
                            feed.close()  # grep holds the pipe now: the feeder sees it close if grep stops
                procs.append(part)
            seen_line, seen_end = 0, 0  # lines wholly before byte ``seen_end``
            with open(self.path, "rb") as raw:
                for (lo, _), proc in zip(bounds, procs, strict=True):
                    assert proc.stdout is not None
                    base = 0
                    if lo and seen_end <= lo:
                        base = seen_line + _newlines(raw, seen_end, lo)
                        seen_line, seen_end = base, lo
                    elif lo:  # a block followed past the cut: the lines before it are those read but these
                        base = seen_line - _newlines(raw, lo, seen_end)
                    for out in proc.stdout:
                        number, offset, content = out.split(b":", 2)
                        start = lo + int(offset)
                        if start < seen_end:
                            continue  # already read while following a block
                        lineno = base + int(number)
                        self.offset = start
                        seen_line, seen_end = lineno, start + len(content)
                        self.raw = content
                        yield lineno, _decode(content)
                        if self.follow:
                            raw.seek(start + len(content))
                            while self.follow:
                                self.offset = raw.tell()
                                line = raw.readline()
                                if not line:
                                    break
                                lineno += 1
                                seen_line, seen_end = lineno, self.offset + len(line)
                                self.raw = line
                                yield lineno, _decode(line)
                    self._check_grep(proc)
                self.lines_read = seen_line + _newlines(raw, seen_end, size) + _unterminated(raw, seen_end, size)
        finally:
            for proc in [*procs, *feeders]:
                if proc.poll() is None:
                    proc.kill()
                for stream in (proc.stdout, proc.stderr):
                    if stream:
                        stream.close()
                proc.wait()
            for thread in threads:  # its grep is gone: a splice still under way fails (EPIPE) and ends
                thread.join()

    def _check_grep(self, proc: subprocess.Popen[bytes]) -> None:
        """One grep has ended: exit 0 (lines found) or 1 (none), else its error."""
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()
        err = proc.stderr.read()
        if proc.wait() not in (0, 1):
            raise StabfixError(f"{self.path}: grep failed ({err.decode(errors='replace').strip()}); "
                               "set STABFIX_TRIAGE_NO_GREP=1 to read the log in Python")

    def _lines_python(self, trigger: re.Pattern[bytes]) -> Iterator[tuple[int, str]]:
        lineno = 0
        carry = b""
        base = 0  # offset of carry (and so of buf) in the file
        with _open(self.path) as fh:
            while True:
                try:
                    data = fh.read(self.chunk_size)
                except (OSError, EOFError) as exc:
                    raise StabfixError(f"{self.path}: cannot read it ({exc})") from None
                if b"\x00" in data:
                    _check_text(self.path, data)
                if data:
                    buf = carry + data
                    cut = buf.rfind(b"\n")
                    if cut < 0:
                        carry = buf
                        continue
                    carry = buf[cut + 1:]
                    buf = buf[: cut + 1]
                    buf_base, base = base, base + cut + 1
                else:
                    buf, carry = carry, b""
                    buf_base = base
                    if buf and not buf.endswith(b"\n"):
                        buf += b"\n"
                pos, size = 0, len(buf)
                while pos < size:
                    if self.follow:
                        end = buf.find(b"\n", pos)
                        lineno += 1
                        self.offset = buf_base + pos
                        self.raw = buf[pos:end]
                        yield lineno, _decode(self.raw)
                        pos = end + 1
                        continue
                    m = trigger.search(buf, pos)
                    if m is None:
                        lineno += buf.count(b"\n", pos)
                        break
                    nl = buf.rfind(b"\n", pos, m.start())
                    start = pos if nl < 0 else nl + 1
                    lineno += buf.count(b"\n", pos, start) + 1
                    end = buf.find(b"\n", m.start())
                    self.offset = buf_base + start
                    self.raw = buf[start:end]
                    yield lineno, _decode(self.raw)
                    pos = end + 1
                if not data:
                    break
        self.lines_read = lineno


#: a log this large is searched by one grep per core, each on its own part
PARALLEL_MIN = 8 << 20


def _head() -> str | None:
    return shutil.which("head")


_SPLICE = hasattr(os, "splice")  # Linux; elsewhere ``head -c`` cuts the parts


def _splice(src: int, pipe: int, lo: int, hi: int) -> None:
    """Move bytes ``lo:hi`` of the file ``src`` into ``pipe`` (a grep's stdin) in the kernel, then
    close both descriptors; a grep that stopped reading ends it (EPIPE). A file system that cannot
    splice gets the rest copied through memory instead."""
    import fcntl

    try:
        with contextlib.suppress(OSError, AttributeError):  # 1 MB (the unprivileged maximum): fewer wake-ups
            fcntl.fcntl(pipe, fcntl.F_SETPIPE_SZ, 1 << 20)
        try:
            while lo < hi:
                moved = os.splice(src, pipe, min(hi - lo, 1 << 20), offset_src=lo)
                if not moved:
                    return
                lo += moved
        except BrokenPipeError:
            return
        except OSError:  # EINVAL and the like: this file cannot be spliced
            while lo < hi:
                data = os.pread(src, min(hi - lo, CHUNK), lo)
                if not data:
                    return
                view = memoryview(data)
                while view:
                    view = view[os.write(pipe, view):]
                lo += len(data)
    except OSError:  # the grep stopped reading (EPIPE)
        pass
    finally:
        os.close(pipe)
        os.close(src)


def _parts(size: int) -> int:
    """How many greps search a log of ``size`` bytes: one per core, one per PARALLEL_MIN bytes at
    most, and one when nothing cuts the parts (neither ``os.splice`` nor ``head``)."""
    parts = max(1, min(os.cpu_count() or 1, size // PARALLEL_MIN))
    return parts if parts == 1 or _SPLICE or _head() else 1


def _cut(path: Path, size: int, parts: int) -> list[tuple[int, int]]:
    """``parts`` byte ranges covering the file, each starting at a line start."""
    cuts = [0]
    with open(path, "rb") as fh:
        for k in range(1, parts):
            at = max(size * k // parts, cuts[-1])
            fh.seek(at)
            while True:  # the next line start at or after ``at`` (a line may be megabytes long)
                data = fh.read(1 << 16)
                nl = data.find(b"\n")
                if nl >= 0 or not data:
                    at = at + nl + 1 if nl >= 0 else size
                    break
                at += len(data)
            cuts.append(min(at, size))
    cuts.append(size)
    return [(lo, hi) for lo, hi in itertools.pairwise(cuts) if hi > lo] or [(0, size)]


def _newlines(fh: BinaryIO, lo: int, hi: int) -> int:
    """Newlines in bytes ``lo:hi`` of the file."""
    fh.seek(lo)
    n, left = 0, hi - lo
    while left > 0:
        data = fh.read(min(CHUNK, left))
        if not data:
            break
        n += data.count(b"\n")
        left -= len(data)
    return n


def _unterminated(fh: BinaryIO, seen_end: int, size: int) -> int:
    """1 when the file's last line, past byte ``seen_end`` (lines before it are counted), has no newline."""
    if size <= seen_end:
        return 0
    fh.seek(size - 1)
    return int(fh.read(1) != b"\n")


_PY_LINE = re.compile(rb"\.pyi?:[1-9]")


def _ere(keywords: Sequence[bytes]) -> str:
    """The keywords as one POSIX extended regex for grep (each escaped; ``.py:N`` merged)."""
    rest = [re.sub(rb"([.\[\]()*+?{}|^$\\])", rb"\\\1", k) for k in keywords if not _PY_LINE.fullmatch(k)]
    if len(rest) < len(keywords):
        rest.append(rb"\.pyi?:[1-9]")
    return b"|".join(rest).decode("latin-1")


def trigger(keywords: Sequence[bytes]) -> re.Pattern[bytes]:
    """One regex of the keywords for the Python scan; ``X.py:1`` ... ``X.py:9`` become one ``\\.pyi?:[1-9]``
    (Python's regex tries every alternative at every position: fewer alternatives, faster scan)."""
    rest = [re.escape(k) for k in keywords if not _PY_LINE.fullmatch(k)]
    if len(rest) < len(keywords):
        rest.append(rb"\.pyi?:[1-9]")
    return re.compile(b"|".join(rest))


def read_before(path: Path, offset: int, count: int, span: int = 8192) -> list[tuple[int, str]]:
    """The ``count`` non-blank lines (cleaned) that end just before byte ``offset`` of the log, oldest
    first, each with how many lines before ``offset`` it is (1: the line just before).

    Reads at most ``span`` bytes (a gzip log is decompressed up to ``offset``); used to show the last
    lines of a failed step that matched nothing known.
    """
    start = max(0, offset - span)
    with _open(path) as fh:
        try:
            fh.seek(start)
            data = fh.read(offset - start)
        except (OSError, EOFError):
            return []
    lines = data.split(b"\n")
    if start > 0:
        lines = lines[1:]  # the first one is cut
    if lines and lines[-1] == b"":
        lines = lines[:-1]
    out = [(len(lines) - i, clean(raw[:MAX_LINE].decode("utf-8", "replace"))) for i, raw in enumerate(lines)]
    return [(back, line) for back, line in out if line.strip()][-count:]
