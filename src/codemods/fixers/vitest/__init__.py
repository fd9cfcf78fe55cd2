"""The ``vitest`` fixer family: typing delay and per-test timeouts in Vitest test files.

* :mod:`.syntax` -- tree-sitter (TypeScript / TSX grammars): parsing, syntax errors, literal values;
* :mod:`.tests` -- the tests and suites a file defines, with the full names Vitest gives them;
* :mod:`.reports` -- Vitest's JSON and JUnit reports read as the tests that timed out;
* :mod:`.splice` -- appending an item to an object or argument list, byte for byte elsewhere;
* :mod:`.fixer` -- the fixer itself (``stabfix apply vitest``).
"""
