"""Runs one scenario end to end: dataset, in-process references, private server, exact
scan, every index method whose access method exists, then the report (markdown on
stdout, JSON + PNG under bench/results/) and the sanity checks.

Phase order per SQL system (the exact scan first, then each index method):
build (serial, dropped; then 2 parallel workers, kept) -> prewarm -> search sweep ->
filtered queries -> cold cache -> inserts -> delete 10% + VACUUM -> drop the index ->
restore the table. The `memlimit` phase (memlimit.py) instead builds each method once and
searches it from a server restarted inside a memory cgroup. The checks verify the harness
(the exact scan must have recall 1.0, references and indexes must reach non-trivial
recall), never speed.
"""
import hashlib
import os
import time
import traceback

import numpy as np
import psycopg

import methods as methods_mod  # bench/methods.py, the plug-in point (bench/ is on sys.path)

from . import datasets, memlimit, pg, refs, report, scenarios, sqlbench, util


# fields every JSON point carries (null where they do not apply)
REQUIRED_FIELDS = ("dataset", "method", "options", "search_setting", "recall_at_10", "recall_at_100", "qps_1",
                   "qps_2", "p50_ms", "p95_ms", "p99_ms", "build_s", "index_bytes", "wal_bytes")


class Checks:
    """Named pass/fail checks, printed as `N passed, M failed` at the end."""

    def __init__(self):
        """No checks yet."""
        self.items = []

    def check(self, name, ok, detail=""):
        """Record one check."""
        self.items.append({"name": name, "ok": bool(ok), "detail": detail})
        if not ok:
            util.log(f"CHECK FAILED: {name} {detail}")

    @property
    def failed(self):
        """Number of failed checks."""
        return sum(1 for c in self.items if not c["ok"])

    @property
    def passed(self):
        """Number of passed checks."""
        return sum(1 for c in self.items if c["ok"])


def spread(values, count):
    """count values spread evenly over a sorted list (all of them when count is 0)."""
    if not count or count >= len(values):
        return list(values)
    idx = np.linspace(0, len(values) - 1, count).round().astype(int)
    return [values[i] for i in sorted(set(idx))]


