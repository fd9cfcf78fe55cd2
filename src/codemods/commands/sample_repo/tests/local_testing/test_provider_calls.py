"""Tests that talk to an upstream provider (stand-in): flaky by nature."""

import os


def test_completion_retries_on_connection_error():
    attempts_file = os.environ.get("STABFIX_ATTEMPTS_FILE")
    if attempts_file:
        count = int(open(attempts_file).read() or 0) if os.path.exists(attempts_file) else 0
        with open(attempts_file, "w") as fh:
            fh.write(str(count + 1))
        if count == 0:
            raise ConnectionError("APIConnectionError: Connection error.")
    assert True
