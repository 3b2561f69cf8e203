#!/bin/sh
# Install what is missing, build, and run osmo-uigw in the foreground on its embedded defaults:
# VTY on 127.0.0.1:4290, CTRL on 127.0.0.1:4291, SQLite file osmo-uigw.db in the top folder.
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
sh contrib/deps.sh build
[ -x configure ] || autoreconf -fi
mkdir -p build
cd build
[ -f Makefile ] || ../configure --enable-werror
make -j"$(nproc)"
cd "$top"
exec build/src/osmo-uigw/osmo-uigw -c etc/osmo-uigw.cfg
