"""Find pytest invocations in shell text and the exact offsets of their xdist options.

CI files run pytest from shell snippets: YAML ``run:``/``command:`` scalars, Makefile recipes,
tox ``commands``, GitHub ``run:`` blocks. :func:`find_invocations` lexes such text the way a POSIX
shell splits it (quotes, backslash continuations, comments, ``&&``/``;``/``|``, ``$(...)``,
heredocs, CircleCI ``<< parameters.x >>``), keeps every word's character offsets, and returns one
:class:`Invocation` per command that runs pytest (``pytest``, ``py.test``, ``python -m pytest``,
``uv run [--no-sync] [python -m] pytest``, ``poetry run ...``, ``coverage run -m pytest``).
Each invocation knows its ``-n``/``--numprocesses``, ``--dist`` and ``--max-worker-restart``
options and the test paths it runs, with offsets so that callers edit by splicing.

Nothing here guesses from substrings: ``conda create -n env``, ``echo -n``, ``head -n 5``,
comments, quoted strings and other commands on the same line are never pytest invocations.
:func:`parse_args` reads a bare argument string (``addopts``) the same way.

File level: :func:`scan_file` finds every invocation of one CI file (CircleCI / GitHub Actions /
other YAML located with :mod:`codemods.yamlsplice`, Makefile recipes, tox.ini ``commands``,
pyproject.toml ``addopts``) with the jobs that run it and its line; :func:`apply_splices` makes
offset edits to such a file and checks the result. The ``workers`` and ``dist`` fixers are built on
it; ``xdist-group`` and ``triage`` can use :func:`scan_file` and :attr:`Invocation.uses_xdist`.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = [
    "CiFile",
    "Invocation",
    "Option",
    "Site",
    "Splice",
    "Word",
    "apply_splices",
    "check_job_names",
    "collect_ci_files",
    "file_kind",
    "find_invocations",
    "lex",
    "line_at",
    "parse_args",
    "scan_file",
    "scan_repo",
    "select_jobs",
    "words_from_list",
]


@dataclass(frozen=True)
class Word:
    """One shell word: its raw span in the text and its value after quote removal.

    ``offsets[i]`` is the text offset of ``value[i]`` (quotes and escapes have no value chars).
    """

    start: int
    end: int
    value: str
    offsets: tuple[int, ...]
    quoted: bool

    def span(self, i: int, j: int) -> tuple[int, int] | None:
        """Text span of ``value[i:j]`` when those chars are contiguous in the text, else None."""
        if i >= j:
            return None
        a, b = self.offsets[i], self.offsets[j - 1] + 1
        return (a, b) if b - a == j - i else None


@dataclass(frozen=True)
class Op:
    """A control operator (``&&``, ``||``, ``;``, ``|``, ``&``, newline, parentheses) or redirection."""

    kind: str
    start: int
    end: int


Token = Word | Op

_CONTROL = ("&&", "||", ";;", "|&", ";", "|", "&", "(", ")")
_REDIRS = ("<<<", "<<-", "<<", ">>", ">&", "<&", "&>", ">|", "<>", "<", ">")
_CONTROL_RE = re.compile("|".join(re.escape(o) for o in _CONTROL))
_REDIR_RE = re.compile("|".join(re.escape(o) for o in _REDIRS))
_OP_CHARS = frozenset(";&|()")
#: a run of characters that stand for themselves inside a word
_PLAIN_RUN = re.compile(r"[^\s;&|()<>\\'\"$`]+")
_CIRCLE_PARAM = re.compile(r"<<\s*[\w.-]+\s*>>")
_HEREDOC_WORD = re.compile(r"\s*(['\"]?)([\w.-]+)\1")


def _skip_subst(text: str, i: int, open_: str, close: str) -> int:
    """Index after the ``close`` that matches the ``open_`` at ``text[i]`` (quotes respected)."""
    depth = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == "'" and open_ == "(":
            j = text.find("'", i + 1)
            i = n if j < 0 else j + 1
            continue
        if c == '"' and open_ == "(":
            i = _skip_double(text, i)
            continue
        if c == open_:
            depth += 1
        elif c == close:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return n


def _skip_double(text: str, i: int) -> int:
    """Index after the double-quoted string starting at ``text[i]``."""
    i += 1
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
        elif c == '"':
            return i + 1
        elif c == "$" and text.startswith("$(", i):
            i = _skip_subst(text, i + 1, "(", ")")
        else:
            i += 1
    return n


def lex(text: str) -> list[Token]:
    """Split shell text into words and operators, keeping offsets (comments are dropped)."""
    tokens: list[Token] = []
    n = len(text)
    i = 0
    pending_heredocs: list[tuple[str, bool]] = []
    while i < n:
        c = text[i]
        if c in " \t":
            i += 1
            continue
        if c == "\\" and text.startswith(("\\\n", "\\\r\n"), i):
            i += 2 if text[i + 1] == "\n" else 3
            continue
        if c in "\r\n":
            end = i + (2 if text.startswith("\r\n", i) else 1)
            tokens.append(Op("\n", i, end))
            i = end
            for delim, strip_tabs in pending_heredocs:  # skip heredoc bodies
                while i < n:
                    eol = text.find("\n", i)
                    eol = n if eol < 0 else eol + 1
                    line = text[i:eol].rstrip("\r\n")
                    i = eol
                    if (line.lstrip("\t") if strip_tabs else line) == delim:
                        break
            pending_heredocs = []
            continue
        if c == "#":
            eol = text.find("\n", i)
            i = n if eol < 0 else eol
            if i > 0 and text[i - 1] == "\r":
                i -= 1
            continue
        if c == "<" and _CIRCLE_PARAM.match(text, i):
            pass  # a CircleCI parameter starts a word
        else:
            m_op = _CONTROL_RE.match(text, i) if c in _OP_CHARS else None
            if m_op is not None:
                op = m_op.group()
                tokens.append(Op(op, i, i + len(op)))
                i += len(op)
                continue
            m_red = _REDIR_RE.match(text, i) if c in "<>&" else None
            if m_red is not None:
                red = m_red.group()
                tokens.append(Op("redir", i, i + len(red)))
                i += len(red)
                if red in ("<<", "<<-"):
                    m = _HEREDOC_WORD.match(text, i)
                    if m:
                        pending_heredocs.append((m.group(2), red == "<<-"))
                        i = m.end()
                continue
        i = _lex_word(text, i, tokens)
    return tokens


def _lex_word(text: str, i: int, tokens: list[Token]) -> int:
    """Read one word starting at ``i``; append it; return the index after it."""
    n = len(text)
    start = i
    value: list[str] = []
    offsets: list[int] = []
    quoted = False

    def take(a: int, b: int) -> None:
        value.append(text[a:b])
        offsets.extend(range(a, b))

    while i < n:
        run = _PLAIN_RUN.match(text, i)
        if run is not None:
            take(i, run.end())
            i = run.end()
            continue
        c = text[i]
        if c in " \t\r\n;&|()":
            break
        if c in "<>":
            m = _CIRCLE_PARAM.match(text, i) if c == "<" else None
            if m is None:
                if value and "".join(value).isdigit():  # io-number: `2>&1`
                    tokens.append(Op("redir", start, i))
                    return i
                break
            take(i, m.end())
            i = m.end()
            continue
        if c == "\\":
            if text.startswith(("\\\n", "\\\r\n"), i):
                i += 2 if text[i + 1] == "\n" else 3
                continue
            quoted = True
            if i + 1 < n:
                take(i + 1, i + 2)
            i += 2
            continue
        if c == "'":
            quoted = True
            j = text.find("'", i + 1)
            j = n if j < 0 else j
            take(i + 1, j)
            i = j + 1
            continue
        if c == '"':
            quoted = True
            j = i + 1
            while j < n and text[j] != '"':
                if text[j] == "\\" and j + 1 < n and text[j + 1] in '"\\$`\n':
                    if text[j + 1] != "\n":
                        take(j + 1, j + 2)
                    j += 2
                elif text.startswith("$(", j):
                    k = _skip_subst(text, j + 1, "(", ")")
                    take(j, k)
                    j = k
                else:
                    take(j, j + 1)
                    j += 1
            i = j + 1
            continue
        if c == "$" and i + 1 < n and text[i + 1] in "({":
            j = _skip_subst(text, i + 1, text[i + 1], ")" if text[i + 1] == "(" else "}")
            take(i, j)
            i = j
            continue
        if c == "`":
            j = text.find("`", i + 1)
            j = n if j < 0 else j + 1
            take(i, j)
            i = j
            continue
        take(i, i + 1)
        i += 1
    tokens.append(Word(start, i, "".join(value), tuple(offsets), quoted))
    return i


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


# -- pytest invocations in CI files -----------------------------------------------------------------

#: mapping keys whose string value (or list of strings) is shell text
SHELL_KEYS = frozenset({"run", "command", "commands", "script", "before_script", "after_script", "cmd"})


@dataclass
class Site:
    """A pytest invocation located in a file.

    ``invocation`` offsets index the snippet: ``scalar.value`` for YAML, else the file text
    (``Site.base`` is then 0 and offsets are file offsets).
    """

    path: str
    kind: str  # "circleci" | "github" | "yaml" | "make" | "tox" | "pyproject"
    invocation: Invocation
    line: int  # 1-based line of the invocation in the file
    jobs: tuple[str, ...] = ()  # jobs / make targets / tox envs that run it
    container: tuple[str, str] = ("", "")  # ("job"|"command"|"target"|"env", name) holding the text
    scalar: Any = None  # yamlsplice.Scalar for YAML files
    doc: int = 0

    def selected_by(self, names: set[str]) -> bool | None:
        """Is this invocation in the jobs ``names``? None when only some of the jobs sharing it are.

        A name may also be the reusable command (or make target, tox env) that holds the text.
        """
        if self.container[0] == "command" and self.container[1] in names:
            return True
        return select_jobs(set(self.jobs) or ({self.container[1]} if self.container[1] else set()), names)


def select_jobs(jobs: set[str], names: set[str]) -> bool | None:
    """True when ``names`` is empty or holds all of ``jobs``, None when it holds only some, else False."""
    if not names:
        return True
    if jobs and jobs <= names:
        return True
    return None if jobs & names else False


@dataclass
class CiFile:
    """One scanned file: its kind, its pytest invocations and (for YAML) the parsed source."""

    path: str
    kind: str
    text: str
    sites: list[Site] = field(default_factory=list)
    yaml: Any = None  # yamlsplice.YamlSource
    job_names: set[str] = field(default_factory=set)
    source: Any = None  # the SourceFile it was read from (collect_ci_files), for proposing edits


def line_at(ci: CiFile, site: Site, offset: int) -> int:
    """1-based file line of an offset of ``site.invocation`` (YAML: an index into the scalar value)."""
    if site.scalar is not None:
        return int(site.scalar.value_line(offset))
    if ci.kind in ("make", "tox", "shell"):
        return ci.text.count("\n", 0, offset) + 1
    if ci.kind == "pyproject":  # addopts list: find the item's own string literal
        words = site.invocation.words
        k = next((i for i, w in enumerate(words) if w.start <= offset <= w.end), None)
        pos = sum(len(line) for line in ci.text.splitlines(keepends=True)[: site.line - 1])
        found = None
        for w in words[: (k if k is not None else -1) + 1]:
            found = re.compile(r"(['\"])" + re.escape(w.value) + r"\1").search(ci.text, pos)
            if found is None:
                return site.line
            pos = found.end()
        if found is not None:
            return ci.text.count("\n", 0, found.start()) + 1
    return site.line


def file_kind(rel: str, text: str = "") -> str:
    """Classify a CI file by its name (and, for YAML, its content)."""
    name = os.path.basename(rel)
    if name.endswith((".yml", ".yaml")):
        if "/.circleci/" in f"/{rel}" or (re.search(r"(?m)^version:\s*['\"]?2(\.1)?\b", text) and "jobs:" in text):
            return "circleci"
        if "/.github/workflows/" in f"/{rel}" or re.search(r"(?m)^\s+runs-on:", text):
            return "github"
        return "yaml"
    if name in ("Makefile", "makefile", "GNUmakefile") or name.endswith(".mk"):
        return "make"
    if name == "tox.ini":
        return "tox"
    if name == "pyproject.toml":
        return "pyproject"
    return "shell" if name.endswith((".sh", ".bash")) else "unknown"


def scan_file(rel: str, text: str, kind: str | None = None) -> CiFile:
    """Every pytest invocation in one CI file (YAML, Makefile, tox.ini, pyproject addopts, shell)."""
    kind = kind or file_kind(rel, text)
    ci = CiFile(rel, kind, text)
    if kind in ("circleci", "github", "yaml"):
        _scan_yaml(ci)
    elif kind == "make":
        _scan_make(ci)
    elif kind == "tox":
        _scan_tox(ci)
    elif kind == "pyproject":
        _scan_pyproject(ci)
    elif kind == "shell":
        for inv in find_invocations(text):
            ci.sites.append(Site(rel, kind, inv, inv.line))
    return ci


def _shell_nodes(documents: list[Any]) -> set[int]:
    """ids of the scalars that are shell text: values of a ``run:``/``command:``/``script:`` key
    (or items of such a list), however they are reached (an alias counts where it is used)."""
    out: set[int] = set()
    seen: set[int] = set()
    stack = list(documents)
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if node.id == "mapping":
            for k, v in node.value:
                if k.id == "scalar" and k.value in SHELL_KEYS:
                    if v.id == "scalar":
                        out.add(id(v))
                    elif v.id == "sequence":
                        out.update(id(x) for x in v.value if x.id == "scalar")
                stack.append(v)
        elif node.id == "sequence":
            stack.extend(node.value)
    return out


def _yaml_jobs(y: Any, root: Any, kind: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(jobs, reusable commands)`` of one document, by name."""
    jobs_node = y.get(root, "jobs")
    if jobs_node is not None and jobs_node.id == "mapping":
        jobs = dict(y.items(jobs_node))
    elif kind == "yaml":  # GitLab style: top-level jobs
        jobs = {k: v for k, v in y.items(root) if v.id == "mapping"}
    else:
        jobs = {}
    commands_node = y.get(root, "commands") if kind == "circleci" else None
    commands = dict(y.items(commands_node)) if commands_node is not None else {}
    return jobs, commands


