"""CI files as data: where pytest runs in CircleCI, GitHub Actions, Makefiles, tox and pyproject, and splicing them."""
