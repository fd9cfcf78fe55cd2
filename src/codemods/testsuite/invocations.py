"""pytest's command line, and the commands that run pytest in shell text.

:func:`find_invocations` lexes shell text with :func:`codemods.edit.shell.lex` and returns one
:class:`Invocation` per command that runs pytest (``pytest``, ``py.test``, ``python -m pytest``,
``uv run [--no-sync] [python -m] pytest``, ``poetry run ...``, ``coverage run -m pytest``).
Each invocation knows its ``-n``/``--numprocesses``, ``--dist`` and ``--max-worker-restart``
options and the test paths it runs, with offsets so that callers edit by splicing.

Nothing here guesses from substrings: ``conda create -n env``, ``echo -n``, ``head -n 5``,
comments, quoted strings and other commands on the same line are never pytest invocations.
:func:`parse_args` reads a bare argument string (``addopts``) the same way.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from codemods.edit.shell import Op, Token, Word, lex

__all__ = ["Invocation", "Option", "find_invocations", "parse_args", "words_from_list"]


# -- pytest's command line ----------------------------------------------------------------------

#: short options of pytest (and common plugins) that take a value
_SHORT_WITH_VALUE = frozenset("kmcpoWrnC")
#: long options that take a value (``--opt VALUE`` or ``--opt=VALUE``)
_LONG_WITH_VALUE = frozenset({
    "--numprocesses", "--dist", "--max-worker-restart", "--maxprocesses", "--tx", "--rsyncdir",
    "--rsyncignore", "--basetemp", "--rootdir", "--confcutdir", "--ignore", "--ignore-glob",
    "--deselect", "--junitxml", "--junit-xml", "--junit-prefix", "--durations",
    "--durations-min", "--maxfail", "--tb", "--capture", "--log-level", "--log-format",
    "--log-date-format", "--log-cli-level", "--log-cli-format", "--log-cli-date-format",
    "--log-file", "--log-file-level", "--log-file-format", "--log-file-date-format",
    "--log-file-mode", "--timeout", "--timeout-method", "--timeout_method", "--reruns",
    "--reruns-delay", "--only-rerun", "--rerun-except", "--retries", "--retry-delay",
    "--cumulative-timing", "--cov-report", "--cov-config", "--cov-fail-under", "--cov-context",
    "--import-mode", "--override-ini", "--pythonwarnings", "--color", "--code-highlight",
    "--report-log", "--html", "--css", "--json-report-file", "--count", "--repeat-scope",
    "--randomly-seed", "-p", "--asyncio-mode", "--asyncio-default-fixture-loop-scope",
    "--splits", "--group", "--splitting-algorithm", "--store-durations", "--durations-path",
    "--cache-show", "--lf-no-failures", "--last-failed-no-failures", "--pdbcls",
    "--trace-config-file", "--debug", "--strict-config-file", "--inifile", "--config-file",
    "--show-capture", "--setup-plan-file", "--verbosity", "--benchmark-json",
    "--benchmark-save", "--benchmark-storage", "--env", "--envfile", "--ds", "--dc",
    "--migrations", "--reuse-db-file"
})
#: long options whose value is optional (argparse ``nargs='?'``)
_LONG_OPTIONAL_VALUE = frozenset({"--cov", "--pdb-cls", "--lf-show"})


@dataclass(frozen=True)
class Option:
    """One option occurrence. Spans are text offsets; ``value_*`` is None for a flag or a value
    that is not a contiguous run of text (e.g. built from escapes)."""

    name: str  # canonical long form: "--numprocesses", "--dist", "--max-worker-restart", ...
    spelling: str  # as written: "-n", "--numprocesses", "--dist", ...
    value: str | None
    start: int  # start of the option word
    end: int  # end of the last word of the option (value included)
    value_start: int | None = None
    value_end: int | None = None
    value_quoted: bool = False


@dataclass
class Invocation:
    """One command that runs pytest, with the options stabfix cares about."""

    runner: str  # "pytest", "python -m pytest", "uv run pytest", "poetry run python -m pytest", ...
    start: int  # first word of the command (text offset)
    end: int  # end of its last word
    words: list[Word]
    args: list[Word]  # the words given to pytest
    options: list[Option] = field(default_factory=list)
    test_paths: list[str] = field(default_factory=list)
    ignores: list[str] = field(default_factory=list)
    line: int = 1  # 1-based line of ``start`` in the text

    def last(self, name: str) -> Option | None:
        """The last occurrence of an option (argparse: the last one wins)."""
        found = [o for o in self.options if o.name == name]
        return found[-1] if found else None

    @property
    def numprocesses(self) -> Option | None:
        return self.last("--numprocesses")

    @property
    def dist(self) -> Option | None:
        return self.last("--dist")

    @property
    def max_worker_restart(self) -> Option | None:
        return self.last("--max-worker-restart")

    @property
    def disables_xdist(self) -> bool:
        return any(o.name == "-p" and (o.value or "").replace(" ", "") == "no:xdist" for o in self.options)

    @property
    def uses_xdist(self) -> bool:
        """True when the command asks xdist for workers (``-n`` other than 0, or ``--dist``)."""
        if self.disables_xdist:
            return False
        n = self.numprocesses
        if n is not None:
            return n.value not in ("0", None)
        d = self.dist
        return d is not None and d.value not in ("no", None)


def _opt(name: str, spelling: str, value: str, start: int, end: int, vs: tuple[int, int] | None,
         quoted: bool) -> Option:
    return Option(name, spelling, value, start, end, vs[0] if vs else None, vs[1] if vs else None, quoted)


_CANONICAL = {"-n": "--numprocesses", "-p": "-p", "-k": "-k", "-m": "-m"}


def parse_args(args: Sequence[Word], *, runner: str = "", start: int = 0, end: int = 0,
               words: Sequence[Word] = (), line: int = 1) -> Invocation:
    """Read pytest's arguments: xdist options with offsets, test paths, ``--ignore`` paths."""
    inv = Invocation(runner=runner, start=start, end=end, words=list(words), args=list(args), line=line)
    k = 0
    positional_only = False
    while k < len(args):
        w = args[k]
        v = w.value
        k += 1
        if positional_only or not v.startswith("-") or v == "-":
            inv.test_paths.append(v.split("::", 1)[0])
            continue
        if v == "--":
            positional_only = True
            continue
        if v.startswith("--"):
            name, eq, inline = v.partition("=")
            if eq:
                vs = w.span(len(name) + 1, len(v))
                inv.options.append(_opt(name, name, inline, w.start, w.end, vs, w.quoted))
            elif name in _LONG_WITH_VALUE or (
                name in _LONG_OPTIONAL_VALUE and k < len(args) and not args[k].value.startswith("-")
            ):
                if k < len(args):
                    nxt = args[k]
                    k += 1
                    vs = nxt.span(0, len(nxt.value))
                    inv.options.append(_opt(name, name, nxt.value, w.start, nxt.end, vs, nxt.quoted))
                else:
                    inv.options.append(Option(name, name, None, w.start, w.end))
            else:
                inv.options.append(Option(name, name, None, w.start, w.end))
            if name in ("--ignore", "--ignore-glob") and inv.options[-1].value:
                inv.ignores.append(inv.options[-1].value or "")
            continue
        # short options, possibly combined: -vvs, -xk EXPR, -n4, -n=4, -rA
        j = 1
        while j < len(v):
            ch = v[j]
            if ch in _SHORT_WITH_VALUE:
                spelling = "-" + ch
                name = _CANONICAL.get(spelling, spelling)
                rest_at = j + 1
                if rest_at < len(v):
                    if v[rest_at] == "=" and ch == "n":
                        rest_at += 1
                    vs = w.span(rest_at, len(v))
                    inv.options.append(_opt(name, spelling, v[rest_at:], w.start, w.end, vs, w.quoted))
                elif k < len(args):
                    nxt = args[k]
                    k += 1
                    vs = nxt.span(0, len(nxt.value))
                    inv.options.append(_opt(name, spelling, nxt.value, w.start, nxt.end, vs, nxt.quoted))
                else:
                    inv.options.append(Option(name, spelling, None, w.start, w.end))
                break
            j += 1
    return inv


