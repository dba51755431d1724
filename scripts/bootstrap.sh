#!/usr/bin/env bash
# Install what SMEB needs on a fresh Debian machine: a Python venv with the project,
# and with --test also npm packages, Debian's chromium and PostgreSQL binaries.
# Safe to run again: every step checks first.
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "SMEB needs Python 3.11 or newer; $PYTHON is $("$PYTHON" --version 2>&1)" >&2
  exit 1
fi

apt_install() {
  # apt-get needs root; say what is missing rather than fail obscurely.
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { echo "need root (or sudo) to install Debian packages: $*" >&2; exit 1; }
    sudo="sudo"
  fi
  if [ ! -f .venv/.apt-updated ]; then
    $sudo apt-get update -qq
    mkdir -p .venv && touch .venv/.apt-updated
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
if [ "$want_test" = 1 ]; then
  # The test extra: pytest and the structure checks (import-linter, ruff, mypy; tests/test_code_checks.py).
  .venv/bin/python -m pip install -q -e '.[test]'
else
  .venv/bin/python -m pip install -q -e .
fi

# WeasyPrint (certificate PDFs) needs Pango and HarfBuzz from Debian.
if ! ldconfig -p | grep -q 'libpangoft2-1.0.so.0'; then
  apt_install libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b fonts-dejavu-core
fi

if [ "$want_test" = 1 ]; then
  if ! command -v chromium >/dev/null; then
    echo "installing Debian's chromium for the browser tests"
    apt_install chromium fonts-dejavu-core
  fi
  if ! command -v ffmpeg >/dev/null; then
    apt_install ffmpeg         # the video-statement test renders a short clip it can seek in
  fi
  if ! command -v redis-server >/dev/null; then
    apt_install redis-server   # the Redis nonce-store tests start their own server
  fi
  # PHP for the real Moodle the Moodle tests start (tests/e2e/moodle/, ../shared/moodle/README.md).
  # Its own apt-get call: nodejs/npm in the same call conflict with the machine's Node.js.
  if ! command -v php >/dev/null || ! php -m | grep -qx pgsql; then
    echo "installing Debian's PHP for the Moodle tests"
    apt_install php-cli php-pgsql php-xml php-mbstring php-curl php-zip php-gd php-intl php-soap php-bcmath php-readline
  fi
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    apt_install nodejs npm
  fi
  if [ -f package-lock.json ]; then
    npm ci --silent --no-audit --no-fund >/dev/null
  fi
  # PostgreSQL: the tests use the server on 127.0.0.1:5432 when it answers, otherwise
  # they start a throw-away cluster from the installed binaries.
  if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null && ! command -v initdb >/dev/null; then
    if ! (command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432); then
      echo "installing PostgreSQL binaries for a throw-away test server"
      apt_install postgresql
    fi
  fi
  # Ralph, the independent upstream LRS of the tests, in its own venv (its pins clash with ours).
  .venv/bin/python -c 'from tests.support.ralph import ensure_venv; ensure_venv()'
fi
