"""Benchmark datasets: file formats, the real `debian` set, deterministic synthetic sets,
exact ground truth and recall.

A Dataset holds float32 base and query vectors (row number = id), the metric, the exact
top-100 neighbour ids of every query, and two integer attributes per row for filtered
queries: `section` (correlated with the vectors: the Debian section, or the mixture
component group for synthetic sets) and `cat` (independent, uniform over 100 values, so
about 1% selectivity). Every query carries the filter value of each attribute and the
exact filtered top-10.

Invariants: ids are 0-based base row numbers; ground truth is exact (brute force, float64
re-ranking, ties broken by the smaller id); synthetic sets are a pure function of their
parameters and seed, cached under bench/data/<name>/ and regenerated only when missing or
when the parameters recorded in meta.json differ.
"""
import csv
import json
import os
import time

import numpy as np

from . import util

GT_K = 100          # depth of the unfiltered ground truth
FILTER_K = 10       # depth of the filtered ground truth
CAT_VALUES = 100    # the independent attribute takes this many values (~1% each)
GEN_VERSION = 1     # bump when the synthetic generator changes: cached sets are rebuilt


# ---------------------------------------------------------------- file formats

def read_fvecs(path, limit=None):
    """Read a .fvecs file (int32 dim, then dim float32 per row) into an (n, d) array."""
    raw = np.fromfile(path, dtype=np.int32)
    d = int(raw[0])
    rows = raw.reshape(-1, d + 1)
    if limit is not None:
        rows = rows[:limit]
    return rows[:, 1:].copy().view(np.float32)


def read_ivecs(path):
    """Read a .ivecs file (int32 count, then count int32 per row) into an (n, k) array."""
    raw = np.fromfile(path, dtype=np.int32)
    k = int(raw[0])
    return raw.reshape(-1, k + 1)[:, 1:].copy()


def write_fvecs(path, x):
    """Write an (n, d) float32 array as .fvecs."""
    _write_vecs(path, np.ascontiguousarray(x, dtype=np.float32).view(np.int32))


def write_ivecs(path, x):
    """Write an (n, k) int32 array as .ivecs."""
    _write_vecs(path, np.ascontiguousarray(x, dtype=np.int32))


def _write_vecs(path, x32):
    """Write int32-typed rows with their length prefix, atomically (tmp file + rename)."""
    n, d = x32.shape
    out = np.empty((n, d + 1), np.int32)
    out[:, 0] = d
    out[:, 1:] = x32
    tmp = path + ".tmp"
    out.tofile(tmp)
    os.replace(tmp, path)


# ---------------------------------------------------------------- distances and ground truth

def distances(metric, q, x):
    """Exact float64 distances from one query q (d,) to rows x (m, d) under metric."""
    q = q.astype(np.float64)
    x = x.astype(np.float64)
    if metric == "l2":
        return np.sqrt(np.maximum(((x - q) ** 2).sum(axis=1), 0.0))
    if metric == "ip":
        return -(x @ q)
    if metric == "cosine":
        denom = np.linalg.norm(x, axis=1) * np.linalg.norm(q)
        with np.errstate(divide="ignore", invalid="ignore"):
            return 1.0 - (x @ q) / denom
    raise ValueError(f"unknown metric {metric}")


def _prepare(metric, x):
    """Rows transformed so that the metric's ranking is an inner-product ranking (or l2)."""
    if metric == "cosine":
        return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-30)
    return x


def exact_topk(metric, base, queries, k, chunk=65536, progress=None):
    """Exact top-k ids per query by brute force: float32 BLAS over base chunks for
    candidates (k + margin per chunk), then float64 re-ranking, ties by smaller id."""
    n = base.shape[0]
    kc = min(n, k + 16)
    qp = _prepare(metric, queries.astype(np.float32))
    cand_ids = np.empty((queries.shape[0], 0), np.int64)
    cand_sc = np.empty((queries.shape[0], 0), np.float32)
    for start in range(0, n, chunk):
        xb = _prepare(metric, base[start:start + chunk].astype(np.float32))
        if metric == "l2":
            # ||x||^2 - 2 q.x ranks like squared L2 (the ||q||^2 term is constant per query)
            sc = (xb * xb).sum(axis=1)[None, :] - 2.0 * (qp @ xb.T)
        else:
            sc = -(qp @ xb.T)
        m = min(kc, sc.shape[1])
        part = np.argpartition(sc, m - 1, axis=1)[:, :m]
        cand_ids = np.concatenate([cand_ids, part + start], axis=1)
        cand_sc = np.concatenate([cand_sc, np.take_along_axis(sc, part, axis=1)], axis=1)
        if cand_ids.shape[1] > 4 * kc:
            keep = np.argpartition(cand_sc, kc - 1, axis=1)[:, :kc]
            cand_ids = np.take_along_axis(cand_ids, keep, axis=1)
            cand_sc = np.take_along_axis(cand_sc, keep, axis=1)
        if progress:
            progress(min(n, start + chunk), n)
    out = np.empty((queries.shape[0], k), np.int32)
    for i in range(queries.shape[0]):
        ids = np.unique(cand_ids[i])
        dist = distances(metric, queries[i], base[ids])
        order = np.lexsort((ids, dist))[:k]
        out[i] = ids[order]
    return out


