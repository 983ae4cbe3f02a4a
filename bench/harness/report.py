"""Reporting: comparisons at equal recall, the markdown report, the JSON file and the
recall-vs-QPS plot (ann-benchmarks style: x recall@10, y QPS on a log scale, one line per
system).

QPS at a given recall is read off each system's Pareto frontier (the fastest point at
or above each recall), interpolating log(QPS) linearly in recall between the frontier
points on either side; it is undefined when the curve never reaches that recall, and when
the curve starts above it, the slowest-recall frontier point's QPS is used (a lower bound).
"""
import json
import math
import os
import re
import time

from .util import fmt, fmt_bytes

TARGET_RECALLS = (0.90, 0.95, 0.99)
REFERENCE_SYSTEMS = ("hnswlib", "faiss")


def label(p):
    """The curve name of a point: method plus build options."""
    if p["method"] == "exact":
        return "exact (seq scan)"
    opts = ",".join(f"{k}={v}" for k, v in (p.get("options") or {}).items())
    return f"{p['method']} ({opts})" if opts else p["method"]


def curves(points):
    """k-NN points grouped by curve, in order of first appearance."""
    out = {}
    for p in points:
        if p["kind"] == "knn":
            out.setdefault(label(p), []).append(p)
    return out


def qps_at(points, recall, key):
    """QPS (points[key]) at recall@10 = recall along the curve's Pareto frontier."""
    pts = sorted(((p["recall_at_10"], p[key]) for p in points if p.get(key)), key=lambda x: -x[0])
    frontier, best = [], 0.0
    for rec, q in pts:
        if q > best:
            frontier.append((rec, q))
            best = q
    frontier.reverse()
    if not frontier or frontier[-1][0] < recall:
        return None
    for i, (rec, q) in enumerate(frontier):
        if rec >= recall:
            if i == 0:
                return q
            r0, q0 = frontier[i - 1]
            t = (recall - r0) / (rec - r0)
            return math.exp(math.log(q0) + t * (math.log(q) - math.log(q0)))
    return None


def comparisons(points):
    """Our QPS as a fraction of each reference's, at each target recall."""
    cs = curves(points)
    ours = [k for k, v in cs.items() if v[0]["system"] == "vector"]
    theirs = [k for k, v in cs.items() if v[0]["system"] in REFERENCE_SYSTEMS]
    out = []
    for o in ours:
        for t in theirs:
            for r in TARGET_RECALLS:
                row = {"ours": o, "reference": t, "recall_at_10": r}
                # the in-server rate (no round trips) is set beside the reference's one thread
                for key, ref_key in (("qps_1", "qps_1"), ("qps_2", "qps_2"), ("qps_server", "qps_1")):
                    a, b = qps_at(cs[o], r, key), qps_at(cs[t], r, ref_key)
                    row[f"{key}_ours"], row[f"{key}_ref"] = a, b
                    row[f"{key}_ratio"] = a / b if a and b else None
                out.append(row)
    return out


def memlimit_curve(p):
    """The curve name of a memlimit point: label plus the extra settings it was swept with."""
    extra = ",".join(f"{k}={v}" for k, v in (p.get("extra_settings") or {}).items())
    return label(p) + (f" {extra}" if extra else "")


def memlimit_comparisons(points):
    """Larger than memory: per method, QPS (1 client) at each target recall along the
    frontier of all its memlimit points (every setting swept), and each method's QPS over
    each other's."""
    by = {}
    for p in points:
        if p["kind"] == "memlimit":
            by.setdefault(label(p), []).append(p)
    qps = [{"system": k, "recall_at_10": r, "qps_1": qps_at(v, r, "qps_1")} for k, v in by.items()
           for r in TARGET_RECALLS]
    ratios = []
    for a in by:
        for b in by:
            if a == b:
                continue
            for r in TARGET_RECALLS:
                x, y = qps_at(by[a], r, "qps_1"), qps_at(by[b], r, "qps_1")
                ratios.append({"system": a, "over": b, "recall_at_10": r, "ratio": x / y if x and y else None})
    return {"qps": qps, "ratios": ratios}


