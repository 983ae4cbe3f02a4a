"""In-process reference systems measured in the same run on the same data: hnswlib and
faiss HNSW with the same graph parameters as our index methods, and numpy brute force
beside the exact scan.

Conventions, chosen to be comparable with one SQL client and with pgbench -c 2:
- build: the same rows in the same (shuffled) order as the SQL table, 1 thread and 2 threads;
- qps_1 / latencies: one query per call on 1 thread, repeated until at least `min_time`
  seconds have been measured;
- qps_2: all queries in one batch call on 2 threads;
- recall@100 asks for k=100 at the same ef (hnswlib then searches with max(ef, 100), faiss
  with ef as set: each library as a user would call it).
Cosine is an inner product over normalised vectors in faiss (same ranking).
"""
import ctypes
import os
import tempfile
import threading
import time

import numpy as np

from . import util


def _timed_loop(search_one, nq, min_time):
    """Run search_one(i) for every query, repeating passes until min_time has elapsed;
    returns the first pass's results and all latencies."""
    results, lat = [None] * nq, []
    t_start = time.perf_counter()
    first = True
    while first or time.perf_counter() - t_start < min_time:
        for i in range(nq):
            t = time.perf_counter()
            r = search_one(i)
            lat.append(time.perf_counter() - t)
            if first:
                results[i] = r
        first = False
    return results, lat


def _batch_qps(search_all, nq, min_time):
    """Queries per second of search_all() over all nq queries, repeated to min_time."""
    reps, t0 = 0, time.perf_counter()
    while reps == 0 or time.perf_counter() - t0 < min_time:
        search_all()
        reps += 1
    return reps * nq / (time.perf_counter() - t0)


def _add_in_chunks(add, n, name, chunk=50000):
    """Call add(start, end) over [0, n) in chunks, with progress lines for long builds
    (chunks change only the order in which rows enter the graph, not its parameters)."""
    prog = util.Progress(f"  {name} build")
    for a in range(0, n, chunk):
        add(a, min(n, a + chunk))
        prog.update(min(n, a + chunk), n)


def _point(ds, method, options, param, value, r10, r100, lat, qps2, build):
    """A result point in the suite's common layout."""
    stats = util.latency_stats(lat)
    return dict({"dataset": ds.name, "metric": ds.metric, "kind": "knn", "system": method.split("-")[0],
                 "method": method, "options": options, "search_param": param, "search_setting": value,
                 "recall_at_10": r10, "recall_at_100": r100, "qps_1": len(lat) / sum(lat), "qps_2": qps2},
                **stats, **build)


class HnswlibRef:
    """hnswlib HNSW (Debian python3-hnswlib)."""
    name = "hnswlib"

    def __init__(self, ds, order, graph):
        """Remember the data and load order; build() makes the index."""
        self.ds, self.order, self.graph = ds, order, graph
        self.index = None

    def build(self, threads):
        """Build from scratch with `threads` threads; returns seconds."""
        import hnswlib
        idx = hnswlib.Index(space=self.ds.metric, dim=self.ds.dim)
        idx.init_index(max_elements=self.ds.n, M=self.graph["M"],
                       ef_construction=self.graph["ef_construction"], random_seed=100)
        idx.set_num_threads(threads)
        x = self.ds.base[self.order]
        t0 = time.perf_counter()
        _add_in_chunks(lambda a, b: idx.add_items(x[a:b], self.order[a:b]), len(x), self.name)
        secs = time.perf_counter() - t0
        self.index = idx
        return secs

    def size(self):
        """Serialized index size in bytes."""
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "h.bin")
            self.index.save_index(path)
            return os.path.getsize(path)

    def set_search(self, ef):
        """Set ef for the following searches."""
        self.index.set_ef(ef)

    def search(self, q, k, threads):
        """Ids (nq, k) of a batch search."""
        self.index.set_num_threads(threads)
        labels, _ = self.index.knn_query(q, k=k)
        return labels


class FaissHnswRef:
    """faiss IndexHNSWFlat (Debian python3-faiss)."""
    name = "faiss-hnsw"

    def __init__(self, ds, order, graph):
        """Remember the data and load order; build() makes the index."""
        self.ds, self.order, self.graph = ds, order, graph
        self.index = None

    def _faiss(self):
        """The faiss module (imported on first use)."""
        import faiss
        return faiss

    def prep(self, x):
        """Vectors as faiss sees them (normalised for cosine)."""
        x = np.ascontiguousarray(x, dtype=np.float32)
        if self.ds.metric == "cosine":
            x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-30)
        return x

    def metric_type(self):
        """The faiss metric for the dataset's metric."""
        faiss = self._faiss()
        return faiss.METRIC_L2 if self.ds.metric == "l2" else faiss.METRIC_INNER_PRODUCT

    def build(self, threads):
        """Build from scratch with `threads` OpenMP threads; returns seconds."""
        faiss = self._faiss()
        faiss.omp_set_num_threads(threads)
        idx = faiss.IndexHNSWFlat(self.ds.dim, self.graph["M"], self.metric_type())
        idx.hnsw.efConstruction = self.graph["ef_construction"]
        x = self.prep(self.ds.base[self.order])
        t0 = time.perf_counter()
        _add_in_chunks(lambda a, b: idx.add(x[a:b]), len(x), self.name)
        secs = time.perf_counter() - t0
        self.index = idx
        return secs

    def size(self):
        """Serialized index size in bytes."""
        return int(self._faiss().serialize_index(self.index).nbytes)

    def set_search(self, ef):
        """Set efSearch for the following searches."""
        self.index.hnsw.efSearch = ef

    def search(self, q, k, threads):
        """Ids (nq, k) of a batch search, mapped back to base row numbers."""
        self._faiss().omp_set_num_threads(threads)
        _, pos = self.index.search(self.prep(q), k)
        return np.where(pos >= 0, self.order[np.maximum(pos, 0)], -1)


