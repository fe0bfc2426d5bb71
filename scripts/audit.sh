#!/usr/bin/env bash
# The supply-chain checks (make audit; docs/security.md):
#   1. bandit on the code (bot/ handlers/ knowledge/), settings in pyproject.toml [tool.bandit];
#   2. pip-audit on the locked dependencies (requirements.lock), every package or it fails.
#
# pip-audit needs a vulnerability service: PyPI's per-release JSON API (the default) or OSV
# (api.osv.dev). Where neither answers (a machine that reaches only a package mirror), pip-audit
# would skip every package and still print "No known vulnerabilities found"; --strict turns
# that into a failure, and this script says in two lines what failed and what to check.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN="${BIN:-.venv/bin}"
SERVICE="${PIP_AUDIT_SERVICE:-pypi}"

echo "audit: bandit on bot/ handlers/ knowledge/"
"$BIN/bandit" -q -c pyproject.toml -r bot handlers knowledge || {
    echo "audit: bandit found issues (above); fix them or explain each with '# nosec BXXX: reason'" >&2
    exit 1
}
echo "audit: bandit clean"

echo "audit: pip-audit on requirements.lock (vulnerability service: $SERVICE)"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if "$BIN/pip-audit" -r requirements.lock --require-hashes --strict --progress-spinner off \
    --vulnerability-service "$SERVICE" >"$log" 2>&1; then
    cat "$log"
    echo "audit: pip-audit clean"
    exit 0
fi
if grep -q "could not be audited\|ConnectionError\|Failed to resolve\|Max retries exceeded" "$log"; then
    echo "audit: pip-audit got no answer from the '$SERVICE' vulnerability service; NOTHING was audited:" >&2
    grep -m 1 "could not be audited\|ConnectionError\|Failed to resolve" "$log" | cut -c1-240 >&2
    echo "audit: check access to https://pypi.org/pypi/<name>/<version>/json (a mirror may not serve it)" \
        "or try PIP_AUDIT_SERVICE=osv (https://api.osv.dev)" >&2
    exit 3
fi
cat "$log" >&2
echo "audit: pip-audit found vulnerable dependencies (above); upgrade them in requirements.lock (make lock)" >&2
exit 1
