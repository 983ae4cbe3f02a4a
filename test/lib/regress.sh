#!/bin/bash
# regress.sh STAGE_DIR [TEST...] -- run pg_regress on a temporary instance
# started from the staged installation (see stage.sh), as the postgres OS
# user (PostgreSQL refuses to run as root). With no TEST, runs the Makefile's
# REGRESS list. Results go to STAGE_DIR/regress.
set -euo pipefail
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
root=$(cd "$(dirname "$0")/../.." && pwd)
stage=$(realpath -m "${1:?usage: regress.sh STAGE_DIR [TEST...]}")
shift
bindir=$stage$("$PG_CONFIG" --bindir)
pg_regress=$(dirname "$("$PG_CONFIG" --pgxs)")/../test/regress/pg_regress
if [ $# -eq 0 ]; then
	set -- $(make -C "$root" -s --no-print-directory print-REGRESS PG_CONFIG="$PG_CONFIG")
fi
out=$stage/regress
rm -rf "$out"
mkdir -p "$out"
chown -R postgres "$out"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
printf 'jit = off\n' > "$out/temp.conf"
cd "$out"
as_pg "$pg_regress" --temp-instance="$out/instance" --bindir="$bindir" \
	--inputdir="$root" --outputdir="$out" --load-extension=vector \
	--temp-config="$out/temp.conf" "$@"
