"""The CI branch rule: CircleCI runs only branches that match a filter (LiteLLM: ``litellm_.*``).

:func:`branch_rule` finds the pattern: ``[tool.stabfix.ci] branch_pattern`` in the repository's
pyproject.toml, else the ``filters: branches: only:`` of the jobs in ``.circleci/config.yml``'s
workflows (read with the project's YAML reader, :mod:`codemods.edit.yamlsplice`: anchors and merge
keys honoured, duplicate keys refused). A ``/regex/`` filter is a regular expression, anything else
a branch name; as CircleCI does, the whole branch name must match. When a workflow job has no
``only`` filter, every branch runs and there is no rule.

:func:`check_branch` is called before any push; :func:`matching_name` gives a name that fits
(``litellm_`` prefix added when missing), which ``stabfix ci branch NAME`` creates with git.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codemods.core import tomlread as tomllib
from codemods.errors import StabfixError

DEFAULT_PREFIX = "litellm_"
PROTECTED = ("main", "master")
_GIT_REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,199}")


@dataclass
class BranchRule:
    """The pattern a branch must match to run on CircleCI (``pattern`` None: every branch runs)."""

    pattern: str | None
    source: str

    def matches(self, branch: str) -> bool:
        return self.pattern is None or re.fullmatch(self.pattern, branch) is not None


def _configured(root: Path) -> str | None:
    path = root / "pyproject.toml"
    if not path.is_file():
        return None
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise StabfixError(f"cannot read it: {exc}; fix the TOML", path="pyproject.toml") from None
    table = data.get("tool", {}).get("stabfix", {}).get("ci", {})
    if not isinstance(table, dict):
        raise StabfixError("[tool.stabfix.ci] must be a table", path="pyproject.toml")
    unknown = sorted(set(table) - {"branch_pattern"})
    if unknown:
        raise StabfixError(f"[tool.stabfix.ci]: unknown key `{unknown[0]}` (known keys: branch_pattern)",
                           path="pyproject.toml")
    value = table.get("branch_pattern")
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise StabfixError("[tool.stabfix.ci] branch_pattern must be a non-empty string (a regular expression)",
                           path="pyproject.toml")
    return _compiled(value, "[tool.stabfix.ci] branch_pattern")


def _compiled(pattern: str, where: str) -> str:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise StabfixError(f"{where}: {pattern[:80]!r} is not a regular expression ({exc})") from None
    return pattern


def _filter_patterns(only: Any, where: str) -> list[str]:
    """A ``branches: only:`` value (a string or a list of them) as regular expressions."""
    values = [only] if only.id == "scalar" else list(only.value) if only.id == "sequence" else []
    out: list[str] = []
    for node in values:
        if node.id != "scalar":
            continue
        text = str(node.value).strip()
        if len(text) >= 2 and text.startswith("/") and text.endswith("/"):
            out.append(_compiled(text[1:-1], where))
        elif text:
            out.append(re.escape(text))
    return out


def _from_config(root: Path) -> str | None:
    from codemods.edit.yamlsplice import YamlSource

    rel = ".circleci/config.yml"
    path = root / rel
    if not path.is_file():
        return None
    try:
        source = YamlSource(path.read_text(encoding="utf-8"), rel)
    except UnicodeDecodeError:
        raise StabfixError("not UTF-8 text", path=rel) from None
    patterns: list[str] = []
    for doc in source.documents:
        for _, wf in YamlSource.items(YamlSource.get(doc, "workflows")):
            jobs = YamlSource.get(wf, "jobs")
            if jobs is None or jobs.id != "sequence":
                continue
            for entry in jobs.value:
                if entry.id == "scalar":
                    return None  # a job without filters: every branch runs
                for _, spec in YamlSource.items(entry):
                    only = YamlSource.get(spec, "filters", "branches", "only")
                    if only is None:
                        return None
                    patterns.extend(_filter_patterns(only, f"{rel}: filters.branches.only"))
    unique = list(dict.fromkeys(patterns))
    if not unique:
        return None
    return unique[0] if len(unique) == 1 else "|".join(f"(?:{p})" for p in unique)


def branch_rule(root: str | Path) -> BranchRule:
    """The branch pattern of the repository at ``root`` (see the module docstring)."""
    root = Path(root)
    configured = _configured(root)
    if configured is not None:
        return BranchRule(configured, "[tool.stabfix.ci] branch_pattern")
    found = _from_config(root)
    if found is not None:
        return BranchRule(found, ".circleci/config.yml branch filters")
    return BranchRule(None, "no branch filter (every branch runs)")


def check_branch(root: str | Path, branch: str, *, push: bool = True) -> BranchRule:
    """Refuse ``branch`` when CircleCI would not run it (or, for a push, when it is main/master)."""
    if not _GIT_REF.fullmatch(branch) or ".." in branch or branch.endswith((".lock", "/", ".")):
        raise StabfixError(f"branch {branch[:80]!r}: not a branch name (letters, digits, '._/-')")
    if push and branch in PROTECTED:
        raise StabfixError(f"refusing to push to {branch}: stabfix pushes only to a work branch "
                           f"(create one with `stabfix ci branch NAME`)")
    rule = branch_rule(root)
    if not rule.matches(branch):
        raise StabfixError(f"branch {branch!r} does not match {rule.pattern!r} ({rule.source}): CircleCI would "
                           f"not run it; create a matching one with `stabfix ci branch {branch}`")
    return rule


def _prefix(pattern: str | None) -> str:
    """The literal prefix of a ``prefix.*`` pattern, else :data:`DEFAULT_PREFIX`."""
    if pattern:
        m = re.fullmatch(r"\^?([A-Za-z0-9_/-]+)\.\*\$?", pattern)
        if m:
            return m.group(1)
    return DEFAULT_PREFIX


def matching_name(root: str | Path, name: str) -> str:
    """``name`` when the rule matches it, else with the rule's prefix (``litellm_`` by default) added;
    an error when even that does not match."""
    rule = branch_rule(root)
    prefix = _prefix(rule.pattern)
    keep = (rule.pattern is not None and rule.matches(name)) or name.startswith(prefix)
    candidate = name if keep else prefix + name
    check_branch(root, candidate)
    return candidate


def create_branch(root: str | Path, name: str) -> str:
    """Create and switch to a branch that CircleCI runs (:func:`matching_name`); return its name."""
    branch = matching_name(root, name)
    proc = subprocess.run(["git", "switch", "-c", branch], cwd=root, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["git switch failed"])[-1]
        raise StabfixError(f"cannot create branch {branch}: {last}")
    return branch
