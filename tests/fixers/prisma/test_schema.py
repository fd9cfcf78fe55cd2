"""The Prisma block parser (codemods.fixers.prisma.schema): blocks, comments, braces in strings, spans."""

from __future__ import annotations

import re

import pytest

from codemods.fixers.prisma.schema import (
    PrismaSyntaxError,
    blank_datasource_urls,
    parse,
    splice_partial,
)
from tests.fixers.prisma.prisma_testlib import FIXTURES, sdist

TRICKY = '''\ufeffdatasource client {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}

generator client {
  provider = "prisma-client-py"
  interface = "asyncio"
}

// plain comment, detached (blank line below)

/// Doc comment of Settings
// second comment line
model Settings {
  id     String @id
  raw    String @default("{}") // a } brace in a comment
  quoted String @default("say \\"}\\" twice")
  json   Json   @default("{\\"a\\": {\\"b\\": 1}}")
  @@map("settings")
}
enum Role {
  ADMIN // }
  USER
}

view Spend {
  id  String @unique
}

type Address {
  street String
}
'''


def test_blocks_kinds_names_and_lines() -> None:
    schema = parse(TRICKY)
    assert [(b.kind, b.name, b.line) for b in schema.blocks] == [
        ("datasource", "client", 1), ("generator", "client", 6), ("model", "Settings", 15),
        ("enum", "Role", 22), ("view", "Spend", 27), ("type", "Address", 31),
    ]


def test_spans_cover_the_block_exactly_and_keep_attached_comments() -> None:
    schema = parse(TRICKY)
    settings = schema.find("model", "Settings")
    assert settings is not None
    assert schema.block_text(settings, with_comments=False).startswith("model Settings {")
    assert schema.block_text(settings, with_comments=False).endswith('@@map("settings")\n}')
    assert schema.block_text(settings).startswith("/// Doc comment of Settings\n// second comment line\nmodel")
    role = schema.find("enum", "Role")
    assert role is not None and schema.block_text(role) == "enum Role {\n  ADMIN // }\n  USER\n}"


def test_byte_spans_account_for_multibyte_text() -> None:
    text = 'model A {\n  id String @id @default("é")\n}\n\nmodel B {\n  id Int @id\n}\n'
    schema = parse(text)
    b = schema.find("model", "B")
    assert b is not None
    start, end = schema.byte_span(b)
    assert text.encode()[start:end] == b"model B {\n  id Int @id\n}"


@pytest.mark.parametrize(("text", "line", "needle"), [
    ("model A {\n  id Int @id\n", 1, "not closed"),
    ("model A {\n  id Int @id\n}\nmodle B {\n}\n", 4, "unknown block type"),
    ("model A {\n  x String @default(\"{)\n}\n", 2, "unterminated string"),
    ("model A {\n id Int @id\n}\nmodel A {\n id Int @id\n}\n", 4, "defined twice"),
    ("}\n", 1, "expected a block"),
])
def test_syntax_errors_name_the_line(text: str, line: int, needle: str) -> None:
    with pytest.raises(PrismaSyntaxError) as info:
        parse(text)
    assert info.value.line == line
    assert needle in str(info.value)


def test_blank_datasource_urls_keeps_lines_and_other_blocks() -> None:
    text = ('datasource db {\n  provider  = "postgresql"\n  url       = env("DATABASE_URL")\n'
            '  directUrl = env("DIRECT")\n}\n\nmodel A {\n  url String @id\n}\n')
    out = blank_datasource_urls(text)
    assert out == 'datasource db {\n  provider  = "postgresql"\n  \n  \n}\n\nmodel A {\n  url String @id\n}\n'


def test_splice_partial_replaces_only_shared_blocks_and_reports_missing() -> None:
    source = parse(TRICKY)
    copy_text = ('generator client {\n  provider = "prisma-client-js"\n}\n\n'
                 '// stale copy\nmodel Settings {\n  id String @id\n}\n\n'
                 'model LocalOnly {\n  id Int @id\n}\n\n'
                 'enum Role {\n  ADMIN\n}\n')
    new, replaced, missing = splice_partial(source, parse(copy_text))
    assert [b.name for b in replaced] == ["Settings", "Role"]
    assert [b.name for b in missing] == ["LocalOnly"]
    assert new.startswith('generator client {\n  provider = "prisma-client-js"\n}\n\n/// Doc comment of Settings')
    assert "model LocalOnly {\n  id Int @id\n}\n\nenum Role {\n  ADMIN // }\n  USER\n}\n" in new
    # a second splice changes nothing
    again, replaced2, _ = splice_partial(source, parse(new))
    assert again == new and replaced2 == []


def test_every_oracle_fixture_parses() -> None:
    for path in sorted((FIXTURES / "oracle").rglob("*.prisma")):
        assert parse(path.read_text())


@pytest.mark.corpus
def test_real_litellm_schema_parses_block_for_block() -> None:
    text = (sdist("litellm", "1.80.0") / "litellm" / "proxy" / "schema.prisma").read_text(encoding="utf-8")
    schema = parse(text)
    headers = re.findall(r"^(datasource|generator|model|enum|view|type)\s+(\w+)\s*\{", text, re.MULTILINE)
    assert [(b.kind, b.name) for b in schema.blocks] == headers
    assert len(schema.blocks) >= 38
    # the blocks and the text between them rebuild the file exactly
    pos, parts = 0, []
    for b in schema.blocks:
        parts += [text[pos:b.lead], schema.block_text(b)]
        pos = b.end
    assert "".join(parts) + text[pos:] == text
