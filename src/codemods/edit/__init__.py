"""Format-preserving editing primitives, one per format: YAML splicing, shell words, Python module headers."""
