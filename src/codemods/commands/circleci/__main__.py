"""``python -m codemods.commands.circleci``: the ``stabfix ci`` group standalone."""

from codemods.commands.circleci.cli import main

main()
