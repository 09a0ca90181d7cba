#!/usr/bin/env bash
# Installs the system pieces the tests need on a fresh Debian bookworm machine:
# Mesa's lavapipe from bookworm-backports (bookworm's own Mesa 22 is refused by Dawn)
# and Debian's Chromium for the browser suite. Idempotent: skips what is present.
set -euo pipefail
need_mesa=1
if dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null | grep -qE '^(2[5-9]|[3-9][0-9])\.'; then need_mesa=0; fi
need_chromium=1
if command -v chromium >/dev/null 2>&1; then need_chromium=0; fi
if [ "$need_mesa" = 0 ] && [ "$need_chromium" = 0 ]; then exit 0; fi
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
src=/etc/apt/sources.list.d/debian.sources
bp=/etc/apt/sources.list.d/mobilegrad-backports.sources
if [ "$need_mesa" = 1 ] && [ ! -f "$bp" ]; then
  uri=$(awk '/^URIs:/{print $2; exit}' "$src" 2>/dev/null || true)
  [ -n "$uri" ] || uri="http://deb.debian.org/debian"
  printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$uri" | $SUDO tee "$bp" >/dev/null
fi
$SUDO apt-get update -qq
export DEBIAN_FRONTEND=noninteractive
if [ "$need_mesa" = 1 ]; then $SUDO apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers >/dev/null; fi
if [ "$need_chromium" = 1 ]; then $SUDO apt-get install -y -qq chromium >/dev/null; fi
