"""Corpus check of codemods.edit.yamlsplice on real YAML files (LiteLLM's sdist and CI files).

For every string scalar of every file: each value character that the splicer maps to the source
must be that very character (the map is exact), and one alphanumeric character per scalar is
replaced in place through ``YamlSource.splice`` (all scalars of a file in one edit), which parses
the result again and checks that only those values changed. Prints the numbers; exit 1 on any
failure.

    python scripts/corpus_yamlsplice.py                  # downloads litellm==1.80.0 (sdist) into .cache/
    python scripts/corpus_yamlsplice.py DIR_OR_FILE ...  # any YAML files instead
"""

from __future__ import annotations

import argparse
import sys
import tarfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
REAL_WORLD = REPO.parent / "shared" / "real-world"
SDIST = ("litellm", "1.80.0")
sys.path.insert(0, str(Path(__file__).resolve().parent))  # scripts/ run by path or loaded by tests
import sdists  # noqa: E402


def fetch_sdist(cache: Path) -> Path:
    """The litellm sdist, downloaded once with pip (``--no-binary litellm``) into ``cache``."""
    return sdists.fetch_sdist(*SDIST, cache)


def yaml_from_sdist(archive: Path, dest: Path) -> list[Path]:
    out = []
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            if member.isfile() and member.name.endswith((".yml", ".yaml")):
                target = dest / member.name
                target.parent.mkdir(parents=True, exist_ok=True)
                extracted = tar.extractfile(member)
                if extracted is not None:
                    target.write_bytes(extracted.read())
                    out.append(target)
    return out


def check_file(path: Path, stats: dict[str, int], failures: list[str]) -> None:
    from codemods.edit.yamlsplice import YamlSource
    from codemods.errors import StabfixError

    try:
        text = path.read_bytes().decode("utf-8-sig")
        y = YamlSource(text, path.name)
    except (UnicodeDecodeError, StabfixError):
        stats["unparsable"] += 1
        return
    stats["files"] += 1
    edits = []
    for sc in y.scalars():
        if sc.node.tag != "tag:yaml.org,2002:str" or not sc.value:
            continue
        stats["scalars"] += 1
        stats[f"style {sc.style or 'plain'}"] += 1
        value = sc.value
        mapped = [i for i in range(len(value)) if sc.source_index(i) is not None]
        stats["chars"] += len(value)
        stats["mapped chars"] += len(mapped)
        for i in mapped:
            if text[sc.source_index(i)] != value[i]:  # type: ignore[index]
                failures.append(f"{path}:{sc.line}: value[{i}]={value[i]!r} maps to {text[sc.source_index(i)]!r}")
                break
        pick = next((i for i in mapped if value[i].isalnum()), None)
        if pick is not None:
            edits.append((sc, pick, pick + 1, "Z" if value[pick] != "Z" else "Y"))
    if edits:
        try:
            y.splice(edits)
            stats["splices"] += len(edits)
        except StabfixError as exc:
            failures.append(f"{path}: {exc.one_line()}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path)
    parser.add_argument("--cache", type=Path, default=REPO / ".cache" / "sdists")
    args = parser.parse_args(argv)

    if args.paths:
        files: list[Path] = []
        for p in args.paths:
            files += sorted(p.rglob("*.y*ml")) if p.is_dir() else [p]
        return check_files(files)
    import shutil
    import tempfile

    tmp = Path(tempfile.mkdtemp(prefix="corpus-yaml-"))
    try:
        files = yaml_from_sdist(fetch_sdist(args.cache), tmp)
        if REAL_WORLD.is_dir():
            files += sorted(REAL_WORLD.glob("*.yml"))
        else:
            print(f"note: {REAL_WORLD} is absent: the sdist's YAML files only")
        return check_files(files)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def check_files(files: list[Path]) -> int:
    stats: dict[str, int] = {k: 0 for k in ("files", "unparsable", "scalars", "chars", "mapped chars", "splices")}
    for k in ("plain", "|", ">", "'", '"'):
        stats[f"style {k}"] = 0
    failures: list[str] = []
    start = time.perf_counter()
    for f in files:
        check_file(f, stats, failures)
    elapsed = time.perf_counter() - start
    for key, value in stats.items():
        print(f"{key:>16}: {value}")
    share = stats["mapped chars"] / stats["chars"] if stats["chars"] else 0.0
    print(f"{'mapped share':>16}: {share:.4f}")
    print(f"{'failures':>16}: {len(failures)}")
    print(f"{'seconds':>16}: {elapsed:.1f}")
    for line in failures[:20]:
        print("FAIL", line)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
