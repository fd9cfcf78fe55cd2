"""``stabfix triage``: sort the failures of a red CI run into categories and propose the fixers.

Inputs are CI step logs (plain text or gzip; timestamps, ANSI colours and CircleCI step banners are
understood) and pytest JUnit XML reports. The log is streamed in chunks with flat memory; only the
lines that can matter are decoded and parsed. The result (:class:`~codemods.commands.triage.model.Triage`)
renders as a table for people, as JSON for programs (schema in the README), and its proposed
commands can be run through :func:`codemods.apply` (``--apply``, ``--apply --write``).

Modules: :mod:`.logs` (reading), :mod:`.scan` (what a log says), :mod:`.results` (JUnit runs),
:mod:`.rules` (categories and proposals), :mod:`.core` (putting it together), :mod:`.render`,
:mod:`.runner` (``--apply``), :mod:`.history` (``--history``: other CI runs' record of a test) and
:mod:`.cli` (the click command).
"""

from __future__ import annotations

from codemods.commands.triage.core import triage
from codemods.commands.triage.model import Triage

__all__ = ["Triage", "triage"]
