"""``dockerfile-pins``: raise the vulnerable versions that Dockerfiles install with ``npm install -g``.

Files: ``Dockerfile``, ``*.Dockerfile`` and ``Dockerfile.*`` under PATHS (.gitignore honoured). The
RUN instructions are found with dockerfile-parse (its line ranges), and each one's text is split
with stabfix's shell lexer (:mod:`codemods.edit.shell`: quotes, ``&&``/``;`` chains, backslash
continuations, offsets kept). In every ``npm install -g`` / ``npm i -g`` / ``npm install --global``
(``--location=global``) command, each ``NAME@VERSION`` argument whose package is named

* by an ``npm audit --json`` report (``--from``; its advisories of ``--level`` and above): a pinned
  version inside an advisory range is raised to the first patched version (the lowest stable
  published version not below it outside every range, :func:`~codemods.fixers.npm.versions.first_patched`);
* by ``--pin NAME@VERSION``: a pinned version below VERSION is raised to it (never lowered);

gets its version replaced where it is written: in the argument itself, or, for ``NAME@${VAR}`` /
``NAME@$VAR``, in the default of the nearest ``ARG VAR=...`` (or ``ENV VAR=...``) above it. Every
other byte stays. A Dockerfile with a heredoc (``RUN <<EOF``, which dockerfile-parse does not
read) or a non-default ``# escape=`` directive is refused with one line.
"""

from __future__ import annotations

import io
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from codemods.core.context import Context
from codemods.core.contract import DemoSpec, RepoFixer
from codemods.core.options import option, split_list
from codemods.core.plan import Edit
from codemods.core.source import SourceFile
from codemods.edit.shell import Op, Word, lex
from codemods.errors import FileFailure, StabfixError, UsageError
from codemods.fixers.npm.audit import SEVERITIES, valid_name

INSTALL = {"install", "i", "in", "add", "isntall"}
GLOBAL = {"-g", "--global", "--location=global"}
#: npm options that take the next word as their value (so it is no package)
WITH_VALUE = {"--prefix", "--registry", "--tag", "--cache", "--userconfig", "--location", "--omit", "--include",
              "--install-strategy", "--workspace", "-w", "-C", "--before"}
WRAPPERS = {"sudo", "exec", "env", "time", "command", "nice"}
_ASSIGN = re.compile(r"[A-Za-z_]\w*=")
_HEREDOC = re.compile(r"(?<!<)<<(?!<)-?\s*(['\"]?)[A-Za-z_][\w.-]*\1")  # not a `<<<` here-string
_ESCAPE = re.compile(r"#\s*escape\s*=\s*(\S)", re.I)
_VAR = re.compile(r"\$\{([A-Za-z_]\w*)\}|\$([A-Za-z_]\w*)")
_PRE_FILTER = re.compile(r"\bnpm\b")


@dataclass
class DockerfilePinsOptions:
    from_report: str | None = option(None, "raise what this `npm audit --json` report (npm 7+) names (`-`: stdin)",
                                     flag="--from", metavar="FILE", config=False)
    pin: list[str] = option([], "raise NAME to at least VERSION (repeatable)", metavar="NAME@VERSION", config=False)
    level: str = option("high", "the lowest severity of the report to fix", choices=SEVERITIES)
    versions: str | None = option(
        None, "published versions from FILE (JSON: name -> versions, as `npm view NAME versions --json` prints "
        "them) instead of asking npm", metavar="FILE", config=False)


@dataclass
class _Target:
    name: str
    ranges: list[str]
    pin: str | None = None
    severity: str = ""


@dataclass
class _Splice:
    start: int
    end: int
    new: str
    edit: Edit


def is_dockerfile(name: str) -> bool:
    return name == "Dockerfile" or name.startswith("Dockerfile.") or name.endswith(".Dockerfile")


def split_spec(value: str) -> tuple[str, str] | None:
    """``name@version`` (scoped names too) -> (name, version); None without a version."""
    at = value.find("@", 1) if value.startswith("@") else value.find("@")
    if at <= 0:
        return None
    return value[:at], value[at + 1:]


