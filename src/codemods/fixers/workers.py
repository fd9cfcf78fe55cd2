"""workers: lower pytest's ``-n`` (xdist worker count) in CI configs, byte for byte.

``stabfix apply workers --to 4`` finds every pytest invocation in ``.circleci/config.yml`` (or the
files named / configured: GitHub workflows, Makefiles, tox.ini, pyproject ``addopts``) and sets
``-n N`` / ``-nN`` / ``-n=N`` / ``--numprocesses N|=N`` to 4 where it is higher. Parameterised
values are followed to where the number is written: ``-n << parameters.workers >>`` to the job's
(or command's) parameter default and the ``workers:`` values the workflows pass; ``-n "${WORKERS}"``
to the step/job/workflow ``env`` value or the workflow input's default. Values are only ever
lowered, ``auto``/``logical`` kept, unless ``--force``. Edits are splices of the original text,
checked by parsing the result again (see :mod:`codemods.edit.yamlsplice`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar

from codemods.ci.collect import ci_files_to_edit
from codemods.ci.scan import CiFile, Site, line_at, select_jobs
from codemods.ci.splice import Splice, apply_splices
from codemods.core.context import Context
from codemods.core.contract import DemoSpec, RepoFixer
from codemods.core.options import option, split_list
from codemods.core.plan import Edit
from codemods.errors import FileFailure, StabfixError, UsageError

_CIRCLE_REF = re.compile(r"<<\s*(pipeline\.)?parameters\.([\w-]+)\s*>>")
_ENV_REF = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?|\$\{\{\s*env\.([\w-]+)\s*\}\}")
_INPUT_REF = re.compile(r"\$\{\{\s*(?:github\.event\.)?inputs\.([\w-]+)\s*\}\}")
_SHELL_DEFAULT = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*):?[-=](\d+)\}")
_MAKE_REF = re.compile(r"\$[({]([A-Za-z_][\w.-]*)[)}]")
_MATRIX_REF = re.compile(r"\$\{\{\s*matrix\.([\w-]+)\s*\}\}")


@dataclass
class WorkersOptions:
    to: int | None = option(None, "the worker count to set (required, >= 1)", metavar="N")
    job: list[str] = option([], "only these jobs (CI jobs, make targets, tox envs); repeatable", metavar="NAME")
    max: int | None = option(None, "only change values above M (default: any above --to)", metavar="M")
    force: bool = option(False, "also replace auto/logical, and allow raising a value")
    add_max_worker_restart: int | None = option(
        None, "add --max-worker-restart=K to the invocations it lowers, if absent", metavar="K"
    )
    files: list[str] = option([".circleci/config.yml"], "CI files to edit when no PATHS are given", metavar="FILE",
                              cli=False)


@dataclass
class _Change:
    splice: Splice
    edit: Edit


class WorkersFixer(RepoFixer):
    """Lower pytest's -n in CI configs (CircleCI, GitHub Actions, Makefile, tox.ini, addopts)."""

    name: ClassVar[str] = "workers"
    description: ClassVar[str] = "lower pytest's -n (xdist workers) in CI configs, byte for byte"
    Options: ClassVar[type] = WorkersOptions
    default_paths: ClassVar[tuple[str, ...]] = ()
    #: PATHS name the CI files (or folders holding them), --include/--exclude filter them (ci.collect)
    accepts: ClassVar[frozenset[str]] = frozenset({"paths", "include", "exclude"})
    demo: ClassVar[DemoSpec | None] = DemoSpec(
        options={"to": 4, "add_max_worker_restart": 3},
        note="the sample's .circleci/config.yml runs pytest with -n 8 twice; `conda create -n`, "
        "`echo -n`, `head -n` and a comment mentioning -n stay untouched",
    )

    options: WorkersOptions

    def prepare(self, ctx: Context) -> None:
        o = self.options
        o.job = split_list(o.job)  # `--job a,b` (the CLI passes list items unsplit)
        if o.to is None:
            raise UsageError("workers needs --to N (the worker count to set), e.g. `stabfix apply workers --to 4`")
        if o.to < 1:
            raise UsageError(f"--to must be a positive number of workers, got {o.to}")
        if o.max is not None and o.max < 0:
            raise UsageError(f"--max must be 0 or more, got {o.max}")
        if o.add_max_worker_restart is not None and o.add_max_worker_restart < 0:
            raise UsageError(f"--add-max-worker-restart must be 0 or more, got {o.add_max_worker_restart}")

    # -- which values change ------------------------------------------------------------------------
    def _wanted(self, value: str) -> bool:
        o = self.options
        assert o.to is not None
        if value in ("auto", "logical"):
            return o.force
        if not value.isdigit():
            return False
        v = int(value)
        if v in (0, o.to) or (v < o.to and not o.force):
            return False  # -n 0 disables xdist on purpose: never touched
        return v > o.max if o.max is not None else (v > o.to or o.force)

    def _in_scope(self, ctx: Context, site: Site, line: int, jobs: set[str] | None = None) -> bool:
        """Does --job select this place? ``jobs`` overrides the site's jobs (parameter places)."""
        selected = set(self.options.job)
        verdict = site.selected_by(selected) if jobs is None else select_jobs(jobs, selected)
        if verdict is None:
            shared = sorted(jobs if jobs is not None else set(site.jobs))
            ctx.warn(f"not changed: this text is shared by jobs {', '.join(shared)} (an anchor or a "
                     f"reusable command) and --job selects only {', '.join(sorted(set(shared) & selected))}",
                     path=site.path, line=line)
        return bool(verdict)

    # -- planning -----------------------------------------------------------------------------------
    def plan(self, ctx: Context) -> None:
        files = ci_files_to_edit(ctx, self.options.files, self.options.job)
        if not files:
            return
        for ci in files:
            source = ci.source
            try:
                changes = self._plan_file(ctx, ci)
                if not changes:
                    reason = "no pytest invocation" if not ci.sites else f"no -n above {self._threshold()} to lower"
                    ctx.mark(ci.path, "unchanged", "nothing to do: " + reason)
                    self._hint_force(ctx, ci)
                    continue
                new_text = apply_splices(ci, [c.splice for c in changes])
            except (FileFailure, StabfixError) as exc:  # this file only: the others go on
                ctx.mark(ci.path, "failed", exc.message)
                continue
            n = len(changes)
            ctx.propose_edit(source, new_text, f"{n} worker setting{'s' if n > 1 else ''} changed",
                             [c.edit for c in changes])

    def _hint_force(self, ctx: Context, ci: CiFile) -> None:
        """Nothing changed because the values are below --to (or auto/logical): say --force raises them."""
        o = self.options
        if o.force or o.to is None:
            return
        below, named = set(), set()
        for site in ci.sites:
            opt = site.invocation.numprocesses
            if opt is None or opt.value is None or site.invocation.disables_xdist:
                continue
            if opt.value.isdigit() and 0 < int(opt.value) < o.to:
                below.add(int(opt.value))
            elif opt.value in ("auto", "logical"):
                named.add(opt.value)
        parts = [f"-n {v}" for v in sorted(below)] + [f"-n {v}" for v in sorted(named)]
        if parts:
            ctx.info(f"nothing lowered: {', '.join(parts)} {'is' if len(parts) == 1 else 'are'} left as "
                     f"{'it is' if len(parts) == 1 else 'they are'} (workers only lowers values above --to "
                     f"{o.to} and keeps auto/logical); pass --force to set them to {o.to}", path=ci.path)

    def _threshold(self) -> str:
        o = self.options
        return str(o.max if o.max is not None else o.to)

    def _plan_file(self, ctx: Context, ci: CiFile) -> list[_Change]:
        out: list[_Change] = []
        done: set[object] = set()  # places already edited (a parameter used twice)
        for site in ci.sites:
            inv = site.invocation
            opt = inv.numprocesses
            if opt is None or opt.value is None or inv.disables_xdist:
                continue
            if not self._in_scope(ctx, site, site.line):
                continue
            where = _where(site)
            raw = opt.value
            if raw.isdigit() or raw in ("auto", "logical"):
                if not self._wanted(raw):
                    continue
                if opt.value_start is None or opt.value_end is None:
                    raise StabfixError(f"line {site.line}: `{opt.spelling} {raw}` is written with escapes; "
                                       "edit it by hand", path=ci.path)
                new = str(self.options.to)
                out.append(_Change(
                    Splice(opt.value_start, opt.value_end, new, site.scalar),
                    Edit(f"{where}: {opt.spelling} {raw} -> {new}", line_at(ci, site, opt.value_start), "workers",
                         {"job": _job(site), "file": ci.path, "old": raw, "new": new, "place": "invocation"}),
                ))
                self._restart(ci, site, out)
                continue
            # -n ${WORKERS:-8}: the default written in place (`$${...}` in a Makefile recipe)
            shift = 1 if ci.kind == "make" and raw.startswith("$$") else 0
            m = _SHELL_DEFAULT.fullmatch(raw, shift)
            if m and opt.value_start is not None and opt.value_end == opt.value_start + len(raw):
                if self._wanted(m.group(2)):
                    new = str(self.options.to)
                    at = opt.value_start + m.start(2)
                    out.append(_Change(
                        Splice(at, opt.value_start + m.end(2), new, site.scalar),
                        Edit(f"{where}: default of `${{{m.group(1)}:-...}}` in `{opt.spelling} {raw}`: "
                             f"{m.group(2)} -> {new}", line_at(ci, site, at), "workers",
                             {"job": _job(site), "file": ci.path, "old": m.group(2), "new": new,
                              "place": "shell default"}),
                    ))
                    self._restart(ci, site, out)
                continue
            followed = self._follow(ctx, ci, site, raw, done)
            if followed is None:
                ctx.info(f"{where}: `{opt.spelling} {raw}` is not a number stabfix can follow; left alone",
                         path=ci.path, line=site.line)
                continue
            out.extend(followed)
            if followed:
                self._restart(ci, site, out)
        return out

    def _restart(self, ci: CiFile, site: Site, out: list[_Change]) -> None:
        k = self.options.add_max_worker_restart
        inv = site.invocation
        opt = inv.numprocesses
        if k is None or opt is None or inv.max_worker_restart is not None:
            return
        text = f" --max-worker-restart={k}"
        out.append(_Change(
            Splice(opt.end, opt.end, text, site.scalar),
            Edit(f"{_where(site)}: added --max-worker-restart={k}", line_at(ci, site, opt.end - 1), "workers",
                 {"job": _job(site), "file": site.path, "old": None, "new": f"--max-worker-restart={k}",
                  "place": "invocation"}),
        ))

    # -- following parameters and variables ---------------------------------------------------------
    def _follow(self, ctx: Context, ci: CiFile, site: Site, raw: str, done: set[object]) -> list[_Change] | None:
        """Changes for a parameterised ``-n``; None when the value cannot be followed."""
        if ci.kind == "make":
            return self._follow_make(ctx, ci, site, raw, done)
        if ci.yaml is None or site.scalar is None:
            return None
        y = ci.yaml
        root = y.documents[site.doc]
        places: list[tuple[Any, str, set[str]]] = []  # (scalar node, description, jobs it affects)
        m = _CIRCLE_REF.fullmatch(raw)
        if m and ci.kind == "circleci":
            pname = m.group(2)
            if m.group(1):
                places.append((y.get(root, "parameters", pname, "default"),
                               f"pipeline parameter `{pname}` default", set(site.jobs)))
            else:
                kind, owner = site.container
                if not kind:
                    return None
                section = "jobs" if kind == "job" else "commands"
                places.append((y.get(root, section, owner, "parameters", pname, "default"),
                               f"{kind} `{owner}` parameter `{pname}` default", set(site.jobs)))
                places.extend(_circle_passes(y, root, kind, owner, pname))
        elif ci.kind in ("github", "yaml"):
            places.extend(_github_places(y, root, site, raw))
        if not places:
            return None
        changes: list[_Change] = []
        for node, label, jobs in places:
            if node is None or node.id != "scalar" or id(node) in done:
                continue
            value = str(node.value)
            sc = y.scalar(node)
            if not self._wanted(value) or not self._in_scope(ctx, site, sc.line, jobs):
                continue
            done.add(id(node))
            new = str(self.options.to)
            opt = site.invocation.numprocesses
            spelled = f"{opt.spelling} {raw}" if opt else raw
            changes.append(_Change(
                Splice(0, len(value), new, sc),
                Edit(f"{label}: {value} -> {new} (used by `{spelled}` on line {site.line})", sc.line, "workers",
                     {"job": ", ".join(sorted(jobs)) or _job(site), "file": ci.path, "old": value, "new": new,
                      "place": label, "used_at": site.line}),
            ))
        return changes


    def _follow_make(self, ctx: Context, ci: CiFile, site: Site, raw: str, done: set[object]) -> list[_Change] | None:
        """``-n $(WORKERS)``: the Makefile's ``WORKERS = 8`` / ``?=`` / ``:=`` assignments."""
        m = _MAKE_REF.fullmatch(raw)
        if not m:
            return None
        name = m.group(1)
        assign = re.compile(rf"(?m)^[ \t]*(?:override[ \t]+|export[ \t]+)?{re.escape(name)}[ \t]*"
                            r"(?:\?|::?|\+|!)?=[ \t]*(\d+)[ \t]*\r?$")
        found = list(assign.finditer(ci.text))
        if not found:
            return None
        changes: list[_Change] = []
        for a in found:
            key = ("make", a.start(1))
            if key in done or not self._wanted(a.group(1)):
                continue
            done.add(key)
            new = str(self.options.to)
            line = ci.text.count("\n", 0, a.start(1)) + 1
            changes.append(_Change(
                Splice(a.start(1), a.end(1), new),
                Edit(f"variable `{name}`: {a.group(1)} -> {new} (used by `-n {raw}` in {_where(site)} on line "
                     f"{site.line})", line, "workers",
                     {"job": _job(site), "file": ci.path, "old": a.group(1), "new": new,
                      "place": f"make variable {name}", "used_at": site.line}),
            ))
        return changes


