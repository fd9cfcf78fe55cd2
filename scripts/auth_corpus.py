#!/usr/bin/env python
"""Development corpus of ``stabfix apply auth`` / ``auth-unpatch``: real LiteLLM proxy test modules.

The corpus lives in ``.cache/auth-corpus/`` (gitignored), laid out as in LiteLLM's repository
(``tests/proxy_unit_tests/...``, ``tests/test_litellm/proxy/...``, with their ``conftest.py``
files). The files were read from BerriAI/litellm through the stored-repository file look-ups and
saved there; this script does not fetch anything. With no cache it says so and exits 0 (offline,
fresh clone: fails soft).

It copies the corpus to a scratch folder, runs ``auth`` (wrap style, LiteLLM's defaults, no
selection), and prints the measures:

* tests wrapped, and how many of them really send a request over HTTP to the app's auth, judged by
  an independent textual check (not the fixer's analysis, see :func:`judge_reaches`): the text of
  the test, of the module helpers and class methods it calls, holds a verb call
  (``.get(``/``.post(``...) on a name the module or a conftest.py binds to a ``TestClient`` /
  ``AsyncClient`` (an assignment, ``with ... as name``, ``self.name = ...``, a fixture that builds
  one), and the request's path, when it is a literal, is not one of the routes LiteLLM serves
  without a key (its Kubernetes health probes and the UI's favicon/logo: :data:`OPEN_ROUTES`);
* the same judge on the tests left alone as sending no request: possible misses (recall);
* refusal tests wrapped (the wrapped test asserts 401/403 or an authentication error);
* fixtures wrapped (a wrapped function carries ``@pytest.fixture``);
* outputs that do not parse; files a second run changes; added lines over the line length (88),
  split into new lines (the override, the imports) and lines of the test that the ``try:`` indents
  past the limit (and those already over it before);
* ``auth-unpatch`` on a second scratch copy: tests converted, tests reported with their reasons,
  outputs that do not parse, second-run changes; ``auth --style fixture --conftest`` on a third:
  outputs that do not parse, second-run changes, added lines over the line length.

    python scripts/auth_corpus.py [--cache DIR] [--show]
"""

from __future__ import annotations

import argparse
import ast
import collections
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / ".cache" / "auth-corpus"
WHEELS = REPO / ".cache" / "litellm-wheel"
#: the LiteLLM release whose proxy routes the corpus tests run against (newest on PyPI on 2026-11-30)
WHEEL_VERSION = "1.110.2"
LINE_LENGTH = 88
VERBS = "get|post|put|patch|delete|request|stream|options|head|websocket_connect"
CLIENT_CALL = r"(?:\w+\.)*(?:TestClient|AsyncClient|Client)\("
CLIENT_MADE = re.compile(r"TestClient\(|ASGITransport\(|AsyncClient\(\s*app=")
# routes LiteLLM serves without a key: Kubernetes probes and browsers loading the UI's favicon and
# logo send no bearer token (the corpus agrees: test_master_key_not_in_db sets a master key and
# expects 200 from /health/liveliness without one)
OPEN_ROUTES = re.compile(r"^/(health/(liveliness|liveness|readiness)|get_favicon|get_image)/?(\?|$)")
REFUSAL = re.compile(r"assert[^\n]*(\b40[13]\b|Authentication Error|HTTP_40[13]|Unauthori[sz]ed)")
FuncDef = ast.FunctionDef | ast.AsyncFunctionDef


def _source(text: str, node: ast.AST) -> str:
    lines = text.splitlines()
    start = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])  # type: ignore[attr-defined]
    return "\n".join(lines[start - 1:node.end_lineno])  # type: ignore[attr-defined]


def _find(tree: ast.Module, nodeid_tail: str) -> tuple[FuncDef | None, ast.ClassDef | None]:
    """The function of ``Class::test`` / ``test`` and its innermost class."""
    *classes, name = nodeid_tail.split("::")
    body: list[ast.stmt] = tree.body
    cls: ast.ClassDef | None = None
    for cname in classes:
        cls = next((s for s in body if isinstance(s, ast.ClassDef) and s.name == cname), None)
        if cls is None:
            return None, None
        body = cls.body
    func = next((s for s in body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)) and s.name == name), None)
    return func, cls