def parse_pin(text: str) -> tuple[str, str]:
    from codemods.fixers.npm.versions import parse_version

    parts = split_spec(text.strip())
    if parts is None or not valid_name(parts[0]) or parse_version(parts[1]) is None:
        raise UsageError(f"--pin {text[:60]!r}: expected NAME@VERSION with a full version (e.g. json5@2.2.2)")
    return parts


def _line_starts(text: str) -> list[int]:
    return [0, *(m.end() for m in re.finditer("\n", text))]


def _line_of(starts: list[int], offset: int) -> int:
    import bisect

    return bisect.bisect_right(starts, offset)


def _commands(tokens: list[Word | Op]) -> list[list[Word]]:
    """Simple commands: words between control operators (redirection targets left out)."""
    out: list[list[Word]] = [[]]
    skip = False
    for tok in tokens:
        if isinstance(tok, Op):
            if tok.kind == "redir":
                skip = True
            else:
                out.append([])
            continue
        if skip:
            skip = False
            continue
        out[-1].append(tok)
    return [c for c in out if c]


def global_installs(words: list[Word]) -> list[Word]:
    """The package arguments of a command when it is ``npm install -g ...`` (else [])."""
    i = 0  # the command word, after `VAR=value` assignments and wrappers such as `sudo`
    while i < len(words) and (_ASSIGN.match(words[i].value) or words[i].value in WRAPPERS):
        i += 1
    if i >= len(words) or not (words[i].value == "npm" or words[i].value.endswith("/npm")):
        return []
    args = words[i + 1:]
    sub: str | None = None
    packages: list[Word] = []
    is_global = False
    k = 0
    while k < len(args):
        v = args[k].value
        if v in GLOBAL:
            is_global = True
        elif v == "--location" and k + 1 < len(args):
            is_global = is_global or args[k + 1].value == "global"
            k += 1
        elif v in WITH_VALUE:
            k += 1
        elif v.startswith("-"):
            pass
        elif sub is None:
            sub = v
        else:
            packages.append(args[k])
        k += 1
    return packages if sub in INSTALL and is_global else []


