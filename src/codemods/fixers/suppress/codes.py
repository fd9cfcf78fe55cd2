"""What a tool's rule code looks like: the one grammar a code must match before it may land in a comment.

Its own module (no JSON decoder, no report model) so that readers of codes outside the fixers, such
as ``stabfix triage`` scanning a CI log, check them without importing the report machinery.
"""

from __future__ import annotations

import re

#: what a code that may land in a comment looks like, per tool: ruff and flake8 rule codes
#: (``E501``, ``PLR2004``, ``FURB101``), mypy error codes (``attr-defined``), pyright rule names
#: (``reportAttributeAccessIssue``)
CODE_GRAMMAR = {
    "ruff": re.compile(r"[A-Z]{1,10}[0-9]{1,6}"),
    "mypy": re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*"),
    "pyright": re.compile(r"[A-Za-z][A-Za-z0-9]{0,79}"),
}
