"""The file fixer behind ``noqa``, ``type-ignore`` and ``pyright-ignore``.

``prepare`` reads the report (``--from FILE|-``) or runs the tool (``--run``; again on every round
of ``--until-clean``), resolves the paths it names and keeps, per file, the diagnostics to act on.
``select``/``prefilter`` narrow the run to those files; ``fix`` scans one file
(:mod:`.placement`), picks each diagnostic's line, merges the codes into that line's comment
(:mod:`.comments`) and changes nothing else. Diagnostics that no comment can silence, stale report
entries and unused directives (without ``--remove-unused``) are reported as warnings with the
reason; ``finish`` turns them into run-level notices and sums up what is left.
"""

from __future__ import annotations

import functools
import operator
import os
import re
import sys
import tokenize
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from codemods.core.context import Context
from codemods.core.contract import FileFixer, Outcome
from codemods.core.options import option
from codemods.core.plan import Edit, Notice, Plan
from codemods.core.source import SourceFile
from codemods.errors import FileFailure, ToolError, UsageError
from codemods.fixers.suppress import comments as cm
from codemods.fixers.suppress.placement import Placement, choose_line, scan
from codemods.fixers.suppress.reports import (
    CODE_GRAMMAR,
    UNUSED_CODES,
    Diagnostic,
    load_report,
    load_ruff_file,
)

#: ruff codes whose violation a directive appended to the line would itself remove
SELF_REMOVING = {
    "PLR2044": "a directive appended to an empty comment makes it non-empty, so the noqa would be "
    "unused (delete the empty `#` instead)",
}



_LINE, _END_LINE, _NOQA_ROW = map(operator.attrgetter, ("line", "end_line", "noqa_row"))



@functools.cache
def _is_rule_code(code: str) -> bool:
    """Can a noqa carry this ruff code (the rule-code grammar)? A report repeats few codes."""
    return CODE_GRAMMAR["ruff"].fullmatch(code) is not None

#: directives that reason text must not carry (it would suppress, or stop suppressing, something)
_DIRECTIVE = re.compile(r"#|\b(?:noqa|type\s*:|pyright\s*:|fmt\s*:|pragma\s*:|pylint\s*:|isort\s*:)", re.I)


def check_reason(text: str, flag: str) -> None:
    """``--reason`` (or its config key, which a repository sets) becomes comment text: one line of
    printable text that is no directive of any tool."""
    if not text.strip() or not text.isprintable() or len(text) > 200:
        raise UsageError(f"{flag}: --reason must be one line of printable text, at most 200 characters")
    if _DIRECTIVE.search(text):
        raise UsageError(f"{flag}: --reason {text[:40]!r} must not contain '#' or a tool directive "
                         "(noqa, type:, pyright:, ...)")


@dataclass
class SuppressOptions:
    """Options shared by the three suppression fixers."""

    from_report: str | None = option(
        None, "read the tool's report from FILE (`-` for stdin)", flag="--from", metavar="FILE", config=False
    )
    run: bool = option(False, "run the tool (found in this environment or on PATH) to get the report")
    until_clean: int | None = option(
        None, "with --run and a write: repeat run -> apply until nothing suppressible is left, at most N rounds",
        flag_value=3, metavar="N",
    )
    report_root: Path | None = option(
        None, "folder the tool ran in: relative paths in the report are resolved against it (default: --root)",
        metavar="DIR",
    )
    command: str | None = option(None, "the tool's command line for --run (e.g. `ruff check litellm`)")
    select: list[str] = option([], "act only on these codes (ruff: code prefixes)", metavar="CODES")
    ignore: list[str] = option([], "leave these codes alone (ruff: code prefixes)", metavar="CODES")
    reason: str | None = option(None, "append `  # TEXT` after each new directive", metavar="TEXT")
    remove_unused: bool = option(False, "drop codes the tool reports as unused, and empty directives")


