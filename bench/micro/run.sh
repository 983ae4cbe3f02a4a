#!/bin/bash
# run.sh [BENCHMARK_ARGS...] -- build the micro-benchmarks (Release, build/)
# and run them; arguments go to Google Benchmark, e.g.
#   bash bench/micro/run.sh --benchmark_filter='l2sq_f32/' --benchmark_repetitions=3
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$root/build" -j2 --target vx_micro_bench >&2
exec "$root/build/vx_micro_bench" "$@"