def run(args, root):
    """Run the scenario named in args; returns the process exit status."""
    sc = scenarios.SCENARIOS[args.scenario]
    if "memlimit" in sc.phases:
        ok, why = memlimit.available()
        if not ok:
            util.log(f"{memlimit.SKIP_MESSAGE} ({why})")
            print(f"{memlimit.SKIP_MESSAGE} ({why})")
            print("\n0 passed, 0 failed")
            return 0
        mem_limit = memlimit.parse_size(getattr(args, "mem_limit", None) or sc.mem_limit)
    if args.queries:
        if "memlimit" in sc.phases:     # the sweep's query count; the rest stay for warm-up
            sc.mem_queries = args.queries
        else:
            sc.queries = args.queries
    if args.metric:
        sc.metric = args.metric
    graph = {"M": args.m, "ef_construction": args.ef_construction}
    checks = Checks()
    notices = []
    started = time.strftime("%Y-%m-%dT%H:%M:%S")
    t_start = time.time()

    data_dir = getattr(args, "data_cache", None) or os.path.join(root, "bench", "data")
    ds = scenarios.load_dataset(sc, root, data_dir, args.data, util.log, getattr(args, "rows", None))
    util.log(f"dataset {ds.describe()}")
    order = np.random.default_rng(args.seed).permutation(ds.n)
    qids = np.arange(ds.nq)
    exact_qids = qids[:sc.exact_queries] if sc.exact_queries else qids

    points = []
    wanted = [m.strip() for m in args.methods.split(",") if m.strip()] if args.methods else \
        [n for n, m in methods_mod.METHODS.items() if not m.opt_in]
    if args.methods == "none":
        wanted = []
    unknown = [m for m in wanted if m not in methods_mod.METHODS]
    if unknown:
        raise util.UserError(f"unknown method(s) {unknown}; bench/methods.py defines {list(methods_mod.METHODS)}")
    ref_names = [] if args.refs == "none" else [r.strip() for r in args.refs.split(",")]

    # ---- in-process references (no server needed)
    if "refs" in sc.phases:
        points += run_refs(sc, ds, order, graph, ref_names, checks)
    if "scan" in sc.phases:
        flat = refs.run_flat_ref(ds, order, sc.ref_min_time)
        flat["kind"] = "scan"
        points.append(flat)

    # ---- the private server
    bindir = pg.stage(root, args.stage or os.path.join("/tmp", f"vx-bench-stage-{_root_tag(root)}"))
    settings = dict(sc.settings)
    # huge_pages() reserves the pages and adds huge_pages=on to settings before the server exists
    with pg.huge_pages(settings, args.huge_pages), \
            pg.Instance(bindir, settings, port=args.port, keep=args.keep) as inst:
        server = {"version": inst.server_version(), "port": inst.port, "settings": dict(inst.settings)}
        util.log(f"server {server['version']} on port {inst.port}, data in {inst.dir}")
        util.log("settings: " + ", ".join(f"{k}={v}" for k, v in sc.settings.items()) + ", jit=off")
        pool = datasets.insert_pool(ds, sc.insert_pool, args.seed)
        load = sqlbench.setup(inst, ds, order, pool)
        util.log(f"table: {load['table_bytes'] / 2**20:.1f} MiB, load WAL {load['load_wal_bytes'] / 2**20:.1f} MiB")
        sqlbench.prewarm(inst)

        if "scan" in sc.phases:
            points += run_scan(sc, inst, ds, qids, checks)
        if "exact" in sc.phases:
            points += run_exact(sc, inst, ds, exact_qids, args, checks)
        if "memlimit" in sc.phases:
            mem_points, mem_info = run_memlimit(sc, inst, ds, wanted, graph, mem_limit, checks, notices)
            points += mem_points
        if "methods" in sc.phases:
            for name in wanted:
                m = methods_mod.METHODS[name]
                if not sqlbench.am_present(inst, m.am):
                    msg = f"index method {name}: access method '{m.am}' is not in this database, skipped"
                    util.log("NOTICE: " + msg)
                    notices.append(msg)
                    continue
                try:
                    points += run_method(sc, inst, ds, qids, m, graph, args, checks)
                except (KeyboardInterrupt, SystemExit):
                    raise
                except Exception as e:  # one broken method must not cost the other results
                    util.log(f"index method {name} failed:\n{traceback.format_exc()}")
                    checks.check(f"{name}: ran to the end", False, f"{type(e).__name__}: {e}")
                    notices.append(f"index method {name} failed: {type(e).__name__}: {str(e).strip()[:300]}")
                    recover(inst, ds)

    result = {
        "scenario": sc.name, "description": sc.description, "started": started,
        "duration_s": round(time.time() - t_start, 1), "machine": util.machine(),
        "commit": util.git_commit(root), "server": server,
        "settings": {k: v.strip("'") for k, v in server["settings"].items()},
        "dataset": {"name": ds.name, "n": ds.n, "dim": ds.dim, "queries": ds.nq, "metric": ds.metric,
                    "notes": ds.notes, "load_seed": args.seed},
        "graph": graph, "load": load, "notices": notices, "points": points,
    }
    if "memlimit" in sc.phases:
        result["memlimit"] = dict(mem_info, at_recall=report.memlimit_comparisons(points))
    missing = sorted({k for p in points for k in REQUIRED_FIELDS if k not in p})
    checks.check("every result point has the required fields", not missing, ", ".join(missing))
    result["comparisons"] = report.comparisons(points)
    out_dir = args.out or os.path.join(root, "bench", "results")
    old = report.previous_run(out_dir, result)
    if old:
        result["previous"] = {"file": old["file"], "commit": old.get("commit", "?"),
                              "rows": report.against_previous(result, old)}
    paths = report.write(result, out_dir)
    checks.check("results JSON written", os.path.getsize(paths["json"]) > 0, paths["json"])
    checks.check("plot written", paths["png"] is None or os.path.getsize(paths["png"]) > 0, str(paths["png"]))
    result["checks"] = checks.items
    report.write_json(result, paths["json"])
    print(report.markdown(result, paths))
    print(f"\n{checks.passed} passed, {checks.failed} failed")
    return 1 if checks.failed else 0


def _root_tag(root):
    """A short stable tag for the checkout (separate stages per checkout)."""
    return hashlib.sha1(root.encode()).hexdigest()[:8]


