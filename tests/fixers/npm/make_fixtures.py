"""Writes the fixture cases of npm-overrides and dockerfile-pins (tests/fixtures/<fixer>/<case>/).

Run it from the repository root after changing a case: ``python tests/fixers/npm/make_fixtures.py``.
The audit reports are written here by hand in npm 7+'s ``auditReportVersion: 2`` shape (npm's audit
endpoint is not reachable from the machines these were made on); the real advisories are
GHSA-xvch-5gv4-984h / GHSA-vh95-rmgr-6w4m (minimist) and GHSA-9c47-m6qq-7p4h (json5). The published
versions are the sample's ``ci-logs/npm-versions.json`` (real ``npm view NAME versions --json``), and
the package-lock.json files are real: with ``--locks`` this script makes them again with
``npm install --package-lock-only --ignore-scripts`` (npm 11.19.1 made the stored ones).
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
F = REPO / "tests" / "fixtures"
VERS = json.loads((REPO / "src/codemods/commands/sample_repo/ci-logs/npm-versions.json").read_text())
#: the locks the cases use: (package.json dependencies) -> stored lock (case that holds it)
LOCK_SOURCES = {
    "mkdirp": ("mkdirp", "0.5.1", None, F / "npm-overrides/transitive_override/before/app/package-lock.json"),
    "json5": ("json5", "~2.1.0", None, F / "npm-overrides/direct_allow_major/before/package-lock.json"),
    # a lock made while minimist 1.2.5 was the newest: npm resolves ^1.2.5 to 1.2.8 today, so the lock is
    # made with an override to 1.2.5 first, then without it (npm keeps a locked version its range admits)
    "mkdirp055": ("mkdirp", "0.5.5", "1.2.5", F / "npm-overrides/transitive_minimist_125/before/package-lock.json"),
}


def make_lock(name: str, spec: str, minimist: str | None) -> str:
    """``npm install --package-lock-only`` for ``{"dependencies": {name: spec}}`` (needs the npm registry)."""
    argv = ["npm", "install", "--package-lock-only", "--ignore-scripts", "--no-audit", "--no-fund"]
    with tempfile.TemporaryDirectory() as tmp:
        pj: dict[str, object] = {"name": "app", "version": "1.0.0", "dependencies": {name: spec}}
        if minimist:
            Path(tmp, "package.json").write_text(json.dumps({**pj, "overrides": {"minimist": minimist}}))
            subprocess.run(argv, cwd=tmp, check=True, capture_output=True)
        Path(tmp, "package.json").write_text(json.dumps(pj, indent=2) + "\n")
        subprocess.run(argv, cwd=tmp, check=True, capture_output=True)
        return Path(tmp, "package-lock.json").read_text()


def lock(key: str) -> str:
    name, spec, minimist, stored = LOCK_SOURCES[key]
    if "--locks" in sys.argv or not stored.exists():
        return make_lock(name, spec, minimist)
    return stored.read_text()

HAND = "hand-written audit report (auditReportVersion 2, npm 7+ shape: npm's audit endpoint is unreachable here)"

ADV = {
  "minimist": [("moderate", "<0.2.1", "GHSA-vh95-rmgr-6w4m"), ("moderate", ">=1.0.0 <1.2.3", "GHSA-vh95-rmgr-6w4m"),
               ("critical", "<0.2.4", "GHSA-xvch-5gv4-984h"), ("critical", ">=1.0.0 <1.2.6", "GHSA-xvch-5gv4-984h")],
  "json5": [("high", "<1.0.2", "GHSA-9c47-m6qq-7p4h"), ("high", ">=2.0.0 <2.2.2", "GHSA-9c47-m6qq-7p4h")],
}
TITLE = {"minimist": "Prototype Pollution in minimist", "json5": "Prototype Pollution in JSON5 via Parse Method"}

def vuln(name, direct, rng, nodes=None, advisories=None, via_names=(), severity=None, effects=()):
    advs = ADV.get(name, []) if advisories is None else advisories
    via = [{"source": 1090000 + i, "name": name, "dependency": name, "title": TITLE.get(name, "Advisory"),
            "url": f"https://github.com/advisories/{g}", "severity": s, "cwe": ["CWE-1321"],
            "cvss": {"score": 7.0, "vectorString": None}, "range": r} for i, (s, r, g) in enumerate(advs)]
    via += list(via_names)
    sev = severity or max((s for s, _, _ in advs), key=["info","low","moderate","high","critical"].index)
    return name, {"name": name, "severity": sev, "isDirect": direct, "via": via, "effects": list(effects),
                  "range": rng, "nodes": nodes or [f"node_modules/{name}"], "fixAvailable": True}

def report(*vulns):
    counts = {s: 0 for s in ["info","low","moderate","high","critical"]}
    for _, v in vulns:
        counts[v["severity"]] += 1
    counts["total"] = len(vulns)
    return json.dumps({"auditReportVersion": 2, "vulnerabilities": dict(vulns),
                       "metadata": {"vulnerabilities": counts, "dependencies": {"prod": 3, "dev": 0, "optional": 0,
                       "peer": 0, "peerOptional": 0, "total": 2}}}, indent=2) + "\n"

def case(fixer, name, args, files, after=None, exit=0, messages=(), note=""):
    d = F / fixer / name
    shutil.rmtree(d, ignore_errors=True)
    (d / "before").mkdir(parents=True)
    for rel, data in files.items():
        p = d / "before" / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data.encode() if isinstance(data, str) else data)
    for rel, data in (after or {}).items():
        p = d / "after" / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data.encode() if isinstance(data, str) else data)
    toml = f"args = {json.dumps(args)}\nexit = {exit}\nmessages = {json.dumps(list(messages), ensure_ascii=False)}\nnote = {json.dumps(note)}\n"
    (d / "case.toml").write_text(toml)

def main() -> None:
    versions = json.dumps({k: VERS[k] for k in ("json5", "minimist")}, indent=2) + "\n"
    lock_mkdirp = lock("mkdirp")
    lock_json5 = lock("json5")
    lock_mkdirp055 = lock("mkdirp055")
    V = ["--versions", "versions.json"]
    A = ["--from", "audit.json"]
    mkdirp_audit = report(vuln("minimist", False, "<=0.2.3 || 1.0.0 - 1.2.5", effects=["mkdirp"]),
                          vuln("mkdirp", True, "0.4.1 - 0.5.5", advisories=[], via_names=["minimist"], severity="critical"))
    LOCKNOTE = " package-lock.json: real, `npm install --package-lock-only --ignore-scripts` (npm 11.19.1); versions.json: real `npm view NAME versions --json`."

    # ---------------- npm-overrides ----------------
    pj2 = '{\n  "name": "app",\n  "version": "1.0.0",\n  "dependencies": {\n    "mkdirp": "0.5.1"\n  }\n}\n'
    case("npm-overrides", "transitive_override", ["app", *A, *V],
         {"app/package.json": pj2, "app/package-lock.json": lock_mkdirp, "audit.json": mkdirp_audit, "versions.json": versions},
         {"app/package.json": '{\n  "name": "app",\n  "version": "1.0.0",\n  "dependencies": {\n    "mkdirp": "0.5.1"\n  },\n  "overrides": {\n    "minimist": "0.2.4"\n  }\n}\n'},
         messages=["mkdirp (critical): vulnerable through minimist", "1 override(s)"],
         note="minimist 0.0.8 (locked, through mkdirp 0.5.1) -> overrides pins 0.2.4, the first version above 0.0.8 outside the critical ranges. " + HAND + "." + LOCKNOTE)

    pj055 = '{\n  "name": "app",\n  "version": "1.0.0",\n  "dependencies": {\n    "mkdirp": "0.5.5"\n  }\n}\n'
    case("npm-overrides", "transitive_minimist_125", [*A, *V],
         {"package.json": pj055, "package-lock.json": lock_mkdirp055, "audit.json": mkdirp_audit,
          "versions.json": versions},
         {"package.json": pj055.replace('  }\n}\n', '  },\n  "overrides": {\n    "minimist": "1.2.6"\n  }\n}\n')},
         note="minimist 1.2.5 (locked, through mkdirp 0.5.5) -> 1.2.6: the 1.x line, never down to 0.2.4. "
         + HAND + "." + LOCKNOTE + " This lock was made while an override held minimist at 1.2.5, then without it.")

    pj4 = '{\r\n    "name": "app",\r\n    "dependencies": {\r\n        "mkdirp": "0.5.1"\r\n    },\r\n    "overrides": {\r\n        "left-pad": "1.3.0"\r\n    },\r\n    "private": true\r\n}\r\n'
    case("npm-overrides", "indent4_crlf_existing_overrides", [*A, *V],
         {"package.json": pj4, "package-lock.json": lock_mkdirp, "audit.json": mkdirp_audit, "versions.json": versions},
         {"package.json": pj4.replace('"left-pad": "1.3.0"\r\n', '"left-pad": "1.3.0",\r\n        "minimist": "0.2.4"\r\n')},
         note="4-space indentation, CRLF, an overrides object that exists (the entry is added after its last member; `private` stays last). " + HAND + "." + LOCKNOTE)

    pjt = '{\n\t"name": "app",\n\t"dependencies": {\n\t\t"mkdirp": "0.5.1"\n\t}\n}'
    case("npm-overrides", "tabs_no_final_newline", [*A, *V],
         {"package.json": pjt, "audit.json": mkdirp_audit, "versions.json": versions},
         {"package.json": '{\n\t"name": "app",\n\t"dependencies": {\n\t\t"mkdirp": "0.5.1"\n\t},\n\t"overrides": {\n\t\t"minimist": "1.2.6"\n\t}\n}'},
         note="tabs and no final newline are kept. No lock, so the installed version is unknown: the fix is above every vulnerable published version (1.2.5), so 1.2.6, never a downgrade. " + HAND + ".")

    case("npm-overrides", "override_raised", [*A, *V],
         {"package.json": '{\n  "dependencies": {\n    "mkdirp": "0.5.1"\n  },\n  "overrides": {\n    "minimist": "0.2.1"\n  }\n}\n', "package-lock.json": lock_mkdirp, "audit.json": mkdirp_audit, "versions.json": versions},
         {"package.json": '{\n  "dependencies": {\n    "mkdirp": "0.5.1"\n  },\n  "overrides": {\n    "minimist": "0.2.4"\n  }\n}\n'},
         messages=["1 override(s)"],
         note="an override that is itself vulnerable (0.2.1 < 0.2.4) is raised in place. " + HAND + "." + LOCKNOTE)

    case("npm-overrides", "override_kept", [*A, *V],
         {"package.json": '{\n  "dependencies": {\n    "mkdirp": "0.5.1"\n  },\n  "overrides": {\n    "minimist": "1.2.8"\n  }\n}\n', "package-lock.json": lock_mkdirp, "audit.json": mkdirp_audit, "versions.json": versions},
         messages=["already overridden to 1.2.8"],
         note="an override above the fix is never lowered. " + HAND + "." + LOCKNOTE)

    json5_audit = report(vuln("json5", True, "2.0.0 - 2.2.1"))
    case("npm-overrides", "direct_outside_range_needs_allow_major", [*A, *V],
         {"package.json": '{\n  "name": "app",\n  "version": "1.0.0",\n  "dependencies": {\n    "json5": "~2.1.0"\n  }\n}\n', "package-lock.json": lock_json5, "audit.json": json5_audit, "versions.json": versions},
         messages=["json5 (high): the patched version 2.2.2 is outside its declared range '~2.1.0' (dependencies); pass --allow-major"],
         note="a direct dependency is never overridden; without --allow-major its range stays and a warning says why. " + HAND + "." + LOCKNOTE)

    case("npm-overrides", "direct_allow_major", [*A, *V, "--allow-major"],
         {"package.json": '{\n  "name": "app",\n  "version": "1.0.0",\n  "dependencies": {\n    "json5": "~2.1.0"\n  }\n}\n', "package-lock.json": lock_json5, "audit.json": json5_audit, "versions.json": versions},
         {"package.json": '{\n  "name": "app",\n  "version": "1.0.0",\n  "dependencies": {\n    "json5": "~2.2.2"\n  }\n}\n'},
         messages=["1 range(s) raised"],
         note="--allow-major raises the range in its own style (~ kept): installed 2.1.3 -> first patched 2.2.2. " + HAND + "." + LOCKNOTE)

    case("npm-overrides", "direct_inside_range", [*A, *V],
         {"package.json": '{\n  "devDependencies": {\n    "json5": "^2.2.0"\n  }\n}\n', "audit.json": json5_audit, "versions.json": versions},
         messages=["no package.json edit needed: `npm update json5`"],
         note="the fix 2.2.2 is inside ^2.2.0: package.json stays, the note says to refresh the lock. " + HAND + ".")

    case("npm-overrides", "no_patched_version", [*A, *V],
         {"package.json": pj2, "package-lock.json": lock_mkdirp,
          "audit.json": report(vuln("minimist", False, "*", advisories=[("high", ">=0.0.0", "GHSA-0000-0000-0000")], effects=["mkdirp"])), "versions.json": versions},
         messages=["minimist (high): no published version at or above the installed 0.0.8 is outside the vulnerable range >=0.0.0"],
         note="an advisory without a patched version is reported, nothing pinned. " + HAND + "." + LOCKNOTE)

    case("npm-overrides", "below_level", [*A, *V],
         {"package.json": pj2, "package-lock.json": lock_mkdirp,
          "audit.json": report(vuln("minimist", False, "<0.2.1", advisories=[("moderate", "<0.2.1", "GHSA-vh95-rmgr-6w4m")])), "versions.json": versions},
         messages=["1 vulnerable package(s) below --level high left alone"],
         note="--level high (the default) leaves a moderate finding alone. " + HAND + "." + LOCKNOTE)

    case("npm-overrides", "below_level_moderate", [*A, *V, "--level", "moderate"],
         {"package.json": pj2, "package-lock.json": lock_mkdirp,
          "audit.json": report(vuln("minimist", False, "<0.2.1", advisories=[("moderate", "<0.2.1", "GHSA-vh95-rmgr-6w4m")])), "versions.json": versions},
         {"package.json": pj2.replace('  }\n}\n', '  },\n  "overrides": {\n    "minimist": "0.2.1"\n  }\n}\n')},
         note="--level moderate acts on it: 0.2.1 is the first version outside <0.2.1. " + HAND + "." + LOCKNOTE)

    case("npm-overrides", "malformed_package_json", [*A, *V],
         {"package.json": '{\n  "dependencies": {\n    "mkdirp": "0.5.1",\n  }\n}\n', "audit.json": mkdirp_audit, "versions.json": versions},
         exit=2, messages=["error: package.json: not valid JSON (line 4: expected a quoted key); fix it first"],
         note="a trailing comma: one line, exit 2, nothing written")

    case("npm-overrides", "malformed_audit", [*A, *V],
         {"package.json": pj2, "audit.json": mkdirp_audit[:200], "versions.json": versions},
         exit=2, messages=["error: npm audit report audit.json: not JSON"],
         note="a truncated report: one line, exit 2, nothing written")

    v1 = json.dumps({"actions": [], "advisories": {"1179": {"module_name": "minimist", "severity": "low", "vulnerable_versions": "<1.2.2"}},
                     "muted": [], "metadata": {"vulnerabilities": {"low": 1}}}, indent=2) + "\n"
    case("npm-overrides", "audit_v1_refused", [*A, *V],
         {"package.json": pj2, "audit.json": v1, "versions.json": versions},
         exit=2, messages=["this is npm 6's format (auditReportVersion 1"],
         note="npm 6's report (advisories/actions): refused, nothing written")

    bad_name = report(vuln("minimist", False, "<0.2.4", effects=["mkdirp"]))
    bad_name = bad_name.replace('"minimist": {', '"--registry=http://evil": {', 1)
    case("npm-overrides", "bad_package_name_refused", [*A, *V],
         {"package.json": pj2, "audit.json": bad_name, "versions.json": versions},
         exit=2, messages=["is not an npm package name"],
         note="a report entry whose name is no npm package name (here an npm option) refuses the whole report")

    case("npm-overrides", "several_projects_need_a_folder", [*A, *V],
         {"a/package.json": pj2, "b/package.json": pj2, "audit.json": mkdirp_audit, "versions.json": versions},
         exit=2, messages=["an npm audit report is for one project; name its folder (found 2: a, b)"],
         note="--from with two projects under PATHS: name the one the audit ran in")

    # ---------------- dockerfile-pins ----------------
    json5_min_audit = report(vuln("json5", True, "2.0.0 - 2.2.1"), vuln("minimist", False, "<=0.2.3 || 1.0.0 - 1.2.5"))
    df = ("# syntax=docker/dockerfile:1\n"
          "ARG JSON5_VERSION=2.2.1\n"
          "FROM node:20-slim\n"
          "ARG JSON5_VERSION\n"
          "RUN npm install -g npm@10.9.2 \\\n"
          "    && npm install -g --no-fund json5@${JSON5_VERSION} minimist@1.2.5 \\\n"
          "    && echo 'npm install -g minimist@1.2.5' > /dev/null\n"
          "RUN --mount=type=cache,target=/root/.npm npm i -g   minimist@0.0.8 ; npm install --global json5@$JSON5_VERSION\n"
          "RUN npm install minimist@1.2.0  # not global: package.json's business\n")
    df_after = (df.replace("ARG JSON5_VERSION=2.2.1", "ARG JSON5_VERSION=2.2.2")
                  .replace("json5@${JSON5_VERSION} minimist@1.2.5 \\", "json5@${JSON5_VERSION} minimist@1.2.6 \\")
                  .replace("npm i -g   minimist@0.0.8", "npm i -g   minimist@0.2.4"))
    case("dockerfile-pins", "audit_arg_and_chains", [*A, *V],
         {"Dockerfile": df, "audit.json": json5_min_audit, "versions.json": versions},
         {"Dockerfile": df_after},
         messages=["3 npm global pin(s) raised"],
         note="&& chains, backslash continuations, two installs on one line; json5 through the global ARG (redeclared in the stage); the echoed text and the non-global install stay. " + HAND + "; versions.json: real `npm view`.")

    df2 = ("FROM node:20\r\n"
           "RUN npm install --location=global json5@2.2.1 typescript@5.4.5 \\\r\n"
           "  && npm install --global \"minimist@1.2.5\"\r\n")
    case("dockerfile-pins", "pin_option_crlf_named", ["--pin", "json5@2.2.3", "--pin", "minimist@1.2.8"],
         {"docker/app.Dockerfile": df2, "docker/Dockerfile.prod": df2.replace("json5@2.2.1", "json5@2.2.3"), "docker/notes.txt": "npm install -g json5@2.2.1\n"},
         {"docker/app.Dockerfile": df2.replace("json5@2.2.1", "json5@2.2.3").replace("minimist@1.2.5", "minimist@1.2.8"),
          "docker/Dockerfile.prod": df2.replace("json5@2.2.1", "json5@2.2.3").replace("minimist@1.2.5", "minimist@1.2.8")},
         note="--pin without a report; *.Dockerfile and Dockerfile.* are found, other files not; CRLF kept; a quoted spec is edited inside its quotes; typescript is not named and stays")

    case("dockerfile-pins", "pin_never_lowers", ["--pin", "json5@2.2.1"],
         {"Dockerfile": "FROM node:20\nRUN npm install -g json5@2.2.3 json5-cli json5@latest\n"},
         note="--pin never lowers a version; unpinned and tagged specs stay")

    case("dockerfile-pins", "heredoc_refused", [*A, *V],
         {"Dockerfile": "FROM node:20\nRUN <<EOF\nnpm install -g minimist@1.2.5\nEOF\n", "audit.json": json5_min_audit, "versions.json": versions},
         exit=2, messages=["error: Dockerfile: line 2: a heredoc in RUN"],
         note="a heredoc (dockerfile-parse does not read them): one line, exit 2, nothing written")

    case("dockerfile-pins", "audit_v1_refused", [*A, *V],
         {"Dockerfile": "FROM node:20\nRUN npm install -g minimist@1.2.5\n", "audit.json": v1, "versions.json": versions},
         exit=2, messages=["npm 6's format"],
         note="npm 6's report: refused, nothing written")


if __name__ == "__main__":
    main()
