"""Sample stand-in for the litellm package (only what the proxy tests need)."""

__version__ = "1.80.0"
