"""Reading files faithfully: encoding, BOM and line endings kept so that edits can be encoded back.

Python files honour PEP 263 encoding cookies; every other text file is UTF-8 (with or without a
BOM). The decoded ``text`` keeps the original line endings (no newline translation), so a fixer
that changes one line leaves CRLF files CRLF.
"""

from __future__ import annotations

import io
import os
import re
import tokenize
from dataclasses import dataclass
from pathlib import Path

from codemods.core.plan import Stamp
from codemods.errors import FileFailure

BOM = b"\xef\xbb\xbf"


@dataclass
class SourceFile:
    """One file as read: raw bytes plus the decoded text and how to encode it back."""

    path: Path  # absolute
    rel: str  # POSIX path relative to the root
    raw: bytes
    text: str
    encoding: str
    bom: bool
    #: (size, mtime_ns, inode) from the stat before the read: lets the writer check that the file
    #: is still as read without reading it again (None: unknown)
    stamp: Stamp | None = None

    @property
    def newline(self) -> str:
        """The file's dominant line ending (``\\n`` when it has none)."""
        crlf = self.text.count("\r\n")
        lf = self.text.count("\n") - crlf
        cr = self.text.count("\r") - crlf
        if crlf >= lf and crlf >= cr and crlf:
            return "\r\n"
        if cr > lf:
            return "\r"
        return "\n"

    @property
    def is_python(self) -> bool:
        return self.path.suffix in (".py", ".pyi")

    def encode(self, text: str) -> bytes:
        """Encode new text the way this file was encoded (same codec, same BOM)."""
        data = text.encode(self.encoding)
        return BOM + data if self.bom else data


def decode(raw: bytes, path: Path, *, python: bool) -> tuple[str, str, bool]:
    """Return ``(text, encoding, bom)``; raise :class:`FileFailure` when the bytes do not decode."""
    bom = raw.startswith(BOM)
    body = raw[3:] if bom else raw
    encoding = "utf-8"
    if python:
        try:
            enc, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
        except SyntaxError as exc:
            if "invalid or missing encoding declaration" in str(exc):
                raise FileFailure(
                    "not valid utf-8 and no encoding declared; convert the file to UTF-8 or declare its "
                    "encoding (PEP 263)") from None
            raise FileFailure(f"bad encoding declaration: {exc}") from None
        encoding = "utf-8" if enc in ("utf-8-sig", "utf-8") else enc
    try:
        text = body.decode(encoding)
    except UnicodeDecodeError as exc:
        line = body[: exc.start].count(b"\n") + 1
        raise FileFailure(
            f"not valid {encoding} (byte {exc.start}, line {line}); convert the file to UTF-8 "
            "or declare its encoding",
            line=line,
        ) from None
    except LookupError:
        raise FileFailure(f"unknown encoding {encoding!r} declared") from None
    return text, encoding, bom


#: the largest file stabfix reads by default (``[tool.stabfix] max-file-size``, in bytes): larger ones
#: are skipped with one line, so that a pathological input costs a stat, not minutes and gigabytes
MAX_FILE_SIZE = 10 * 1024 * 1024


def read_source(path: Path, rel: str, limit: int = MAX_FILE_SIZE) -> SourceFile:
    """Read and decode one file; :class:`FileFailure` when it is larger than ``limit`` bytes.

    Read through the file descriptor (one ``fstat`` gives the size and the stamp, then reads until
    the end): half the system calls of ``stat`` plus ``Path.read_bytes``, each of which waits for
    the GIL again while the writer's threads stage files.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        st = os.fstat(fd)
        size = st.st_size
        if size > limit:
            raise FileFailure(f"{size:,} bytes, over max-file-size ({limit:,}); skipped "
                              "(raise [tool.stabfix] max-file-size to include it)", status="skipped")
        parts: list[bytes] = []
        while chunk := os.read(fd, max(size + 1, 1 << 16)):  # the whole file, then the end
            parts.append(chunk)
    finally:
        os.close(fd)
    raw = parts[0] if len(parts) == 1 else b"".join(parts)
    python = path.suffix in (".py", ".pyi")
    if b"\x00" in raw:  # anywhere: a C scan, fast even for big files
        raise FileFailure("binary file (contains NUL bytes)")
    text, encoding, bom = decode(raw, path, python=python)
    return SourceFile(path=path, rel=rel, raw=raw, text=text, encoding=encoding, bom=bom,
                      stamp=(size, st.st_mtime_ns, st.st_ino))


_EOL = re.compile(r"(\r\n|\r|\n)")


def split_lines(text: str) -> tuple[list[str], list[str] | None]:
    """Each line's text without its ending, and the endings (None: every line but the last ends
    with ``\n``). Only ``\r\n``, ``\r`` and ``\n`` end a line, as for Python's tokenizer
    (``str.splitlines`` knows more). The last item is the text after the last line ending."""
    if "\r" in text:
        pieces = _EOL.split(text)
        return pieces[0::2], pieces[1::2]
    return text.split("\n"), None  # the common case, in C


_GENERATED = re.compile(rb"@generated\b")


def is_generated(raw: bytes) -> bool:
    """True when the file's head carries the ``@generated`` marker (Meta/Fixit convention)."""
    return bool(_GENERATED.search(raw[:2048]))