class SuppressFixer(FileFixer):
    """Base of the suppression fixers; subclasses set the tool and the directive kind."""

    Options: ClassVar[type] = SuppressOptions
    tool: ClassVar[str]  # "ruff" | "mypy" | "pyright"
    kind: ClassVar[str]  # "noqa" | "type-ignore" | "pyright"
    suffixes: ClassVar[tuple[str, ...]] = (".py", ".pyi")

    def __init__(self, options: Any | None = None) -> None:
        super().__init__(options)
        self._diags: dict[str, list[Diagnostic]] = {}
        self._round = 0
        self._read = 0
        self._dropped = 0
        self._missing = 0
        self._mapped: set[str] = set()
        self._labels: dict[str, str] = {}

    # -- hooks ---------------------------------------------------------------------------------
    def max_rounds(self) -> int:
        opts: SuppressOptions = self.options
        return max(1, opts.until_clean or 1) if opts.run else 1

    def prepare(self, ctx: Context) -> None:
        opts: SuppressOptions = self.options
        flag = f"stabfix apply {self.name}"
        if opts.from_report and opts.run:
            raise UsageError(f"{flag}: give either --from FILE or --run, not both")
        if not opts.from_report and not opts.run:
            raise UsageError(f"{flag}: give the {self.tool} report with --from FILE (`-` for stdin) or pass --run")
        if opts.until_clean is not None and (not opts.run or opts.until_clean < 1):
            raise UsageError(f"{flag}: --until-clean N needs --run and N >= 1")
        if opts.reason is not None:
            check_reason(opts.reason, flag)
        self._round += 1
        base = ctx.root
        if opts.report_root is not None:
            base = (opts.report_root if opts.report_root.is_absolute() else ctx.root / opts.report_root).resolve()
            if not base.is_dir():
                raise UsageError(f"--report-root {opts.report_root} is not a folder")
        if opts.run:
            from codemods.fixers.suppress.runner import run_tool  # subprocess: only with --run

            out, shown = run_tool(self.tool, opts.command, base)
            diags = [] if not out or out.isspace() else load_report(out, self.tool, f"output of `{shown}`")
        elif self.tool == "ruff" and (streamed := self._stream_report(opts.from_report, ctx)) is not None:
            diags = streamed
        else:
            assert opts.from_report is not None
            data, source = self._read_report(opts.from_report, ctx)
            if self.tool == "mypy" and (not data or data.isspace()):
                # `mypy -O json` prints nothing when it finds nothing
                ctx.info(f"the mypy report {source} is empty (a clean `mypy -O json` run); nothing to do")
                diags = []
            else:
                diags = load_report(data, self.tool, source)
        self._read = len(diags)
        self._dropped = 0
        self._diags = self._group(ctx, diags, base)

    def _stream_report(self, name: str | None, ctx: Context) -> list[Diagnostic] | None:
        """A ruff report file read block by block (see :func:`load_ruff_file`), else None."""
        if not name or name == "-":
            return None
        path = Path(name)
        if not path.is_absolute() and not path.exists() and (ctx.root / path).exists():
            path = ctx.root / path
        if not path.is_file():
            return None
        with open(path, "rb") as fh:
            if fh.read(3) == b"\xef\xbb\xbf":
                return None  # a BOM: read whole (load_report's path strips it)
        return load_ruff_file(path, name)

    def _read_report(self, name: str, ctx: Context) -> tuple[bytes, str]:
        """The report's bytes (UTF-8, which the decoders check as they read)."""
        if name == "-":
            stdin = sys.stdin
            data = stdin.buffer.read() if hasattr(stdin, "buffer") else stdin.read().encode("utf-8")
            name = "<stdin>"
        else:
            path = Path(name)
            if not path.is_absolute() and not path.exists() and (ctx.root / path).exists():
                path = ctx.root / path
            try:
                data = path.read_bytes()
            except FileNotFoundError:
                raise ToolError(f"report {name} does not exist") from None
            except OSError as exc:
                raise ToolError(f"cannot read report {name}: {exc}") from None
        return (data[3:] if data.startswith(b"\xef\xbb\xbf") else data), name

    def _wanted(self, code: str | None) -> bool:
        opts: SuppressOptions = self.options
        if code is None:
            return True  # reported as not suppressible
        def hit(codes: list[str]) -> bool:
            if self.tool == "ruff":
                return any(code.startswith(c) for c in codes)
            return code in codes
        if opts.select and not hit(opts.select) and code != UNUSED_CODES[self.tool]:
            return False
        return not (opts.ignore and hit(opts.ignore))

    def _group(self, ctx: Context, diags: list[Diagnostic], base: Path) -> dict[str, list[Diagnostic]]:
        """Resolve report paths to files under the root; warn about the ones that cannot be used."""
        rels: dict[str, str | None] = {}
        out: dict[str, list[Diagnostic]] = defaultdict(list)
        missing: dict[str, int] = defaultdict(int)
        notebooks: dict[str, int] = defaultdict(int)
        filtering = bool(self.options.select or self.options.ignore)
        for d in diags:
            if filtering and not self._wanted(d.code):
                self._dropped += 1
                continue
            rel = rels.get(d.path, "")
            if rel == "":
                rel = rels[d.path] = self._rel(ctx, d.path, base)
            if rel is None:
                missing[d.path] += 1
                continue
            if not rel.endswith((".py", ".pyi")):
                notebooks[rel] += 1
                continue
            out[rel].append(d)
        self._missing = sum(missing.values())
        for path, n in sorted(missing.items()):
            where = path
            if not os.path.isabs(path):
                where = f"{path} (resolved against {base}; see --report-root)"
            ctx.warn(f"stale report: {n} diagnostic(s) name {where}, which is not a file under the root; skipped")
        for rel, n in sorted(notebooks.items()):
            ctx.warn(f"{n} diagnostic(s) in a file that is not Python source (notebook?); left alone", path=rel)
        self._dropped += sum(notebooks.values())
        return dict(out)

    def _rel(self, ctx: Context, name: str, base: Path) -> str | None:
        """The report path as a POSIX path under the root, or None.

        An absolute path from another checkout (a CI machine's ``/home/circleci/project/...``)
        is mapped to the root by its longest suffix that names a file under ``base``.
        """
        prefix = str(ctx.root) + os.sep
        if name.startswith(prefix) and os.sep + ".." not in name and os.path.isfile(name):
            return name[len(prefix):].replace(os.sep, "/")  # the common case, without resolving
        p = Path(name)
        full = (p if p.is_absolute() else base / p).resolve()
        if full.is_file() and (full == ctx.root or ctx.root in full.parents):
            return full.relative_to(ctx.root).as_posix()
        if not p.is_absolute():
            return None
        parts = p.parts[1:]
        for i in range(len(parts) - 1):  # at least one folder and the file name
            candidate = (base / Path(*parts[i:])).resolve()
            if candidate.is_file() and ctx.root in candidate.parents:
                prefix = str(Path(p.parts[0], *parts[:i]))
                if prefix not in self._mapped:
                    self._mapped.add(prefix)
                    ctx.info(f"report paths under {prefix} were mapped to {base} (the report comes from another checkout)")
                return candidate.relative_to(ctx.root).as_posix()
        return None

    def candidates(self, ctx: Context) -> list[Path]:
        return [ctx.root / rel for rel in self._diags]

    def prefilter(self, source: SourceFile) -> bool:
        return source.rel in self._diags

    # -- one file --------------------------------------------------------------------------------
    def _limit(self, content: str) -> int:
        """The largest column the tool could report on this line (its units vary: be generous)."""
        if self.tool == "ruff":
            return len(content)
        if self.tool == "pyright":
            return len(content.encode("utf-16-le")) // 2
        return len(content.encode("utf-8")) + 7 * content.count("\t")

    def _stale(self, lines: list[str], count: int, item: Diagnostic) -> str | None:
        line, col, end_line, end_col = item.line, item.column, item.end_line, item.end_column
        if line < 1 or line > count:
            return f"line {line} is past the end of the file ({count} lines)"
        content = lines[line - 1]
        ruff = self.tool == "ruff"
        if (col is not None and col < 0) or (end_col is not None and end_col < 0):
            return "a negative column"
        if col is not None and col > (len(content) if ruff else self._limit(content)):
            return f"column {col + 1} is past the end of line {line}"
        if end_line is not None:
            if end_line < line or end_line > count + 1:
                return f"end line {end_line} does not fit the file"
            if end_col is not None and end_line <= count:
                end = lines[end_line - 1]
                if end_col > (len(end) if ruff else self._limit(end)) + 1:
                    return f"end column {end_col + 1} is past the end of line {end_line}"
        if not ruff and not content.strip():
            return f"line {line} is blank now"
        noqa_row = item.noqa_row
        if noqa_row is not None and not 1 <= noqa_row <= count:
            return f"noqa line {noqa_row} is outside the file (lines 1 to {count})"
        return None

    def fix(self, source: SourceFile) -> Outcome:
        # each file is fixed once per round: its diagnostics are consumed (freed as the run goes;
        # the ones left are the files never fixed, which finish() reports)
        items = self._diags.pop(source.rel, [])
        upto = 0  # 1 + the last line any diagnostic names (iterated in C: attrgetter, filter)
        if items:
            upto = 1 + max(max(map(_LINE, items)), max(filter(None, map(_END_LINE, items)), default=0),
                           max(filter(None, map(_NOQA_ROW, items)), default=0))
        try:
            lm = scan(source.text, upto)
        except (SyntaxError, tokenize.TokenError) as exc:
            raise FileFailure(f"does not tokenize ({exc}); fix the syntax error first") from None
        opts: SuppressOptions = self.options
        kind, ruff, reason = self.kind, self.tool == "ruff", opts.reason
        adds: dict[int, list[str]] = {}  # line -> its new codes (no duplicates; sorted below)
        removes: dict[int, list[list[str]]] = {}
        notes: list[Edit] = []
        unused_code = UNUSED_CODES[self.tool]
        lines, count, stale = lm.lines, lm.count, self._stale
        placed: dict[tuple[int, int | None], Placement] = {}  # many diagnostics share a line
        free: dict[int, int] = {}  # for ruff, the rows that can take a comment (most of them)
        comment_col = lm.comment_col
        for item in items:
            line, code = item.line, item.code
            why = stale(lines, count, item)
            if why:
                label = code or "(no code)"
                notes.append(Edit(f"{label}: stale report entry, skipped: {why}", line, "stale", {"code": code}))
                continue
            if code == unused_code:
                self._unused(item, opts, notes, removes)
                continue
            if code is None:
                notes.append(Edit(f"(no code): {item.message}: cannot be suppressed by a comment", line,
                                  "not-suppressible", {"code": code}))
                continue
            if ruff:
                if code in SELF_REMOVING:
                    notes.append(Edit(f"{code}: cannot be suppressed by a comment: {SELF_REMOVING[code]}",
                                      line, "not-suppressible", {"code": code}))
                    continue
                if not _is_rule_code(code):  # e.g. invalid-syntax
                    notes.append(Edit(f"{code}: no rule code: cannot be suppressed by a noqa", line,
                                      "not-suppressible", {"code": code}))
                    continue
                if item.noqa_row is None:
                    notes.append(Edit(f"{code}: no noqa line (syntax error?): cannot be suppressed", line,
                                      "not-suppressible", {"code": code}))
                    continue
                row = item.noqa_row
                target: int | None = free.get(row)
                if target is None and lm.blocker(row) is None:  # a row not seen yet that can
                    target = free[row] = row
                key: tuple[int, int | None] = (row, None)
            else:
                key, target = (line, item.end_line), None
            if target is None:
                place = placed.get(key)
                if place is None:
                    place = placed[key] = choose_line(lm, *key)
                target = place.line
                if target is None:
                    notes.append(Edit(f"{code}: {place.reason}", line, "not-suppressible", {"code": code}))
                    continue
            got = adds.get(target)
            if got is None:
                adds[target] = [code]
            elif code not in got:
                got.append(code)

        edits: list[Edit] = []
        new_lines: dict[int, tuple[int, str]] = {}  # line -> (where its code ends, new text)
        labels = self._labels  # one message string per code, not one per edit
        for line in sorted(adds.keys() | removes.keys()):
            content = lines[line - 1]
            col = comment_col(line)
            if col is None and line not in removes:  # the common case: a line without comments
                codes = adds[line]
                if len(codes) > 1:
                    codes.sort()
                code_end = len(content.rstrip())
                new_lines[line] = (code_end, cm.fresh_sorted(content, code_end, kind, codes, reason))
                if len(codes) == 1:
                    message = labels.get(codes[0])
                    if message is None:
                        message = labels[codes[0]] = f"{kind}: +{codes[0]}"
                else:
                    message = f"{kind}: " + ", ".join(["+" + c for c in codes])
                edits.append(Edit(message, line, "suppress", {"added": codes, "removed": []}))
                continue
            parsed = cm.parse_line(content, col)
            removed: list[str] = []
            for codes in removes.get(line, []):
                res = cm.remove_codes(parsed, kind, codes or None)
                removed += res.removed
            added: list[str] = []
            if line in adds:
                res = cm.add_codes(parsed, kind, sorted(adds[line]), reason)
                added = res.added
                if res.blanket:
                    notes.append(Edit(f"{', '.join(sorted(adds[line]))}: already covered by a blanket directive",
                                      line, "covered", {"codes": sorted(adds[line])}))
            new = parsed.render()
            if new != content:
                new_lines[line] = (len(parsed.code), new)
                what = ", ".join([f"+{c}" for c in added] + [f"-{c}" for c in removed])
                edits.append(Edit(f"{kind}: {what}", line, "suppress", {"added": added, "removed": removed}))
        if not new_lines:
            return Outcome(None, edits + notes)
        parts: list[str] = []
        prev = 0
        text = source.text
        starts = lm.starts
        for line, (_, new) in new_lines.items():  # in line order (made so above)
            start = starts[line - 1]
            parts.append(text[prev:start])
            parts.append(new)
            prev = start + len(lines[line - 1])
        parts.append(text[prev:])
        n = len(edits)
        return Outcome("".join(parts), edits + notes, reason=f"{n} line(s) with {kind} directives",
                       comment_lines=new_lines)

    def _unused(
        self, item: Diagnostic, opts: SuppressOptions, notes: list[Edit], removes: dict[int, list[list[str]]]
    ) -> None:
        """An "unused directive" diagnostic: drop its codes (--remove-unused) or say why not."""
        label, line, unused = item.code or "(no code)", item.line, item.unused
        if unused is None:
            keep = ("non-enabled and unknown codes are kept: another configuration or linter may use them"
                    if self.tool == "ruff" else "remove it by hand")
            notes.append(Edit(f"{label}: {item.message} ({keep})", line, "unused", {"code": item.code}))
        elif not opts.remove_unused:
            notes.append(Edit(f"{label}: unused directive left alone; pass --remove-unused to drop it",
                              line, "unused", {"code": item.code}))
        else:
            removes.setdefault(item.noqa_row or line, []).append(unused)

    # -- summary ---------------------------------------------------------------------------------
    def finish(self, ctx: Context, plan: Plan) -> None:
        counts: dict[str, int] = defaultdict(int)
        notices: list[Notice] = []
        codes = removed = 0
        for result in plan.files:
            edits = result.edits
            if not edits:
                continue
            keep = [e for e in edits if e.kind == "suppress"]
            counts["suppress"] += len(keep)
            codes += sum([len(e.data.get("added", ())) for e in keep])
            removed += sum([len(e.data.get("removed", ())) for e in keep])
            if len(keep) == len(edits):
                continue
            for e in edits:
                if e.kind != "suppress":
                    counts[e.kind] += 1
                    notices.append(Notice(
                        e.message, path=result.path, line=e.line,
                        level="info" if e.kind == "covered" else "warning",
                    ))
            result.edits = keep
        counts["codes"] += codes
        counts["removed"] += removed
        planned = {f.path for f in plan.files}
        outside = [rel for rel in self._diags if rel not in planned]
        if outside:
            plan.notices.append(Notice(
                f"{len(outside)} file(s) named in the report are outside the selected paths, excluded or "
                f"generated, and were left alone (e.g. {outside[0]})", level="info",
            ))
        considered = self._read - self._dropped
        if considered and counts["stale"] + self._missing == considered:
            raise ToolError(
                f"the {self.tool} report is stale: none of its {considered} entries matches the files now "
                "(nothing was applied); run the tool again"
            )
        plan.notices.extend(notices)
        rnd = f"round {self._round}: " if self.max_rounds() > 1 else ""
        plan.notices.append(Notice(
            f"{rnd}{self.tool} reported {self._read} diagnostic(s)"
            + (f" ({self._dropped} filtered out by --select/--ignore)" if self._dropped else "")
            + f"; {counts['suppress']} line(s) to change ({counts['codes']} code(s) added, "
            f"{counts['removed']} removed); left: {counts['not-suppressible']} not suppressible, "
            f"{counts['stale'] + self._missing} stale, {counts['unused']} unused directive(s), {counts['covered']} already covered",
            level="info",
        ))