class DockerfilePinsFixer(RepoFixer):
    """Raise vulnerable ``npm install -g NAME@VERSION`` pins in Dockerfiles (or their ARG defaults)."""

    name: ClassVar[str] = "dockerfile-pins"
    description: ClassVar[str] = "raise vulnerable `npm install -g` pins in Dockerfiles, byte for byte"
    Options: ClassVar[type] = DockerfilePinsOptions
    default_paths: ClassVar[tuple[str, ...]] = (".",)
    accepts: ClassVar[frozenset[str]] = frozenset({"paths", "include", "exclude"})
    demo: ClassVar[DemoSpec | None] = DemoSpec(
        options={"from_report": "ci-logs/npm-audit.json", "versions": "ci-logs/npm-versions.json"},
        note="docker/Dockerfile.dashboard installs json5@${JSON5_VERSION} (ARG 2.2.1) and minimist@1.2.5 "
        "globally; both are in the dashboard's audit, npm@10.9.2 is not",
    )
    options: DockerfilePinsOptions

    def prepare(self, ctx: Context) -> None:
        o = self.options
        o.pin = split_list(o.pin)
        if not o.from_report and not o.pin:
            raise UsageError("dockerfile-pins: give an `npm audit --json` report with --from FILE (`-` for stdin) "
                             "or --pin NAME@VERSION")

    def _targets(self, ctx: Context) -> dict[str, _Target]:
        from codemods.fixers.npm.audit import parse_report, read_input

        o = self.options
        targets: dict[str, _Target] = {}
        if o.from_report:
            data, source = read_input(o.from_report, ctx.root)
            for v in parse_report(data, source):
                ranges = [a.range for a in v.advisories
                          if SEVERITIES.index(a.severity) >= SEVERITIES.index(o.level)]
                if ranges:
                    targets[v.name] = _Target(v.name, ranges, severity=v.severity)
        for text in o.pin:
            name, version = parse_pin(text)
            targets[name] = _Target(name, targets[name].ranges if name in targets else [], pin=version)
        return targets

    def _files(self, ctx: Context) -> list[Path]:
        found: list[Path] = []
        skip = {"node_modules", ".git", ".venv", "venv", "__pycache__"}
        for top in ctx.paths:
            if top.is_file():
                found.append(top)
                continue
            for dirpath, dirnames, filenames in os.walk(top):
                dirnames[:] = [d for d in dirnames if d not in skip]
                found.extend(Path(dirpath) / f for f in filenames if is_dockerfile(f))
        names = tuple(sorted({p.name for p in found}))
        return ctx.filter([p.resolve() for p in found], suffixes=names)

    def plan(self, ctx: Context) -> None:
        from codemods.fixers.npm import tool

        targets = self._targets(ctx)
        versions = tool.Versions.load(self.options.versions, ctx.root)
        files = self._files(ctx)
        if not files:
            ctx.info("no Dockerfile under the given paths")
        for path in files:
            try:
                source = ctx.read(path)
            except FileFailure as exc:
                ctx.mark(ctx.rel(path), "failed", exc.message)
                continue
            if not _PRE_FILTER.search(source.text):
                ctx.mark(source.rel, "unchanged", "")
                continue
            splices = self.plan_file(ctx, source, targets, versions)
            if not splices:
                ctx.mark(source.rel, "unchanged", "no vulnerable `npm install -g` pin")
                continue
            text = source.text
            for s in sorted(splices, key=lambda s: s.start, reverse=True):
                text = text[:s.start] + s.new + text[s.end:]
            if _outline(text) != _outline(source.text):  # parse again: the same instructions on the same lines
                ctx.mark(source.rel, "failed", "stabfix bug: the edit changes the Dockerfile's instructions; "
                         "nothing written")
                continue
            ctx.propose_edit(source, text, f"{len(splices)} npm global pin(s) raised", [s.edit for s in splices])

    def plan_file(self, ctx: Context, source: SourceFile, targets: dict[str, _Target], versions: Any) -> list[_Splice]:
        from dockerfile_parse import DockerfileParser

        text = source.text
        rel = source.rel
        starts = _line_starts(text)
        for m in _ESCAPE.finditer(text[:2000]):
            line = text[:m.start()].count("\n")
            prefix = text[starts[line]:m.start()]
            if prefix.strip() == "" and m.group(1) != "\\" and all(
                    t.lstrip().startswith("#") or not t.strip() for t in text[:m.start()].split("\n")):
                raise StabfixError(f"line {line + 1}: `# escape={m.group(1)}`: stabfix reads Dockerfiles with the "
                                   "default escape character only; pin the version by hand", path=rel)
        try:
            parser = DockerfileParser(fileobj=io.BytesIO(text.encode("utf-8")), env_replace=False)
            structure = parser.structure
        except Exception as exc:  # dockerfile-parse raises plain exceptions on odd input
            raise StabfixError(f"dockerfile-parse cannot read it ({type(exc).__name__}: {exc})", path=rel) from None
        instructions = [(str(i["instruction"]).upper(), int(i["startline"]), int(i["endline"])) for i in structure]
        for kind, first, last in instructions:
            if kind in ("RUN", "COPY", "ADD"):
                body = text[starts[first]:starts[last + 1] if last + 1 < len(starts) else len(text)]
                here = _HEREDOC.search(body)
                if here:
                    line = first + 1 + body.count("\n", 0, here.start())
                    shown = body[here.start():].split("\n", 1)[0].strip()[:40]
                    raise StabfixError(f"line {line}: a heredoc in {kind} (`{shown}`): stabfix does not edit "
                                       "Dockerfiles with heredocs; pin the version by hand", path=rel)
        spans = [(kind, starts[a], starts[b + 1] if b + 1 < len(starts) else len(text)) for kind, a, b in instructions]
        splices: dict[tuple[int, int], _Splice] = {}
        for index, (kind, start, end) in enumerate(spans):
            if kind != "RUN":
                continue
            tokens = lex(text[start:end])
            skip = 1  # the RUN keyword, then its flags (--mount=..., --network=...)
            while skip < len(tokens):
                tok = tokens[skip]
                if not (isinstance(tok, Word) and tok.value.startswith("--")):
                    break
                skip += 1
            for words in _commands(tokens[skip:]):
                for word in global_installs(words):
                    self._one(ctx, source, targets, versions, spans[:index], word, start, starts, splices)
        return list(splices.values())

    def _one(self, ctx: Context, source: SourceFile, targets: dict[str, _Target], versions: Any,
             before: list[tuple[str, int, int]], word: Word, base: int, starts: list[int],
             splices: dict[tuple[int, int], _Splice]) -> None:
        from codemods.fixers.npm import versions as sv

        text = source.text
        parts = split_spec(word.value)
        if parts is None or parts[0] not in targets:
            return
        name, spec = parts
        target = targets[name]
        line = _line_of(starts, base + word.start)
        where: tuple[int, int] | None
        var = _VAR.fullmatch(spec)
        if var:
            found = _variable(text, before, var.group(1) or var.group(2))
            if found is None:
                ctx.warn(f"{name}@{spec}: no ARG/ENV default for {var.group(1) or var.group(2)} above; left alone",
                         path=source.rel, line=line)
                return
            where = found
            current = text[where[0]:where[1]]
            place = f"{var.group(1) or var.group(2)} default (used by `{name}@{spec}` on line {line})"
            ctx.info(f"{name}@{spec}: raising the default of {var.group(1) or var.group(2)}; a `docker build "
                     f"--build-arg {var.group(1) or var.group(2)}=...` still overrides it", path=source.rel, line=line)
        else:
            offset = len(name) + 1
            span = word.span(offset, len(word.value))
            where = (base + span[0], base + span[1]) if span else None
            current = spec
            place = f"{name}@{spec}"
        if sv.parse_version(current.lstrip("v")) is None:
            ctx.info(f"{name}@{spec}: `{current}` is not a pinned version; left alone", path=source.rel, line=line)
            return
        if where is None:
            ctx.warn(f"{name}@{spec} is written with quotes or escapes inside the version; raise it by hand",
                     path=source.rel, line=line)
            return
        plain = current.lstrip("v")
        new: str | None = None
        if target.pin is not None:
            if sv.gt(target.pin, plain):
                new = target.pin
        elif any(sv.satisfies(plain, r) for r in target.ranges):
            new = sv.first_patched(versions.get(name), target.ranges, plain)
            if new is None:
                ctx.warn(f"{name}@{plain} ({target.severity}): no published version above it is outside "
                         f"{' || '.join(target.ranges)}; cannot be fixed by a pin", path=source.rel, line=line)
                return
        if new is None:
            return
        new_text = ("v" if current.startswith("v") else "") + new
        why = f"--pin {name}@{target.pin}" if target.pin else f"{target.severity}: first patched version"
        edit_line = _line_of(starts, where[0])
        splices.setdefault(where, _Splice(where[0], where[1], new_text, Edit(
            f"{place}: {current} -> {new_text} ({why})", edit_line, "pin",
            {"package": name, "old": current, "new": new_text})))