def _is_fixture(f: FuncDef) -> bool:
    return any("fixture" in ast.unparse(d) for d in f.decorator_list)


def client_names(text: str) -> set[str]:
    """Names a module binds to an HTTP test client: ``x = TestClient(...)``, ``with AsyncClient(...)
    as x``, ``self.x = TestClient(...)`` (as ``self.x``), and fixtures that build one."""
    names = set(re.findall(rf"(\w+(?:\.\w+)?)\s*(?::[^=\n]+)?=\s*(?:await\s+)?{CLIENT_CALL}", text))
    names |= set(re.findall(rf"{CLIENT_CALL}(?:[^()]|\((?:[^()]|\([^()]*\))*\))*\)\s+as\s+(\w+)", text))
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return names
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and _is_fixture(node) and \
                re.search(r"TestClient\(|AsyncClient\(|ASGITransport\(", _source(text, node)):
            names.add(node.name)
    return names


def judge_reaches(text: str, nodeid_tail: str, conftest_text: str) -> bool:
    """The independent textual judge described in the module docstring."""
    tree = ast.parse(text)
    test, cls = _find(tree, nodeid_tail)
    if test is None:
        return False
    if not (CLIENT_MADE.search(text) or CLIENT_MADE.search(conftest_text)):
        return False
    module_funcs = {s.name: s for s in tree.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))}
    methods = {s.name: s for s in (cls.body if cls else []) if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))}
    related, todo, seen = [], [test], set()
    while todo:  # the test, and the helpers and methods it calls (transitively)
        f = todo.pop()
        if id(f) in seen:
            continue
        seen.add(id(f))
        own = _source(text, f)
        related.append(own)
        for name in set(re.findall(r"(?<![\w.])(\w+)\(", own)) & set(module_funcs):
            todo.append(module_funcs[name])
        for name in set(re.findall(r"\bself\.(\w+)\(", own)) & set(methods):
            todo.append(methods[name])
    clients = client_names(text) | client_names(conftest_text)
    clients |= {n.split(".", 1)[1] for n in clients if n.startswith(("self.", "cls."))}
    body = "\n".join(related)
    for m in re.finditer(rf"\b((?:self\.|cls\.)?\w+)\s*\.\s*({VERBS})\(\s*(?:url\s*=\s*)?(f?[\"'][^\"']*[\"'])?", body):
        recv, path = m.group(1), m.group(3)
        if recv.split(".")[-1] not in clients and recv not in clients:
            continue
        if path and not path.startswith("f") and OPEN_ROUTES.match(path.strip("\"'")):
            continue
        return True
    return False


def is_refusal(text: str, nodeid_tail: str) -> bool:
    f, _ = _find(ast.parse(text), nodeid_tail)
    return f is not None and bool(REFUSAL.search(_source(text, f)))


def is_fixture(text: str, nodeid_tail: str) -> bool:
    f, _ = _find(ast.parse(text), nodeid_tail)
    return f is not None and _is_fixture(f)


def run(work: Path, fixer: str = "auth", **options: Any) -> list[dict[str, Any]]:
    """``stabfix apply <fixer> tests`` (written) through the Python API; the files' results."""
    from codemods import api

    report = api.apply(fixer, ["tests"], root=work, mode="write", **options)
    return [{"path": f.path, "edits": [{"kind": e.kind, "message": e.message, "data": dict(e.data or {})}
                                       for e in f.edits]} for f in report.plan.files]


