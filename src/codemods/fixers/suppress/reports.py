"""Reading tool reports into :class:`Diagnostic` items.

Accepted inputs:

* ruff ``--output-format json`` (a JSON array; ``noqa_row`` says where the noqa goes);
* mypy ``-O json`` (one JSON object per line, columns 0-based) or mypy's text output
  ``file:line[:col[:end_line:end_col]]: error: message  [code]`` (error codes are required);
* pyright / basedpyright ``--outputjson`` (an object with ``generalDiagnostics``; 0-based lines).

Bad input raises :class:`~codemods.errors.ToolError` with one line that names the report and what
to do: an empty report, truncated or malformed JSON, a report of another tool, mypy text without
error codes, and a code that is not of its tool's grammar.

Codes are the only text from a report that ever lands in a source file, so each one is checked
against its tool's grammar (:data:`CODE_GRAMMAR`) before anything else looks at it: a report whose
code carries a newline, a second directive or nothing at all names a hostile or broken tool, and
the whole report is refused.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import msgspec

from codemods.errors import ToolError
from codemods.fixers.suppress.codes import CODE_GRAMMAR as CODE_GRAMMAR  # re-exported (its home)

TOOLS = {"ruff": "noqa", "mypy": "type-ignore", "pyright": "pyright-ignore"}
HOW = {
    "ruff": "`ruff check --output-format json`",
    "mypy": "`mypy -O json` (or mypy's text output with error codes)",
    "pyright": "`pyright --outputjson` / `basedpyright --outputjson`",
}

#: the codes each tool uses for a directive that suppresses nothing
UNUSED_CODES = {"ruff": "RUF100", "mypy": "unused-ignore", "pyright": "reportUnnecessaryTypeIgnoreComment"}

#: ruff's named diagnostics that have no rule code (``invalid-syntax``): never suppressible
_RUFF_NAMED = re.compile(r"[a-z]+(?:-[a-z]+)*")


def check_code(tool: str, code: str | None, entry: str, source: str) -> str | None:
    """``code`` when it is of ``tool``'s grammar (or None); else a one-line error naming the entry."""
    if code is None or CODE_GRAMMAR[tool].fullmatch(code):
        return code
    if tool == "ruff" and _RUFF_NAMED.fullmatch(code):
        return code  # kept for the message; no noqa can carry it (placement checks the grammar)
    raise _fail(source, f"{entry}: code {code[:60]!r} is not a {tool} code; the report is refused "
                "(produce it again with the tool itself)")


_MYPY_TEXT = re.compile(
    r"^(?P<file>.+?):(?P<line>\d+):(?:(?P<col>\d+):(?:(?P<eline>\d+):(?P<ecol>\d+):)?)?\s"
    r"(?P<sev>error|warning|note):\s(?P<msg>.*?)(?:\s\s\[(?P<code>[a-z][a-z0-9-]*)\])?$"
)
_NONSPACE = re.compile(r"\S")
_RUF100_PART = re.compile(r"(unused|non-enabled|unknown|duplicated): ((?:`[^`]+`(?:, )?)+)")
_BACKTICKED = re.compile(r"`([^`]+)`")
_MYPY_UNUSED = re.compile(r'^Unused "type: ignore(?:\[([^\]]*)\])?" comment')
_PYRIGHT_UNUSED_RULE = re.compile(r'^Unnecessary "# pyright: ignore" rule: "([^"]+)"')
_PYRIGHT_UNUSED_ALL = re.compile(r'^Unnecessary "# pyright: ignore" comment')


class Diagnostic(msgspec.Struct, gc=False):
    """One reported problem, normalised: 1-based lines, 0-based columns (None when unknown).

    A msgspec record rather than a dataclass: a report makes tens of thousands, built faster, and
    holding no cycles they are not tracked by the garbage collector."""

    tool: str  # "ruff" | "mypy" | "pyright"
    path: str  # as the report names it (absolute, or relative to where the tool ran)
    line: int
    column: int | None
    end_line: int | None
    end_column: int | None
    code: str | None  # None: the tool gave no code (e.g. a syntax error)
    message: str
    noqa_row: int | None = None  # ruff only: the line that takes the noqa
    #: for "unused directive" diagnostics: the codes to drop ([] = the whole directive), else None
    unused: list[str] | None = None

    def where(self) -> str:
        return f"{self.path}:{self.line}"


