"""``vitest``: ``userEvent.setup({ delay: null })`` and larger timeouts for selected Vitest tests.

In Vitest test files (``*.test.*`` / ``*.spec.*`` with ``.ts``, ``.tsx``, ``.js``, ``.jsx``, ``.mts``,
``.cts``, ``.mjs``, ``.cjs``):

* ``userEvent.setup()`` of @testing-library/user-event becomes ``userEvent.setup({ delay: null })``
  (no timer between keystrokes: ``user.type`` of a long text no longer takes a macrotask per
  character); an options object gets ``delay: null`` added in its own style. A ``delay`` that is
  already there is left alone (``delay: 10`` may be deliberate, e.g. for a debounce); options that
  are a variable or hold a spread (``{ ...base }``) are reported, not guessed. ``--no-setup-delay``
  turns this edit off.
* ``--timeout MS`` (default 15000) for the tests ``--only "file > suite > test"`` (Vitest's full
  name; repeatable) or ``--from-report FILE`` (a Vitest ``--reporter=json`` or ``--reporter=junit``
  report: the tests that timed out) select: a test without a timeout gets one (``--form number``, the
  default: a third argument ``it(name, fn, 15000)``, which every Vitest accepts; ``--form object``:
  ``it(name, { timeout: 15000 }, fn)``, the options form of Vitest 3 and 4. Vitest 4 throws on an
  options object as the *third* argument, so stabfix never adds one there). An existing timeout (a
  number third argument, or ``timeout`` in an options object, second or third) is raised, never
  lowered. ``it.each(table)(name, fn)`` and the other modifiers work the same.

With a selection and no PATHS, only the selected tests' files are edited. Files are parsed with
tree-sitter; edits are spliced into the text (nothing else changes, byte for byte), and the result
is parsed again: an output with a new syntax error is a failure and is not written. A file that
does not parse is reported with the place of the error and left as it is (exit 2).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, ClassVar

from codemods.core.context import Context
from codemods.core.contract import DemoSpec, FileFixer, Outcome
from codemods.core.options import option
from codemods.core.plan import Edit
from codemods.core.source import SourceFile
from codemods.errors import FileFailure, UsageError
from codemods.fixers.vitest.reports import MAX_NAME
from codemods.fixers.vitest.syntax import SUFFIXES, TS_SUFFIXES

if TYPE_CHECKING:
    from tree_sitter import Node

    from codemods.fixers.vitest.splice import Splice
    from codemods.fixers.vitest.tests import TestDef

DEFAULT_TIMEOUT = 15000
#: setTimeout's limit: Node.js turns a larger delay into 1 ms
MAX_TIMEOUT = 2**31 - 1
TEST_FILE = re.compile(r"\.(?:test|spec)\.[cm]?[jt]sx?$")


@dataclass
class Options:
    only: list[str] = option([], 'Vitest full name of a test whose timeout to raise: "file > suite > test".',
                             metavar="NAME", config=False)
    from_report: list[str] = option([], "Vitest --reporter=json or --reporter=junit report: raise the "
                                        "timeout of the tests that timed out.", metavar="FILE", config=False)
    timeout: int | None = option(None, f"Timeout in ms for the selected tests (raised, never lowered) "
                                       f"[default: {DEFAULT_TIMEOUT}].", metavar="MS")
    form: str = option("number", "How a timeout is added to a test that has none: `number` (third "
                                 "argument) or `object` (`{ timeout: MS }` as the second argument).",
                       choices=("number", "object"))
    setup_delay: bool = option(True, "Give userEvent.setup() `delay: null`.")


@dataclass(frozen=True)
class Wanted:
    """One selected test: its full name in its file, where it was named, the timeout it ran into."""

    full: str
    origin: str  # "--only" or the report's name
    exceeded: int | None = None


class VitestFixer(FileFixer):
    """userEvent.setup({ delay: null }) and raised per-test timeouts in Vitest tests."""

    name: ClassVar[str] = "vitest"
    description: ClassVar[str] = ("Vitest tests: userEvent.setup({ delay: null }) and raised timeouts for "
                                  "selected tests (--only / --from-report).")
    Options: ClassVar[type] = Options
    suffixes: ClassVar[tuple[str, ...]] = SUFFIXES
    demo: ClassVar[DemoSpec | None] = DemoSpec(
        paths=["ui/litellm-dashboard"],
        options={"from_report": ["ci-logs/vitest.json"], "timeout": 15000},
        note="the dashboard test that timed out in CI (Vitest's JSON report) gets a 15 s timeout, and "
             "userEvent.setup() types without a timer per keystroke",
    )

    def __init__(self, options: Any | None = None) -> None:
        super().__init__(options)
        self.selected: dict[str, list[Wanted]] = {}
        self.only_selected = False

    # -- selection ---------------------------------------------------------------------------------
    def prepare(self, ctx: Context) -> None:
        o = self.options
        timeout = self.timeout
        if not 1 <= timeout <= MAX_TIMEOUT:
            raise UsageError(f"--timeout must be between 1 and {MAX_TIMEOUT} ms (setTimeout's limit), got {timeout}")
        section = ctx.config.get(self.name)
        from_config = isinstance(section, dict) and "timeout" in section  # a default for later runs
        if o.timeout is not None and not from_config and not o.only and not o.from_report:
            raise UsageError('--timeout needs the tests to raise: --only "file > suite > test" or --from-report FILE')
        if not o.setup_delay and not o.only and not o.from_report:
            raise UsageError('nothing to do: --no-setup-delay without --only "file > suite > test" or --from-report FILE')
        if not o.only and not o.from_report:
            return
        files = [f for f in ctx.discover(SUFFIXES) if TEST_FILE.search(f.name)]
        rels = [ctx.rel(f) for f in files]
        self._tests: dict[str, list[TestDef] | None] = {}  # per file, while selecting (not sent to workers)
        for value in o.only:
            file, sep, full = value.partition(" > ")
            if len(value) > MAX_NAME:
                raise UsageError(f"--only {value[:60]!r}...: longer than {MAX_NAME} characters, not a Vitest name")
            if not sep or not file.strip() or not full.strip():
                raise UsageError(f'--only {value!r}: expected Vitest\'s full name "file > suite > test"')
            rel = self._resolve(ctx, file.strip(), rels)
            if rel is None:
                raise UsageError(f"--only {value!r}: no test file {file.strip()} under the given paths")
            if not self._defines(ctx, rel, full):
                raise UsageError(f"--only {value!r}: {rel} defines no test named {full!r}")
            self.selected.setdefault(rel, []).append(Wanted(full, "--only"))
        for name in o.from_report:
            self._from_report(ctx, name, rels)
        self.only_selected = not ctx.explicit_paths
        del self._tests

    @property
    def timeout(self) -> int:
        return self.options.timeout if self.options.timeout is not None else DEFAULT_TIMEOUT

    def _from_report(self, ctx: Context, name: str, rels: list[str]) -> None:
        from codemods.fixers.vitest.reports import read_report

        path = Path(name)
        if not path.is_absolute() and not path.exists():
            path = ctx.root / path
        result = read_report(path, name)
        for hook in result.hooks:
            ctx.warn(f"{hook}: a hook timed out (from {name}); a test timeout does not cover it: raise the "
                     "hook's own timeout or hookTimeout")
        if result.too_long:
            ctx.warn(f"{name}: {result.too_long} timed-out test(s) with a name over {MAX_NAME} characters ignored")
        if not result.timed_out:
            ctx.info(f"no test timed out in {name} ({result.failed} failed): no timeout to raise")
        files: dict[str, str | None] = {}
        for t in result.timed_out:
            if t.file not in files:
                files[t.file] = self._resolve(ctx, t.file, rels)
            rel = files[t.file]
            if rel is None:
                ctx.warn(f"{t.file} > {t.full_name}: timed out (from {name}), but no such test file under "
                         "the given paths")
                continue
            if not self._defines(ctx, rel, t.full_name):
                ctx.warn(f"{t.full_name}: timed out (from {name}), but {rel} defines no such test", path=rel)
                continue
            self.selected.setdefault(rel, []).append(Wanted(t.full_name, name, t.exceeded))

    def _resolve(self, ctx: Context, file: str, rels: list[str]) -> str | None:
        """The test file (relative to the root) that a report or ``--only`` names: a path relative to
        the current folder or the root, or (Vitest names files relative to its own root, and JSON
        reports hold the CI machine's absolute paths) the one test file under PATHS it ends with."""
        posix = file.replace("\\", "/")
        candidates = set(rels)
        for base in ([] if PurePosixPath(posix).is_absolute() else [Path.cwd()]) + [ctx.root]:
            p = Path(os.path.normpath(base / posix))
            try:
                rel = p.relative_to(ctx.root).as_posix()
            except ValueError:
                continue
            if rel in candidates:
                return rel
        parts = [p for p in PurePosixPath(posix).parts if p not in ("/", ".")]
        if PurePosixPath(posix).is_absolute():  # another machine's path: the longest test file it ends with
            hits = [r for r in rels if _ends_with(parts, r.split("/"))]
            longest = max((len(h.split("/")) for h in hits), default=0)
            hits = [h for h in hits if len(h.split("/")) == longest]
        else:  # relative to Vitest's root: the test files that end with it
            hits = [r for r in rels if _ends_with(r.split("/"), parts)]
        if not hits:
            return None
        if len(hits) > 1:
            raise UsageError(f"{file}: matches several test files ({', '.join(sorted(hits)[:4])}); pass the path "
                             "from the repository root, or PATHS to narrow the search")
        return hits[0]

    def _defines(self, ctx: Context, rel: str, full: str) -> bool:
        """Whether ``rel`` defines the test (a file that cannot be read or parsed: yes, so that its own
        error is reported when it is planned)."""
        from codemods.fixers.vitest.syntax import parse, syntax_errors
        from codemods.fixers.vitest.tests import collect, select

        if rel not in self._tests:
            try:
                tree = parse(ctx.read(rel).text.encode("utf-8"), rel)
            except FileFailure:
                tree = None
            bad = tree is None or bool(syntax_errors(tree))
            self._tests[rel] = None if bad or tree is None else collect(tree.root_node, want_setups=False).tests
        tests = self._tests[rel]
        return tests is None or bool(select(tests, full))

    def select(self, ctx: Context, files: list[Path]) -> list[Path]:
        if self.only_selected or not self.options.setup_delay:
            return [f for f in files if ctx.rel(f) in self.selected]
        return [f for f in files if TEST_FILE.search(f.name) or ctx.rel(f) in self.selected]

    def prefilter(self, source: SourceFile) -> bool:
        return source.rel in self.selected or (self.options.setup_delay and ".setup(" in source.text)

    # -- the edits -------------------------------------------------------------------------------
    def fix(self, source: SourceFile) -> Outcome:
        from codemods.fixers.vitest.splice import apply
        from codemods.fixers.vitest.syntax import describe_error, parse, syntax_errors
        from codemods.fixers.vitest.tests import collect

        data = source.text.encode("utf-8")
        tree = parse(data, source.rel)
        errors = syntax_errors(tree)
        if errors:
            where = describe_error(errors[0])
            grammar = "TypeScript" if source.rel.endswith(TS_SUFFIXES) else "TSX"
            raise FileFailure(f"syntax error ({where.split(': ', 1)[1]}, tree-sitter {grammar}); the file is "
                              "skipped: fix it first", line=errors[0].start_point[0] + 1)
        wanted = self.selected.get(source.rel, [])
        defs = collect(tree.root_node, want_tests=bool(wanted), want_setups=self.options.setup_delay)
        newline = source.newline.encode()
        splices: list[Splice] = []
        edits: list[Edit] = []
        notes: list[str] = []
        for call in defs.setups:
            self._setup(data, call, newline, splices, edits, notes)
        done: set[int] = set()
        for want in wanted:
            self._timeout(data, defs.tests, want, newline, splices, edits, notes, done)
        if not splices:
            return Outcome(status="skipped", reason="; ".join(notes)) if notes else Outcome(edits=edits)
        new = apply(data, splices)
        after = syntax_errors(parse(new, source.rel))
        if after:
            raise FileFailure(f"stabfix bug: the vitest output does not parse ({describe_error(after[0])}); "
                              "nothing written")
        changed = [e for e in edits if e.kind in ("setup-delay", "timeout")]
        parts = []
        setups = sum(1 for e in changed if e.kind == "setup-delay")
        timeouts = sum(1 for e in changed if e.kind == "timeout")
        if setups:
            parts.append(f"{setups} userEvent.setup() call(s) get delay: null")
        if timeouts:
            parts.append(f"{timeouts} test(s) get a {self.timeout} ms timeout")
        return Outcome(text=new.decode("utf-8"), edits=edits, reason="; ".join(parts + notes))

    def _setup(self, data: bytes, call: Node, newline: bytes, splices: list[Splice], edits: list[Edit],
               notes: list[str]) -> None:
        from codemods.fixers.vitest.splice import append_item
        from codemods.fixers.vitest.syntax import named, property_name, text_of

        line = call.start_point[0] + 1
        args = call.child_by_field_name("arguments")
        if args is None or args.type != "arguments":
            return
        items = named(args)
        if not items:
            splices.append(append_item(data, args, b"{ delay: null }", newline))
            edits.append(Edit("userEvent.setup() -> userEvent.setup({ delay: null })", line, kind="setup-delay"))
            return
        options = items[0]
        if options.type != "object":
            notes.append(f"line {line}: userEvent.setup({_short(text_of(options))}): the options are not an object "
                         "literal; add delay: null to them by hand")
            return
        members = named(options)
        delay = next((m for m in members if property_name(m) == "delay"), None)
        if delay is not None:
            edits.append(Edit(f"userEvent.setup(): keeps its own {_short(text_of(delay))}", line, kind="setup-kept"))
            return
        if any(m.type == "spread_element" for m in members):
            notes.append(f"line {line}: userEvent.setup({{ ...}}): the options spread another object, which may set "
                         "a delay; add delay: null by hand if it does not")
            return
        splices.append(append_item(data, options, b"delay: null", newline))
        edits.append(Edit("userEvent.setup({ ... }) gets delay: null", line, kind="setup-delay"))

    def _timeout(self, data: bytes, tests: list[TestDef], want: Wanted, newline: bytes, splices: list[Splice],
                 edits: list[Edit], notes: list[str], done: set[int]) -> None:
        from codemods.fixers.vitest.tests import select

        ms = self.timeout
        if want.exceeded is not None and ms <= want.exceeded:
            notes.append(f"{want.full}: timed out at {want.exceeded} ms ({want.origin}); --timeout {ms} would not "
                         "raise it: pass a larger --timeout")
            return
        for test in select(tests, want.full):
            key = test.args.start_byte
            if key in done:
                continue
            done.add(key)
            self._raise(data, test, want, newline, splices, edits, notes)

    def _raise(self, data: bytes, test: TestDef, want: Wanted, newline: bytes, splices: list[Splice],
               edits: list[Edit], notes: list[str]) -> None:
        from codemods.fixers.vitest.splice import Splice, append_item, insert_before
        from codemods.fixers.vitest.syntax import named, number_value, text_of

        ms = self.timeout
        items = named(test.args)
        info = {"test": test.name, "timeout": ms, "selected_by": want.origin}
        if len(items) < 2:
            notes.append(f"line {test.line}: {test.name}: no test function (it.todo?); no timeout to raise")
            return
        where: Node | None = None
        if items[1].type == "object":
            where = items[1]
        elif len(items) >= 3 and items[2].type == "object":
            where = items[2]
        if where is not None:
            self._raise_in_object(data, where, test, want, newline, splices, edits, notes)
            return
        if len(items) >= 3:
            current = number_value(items[2])
            if current is None:
                notes.append(f"line {test.line}: {test.name}: its timeout is `{_short(text_of(items[2]))}`, not a "
                             "number; raise it by hand")
                return
            if current >= ms:
                edits.append(Edit(f"{test.name}: keeps its timeout of {_num(current)} ms", test.line,
                                  kind="timeout-kept", data=info))
                return
            splices.append(Splice(items[2].start_byte, items[2].end_byte, str(ms).encode()))
            edits.append(Edit(f"{test.name}: timeout {_num(current)} -> {ms} ms", test.line, kind="timeout", data=info))
            return
        if self.options.form == "object":
            splices.append(insert_before(data, test.args, 1, b"{ timeout: %d }" % ms))
        else:
            splices.append(append_item(data, test.args, str(ms).encode(), newline))
        edits.append(Edit(f"{test.name}: timeout {ms} ms added", test.line, kind="timeout", data=info))

    def _raise_in_object(self, data: bytes, obj: Node, test: TestDef, want: Wanted, newline: bytes,
                         splices: list[Splice], edits: list[Edit], notes: list[str]) -> None:
        from codemods.fixers.vitest.splice import Splice, append_item
        from codemods.fixers.vitest.syntax import named, number_value, property_name, text_of

        ms = self.timeout
        info = {"test": test.name, "timeout": ms, "selected_by": want.origin}
        members = named(obj)
        pair = next((m for m in members if property_name(m) == "timeout"), None)
        if pair is None:
            if any(m.type == "spread_element" for m in members):
                notes.append(f"line {test.line}: {test.name}: its options spread another object, which may set a "
                             "timeout; raise it by hand")
                return
            splices.append(append_item(data, obj, b"timeout: %d" % ms, newline))
            edits.append(Edit(f"{test.name}: timeout {ms} ms added to its options", test.line, kind="timeout",
                              data=info))
            return
        value = pair.child_by_field_name("value") if pair.type == "pair" else None
        current = number_value(value) if value is not None else None
        if value is None or current is None:
            notes.append(f"line {test.line}: {test.name}: its timeout is `{_short(text_of(pair))}`, not a number; "
                         "raise it by hand")
            return
        if current >= ms:
            edits.append(Edit(f"{test.name}: keeps its timeout of {_num(current)} ms", test.line, kind="timeout-kept",
                              data=info))
            return
        splices.append(Splice(value.start_byte, value.end_byte, str(ms).encode()))
        edits.append(Edit(f"{test.name}: timeout {_num(current)} -> {ms} ms", test.line, kind="timeout", data=info))


def _ends_with(parts: list[str], tail: list[str]) -> bool:
    return len(tail) <= len(parts) and parts[len(parts) - len(tail):] == tail


def _short(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= 40 else flat[:37] + "..."


def _num(value: float) -> str:
    return str(int(value)) if value == int(value) else str(value)
