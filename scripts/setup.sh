#!/usr/bin/env bash
# Set up harmonix on a fresh Debian/Ubuntu machine: system libraries, a virtual
# environment in .venv, and the package with its test and playback extras.
# Safe to run again; it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
SYSTEM_PACKAGES=(libsndfile1 libportaudio2 sox)  # sox: the peer in scripts/bench_stimulus.py
# The HTML report test opens reports in headless Chromium; CI asks for it (it is large, so only on request).
if [ "${HARMONIX_REQUIRE_CHROMIUM:-0}" = "1" ]; then
  SYSTEM_PACKAGES+=(chromium)
fi
# The BIDS test validates the dataset it writes with the npm bids-validator (node >= 18); CI asks for it
# (HARMONIX_REQUIRE_BIDS_VALIDATOR=1), developers may (HARMONIX_BIDS_VALIDATOR=1). It is large (~700 MB).
BIDS_VALIDATOR_VERSION=1.15.0
WANT_BIDS_VALIDATOR=0
if [ "${HARMONIX_REQUIRE_BIDS_VALIDATOR:-0}" = "1" ] || [ "${HARMONIX_BIDS_VALIDATOR:-0}" = "1" ]; then
  WANT_BIDS_VALIDATOR=1
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    SYSTEM_PACKAGES+=(nodejs npm)
  fi
fi
# A bare Debian python3 lacks venv/ensurepip; only then is python3-venv needed.
if ! "$PYTHON" -c "import ensurepip, venv" >/dev/null 2>&1; then
  SYSTEM_PACKAGES+=(python3 python3-venv)
fi
missing=()
for pkg in "${SYSTEM_PACKAGES[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
    echo "setup: installing system packages: ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "setup: please install ${missing[*]} with your system's package manager" >&2
  fi
fi

if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[test,play,docs]"

if [ "$WANT_BIDS_VALIDATOR" = "1" ]; then
  # Project-local (.bids-validator/, ignored by git), pinned: tests/test_bids.py runs it from there.
  validator=.bids-validator/node_modules/.bin/bids-validator
  if [ ! -x "$validator" ] || [ "$("$validator" --version 2>/dev/null)" != "$BIDS_VALIDATOR_VERSION" ]; then
    echo "setup: installing bids-validator@$BIDS_VALIDATOR_VERSION (npm) into .bids-validator/"
    mkdir -p .bids-validator
    npm install --prefix .bids-validator --no-audit --no-fund --loglevel=error \
      "bids-validator@$BIDS_VALIDATOR_VERSION" >/dev/null
  fi
fi
echo "setup: done (.venv/bin/harmonix --help)"
