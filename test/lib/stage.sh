#!/bin/bash
# stage.sh STAGE_DIR -- build the extension and install it into a private,
# relocated copy of the PostgreSQL installation under STAGE_DIR.
#
# Debian's PostgreSQL finds its share and lib directories relative to the
# postgres binary, so a copy of bin/ plus symlink trees of lib/, share/ and
# the server headers is a complete installation that we can install into
# without touching the system one (and several checkouts can test side by
# side). Prints the staged bindir on the last line.
set -euo pipefail
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
root=$(cd "$(dirname "$0")/../.." && pwd)
stage=$(realpath -m "${1:?usage: stage.sh STAGE_DIR}")
bindir=$("$PG_CONFIG" --bindir)
pkglibdir=$("$PG_CONFIG" --pkglibdir)
sharedir=$("$PG_CONFIG" --sharedir)
incdir=$("$PG_CONFIG" --includedir-server)

if [ ! -x "$stage$bindir/postgres" ]; then
	mkdir -p "$stage$bindir" "$stage$(dirname "$pkglibdir")" "$stage$(dirname "$sharedir")"
	cp -a "$bindir/." "$stage$bindir/"
	cp -as "$pkglibdir" "$stage$(dirname "$pkglibdir")/"
	cp -as "$sharedir" "$stage$(dirname "$sharedir")/"
fi
# the server headers too, so that the staged pg_config can build other
# extensions against what we install (extension/vector/*.h; test 055); before
# our install, which then adds real files beside the links
if [ ! -e "$stage$incdir/postgres.h" ]; then
	mkdir -p "$stage$(dirname "$incdir")"
	cp -as "$incdir" "$stage$(dirname "$incdir")/"
fi
make -C "$root" -s -j"$(nproc)" PG_CONFIG="$PG_CONFIG" ${WERROR:+WERROR=1} >&2
make -C "$root" -s install PG_CONFIG="$PG_CONFIG" DESTDIR="$stage" >&2
# test-only base scripts of earlier versions (TAP 050), never in a real install
make -C "$root" -s install-upgrade-bases PG_CONFIG="$PG_CONFIG" DESTDIR="$stage" >&2
chmod -R a+rX "$stage"
echo "$stage$bindir"