def _outline(text: str) -> list[tuple[str, int, int]]:
    from dockerfile_parse import DockerfileParser

    parser = DockerfileParser(fileobj=io.BytesIO(text.encode("utf-8")), env_replace=False)
    return [(str(i["instruction"]), int(i["startline"]), int(i["endline"])) for i in parser.structure]


def _variable(text: str, before: list[tuple[str, int, int]], name: str) -> tuple[int, int] | None:
    """The span of the default value of the nearest ``ARG name=...`` / ``ENV name=...`` above."""
    for kind, start, end in reversed(before):
        if kind not in ("ARG", "ENV"):
            continue
        tokens = lex(text[start:end])
        words = [t for t in tokens if isinstance(t, Word)][1:]
        for w in words:
            if w.value == name and kind == "ARG":
                break  # `ARG NAME` without a default: look further up (a global ARG before FROM)
            if w.value.startswith(name + "="):
                span = w.span(len(name) + 1, len(w.value))
                return (start + span[0], start + span[1]) if span else None
        if kind == "ENV" and len(words) >= 2 and words[0].value == name and "=" not in words[0].value:
            span = words[1].span(0, len(words[1].value))  # the legacy `ENV NAME value` form
            return (start + span[0], start + span[1]) if span else None
    return None


__all__ = ["DockerfilePinsFixer", "DockerfilePinsOptions", "global_installs", "split_spec"]
