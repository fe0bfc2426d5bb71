#!/usr/bin/env bash
# Make sure the PostgreSQL server binaries (initdb, pg_ctl, postgres) are installed.
#
# Idempotent: if some /usr/lib/postgresql/<version>/bin/initdb exists it does nothing;
# otherwise (as root, on Debian/Ubuntu) it installs the distribution's `postgresql` package.
# The tests start their own throwaway cluster (tests/pgserver.py) and never use the
# package's default cluster, whether or not apt started it.
set -euo pipefail

find_initdb() {
    # Newest version first; prints nothing when none is installed.
    ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1
}

initdb_path="$(find_initdb)"
if [[ -n "$initdb_path" ]]; then
    echo "ensure-postgres: already installed ($(dirname "$initdb_path"))"
    exit 0
fi

fail() {
    echo "ensure-postgres: $*" >&2
    exit 1
}

[[ "$(id -u)" -eq 0 ]] || fail "PostgreSQL is not installed and installing it needs root; run: sudo $0"
command -v apt-get >/dev/null || fail "PostgreSQL is not installed and apt-get is missing; install the PostgreSQL server by hand"

apt-get update -qq || fail "apt-get update failed; check network access to the package mirrors"
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null \
    || fail "apt-get install postgresql failed (see the messages above)"

initdb_path="$(find_initdb)"
[[ -n "$initdb_path" ]] || fail "postgresql was installed but no /usr/lib/postgresql/*/bin/initdb was found"
echo "ensure-postgres: installed postgresql ($(dirname "$initdb_path"))"
