#!/usr/bin/env python3
"""Start-up: ``stabfix list`` (target under 0.15 s) and ``stabfix --version`` (under 0.25 s).

B is a bare ``python -c pass`` of the same interpreter, measured alternately, so that the ratio
shows what stabfix adds to the interpreter's own start-up on a machine of any speed or load.

    python benchmarks/bench_list.py [--pairs N]
"""

from __future__ import annotations

import sys

from _harness import STABFIX, Cmd, compare, compile_bytecode, emit, pairs_arg, python


def main() -> int:
    pairs = max(pairs_arg(), 9)  # each run is short: more pairs for a stable median
    compile_bytecode()
    bare = Cmd("python -c pass", python("-c", "pass"))
    emit([
        compare("list", Cmd("stabfix list", [*STABFIX, "list"]), bare, pairs=pairs, limit=0.15,
                note="B is the interpreter's own start-up"),
        compare("--version", Cmd("stabfix --version", [*STABFIX, "--version"]), bare, pairs=pairs, limit=0.25),
    ])
    return 0


if __name__ == "__main__":
    sys.exit(main())