def used_commands(y: Any, node: Any, commands: dict[str, Any]) -> set[str]:
    """Names of CircleCI reusable commands a job or command uses (transitively)."""
    out: set[str] = set()
    todo = [node]
    while todo:
        n = todo.pop()
        steps = y.get(n, "steps")
        if steps is None or steps.id != "sequence":
            continue
        for step in steps.value:
            names = [step.value] if step.id == "scalar" else [k for k, _ in y.items(step)]
            for name in names:
                if name in commands and name not in out:
                    out.add(name)
                    todo.append(commands[name])
    return out


def _scan_yaml(ci: CiFile) -> None:
    from .yamlsplice import YamlSource

    if "pytest" not in ci.text and "py.test" not in ci.text:
        ci.yaml = YamlSource(ci.text, ci.path)
        return
    y = YamlSource(ci.text, ci.path)
    ci.yaml = y
    owners: list[dict[int, set[str]]] = []
    for root in y.documents:
        jobs, commands = _yaml_jobs(y, root, ci.kind)
        ci.job_names.update(jobs)
        ci.job_names.update(commands)
        own: dict[int, set[str]] = {}
        for name, node in jobs.items():
            reach = y.reachable(node)
            for cmd in used_commands(y, node, commands):
                reach |= y.reachable(commands[cmd])
            for nid in reach:
                own.setdefault(nid, set()).add(name)
        owners.append(own)
    shell = _shell_nodes(y.documents)
    for sc in y.scalars():
        if sc.node.tag != "tag:yaml.org,2002:str" or id(sc.node) not in shell:
            continue
        value = sc.value
        if "pytest" not in value and "py.test" not in value:
            continue
        container = ("", "")
        if len(sc.path) >= 2 and sc.path[0] in ("jobs", "commands") and isinstance(sc.path[1], str):
            container = ("job" if sc.path[0] == "jobs" else "command", sc.path[1])
        jobs_of = tuple(sorted(owners[sc.doc].get(id(sc.node), ())))
        for inv in find_invocations(value):
            ci.sites.append(Site(ci.path, ci.kind, inv, sc.value_line(inv.start), jobs_of, container, sc, sc.doc))