def run_refs(sc, ds, order, graph, names, checks):
    """hnswlib and faiss sweeps plus numpy brute force, with their checks."""
    points = []
    classes = {"hnswlib": refs.HnswlibRef, "faiss": refs.FaissHnswRef}
    flat = refs.run_flat_ref(ds, order, sc.ref_min_time)
    points.append(flat)
    checks.check("numpy brute force agrees with the ground truth (recall@10 = 1)",
                 flat["recall_at_10"] == 1.0, f"{flat['recall_at_10']:.4f}")
    for name in names:
        if name not in classes:
            raise util.UserError(f"unknown reference {name}; known: {list(classes)}")
        try:
            ref = classes[name](ds, order, graph)
            pts = refs.run_graph_ref(ref, ds, list(sc.ref_ef), sc.ref_build_threads, sc.ref_min_time)
        except ImportError as e:
            util.log(f"NOTICE: reference {name} unavailable ({e}); install python3-{name}")
            continue
        points += pts
        best = max(p["recall_at_10"] for p in pts)
        checks.check(f"{name} reaches recall@10 >= 0.9", best >= 0.9, f"best {best:.4f}")
        checks.check(f"{name} recall@10 grows with ef", pts[-1]["recall_at_10"] >= pts[0]["recall_at_10"],
                     f"{pts[0]['recall_at_10']:.4f} -> {pts[-1]['recall_at_10']:.4f}")
    return points


def _sql_point(ds, method, options, param, value, build):
    """The common fields of a SQL-side point."""
    return dict({"dataset": ds.name, "metric": ds.metric, "system": "vector", "method": method,
                 "options": options, "search_param": param, "search_setting": value}, **build)


NO_BUILD = {"build_s": None, "build_s_parallel": None, "index_bytes": None, "wal_bytes": None}


def run_exact(sc, inst, ds, qids, args, checks):
    """The exact scan (no vector index): the recall-1.0 baseline, filtered, then the write
    phases."""
    util.log(f"exact scan (no index), {len(qids)} queries")
    base = _sql_point(ds, "exact", {}, None, None, NO_BUILD)
    p = sqlbench.measure_knn(inst, ds, base, qids, {}, sc.pgbench_s)
    points = [p]
    checks.check("exact scan recall@10 = 1.0", p["recall_at_10"] == 1.0, f"{p['recall_at_10']:.6f}")
    checks.check("exact scan recall@100 = 1.0", p["recall_at_100"] == 1.0, f"{p['recall_at_100']:.6f}")
    checks.check("exact scan QPS measured (1 and 2 clients)", p["qps_1"] > 0 and p["qps_2"] > 0)
    if "filtered" in sc.phases:
        for attr in ("section", "cat"):
            f = sqlbench.measure_filtered(inst, ds, base, attr, "planner", {}, qids)
            points.append(f)
            checks.check(f"exact filtered ({attr}) recall@10 = 1.0", f["recall_at_10"] == 1.0,
                         f"{f['recall_at_10']:.6f}")
            checks.check(f"exact filtered ({attr}) returns every row asked for",
                         abs(f["rows_returned"] - f["rows_expected"]) < 1e-9,
                         f"{f['rows_returned']:.3f} vs {f['rows_expected']:.3f}")
    after = run_write_phases(sc, inst, ds, qids, base, {}, _table_bytes(inst), None, args, checks)
    for q in after:
        if q["kind"] in ("cold", "vacuum"):
            checks.check(f"exact scan recall@10 = 1.0 ({q['kind']})", q["recall_at_10"] == 1.0,
                         f"{q['recall_at_10']:.6f}")
    points += after
    _restore(sc, inst, ds)
    return points


