#!/bin/bash
# unit.sh -- build the PostgreSQL-free core with CMake and run its unit tests.
#
#   bash test/lib/unit.sh            Release build in build/
#   SANITIZE=1 bash test/lib/unit.sh ASan + UBSan build in build/asan/
#   WERROR=1 bash test/lib/unit.sh   warnings are errors
#
# Exits non-zero if configuring, building or any test fails; failing tests
# print their output.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$root/build
opts=(-DCMAKE_BUILD_TYPE=Release)
if [ -n "${SANITIZE:-}" ]; then
	build=$root/build/asan
	opts=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DVX_SANITIZE=ON)
fi
[ -n "${WERROR:-}" ] && opts+=(-DVX_WERROR=ON)
cmake -S "$root" -B "$build" "${opts[@]}" >/dev/null
cmake --build "$build" -j2
ctest --test-dir "$build" --output-on-failure -j2