_MAKE_RULE = re.compile(r"^([^\s:#=][^:=]*?)\s*::?(?!=)")


def _scan_make(ci: CiFile) -> None:
    text = ci.text
    targets: tuple[str, ...] = ()
    pos = 0
    n = len(text)
    while pos < n:
        eol = text.find("\n", pos)
        eol = n if eol < 0 else eol
        line = text[pos:eol]
        if line.startswith("\t"):
            # one logical recipe line: continuation lines end with a backslash
            end = eol
            while text[pos:end].rstrip("\r").endswith("\\") and end < n:
                nxt = text.find("\n", end + 1)
                end = n if nxt < 0 else nxt
            begin = pos + 1
            while begin < end and text[begin] in "@-+":
                begin += 1
            snippet = text[:end]  # offsets stay file offsets: lex only the recipe part
            for inv in find_invocations(snippet[begin:]):
                shifted = _shift(inv, begin)
                shifted.line = text.count("\n", 0, shifted.start) + 1
                ci.sites.append(Site(ci.path, "make", shifted, shifted.line, targets, ("target", " ".join(targets))))
            pos = end + 1
            continue
        m = _MAKE_RULE.match(line)
        if m and not line.startswith((" ", "#")):
            targets = tuple(t for t in m.group(1).split() if not t.startswith("."))
            ci.job_names.update(targets)
        pos = eol + 1