def _where(site: Site) -> str:
    kind, name = site.container
    if site.jobs:
        return ("job " if site.kind in ("circleci", "github", "yaml") else {"make": "target ", "tox": "env "}.get(
            site.kind, "")) + ", ".join(site.jobs)
    return f"{kind} {name}".strip() or site.path


def _job(site: Site) -> str:
    return ", ".join(site.jobs) or site.container[1] or site.path


def _circle_passes(y: Any, root: Any, kind: str, owner: str, pname: str) -> list[tuple[Any, str, set[str]]]:
    """The ``pname:`` values passed to a job (from workflows) or a command (from steps)."""
    out: list[tuple[Any, str, set[str]]] = []
    if kind == "job":
        for wf_name, wf in y.items(y.get(root, "workflows")):
            entries = y.get(wf, "jobs")
            if entries is None or entries.id != "sequence":
                continue
            for entry in entries.value:
                for jname, params in y.items(entry):
                    if jname == owner:
                        alias = y.get(params, "name")
                        label = f"workflow `{wf_name}` job `{owner}`"
                        if alias is not None and alias.id == "scalar":
                            label += f" (as `{alias.value}`)"
                        out.append((y.get(params, pname), f"{label} `{pname}:` value", {owner}))
                        values = y.get(params, "matrix", "parameters", pname)
                        if values is not None and values.id == "sequence":
                            out.extend((v, f"{label} matrix `{pname}` value", {owner}) for v in values.value)
        return out
    for section in ("jobs", "commands"):
        for holder, node in y.items(y.get(root, section)):
            steps = y.get(node, "steps")
            if steps is None or steps.id != "sequence":
                continue
            for step in steps.value:
                for cname, params in y.items(step):
                    if cname == owner:
                        where = f"{section[:-1]} `{holder}`"
                        out.append((y.get(params, pname), f"{where} step `{owner}` `{pname}:` value", {holder}))
    return out


