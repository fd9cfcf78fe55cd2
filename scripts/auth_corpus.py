#!/usr/bin/env python
"""Development corpus of ``stabfix apply auth``: real LiteLLM proxy test modules.

The corpus lives in ``.cache/auth-corpus/`` (gitignored), laid out as in LiteLLM's repository
(``tests/proxy_unit_tests/...``, ``tests/test_litellm/proxy/...``). The files were read from
BerriAI/litellm through the stored-repository file look-ups (find_files / read_file) and saved
there by hand; this script does not fetch anything. With no cache it says so and exits 0 (offline,
fresh clone: fails soft).

It copies the corpus to a scratch folder, runs ``auth`` (wrap style, LiteLLM's defaults, no
selection), and prints the measures:

* tests wrapped, and how many of them really send a request over HTTP to the app's auth, judged by
  an independent textual check (not the fixer's analysis): the wrapped test's own text, the text
  of the module-level helpers/fixtures it names and the module's class/module-level client lines
  contain an HTTP verb call on a client-like receiver (``client.get(``, ``ac.post(``...), and the
  module builds a ``TestClient(`` / ``ASGITransport(`` / ``AsyncClient(app=`` or imports a client
  fixture from a conftest;
* refusal tests wrapped (the wrapped test asserts 401/403 or an authentication error);
* fixtures wrapped (a wrapped function carries ``@pytest.fixture``);
* outputs that do not parse; files a second run changes; added lines over the line length (88).

    python scripts/auth_corpus.py [--cache DIR] [--show]
"""

from __future__ import annotations

import argparse
import ast
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / ".cache" / "auth-corpus"
LINE_LENGTH = 88
VERB_CALL = re.compile(r"\b\w*(client|ac|c|http|api|tc)\w*(\.\w+)*\.(get|post|put|patch|delete|request|stream|options|head)\(",
                       re.IGNORECASE)
CLIENT_MADE = re.compile(r"TestClient\(|ASGITransport\(|AsyncClient\(\s*app=")
REFUSAL = re.compile(r"assert[^\n]*(\b40[13]\b|Authentication Error|HTTP_40[13]|Unauthori[sz]ed)")


def _functions(tree: ast.Module) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    out: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            out.setdefault(node.name, node)
    return out


def judge_reaches(text: str, test_name: str, conftest_text: str) -> bool:
    """The independent textual judge described in the module docstring."""
    tree = ast.parse(text)
    funcs = _functions(tree)
    test = funcs.get(test_name)
    if test is None:
        return False
    lines = text.splitlines()
    own = "\n".join(lines[test.lineno - 1:test.end_lineno])
    names = set(re.findall(r"\b(\w+)\b", own))
    related = [own]
    for name in names & set(funcs):
        f = funcs[name]
        related.append("\n".join(lines[f.lineno - 1:f.end_lineno]))
    body = "\n".join(related)
    has_client = bool(CLIENT_MADE.search(text)) or bool(CLIENT_MADE.search(conftest_text))
    return has_client and bool(VERB_CALL.search(body))


def is_refusal(text: str, test_name: str) -> bool:
    tree = ast.parse(text)
    f = _functions(tree).get(test_name)
    if f is None:
        return False
    own = "\n".join(text.splitlines()[f.lineno - 1:f.end_lineno])
    return bool(REFUSAL.search(own))


def is_fixture(text: str, name: str) -> bool:
    f = _functions(ast.parse(text)).get(name)
    return f is not None and any("fixture" in ast.unparse(d) for d in f.decorator_list)


def run(work: Path) -> list[dict[str, Any]]:
    """``stabfix apply auth tests`` (written) through the Python API; the files' results as JSON."""
    from codemods import api

    report = api.apply("auth", ["tests"], root=work, mode="write")
    return [{"path": f.path, "edits": [{"kind": e.kind, "message": e.message, "data": dict(e.data or {})}
                                       for e in f.edits]} for f in report.plan.files]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", type=Path, default=CACHE)
    ap.add_argument("--show", action="store_true", help="print each wrapped/skipped test with the verdicts")
    args = ap.parse_args(argv)
    modules = sorted(p for p in args.cache.rglob("*.py") if p.name.startswith("test_")) if args.cache.is_dir() else []
    if not modules:
        print(f"auth corpus: no modules in {args.cache} (offline or not fetched): nothing measured")
        return 0
    work = Path(tempfile.mkdtemp(prefix="auth-corpus-"))
    try:
        for p in args.cache.rglob("*.py"):
            dest = work / p.relative_to(args.cache)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(p, dest)
        (work / "pyproject.toml").write_text("[tool.black]\nline-length = 88\n")
        subprocess.run(["git", "init", "-q"], cwd=work, check=False)
        before = {p: p.read_text(encoding="utf-8") for p in work.rglob("*.py")}
        files = run(work)
        code = 0
        wrapped: list[tuple[Path, str]] = []
        skipped: list[str] = []
        for f in files:
            for e in f.get("edits", []):
                nid = (e.get("data") or {}).get("nodeid")
                if not nid:
                    continue
                if e.get("kind") == "auth-override":
                    wrapped.append((work / f["path"], nid.rsplit("::", 1)[-1]))
                elif e.get("kind") == "skipped":
                    skipped.append(f"{nid}: {e.get('message', e.get('text', ''))}")
        reach = refusal = fixture = 0
        for path, name in wrapped:
            old = before[path]
            conf = "".join(before.get(c, "") for c in [path.parent / "conftest.py", path.parent.parent / "conftest.py"])
            r = judge_reaches(old, name, conf)
            reach += r
            refusal += is_refusal(old, name)
            fixture += is_fixture(old, name)
            if args.show:
                print(f"  wrapped {path.relative_to(work)}::{name} reaches={r}")
        if args.show:
            for s in skipped:
                print(f"  skipped {s}")
        unparsable = over = 0
        for p, old in before.items():
            new = p.read_text(encoding="utf-8")
            if new == old:
                continue
            try:
                ast.parse(new)
            except SyntaxError:
                unparsable += 1
            old_lines = set(old.splitlines())
            over += sum(1 for line in new.splitlines() if line not in old_lines and len(line) > LINE_LENGTH)
        after = {p: p.read_text(encoding="utf-8") for p in work.rglob("*.py")}
        run(work)
        second = sum(1 for p in after if p.read_text(encoding="utf-8") != after[p])
        tests = sum(len([n for n in ast.walk(ast.parse(before[m])) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
                         and n.name.startswith("test")]) for m in before if m.name.startswith("test_"))
        pct = 100.0 * reach / len(wrapped) if wrapped else 100.0
        print(f"auth corpus: {len(modules)} modules, {tests} test functions, exit {code}")
        print(f"  tests wrapped: {len(wrapped)}; reach the app's auth over HTTP: {reach} ({pct:.1f}%)")
        print(f"  tests left alone with a reason: {len(skipped)}")
        print(f"  refusal tests wrapped: {refusal}")
        print(f"  fixtures wrapped: {fixture}")
        print(f"  outputs that do not parse: {unparsable}")
        print(f"  files a second run changes: {second}")
        print(f"  added lines over {LINE_LENGTH} columns: {over}")
        ok = pct >= 95 and refusal == 0 and fixture == 0 and unparsable == 0 and second == 0 and over == 0
        print("  OK" if ok else "  PROBLEM")
        return 0 if ok else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