def _scan_tox(ci: CiFile) -> None:
    text = ci.text
    section = ""
    lines = text.splitlines(keepends=True)
    offs = [0]
    for ln in lines:
        offs.append(offs[-1] + len(ln))
    k = 0
    while k < len(lines):
        line = lines[k]
        head = re.match(r"\[([^\]]+)\]", line)
        if head:
            section = head.group(1).strip()
            env = section.split(":", 1)[1] if section.startswith("testenv:") else section
            ci.job_names.add(env)
            k += 1
            continue
        m = re.match(r"commands\s*[=:]", line)
        if m and section.startswith("testenv"):
            env = section.split(":", 1)[1] if ":" in section else "testenv"
            begin = offs[k] + m.end()
            j = k + 1
            while j < len(lines) and lines[j][:1] in (" ", "\t") and lines[j].strip():
                j += 1
            for inv in find_invocations(text[begin:offs[j]]):
                shifted = _shift(inv, begin)
                shifted.line = text.count("\n", 0, shifted.start) + 1
                ci.sites.append(Site(ci.path, "tox", shifted, shifted.line, (env,), ("env", env)))
            k = j
            continue
        k += 1


def _scan_pyproject(ci: CiFile) -> None:
    """``[tool.pytest.ini_options] addopts`` (or pytest 9's ``[tool.pytest]``) as one invocation."""
    try:
        data = tomllib.loads(ci.text)
    except tomllib.TOMLDecodeError as exc:
        from .errors import StabfixError

        raise StabfixError(f"invalid TOML: {exc}; fix the file and run again", path=ci.path) from None
    tool = data.get("tool", {}).get("pytest", {})
    for table in (tool.get("ini_options", {}), tool):
        addopts = table.get("addopts") if isinstance(table, dict) else None
        if isinstance(addopts, str):
            words = [w for w in lex(addopts) if isinstance(w, Word)]
        elif isinstance(addopts, list) and all(isinstance(a, str) for a in addopts):
            starts, at = [], 0
            for a in addopts:
                starts.append(at)
                at += len(a) + 1
            words = words_from_list(addopts, starts)
        else:
            continue
        inv = parse_args(words, runner="addopts", words=words)
        line = next((i + 1 for i, ln in enumerate(ci.text.splitlines()) if ln.lstrip().startswith("addopts")), 1)
        ci.sites.append(Site(ci.path, "pyproject", inv, line, ("addopts",), ("addopts", "addopts")))
        ci.job_names.add("addopts")
        return