def filtered_topk(metric, base, queries, attr, qvalues, k=FILTER_K):
    """Exact top-k among base rows whose attr equals the query's value; -1 padded."""
    out = np.full((queries.shape[0], k), -1, np.int32)
    rows_by_value = {}
    for v in np.unique(qvalues):
        rows_by_value[int(v)] = np.nonzero(attr == v)[0]
    for i in range(queries.shape[0]):
        ids = rows_by_value[int(qvalues[i])]
        if len(ids) == 0:
            continue
        dist = distances(metric, queries[i], base[ids])
        order = np.lexsort((ids, dist))[:k]
        out[i, :len(order)] = ids[order]
    return out


class Recall:
    """Tie-tolerant recall against exact ground truth (the ann-benchmarks rule): a returned
    id counts when its exact distance is within a small tolerance of the k-th true
    neighbour's distance, so equal-distance rows at the boundary are not misses. Each
    query's true-neighbour count is min(k, ground-truth rows); duplicates count once."""

    def __init__(self, ds, gt, k):
        """Precompute the k-th true distance and the true-neighbour count of every query."""
        self.ds = ds
        self.k = k
        self.gt = gt[:, :k]
        self.kth = np.empty(gt.shape[0])
        self.nvalid = np.empty(gt.shape[0], np.int64)
        for i in range(gt.shape[0]):
            ids = self.gt[i][self.gt[i] >= 0]
            self.nvalid[i] = len(ids)
            self.kth[i] = distances(ds.metric, ds.queries[i], ds.base[ids]).max() if len(ids) else -np.inf

    def of_query(self, i, ids):
        """Recall of one query's returned ids (query row i)."""
        if self.nvalid[i] == 0:
            return 1.0
        ids = np.unique(np.asarray([r for r in ids if 0 <= r < self.ds.n], np.int64))
        if len(ids) == 0:
            return 0.0
        dist = distances(self.ds.metric, self.ds.queries[i], self.ds.base[ids])
        tol = 1e-5 * abs(self.kth[i]) + 1e-6
        hits = int((dist <= self.kth[i] + tol).sum())
        return min(hits, self.nvalid[i]) / self.nvalid[i]

    def mean(self, results, qids=None):
        """Mean recall over queries; results[j] are the ids returned for query qids[j]."""
        qids = range(len(results)) if qids is None else qids
        return float(np.mean([self.of_query(i, r) for i, r in zip(qids, results)]))


# ---------------------------------------------------------------- datasets

class Dataset:
    """Vectors, metric, attributes and exact ground truth of one benchmark dataset."""

    def __init__(self, name, metric, base, queries, gt, attrs, qattrs, fgt, notes=""):
        """Hold the arrays; recall calculators are built lazily."""
        self.name = name
        self.metric = metric
        self.base = base
        self.queries = queries
        self.gt = gt                    # (nq, 100) exact unfiltered ids
        self.attrs = attrs              # {"section": (n,), "cat": (n,)} int32
        self.qattrs = qattrs            # same keys, (nq,) filter value per query
        self.fgt = fgt                  # same keys, (nq, 10) exact filtered ids, -1 padded
        self.notes = notes
        self._recall = {}

    @property
    def n(self):
        """Number of base rows."""
        return self.base.shape[0]

    @property
    def dim(self):
        """Dimensions."""
        return self.base.shape[1]

    @property
    def nq(self):
        """Number of queries."""
        return self.queries.shape[0]

    def recall(self, k):
        """Recall calculator at depth k against the unfiltered ground truth."""
        if ("knn", k) not in self._recall:
            self._recall[("knn", k)] = Recall(self, self.gt, k)
        return self._recall[("knn", k)]

    def filtered_recall(self, attr):
        """Recall calculator at depth 10 against the filtered ground truth of attr."""
        if (attr, FILTER_K) not in self._recall:
            self._recall[(attr, FILTER_K)] = Recall(self, self.fgt[attr], FILTER_K)
        return self._recall[(attr, FILTER_K)]

    def selectivity(self, attr):
        """Fraction of base rows matching each query's filter value, (nq,)."""
        counts = np.bincount(self.attrs[attr], minlength=int(self.qattrs[attr].max()) + 1)
        return counts[self.qattrs[attr]] / self.n

    def describe(self):
        """One line for reports."""
        return f"{self.name}: {self.n:,} x {self.dim} base, {self.nq:,} queries, metric {self.metric}"


