"""``python -m codemods``: the ``stabfix`` command, for environments without the console script."""

from codemods.cli import main

main()
