#!/usr/bin/env bash
# Set up hybrid-agent on Debian/Ubuntu: a virtual environment in .venv with the package installed,
# plus Debian's Chromium (for the browser fallback), bubblewrap (the code actions' sandbox) and
# python3-venv when they are missing.
# Usage: ./install.sh          the product
#        ./install.sh --dev    the product and the test tools (and Debian's PostgreSQL server binaries:
#                              the tests start a private server of their own)
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
apt_updated=""
apt_install() {
  echo "Installing Debian packages: $*"
  [ -n "$apt_updated" ] || { $sudo apt-get update -qq; apt_updated=1; }
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}

if ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null \
   && ! command -v google-chrome >/dev/null; then
  apt_install chromium
fi

# Code actions run inside bubblewrap namespaces (`--sandbox none` opts out where it cannot run).
if ! command -v bwrap >/dev/null; then
  apt_install bubblewrap
fi

# Debian's postgresql package keeps initdb and pg_ctl off PATH, in /usr/lib/postgresql/<version>/bin.
if [ -n "$extras" ] && ! command -v initdb >/dev/null \
   && ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
  apt_install postgresql
fi

# Debian ships venv's pip bootstrap separately (python3-venv); install it only when venv fails.
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv 2>/dev/null || { rm -rf .venv; apt_install python3-venv; python3 -m venv .venv; }
fi
echo "Installing hybrid-agent${extras} into .venv"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".${extras}"
echo "Ready: .venv/bin/hybrid --help"