def _node_at(y: Any, root: Any, path: tuple[Any, ...]) -> Any:
    node = root
    for part in path:
        if node is None:
            return None
        if isinstance(part, int):
            node = node.value[part] if node.id == "sequence" and part < len(node.value) else None
        else:
            node = y.get(node, part)
    return node


def _github_places(y: Any, root: Any, site: Site, raw: str) -> list[tuple[Any, str, set[str]]]:
    """Where a GitHub ``-n "${WORKERS}"`` / ``${{ inputs.x }}`` / ``${{ matrix.x }}`` (or a GitLab
    ``-n $WORKERS`` with ``variables:``) is written."""
    path = site.scalar.path
    jobs = set(site.jobs)
    if len(path) >= 2 and path[0] == "jobs":
        job_node = _node_at(y, root, path[:2])
    else:  # GitLab CI: jobs are top-level keys
        job_node = _node_at(y, root, path[:1]) if site.kind == "yaml" and path else None
    out: list[tuple[Any, str, set[str]]] = []

    def inputs(name: str) -> None:
        for trigger in ("workflow_dispatch", "workflow_call"):
            node = y.get(root, "on", trigger, "inputs", name, "default")
            if node is not None:
                out.append((node, f"`{trigger}` input `{name}` default", jobs))

    m = _INPUT_REF.fullmatch(raw)
    if m:
        inputs(m.group(1))
        return out
    m = _MATRIX_REF.fullmatch(raw)
    if m:
        values = y.get(job_node, "strategy", "matrix", m.group(1))
        if values is not None and values.id == "sequence":
            out.extend((v, f"matrix `{m.group(1)}` value", jobs) for v in values.value)
        return out
    m = _ENV_REF.fullmatch(raw)
    if not m:
        return out
    name = m.group(1) or m.group(2)
    step_node = _node_at(y, root, path[:4]) if len(path) >= 4 and path[2] == "steps" else None
    for scope, node in (("step", step_node), ("job", job_node), ("workflow", root)):
        value = None
        for key in ("env", "variables"):  # GitHub Actions `env:`, GitLab CI `variables:`
            value = y.get(node, key, name) if node is not None else None
            if value is not None:
                break
        if value is None or value.id != "scalar":
            continue
        inner = _INPUT_REF.fullmatch(str(value.value).strip())
        if inner:
            inputs(inner.group(1))
        else:
            out.append((value, f"{scope} env `{name}`", jobs))
        break
    return out


__all__ = ["WorkersFixer", "WorkersOptions"]
