"""Running npm for the npm fixers: ``npm audit --json`` (``--run``), ``npm view NAME versions --json``
(the published versions) and ``npm install --package-lock-only`` (``--lock``).

Every command is an argument list run without a shell; a package name reaches npm only after
:func:`~codemods.fixers.npm.audit.check_name`. ``npm`` is looked up on ``PATH``. The published
versions can come from a stored map instead (``--versions FILE``: ``{"name": [versions...]}``, the
shape ``npm view NAME versions --json`` prints per package), which keeps tests and the demo offline.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

from codemods.errors import StabfixError, ToolError
from codemods.fixers.npm.audit import check_name, read_input

TIMEOUT = 300


def npm() -> str:
    exe = shutil.which("npm")
    if exe is None:
        raise ToolError("npm not found on PATH; install Node.js and npm (or pass --versions FILE / --from FILE)")
    return exe


def _run(argv: list[str], cwd: Path, what: str, ok: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess[bytes]:
    try:
        proc = subprocess.run(argv, cwd=cwd, capture_output=True, check=False, timeout=TIMEOUT, stdin=subprocess.DEVNULL)
    except OSError as exc:
        raise ToolError(f"cannot run `{what}`: {exc.strerror}") from None
    except subprocess.TimeoutExpired:
        raise ToolError(f"`{what}` did not finish in {TIMEOUT} s") from None
    if proc.returncode not in ok:
        lines = (proc.stderr or proc.stdout).decode("utf-8", "replace").strip().splitlines()
        detail = next((line for line in lines if "ERR" in line or "error" in line), lines[-1] if lines else "no output")
        raise ToolError(f"`{what}` failed (exit {proc.returncode}) in {cwd}: {detail[:300]}")
    return proc


def audit(project: Path) -> bytes:
    """``npm audit --json`` in ``project`` (exit 1 means "found vulnerabilities")."""
    return _run([npm(), "audit", "--json"], project, "npm audit --json", ok=(0, 1)).stdout


def _versions_of(data: object, name: str, source: str) -> list[str]:
    # `npm view NAME versions --json` prints a bare string when the package has one version
    if isinstance(data, str):
        return [data]
    if isinstance(data, list) and all(isinstance(v, str) for v in data):
        return list(data)
    raise StabfixError(f"{source}: the versions of {name!r} are not a list of strings")


class Versions:
    """The published versions of packages: from a stored map (``--versions FILE``) or ``npm view``."""

    def __init__(self, stored: dict[str, list[str]] | None, cwd: Path) -> None:
        self.stored = stored
        self.cwd = cwd
        self._cache: dict[str, list[str]] = {}

    @classmethod
    def load(cls, path: str | None, root: Path) -> Versions:
        if path is None:
            return cls(None, root)
        data, source = read_input(path, root)
        try:
            doc = json.loads(data.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise StabfixError(f"--versions {source}: not JSON ({exc})") from None
        if not isinstance(doc, dict):
            raise StabfixError(f"--versions {source}: expected an object mapping package names to version lists "
                               '(e.g. {"minimist": ["1.2.5", "1.2.6"]})')
        stored = {check_name(str(k), f"--versions {source}"): _versions_of(v, str(k), f"--versions {source}")
                  for k, v in doc.items()}
        return cls(stored, root)

    def get(self, name: str) -> list[str]:
        """The published versions of ``name`` (an error when a stored map lacks it)."""
        check_name(name, "package")
        if name in self._cache:
            return self._cache[name]
        if self.stored is not None:
            if name not in self.stored:
                raise StabfixError(f"--versions: no versions listed for {name!r}; add "
                                   f"`npm view {name} versions --json` to the file")
            versions = self.stored[name]
        else:
            what = f"npm view {name} versions --json"
            out = _run([npm(), "view", name, "versions", "--json"], self.cwd, what).stdout
            try:
                versions = _versions_of(json.loads(out.decode("utf-8", "replace") or "null"), name, what)
            except ValueError:
                raise ToolError(f"`{what}` printed something that is not JSON") from None
        self._cache[name] = versions
        return versions


def refresh_lock(project: Path, package_json: bytes, lock: bytes | None) -> bytes:
    """The package-lock.json that ``npm install --package-lock-only`` writes for the new package.json.

    It runs in a temporary copy (package.json, package-lock.json, .npmrc), so only the engine writes
    the project; ``--ignore-scripts``: nothing from the packages runs.
    """
    with tempfile.TemporaryDirectory(prefix="stabfix-npm-") as tmp:
        work = Path(tmp)
        (work / "package.json").write_bytes(package_json)
        if lock is not None:
            (work / "package-lock.json").write_bytes(lock)
        if (project / ".npmrc").is_file():
            shutil.copyfile(project / ".npmrc", work / ".npmrc")
        _run([npm(), "install", "--package-lock-only", "--ignore-scripts", "--no-audit", "--no-fund"], work,
             "npm install --package-lock-only")
        return (work / "package-lock.json").read_bytes()
