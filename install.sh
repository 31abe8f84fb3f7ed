#!/usr/bin/env bash
# Set up hybrid-agent on Debian/Ubuntu: a virtual environment in .venv with the package installed,
# plus Debian's Chromium (for the browser fallback) and python3-venv when they are missing.
# Usage: ./install.sh          the product
#        ./install.sh --dev    the product and the test tools
set -euo pipefail
cd "$(dirname "$0")"

extras=""
case "${1:-}" in
  --dev) extras="[dev]" ;;
  "") ;;
  *) echo "usage: ./install.sh [--dev]" >&2; exit 2 ;;
esac

python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || {
  echo "hybrid-agent needs Python 3.11 or newer; python3 is $(python3 --version 2>&1)." >&2; exit 1; }

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
missing=()
[ -x .venv/bin/python ] || python3 -c 'import ensurepip' 2>/dev/null || missing+=("python3-venv")
if ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null \
   && ! command -v google-chrome >/dev/null; then
  missing+=("chromium")
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
echo "Installing hybrid-agent${extras} into .venv"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".${extras}"
echo "Ready: .venv/bin/hybrid --help"