# -- finding the commands that run pytest -----------------------------------------------------------

_PYTHON = re.compile(r"python(\d+(\.\d+)?)?(\.exe)?")
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\+?=")
_PREFIX_WORDS = frozenset({"if", "then", "else", "elif", "do", "while", "until", "!", "{", "time", "exec",
                           "command", "nohup", "builtin"})
#: runners "X run [opts] CMD": options that take a value
_RUNNER_VALUE_OPTS = {
    "uv": frozenset({"--with", "--python", "-p", "--group", "--extra", "--package", "--env-file",
                     "--directory", "--project", "--index", "--with-requirements", "--only-group",
                     "--no-group", "--with-editable", "--default-index", "--index-url", "--cache-dir",
                     "--config-file", "--color"}),
    "poetry": frozenset({"-C", "--directory", "-P", "--project"}),
    "pipenv": frozenset(),
    "pdm": frozenset({"-p", "--project"}),
    "hatch": frozenset(),
}
_PYTHON_VALUE_OPTS = frozenset({"-X", "-W", "-c"})


def _basename(value: str) -> str:
    return os.path.basename(value)


def _is_assignment(w: Word) -> bool:
    """``NAME=value`` with an unquoted name (``FOO="a b"`` counts, ``"FOO=x"`` does not)."""
    m = _ASSIGNMENT.match(w.value)
    return m is not None and w.span(0, m.end()) == (w.start, w.start + m.end())


