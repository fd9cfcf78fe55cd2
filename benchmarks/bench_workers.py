#!/usr/bin/env python3
"""workers: ``stabfix apply workers --to 4 --check`` on LiteLLM's real CircleCI config (3,957 lines).

A is stabfix as a user runs it (locate every pytest ``-n``, splice, verify the edited file, diff).
B is a process that only loads the same file with ruamel.yaml's round-trip loader (``YAML().load``),
what a tool editing with ruamel would start with. Target: A/B <= 0.5. Also printed for reference:
the same 6-line edit by ``sed`` (a process that only rewrites the text, no YAML).

The config is ``../shared/real-world/litellm-circleci-config.yml``, beside the main checkout only:
without it the benchmark is skipped (``--config PATH`` times another file).

    python benchmarks/bench_workers.py [--pairs N] [--config PATH]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from _harness import REPO, STABFIX, Cmd, compare, compile_bytecode, emit, pairs_arg, python, skipped

DEFAULT_CONFIG = REPO.parent / "shared" / "real-world" / "litellm-circleci-config.yml"
LOAD = "import sys\nfrom ruamel.yaml import YAML\nwith open(sys.argv[1], encoding='utf-8') as fh:\n    YAML().load(fh)\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    args = ap.parse_args()
    pairs = pairs_arg(["--pairs", str(args.pairs)])
    if not args.config.is_file():
        emit([skipped("workers", f"{args.config} is absent (LiteLLM's real CircleCI config, ../shared only)")])
        return 0
    compile_bytecode()
    with tempfile.TemporaryDirectory(prefix="stabfix-bench-") as tmp:
        root = Path(tmp)
        (root / ".circleci").mkdir()
        config = root / ".circleci" / "config.yml"
        shutil.copyfile(args.config, config)
        lines = config.read_bytes().count(b"\n")
        stabfix = Cmd("stabfix workers", [*STABFIX, "apply", "workers", "--to", "4", "--check", "--quiet",
                                          "--root", str(root)], cwd=root, ok=(1,))
        emit([compare("workers", stabfix, Cmd("ruamel RT load", python("-c", LOAD, str(config))), pairs=pairs,
                      target=("<=", 0.5), note=f"{args.config.name}, {lines} lines"),
              compare("workers vs sed", stabfix,
                      Cmd("sed", ["sed", "-E", r"s/(pytest[^\n]*) -n [0-9]+/\1 -n 4/", str(config)]),
                      pairs=pairs, note="reference only: sed rewrites text and checks nothing")])
    return 0


if __name__ == "__main__":
    sys.exit(main())