def _fail(source: str, what: str) -> ToolError:
    return ToolError(f"{what}", path=source)


def sniff(data: str | bytes) -> str | None:
    """Which tool's report ``data`` looks like: "ruff", "mypy", "pyright" or None."""
    head = data[:65536] if isinstance(data, str) else data[:65536].decode("utf-8", errors="replace")
    m = _NONSPACE.search(head)
    if m is None:
        return None
    s = head[m.start():]  # the head is enough to tell; no copy of a 30 MB report
    if s[0] == "[":
        return "ruff"
    if s[0] == "{":
        first = s.split("\n", 1)[0].strip()
        if first == "{" or '"generalDiagnostics"' in s[:4096] or '"summary"' in s[:200]:
            return "pyright"
        if first.startswith("{") and '"file"' in first:
            return "mypy"
        if '"noqa_row"' in first:
            return "ruff"
        if len(head) == len(data) and not _valid_json(s):
            return None  # `{"x":` is truncated or invalid JSON, not a pyright report
        return "pyright"
    for line in s.splitlines()[:50]:
        if _MYPY_TEXT.match(line.strip()) or line.startswith("Success: no issues found"):
            return "mypy"
    return None


def _valid_json(text: str) -> bool:
    try:
        msgspec.json.decode(text)
    except msgspec.DecodeError:
        return False
    return True


def load_report(data: str | bytes, tool: str, source: str) -> list[Diagnostic]:
    """Parse ``data`` (the report's text or UTF-8 bytes) as ``tool``'s report; ``source`` names it
    in errors."""
    if not data or data.isspace():
        raise _fail(
            source,
            f"the report is empty; produce it with {HOW[tool]} (a clean run prints `[]` for ruff, "
            "`Success: no issues found` for mypy text)",
        )
    kind = sniff(data)
    if kind is None and data.lstrip()[:1] in ("{", "[", b"{", b"["):
        _json(data, source)  # truncated or malformed JSON says so
    if kind is None:
        raise _fail(source, f"not a {tool} report (unrecognised format); produce it with {HOW[tool]}")
    if kind != tool:
        raise _fail(
            source,
            f"this is a {kind} report, not a {tool} report; use `stabfix apply {TOOLS[kind]}` for it "
            f"or produce the report with {HOW[tool]}",
        )
    try:
        if tool == "ruff":
            return _ruff(data, source)
        if tool == "pyright":
            return _pyright(_json(data, source), source)
        text = data if isinstance(data, str) else data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _fail(source, f"not UTF-8 text ({exc.reason} at byte {exc.start}); produce the report again") from None
    if text.lstrip()[:1] == "{":
        return _mypy_json(text, source)
    return _mypy_text(text, source)


def _bad_json(exc: msgspec.DecodeError, source: str) -> ToolError:
    msg = str(exc)
    cut = " (the report looks truncated)" if "truncated" in msg else ""
    return _fail(source, f"not valid JSON{cut}: {msg}; produce the report again")


def _json(data: str | bytes, source: str) -> Any:
    try:
        return msgspec.json.decode(data)
    except msgspec.DecodeError as exc:
        raise _bad_json(exc, source) from None


# ruff's JSON entries, decoded straight into these records (fields stabfix does not use, such as
# the fix and the url, are skipped by the decoder without building Python objects); they hold no
# cycles, so the garbage collector does not track them (tens of thousands of objects it would scan)
class _RuffLocation(msgspec.Struct, gc=False):
    row: int
    column: int | None = None


class _RuffItem(msgspec.Struct, gc=False):
    filename: str
    location: _RuffLocation
    noqa_row: int | None
    code: str | None = None
    end_location: _RuffLocation | None = None
    message: str | None = None


