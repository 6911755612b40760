#!/usr/bin/env bash
# The machine-level things the tests need beyond the venv, set up where they are missing:
# PostgreSQL running on 127.0.0.1:5432 (the machine's own cluster), Debian's Chromium for the browser
# tests (never a downloaded browser build) and a CJK font for readable screenshots.
# Installing needs root (apt-get); without it, say what is missing and go on (those tests then fail
# with the same message).
set -uo pipefail
if ! pg_isready -h 127.0.0.1 -p 5432 >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start >/dev/null 2>&1 || true
fi
if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi "wqy"; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing Debian's chromium and fonts-wqy-microhei (browser tests) ..." >&2
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei; } >/dev/null \
      || echo "could not install chromium: the browser tests will fail (apt-get install -y chromium fonts-wqy-microhei)" >&2
  else
    echo "Debian's chromium is missing: the browser tests will fail (as root: apt-get install -y chromium fonts-wqy-microhei)" >&2
  fi
fi
exit 0
