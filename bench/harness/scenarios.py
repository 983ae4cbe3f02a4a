"""The scenarios `bench/run <scenario>` knows: which dataset, which phases, server memory
settings and run lengths. Everything else (what a phase measures) lives in runner.py.
"""
import os
import subprocess
from dataclasses import dataclass, field

from . import datasets, util

PHASES_FULL = ("refs", "exact", "methods", "filtered", "cold", "insert", "vacuum")


@dataclass
class Scenario:
    """One named benchmark configuration."""
    name: str
    description: str
    dataset: str                        # a key of DATASETS
    metric: str = "cosine"
    settings: dict = field(default_factory=dict)    # server settings (postgresql.conf syntax)
    phases: tuple = PHASES_FULL
    ref_ef: tuple = (10, 20, 40, 80, 120, 200, 400, 800)
    sweep_points: int = 0               # 0: each method's full sweep; n: n values spread over it
    queries: int = 0                    # 0: all queries of the dataset
    exact_queries: int = 0              # queries for exact-scan passes (0: same as queries)
    pgbench_s: int = 5                  # seconds per pgbench throughput run
    insert_s: int = 5                   # seconds per insert-throughput run
    ref_min_time: float = 1.0           # seconds of measurement per reference point
    ref_build_threads: tuple = (1, 2)
    insert_pool: int = 20000
    scan_workers: tuple = (0, 2)        # exact-scan rate runs (phase "scan")
    # phase "memlimit": the measurement server runs in a memory cgroup (see memlimit.py)
    mem_limit: str = "256MiB"           # the cgroup's memory.limit_in_bytes (--mem-limit)
    mem_shared_buffers: str = "64MB"    # shared_buffers of the server inside the cgroup
    mem_queries: int = 200              # queries per sweep point (--queries)
    mem_warmup: int = 10                # warm-up queries after dropping the caches


def mem(shared_buffers, maintenance_work_mem, work_mem="64MB", workers=2):
    """The memory and parallelism settings every scenario states explicitly."""
    return {"shared_buffers": f"'{shared_buffers}'", "maintenance_work_mem": f"'{maintenance_work_mem}'",
            "work_mem": f"'{work_mem}'", "max_parallel_maintenance_workers": str(workers)}


# name -> (loader kind, parameters); synthetic sets are cached under bench/data/<name>/
DATASETS = {
    "smoke-20k-64": ("synthetic", dict(n=20_000, d=64, nq=200, seed=20240601, rank=8, noise=0.15)),
    "gmm-1m-128": ("synthetic", dict(n=1_000_000, d=128, nq=1000, seed=1, rank=16, noise=0.15)),
    "gmm-100k-768": ("synthetic", dict(n=100_000, d=768, nq=1000, seed=2, rank=24, noise=0.15)),
    "gmm-50k-1536": ("synthetic", dict(n=50_000, d=1536, nq=1000, seed=3, rank=24, noise=0.15)),
    "gmm-200k-768": ("synthetic", dict(n=200_000, d=768, nq=1000, seed=4, rank=24, noise=0.15)),
    "debian": ("debian", {}),
}

SCENARIOS = {s.name: s for s in [
    Scenario("quick", "CI smoke test (< 3 min): 20k x 64 synthetic set, short sweeps; checks that "
             "recall is computed and sane (exact scan recall must be 1.0), not speed",
             "smoke-20k-64", settings=mem("256MB", "256MB", "16MB"), sweep_points=3,
             ref_ef=(10, 40, 100), pgbench_s=2, insert_s=2, ref_min_time=0.3, insert_pool=5000),
    Scenario("debian", "real text: 62,666 x 256 Debian package descriptions, cosine, "
             "filters on section (correlated) and cat (independent, 1%)",
             "debian", settings=mem("1GB", "1GB")),
    Scenario("debian-l2", "the debian set with Euclidean distance", "debian", metric="l2",
             settings=mem("1GB", "1GB")),
    Scenario("gmm-1m-128", "synthetic 1,000,000 x 128 Gaussian mixture, cosine", "gmm-1m-128",
             settings=mem("4GB", "4GB"), exact_queries=100, pgbench_s=10, insert_s=10),
    Scenario("gmm-100k-768", "synthetic 100,000 x 768 Gaussian mixture, cosine", "gmm-100k-768",
             settings=mem("2GB", "2GB"), exact_queries=200),
    Scenario("gmm-50k-1536", "synthetic 50,000 x 1536 Gaussian mixture, cosine", "gmm-50k-1536",
             settings=mem("2GB", "2GB"), exact_queries=200),
    Scenario("exact768", "exact k-NN by sequential scan, ORDER BY embedding <-> $1 LIMIT 10 over "
             "100,000 x 768: rows scanned per second per core (max_parallel_workers_per_gather = 0), "
             "beside numpy brute force", "gmm-100k-768", metric="l2",
             settings=mem("1GB", "256MB"), phases=("scan",), queries=50),
    Scenario("memlimit", "larger than memory: 200,000 x 768 (cosine), each index built with plenty of "
             "memory, then searched by a server restarted inside a 256 MiB memory cgroup (shared_buffers "
             "64MB, OS page cache dropped): recall, QPS, blocks and disk reads per query",
             "gmm-200k-768", settings=mem("2GB", "2GB"), phases=("memlimit",), insert_pool=1000),
]}


def default_debian_dir(root):
    """../shared/datasets/debian-d256 relative to the repository root, if it exists; in a
    git worktree, also relative to the main checkout's root."""
    roots = [root]
    res = subprocess.run(["git", "-C", root, "rev-parse", "--path-format=absolute", "--git-common-dir"],
                         capture_output=True, text=True)
    if res.returncode == 0 and res.stdout.strip():
        roots.append(os.path.dirname(res.stdout.strip()))
    for r in roots:
        path = os.path.normpath(os.path.join(r, "..", "shared", "datasets", "debian-d256"))
        if os.path.isdir(path):
            return path
    return os.path.normpath(os.path.join(root, "..", "shared", "datasets", "debian-d256"))


def load_dataset(sc, root, data_dir, debian_dir, log, rows=None):
    """The scenario's dataset (generated and cached on first use for synthetic sets); rows
    makes a synthetic set of that many base rows instead (cached under its own name)."""
    kind, params = DATASETS[sc.dataset]
    if kind == "debian":
        if rows:
            raise util.UserError("--rows applies to synthetic datasets only")
        ds = datasets.load_debian(debian_dir or default_debian_dir(root), sc.metric)
    else:
        name = sc.dataset
        if rows and rows != params["n"]:
            params = dict(params, n=rows)
            name = f"{sc.dataset}-n{rows}"
        # synthetic sets are unit-norm, so cosine and L2 rank alike: one cache serves both
        ds = datasets.load_synthetic(name, data_dir=data_dir, log=log, **params)
        if sc.metric != ds.metric:
            ds.metric = sc.metric
    return datasets.subset_queries(ds, sc.queries or None)
