"""Shared machinery of the suppression fixers (``noqa``, ``type-ignore``, ``pyright-ignore``).

* :mod:`.comments` — parse a line's trailing comment into directives and render merged ones;
* :mod:`.reports` — read ruff / mypy / pyright reports into :class:`~.reports.Diagnostic` items;
* :mod:`.placement` — find strings, comments and continuations, and pick the line that can hold
  the directive (or say why none can);
* :mod:`.runner` — run the tool itself for ``--run`` / ``--until-clean``;
* :mod:`.fixer` — the file fixer the three registered fixers are thin subclasses of.
"""