def _shift(inv: Invocation, base: int) -> Invocation:
    """The same invocation with every offset moved by ``base``."""

    def w(x: Word) -> Word:
        return Word(x.start + base, x.end + base, x.value, tuple(o + base for o in x.offsets), x.quoted)

    def o(x: Option) -> Option:
        return Option(x.name, x.spelling, x.value, x.start + base, x.end + base,
                      None if x.value_start is None else x.value_start + base,
                      None if x.value_end is None else x.value_end + base, x.value_quoted)

    return Invocation(inv.runner, inv.start + base, inv.end + base, [w(x) for x in inv.words],
                      [w(x) for x in inv.args], [o(x) for x in inv.options], list(inv.test_paths),
                      list(inv.ignores), inv.line)


@dataclass(frozen=True)
class Splice:
    """Replace ``[start, end)`` with ``new``: offsets index ``scalar.value`` for YAML, the file text
    for Makefiles and tox.ini, and the addopts string for pyproject.toml."""

    start: int
    end: int
    new: str
    scalar: Any = None


def apply_splices(ci: CiFile, splices: list[Splice]) -> str:
    """The new file text with every splice made and checked (raises StabfixError when unsafe)."""
    from .errors import StabfixError

    if not splices:
        return ci.text
    if ci.yaml is not None:
        return str(ci.yaml.splice([(s.scalar, s.start, s.end, s.new) for s in splices]))
    if ci.kind == "pyproject":
        return _apply_addopts(ci, splices)
    new_text = _splice_text(ci.text, splices)
    if new_text is None:
        raise StabfixError("two edits overlap; nothing changed", path=ci.path)
    # every invocation must still be there, with only the edited options changed
    again = scan_file(ci.path, new_text, ci.kind)
    if len(again.sites) != len(ci.sites):
        raise StabfixError("stabfix bug: the edit changed the number of pytest invocations", path=ci.path)
    return new_text