def _cat_attribute(n, nq, seed):
    """The independent attribute: uniform over CAT_VALUES values, seeded."""
    rng = np.random.default_rng(seed + 7919)
    return (rng.integers(0, CAT_VALUES, n).astype(np.int32),
            rng.integers(0, CAT_VALUES, nq).astype(np.int32))


MISSING_DEBIAN = """\
The `debian` dataset was not found at {path}.
It is made on this machine, not downloaded. Either
  * point the suite at an existing copy:  bench/run debian --data DIR
    (DIR holds base.fvecs, query.fvecs, gt_cos.ivecs, gt_l2.ivecs, metadata.csv, query_meta.csv), or
  * regenerate it (about 25 minutes on 2 cores, needs the Debian apt indexes and `fasttext`):
        OUT=/tmp/debian bash bench/datasets/make_debian.sh
    then run  bench/run debian --data /tmp/debian/d256"""


def load_debian(path, metric, nq=None, seed=42):
    """The real-text Debian package set (see bench/datasets/README.md)."""
    need = ["base.fvecs", "query.fvecs", f"gt_{'cos' if metric == 'cosine' else metric}.ivecs",
            "metadata.csv", "query_meta.csv"]
    if not path or not all(os.path.exists(os.path.join(path, f)) for f in need):
        raise util.UserError(MISSING_DEBIAN.format(path=path))
    base = read_fvecs(os.path.join(path, "base.fvecs"))
    queries = read_fvecs(os.path.join(path, "query.fvecs"), nq)
    tag = "cos" if metric == "cosine" else metric
    gt = read_ivecs(os.path.join(path, f"gt_{tag}.ivecs"))[:queries.shape[0]]
    base_sec = _csv_column(os.path.join(path, "metadata.csv"), "section")
    q_sec = _csv_column(os.path.join(path, "query_meta.csv"), "section")[:queries.shape[0]]
    names = sorted(set(base_sec) | set(q_sec))
    code = {s: i for i, s in enumerate(names)}
    section = np.array([code[s] for s in base_sec], np.int32)
    qsection = np.array([code[s] for s in q_sec], np.int32)
    cat, qcat = _cat_attribute(base.shape[0], queries.shape[0], seed)
    fgt = {}
    same = os.path.join(path, f"gt_{tag}_same_section.ivecs")
    if os.path.exists(same):
        fgt["section"] = read_ivecs(same)[:queries.shape[0], :FILTER_K]
    else:
        fgt["section"] = filtered_topk(metric, base, queries, section, qsection)
    fgt["cat"] = filtered_topk(metric, base, queries, cat, qcat)
    return Dataset("debian-d256" if base.shape[1] == 256 else f"debian-d{base.shape[1]}", metric,
                   base, queries, gt, {"section": section, "cat": cat},
                   {"section": qsection, "cat": qcat}, fgt,
                   notes=f"section: the Debian section ({len(names)} values, correlated with the vectors)")


def _csv_column(path, column):
    """One column of a CSV file with a header row, as a list of strings."""
    with open(path, newline="") as f:
        return [row[column] for row in csv.DictReader(f)]


