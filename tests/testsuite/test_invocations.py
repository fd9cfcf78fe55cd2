"""codemods.testsuite.invocations / codemods.ci.scan: which shell commands run pytest, their xdist options and exact offsets;
codemods.edit.yamlsplice: mapping value positions to the source and refusing unsafe edits."""

from __future__ import annotations

from pathlib import Path

import pytest

from codemods.ci.scan import scan_file, scan_repo
from codemods.edit.yamlsplice import YamlSource
from codemods.errors import StabfixError
from codemods.testsuite.invocations import find_invocations

# (shell text, [(runner, -n value, test paths)]) — the invocation's -n value text must be
# exactly at the offsets reported
INVOCATIONS = [
    ("pytest -n 8 tests", [("pytest", "8", ["tests"])]),
    ("py.test tests -n8", [("py.test", "8", ["tests"])]),
    ("python -m pytest -n=8 tests/a.py::test_x", [("python -m pytest", "8", ["tests/a.py"])]),
    ("python3.11 -u -m pytest --numprocesses 6 t", [("python -m pytest", "6", ["t"])]),
    ("python -m pytest --numprocesses=auto", [("python -m pytest", "auto", [])]),
    ("uv run pytest -n 4", [("uv run pytest", "4", [])]),
    ("uv run --no-sync python -m pytest -n 4 x", [("uv run python -m pytest", "4", ["x"])]),
    ("uv run --with pytest-xdist --python 3.12 pytest -n 4", [("uv run pytest", "4", [])]),
    ("poetry run pytest tests -n 4", [("poetry run pytest", "4", ["tests"])]),
    ("poetry -C sub run python -m pytest -n 3", [("poetry run python -m pytest", "3", [])]),
    ("coverage run -m pytest -n 2 t", [("coverage run -m pytest", "2", ["t"])]),
    ("cd x && pytest -n 8 a; pytest -n 2 b | tee log", [("pytest", "8", ["a"]), ("pytest", "2", ["b"])]),
    ("FOO=1 BAR='a b' pytest -n 5", [("pytest", "5", [])]),
    ("env -u X FOO=1 timeout 30m pytest -n 5", [("pytest", "5", [])]),
    ("if pytest -n 2 t; then echo ok; fi", [("pytest", "2", ["t"])]),
    ("pytest \\\n  tests \\\n  -n 16 \\\n  -x", [("pytest", "16", ["tests"])]),
    ("pytest \\\r\n  -n 16", [("pytest", "16", [])]),
    ("pytest -xvsn 3 t", [("pytest", "3", ["t"])]),
    ("pytest -k 'a or -n 9' -n 2 -m \"not slow\" --cov litellm t", [("pytest", "2", ["t"])]),
    ('pytest -n "8" t', [("pytest", "8", ["t"])]),
    ("pytest -n << parameters.workers >> t", [("pytest", "<< parameters.workers >>", ["t"])]),
    ('pytest -n "${WORKERS}" t 2>&1 > out.txt', [("pytest", "${WORKERS}", ["t"])]),
    ("pytest -n ${{ inputs.workers }} t", [("pytest", "${{ inputs.workers }}", ["t"])]),
    ("./.venv/bin/pytest -n 4", [("pytest", "4", [])]),
    ("pytest tests -- -n 8", [("pytest", None, ["tests", "-n", "8"])]),
]

NOT_PYTEST = [
    "conda create -n myenv python=3.11 -y",
    "echo -n pytest -n 8",
    "head -n 5 file && tail -n 3 file",
    "# pytest -n 8",
    "echo hi  # pytest -n 8",
    "echo 'pytest -n 8'",
    'bash -c "pytest -n 8"',
    "xargs -n 1 pytest",
    "sort -n x | uniq",
    "git commit -n -m 'pytest -n 8'",
    'python -c "import pytest; pytest.main([\'-n\', \'8\'])"',
    "python -m mypy -n",
    "pip install pytest pytest-xdist",
    "pytest-benchmark compare -n 8",
    "cat <<EOF\npytest -n 8\nEOF",
    "cat <<-'END'\n\tpytest -n 8\n\tEND",
    "docker run --rm img pytest -n 8",
]