def run_write_phases(sc, inst, ds, qids, base, gucs, rel_bytes, index, args, checks):
    """The phases every SQL system runs after its searches: cold cache (shared_buffers
    far below rel_bytes), inserts (1 and 2 clients; the rows are removed again) and
    delete 10% + VACUUM. Returns their points."""
    points = []
    if "cold" in sc.phases:
        points.append(sqlbench.measure_cold(inst, ds, base, gucs, rel_bytes, qids, args.drop_os_cache))
        sqlbench.prewarm(inst, index)
    if "insert" in sc.phases:
        ins = sqlbench.measure_insert(inst, ds, base, sc.insert_pool, sc.insert_s)
        points += ins
        checks.check(f"{base['method']}: insert throughput measured", all(i["rows_per_s"] > 0 for i in ins))
        sqlbench.cleanup_inserts(inst)
    if "vacuum" in sc.phases:
        points.append(sqlbench.measure_vacuum(inst, ds, base, qids, gucs))
    return points


def recover(inst, ds):
    """After a failed method: restart the server if it went down, drop the index, remove
    inserted rows and put back deleted ones, so the next method sees the same table."""
    try:
        with inst.connect():
            pass
    except Exception:
        inst.restart()
    sqlbench.drop_index(inst)
    sqlbench.cleanup_inserts(inst)
    with inst.connect() as c:
        present = c.execute("SELECT count(*) FROM items WHERE id % 10 = 0").fetchone()[0]
    if present == 0:
        sqlbench.restore_deleted(inst, ds)
    sqlbench.prewarm(inst)


def _restore(sc, inst, ds):
    """Undo the vacuum phase's deletes (after the vector index is dropped)."""
    if "vacuum" in sc.phases:
        sqlbench.restore_deleted(inst, ds)


def _table_bytes(inst):
    """Size of items including TOAST."""
    with inst.connect() as c:
        return c.execute("SELECT pg_table_size('items')").fetchone()[0]


def run_method(sc, inst, ds, qids, m, graph, args, checks):
    """One index method: builds, sweep, filtered, then the write phases."""
    opts = m.with_options(graph, ds.n)
    util.log(f"index method {m.name} {opts}")
    serial = sqlbench.build_index(inst, m, opts, ds.metric, 0)
    sqlbench.drop_index(inst)
    par = sqlbench.build_index(inst, m, opts, ds.metric, 2)
    build = {"build_s": serial["seconds"], "build_s_parallel": par["seconds"],
             "index_bytes": par["index_bytes"], "wal_bytes": serial["wal_bytes"],
             "wal_bytes_parallel": par["wal_bytes"], "index_bytes_serial": serial["index_bytes"]}
    checks.check(f"{m.name}: index built (size and WAL measured)", par["index_bytes"] > 0 and par["wal_bytes"] > 0)
    sqlbench.prewarm(inst, sqlbench.INDEX)
    points = []
    values = spread(m.search_values, sc.sweep_points)
    for v in values:
        base = _sql_point(ds, m.name, opts, m.search_guc, v, build)
        # The sweep measures the index itself, so the index is forced: at a wide search
        # setting on a small table the planner may rightly prefer an exact scan.
        gucs = dict({m.search_guc: v}, **sqlbench.FORCE_INDEX)
        points.append(sqlbench.measure_knn(inst, ds, base, qids, gucs, sc.pgbench_s))
    sweep = points[:]
    best = max(p["recall_at_10"] for p in sweep)
    checks.check(f"{m.name}: recall@10 non-trivial (>= 0.8 at the widest search)", best >= 0.8, f"best {best:.4f}")
    checks.check(f"{m.name}: plans use the index",
                 all(sqlbench.INDEX in p["plan"] for p in sweep), report.plan_nodes(sweep[0]["plan"]))
    dflt = {m.search_guc: m.default_search}
    planner_plan = sqlbench.explain(inst, ds, sqlbench.knn_sql(ds.metric, 10), dflt)
    util.log(f"  planner at the default {m.search_guc}={m.default_search}: {report.plan_nodes(planner_plan)}")
    base = _sql_point(ds, m.name, opts, m.search_guc, m.default_search, build)
    if "filtered" in sc.phases:
        variants = [("planner", dflt), ("index forced", dict(dflt, **sqlbench.FORCE_INDEX))]
        if m.filter_gucs:
            variants.append(("index forced + " + ",".join(f"{k}={v}" for k, v in m.filter_gucs.items()),
                             dict(dflt, **sqlbench.FORCE_INDEX, **m.filter_gucs)))
        for attr in ("section", "cat"):
            for label, gucs in variants:
                try:
                    points.append(sqlbench.measure_filtered(inst, ds, base, attr, label, gucs, qids))
                except psycopg.Error as e:  # e.g. a filter setting the method does not have (yet)
                    checks.check(f"{m.name}: filtered ({attr}, {label}) runs", False, str(e).strip()[:200])
    points += run_write_phases(sc, inst, ds, qids, base, dflt, par["index_bytes"], sqlbench.INDEX, args, checks)
    sqlbench.drop_index(inst)
    _restore(sc, inst, ds)
    return points