class NumpyFlatRef:
    """In-process brute force beside the exact scan: one matrix-vector product per query
    (OpenBLAS pinned to one thread) plus a partial sort; `threads` Python threads share the
    queries (numpy releases the GIL in BLAS). Debian's faiss is a generic (non-AVX2) build,
    so its flat index would understate what a brute-force scan can do."""
    name = "numpy-flat"

    def __init__(self, ds, order, graph=None):
        """Normalise (cosine) or precompute squared norms (l2) once."""
        self.ds = ds
        x = ds.base.astype(np.float32)
        if ds.metric == "cosine":
            x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-30)
        self.x = np.ascontiguousarray(x)
        self.sqnorm = (x * x).sum(axis=1) if ds.metric == "l2" else None

    def build(self, threads):
        """Nothing to build."""
        return 0.0

    def size(self):
        """No index structure."""
        return None

    def set_search(self, ef):
        """No search setting."""
        pass

    def _one(self, q, k):
        """Top-k ids of one query."""
        s = self.x @ q
        score = self.sqnorm - 2.0 * s if self.sqnorm is not None else -s
        top = np.argpartition(score, k - 1)[:k]
        return top[np.argsort(score[top], kind="stable")]

    def search(self, q, k, threads):
        """Ids (nq, k); the queries are split over `threads` threads."""
        out = np.empty((q.shape[0], k), np.int64)

        def work(rows):
            """Search the given query rows."""
            for i in rows:
                out[i] = self._one(q[i], k)
        with BlasThreads(1):
            parts = [range(j, q.shape[0], threads) for j in range(threads)]
            pool = [threading.Thread(target=work, args=(p,)) for p in parts[1:]]
            for t in pool:
                t.start()
            work(parts[0])
            for t in pool:
                t.join()
        return out


class BlasThreads:
    """Context manager: run OpenBLAS with n threads, then restore the previous count
    (a no-op when the BLAS is not OpenBLAS)."""

    def __init__(self, n):
        """Find OpenBLAS's thread control, if that is the BLAS in use."""
        self.n = n
        self.old = None
        try:
            self.lib = ctypes.CDLL("libblas.so.3")
            self.lib.openblas_get_num_threads()
        except (OSError, AttributeError):
            self.lib = None

    def __enter__(self):
        """Switch to n threads."""
        if self.lib is not None:
            self.old = self.lib.openblas_get_num_threads()
            self.lib.openblas_set_num_threads(self.n)

    def __exit__(self, *exc):
        """Restore the previous thread count."""
        if self.lib is not None:
            self.lib.openblas_set_num_threads(self.old)


def run_graph_ref(ref, ds, ef_values, build_threads, min_time, log=util.log):
    """Build a graph reference (each thread count in build_threads; the last build is
    kept) and sweep ef; returns result points."""
    build = {"build_s": None, "build_s_parallel": None}
    for t in build_threads:
        log(f"{ref.name}: building with {t} thread(s), M={ref.graph['M']}, "
            f"ef_construction={ref.graph['ef_construction']}")
        secs = ref.build(t)
        build["build_s" if t == 1 else "build_s_parallel"] = secs
        log(f"{ref.name}: built in {secs:.1f}s")
    build["index_bytes"] = ref.size()
    build["wal_bytes"] = None
    opts = {"M": ref.graph["M"], "ef_construction": ref.graph["ef_construction"]}
    points = []
    for ef in ef_values:
        ref.set_search(ef)
        points.append(_measure(ref, ds, opts, "ef", ef, build, min_time))
        p = points[-1]
        log(f"{ref.name} ef={ef}: recall@10 {p['recall_at_10']:.4f}, {p['qps_1']:,.0f} QPS (1 thread), "
            f"{p['qps_2']:,.0f} QPS (2 threads)")
    return points


def run_flat_ref(ds, order, min_time, log=util.log):
    """In-process brute force: one point (recall 1.0 expected) plus rows scanned per second."""
    ref = NumpyFlatRef(ds, order)
    p = _measure(ref, ds, {}, None, None, {"build_s": None, "build_s_parallel": None,
                                          "index_bytes": None, "wal_bytes": None}, min_time)
    p["rows_per_s_per_core"] = p["qps_1"] * ds.n
    log(f"numpy-flat: recall@10 {p['recall_at_10']:.4f}, {p['qps_1']:,.0f} QPS (1 thread) = "
        f"{p['rows_per_s_per_core'] / 1e6:,.1f} M rows/s per core")
    return p


def _measure(ref, ds, opts, param, value, build, min_time):
    """One sweep point: recall@100 (batch), timed single-query loop, 2-thread batch."""
    r100 = ds.recall(100).mean(ref.search(ds.queries, 100, 1))
    results, lat = _timed_loop(lambda i: ref.search(ds.queries[i:i + 1], 10, 1)[0], ds.nq, min_time)
    r10 = ds.recall(10).mean(results)
    qps2 = _batch_qps(lambda: ref.search(ds.queries, 10, 2), ds.nq, min_time)
    return _point(ds, ref.name, opts, param, value, r10, r100, lat, qps2, build)
