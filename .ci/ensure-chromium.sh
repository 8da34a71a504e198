#!/usr/bin/env bash
# The dashboard's browser tests drive Debian's chromium (never a downloaded browser): install it
# with apt-get when it is missing. Fails clearly when it cannot.
set -euo pipefail
readonly CHROMIUM=/usr/bin/chromium
if [ -x "$CHROMIUM" ]; then
  echo "found: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
  exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo > /dev/null; then
    echo "$CHROMIUM is missing and installing it needs root (no sudo)" >&2
    exit 1
  fi
  sudo="sudo -n"
fi
export DEBIAN_FRONTEND=noninteractive
echo "$CHROMIUM is missing: apt-get install chromium"
if ! $sudo apt-get update -qq || ! $sudo apt-get install -y -qq --no-install-recommends chromium; then
  echo "apt-get could not install chromium: the dashboard's browser tests cannot run" >&2
  exit 1
fi
[ -x "$CHROMIUM" ] || { echo "apt-get ran but $CHROMIUM is still missing" >&2; exit 1; }
echo "installed: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