def _splice_text(text: str, splices: list[Splice]) -> str | None:
    parts: list[str] = []
    last = 0
    for s in sorted(splices, key=lambda s: (s.start, s.end)):
        if s.start < last:
            return None
        parts.append(text[last:s.start])
        parts.append(s.new)
        last = s.end
    parts.append(text[last:])
    return "".join(parts)


def _apply_addopts(ci: CiFile, splices: list[Splice]) -> str:
    import tomlkit

    from .errors import StabfixError

    doc = tomlkit.parse(ci.text)
    tool: Any = doc["tool"]["pytest"]
    table: Any = tool["ini_options"] if "ini_options" in tool and "addopts" in tool["ini_options"] else tool
    old = table["addopts"]
    if isinstance(old, str):
        new_value = _splice_text(str(old), splices)
        if new_value is None:
            raise StabfixError("two edits overlap; nothing changed", path=ci.path)
        kind = getattr(old, "type", None)
        literal = bool(kind is not None and kind.is_literal())
        multiline = bool(kind is not None and kind.is_multiline())
        table["addopts"] = tomlkit.string(new_value, literal=literal, multiline=multiline)
        expected: Any = new_value
    else:
        expected = _edit_list(old, [str(a) for a in old], splices, ci.path)
    new_text = tomlkit.dumps(doc)
    before, after = tomllib.loads(ci.text), tomllib.loads(new_text)
    for data in (before, after):
        pt = data["tool"]["pytest"]
        (pt["ini_options"] if "ini_options" in pt and "addopts" in pt["ini_options"] else pt).pop("addopts")
    if before != after or _addopts(tomllib.loads(new_text)) != expected:
        raise StabfixError("stabfix bug: the addopts edit changed other values; nothing written", path=ci.path)
    return new_text