def gaussian_mixture(n, d, nq, seed, rank, noise, spread=0.6, groups=64):
    """Embedding-like synthetic vectors, unit norm: a mixture of K = max(16, n/1000)
    components with Pareto-distributed sizes; each component is a random centre plus a
    random rank-`rank` subspace (Gaussian coefficients scaled by `spread`) plus isotropic
    noise, so the intrinsic dimension is low as in real embeddings. Queries are fresh draws
    from the same mixture. Returns base, queries and component ids (base and query)."""
    rng = np.random.default_rng(seed)
    k = max(16, (n + nq) // 1000)
    weights = rng.pareto(1.5, k) + 1.0
    weights /= weights.sum()
    centres = (rng.standard_normal((k, d)) / np.sqrt(d)).astype(np.float32)
    labels = rng.choice(k, size=n + nq, p=weights).astype(np.int32)
    x = np.empty((n + nq, d), np.float32)
    for c in range(k):
        idx = np.nonzero(labels == c)[0]
        if len(idx) == 0:
            continue
        basis = (rng.standard_normal((d, rank)) / np.sqrt(d)).astype(np.float32)
        z = rng.standard_normal((len(idx), rank)).astype(np.float32)
        e = (rng.standard_normal((len(idx), d)) / np.sqrt(d)).astype(np.float32)
        x[idx] = centres[c] + spread * (z @ basis.T) + noise * e
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    # component groups make the correlated attribute ("section")
    return x[:n], x[n:], labels[:n] % groups, labels[n:] % groups


def load_synthetic(name, n, d, nq, seed, rank, noise, data_dir, metric="cosine", log=print):
    """A cached Gaussian-mixture set (generated and ground-truthed on first use)."""
    params = {"generator": "gaussian_mixture", "version": GEN_VERSION, "n": n, "d": d, "nq": nq,
              "seed": seed, "rank": rank, "noise": noise, "metric": metric, "gt_k": GT_K}
    where = os.path.join(data_dir, name)
    meta_path = os.path.join(where, "meta.json")
    files = ["base.fvecs", "query.fvecs", "gt.ivecs", "attrs.ivecs", "qattrs.ivecs",
             "gt_section.ivecs", "gt_cat.ivecs"]
    cached = os.path.exists(meta_path) and all(os.path.exists(os.path.join(where, f)) for f in files)
    if cached:
        with open(meta_path) as f:
            cached = json.load(f).get("params") == params
    if not cached:
        os.makedirs(where, exist_ok=True)
        t0 = time.time()
        log(f"generating {name} ({n:,} x {d}, seed {seed}) into {where}")
        base, queries, sec, qsec = gaussian_mixture(n, d, nq, seed, rank, noise)
        cat, qcat = _cat_attribute(n, nq, seed)
        log(f"  vectors done in {time.time() - t0:.0f}s; exact top-{GT_K} ground truth by brute force")
        gt = exact_topk(metric, base, queries, GT_K,
                        progress=util.Progress(f"  ground truth {name}", log).update)
        fsec = filtered_topk(metric, base, queries, sec, qsec)
        fcat = filtered_topk(metric, base, queries, cat, qcat)
        write_fvecs(os.path.join(where, "base.fvecs"), base)
        write_fvecs(os.path.join(where, "query.fvecs"), queries)
        write_ivecs(os.path.join(where, "gt.ivecs"), gt)
        write_ivecs(os.path.join(where, "attrs.ivecs"), np.stack([sec, cat], axis=1))
        write_ivecs(os.path.join(where, "qattrs.ivecs"), np.stack([qsec, qcat], axis=1))
        write_ivecs(os.path.join(where, "gt_section.ivecs"), fsec)
        write_ivecs(os.path.join(where, "gt_cat.ivecs"), fcat)
        with open(meta_path, "w") as f:
            json.dump({"params": params, "seconds": round(time.time() - t0, 1)}, f, indent=1)
        log(f"  {name} ready in {time.time() - t0:.0f}s")
    base = read_fvecs(os.path.join(where, "base.fvecs"))
    queries = read_fvecs(os.path.join(where, "query.fvecs"))
    attrs = read_ivecs(os.path.join(where, "attrs.ivecs"))
    qattrs = read_ivecs(os.path.join(where, "qattrs.ivecs"))
    return Dataset(name, metric, base, queries, read_ivecs(os.path.join(where, "gt.ivecs")),
                   {"section": attrs[:, 0].copy(), "cat": attrs[:, 1].copy()},
                   {"section": qattrs[:, 0].copy(), "cat": qattrs[:, 1].copy()},
                   {"section": read_ivecs(os.path.join(where, "gt_section.ivecs")),
                    "cat": read_ivecs(os.path.join(where, "gt_cat.ivecs"))},
                   notes="section: mixture component group (64 values, correlated with the vectors)")


def subset_queries(ds, nq):
    """The same dataset restricted to its first nq queries (for shorter runs)."""
    if nq is None or nq >= ds.nq:
        return ds
    return Dataset(ds.name, ds.metric, ds.base, ds.queries[:nq], ds.gt[:nq], ds.attrs,
                   {a: v[:nq] for a, v in ds.qattrs.items()},
                   {a: v[:nq] for a, v in ds.fgt.items()}, ds.notes)


def insert_pool(ds, count, seed):
    """New vectors for the insert benchmark: midpoints of seeded random pairs of base rows
    (re-normalised for cosine), so inserts are realistic, distinct from the base, and
    never exact duplicates."""
    rng = np.random.default_rng(seed + 104729)
    a = rng.integers(0, ds.n, count)
    b = rng.integers(0, ds.n, count)
    x = (ds.base[a] + ds.base[b]) * 0.5
    if ds.metric == "cosine":
        x /= np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-30)
    return x.astype(np.float32), ds.attrs["section"][a], ds.attrs["cat"][b]
