"""The stabfix version (read by the build backend and `stabfix --version`)."""

__version__ = "0.1.0"
