"""The engine and the fixer contract: discovery, planning, validation, diffs and writes. Imports no fixer."""
