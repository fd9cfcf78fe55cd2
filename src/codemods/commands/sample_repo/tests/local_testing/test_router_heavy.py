"""Memory-heavy router tests: they must share one xdist worker (xdist_group)."""

import os
import sys

sys.path.insert(0, os.path.abspath("../.."))

import pytest


def _record(name):
    path = os.environ.get("STABFIX_WORKER_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(f"{name} {os.environ.get('PYTEST_XDIST_WORKER', 'main')}\n")


def test_router_cache_warmup():
    _record("test_router_cache_warmup")
    assert sum(range(1000)) == 499500


def test_router_fallbacks():
    _record("test_router_fallbacks")
    assert sorted([3, 1, 2]) == [1, 2, 3]


@pytest.mark.parametrize("n", [1, 2, 3])
def test_router_load_balancing(n):
    _record(f"test_router_load_balancing[{n}]")
    assert n > 0