def proxy_source() -> Path | None:
    """``litellm/proxy`` of LiteLLM's PyPI wheel, extracted once into ``.cache/litellm-wheel/``
    (``pip download``; ``None`` offline: the fixer then has no route table, as in a repository
    without the app's source)."""
    folder = WHEELS / f"litellm-{WHEEL_VERSION}" / "litellm" / "proxy"
    if (folder / "proxy_server.py").is_file():
        return folder
    with tempfile.TemporaryDirectory() as tmp:
        got = subprocess.run([sys.executable, "-m", "pip", "download", f"litellm=={WHEEL_VERSION}", "--no-deps",
                              "--only-binary", ":all:", "-q", "-d", tmp], capture_output=True, check=False)
        wheels = list(Path(tmp).glob("litellm-*.whl"))
        if got.returncode != 0 or not wheels:
            print(f"auth corpus: litellm {WHEEL_VERSION} wheel not downloaded (offline?): no route table")
            return None
        with zipfile.ZipFile(wheels[0]) as z:
            for name in z.namelist():
                if name.startswith("litellm/proxy/") and name.endswith(".py"):
                    z.extract(name, WHEELS / f"litellm-{WHEEL_VERSION}")
    return folder if (folder / "proxy_server.py").is_file() else None


def _scratch(cache: Path) -> Path:
    work = Path(tempfile.mkdtemp(prefix="auth-corpus-"))
    for p in cache.rglob("*.py"):
        dest = work / p.relative_to(cache)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(p, dest)
    # LiteLLM's own proxy source, so that the fixer reads the real route table (open routes such
    # as /get_favicon or /health/liveliness need no override): the proxy package of a LiteLLM wheel
    # from PyPI, contemporary with the tests (see proxy_source)
    source = proxy_source()
    if source is not None and not (work / "litellm").exists():
        shutil.copytree(source, work / "litellm" / "proxy", ignore=shutil.ignore_patterns("*.pyc", "__pycache__"))
    (work / "pyproject.toml").write_text(f"[tool.black]\nline-length = {LINE_LENGTH}\n")
    subprocess.run(["git", "init", "-q"], cwd=work, check=False)
    return work


def _edits(files: list[dict[str, Any]], kind: str) -> list[tuple[str, str, str]]:
    """``(path, nodeid tail, message)`` of the edits of one kind."""
    out = []
    for f in files:
        for e in f.get("edits", []):
            nid = (e.get("data") or {}).get("nodeid")
            if nid and e.get("kind") == kind:
                out.append((f["path"], nid.split("::", 1)[1], e.get("message", "")))
    return out


def _conftests(path: Path, work: Path) -> str:
    out, folder = [], path.parent
    while work in folder.parents or folder == work:
        c = folder / "conftest.py"
        if c.is_file():
            out.append(c.read_text(encoding="utf-8", errors="replace"))
        if folder == work:
            break
        folder = folder.parent
    return "\n".join(out)


def _changes(before: dict[Path, str]) -> tuple[int, int, int, int]:
    """(outputs that do not parse, new lines over the limit, re-indented lines the try pushed over
    it, re-indented lines already over it)."""
    unparsable = new_over = pushed = already = 0
    for p, old in before.items():
        new = p.read_text(encoding="utf-8")
        if new == old:
            continue
        try:
            ast.parse(new)
        except SyntaxError:
            unparsable += 1
        old_lines = set(old.splitlines())
        old_stripped = {line.strip(): len(line) for line in old.splitlines()}
        for line in new.splitlines():
            if line in old_lines or len(line) <= LINE_LENGTH:
                continue
            if line.strip() in old_stripped:
                if old_stripped[line.strip()] > LINE_LENGTH:
                    already += 1
                else:
                    pushed += 1
            else:
                new_over += 1
    return unparsable, new_over, pushed, already


