"""The ``stabfix`` console script's entry point: stops cleanly on a signal that lands while it starts.

Importing the command line (click, PyYAML, the registry) takes tens of milliseconds, and much more on a
loaded machine. A Ctrl-C or SIGTERM in that window would print an import traceback (or end the process
by the signal). Nothing can have been written yet, so this module, which imports only the standard
library and :mod:`codemods.errors`, answers such a signal with the CLI's own line
(:func:`~codemods.errors.interrupted_line`) and exit code 130 until the CLI installs its handlers.
"""

from __future__ import annotations

import os
import signal
import sys
from types import FrameType

from codemods.errors import interrupted_line


def _while_starting(signum: int, frame: FrameType | None) -> None:
    os.write(2, (interrupted_line(0, "apply" in sys.argv[1:]) + "\n").encode())
    os._exit(130)


def main() -> None:
    """Console-script entry point: :func:`codemods.cli.main` behind the start-up signal handlers."""
    signal.signal(signal.SIGINT, _while_starting)
    signal.signal(signal.SIGTERM, _while_starting)
    from codemods.cli import main as cli_main

    cli_main()
