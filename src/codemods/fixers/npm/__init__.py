"""The npm fixers: ``npm-overrides`` (package.json from an npm audit report) and ``dockerfile-pins``
(``npm install -g`` pins in Dockerfiles).

Modules: :mod:`.audit` (reading ``npm audit --json`` reports, npm 7+), :mod:`.versions` (the first
patched version from an advisory's range and the published versions), :mod:`.tool` (running npm:
``npm audit``, ``npm view``, ``npm install --package-lock-only``), :mod:`.overrides` and
:mod:`.dockerfile` (the two fixers).
"""
