"""auth's analysis on :mod:`ast` (issue 17): it reads what libcst reads, and libcst parses only the
modules that get an edit. libcst itself is the oracle for the literal readings."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import libcst as cst
import pytest

from codemods.fixers.auth.astnodes import ModuleSource, call_args, int_literal, string_value, walk
from codemods.fixers.auth.codegen import iter_test_defs
from codemods.fixers.auth.coverage import iter_tests
from codemods.fixers.auth.pattern import AuthPattern

MODULE = '''
import pytest

class TestOneLine: pass

@pytest.fixture
def test_not_a_test():
    return 1

async def test_async():
    pass

def test_plain(): pass

class TestOuter:
    def test_a(self):
        class TestInside:
            def test_never(self):
                pass

    class TestInner:
        @pytest.mark.parametrize("x", [1])
        def test_a(self, x):
            pass

    def helper(self):
        pass

class Helper:
    def test_not_collected(self):
        pass

def test_plain():
    pass
'''


def test_the_ast_walk_and_the_libcst_walk_find_the_same_tests_in_the_same_order() -> None:
    """The edit finds a target in the libcst tree by its place in the analysis' walk."""
    mod = ModuleSource(MODULE)
    from_ast = [(classes, f.name) for f, classes, _ in iter_tests(mod.tree.body, mod=mod, pattern=AuthPattern())]
    from_cst = [(classes, f.name.value) for f, classes in iter_test_defs(cst.parse_module(MODULE).body)]
    assert from_ast == from_cst
    assert from_ast == [((), "test_async"), ((), "test_plain"), (("TestOuter",), "test_a"),
                        (("TestOuter", "TestInner"), "test_a"), ((), "test_plain")]


LITERALS = ['"401"', "'401'", 'b"401"', 'r"x\\d"', '"Auth" "Error"', '("a"\n "b")', 'f"{x}"', '"""doc"""',
            "u'x'", "401", "0x191", "4_01", "0o621", "401.0", "True", "None"]


@pytest.mark.parametrize("literal", LITERALS)
def test_literals_read_as_libcst_reads_them(literal: str) -> None:
    """A string is one literal (libcst's ``SimpleString``: not an implicit concatenation, not an
    f-string) and an integer converts as ``int(Integer.value)`` does (not ``0x191``)."""
    source = f"value = {literal}\n"
    line = cst.ensure_type(cst.parse_module(source).body[0], cst.SimpleStatementLine)
    expr = cst.ensure_type(line.body[0], cst.Assign).value
    want_int: int | None = None
    if isinstance(expr, cst.Integer):
        try:
            want_int = int(expr.value)
        except ValueError:
            want_int = None
    mod = ModuleSource(source)
    stmt = mod.tree.body[0]
    assert isinstance(stmt, ast.Assign)
    assert string_value(stmt.value, mod) == (expr.evaluated_value if isinstance(expr, cst.SimpleString) else None)
    assert int_literal(stmt.value, mod) == want_int


def test_call_arguments_come_in_source_order() -> None:
    """libcst's ``Call.args``: a ``*args`` written after a keyword stays after it."""
    mod = ModuleSource("f(a, k=1, *rest, **more)\n")
    call = next(n for n in walk(mod.tree) if isinstance(n, ast.Call))
    assert [(k, ast.unparse(v)) for k, v in call_args(call)] == [
        (None, "a"), ("k", "1"), (None, "rest"), (None, "more")]


def test_modules_that_only_get_skip_reasons_are_never_parsed_by_libcst(tmp_path: Path) -> None:
    """A run whose modules are all left alone (with their reasons) never imports libcst."""
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_own_app.py").write_text(textwrap.dedent('''
        from fastapi import FastAPI
        from fastapi.testclient import TestClient

        app = FastAPI()
        client = TestClient(app)

        def test_root():  # the app has no route depending on user_api_key_auth
            assert client.get("/").status_code == 404
    '''))
    script = textwrap.dedent('''
        import json, sys
        from codemods import api
        report = api.apply("auth", ["tests/test_own_app.py"], root=sys.argv[1], cwd=sys.argv[1], jobs=1)
        print(json.dumps([[f.status, f.reason] for f in report.plan.files]))
        print("libcst" in sys.modules)
    ''')
    out = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert out[0] == ('[["skipped", "tests/test_own_app.py::test_root: no request reaches the auth dependency: '
                      'its requests go to an app with no route depending on `user_api_key_auth`"]]')
    assert out[1] == "False"