@pytest.mark.parametrize(("text", "expected"), INVOCATIONS, ids=[t for t, _ in INVOCATIONS])
def test_invocations_and_offsets(text: str, expected: list[tuple[str, str | None, list[str]]]) -> None:
    found = find_invocations(text)
    got = []
    for inv in found:
        n = inv.numprocesses
        if n is not None and n.value_start is not None:
            assert text[n.value_start:n.value_end] == n.value  # splice offsets are exact
        got.append((inv.runner.replace("./.venv/bin/", ""), n.value if n else None, inv.test_paths))
    assert got == expected


@pytest.mark.parametrize("text", NOT_PYTEST)
def test_not_pytest(text: str) -> None:
    assert find_invocations(text) == []


def test_dist_and_restart_options() -> None:
    text = "pytest -n 4 --dist=load --max-worker-restart 2 --ignore=tests/x --ignore tests/y tests"
    (inv,) = find_invocations(text)
    assert inv.dist is not None and inv.dist.value == "load"
    assert text[inv.dist.value_start:inv.dist.value_end] == "load"
    assert inv.max_worker_restart is not None and inv.max_worker_restart.value == "2"
    assert inv.ignores == ["tests/x", "tests/y"] and inv.test_paths == ["tests"]
    assert inv.uses_xdist
    assert not find_invocations("pytest -n 0")[0].uses_xdist
    assert not find_invocations("pytest -p no:xdist -n 4")[0].uses_xdist
    assert find_invocations("pytest --dist loadgroup")[0].uses_xdist


def test_scan_file_kinds_and_jobs() -> None:
    ci = scan_file(".github/workflows/t.yml", "jobs:\n  unit:\n    steps:\n      - run: pytest -n 4\n"
                   "      - name: pytest -n 4\n")
    assert ci.kind == "github" and [(s.line, s.jobs) for s in ci.sites] == [(4, ("unit",))]
    make = scan_file("Makefile", "t:\n\t@pytest -n 4 \\\n\t\t-x\nu: t\n\techo -n 4\n")
    assert [(s.line, s.jobs) for s in make.sites] == [(2, ("t",))]
    assert scan_file("tox.ini", "[testenv:py]\ncommands =\n    pytest -n 2\n").sites[0].jobs == ("py",)


# -- yamlsplice --------------------------------------------------------------------------------------

def test_value_positions_map_to_source_for_every_style() -> None:
    text = ('a: |\n  x -n 8\nb: >\n  y\n  -n 8\nc: "q \\"z\\" -n 8"\nd: \'it\'\'s -n 8\'\ne: plain\n  -n 8\n'
            'f: [{g: "-n 8"}]\n')
    y = YamlSource(text, "t.yml")
    for sc in y.scalars():
        k = sc.value.find("-n 8")
        if k < 0:
            continue
        span = sc.source_span(k + 3, k + 4)
        assert span is not None and text[span[0]:span[1]] == "8", sc.path


def test_splice_refuses_escaped_text() -> None:
    text = 'a: "pytest -n \\x38"\n'  # the 8 is written as an escape
    y = YamlSource(text, "t.yml")
    (sc,) = [s for s in y.scalars() if s.path == ("a",)]
    with pytest.raises(StabfixError, match="cannot edit"):
        y.splice([(sc, 10, 11, "4")])


def test_splice_verifies_the_result() -> None:
    text = "a: x\nb: y\n"
    y = YamlSource(text, "t.yml")
    (a, _b) = sorted(y.scalars(), key=lambda s: s.start)
    assert y.splice([(a, 0, 1, "z")]) == "a: z\nb: y\n"
    # an edit that would change structure (a new key) is refused
    with pytest.raises(StabfixError, match="stabfix bug"):
        y.splice([(a, 0, 1, "z\nc: w")])


