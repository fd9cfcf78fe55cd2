"""CI files as data: where a repository runs pytest, from which jobs, and with which ``--dist`` mode.

:func:`scan_file` finds every pytest invocation of one CI file (CircleCI / GitHub Actions / other
YAML located with :mod:`codemods.edit.yamlsplice`, Makefile recipes, tox.ini ``commands``,
pyproject.toml ``addopts``, ``*.sh``) as a :class:`Site`: the invocation (see
:mod:`codemods.testsuite.invocations`), the jobs that run it and its line. :func:`scan_repo` scans
a repository's usual CI files without a run context (for warnings in other fixers).

:func:`dist_modes` (for xdist-group's warning) uses :func:`scan_repo` and also reads ``addopts`` of
pytest.ini / setup.cfg; it reports, per pytest invocation that uses xdist (``-n``), the ``--dist``
mode it passes (None when none). The ``workers`` and ``dist`` fixers edit what is found here with
:mod:`codemods.ci.splice`; ``xdist-group`` and ``triage`` use :func:`scan_file` and
:attr:`~codemods.testsuite.invocations.Invocation.uses_xdist`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codemods.edit.shell import Word, lex
from codemods.testsuite.invocations import (
    Invocation,
    Option,
    find_invocations,
    parse_args,
    words_from_list,
)

__all__ = [
    "CI_GLOBS",
    "SHELL_KEYS",
    "CiFile",
    "DistSetting",
    "Site",
    "dist_modes",
    "file_kind",
    "line_at",
    "scan_file",
    "scan_repo",
    "select_jobs",
]

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
    from codemods.edit.yamlsplice import YamlSource

    if "pytest" not in ci.text and "py.test" not in ci.text:
        ci.yaml = YamlSource(ci.text, ci.path)
        return
    y = YamlSource(ci.text, ci.path)
    ci.yaml = y
    shell = _shell_nodes(y.documents)
    runs = [sc for sc in y.scalars() if id(sc.node) in shell and sc.node.tag == "tag:yaml.org,2002:str"
            and ("pytest" in sc.value or "py.test" in sc.value)]
    targets = {id(sc.node) for sc in runs}
    owners: list[dict[int, set[str]]] = []  # per document: pytest scalar -> the jobs that reach it
    for root in y.documents:
        jobs, commands = _yaml_jobs(y, root, ci.kind)
        ci.job_names.update(jobs)
        ci.job_names.update(commands)
        own: dict[int, set[str]] = {}
        for name, node in jobs.items():
            reach = y.reachable(node)
            for cmd in used_commands(y, node, commands):
                reach |= y.reachable(commands[cmd])
            for nid in reach & targets:
                own.setdefault(nid, set()).add(name)
        owners.append(own)
    for sc in runs:
        container = ("", "")
        if len(sc.path) >= 2 and sc.path[0] in ("jobs", "commands") and isinstance(sc.path[1], str):
            container = ("job" if sc.path[0] == "jobs" else "command", sc.path[1])
        jobs_of = tuple(sorted(owners[sc.doc].get(id(sc.node), ())))
        for inv in find_invocations(sc.value):
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
    from codemods.core import tomlread as tomllib

    try:
        data = tomllib.loads(ci.text)
    except tomllib.TOMLDecodeError as exc:
        from codemods.errors import StabfixError

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


#: where :func:`scan_repo` looks (globs relative to the root)
CI_GLOBS = (".circleci/config.yml", ".circleci/config.yaml", ".github/workflows/*.yml", ".github/workflows/*.yaml",
            "Makefile", "tox.ini", "pyproject.toml")


def scan_repo(root: Any, globs: Sequence[str] = CI_GLOBS) -> tuple[list[CiFile], list[str]]:
    """Scan a repository's usual CI files without a run context (for warnings in other fixers).

    Returns ``(files, problems)``: a file that cannot be read or parsed is skipped and named in
    ``problems`` with the reason, never raised.
    """
    from codemods.errors import StabfixError

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


# -- --dist modes (xdist-group's warning) ------------------------------------------------------

#: pytest configuration files that scan_repo does not read
CONFIG_FILES = ("pytest.ini", "setup.cfg")

_DIST = re.compile(r"(?:--dist[= ]\s*|(?<![\w-])-d\s*)(\w+)")


@dataclass(frozen=True)
class DistSetting:
    file: str
    line: int
    mode: str | None  # "loadgroup", "load", ... or None when -n is used without --dist
    test_paths: tuple[str, ...] = ()  # what the invocation runs (empty: pytest's default, everything)

    def runs(self, rel: str) -> bool:
        """Might this invocation run the test file ``rel`` (root-relative POSIX path)?"""
        if not self.test_paths:
            return True
        for p in self.test_paths:
            p = p.split("::")[0].strip("/").removeprefix("./")
            if p in ("", ".") or rel == p or rel.startswith(p + "/"):
                return True
        return False


def dist_modes(root: Path) -> list[DistSetting]:
    """Every xdist-using pytest invocation and configured addopts with its ``--dist`` mode."""
    found: list[DistSetting] = []
    files, _problems = scan_repo(root)  # unreadable files are simply not evidence either way
    for ci in files:
        for site in ci.sites:
            inv = site.invocation
            if inv.uses_xdist or (ci.kind == "pyproject" and inv.dist is not None):
                found.append(DistSetting(ci.path, site.line, inv.dist.value if inv.dist else None,
                                         tuple(inv.test_paths)))
    for name in CONFIG_FILES:
        path = root / name
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for no, line in enumerate(text.splitlines(), 1):
            if "addopts" in line or line.strip().startswith(("-n", "--dist", "--numprocesses")):
                m = _DIST.search(line)
                if m:
                    found.append(DistSetting(name, no, m.group(1)))
    return found
