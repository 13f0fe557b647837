#!/usr/bin/env bash
# Headless Chromium (Debian's package) for the test that renders `continuous analytics report` and screenshots it.
# Idempotent; without root or apt-get it only warns, and the rendering test then skips with a message.
set -uo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null 2>&1 || true
fi
if [ ! -x /usr/bin/chromium ]; then
  echo "chromium: /usr/bin/chromium not installed; the HTML report rendering test will skip" >&2
fi
exit 0