@pytest.mark.parametrize("changed", [
    "a: &x 1\nb: *x\nc: [p, q]\nd: 'pytest -n 9'\n",   # another value changed
    "a: &x 1\nb: *x\nc: [p, q]\nd: \"pytest -n 8\"\n",  # the quote style changed
    "a: &y 1\nb: *y\nc: [p, q]\nd: 'pytest -n 8'\n",   # an anchor renamed
    "a: &x 1\nb: 1\nc: [p, q]\nd: 'pytest -n 8'\n",    # an alias replaced by a copy
    "a: &x 1\nb: *x\nc: [p, q, r]\nd: 'pytest -n 8'\n",  # an item added
    "a: &x 1\nb: *x\nc: {p: q}\nd: 'pytest -n 8'\n",    # a sequence became a mapping
    "a: &x 1\nb: *x\nc: [p, q]\n",                       # a key removed
    "a: &x 1\nb: *x\nc: [p, q\nd: 'pytest -n 8'\n",     # no longer parses
])
def test_verify_catches_any_other_difference(changed: str) -> None:
    y = YamlSource("a: &x 1\nb: *x\nc: [p, q]\nd: 'pytest -n 8'\n", "t.yml")
    y.verify("a: &x 1\nb: *x\nc: [p, q]\nd: 'pytest -n 8'\n", {})  # identical: fine
    with pytest.raises(StabfixError, match="stabfix bug"):
        y.verify(changed, {})


def test_invalid_yaml_message() -> None:
    with pytest.raises(StabfixError) as err:
        YamlSource("a: [b\nc: d\n", "ci.yml")
    assert err.value.one_line().startswith("error: ci.yml: invalid YAML at line 2, column 2:")


def test_merge_keys_and_aliases_are_followed() -> None:
    text = "d: &d\n  run: pytest -n 8\nj:\n  <<: *d\n  k: 1\n"
    y = YamlSource(text, "t.yml")
    root = y.documents[0]
    assert [k for k, _ in y.items(y.get(root, "j"))] == ["k", "run"]
    assert y.get(root, "j", "run").value == "pytest -n 8"


def test_generated_command_lines() -> None:
    """Seeded combinations of prefixes, runners, -n spellings, separators and decoys: exactly the
    pytest command is found, and its -n value sits at the reported offsets."""
    import random

    rng = random.Random(5)
    runners = ["pytest", "py.test", "python -m pytest", "python3 -m pytest", "uv run pytest",
               "uv run --no-sync python -m pytest", "poetry run pytest", "FOO=1 pytest", "env A=b pytest"]
    forms = ["-n {v}", "-n{v}", "-n={v}", "--numprocesses {v}", "--numprocesses={v}", '-n "{v}"', "-n '{v}'"]
    decoys = ["conda create -n env", "echo -n hi", "head -n 5 f", "echo 'pytest -n 9'", "xargs -n 1 echo",
              "git commit -n -m x", "# pytest -n 9", 'bash -c "pytest -n 9"', "sort -n f"]
    seps = [" && ", " ; ", " | ", "\n", " || ", " \\\n  && "]
    for _ in range(500):
        value = str(rng.randint(1, 64))
        form = rng.choice(forms).format(v=value)
        extra = rng.sample(["-x", "-vv", "--timeout=300", "-k 'not -n 3'", "tests/a", "--maxfail 5"], 3)
        parts = [rng.choice(runners), *extra[:2], form, extra[2]]
        cmd = " ".join(parts)
        before, after = rng.choice(decoys), rng.choice(decoys)
        text = before + rng.choice(seps) + cmd + (rng.choice(seps) + after if not after.startswith("#") else "")
        if before.startswith("#"):
            text = before + "\n" + cmd
        found = find_invocations(text)
        assert len(found) == 1, text
        n = found[0].numprocesses
        assert n is not None and n.value == value, text
        assert n.value_start is not None and text[n.value_start:n.value_end] == value, text


def test_scan_repo_for_other_fixers(tmp_path: Path) -> None:
    (tmp_path / ".circleci").mkdir()
    (tmp_path / ".circleci/config.yml").write_text(
        "version: 2.1\njobs:\n  a:\n    steps:\n      - run: |\n          pytest tests \\\n"
        "            -n 4 --dist loadgroup\n")
    (tmp_path / "Makefile").write_text("t:\n\tpytest -n 2\n")
    wf = tmp_path / ".github/workflows"
    wf.mkdir(parents=True)
    (wf / "bad.yml").write_text("jobs: [\n")
    files, problems = scan_repo(tmp_path)
    got = [(f.path, s.line, s.invocation.dist.value if s.invocation.dist else None)
           for f in files for s in f.sites if s.invocation.uses_xdist]
    assert got == [(".circleci/config.yml", 6, "loadgroup"), ("Makefile", 2, None)]
    assert len(problems) == 1 and problems[0].startswith(".github/workflows/bad.yml: invalid YAML at line 2")
