#!/bin/bash
# tap.sh STAGE_DIR [TEST.pl...] -- run the TAP tests (test/t/*.pl by default)
# against the staged installation (see stage.sh) with prove, as the postgres
# OS user when started as root (PostgreSQL refuses to run as root).
#
# PostgreSQL::Test::Cluster (shipped by postgresql-server-dev-15 under PGXS)
# finds initdb/pg_ctl/postgres through PATH, so the staged bindir goes first;
# it needs PG_REGRESS for --config-auth and writes its instances and logs
# under $TESTDIR/tmp_check. Each test file runs in its own prove call and
# TESTDIR (STAGE_DIR/tap/<name>), so one line per file says ok or FAILED:
#   tap 001_replica.pl ... ok
# A failing file's verbose output and the tail of its logs follow its line.
# Exit status: 0 when every file passed.
set -uo pipefail
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
root=$(cd "$(dirname "$0")/../.." && pwd)
stage=$(realpath -m "${1:?usage: tap.sh STAGE_DIR [TEST.pl...]}")
shift
bindir=$stage$("$PG_CONFIG" --bindir)
pgxs_src=$(realpath -m "$(dirname "$("$PG_CONFIG" --pgxs)")/..")
perl_lib=$pgxs_src/test/perl
pg_regress=$pgxs_src/test/regress/pg_regress
[ $# -gt 0 ] || set -- "$root"/test/t/*.pl
[ -x "$bindir/postgres" ] || { echo "tap.sh: no staged server in $bindir (run stage.sh)" >&2; exit 2; }
[ -f "$perl_lib/PostgreSQL/Test/Cluster.pm" ] || { echo "tap.sh: PostgreSQL::Test::Cluster not found in $perl_lib" >&2; exit 2; }

as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
out=$stage/tap
rm -rf "$out"
mkdir -p "$out"
[ "$(id -u)" = 0 ] && chown postgres "$out"

failed=0
for t in "$@"; do
	t=$(realpath "$t")
	name=$(basename "$t")
	dir=$out/${name%.pl}
	as_pg mkdir -p "$dir"
	# env -i keeps root's environment (HOME, PG* variables) out of the test.
	as_pg env -i PATH="$bindir:/usr/bin:/bin" LANG=C.UTF-8 HOME="$dir" \
		PG_REGRESS="$pg_regress" TESTDIR="$dir" \
		PG_TEST_TIMEOUT_DEFAULT="${PG_TEST_TIMEOUT_DEFAULT:-180}" \
		VX_ROOT="$root" ${PG_TEST_NOCLEAN:+PG_TEST_NOCLEAN=1} \
		bash -c 'cd "$TESTDIR" && exec prove -v -I "$1" -I "$VX_ROOT/test/lib" "$2"' _ "$perl_lib" "$t" >"$dir/prove.log" 2>&1
	rc=$?
	if [ $rc = 0 ]; then
		echo "tap $name ... ok"
	else
		failed=$((failed + 1))
		echo "tap $name ... FAILED"
		echo "---- $dir/prove.log"
		cat "$dir/prove.log"
		for log in "$dir"/tmp_check/log/*; do
			[ -f "$log" ] || continue
			echo "---- tail of $log"
			tail -n 60 "$log"
		done
		echo "----"
	fi
done
[ $failed = 0 ]
