"""Sample stand-in for litellm-proxy-extras (schema and migrations)."""
