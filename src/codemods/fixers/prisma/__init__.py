"""Prisma support for the `prisma-sync` and `migration` fixers.

* :mod:`.schema` — a block parser for ``schema.prisma`` (spans for splicing partial copies).
* :mod:`.engine` — schema-to-schema diffs computed by Prisma's own schema engine (the ``prisma``
  CLI when it runs, otherwise ``@prisma/schema-engine-wasm`` through Node, offline).
* :mod:`.migrations` — migration folder naming, SQL extraction from CI logs, idempotent rewriting.
* :mod:`.layout` — where the source schema, its copies and the migrations folder live.
"""
