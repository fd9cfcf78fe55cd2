"""The auth fixer family: FastAPI auth overrides (`auth`) and patch-to-override conversion (`auth-unpatch`)."""
