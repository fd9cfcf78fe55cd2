"""TOML reading for every layer: the standard library's ``tomllib``, or ``tomli`` before Python 3.11.

Import it where a TOML file is read, not at the top of a module that may not read one: most runs
read no TOML file but pyproject.toml, and tomllib costs a few milliseconds to import.
"""

from __future__ import annotations

import sys

if sys.version_info >= (3, 11):
    from tomllib import TOMLDecodeError, loads
else:  # pragma: no cover
    from tomli import TOMLDecodeError, loads

__all__ = ["TOMLDecodeError", "loads"]