_RUFF_DECODER = msgspec.json.Decoder(list[_RuffItem])
_ENTRY = re.compile(r"\$\[(\d+)\]")


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


#: between two entries of ruff's JSON report as ruff writes it (indented by 2): a JSON string holds
#: no raw newline, and nested objects are indented deeper, so this only ever ends an entry
_RUFF_BETWEEN = b"\n  },\n  {"
STREAM_BLOCK = 1 << 20


def load_ruff_file(path: Path, source: str) -> list[Diagnostic] | None:
    """A ruff report file decoded ``STREAM_BLOCK`` bytes at a time, so that the whole report is
    never in memory beside its diagnostics (main-process peak: the diagnostics plus one block).

    Returns None when the file is not a ruff report laid out as ruff writes it, or does not decode
    piece by piece: the caller then reads it whole (:func:`load_report`, with its exact errors).
    """
    out: list[Diagnostic] = []
    seen: set[str | None] = {None}
    names: dict[str, str] = {}
    try:
        with open(path, "rb") as fh:
            head = fh.read(65536)
            if sniff(head) != "ruff" or _RUFF_BETWEEN not in head:
                return None
            buf, first, ended = head, True, False
            while not ended:
                block = fh.read(STREAM_BLOCK)
                buf += block
                if block:
                    cut = buf.rfind(_RUFF_BETWEEN)
                    if cut < 0:
                        continue
                    piece, buf = buf[:cut + 4], buf[cut + 5:]  # ``...\n  }`` | ``\n  {...``
                else:
                    piece, ended = buf, True
                text = (b"" if first else b"[") + piece + (b"" if ended else b"]")
                first = False
                _ruff_items(_RUFF_DECODER.decode(text), source, out, seen, names)
    except (OSError, msgspec.DecodeError, ToolError):
        return None  # read whole: the same result or the same error as without streaming
    return out


def _ruff(data: str | bytes, source: str) -> list[Diagnostic]:
    try:
        items = _RUFF_DECODER.decode(data)
    except msgspec.ValidationError as exc:
        m = _ENTRY.search(str(exc))
        if m is None:
            raise _fail(source, f"not a ruff report (expected a JSON array); produce it with {HOW['ruff']}") from None
        raise _fail(
            source, f"entry {m.group(1)} is not a ruff diagnostic (needs filename, location, noqa_row): "
            f"{str(exc).split(' - at ')[0]}; produce the report with {HOW['ruff']}"
        ) from None
    except msgspec.DecodeError as exc:
        raise _bad_json(exc, source) from None
    out: list[Diagnostic] = []
    _ruff_items(items, source, out, {None}, {})
    return out


def _ruff_items(items: list[_RuffItem], source: str, out: list[Diagnostic], seen: set[str | None],
                names: dict[str, str]) -> None:
    """Append ``items`` to ``out`` as diagnostics. ``seen``: codes already checked (a report
    repeats few codes many times); ``names``: one string per distinct file name, code and message,
    not one per diagnostic (a report repeats them: a twentieth of the memory)."""
    append = out.append
    base = len(out)
    for i, item in enumerate(items):
        items[i] = None  # type: ignore[call-overload]  # freed as it is converted: one copy at a time
        loc = item.location
        end = item.end_location
        code = item.code
        if code not in seen:
            seen.add(check_code("ruff", code, f"entry {base + i}", source))
        if code is not None:
            code = names.setdefault(code, code)
        message = item.message or ""
        message = names.setdefault(message, message)
        col = loc.column
        ecol = end.column if end is not None else None
        name = names.setdefault(item.filename, item.filename)
        append(Diagnostic(
            "ruff", name, loc.row, col - 1 if col else None, end.row if end is not None else None,
            ecol - 1 if ecol else None, code, message, item.noqa_row,
            _ruf100(message) if code == "RUF100" else None,
        ))


def _ruf100(message: str) -> list[str] | None:
    """The codes RUF100 says to drop: [] for a blanket noqa; unused and duplicated codes only
    (non-enabled and unknown ones may serve another configuration or linter); None if none."""
    if "blanket" in message:
        return []
    codes: list[str] = []
    for kind, listed in _RUF100_PART.findall(message):
        if kind in ("unused", "duplicated"):
            codes += _BACKTICKED.findall(listed)
    return codes or None