def _pytest_start(words: list[Word]) -> tuple[str, int] | None:
    """``(runner, index of pytest's first argument)`` when the command runs pytest."""
    i = 0
    # leading keywords, `VAR=value` assignments and transparent wrappers
    while i < len(words):
        v = words[i].value
        if v in _PREFIX_WORDS or _is_assignment(words[i]):
            i += 1
        elif v in ("env", "timeout"):
            takes_value = {"env": ("-u", "-C", "--unset", "--chdir"), "timeout": ("-s", "-k", "--signal",
                                                                              "--kill-after")}[v]
            i += 1
            while i < len(words) and (words[i].value.startswith("-") or (v == "env" and _is_assignment(words[i]))):
                i += 2 if words[i].value in takes_value else 1
            if v == "timeout":
                i += 1  # the duration
        else:
            break
    return _runner_at(words, i, "")


def _runner_at(words: list[Word], i: int, prefix: str) -> tuple[str, int] | None:
    if i >= len(words):
        return None
    head = _basename(words[i].value)
    if head in ("pytest", "py.test"):
        return (prefix + head, i + 1)
    if _PYTHON.fullmatch(head):
        j = i + 1
        while j < len(words) and words[j].value.startswith("-"):
            v = words[j].value
            if v == "-m":
                if j + 1 < len(words) and words[j + 1].value in ("pytest", "py.test"):
                    return (f"{prefix}python -m {words[j + 1].value}", j + 2)
                return None
            if v.startswith("-m") and v[2:] in ("pytest", "py.test"):
                return (f"{prefix}python -m {v[2:]}", j + 1)
            if v == "-c":
                return None
            j += 2 if v in _PYTHON_VALUE_OPTS else 1
        return None
    if head == "coverage" and i + 1 < len(words) and words[i + 1].value == "run":
        j = i + 2
        while j < len(words) and words[j].value.startswith("-") and words[j].value != "-m":
            j += 1
        if j + 1 < len(words) and words[j].value == "-m" and words[j + 1].value in ("pytest", "py.test"):
            return (f"{prefix}coverage run -m {words[j + 1].value}", j + 2)
        return None
    if head in _RUNNER_VALUE_OPTS:
        value_opts = _RUNNER_VALUE_OPTS[head]
        j = i + 1
        # global options before `run` (e.g. `poetry -C dir run`)
        while j < len(words) and words[j].value.startswith("-"):
            j += 2 if words[j].value in value_opts else 1
        if j >= len(words) or words[j].value != "run":
            return None
        j += 1
        while j < len(words) and words[j].value.startswith("-"):
            v = words[j].value
            j += 2 if v in value_opts else 1
        if head == "hatch" and j < len(words) and ":" in words[j].value:
            j += 1  # `hatch run env:pytest` is not split; `hatch run test: pytest` is rare
        return _runner_at(words, j, f"{prefix}{head} run ")
    return None


def _commands(tokens: list[Token]) -> list[list[Word]]:
    """Simple commands: the words between control operators (redirections dropped)."""
    out: list[list[Word]] = []
    current: list[Word] = []
    skip_next = False
    for tok in tokens:
        if isinstance(tok, Op):
            if tok.kind == "redir":
                skip_next = True
                continue
            if current:
                out.append(current)
            current = []
            skip_next = False
            continue
        if skip_next:
            skip_next = False
            continue
        current.append(tok)
    if current:
        out.append(current)
    return out


def find_invocations(text: str) -> list[Invocation]:
    """Every pytest invocation in a shell snippet; offsets are indexes into ``text``."""
    if "pytest" not in text and "py.test" not in text:
        return []
    found: list[Invocation] = []
    for words in _commands(lex(text)):
        hit = _pytest_start(words)
        if hit is None:
            continue
        runner, first_arg = hit
        start = words[0].start
        found.append(parse_args(words[first_arg:], runner=runner, start=start, end=words[-1].end,
                                words=words, line=text.count("\n", 0, start) + 1))
    return found


def words_from_list(items: Sequence[str], starts: Sequence[int]) -> list[Word]:
    """Words for arguments that are already split (a TOML list), at synthetic offsets."""
    return [Word(s, s + len(v), v, tuple(range(s, s + len(v))), False) for v, s in zip(items, starts, strict=True)]
