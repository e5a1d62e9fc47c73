#!/usr/bin/env bash
# Installs what building and testing Menpai needs, when missing; safe to run again.
# Sourced by scripts/demo and scripts/test.
set -euo pipefail

need_apt=()
have() { command -v "$1" >/dev/null 2>&1; }
pkg_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

# libclang1: bindgen needs it to build the camera backend (nokhwa → v4l2).
# The kiosk UI: X11 and Vulkan libraries; Xvfb, Mesa's software Vulkan and xdotool for its tests;
# a CJK font so Chinese renders. Headless Chromium and its WebDriver for the web pages;
# espeak-ng for the spoken calls. The terminal's system parts: systemd (systemd-analyze checks
# the units), dbus-daemon (a private bus for the D-Bus tests), cage (the units name it).
# python3-cairo draws the demo region's forms (content/make-demo-files); poppler-utils'
# pdftotext reads them back in the tests.
# postgresql-15: the regional server's schema on PostgreSQL is checked on a private cluster
# (initdb into a temporary directory; scripts/postgres); haproxy fronts a region's replicas
# (scripts/region and the failover test). rauc and squashfs-tools: the release process builds
# signed update bundles, the regional server checks an uploaded bundle's signature with
# `rauc info`, and the update tests build bundles of their own. systemd-journal-remote writes
# the journal files the "collect logs" test reads. libzinnia0 and its simplified-Chinese model:
# the writing pad's handwriting recognition (the agent opens the library at run time).
for pkg in build-essential pkg-config ca-certificates curl libclang1 \
  libx11-6 libxcursor1 libxi6 libxrandr2 libxkbcommon-x11-0 libvulkan1 mesa-vulkan-drivers \
  libgl1-mesa-dri libegl1 xvfb xauth xdotool fonts-wqy-microhei chromium chromium-driver espeak-ng \
  systemd dbus-daemon cage util-linux \
  python3-cairo poppler-utils postgresql-15 haproxy rauc squashfs-tools systemd-journal-remote \
  libzinnia0 tegaki-zinnia-simplified-chinese \
  ${MENPAI_EXTRA_PACKAGES:-}; do
  pkg_installed "$pkg" || need_apt+=("$pkg")
done

if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing ${need_apt[*]}" >&2
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if ! have cargo; then
  if [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
  else
    echo "setup: installing the Rust toolchain with rustup" >&2
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal -c clippy,rustfmt
    export PATH="$HOME/.cargo/bin:$PATH"
  fi
fi
if ! cargo clippy --version >/dev/null 2>&1 || ! cargo fmt --version >/dev/null 2>&1; then
  rustup component add clippy rustfmt
fi
