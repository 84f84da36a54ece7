#!/usr/bin/env bash
# What `make test` and `make bench` need beyond Python, found or installed before the first
# test runs, so a missing piece is one clear line at the start instead of a failure deep
# inside a fixture ten minutes later.
#
#   scripts/prereqs.sh chromium   prints the path of a usable Chromium (installs Debian's
#                                 package when it can: Debian, as root or with sudo)
#   scripts/prereqs.sh postgres   makes sure PostgreSQL answers where the tests look for it
#   scripts/prereqs.sh wrk        the load generator of the HTTP benchmarks
#   scripts/prereqs.sh npm        Node.js 20+ with npm, for the Mini App
#
# Every message goes to stderr; `chromium` prints only the path on stdout.
set -euo pipefail

say() { printf 'make: %s\n' "$*" >&2; }

# apt-get as root (or through sudo) on a Debian-family machine; fails quietly otherwise.
apt_install() {
  command -v apt-get >/dev/null 2>&1 || return 1
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null || return 1
    sudo="sudo -n"
  fi
  say "installing $* from Debian's packages (apt-get)"
  $sudo apt-get update -qq >&2 || return 1
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >&2 || return 1
}

find_chromium() {
  if [ -n "${CHROMIUM_PATH:-}" ]; then
    [ -x "$CHROMIUM_PATH" ] && { echo "$CHROMIUM_PATH"; return 0; }
    say "CHROMIUM_PATH=$CHROMIUM_PATH is not an executable file"
    return 2
  fi
  local name
  # Where playwright-core finds Debian's package by default first; the list can be narrowed
  # (the tests of this script do) with PREREQS_BROWSERS.
  for name in ${PREREQS_BROWSERS:-/usr/bin/chromium chromium chromium-browser google-chrome google-chrome-stable}; do
    if command -v "$name" >/dev/null 2>&1; then
      command -v "$name"
      return 0
    fi
  done
  return 1
}

need_chromium() {
  local status=0
  find_chromium || status=$?
  [ "$status" -eq 0 ] && return 0
  [ "$status" -eq 2 ] && exit 1
  # The browser suite drives Debian's chromium with playwright-core; playwright's own
  # browser download is not used, so this is the only way a browser arrives.
  if apt_install chromium && find_chromium; then
    return 0
  fi
  say "no Chromium or Chrome found: install one (Debian: apt-get install -y chromium) or set CHROMIUM_PATH"
  exit 1
}

# host and port of the PostgreSQL the tests use (TEST_POSTGRES_URL, else 127.0.0.1:5432)
pg_target() {
  python3 - <<'EOF'
import os
from urllib.parse import urlsplit
url = urlsplit(os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
print(url.hostname or "127.0.0.1", url.port or 5432)
EOF
}

answers() {
  python3 - "$1" "$2" <<'EOF'
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2).close()
except OSError:
    sys.exit(1)
EOF
}

need_postgres() {
  case ",${TEST_DATABASES:-sqlite,postgresql}," in
    *,postgresql,*) ;;
    *) return 0 ;;
  esac
  local host port
  read -r host port < <(pg_target)
  answers "$host" "$port" && return 0
  # On a machine that has a local cluster (this project's machines do), start it, when the
  # tests look for it where it listens.
  if [ "$host:$port" = "127.0.0.1:5432" ] && [ "$(id -u)" -eq 0 ] \
    && command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    local version
    for version in $(ls /etc/postgresql); do
      say "starting the local PostgreSQL $version cluster"
      pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2 || true
    done
    for _ in $(seq 1 30); do
      answers "$host" "$port" && return 0
      sleep 1
    done
  fi
  say "nothing answers on PostgreSQL's $host:$port: start it, set TEST_POSTGRES_URL, or run the SQLite half with TEST_DATABASES=sqlite make test"
  exit 1
}

need_wrk() {
  command -v wrk >/dev/null 2>&1 && return 0
  apt_install wrk && command -v wrk >/dev/null 2>&1 && return 0
  say "the HTTP benchmarks drive load with wrk: install it (Debian: apt-get install -y wrk)"
  exit 1
}

need_npm() {
  if command -v npm >/dev/null 2>&1 && command -v node >/dev/null 2>&1; then
    local major
    major=$(node -p 'process.versions.node.split(".")[0]')
    [ "$major" -ge 20 ] && return 0
    say "Node.js $(node --version) is too old for the Mini App: install Node.js 20 or newer"
    exit 1
  fi
  say "the Mini App's tests need Node.js 20+ with npm: install them (https://nodejs.org)"
  exit 1
}

for what in "$@"; do
  case "$what" in
    chromium | postgres | wrk | npm) "need_$what" ;;
    *) say "scripts/prereqs.sh: unknown prerequisite '$what'"; exit 2 ;;
  esac
done
