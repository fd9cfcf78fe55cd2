"""Tiny fixers used only by the engine tests (registered by monkeypatching the registry)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from codemods.core.context import Context
from codemods.core.contract import FileFixer, Outcome, RepoFixer
from codemods.core.options import option
from codemods.core.plan import Edit
from codemods.core.source import SourceFile


@dataclass
class ReplaceOptions:
    old: str = option("OLD", "text to replace")
    new: str = option("NEW", "replacement")


class ReplaceFixer(FileFixer):
    name: ClassVar[str] = "replace"
    description: ClassVar[str] = "replace OLD with NEW (test fixer)"
    Options: ClassVar[type] = ReplaceOptions
    suffixes: ClassVar[tuple[str, ...]] = (".py", ".txt")

    def prefilter(self, source: SourceFile) -> bool:
        return self.options.old in source.text

    def fix(self, source: SourceFile) -> Outcome:
        count = source.text.count(self.options.old)
        return Outcome(text=source.text.replace(self.options.old, self.options.new),
                       edits=[Edit(f"replaced {count}", 1)], reason=f"{count} replacement(s)")


class BrokenFixer(FileFixer):
    name: ClassVar[str] = "broken"
    description: ClassVar[str] = "writes code that does not parse (test fixer)"

    def fix(self, source: SourceFile) -> Outcome:
        return Outcome(text=source.text + "\ndef (:\n")


@dataclass
class CreateOptions:
    target: str = option("out/new.txt", "file to create")


class CreateFixer(RepoFixer):
    name: ClassVar[str] = "create"
    description: ClassVar[str] = "creates a file and edits a.txt (test fixer)"
    Options: ClassVar[type] = CreateOptions

    def plan(self, ctx: Context) -> None:
        ctx.propose_create(self.options.target, "created\n", "new file")
        a = ctx.read("a.txt")
        ctx.propose_edit(a, a.text.upper(), "upper-cased")


class TrailingFixer(FileFixer):
    """Appends `  # tagged` to every line containing OLD and declares the edits comment-only,
    truthfully or not (a line ending with a backslash makes the claim false)."""

    name: ClassVar[str] = "trailing"
    description: ClassVar[str] = "appends a trailing comment (test fixer)"

    def prefilter(self, source: SourceFile) -> bool:
        return "OLD" in source.text

    def fix(self, source: SourceFile) -> Outcome:
        lines = source.text.split("\n")
        declared: dict[int, tuple[int, str]] = {}
        for i, line in enumerate(lines):
            if "OLD" in line:
                code = line.rstrip()
                lines[i] = code + "  # tagged"
                declared[i + 1] = (len(code), lines[i])
        return Outcome(text="\n".join(lines), edits=[Edit("tagged", n) for n in declared], comment_lines=declared)
