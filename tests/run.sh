#!/usr/bin/env bash
# The one test command (README, "Two commands"; CI runs exactly this from .ci/run). Installs what
# the tests need when it is missing — Debian's chromium, CJK fonts and poppler, and Node.js
# (apt-get, as root or with password-less sudo), then the pinned node modules of tests/browser —
# and runs every test: `cargo test --release`, with any arguments given to it.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf 'tests/run.sh: %s\n' "$*" >&2; }

has() { [ -x "$(command -v "$1" 2>/dev/null)" ]; }

missing=()
# The browser tests run $CHROMIUM, else /usr/bin/chromium (tests/browser/flows.mjs).
[ -n "${CHROMIUM:-}" ] || [ -x /usr/bin/chromium ] || missing+=(chromium)
fc-list ':lang=zh' family 2>/dev/null | grep -q . || missing+=(fonts-noto-cjk)
has pdftotext || missing+=(poppler-utils)
has node && has npm || missing+=(nodejs npm)

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    as_root=()
  elif has sudo && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
  else
    say "the tests need ${missing[*]}; run this as root, or first: sudo apt-get install ${missing[*]}"
    exit 1
  fi
  if ! has apt-get; then
    say "the tests need ${missing[*]} (Debian package names) and this machine has no apt-get: install them, then run this again"
    exit 1
  fi
  say "installing ${missing[*]} with apt-get"
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# playwright-core 1.65 needs Node.js 20 or later: Debian 13's nodejs, not Debian 12's (18).
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  say "the browser driver needs Node.js 20 or later and this machine has $(node --version) (Debian 12: use NodeSource's nodejs 20)"
  exit 1
fi

modules=tests/browser/node_modules
if [ ! -d "$modules/playwright-core" ] || [ ! -d "$modules/axe-core" ]; then
  say "installing the pinned browser driver (npm ci in tests/browser)"
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error
fi

cargo test --release "$@"
say "all tests passed in $((SECONDS / 60)) min $((SECONDS % 60)) s"
