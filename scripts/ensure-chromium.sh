#!/usr/bin/env bash
# Make sure Debian's Chromium and a CJK font are installed for the console's browser tests.
#
# Idempotent: does nothing when /usr/bin/chromium and the Noto CJK fonts are present; otherwise
# (as root, on Debian) installs the distribution's `chromium` and `fonts-noto-cjk` packages.
# Playwright drives this Chromium through its executable_path (tests/web/test_browser.py), so
# no browser is downloaded from anywhere else.
set -euo pipefail

have_all() {
    # Not `grep -q`: it stops reading early, fc-list then dies of SIGPIPE, and pipefail fails.
    command -v chromium >/dev/null && fc-list 2>/dev/null | grep -i "Noto Sans CJK" >/dev/null
}

if have_all; then
    echo "ensure-chromium: already installed ($(command -v chromium))"
    exit 0
fi

fail() {
    echo "ensure-chromium: $*" >&2
    exit 1
}

[[ "$(id -u)" -eq 0 ]] || fail "Chromium is not installed and installing it needs root; run: sudo $0"
command -v apt-get >/dev/null || fail "Chromium is not installed and apt-get is missing; install chromium and fonts-noto-cjk by hand"

apt-get update -qq || fail "apt-get update failed; check network access to the package mirrors"
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk fontconfig >/dev/null \
    || fail "apt-get install chromium fonts-noto-cjk failed (see the messages above)"
have_all || fail "chromium and fonts-noto-cjk were installed but are not found"
echo "ensure-chromium: installed $(command -v chromium)"