def previous_run(out_dir, result):
    """The latest earlier result of the same scenario on the same dataset, or None."""
    if not os.path.isdir(out_dir):
        return None
    for name in sorted(os.listdir(out_dir), reverse=True):
        if not name.endswith(f"-{result['scenario']}.json"):
            continue
        try:
            with open(os.path.join(out_dir, name)) as f:
                old = json.load(f)
        except (OSError, ValueError):
            continue
        if old.get("dataset", {}).get("name") == result["dataset"]["name"] and \
                old.get("dataset", {}).get("metric") == result["dataset"]["metric"]:
            old["file"] = name
            return old
    return None


def against_previous(result, old):
    """Per SQL curve and target recall: QPS (1 client) now vs the previous run, and our
    ratio to hnswlib now vs then (the figure that survives machine noise). Flagged: the
    recall is no longer reached, or both QPS and the ratio dropped by more than REGRESSION
    (one alone is usually noise on a shared machine)."""
    now_c, old_c = curves(result["points"]), curves(old["points"])
    ref_now = next((k for k, v in now_c.items() if v[0]["method"] == "hnswlib"), None)
    ref_old = next((k for k, v in old_c.items() if v[0]["method"] == "hnswlib"), None)
    rows = []
    for name, pts in now_c.items():
        if pts[0]["system"] != "vector" or name not in old_c:
            continue
        for r in TARGET_RECALLS:
            a, b = qps_at(pts, r, "qps_1"), qps_at(old_c[name], r, "qps_1")
            if a is None and b is None:
                continue
            ra, rb = _ratio(a, now_c.get(ref_now), r), _ratio(b, old_c.get(ref_old), r)
            rows.append({"system": name, "recall_at_10": r, "qps_1_now": a, "qps_1_before": b,
                         "ratio_now": ra, "ratio_before": rb,
                         "flag": bool((b and not a) or (a and b and a < (1 - REGRESSION) * b and
                                                        (ra is None or rb is None or ra < (1 - REGRESSION) * rb)))})
    return rows


REGRESSION = 0.10


def _ratio(qps, ref_points, recall):
    """qps divided by the reference curve's QPS at recall (None when either is missing)."""
    ref = qps_at(ref_points, recall, "qps_1") if ref_points else None
    return qps / ref if qps and ref else None


def plan_nodes(plan):
    """The node names of a compact plan line ('Limit / Sort / Seq Scan on items / ...')."""
    if not plan:
        return "-"
    skip = re.compile(r"^(Order By|Filter|Index Cond|Sort Key|Recheck Cond|InitPlan|SubPlan|Workers|"
                      r"Heap Blocks|Rows Removed|Presorted Key|Join Filter|Hash Cond)")
    nodes = []
    for part in plan.split(" / "):
        part = part.strip()
        if not part or skip.match(part):
            continue
        part = re.sub(r" on (items|queries)\b.*$", "", part)
        part = part.replace("using ", "")
        if part not in ("Limit",):
            nodes.append(part)
    return " > ".join(nodes)


def write(result, out_dir):
    """Write the JSON and the PNG plot; returns their paths."""
    os.makedirs(out_dir, exist_ok=True)
    stem = os.path.join(out_dir, f"{time.strftime('%Y%m%d-%H%M%S')}-{result['scenario']}")
    paths = {"json": stem + ".json", "png": None}
    write_json(result, paths["json"])
    if any(p["kind"] == "knn" for p in result["points"]):
        paths["png"] = plot(result, stem + ".png")
    elif any(p["kind"] == "memlimit" for p in result["points"]):
        paths["png"] = plot_memlimit(result, stem + ".png")
    return paths


def write_json(result, path):
    """The run as JSON (atomically)."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(result, f, indent=1, default=_json_default)
    os.replace(tmp, path)


def _json_default(o):
    """numpy scalars and arrays in JSON."""
    if hasattr(o, "item"):
        return o.item()
    if hasattr(o, "tolist"):
        return o.tolist()
    raise TypeError(type(o))


def plot(result, path):
    """Recall@10 vs QPS, log scale, one line per system; 1 client and 2 clients."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cs = curves(result["points"])
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.2), sharey=True)
    all_rec = [p["recall_at_10"] for v in cs.values() for p in v]
    lo = max(0.0, min(all_rec) - 0.02) if all_rec else 0.0
    for ax, key, title in ((axes[0], "qps_1", "1 client / 1 thread"),
                           (axes[1], "qps_2", "2 clients (pgbench) / 2 threads")):
        for name, pts in cs.items():
            pts = sorted(pts, key=lambda p: p["recall_at_10"])
            x = [p["recall_at_10"] for p in pts]
            y = [p[key] for p in pts]
            ours = pts[0]["system"] == "vector"
            marker = ("*" if pts[0]["method"] == "exact" else "D" if pts[0]["method"].endswith("-flat")
                      else "o" if ours else "s")
            ax.plot(x, y, marker=marker, markersize=9 if marker == "*" else 5,
                    linestyle="-" if ours else "--", linewidth=1.6 if ours else 1.2, label=name)
        ax.set_yscale("log")
        ax.set_xlim(lo, 1.005)
        ax.set_xlabel("recall@10")
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
        for r in TARGET_RECALLS:
            if r >= lo:
                ax.axvline(r, color="grey", linewidth=0.6, alpha=0.5)
    axes[0].set_ylabel("queries per second (log)")
    axes[1].legend(fontsize=8, loc="lower left")
    ds = result["dataset"]
    fig.suptitle(f"{result['scenario']}: {ds['name']} {ds['n']:,} x {ds['dim']} ({ds['metric']}), "
                 f"{result['machine']['cores']} cores, commit {result['commit'][:10]}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_memlimit(result, path):
    """Larger than memory: recall@10 against QPS (left) and against the bytes read from
    storage per query (right), one line per method and extra setting."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cs = {}
    for p in result["points"]:
        if p["kind"] == "memlimit":
            cs.setdefault(memlimit_curve(p), []).append(p)
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.2))
    for ax, key, title in ((axes[0], "qps_1", "queries per second, 1 client (log)"),
                           (axes[1], "disk_read_kib_per_q", "KiB read from storage per query (log)")):
        for name, pts in cs.items():
            pts = sorted((p for p in pts if p.get(key)), key=lambda p: p["recall_at_10"])
            if pts:
                ax.plot([p["recall_at_10"] for p in pts], [p[key] for p in pts], marker="o", markersize=5,
                        label=name)
        ax.set_yscale("log")
        ax.set_xlabel("recall@10")
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
        for r in TARGET_RECALLS:
            ax.axvline(r, color="grey", linewidth=0.6, alpha=0.5)
    axes[0].legend(fontsize=8, loc="lower left")
    ds, ml = result["dataset"], result.get("memlimit", {})
    fig.suptitle(f"{result['scenario']}: {ds['name']} {ds['n']:,} x {ds['dim']} ({ds['metric']}), memory cgroup "
                 f"{ml.get('limit_bytes', 0) / 2**20:.0f} MiB, shared_buffers {ml.get('shared_buffers', '?')}, "
                 f"commit {result['commit'][:10]}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _memlimit_section(result):
    """The markdown lines of the larger-than-memory section."""
    pts = [p for p in result["points"] if p["kind"] == "memlimit"]
    ml = result.get("memlimit")
    if not ml or not pts:
        return []
    limit = ml["limit_bytes"]
    runs = ml.get("runs", [])
    memsw = all(r.get("memsw_limited") for r in runs)
    lines = ["", "### Larger than memory: searched inside a memory cgroup", "",
             f"Each index built by the normal server, then the server restarted inside a cgroup v1 memory cgroup "
             f"limited to {limit / 2**20:.0f} MiB ({'swap included: memsw' if memsw else 'swap not limited'}), "
             f"shared_buffers={ml['shared_buffers']}; `sync`, OS page cache dropped, {ml['warmup_queries']} warm-up "
             f"queries, then the sweep in the order shown, {ml['queries']} queries per point, one client, "
             "index forced. "
             "*idx / heap blk/q*: shared-buffer misses per query of the index and of the table (heap + TOAST; "
             "pg_statio deltas: a miss may still be served by the cgroup's page cache). *disk KiB/q*: what the "
             "backend really read from storage per query (/proc/<pid>/io read_bytes). *majflt/q*: the cgroup's major "
             "page faults per query (memory.stat; mapped memory only, so near 0: PostgreSQL read()s its files). "
             "*peak*: the cgroup's memory.max_usage_in_bytes during the point.", ""]
    for r in runs:
        lines.append(f"- {r['method']}: index {fmt_bytes(r['index_bytes'])} MiB ({r['index_bytes'] / limit:.1f}x the "
                     f"limit), built in {fmt(r.get('build_s'))}s with {r.get('build_workers')} workers; OS cache: "
                     f"{r.get('os_cache', '-')}; warm-up: first query {fmt(r.get('warmup_ms_first'), 1)} ms, "
                     f"{fmt(r.get('warmup_disk_read_kib_per_q'), 0)} KiB read per query; cgroup peak "
                     f"{fmt_bytes(r.get('cgroup_peak_bytes'))} MiB")
    lines.append("")
    rows = []
    for p in pts:
        setting = _setting(p) + "".join(f", {k}={v}" for k, v in (p.get("extra_settings") or {}).items())
        rows.append([label(p), setting, fmt(p["recall_at_10"], 4), fmt(p["qps_1"]), fmt(p["p50_ms"], 2),
                     fmt(p["p99_ms"], 2), fmt(p["idx_blks_read_per_q"]), fmt(p["heap_blks_read_per_q"]),
                     fmt(p.get("disk_read_kib_per_q"), 0), fmt(p["majflt_per_q"], 2),
                     fmt_bytes(p["cgroup_peak_bytes"])])
    lines.append(_table(["system", "setting", "recall@10", "QPS 1", "p50 ms", "p99 ms", "idx blk/q", "heap blk/q",
                         "disk KiB/q", "majflt/q", "peak MiB"], rows))
    comp = ml.get("at_recall") or {}
    systems = list(dict.fromkeys(q["system"] for q in comp.get("qps", [])))
    if systems:
        qps = {(q["system"], q["recall_at_10"]): q["qps_1"] for q in comp["qps"]}
        lines += ["", "QPS (1 client) at equal recall, interpolated along each method's frontier over every "
                  "setting swept ('-': not reached)" + ("; ratio: the row's method over the column's." if
                                                        len(systems) > 1 else "."), ""]
        header = ["system"] + [f"QPS @{r:.2f}" for r in TARGET_RECALLS]
        ratio = {(c["system"], c["over"], c["recall_at_10"]): c["ratio"] for c in comp.get("ratios", [])}
        others = systems if len(systems) > 1 else []
        header += [f"/ {o} @0.95" for o in others]
        rows = []
        for sname in systems:
            rows.append([sname] + [fmt(qps.get((sname, r))) for r in TARGET_RECALLS] +
                        [("-" if o == sname else fmt(ratio.get((sname, o, 0.95)), 3)) for o in others])
        lines.append(_table(header, rows))
    return lines


def _table(header, rows):
    """A markdown table."""
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def _setting(p):
    """The search setting of a point as text."""
    return f"{p['search_param']}={p['search_setting']}" if p.get("search_param") else "-"


def markdown(result, paths):
    """The whole report as markdown."""
    ds, m, s = result["dataset"], result["machine"], result["settings"]
    pts = result["points"]
    lines = [f"## Benchmark `{result['scenario']}`", "", result["description"], "",
             f"- dataset: `{ds['name']}`, {ds['n']:,} x {ds['dim']}, {ds['queries']:,} queries, metric "
             f"{ds['metric']}; {ds['notes']}",
             f"- machine: {m['cores']} cores, {m['cpu_model']}; load average at start {m['load_avg_at_start']:.2f}",
             f"- commit `{result['commit']}`, PostgreSQL {result['server']['version']}, run {result['started']}, "
             f"{result['duration_s']:.0f}s",
             "- server: " + ", ".join(f"{k}={s[k]}" for k in
                                      ("shared_buffers", "maintenance_work_mem", "work_mem",
                                       "max_parallel_maintenance_workers", "max_parallel_workers_per_gather",
                                       "jit", "synchronous_commit", "autovacuum", "huge_pages") if k in s),
             f"- graph parameters for every HNSW (ours, hnswlib, faiss): M={result['graph']['M']}, "
             f"ef_construction={result['graph']['ef_construction']}",
             f"- table `items`: {fmt_bytes(result['load']['table_bytes'])} MiB, loaded by binary COPY in "
             f"{result['load']['load_s']:.1f}s"]
    for n in result["notices"]:
        lines.append(f"- NOTICE: {n}")

    knn = [p for p in pts if p["kind"] == "knn"]
    if knn:
        lines += ["", "### k-NN: recall vs throughput (warm cache)", "",
                  "QPS 1 = one client (ours: Python, prepared, end to end; references: one query per call, "
                  "1 thread). QPS 1 pgb = pgbench -c 1 -M prepared. QPS srv = every query in one statement (a "
                  "correlated sub-select per query: no client round trip per query). QPS 2 = pgbench -c 2 -M prepared (references: "
                  "batch on 2 threads).", ""]
        rows = [[label(p), _setting(p), fmt(p["recall_at_10"], 4), fmt(p["recall_at_100"], 4),
                 fmt(p["qps_1"]), fmt(p["p50_ms"], 3), fmt(p["p95_ms"], 3), fmt(p["p99_ms"], 3), fmt(p.get("qps_1_pgbench")),
                 fmt(p.get("qps_server")), fmt(p["qps_2"])]
                for p in knn]
        lines.append(_table(["system", "setting", "recall@10", "recall@100", "QPS 1", "p50 ms", "p95 ms",
                             "p99 ms", "QPS 1 pgb", "QPS srv", "QPS 2"], rows))
        plans = {}
        for p in knn:
            if p.get("plan"):
                plans.setdefault(label(p), plan_nodes(p["plan"]))
        if plans:
            lines += [""] + [f"Plan of {k}: `{v}`" + ("  " if i < len(plans) - 1 else "")
                             for i, (k, v) in enumerate(plans.items())]

    builds, seen = [], set()
    for p in knn:
        if p.get("build_s") is None and p.get("build_s_parallel") is None:
            continue
        if label(p) in seen:
            continue
        seen.add(label(p))
        builds.append([label(p), fmt(p.get("build_s")), fmt(p.get("build_s_parallel")),
                       fmt_bytes(p.get("index_bytes")), fmt_bytes(p.get("wal_bytes"))])
    if builds:
        lines += ["", "### Builds", "", "Ours: CREATE INDEX serial / with 2 parallel workers; references: 1 / 2 "
                  "threads. Index size: pg_relation_size (references: serialized size). WAL: serial build.", "",
                  _table(["system", "build s (serial)", "build s (2 workers)", "size MiB", "WAL MiB"], builds)]

    comps = [c for c in result.get("comparisons", []) if c["qps_1_ours"] or c["qps_1_ref"]]
    if comps:
        lines += ["", "### At equal recall: our QPS / reference QPS", "",
                  "Interpolated along each curve; '-' where a curve does not reach that recall.", ""]
        rows = [[c["ours"], c["reference"], f"{c['recall_at_10']:.2f}", fmt(c["qps_1_ours"]), fmt(c["qps_1_ref"]),
                 fmt(c["qps_1_ratio"], 3), fmt(c.get("qps_server_ours")), fmt(c.get("qps_server_ratio"), 3),
                 fmt(c["qps_2_ours"]), fmt(c["qps_2_ref"]), fmt(c["qps_2_ratio"], 3)]
                for c in comps]
        lines.append(_table(["ours", "reference", "recall@10", "QPS 1 ours", "QPS 1 ref", "ratio",
                             "QPS srv ours", "srv / ref 1", "QPS 2 ours", "QPS 2 ref", "ratio"], rows))

    filt = [p for p in pts if p["kind"] == "filtered"]
    if filt:
        lines += ["", "### Filtered: WHERE attr = x ORDER BY ... LIMIT 10", "",
                  "Recall against the exact filtered top-10; rows = rows actually returned per query (expected: "
                  "min(10, matching rows)).", ""]
        rows = [[label(p), p["filter"], f"{100 * p['selectivity_mean']:.2f}% ({100 * p['selectivity_min']:.2f}-"
                 f"{100 * p['selectivity_max']:.1f})", p["variant"], plan_nodes(p.get("plan")),
                 fmt(p["recall_at_10"], 4), f"{p['rows_returned']:.2f} ({p['rows_expected']:.2f})",
                 fmt(p["p50_ms"], 3), fmt(p["p99_ms"], 3), fmt(p["qps_1"])] for p in filt]
        lines.append(_table(["system", "filter", "selectivity mean (range)", "variant", "plan", "recall@10",
                             "rows (expected)", "p50 ms", "p99 ms", "QPS 1"], rows))

    cold = [p for p in pts if p["kind"] == "cold"]
    if cold:
        lines += ["", "### Cold cache", "", "Restarted with shared_buffers far below the searched relation; "
                  "queries run once, no warm-up" + ("" if any(p["os_cache_dropped"] for p in cold)
                                                    else "; the OS page cache stays warm (--drop-os-cache)") + ".", ""]
        rows = [[label(p), _setting(p), fmt_bytes(p["shared_buffers_bytes"]), fmt(p["recall_at_10"], 4),
                 fmt(p["qps_1"]), fmt(p["first_ms"], 2), fmt(p["p50_ms"], 3), fmt(p["p99_ms"], 3)] for p in cold]
        lines.append(_table(["system", "setting", "shared_buffers MiB", "recall@10", "QPS 1", "first query ms",
                             "p50 ms", "p99 ms"], rows))

    ins = [p for p in pts if p["kind"] == "insert"]
    if ins:
        lines += ["", "### Inserts", "",
                  "pgbench, one new vector per transaction into items with its indexes (B-trees, plus the "
                  "vector index for index methods), synchronous_commit=off.", ""]
        rows = [[label(p), p["clients"], fmt(p["rows_per_s"]), fmt(p["latency_avg_ms"], 3)] for p in ins]
        lines.append(_table(["system", "clients", "rows/s", "latency avg ms"], rows))

    vac = [p for p in pts if p["kind"] == "vacuum"]
    if vac:
        lines += ["", "### Deletes and VACUUM", "", "Every 10th base row deleted (10%), "
                  "then VACUUM timed; recall@10 afterwards against the exact top-10 of the remaining rows.",
                  ""]
        rows = [[label(p), _setting(p), f"{p['rows_deleted']:,}", fmt(p["vacuum_s"], 2), fmt(p["recall_at_10"], 4),
                 f"{p['rows_returned']:.2f}", fmt(p["p50_ms"], 3)] for p in vac]
        lines.append(_table(["system", "setting", "rows deleted", "VACUUM s", "recall@10 after", "rows",
                             "p50 ms"], rows))

    scans = [p for p in pts if p["kind"] == "scan"]
    if scans:
        lines += ["", "### Exact scan rate", "", "`SELECT id FROM items ORDER BY embedding "
                  f"{'<->' if ds['metric'] == 'l2' else 'op'} $1 LIMIT 10`, rows scanned per second "
                  "(= rows x queries / time).", ""]
        rows = []
        for p in scans:
            if p["system"] == "vector":
                who = f"SQL `{p['table']}`, max_parallel_workers_per_gather={p['workers_per_gather']}"
            else:
                who = f"{p['method']} (in process, 1 thread)"
            rate = p.get("rows_per_s") or p.get("rows_per_s_per_core")
            rows.append([who, fmt(rate / 1e6, 2), fmt(p.get("rows_per_s_per_core") and
                                                     p["rows_per_s_per_core"] / 1e6, 2),
                         fmt(p["qps_1"], 2), fmt(p["p50_ms"], 2), fmt(p["recall_at_10"], 4),
                         plan_nodes(p.get("plan"))])
        lines.append(_table(["system", "M rows/s", "M rows/s per core", "QPS", "p50 ms", "recall@10", "plan"], rows))
        sql = [p for p in scans if p["system"] == "vector" and p.get("rows_per_s_per_core")]
        ref = [p for p in scans if p["system"] != "vector"]
        if sql and ref:
            lines += ["", "Per core, the SQL exact scan runs at " + ", ".join(
                f"{p['rows_per_s_per_core'] / ref[0]['rows_per_s_per_core']:.3f} x (`{p['table']}`)" for p in sql) +
                " the in-process brute force. `items` stores the vectors as loaded (the type's STORAGE external: "
                "out of line in TOAST once a row exceeds ~2 kB); `items_plain` is a copy with SET STORAGE PLAIN."]

    lines += _memlimit_section(result)

    prev = result.get("previous")
    if prev and prev["rows"]:
        lines += ["", f"### Against the previous run (`{prev['file']}`, commit `{prev['commit'][:10]}`)", "",
                  "QPS with 1 client at equal recall, and our QPS as a fraction of hnswlib's in each run (the "
                  "figure that survives machine noise). **Flagged**: the recall is no longer reached, or both "
                  "figures dropped by more than 10% (a bug unless explained).", ""]
        rows = [[("**" + r["system"] + "**") if r["flag"] else r["system"], f"{r['recall_at_10']:.2f}",
                 fmt(r["qps_1_now"]), fmt(r["qps_1_before"]), fmt(r["ratio_now"], 3), fmt(r["ratio_before"], 3)]
                for r in prev["rows"]]
        lines.append(_table(["system", "recall@10", "QPS 1 now", "QPS 1 before", "/ hnswlib now",
                             "/ hnswlib before"], rows))

    lines += ["", f"Results: `{paths['json']}`" + (f", plot: `{paths['png']}`" if paths["png"] else "")]
    return "\n".join(lines)
