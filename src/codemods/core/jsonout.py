"""JSON on stdout for every ``--json`` command: indented, UTF-8, written as one blob.

Kept apart from :mod:`codemods.api` so that a command printing JSON (``stabfix triage --json``) does
not import the engine for it.
"""

from __future__ import annotations

import json
import sys
from typing import Any


def write_json(data: Any, *, small: bool = False) -> None:
    """Print ``data`` as indented JSON.

    msgspec encodes it (json's ``indent`` runs in pure Python, ~20x slower). ``small``: output of
    bounded size without floats (triage's), encoded by the json module instead: the same bytes
    (the two differ only in floats such as ``1e16``) without msgspec's import.
    """
    if small:
        try:
            blob = json.dumps(data, indent=2, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            blob = _escaped(data)
    else:
        import msgspec

        try:
            blob = msgspec.json.format(msgspec.json.encode(data), indent=2)
        except (msgspec.EncodeError, UnicodeEncodeError):
            blob = _escaped(data)
    sys.stdout.flush()
    sys.stdout.buffer.write(blob)  # not `blob + b"\n"`: a copy of megabytes at the peak
    sys.stdout.buffer.write(b"\n")
    sys.stdout.buffer.flush()


def _escaped(data: Any) -> bytes:
    """ASCII JSON, for text UTF-8 cannot encode (lone surrogates from undecodable names)."""
    return json.dumps(data, indent=2).encode("utf-8", errors="surrogateescape")
