"""Reading ``npm audit --json`` reports of npm 7 and later (``"auditReportVersion": 2``).

The shape (npm's documented JSON report): ``vulnerabilities`` maps a package name to
``{name, severity, isDirect, via, effects, range, nodes, fixAvailable}``; each ``via`` entry is
either an advisory object (``{source, name, title, url, severity, range, ...}``: this package is
vulnerable itself, in ``range``) or a package name (vulnerable through that dependency). npm 6's
report (``advisories``/``actions``, no ``auditReportVersion``) and npm's error object
(``{"error": {...}}``, e.g. when the audit endpoint is unreachable) are refused with one line.

The report is untrusted: every package name must be an npm package name, every severity one of
npm's five, every range a semver range (checked with node-semver); anything else refuses the
whole report, naming the entry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import msgspec

from codemods.errors import StabfixError

SEVERITIES = ("info", "low", "moderate", "high", "critical")

#: an npm package name (``validate-npm-package-name``, old packages' capitals allowed); never a
#: leading ``-``/``.``/``_`` (an option to npm, a hidden file) and at most 214 characters
_URL = re.compile(r"https?://[!-~]{1,200}")
_NAME = re.compile(r"(?:@[a-z0-9~][a-z0-9._~-]*/)?[A-Za-z0-9~][A-Za-z0-9._~-]*")


def valid_name(name: str) -> bool:
    """Whether ``name`` is an npm package name (safe as one argument to npm)."""
    return len(name) <= 214 and _NAME.fullmatch(name) is not None


def check_name(name: str, what: str) -> str:
    if not valid_name(name):
        shown = name if len(name) <= 60 else name[:57] + "..."
        raise StabfixError(f"{what}: {shown!r} is not an npm package name")
    return name


class _Advisory(msgspec.Struct):
    name: str
    severity: str
    range: str
    title: str = ""
    url: str = ""
    source: int | str | None = None


class _Fix(msgspec.Struct):
    name: str
    version: str
    isSemVerMajor: bool = False


class _Vulnerability(msgspec.Struct):
    name: str
    severity: str
    via: list[str | _Advisory]
    isDirect: bool = False
    effects: list[str] = []
    range: str = ""
    nodes: list[str] = []
    fixAvailable: bool | _Fix = False


class _Report(msgspec.Struct):
    auditReportVersion: int
    vulnerabilities: dict[str, _Vulnerability]


@dataclass(frozen=True)
class Advisory:
    """One advisory against a package: its vulnerable ``range``, severity, title and URL."""

    severity: str
    range: str
    title: str
    url: str


@dataclass
class Vulnerable:
    """One entry of ``vulnerabilities``: the package's own advisories and the packages it is
    vulnerable through (``via`` names)."""

    name: str
    severity: str
    is_direct: bool
    advisories: list[Advisory]
    via: list[str]
    nodes: list[str]
    range: str

    def at_least(self, level: str) -> bool:
        return SEVERITIES.index(self.severity) >= SEVERITIES.index(level)


def _shown(data: bytes) -> str:
    return "an empty file" if not data.strip() else "not JSON"


def parse_report(data: bytes | str, source: str) -> list[Vulnerable]:
    """The vulnerable packages of a v2 report; :class:`StabfixError` (one line) otherwise."""
    from codemods.fixers.npm.versions import check_range

    raw = data.encode("utf-8") if isinstance(data, str) else data
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        doc = msgspec.json.decode(raw)
    except msgspec.DecodeError as exc:
        raise StabfixError(f"npm audit report {source}: {_shown(raw)} ({exc}); pass the output of "
                           "`npm audit --json` (npm 7 or later)") from None
    if not isinstance(doc, dict):
        raise StabfixError(f"npm audit report {source}: not an `npm audit --json` object")
    if "error" in doc and "vulnerabilities" not in doc:
        err = doc["error"]
        summary = err.get("summary") if isinstance(err, dict) else None
        raise StabfixError(f"npm audit report {source}: npm reported an error instead of an audit"
                           f"{': ' + str(summary)[:200] if summary else ''}")
    version = doc.get("auditReportVersion")
    if version is None and ("advisories" in doc or "actions" in doc):
        raise StabfixError(f"npm audit report {source}: this is npm 6's format (auditReportVersion 1: "
                           "`advisories`/`actions`); run `npm audit --json` with npm 7 or later")
    if version != 2:
        raise StabfixError(f"npm audit report {source}: auditReportVersion {version!r} is not supported "
                           "(stabfix reads version 2, written by npm 7 and later)")
    try:
        report = msgspec.convert(doc, _Report)
    except msgspec.ValidationError as exc:
        raise StabfixError(f"npm audit report {source}: not the auditReportVersion 2 shape ({exc})") from None
    out: list[Vulnerable] = []
    for key, v in report.vulnerabilities.items():
        where = f"npm audit report {source}: vulnerabilities[{key[:60]!r}]"
        check_name(key, where)
        if v.name != key:
            raise StabfixError(f"{where}: its name is {v.name[:60]!r}")
        if v.severity not in SEVERITIES:
            raise StabfixError(f"{where}: unknown severity {v.severity[:20]!r}")
        advisories: list[Advisory] = []
        via: list[str] = []
        for item in v.via:
            if isinstance(item, str):
                via.append(check_name(item, f"{where}: via"))
                continue
            if item.severity not in SEVERITIES:
                raise StabfixError(f"{where}: an advisory with unknown severity {item.severity[:20]!r}")
            if item.name != key:  # npm lists a dependency's advisories under the dependency
                via.append(check_name(item.name, f"{where}: via"))
                continue
            check_range(item.range, f"{where}: advisory range")
            # title and URL are shown in notices: printable text only (no terminal control sequences)
            url = item.url if _URL.fullmatch(item.url) else ""
            title = item.title[:200] if item.title.isprintable() else ""
            advisories.append(Advisory(item.severity, item.range, title, url))
        if v.range:
            check_range(v.range, f"{where}: range")
        out.append(Vulnerable(key, v.severity, v.isDirect, advisories, via, [n for n in v.nodes if
                                                                            isinstance(n, str)], v.range))
    return out


def read_input(name: str, root: object) -> tuple[bytes, str]:
    """The bytes of ``--from FILE`` (relative to the working folder, else to the root) or stdin."""
    import sys
    from pathlib import Path

    if name == "-":
        stdin = sys.stdin
        return (stdin.buffer.read() if hasattr(stdin, "buffer") else stdin.read().encode("utf-8")), "<stdin>"
    path = Path(name)
    if not path.is_absolute() and not path.exists() and isinstance(root, Path) and (root / path).exists():
        path = root / path
    try:
        return path.read_bytes(), name
    except FileNotFoundError:
        raise StabfixError(f"{name} does not exist") from None
    except OSError as exc:
        raise StabfixError(f"cannot read {name}: {exc.strerror}") from None
