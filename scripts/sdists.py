"""PyPI sdists for the corpus scripts, tests and benchmarks: downloaded once, cached, unpacked.

``pip download --no-deps --no-binary NAME NAME==VERSION`` (not ``--no-binary :all:``, which would
also refuse wheels for the build dependencies pip installs to read the metadata). Downloads and
unpacking go through a private temporary folder and a rename, so parallel test workers never see a
partial archive or tree.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / ".cache" / "sdists"


def _names(name: str, version: str) -> list[str]:
    return [f"{name.replace('-', '_')}-{version}.tar.gz", f"{name}-{version}.tar.gz"]


def fetch_sdist(name: str, version: str, cache: Path = CACHE) -> Path:
    """The sdist archive of ``name==version`` in ``cache`` (downloaded with pip when missing)."""
    cache.mkdir(parents=True, exist_ok=True)
    for candidate in _names(name, version):
        if (cache / candidate).is_file():
            return cache / candidate
    with tempfile.TemporaryDirectory(dir=cache, prefix=".download-") as tmp:
        proc = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", name, f"{name}=={version}",
             "-d", tmp, "-q", "--disable-pip-version-check"],
            capture_output=True, text=True, check=False,
        )
        for candidate in _names(name, version):
            if (Path(tmp) / candidate).is_file():
                os.replace(Path(tmp) / candidate, cache / candidate)
                return cache / candidate
    raise RuntimeError(f"pip download {name}=={version} failed: {proc.stderr[-500:]}")


def unpack_sdist(name: str, version: str, cache: Path = CACHE) -> Path:
    """The unpacked source tree of ``name==version`` (cached next to the archive)."""
    archive = fetch_sdist(name, version, cache)
    target = cache / archive.name[: -len(".tar.gz")]
    if target.is_dir():
        return target
    tmp = Path(tempfile.mkdtemp(dir=cache, prefix=".unpack-"))
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(tmp, filter="data")
        (top,) = [p for p in tmp.iterdir() if p.is_dir()]
        try:
            top.rename(target)
        except OSError:
            if not target.is_dir():  # not a lost race with another worker
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target