def run_memlimit(sc, inst, ds, wanted, graph, limit, checks, notices):
    """Phase memlimit: per method, build with the normal server's memory, then measure
    from a server inside a memory cgroup of `limit` bytes (memlimit.run_method), drop the
    index. Returns the points and the run's facts for the report."""
    nq = min(sc.mem_queries, ds.nq)
    qids = np.arange(nq)
    w = min(sc.mem_warmup, ds.nq)
    # warm-up queries from the end of the query set, so the measured ones are not pre-read
    warm = np.arange(ds.nq - w, ds.nq) if ds.nq - w >= nq else qids[:w]
    workers = int(sc.settings.get("max_parallel_maintenance_workers", "2"))
    info = {"limit_bytes": limit, "shared_buffers": sc.mem_shared_buffers, "queries": nq,
            "warmup_queries": len(warm), "runs": []}
    util.log(f"memlimit: memory cgroup of {limit / 2**20:.0f} MiB, shared_buffers {sc.mem_shared_buffers}, "
             f"{nq} queries per sweep point, {len(warm)} warm-up queries")
    points = []
    for name in wanted:
        m = methods_mod.METHODS[name]
        if not sqlbench.am_present(inst, m.am):
            msg = f"index method {name}: access method '{m.am}' is not in this database, skipped"
            util.log("NOTICE: " + msg)
            notices.append(msg)
            continue
        try:
            opts = m.with_options(graph, ds.n)
            util.log(f"index method {m.name} {opts}")
            b = sqlbench.build_index(inst, m, opts, ds.metric, workers)
            build = {"build_s": b["seconds"], "build_workers": workers, "index_bytes": b["index_bytes"],
                     "wal_bytes": b["wal_bytes"]}
            checks.check(f"memlimit {m.name}: index built", b["index_bytes"] > 0)
            if b["index_bytes"] <= limit:
                notices.append(f"{m.name}: the index ({b['index_bytes'] / 2**20:.0f} MiB) fits in the memory "
                               f"limit ({limit / 2**20:.0f} MiB): not a larger-than-memory measurement")
            pts, run = memlimit.run_method(sc, inst, ds, m, opts, build, qids, warm, limit, checks)
            points += pts
            info["runs"].append(dict(run, build_s=b["seconds"], build_workers=workers))
            sqlbench.drop_index(inst)
        except (KeyboardInterrupt, SystemExit):
            raise
        except Exception as e:  # one broken method must not cost the other results
            util.log(f"index method {name} failed:\n{traceback.format_exc()}")
            checks.check(f"memlimit {name}: ran to the end", False, f"{type(e).__name__}: {e}")
            notices.append(f"index method {name} failed: {type(e).__name__}: {str(e).strip()[:300]}")
            recover(inst, ds)
    return points, info


def run_scan(sc, inst, ds, qids, checks):
    """Exact-scan rate (rows per second, per core with 0 workers), on the table as loaded
    (vectors wider than ~2 kB live in TOAST) and on a copy that stores them inline."""
    points = []
    base = _sql_point(ds, "exact", {}, None, None, NO_BUILD)
    for table in ("items", "items_plain"):
        if table == "items_plain":
            sqlbench.plain_copy(inst)
        for w in sc.scan_workers:
            p = sqlbench.measure_scan_rate(inst, ds, base, qids, w, table)
            points.append(p)
            checks.check(f"exact scan of {table} ({w} workers) recall@10 = 1.0", p["recall_at_10"] == 1.0,
                         f"{p['recall_at_10']:.6f}")
    serial = [p for p in points if p["workers_per_gather"] == 0]
    checks.check("serial exact scan plans have no Gather", all("Gather" not in p["plan"] for p in serial),
                 "; ".join(report.plan_nodes(p["plan"]) for p in serial))
    return points