def _edit_list(array: Any, items: list[str], splices: list[Splice], rel: str) -> list[str]:
    """Apply splices (offsets into ``" ".join(items)``) to a tomlkit array item by item, so that
    its layout and comments stay; returns the new items."""
    from .errors import StabfixError

    starts, at = [], 0
    for item in items:
        starts.append(at)
        at += len(item) + 1
    new_items = list(items)
    for sp in sorted(splices, key=lambda x: (x.start, x.end), reverse=True):
        k = next((i for i in range(len(items)) if starts[i] <= sp.start <= starts[i] + len(items[i])), None)
        if k is None:
            raise StabfixError("stabfix bug: an addopts edit falls outside its items", path=rel)
        a, b = sp.start - starts[k], sp.end - starts[k]
        if a == b == len(items[k]) and sp.new[:1] == " ":  # new arguments after item k
            for j, word in enumerate(sp.new.split()):
                array.insert(k + 1 + j, word)
                new_items.insert(k + 1 + j, word)
        elif b <= len(items[k]) and not re.search(r"\s", sp.new):
            value = new_items[k][:a] + sp.new + new_items[k][b:]
            array[k] = value
            new_items[k] = value
        else:
            raise StabfixError("an addopts edit spans list items; edit it by hand", path=rel)
    return new_items


def _addopts(data: dict[str, Any]) -> Any:
    pt = data["tool"]["pytest"]
    return (pt["ini_options"] if "ini_options" in pt and "addopts" in pt["ini_options"] else pt)["addopts"]


#: CI files looked for inside a folder given as a path
_CI_NAMES = (".circleci/config.yml", ".circleci/config.yaml", "Makefile", "tox.ini")


def _wanted(ctx: Any, path: Any) -> bool:
    """--include / --exclude globs (a file named explicitly is always taken, as in discovery)."""
    from .discovery import glob_match

    rel = ctx.rel(path)
    if ctx.exclude and glob_match(rel, ctx.exclude):
        return False
    return not (ctx.include and not glob_match(rel, ctx.include))


