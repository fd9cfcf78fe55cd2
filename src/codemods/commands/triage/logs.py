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

import gzip
import os
import re
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

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
    """

    def __init__(self, path: Path, chunk_size: int | None = None) -> None:
        self.path = path
        self.chunk_size = chunk_size or CHUNK
        self.follow = False
        self.lines_read = 0
        self.offset = 0  # byte offset (in the decompressed text for gzip) where the last yielded line starts

    def lines(self, keywords: Sequence[bytes]) -> Iterator[tuple[int, str]]:
        with _open(self.path) as fh:
            head = fh.read(1 << 16)
            _check_text(self.path, head)
            compressed = isinstance(fh, gzip.GzipFile)
        grep = None if compressed else _grep()
        if grep and head:
            yield from self._lines_grep(grep, keywords)
        else:
            yield from self._lines_python(_trigger(keywords))

    def _lines_grep(self, grep: str, keywords: Sequence[bytes]) -> Iterator[tuple[int, str]]:
        # one extended regex of the literal keywords (GNU grep scans one alternation faster than -F with
        # many patterns), with ``.py:1`` ... ``.py:9`` merged as in the Python scan
        args = [grep, "-a", "-b", "-n", "-E", "-e", _ere(keywords)]
        env = {**os.environ, "LC_ALL": "C"}
        proc = subprocess.Popen([*args, "--", str(self.path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        wc = shutil.which("wc")  # counts the lines on the other core meanwhile
        counter = None
        if wc:
            with open(self.path, "rb") as src:  # the child keeps its own copy of the descriptor
                counter = subprocess.Popen([wc, "-l"], stdin=src, stdout=subprocess.PIPE,
                                           stderr=subprocess.DEVNULL, env=env)
        assert proc.stdout is not None
        resume = 0  # lines before this byte offset were already read while following a block
        try:
            with open(self.path, "rb") as raw:
                for out in proc.stdout:
                    number, offset, content = out.split(b":", 2)
                    start = int(offset)
                    if start < resume:
                        continue
                    lineno = int(number)
                    self.offset = start
                    yield lineno, _decode(content)
                    if self.follow:
                        raw.seek(start + len(content))
                        while self.follow:
                            self.offset = raw.tell()
                            line = raw.readline()
                            if not line:
                                break
                            lineno += 1
                            yield lineno, _decode(line)
                        resume = raw.tell()
        finally:
            proc.stdout.close()
            err = b""
            if proc.stderr:
                err = proc.stderr.read()
                proc.stderr.close()
            code = proc.wait()
        if code not in (0, 1):
            if counter:
                counter.kill()
            raise StabfixError(f"{self.path}: grep failed ({err.decode(errors='replace').strip()}); "
                               "set STABFIX_TRIAGE_NO_GREP=1 to read the log in Python")
        self.lines_read = _count_lines(self.path, counter)

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
                        yield lineno, _decode(buf[pos:end])
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
                    yield lineno, _decode(buf[start:end])
                    pos = end + 1
                if not data:
                    break
        self.lines_read = lineno


_PY_LINE = re.compile(rb"\.pyi?:[1-9]")


def _ere(keywords: Sequence[bytes]) -> str:
    """The keywords as one POSIX extended regex for grep (each escaped; ``.py:N`` merged)."""
    rest = [re.sub(rb"([.\[\]()*+?{}|^$\\])", rb"\\\1", k) for k in keywords if not _PY_LINE.fullmatch(k)]
    if len(rest) < len(keywords):
        rest.append(rb"\.pyi?:[1-9]")
    return b"|".join(rest).decode("latin-1")


def _trigger(keywords: Sequence[bytes]) -> re.Pattern[bytes]:
    """One regex of the keywords for the Python scan; ``X.py:1`` ... ``X.py:9`` become one ``\\.pyi?:[1-9]``
    (Python's regex tries every alternative at every position: fewer alternatives, faster scan)."""
    rest = [re.escape(k) for k in keywords if not _PY_LINE.fullmatch(k)]
    if len(rest) < len(keywords):
        rest.append(rb"\.pyi?:[1-9]")
    return re.compile(b"|".join(rest))


def _count_lines(path: Path, counter: subprocess.Popen[bytes] | None = None) -> int:
    """Lines in the file (a last line without newline counts), from ``wc -l`` when it ran."""
    if counter is not None:
        out, _ = counter.communicate()
        if counter.returncode == 0 and out.strip().isdigit():
            with open(path, "rb") as fh:
                fh.seek(0, os.SEEK_END)
                size = fh.tell()
                if size:
                    fh.seek(size - 1)
                    return int(out) + (fh.read(1) != b"\n")
                return 0
    count, last = 0, b"\n"
    with open(path, "rb") as fh:
        while True:
            data = fh.read(CHUNK)
            if not data:
                break
            count += data.count(b"\n")
            last = data[-1:]
    return count + (last != b"\n")


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