def _mypy_unused(code: str | None, message: str) -> list[str] | None:
    if code != "unused-ignore":
        return None
    m = _MYPY_UNUSED.match(message)
    if m and m.group(1):
        return [c.strip() for c in m.group(1).split(",") if c.strip()]
    return []


def _mypy_json(data: str, source: str) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for n, raw in enumerate(data.splitlines(), 1):
        if not raw.strip():
            continue
        try:
            item = json.loads(raw)
            path, line, sev = item["file"], _int(item["line"]), item["severity"]
            if line is None or not isinstance(path, str):
                raise KeyError("line")
        except json.JSONDecodeError as exc:
            raise _fail(
                source, f"line {n} is not valid JSON ({exc.msg}; the report looks truncated); "
                "run `mypy -O json` again"
            ) from None
        except (KeyError, TypeError):
            raise _fail(source, f"line {n} is not a mypy -O json object (needs file, line, severity)") from None
        if sev == "note":
            continue
        code = check_code("mypy", item.get("code") if isinstance(item.get("code"), str) else None,
                          f"line {n}", source)
        col = _int(item.get("column"))
        ecol = _int(item.get("end_column"))
        message = str(item.get("message", ""))
        out.append(
            Diagnostic(
                "mypy", path, line, col if col is not None and col >= 0 else None,
                _int(item.get("end_line")), ecol if ecol is not None and ecol >= 0 else None,
                code, message, unused=_mypy_unused(code, message),
            )
        )
    return out


def _mypy_text(data: str, source: str) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for n, raw in enumerate(data.splitlines(), 1):
        m = _MYPY_TEXT.match(raw.rstrip())
        if not m or m.group("sev") == "note":
            continue
        code = m.group("code")
        if code is None:
            raise _fail(
                source, f"line {n}: mypy output without an error code; run mypy with error codes shown "
                "(drop --hide-error-codes) or use `mypy -O json`"
            )
        col = int(m.group("col")) - 1 if m.group("col") else None
        eline = int(m.group("eline")) if m.group("eline") else None
        ecol = int(m.group("ecol")) if m.group("ecol") else None
        msg = m.group("msg")
        out.append(
            Diagnostic(
                "mypy", m.group("file"), int(m.group("line")), col, eline, ecol, code, msg,
                unused=_mypy_unused(code, msg),
            )
        )
    return out


def _pyright(doc: Any, source: str) -> list[Diagnostic]:
    if not isinstance(doc, dict) or not isinstance(doc.get("generalDiagnostics"), list):
        raise _fail(source, f"not a pyright report (no generalDiagnostics); produce it with {HOW['pyright']}")
    out: list[Diagnostic] = []
    for i, item in enumerate(doc["generalDiagnostics"]):
        try:
            path = item["file"]
            start, end = item["range"]["start"], item["range"]["end"]
            line = _int(start["line"])
            if line is None or not isinstance(path, str):
                raise KeyError("line")
        except (KeyError, TypeError):
            raise _fail(source, f"diagnostic {i} has no file/range; produce the report with {HOW['pyright']}") from None
        if item.get("severity") not in ("error", "warning"):
            continue
        rule = check_code("pyright", item.get("rule") if isinstance(item.get("rule"), str) else None,
                          f"diagnostic {i}", source)
        message = str(item.get("message", ""))
        unused: list[str] | None = None
        if rule == UNUSED_CODES["pyright"]:
            m = _PYRIGHT_UNUSED_RULE.match(message)
            if m:
                unused = [m.group(1)]
            elif _PYRIGHT_UNUSED_ALL.match(message):
                unused = []
        eline = _int(end.get("line"))
        out.append(
            Diagnostic(
                "pyright", path, line + 1, _int(start.get("character")),
                eline + 1 if eline is not None else None, _int(end.get("character")),
                rule, message, unused=unused,
            )
        )
    return out
