#!/usr/bin/python3
"""hnswlib_ref.py -- hnswlib reference numbers for bench/tools/hnsw_core_bench.cpp.

Builds hnswlib (Debian python3-hnswlib) on the same fvecs data and graph
parameters (M = m, ef_construction) with 1 and 2 threads, then reports
recall@10 against the dataset's ground truth and single-thread QPS over a sweep
of ef. QPS is one batched knn_query over all queries with num_threads=1 (best
of --repeat passes), comparable with the C++ bench's loop; the per-call loop
figure (one knn_query per query) shows the Python overhead.

  /usr/bin/python3 bench/tools/hnswlib_ref.py [--data DIR] [--metric cos|l2]
      [--m 16] [--efc 64] [--threads 1,2] [--ef 10,20,40,64,100,200] [--repeat 5]
"""
import argparse
import time

import hnswlib
import numpy as np


def read_vecs(path, dtype):
    """Rows of an fvecs/ivecs file: int32 count, then count 4-byte values."""
    raw = np.fromfile(path, dtype=np.int32)
    dim = raw[0]
    return raw.reshape(-1, dim + 1)[:, 1:].view(dtype).copy()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/work/shared/datasets/debian-d256")
    ap.add_argument("--metric", default="cos", choices=["cos", "l2"])
    ap.add_argument("--m", type=int, default=16)
    ap.add_argument("--efc", type=int, default=64)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--ef", default="10,20,40,64,100,200")
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()

    base = read_vecs(f"{a.data}/base.fvecs", np.float32)
    queries = read_vecs(f"{a.data}/query.fvecs", np.float32)
    gt = read_vecs(f"{a.data}/gt_{a.metric}.ivecs", np.int32)[:, :10]
    n, dim = base.shape
    space = "cosine" if a.metric == "cos" else "l2"
    print(f"hnswlib {getattr(hnswlib, '__version__', '?')}: {n} x {dim}, {len(queries)} queries, space {space}")

    for threads in [int(t) for t in a.threads.split(",")]:
        index = hnswlib.Index(space=space, dim=dim)
        index.init_index(max_elements=n, M=a.m, ef_construction=a.efc, random_seed=100)
        t0 = time.perf_counter()
        index.add_items(base, np.arange(n), num_threads=threads)
        build = time.perf_counter() - t0
        print(f"build threads={threads} M={a.m} efc={a.efc}: {build:.2f} s")
        index.set_num_threads(1)
        for ef in [int(e) for e in a.ef.split(",")]:
            index.set_ef(max(ef, 10))
            # Batched, one thread: no per-query Python overhead; best of --repeat passes.
            best = float("inf")
            for _ in range(a.repeat):
                t0 = time.perf_counter()
                labels, _ = index.knn_query(queries, k=10, num_threads=1)
                best = min(best, time.perf_counter() - t0)
            hits = sum(len(np.intersect1d(labels[q], gt[q])) for q in range(len(queries)))
            # One call per query, as a client loop would.
            t0 = time.perf_counter()
            for q in range(len(queries)):
                index.knn_query(queries[q:q + 1], k=10)
            loop = time.perf_counter() - t0
            print(f"  ef={ef:<4} recall@10={hits / (10 * len(queries)):.4f}  QPS={len(queries) / best:8.0f}"
                  f"  (per-call loop {len(queries) / loop:.0f})")


if __name__ == "__main__":
    main()