def collect_ci_files(ctx: Any, default_files: Sequence[str]) -> list[CiFile]:
    """Scan the CI files of a run: the paths given, else ``default_files`` (missing ones skipped).

    A folder stands for the CI files in it (``.circleci/config.yml``, ``.github/workflows/*.yml``,
    ``Makefile``, ``tox.ini``). ``--include``/``--exclude`` filter the files found in folders and
    the default list; a file named explicitly is always taken. ``ctx`` is a
    :class:`~codemods.fixers.base.Context`.
    """
    from pathlib import Path

    from .errors import StabfixError

    chosen: list[Path] = []
    if ctx.explicit_paths:
        for p in ctx.paths:
            if p.is_dir():
                found = [p / n for n in _CI_NAMES if (p / n).is_file()]
                wf = p / ".github" / "workflows"
                if p.name == "workflows" or p.parent.name == ".github":
                    wf = p
                if wf.is_dir():
                    found += sorted(x for x in wf.iterdir() if x.suffix in (".yml", ".yaml") and x.is_file())
                if not found:
                    raise StabfixError(f"{ctx.rel(p)} holds no CI file ({', '.join(_CI_NAMES)}, "
                                       ".github/workflows/*.yml); name the file", path=ctx.rel(p))
                chosen.extend(f for f in found if _wanted(ctx, f))
            elif p.is_file():
                chosen.append(p)
            else:
                raise StabfixError(f"{ctx.rel(p)} does not exist", path=ctx.rel(p))
    else:
        chosen = [ctx.resolve(f) for f in default_files]
        missing = [ctx.rel(p) for p in chosen if not p.is_file()]
        chosen = [p for p in chosen if p.is_file() and _wanted(ctx, p)]
        if missing and chosen:
            ctx.info(f"not found, skipped: {', '.join(missing)}")
    out: list[CiFile] = []
    seen: set[Path] = set()
    for p in chosen:
        if p in seen:
            continue
        seen.add(p)
        source = ctx.read(p)
        kind = file_kind(source.rel, source.text)
        if kind == "unknown":
            raise StabfixError("not a CI file stabfix knows (YAML, Makefile, tox.ini, pyproject.toml, *.sh)",
                               path=source.rel)
        ci = scan_file(source.rel, source.text, kind)
        ci.source = source
        out.append(ci)
    return out


def ci_files_to_edit(ctx: Any, default_files: Sequence[str], jobs: Sequence[str]) -> list[CiFile]:
    """The CI files a workers/dist run edits; empty (with an info notice and the files marked
    unchanged) when there is no CI file or no pytest invocation. Unknown ``--job`` names raise."""
    files = collect_ci_files(ctx, default_files)
    if not files:
        ctx.info("nothing to do: no CI file found (" + ", ".join(default_files) + ")")
        return []
    check_job_names(files, jobs)
    if not any(f.sites for f in files):
        for f in files:
            ctx.mark(f.path, "unchanged", "nothing to do: no pytest invocation")
        ctx.info("nothing to do: no pytest invocation in " + ", ".join(f.path for f in files))
        return []
    return files


def check_job_names(files: Sequence[CiFile], names: Sequence[str]) -> None:
    """Raise a usage error (exit 2) for a ``--job`` name that no scanned file defines."""
    from .errors import UsageError

    known = set().union(*(f.job_names for f in files)) if files else set()
    for name in names:
        if name not in known:
            sample = ", ".join(sorted(known)[:12]) or "none"
            raise UsageError(f"--job {name}: no such job in {', '.join(f.path for f in files)} (jobs: {sample})")


#: where :func:`scan_repo` looks (globs relative to the root)
CI_GLOBS = (".circleci/config.yml", ".circleci/config.yaml", ".github/workflows/*.yml", ".github/workflows/*.yaml",
            "Makefile", "tox.ini", "pyproject.toml")


def scan_repo(root: Any, globs: Sequence[str] = CI_GLOBS) -> tuple[list[CiFile], list[str]]:
    """Scan a repository's usual CI files without a run context (for warnings in other fixers).

    Returns ``(files, problems)``: a file that cannot be read or parsed is skipped and named in
    ``problems`` with the reason, never raised.
    """
    from pathlib import Path

    from .errors import StabfixError

    base = Path(root)
    files: list[CiFile] = []
    problems: list[str] = []
    for pattern in globs:
        for path in sorted(base.glob(pattern)):
            if not path.is_file():
                continue
            rel = path.relative_to(base).as_posix()
            try:
                text = path.read_bytes().decode("utf-8-sig")
                files.append(scan_file(rel, text))
            except (OSError, UnicodeDecodeError) as exc:
                problems.append(f"{rel}: cannot read ({exc})")
            except StabfixError as exc:
                problems.append(exc.one_line().removeprefix("error: "))
    return files, problems
