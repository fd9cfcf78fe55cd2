"""``npm-overrides``: fix what ``npm audit`` reports in package.json, with ``overrides`` or a raised range.

Input: an ``npm audit --json`` report (npm 7+, ``auditReportVersion`` 2) from ``--from FILE|-`` for
one npm project (the folder PATHS name, or the only one under them), or ``--run``: ``npm audit
--json`` in every npm project under PATHS (folders with a package.json; .gitignore honoured,
node_modules skipped). ``--level`` (default ``high``) is the lowest severity acted on.

For each vulnerable package of the report with an advisory of its own, the first patched version
is the lowest stable published version (``npm view NAME versions --json``, or ``--versions FILE``)
not below the installed one (package-lock.json; without a lock: above every vulnerable published
version) outside every advisory range: never a downgrade, never a package the report does not
name. Then:

* a direct dependency whose declared range already admits that version needs no edit (said so:
  ``npm update NAME`` refreshes the lock);
* a direct dependency whose fix is outside its range gets the range raised in its own style
  (``^1.2.3`` -> ``^2.0.1``) with ``--allow-major`` only, else a warning says so;
* a transitive one gets an ``overrides`` entry pinning that version (npm 8.3 or later); an
  existing override at or above it is kept, a lower one raised;
* a package without a patched version is reported, as is one vulnerable only through another
  (fixing that one fixes it).

package.json is edited by splicing (:mod:`codemods.edit.jsonsplice`): indentation, key order and
the final newline stay, only the changed lines differ, and the result must load to the same JSON
but for the changed keys. ``--lock`` then refreshes package-lock.json with the real ``npm install
--package-lock-only`` (in a temporary copy; the engine writes both files).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from codemods.core.context import Context
from codemods.core.contract import DemoSpec, RepoFixer
from codemods.core.options import option
from codemods.core.plan import Edit
from codemods.core.source import SourceFile
from codemods.errors import FileFailure, StabfixError, UsageError
from codemods.fixers.npm.audit import SEVERITIES, Vulnerable

#: where package.json declares the dependencies stabfix may raise
SECTIONS = ("dependencies", "devDependencies", "optionalDependencies")
LOCKS = ("npm-shrinkwrap.json", "package-lock.json")


@dataclass
class NpmOverridesOptions:
    from_report: str | None = option(None, "read `npm audit --json` output (npm 7+) from FILE (`-` for stdin)",
                                     flag="--from", metavar="FILE", config=False)
    run: bool = option(False, "run `npm audit --json` in every npm project under PATHS")
    level: str = option("high", "the lowest severity to fix", choices=SEVERITIES)
    allow_major: bool = option(False, "raise a direct dependency's declared range when its fix is outside it")
    versions: str | None = option(
        None, "published versions from FILE (JSON: name -> versions, as `npm view NAME versions --json` prints "
        "them) instead of asking npm", metavar="FILE", config=False)
    lock: bool = option(False, "refresh package-lock.json with `npm install --package-lock-only`")


@dataclass
class Project:
    """One npm project: its folder, package.json (text, offsets, data) and the installed versions."""

    folder: Path
    source: SourceFile
    data: dict[str, Any]
    installed: dict[str, str] = field(default_factory=dict)  # lock node path -> version
    lock: SourceFile | None = None


def load_project(ctx: Context, folder: Path) -> Project:
    """Read package.json (and the lock's installed versions); bad JSON is one clear error."""
    from codemods.edit.jsonsplice import JsonSpliceError, parse

    source = ctx.read(folder / "package.json")
    try:
        root = parse(source.text)
    except JsonSpliceError as exc:
        raise StabfixError(f"not valid JSON ({exc.message}); fix it first", path=source.rel) from None
    if root.kind != "object":
        raise StabfixError("is not a JSON object; fix it first", path=source.rel)
    data = json.loads(source.text)
    pm = data.get("packageManager")
    if isinstance(pm, str) and pm.startswith(("yarn@", "pnpm@")):
        raise StabfixError(f"declares packageManager {pm[:40]!r}: npm `overrides` do not apply to it "
                           "(yarn: `resolutions`, pnpm: `pnpm.overrides`)", path=source.rel)
    project = Project(folder, source, data)
    for name in LOCKS:
        path = folder / name
        if not path.is_file():
            continue
        lock = ctx.read(path)
        try:
            doc = json.loads(lock.text)
        except ValueError as exc:
            raise StabfixError(f"not valid JSON ({exc}); regenerate it with `npm install --package-lock-only`",
                               path=lock.rel) from None
        packages = doc.get("packages") if isinstance(doc, dict) else None
        if isinstance(packages, dict):  # lockfileVersion 2 and 3; version 1 lists no node paths
            project.installed = {k: v["version"] for k, v in packages.items()
                                 if isinstance(v, dict) and isinstance(v.get("version"), str)}
        project.lock = lock
        break
    return project


def projects_under(ctx: Context) -> list[Path]:
    """npm project folders under the selected paths (a package.json; node_modules never walked)."""
    return sorted({p.parent for p in ctx.discover(suffixes=(), names=("package.json",))})


class NpmOverridesFixer(RepoFixer):
    """Pin patched versions of what npm audit reports: overrides for transitive packages, raised ranges."""

    name: ClassVar[str] = "npm-overrides"
    description: ClassVar[str] = "fix npm audit findings in package.json: overrides, raised ranges (format kept)"
    Options: ClassVar[type] = NpmOverridesOptions
    default_paths: ClassVar[tuple[str, ...]] = (".",)
    accepts: ClassVar[frozenset[str]] = frozenset({"paths", "include", "exclude"})
    demo: ClassVar[DemoSpec | None] = DemoSpec(
        paths=["ui/litellm-dashboard"],
        options={"from_report": "ci-logs/npm-audit.json", "versions": "ci-logs/npm-versions.json",
                 "allow_major": True},
        note="the dashboard's audit (stored; the published versions too, so it runs offline): minimist 0.0.8 "
        "comes through mkdirp 0.5.1 (an override), json5 is a direct pin (its range is raised)",
    )
    options: NpmOverridesOptions

    def prepare(self, ctx: Context) -> None:
        o = self.options
        if o.from_report and o.run:
            raise UsageError("npm-overrides: give either --from FILE or --run, not both")
        if not o.from_report and not o.run:
            raise UsageError("npm-overrides: give the `npm audit --json` report with --from FILE (`-` for stdin) "
                             "or pass --run")

    def plan(self, ctx: Context) -> None:
        from codemods.fixers.npm import tool
        from codemods.fixers.npm.audit import parse_report, read_input

        o = self.options
        versions = tool.Versions.load(o.versions, ctx.root)
        if o.from_report:
            data, source = read_input(o.from_report, ctx.root)
            vulns = parse_report(data, source)  # a bad report stops the run before any project is read
            folder = self._one_project(ctx)
            self.plan_project(ctx, load_project(ctx, folder), vulns, versions)
            return
        folders = projects_under(ctx)
        if not folders:
            ctx.info("no npm project (package.json) under the given paths")
        for folder in folders:
            rel = ctx.rel(folder / "package.json")
            try:
                project = load_project(ctx, folder)
                vulns = parse_report(tool.audit(folder), f"from `npm audit --json` in {ctx.rel(folder) or '.'}")
                self.plan_project(ctx, project, vulns, versions)
            except (StabfixError, FileFailure) as exc:
                if len(folders) == 1:
                    raise
                ctx.mark(rel, "failed", exc.message)

    def _one_project(self, ctx: Context) -> Path:
        found: list[Path] = []
        for p in ctx.paths:
            if p.is_file() and p.name == "package.json":
                found.append(p.parent)
            elif (p / "package.json").is_file():
                found.append(p)
        if not found:
            found = projects_under(ctx)
        found = sorted(set(found))
        if len(found) == 1:
            return found[0]
        if not found:
            raise StabfixError("no package.json under the given paths; name the npm project the report is for")
        names = ", ".join(ctx.rel(f) or "." for f in found[:6])
        raise StabfixError(f"an npm audit report is for one project; name its folder (found {len(found)}: {names})")

    # -- one project ----------------------------------------------------------------------------------
    def plan_project(self, ctx: Context, project: Project, vulns: list[Vulnerable], versions: Any) -> None:
        from codemods.edit import jsonsplice
        from codemods.fixers.npm import versions as sv

        o = self.options
        src = project.source
        rel = src.rel
        data = project.data
        direct: dict[str, tuple[str, Any]] = {}
        for section in SECTIONS:
            deps = data.get(section)
            if isinstance(deps, dict):
                for k, v in deps.items():
                    direct.setdefault(k, (section, v))
        overrides = data.get("overrides")
        if overrides is not None and not isinstance(overrides, dict):
            raise StabfixError("`overrides` is not an object; fix it first", path=rel)
        expected = copy.deepcopy(data)
        text = src.text
        changes: list[tuple[tuple[str, ...], str, Edit]] = []
        below = 0
        for v in sorted(vulns, key=lambda x: x.name):
            if not v.at_least(o.level):
                below += 1
                continue
            advisories = [a for a in v.advisories if SEVERITIES.index(a.severity) >= SEVERITIES.index(o.level)]
            if not advisories:
                via = ", ".join(v.via) or "its dependencies"
                ctx.info(f"{v.name} ({v.severity}): vulnerable through {via}; fixed with {'it' if len(v.via) == 1 else 'them'}",
                         path=rel)
                continue
            ranges = [a.range for a in advisories]
            installed = [project.installed[n] for n in v.nodes if n in project.installed]
            installed = [i for i in installed if sv.parse_version(i) is not None]
            if installed and not any(sv.satisfies(i, r) for i in installed for r in ranges):
                ctx.info(f"{v.name}: the lock already holds {', '.join(dict.fromkeys(installed))}, outside the "
                         "advisory ranges (the report is older than the lock); nothing to do", path=rel)
                continue
            floor = sv.max_version(installed)  # an override pins every copy: never below the highest
            published = versions.get(v.name)
            patched = sv.first_patched(published, ranges, floor)
            urls = ", ".join(dict.fromkeys(a.url for a in advisories if a.url))
            if patched is None:
                above = f" at or above the installed {floor}" if floor else ""
                ctx.warn(f"{v.name} ({v.severity}): no published version{above} is outside the vulnerable "
                         f"range{'s' if len(ranges) > 1 else ''} {' || '.join(ranges)}: cannot be fixed by a "
                         f"version ({urls or 'see the advisory'})", path=rel)
                continue
            info = {"package": v.name, "severity": v.severity, "installed": installed, "advisories": urls}
            if v.name in direct:
                section, spec = direct[v.name]
                change = self._direct(ctx, rel, v.name, section, spec, patched, info)
            else:
                if v.is_direct:
                    ctx.warn(f"{v.name}: the report says it is a direct dependency, but package.json does not "
                             "declare it (a report of another project, or a stale one?); skipped", path=rel)
                    continue
                change = self._override(ctx, rel, v.name, overrides, patched, ranges, info)
            if change is None:
                continue
            path, new, edit = change
            target = expected
            for key in path[:-1]:
                target = target.setdefault(key, {})
            target[path[-1]] = new
            text = jsonsplice.set_member(text, path, new)
            changes.append((path, new, edit))
        if below:
            ctx.info(f"{below} vulnerable package(s) below --level {o.level} left alone", path=rel)
        if not changes:
            ctx.mark(rel, "unchanged", "nothing to change in package.json")
            return
        if jsonsplice.loads_checked(text) != expected:  # pragma: no cover - a splice bug
            raise StabfixError("stabfix bug: the package.json edit changes more than the intended keys; "
                               "nothing written", path=rel)
        root = jsonsplice.parse(text)
        for path, _, edit in changes:
            node = root
            for key in path:
                member = node.get(key)
                assert member is not None
                node = member.value
            edit.line = text.count("\n", 0, node.start) + 1
        n_over = sum(1 for p, _, _ in changes if p[0] == "overrides")
        parts = [f"{n_over} override(s)"] if n_over else []
        if len(changes) - n_over:
            parts.append(f"{len(changes) - n_over} range(s) raised")
        ctx.propose_edit(src, text, "npm audit: " + ", ".join(parts), [e for _, _, e in changes])
        if n_over:
            ctx.info("`overrides` need npm 8.3 or later", path=rel)
        if o.lock:
            self._lock(ctx, project, src.encode(text))

    def _direct(self, ctx: Context, rel: str, name: str, section: str, spec: Any, patched: str,
                info: dict[str, Any]) -> tuple[tuple[str, ...], str, Edit] | None:
        from codemods.fixers.npm import versions as sv

        if not isinstance(spec, str) or not sv.is_range(spec):
            ctx.warn(f"{name}: declared as {str(spec)[:60]!r} in {section}, not a semver range; patched "
                     f"version {patched}: edit it by hand", path=rel)
            return None
        if sv.satisfies(patched, spec):
            ctx.info(f"{name}: the patched version {patched} is inside its declared range {spec!r} ({section}); "
                     f"no package.json edit needed: `npm update {name}` (or `npm install`) refreshes the lock",
                     path=rel)
            return None
        if not self.options.allow_major:
            ctx.warn(f"{name} ({info['severity']}): the patched version {patched} is outside its declared range "
                     f"{spec!r} ({section}); pass --allow-major to raise it", path=rel)
            return None
        new = sv.raise_range(spec, patched)
        if new is None:
            ctx.warn(f"{name}: its range {spec!r} ({section}) is not one stabfix rewrites; raise it to "
                     f"{patched} by hand", path=rel)
            return None
        edit = Edit(f"{section}.{name}: {spec} -> {new} ({info['severity']}: first patched version {patched})",
                    kind="raise", data={**info, "section": section, "old": spec, "new": new})
        return (section, name), new, edit

    def _override(self, ctx: Context, rel: str, name: str, overrides: dict[str, Any] | None, patched: str,
                  ranges: list[str], info: dict[str, Any]) -> tuple[tuple[str, ...], str, Edit] | None:
        from codemods.fixers.npm import versions as sv

        current = (overrides or {}).get(name)
        if isinstance(current, dict) or (isinstance(current, str) and current.startswith("$")):
            ctx.warn(f"{name}: overrides already holds {json.dumps(current)[:80]}; pin {patched} there by hand",
                     path=rel)
            return None
        if isinstance(current, str):
            pinned = current.lstrip("=").strip()
            if sv.parse_version(pinned) is not None and not sv.gt(patched, pinned) \
                    and not any(sv.satisfies(pinned, r) for r in ranges):
                ctx.info(f"{name}: already overridden to {current} (patched from {patched})", path=rel)
                return None
        old = current if isinstance(current, str) else None
        what = f"{old} -> {patched}" if old else patched
        edit = Edit(f"overrides.{name}: {what} ({info['severity']}, transitive)", kind="override",
                    data={**info, "old": old, "new": patched})
        return ("overrides", name), patched, edit

    def _lock(self, ctx: Context, project: Project, package_json: bytes) -> None:
        from codemods.fixers.npm import tool

        if "workspaces" in project.data:
            raise StabfixError("--lock does not handle npm workspaces; run `npm install --package-lock-only` in "
                               "the workspace root after the edit", path=project.source.rel)
        old = project.lock.raw if project.lock is not None else None
        new = tool.refresh_lock(project.folder, package_json, old)
        edit = Edit("refreshed with `npm install --package-lock-only`", kind="lock")
        if project.lock is not None:
            ctx.propose_bytes(project.lock.path, new, "npm install --package-lock-only", [edit])
        else:
            ctx.propose_create(project.folder / "package-lock.json", new, "npm install --package-lock-only", [edit])