def _is_overrides(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "dependency_overrides"


def _ablate(work: Path) -> int:
    """Remove every statement of the test tree that sets an override (``X.dependency_overrides[k] =
    v``, ``X.dependency_overrides.update(...)``): each becomes ``pass``. The tests those overrides
    covered are then the real tests that need one: the fixer should wrap them again."""
    removed = 0
    for path in sorted((work / "tests").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines(keepends=True)
        spans = []
        for node in ast.walk(ast.parse(text)):
            sets = (isinstance(node, ast.Assign) and any(isinstance(t, ast.Subscript) and _is_overrides(t.value)
                                                          for t in node.targets)) or \
                   (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
                    and isinstance(node.value.func, ast.Attribute) and node.value.func.attr == "update"
                    and _is_overrides(node.value.func.value))
            if sets and isinstance(node, ast.stmt) and node.end_lineno is not None:
                spans.append((node.lineno, node.end_lineno, node.col_offset))
        for first, last, col in spans:
            ending = "\r\n" if lines[first - 1].endswith("\r\n") else "\n"
            lines[first - 1] = " " * col + "pass" + ending
            for i in range(first, last):
                lines[i] = ending
        if spans:
            removed += len(spans)
            path.write_text("".join(lines), encoding="utf-8", newline="")
    return removed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", type=Path, default=CACHE)
    ap.add_argument("--show", action="store_true", help="print each wrapped/skipped test with the verdicts")
    args = ap.parse_args(argv)
    modules = sorted(p for p in args.cache.rglob("*.py") if p.name.startswith("test_")) if args.cache.is_dir() else []
    if not modules:
        print(f"auth corpus: no modules in {args.cache} (offline or not fetched): nothing measured")
        return 0
    work = _scratch(args.cache)
    unwork = _scratch(args.cache)
    fxwork = _scratch(args.cache)
    abwork = _scratch(args.cache)
    try:
        before = {p: p.read_text(encoding="utf-8") for p in work.rglob("*.py")}
        files = run(work)
        wrapped = _edits(files, "auth-override")
        skipped = _edits(files, "skipped")
        reach = refusal = fixture = 0
        for rel, tail, _ in wrapped:
            path = work / rel
            old = before[path]
            r = judge_reaches(old, tail, _conftests(path, work))
            reach += r
            refusal += is_refusal(old, tail)
            fixture += is_fixture(old, tail)
            if args.show:
                print(f"  wrapped {rel}::{tail} reaches={r}")
        misses = []
        reasons: collections.Counter[str] = collections.Counter()
        for rel, tail, message in skipped:
            reason = message.split(": ", 1)[1] if ": " in message else message
            reasons[re.sub(r"`[^`]*`", "`...`", reason)[:110]] += 1
            if "no request reaches" in reason and judge_reaches(before[work / rel], tail, _conftests(work / rel, work)):
                misses.append(f"{rel}::{tail}: {reason}")
        if args.show:
            for rel, tail, message in skipped:
                print(f"  skipped {rel}::{tail}: {message.split(': ', 1)[-1]}")
        unparsable, new_over, pushed, already = _changes(before)
        after = {p: p.read_text(encoding="utf-8") for p in work.rglob("*.py")}
        run(work)
        second = sum(1 for p in after if p.read_text(encoding="utf-8") != after[p])

        ubefore = {p: p.read_text(encoding="utf-8") for p in unwork.rglob("*.py")}
        ufiles = run(unwork, "auth-unpatch")
        converted = _edits(ufiles, "auth-unpatch")
        unskipped = _edits(ufiles, "skipped")
        u_unparsable, u_new_over, u_pushed, _ = _changes(ubefore)
        uafter = {p: p.read_text(encoding="utf-8") for p in unwork.rglob("*.py")}
        run(unwork, "auth-unpatch")
        usecond = sum(1 for p in uafter if p.read_text(encoding="utf-8") != uafter[p])

        fxbefore = {p: p.read_text(encoding="utf-8") for p in fxwork.rglob("*.py")}
        fx = {"style": "fixture", "conftest": True}
        fxfiles = run(fxwork, **fx)
        fx_tests = len(_edits(fxfiles, "auth-override"))
        fx_unparsable, fx_new_over, fx_pushed, _ = _changes(fxbefore)
        fxafter = {p: p.read_text(encoding="utf-8") for p in fxwork.rglob("*.py")}
        run(fxwork, **fx)
        fxsecond = sum(1 for p in fxafter if p.read_text(encoding="utf-8") != fxafter[p])

        tests = sum(len([n for n in ast.walk(ast.parse(before[m])) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
                         and n.name.startswith("test")]) for m in before if m.name.startswith("test_"))
        pct = 100.0 * reach / len(wrapped) if wrapped else 100.0
        print(f"auth corpus: {len(modules)} modules, {tests} test functions")
        print(f"  tests wrapped: {len(wrapped)}; reach the app's auth over HTTP (judge): {reach} ({pct:.1f}%)")
        print(f"  tests left alone with a reason: {len(skipped)}")
        for reason, n in reasons.most_common():
            print(f"    {n:4d}  {reason}")
        print(f"  left alone as reaching no auth, but the judge sees a request: {len(misses)} (the judge does not "
              "read the app's routes or dependencies; by the fixer's reason:)")
        for reason, n in collections.Counter(
                re.sub(r"`[^`]*`", "`...`", m.split(": ", 1)[1])[:110] for m in misses).most_common():
            print(f"    {n:4d}  {reason}")
        if args.show:
            for m in misses:
                print(f"  possible miss {m}")
        print(f"  refusal tests wrapped: {refusal}")
        print(f"  fixtures wrapped: {fixture}")
        print(f"  outputs that do not parse: {unparsable}")
        print(f"  files a second run changes: {second}")
        print(f"  added lines over {LINE_LENGTH} columns: {new_over} new; {pushed} test lines the try: pushed over, "
              f"{already} already over before")
        print(f"auth-unpatch: {len(converted)} tests converted, {len(unskipped)} reported")
        for tail, n in collections.Counter(
                re.sub(r"`[^`]*`", "`...`", m.split(": ", 1)[-1].split(": ", 1)[-1]) for _, _, m in unskipped
        ).most_common():
            print(f"    {n:4d}  {tail}")
        if args.show:
            for rel, tail, _ in converted:
                print(f"  converted {rel}::{tail}")
            for rel, tail, m in unskipped:
                print(f"  reported {rel}::{tail}: {m.split(': ', 1)[-1]}")
        print(f"  outputs that do not parse: {u_unparsable}; files a second run changes: {usecond}; "
              f"added lines over {LINE_LENGTH}: {u_new_over} new, {u_pushed} pushed over")
        print(f"auth --style fixture --conftest: {fx_tests} tests request the fixture; outputs that do not parse: "
              f"{fx_unparsable}; files a second run changes: {fxsecond}; added lines over {LINE_LENGTH}: "
              f"{fx_new_over} new, {fx_pushed} pushed over")
        # recall on real tests: the overrides LiteLLM's own tests set are removed; the tests they
        # covered (and that the fixer saw as covered) should now be wrapped, and nothing else
        covered = {(rel, tail) for rel, tail, message in skipped if "already overrides" in message}
        ablated = _ablate(abwork)
        abbefore = {p: p.read_text(encoding="utf-8") for p in abwork.rglob("*.py")}
        abwrapped = {(rel, tail) for rel, tail, _ in _edits(run(abwork), "auth-override")}
        ab_unparsable, ab_new_over, _, _ = _changes(abbefore)
        hit = abwrapped & covered
        extra = sorted(abwrapped - covered)
        extra_reach = sum(judge_reaches(abbefore[abwork / rel], tail, _conftests(abwork / rel, abwork))
                          for rel, tail in extra)
        abrefusal = sum(is_refusal(abbefore[abwork / rel], tail) for rel, tail in abwrapped)
        recall = 100.0 * len(hit) / len(covered) if covered else 100.0
        print(f"ablation: {ablated} override statements removed from the real tests; of the {len(covered)} tests "
              f"they covered, {len(hit)} are wrapped again ({recall:.1f}%); {len(extra)} other tests wrapped "
              f"({extra_reach} reach the auth per the judge); refusal tests wrapped: {abrefusal}; outputs that do "
              f"not parse: {ab_unparsable}; added lines over {LINE_LENGTH}: {ab_new_over}")
        if args.show:
            for rel, tail in sorted(covered - abwrapped):
                print(f"  not wrapped again {rel}::{tail}")
            for rel, tail in extra:
                print(f"  wrapped, not covered before {rel}::{tail}")
        ok = pct >= 95 and refusal == 0 and fixture == 0 and unparsable == 0 and second == 0 and new_over == 0 \
            and u_unparsable == 0 and usecond == 0 and u_new_over == 0 \
            and fx_unparsable == 0 and fxsecond == 0 and fx_new_over == 0
        print("  OK" if ok else "  PROBLEM")
        return 0 if ok else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(unwork, ignore_errors=True)
        shutil.rmtree(fxwork, ignore_errors=True)
        shutil.rmtree(abwork, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
