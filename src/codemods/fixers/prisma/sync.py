"""`prisma-sync`: copy the source ``schema.prisma`` into its copies.

Full copies get the source's bytes exactly. A partial copy (LiteLLM's
``litellm-js/spend-logs/schema.prisma``: a few models plus its own generator and datasource)
gets only the blocks it already has (models, enums, views, types) replaced by the source's
versions, spliced into its text so its own blocks and their order stay; its blocks that the
source lacks are reported and left alone. A copy that is a symlink is an error (LiteLLM's CI
rejects them). With ``--check`` the run exits 1 when a copy is out of date: usable as a CI step
and as the ``stabfix-prisma-sync`` pre-commit hook.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from codemods.core.context import Context
from codemods.core.contract import DemoSpec, RepoFixer
from codemods.core.options import option
from codemods.core.plan import Edit
from codemods.errors import StabfixError


@dataclass
class PrismaSyncOptions:
    source: str | None = option(None, "the schema to copy from (default: [tool.stabfix.prisma] source, "
                                      "else litellm/proxy/schema.prisma)", metavar="PATH")
    copies: list[str] = option([], "full copies, updated byte for byte (repeatable)", metavar="PATH")
    partial_copies: list[str] = option([], "partial copies: only the blocks they have are updated (repeatable)",
                                       metavar="PATH")


class PrismaSyncFixer(RepoFixer):
    """Keeps every schema.prisma copy identical to the source (partial copies: their blocks)."""

    name = "prisma-sync"
    description = "Copy the source schema.prisma into its full copies byte for byte and its partial copies block by block."
    Options: ClassVar[type] = PrismaSyncOptions
    demo = DemoSpec(note="litellm/proxy/schema.prisma has a new column; the copies catch up")
    options: PrismaSyncOptions

    def plan(self, ctx: Context) -> None:
        from codemods.fixers.prisma import layout as layout_mod
        from codemods.fixers.prisma.schema import PrismaSyntaxError, parse, splice_partial

        opts = self.options
        lay = layout_mod.load(ctx.root, source=opts.source, copies=opts.copies or None,
                              partial_copies=opts.partial_copies or None)
        src_path = ctx.resolve(lay.source)
        if not src_path.is_file():
            raise StabfixError(
                "source schema not found; pass --source or set `source` in [tool.stabfix.prisma]",
                path=lay.source,
            )
        source = ctx.read(src_path)
        try:
            src_schema = parse(source.text)
        except PrismaSyntaxError as exc:
            raise StabfixError(f"not a valid Prisma schema ({exc}); fix it before syncing", path=source.rel) from None

        seen = {source.rel}
        for kind, rels in (("full", lay.copies), ("partial", lay.partial_copies)):
            for rel in rels:
                path = ctx.root / rel
                if path.is_symlink():
                    raise StabfixError(
                        "is a symlink; LiteLLM's CI rejects symlinked schema copies: replace it with a "
                        "regular file (stabfix then keeps it in sync)", path=rel,
                    )
                target = ctx.resolve(rel)
                target_rel = ctx.rel(target)
                if target_rel in seen:
                    continue
                seen.add(target_rel)
                if not target.is_file():
                    ctx.info(f"{kind} copy not found, skipped (configure [tool.stabfix.prisma] `copies`)",
                             path=target_rel)
                    continue
                if kind == "full":
                    ctx.propose_bytes(target, source.raw, f"byte-for-byte copy of {source.rel}",
                                      [Edit(f"copied from {source.rel}", kind="copy")])
                    continue
                copy = ctx.read(target)
                try:
                    copy_schema = parse(copy.text)
                except PrismaSyntaxError as exc:
                    raise StabfixError(f"not a valid Prisma schema ({exc}); fix it before syncing",
                                       path=copy.rel) from None
                new_text, replaced, missing = splice_partial(src_schema, copy_schema, copy.newline)
                for b in missing:
                    ctx.warn(f"{b.kind} {b.name} is not in {source.rel}; left as it is", path=copy.rel, line=b.line)
                edits = [Edit(f"{b.kind} {b.name} updated from {source.rel}", line=b.line, kind="block",
                              data={"block": b.name}) for b in replaced]
                ctx.propose_edit(copy, new_text, f"blocks synced from {source.rel}", edits)

