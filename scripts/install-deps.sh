#!/bin/sh
# Installs the Debian packages OpenKeeper needs to build and test, only those missing.
# Used by `make`, `make run` and `make test`; safe to run again and again.
set -eu
pkgs="gcc make meson ninja-build pkg-config libuv1-dev libsqlite3-dev libjansson-dev
libinih-dev libsodium-dev libcmocka-dev libacl1-dev python3 python3-pytest clang-format clang procps psmisc
python3-prometheus-client
iproute2 bash openssl
libcurl4-gnutls-dev"
pkgs="$pkgs libxml2-dev resource-agents" # the ocf type (docs/OCF.md)
pkgs="$pkgs libmicrohttpd-dev libgnutls28-dev" # lkweb, the web console (docs/WEB.md)
pkgs="$pkgs chromium" # the dashboard's browser test (tests/browser, docs/DASHBOARD.md)
pkgs="$pkgs python3-pytest-xdist" # the scenario suite runs its tests in parallel (make scenario)
missing=""
pkgs="$pkgs scdoc libsystemd-dev man-db groff-base bash-completion" # docs/PACKAGING.md
# The systemd type (docs/SYSTEMD.md): sd-bus (libsystemd-dev above); its tests run a real
# `systemd --user` fenced in namespaces (util-linux's unshare) and query it with python3-dbus.
pkgs="$pkgs systemd util-linux python3-dbus"
pkgs="$pkgs shellcheck perl" # tests/scenario/test_templates.py (templates/)
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo
else
    SUDO=
fi
if [ -n "$missing" ]; then
    echo "installing missing Debian packages:$missing"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing
fi
# node and npm for the browser test's playwright-core, only when missing (this machine's come
# from nodesource, whose nodejs must not be replaced by Debian's).
command -v node >/dev/null && command -v npm >/dev/null ||
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nodejs npm
b="$(dirname "$0")/../tests/browser"; [ -e "$b/node_modules/playwright-core/package.json" ] ||
    (cd "$b" && npm ci --no-audit --no-fund --loglevel=error) || echo "npm ci failed: the browser test retries"
# libFuzzer's runtime (make fuzz) is in clang's libclang-rt-N-dev, which clang only
# recommends: named after the version of the clang installed.
v=$(clang --version 2>/dev/null | sed -n 's/.*clang version \([0-9]*\).*/\1/p' | head -n 1)
if [ -n "$v" ] && ! dpkg-query -W -f='${Status}' "libclang-rt-$v-dev" 2>/dev/null |
    grep -q "install ok installed"; then
    echo "installing missing Debian packages: libclang-rt-$v-dev"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "libclang-rt-$v-dev"
fi
