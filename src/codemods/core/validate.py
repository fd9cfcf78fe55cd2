"""Validation of what a fixer proposes: the new text of a Python file must parse again
(:func:`validate_python`), and an edit declared as touching trailing comments only must do just
that (:func:`comment_only_change`). The engine runs both; fixers that build files themselves (a
conftest.py, a module they rewrite twice) call them too, so that one rule decides everywhere."""

from __future__ import annotations

import re
import symtable
import warnings

from codemods.core.source import SourceFile, split_lines


def compiles(text: str, path: str) -> str | None:
    """None when ``text`` parses as Python here, else the error's one-line description.

    ``symtable.symtable`` runs CPython's parser (and its symbol-table pass) without building
    Python AST objects: the same verdict on syntax as ``ast.parse`` at about half the cost.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            symtable.symtable(text, path, "exec")
    except SyntaxError as exc:
        return f"line {exc.lineno}: {exc.msg}" if exc.lineno else str(exc.msg)
    except (ValueError, RecursionError, MemoryError) as exc:  # e.g. NUL bytes, absurd nesting
        return f"{type(exc).__name__}: {exc}"
    return None


def _parses_libcst(text: str) -> bool:
    import libcst

    try:
        libcst.parse_module(text)
    except Exception:
        return False
    return True


def validate_python(source: SourceFile, new_text: str) -> str | None:
    """None when the new text is valid Python, else why not.

    Checked with this interpreter's parser; when the original itself does not parse here (newer or
    older syntax than this Python), libcst's parser is the judge instead.
    """
    err = compiles(new_text, source.rel)
    if err is None:
        return None
    if compiles(source.text, source.rel) is not None and _parses_libcst(source.text):
        return None if _parses_libcst(new_text) else err
    return err


_TAIL = re.compile(r"[ \t\f]*(?:#[^\r\n]*)?")


def comment_only_change(old: str, new: str, lines: dict[int, tuple[int, str]]) -> bool:
    """True when ``new`` is ``old`` with only the trailing comments of ``lines`` changed.

    ``lines`` maps a 1-based line to ``(code_end, new_line)``: the line's first ``code_end``
    characters are code and must stay as they are, and what follows, before and after, must be
    whitespace and at most one comment. Such a change cannot alter how the file parses unless the
    code ends with a backslash (a continuation), which is refused too. This is what a re-parse
    would prove for these edits, checked per changed line instead of parsing the whole file.
    """
    parts, ends = split_lines(old)
    tail = _TAIL.fullmatch
    for line, (code_end, new_line) in lines.items():
        if not 1 <= line <= len(parts) or "\n" in new_line or "\r" in new_line:
            return False
        old_line = parts[line - 1]
        code = old_line[:code_end]
        if (
            len(code) != code_end
            or not new_line.startswith(code)
            or code.rstrip(" \t\f").endswith("\\")
            or tail(old_line, code_end) is None
            or tail(new_line, code_end) is None
        ):
            return False
        parts[line - 1] = new_line
    if ends is None:
        return "\n".join(parts) == new
    return "".join(p + e for p, e in zip(parts, [*ends, ""], strict=True)) == new
