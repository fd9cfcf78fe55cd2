#!/usr/bin/env bash
# Installs what the test suite needs beyond Python packages, when it can:
# PostgreSQL from Debian's packages (for the migration oracle tests). Idempotent; never fails
# the build: tests that need a missing service skip with the reason.
set -u
here="$(cd "$(dirname "$0")" && pwd)"
for script in "$here"/setup-*.sh; do
  [ "$script" = "$here/setup-services.sh" ] && continue
  [ -f "$script" ] || continue
  echo "== $(basename "$script")"
  bash "$script" || echo "warning: $(basename "$script") failed; the tests that need it will skip"
done
exit 0
