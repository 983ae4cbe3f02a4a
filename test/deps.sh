#!/bin/bash
# deps.sh -- install every Debian 12 package the project needs to build, test,
# demo and benchmark, non-interactively. Idempotent: when everything is
# installed (and the PostgreSQL server and its headers are the same version)
# it returns at once without touching apt.
#
# All packages go to apt in one transaction, so that installing
# postgresql-server-dev-15 also upgrades an older postgresql-15 to the same
# minor release (PGXS and the server must agree). Needs root to install;
# without root it only checks and says what is missing.
set -euo pipefail

pkgs=(
	# server, headers/PGXS, contrib (pg_prewarm, pg_stat_statements for benchmarks)
	postgresql-15 postgresql-server-dev-15 postgresql-contrib
	# C++20 toolchain, CMake for the unit tests, SIMD and io_uring headers
	build-essential g++ make cmake libxsimd-dev liburing-dev
	libgtest-dev libbenchmark-dev
	# TAP tests (PostgreSQL::Test::Cluster needs IPC::Run)
	perl libipc-run-perl
	# benchmarks and demo-data tooling (run with /usr/bin/python3)
	python3 python3-numpy python3-psycopg python3-matplotlib python3-hnswlib python3-faiss
	libopenblas0-pthread
	# misc tools the scripts use
	gzip util-linux
)

# Print the packages that are not fully installed.
missing() {
	local p
	for p in "${pkgs[@]}"; do
		[ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null)" = "ii " ] || echo "$p"
	done
}

# True when the server and the PGXS headers come from the same release.
versions_match() {
	[ "$(dpkg-query -W -f='${Version}' postgresql-15 2>/dev/null)" = \
		"$(dpkg-query -W -f='${Version}' postgresql-server-dev-15 2>/dev/null)" ]
}

todo=$(missing)
if [ -z "$todo" ] && versions_match; then
	exit 0
fi

if [ "$(id -u)" != 0 ]; then
	echo "deps.sh: not root, cannot install. Missing or mismatched packages:" >&2
	echo "${todo:-postgresql-15 / postgresql-server-dev-15 versions differ}" | sed 's/^/  /' >&2
	echo "deps.sh: run as root: apt-get install ${pkgs[*]}" >&2
	exit 1
fi

echo "deps.sh: installing: $(echo ${todo:-postgresql-15 postgresql-server-dev-15 (version sync)})" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >&2
apt-get install -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${pkgs[@]}" >&2

todo=$(missing)
if [ -n "$todo" ] || ! versions_match; then
	echo "deps.sh: still missing after apt-get install: ${todo:-(postgresql-15 and postgresql-server-dev-15 versions differ)}" >&2
	exit 1
fi
echo "deps.sh: done" >&2
