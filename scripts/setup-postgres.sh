#!/usr/bin/env bash
# Install PostgreSQL from Debian's packages for the `migration --idempotent` oracle tests.
# Idempotent: does nothing when initdb/pg_ctl are already there. Installs only when running as
# root (CI containers); otherwise says what to install. The tests start their own throwaway
# cluster on a loopback port (tests/prisma_testlib.py), so no service is started here.
set -eu
find_bin() {
  command -v "$1" 2>/dev/null && return 0
  ls -1d /usr/lib/postgresql/*/bin/"$1" 2>/dev/null | sort -V | tail -n 1 | grep . && return 0
  return 1
}
if find_bin initdb >/dev/null && find_bin pg_ctl >/dev/null && find_bin psql >/dev/null; then
  echo "PostgreSQL already installed: $(find_bin initdb)"
  exit 0
fi
if [ "$(id -u)" != "0" ]; then
  echo "PostgreSQL is missing and this is not root: run 'sudo apt-get install -y postgresql' (the oracle tests skip without it)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# postgresql-common would create and start a default cluster: the tests do not need one
mkdir -p /etc/postgresql-common/createcluster.d
echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.d/stabfix.conf
apt-get install -y -qq --no-install-recommends postgresql >/dev/null
echo "PostgreSQL installed: $(find_bin initdb)"
