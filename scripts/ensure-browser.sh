#!/usr/bin/env bash
# Install Debian's Chromium and its chromedriver for the browser tests (tests/browser) when
# they are missing. Idempotent: does nothing when both are already there. Never downloads a
# browser build of its own.
set -euo pipefail

if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
  exit 0
fi
if [ "$(id -u)" != "0" ]; then
  echo "chromium/chromedriver missing; run as root or: apt-get install chromium chromium-driver" >&2
  exit 0  # the browser tests skip (and fail under CI=true)
fi
echo "installing Debian's chromium and chromium-driver for the browser tests" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
