#!/bin/sh
# Installs the Debian packages OpenKeeper needs to build and test, only those missing.
# Used by `make`, `make run` and `make test`; safe to run again and again.
set -eu
pkgs="gcc make meson ninja-build pkg-config libuv1-dev libsqlite3-dev libjansson-dev
libinih-dev libsodium-dev libcmocka-dev libacl1-dev python3 python3-pytest clang-format procps psmisc
iproute2 bash"
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing missing Debian packages:$missing"
if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo
else
    SUDO=
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing
