"""JSON on stdout for every ``--json`` command: indented, UTF-8, written as one blob.

Kept apart from :mod:`codemods.api` so that a command printing JSON (``stabfix triage --json``) does
not import the engine for it.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from typing import Any


def write_json(data: Any, *, small: bool = False) -> None:
    """Print ``data`` as indented JSON.

    msgspec encodes it (json's ``indent`` runs in pure Python, ~20x slower), the items of a
    top-level list (a report's files) one at a time: the same bytes as the whole document's, held
    once (as indented pieces) rather than encoded and then indented whole. ``small``: output of
    bounded size without floats (triage's), encoded by the json module instead: the same bytes (the
    two differ only in floats such as ``1e16``) without msgspec's import. Text UTF-8 cannot encode
    falls back to ASCII escapes; nothing is written before the whole document is encoded.
    """
    parts: list[bytes]
    if small:
        try:
            parts = [json.dumps(data, indent=2, ensure_ascii=False).encode("utf-8")]
        except UnicodeEncodeError:
            parts = [_escaped(data)]
    else:
        import msgspec

        def encode(value: Any, depth: int) -> bytes:
            text = msgspec.json.format(msgspec.json.encode(value), indent=2)
            return text.replace(b"\n", b"\n" + b"  " * depth) if depth else text

        try:
            parts = list(_pieces(data, encode)) if isinstance(data, dict) and data else [encode(data, 0)]
        except (msgspec.EncodeError, UnicodeEncodeError):
            parts = [_escaped(data)]
    sys.stdout.flush()
    out = sys.stdout.buffer
    for part in parts:
        out.write(part)
    out.write(b"\n")
    out.flush()


def _pieces(data: dict[str, Any], encode: Callable[[Any, int], bytes]) -> Iterator[bytes]:
    """``data`` indented as one document, each item of a top-level list encoded alone."""
    yield b"{"
    for i, (key, value) in enumerate(data.items()):
        yield (b",\n  " if i else b"\n  ") + encode(key, 0) + b": "
        if isinstance(value, list) and value:
            for j, item in enumerate(value):
                yield (b",\n    " if j else b"[\n    ") + encode(item, 2)
            yield b"\n  ]"
        else:
            yield encode(value, 1)
    yield b"\n}"


def _escaped(data: Any) -> bytes:
    """ASCII JSON, for text UTF-8 cannot encode (lone surrogates from undecodable names)."""
    return json.dumps(data, indent=2).encode("utf-8", errors="surrogateescape")
