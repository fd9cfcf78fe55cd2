"""``python -m codemods``: the ``stabfix`` command, for environments without the console script."""

from codemods._entry import main

main()
