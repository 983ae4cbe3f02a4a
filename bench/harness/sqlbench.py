"""Measurements through SQL on the private instance: data loading (binary COPY), index
builds, k-NN sweeps (one Python client with prepared statements, and pgbench with 2
clients), filtered queries, cold-cache runs, insert throughput and the exact-scan rate.

Tables: items(id, embedding, section, cat) holds the base rows (id = base row number,
loaded in a seeded shuffled order); queries(id, embedding, section, cat) the query vectors
(pgbench looks them up by id); ins_src(id, ...) the new rows the insert benchmark adds
(ids >= INSERT_ID_OFFSET in items, removed again afterwards). B-tree indexes on items.id,
section and cat exist, as an application would have them.

Every pass opens a fresh connection, so settings and prepared plans never leak from one
measurement into the next.
"""
import re
import struct
import time

import numpy as np
from psycopg.adapt import Dumper
from psycopg.pq import Format

from . import datasets, pg, util

OPERATOR = {"l2": "<->", "cosine": "<=>", "ip": "<#>"}
INSERT_ID_OFFSET = 1_000_000_000
INDEX = "items_embedding_idx"
COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
COPY_TRAILER = struct.pack(">h", -1)
# settings that make the planner use the vector index for filtered queries
FORCE_INDEX = {"enable_seqscan": "off", "enable_bitmapscan": "off", "enable_sort": "off"}


class _VectorDumper(Dumper):
    """Sends a float32 numpy array as a `vector` in pgvector's binary format
    (int16 dim, int16 0, float4[dim], big-endian); the oid is set per database."""
    format = Format.BINARY

    def dump(self, obj):
        """The binary representation of one vector."""
        a = np.asarray(obj, dtype=">f4")
        return struct.pack(">hh", a.shape[0], 0) + a.tobytes()


def register_vector(conn):
    """Make numpy arrays bind as binary `vector` parameters on this connection."""
    oid = conn.execute("SELECT 'vector'::regtype::oid").fetchone()[0]
    conn.adapters.register_dumper(np.ndarray, type("VectorDumper", (_VectorDumper,), {"oid": oid}))


def set_gucs(conn, gucs):
    """Apply session settings (works for extension GUCs before the library is loaded)."""
    for k, v in (gucs or {}).items():
        conn.execute("SELECT set_config(%s, %s, false)", (k, str(v)))


def copy_binary(conn, table, ids, vecs, section, cat, chunk=20000):
    """COPY rows (id int4, embedding vector, section int4, cat int4) in binary format; the
    PGCOPY header and trailer are written here (psycopg block mode adds neither)."""
    n, d = vecs.shape
    row = np.dtype([("nf", ">i2"), ("l_id", ">i4"), ("id", ">i4"), ("l_vec", ">i4"), ("dim", ">i2"),
                    ("unused", ">i2"), ("vec", ">f4", (d,)), ("l_sec", ">i4"), ("sec", ">i4"),
                    ("l_cat", ">i4"), ("cat", ">i4")])
    with conn.cursor() as cur:
        with cur.copy(f"COPY {table} (id, embedding, section, cat) FROM STDIN (FORMAT binary)") as cp:
            cp.write(COPY_HEADER)
            for s in range(0, n, chunk):
                e = min(n, s + chunk)
                rec = np.empty(e - s, row)
                rec["nf"] = 4
                rec["l_id"] = rec["l_sec"] = rec["l_cat"] = 4
                rec["l_vec"] = 4 + 4 * d
                rec["dim"] = d
                rec["unused"] = 0
                rec["id"] = ids[s:e]
                rec["vec"] = vecs[s:e]
                rec["sec"] = section[s:e]
                rec["cat"] = cat[s:e]
                cp.write(rec.tobytes())
            cp.write(COPY_TRAILER)


def wal_lsn(conn):
    """The current WAL insert position (as text). The insert position, not
    pg_current_wal_lsn() (the write position), which lags behind commits made with
    synchronous_commit = off and would undercount."""
    return conn.execute("SELECT pg_current_wal_insert_lsn()::text").fetchone()[0]


def wal_since(conn, lsn):
    """WAL bytes generated since lsn."""
    return int(conn.execute("SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), %s::pg_lsn)",
                            (lsn,)).fetchone()[0])


def setup(inst, ds, order, pool, log=util.log):
    """Create the extension and the tables and load everything; returns load facts."""
    with inst.connect() as c:
        c.execute("CREATE EXTENSION IF NOT EXISTS vector")
        c.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        d = ds.dim
        for t in ("items", "queries", "ins_src"):
            c.execute(f"CREATE TABLE {t} (id int4 NOT NULL, embedding vector({d}) NOT NULL, "
                      "section int4 NOT NULL, cat int4 NOT NULL)")
        register_vector(c)
        lsn = wal_lsn(c)
        t0 = time.perf_counter()
        log(f"loading {ds.n:,} rows into items (COPY binary, shuffled order)")
        copy_binary(c, "items", order, ds.base[order], ds.attrs["section"][order], ds.attrs["cat"][order])
        load_s = time.perf_counter() - t0
        load_wal = wal_since(c, lsn)
        copy_binary(c, "queries", np.arange(ds.nq), ds.queries, ds.qattrs["section"], ds.qattrs["cat"])
        pv, psec, pcat = pool
        copy_binary(c, "ins_src", np.arange(len(pv)), pv, psec, pcat)
        log(f"loaded in {load_s:.1f}s; indexing id/section/cat and VACUUM ANALYZE")
        for t in ("items", "queries", "ins_src"):
            c.execute(f"ALTER TABLE {t} ADD PRIMARY KEY (id)")
        c.execute("CREATE INDEX items_section_idx ON items (section)")
        c.execute("CREATE INDEX items_cat_idx ON items (cat)")
        c.execute("VACUUM (ANALYZE) items")
        c.execute("VACUUM (ANALYZE) queries")
        c.execute("VACUUM (ANALYZE) ins_src")
        c.execute("CREATE SEQUENCE ins_seq")
        c.execute("CHECKPOINT")
        table_bytes = c.execute("SELECT pg_table_size('items')").fetchone()[0]
        # sanity: the type round-trips what we sent
        back = c.execute("SELECT embedding::text FROM items WHERE id = %s", (int(order[0]),)).fetchone()[0]
        got = np.array([float(x) for x in back.strip("[]").split(",")], np.float32)
        if not np.array_equal(got, ds.base[order[0]]):
            raise util.UserError("vector binary COPY round trip mismatch: the type's recv/out disagree")
    return {"load_s": load_s, "load_wal_bytes": load_wal, "table_bytes": table_bytes}


def prewarm(inst, index=None):
    """Read the table, its TOAST table and the index (if any) into shared buffers."""
    with inst.connect() as c:
        rels = ["items"]
        toast = c.execute("SELECT reltoastrelid FROM pg_class WHERE relname = 'items'").fetchone()[0]
        if index:
            rels.append(index)
        for r in rels:
            c.execute("SELECT pg_prewarm(%s::regclass)", (r,))
        if toast:
            c.execute("SELECT pg_prewarm(%s::oid::regclass)", (toast,))


def am_present(inst, am):
    """Whether the access method exists in the database."""
    with inst.connect() as c:
        return c.execute("SELECT 1 FROM pg_am WHERE amname = %s", (am,)).fetchone() is not None


def knn_sql(metric, k, attr=None, table="items"):
    """The measured query: prepared, vector bound as a binary parameter."""
    where = f"WHERE {attr} = %s::int4 " if attr else ""
    return f"SELECT id FROM {table} {where}ORDER BY embedding {OPERATOR[metric]} %b LIMIT {k}"


def pgbench_knn_script(metric, nq, k=10):
    """pgbench script: a random query id, its vector fetched by a sub-select."""
    return (f"\\set qid random(0, {nq - 1})\n"
            f"SELECT id FROM items ORDER BY embedding {OPERATOR[metric]} "
            f"(SELECT embedding FROM queries WHERE id = :qid) LIMIT {k};\n")


def run_pass(inst, ds, sql, qids, gucs=None, warmup=0, attr=None):
    """Run sql once per query id on one fresh connection with prepared statements;
    returns the ids per query, per-query latencies (s) and the wall time of the pass."""
    with inst.connect() as c:
        register_vector(c)
        set_gucs(c, gucs)
        cur = c.cursor()

        def params(i):
            """The bind parameters of query i."""
            return (int(ds.qattrs[attr][i]), ds.queries[i]) if attr else (ds.queries[i],)
        for i in qids[:warmup]:
            cur.execute(sql, params(i), prepare=True)
            cur.fetchall()
        results, lat = [], []
        prog = util.Progress("    queries", every=20.0)
        t_start = time.perf_counter()
        for j, i in enumerate(qids):
            t = time.perf_counter()
            cur.execute(sql, params(i), prepare=True)
            rows = cur.fetchall()
            lat.append(time.perf_counter() - t)
            results.append([r[0] for r in rows])
            prog.update(j + 1, len(qids))
        wall = time.perf_counter() - t_start
    return results, lat, wall


def server_pass(inst, ds, qids, gucs=None, k=10):
    """Every query in one statement (a correlated sub-select per row of the queries table):
    the server's own k-NN rate, without a client round trip per query. Returns the ids per
    query (in qids order) and the wall time."""
    sql = (f"SELECT q.id, ARRAY(SELECT i.id FROM items i ORDER BY i.embedding {OPERATOR[ds.metric]} q.embedding "
           f"LIMIT {k}) FROM queries q WHERE q.id = ANY(%s) ORDER BY q.id")
    ids = [int(i) for i in qids]
    with inst.connect() as c:
        set_gucs(c, gucs)
        t = time.perf_counter()
        rows = c.execute(sql, (ids,)).fetchall()
        wall = time.perf_counter() - t
    by_id = {qid: list(found) for qid, found in rows}
    return [by_id.get(i, []) for i in ids], wall


def explain(inst, ds, sql, gucs=None, attr=None):
    """The plan of sql for the first query, as one compact line."""
    with inst.connect() as c:
        register_vector(c)
        set_gucs(c, gucs)
        params = (int(ds.qattrs[attr][0]), ds.queries[0]) if attr else (ds.queries[0],)
        rows = c.execute("EXPLAIN (COSTS OFF) " + sql, params).fetchall()
    plan = " / ".join(r[0].strip().lstrip("-> ").strip() for r in rows)
    return re.sub(r"'\[[^']*\]'::vector", "$vector", plan)


def check_gucs_reach_pgbench(inst, gucs):
    """Connect the way pgbench does (options string) and verify every setting arrived."""
    if not gucs:
        return
    with inst.connect(options=pg.pgoptions(gucs)) as c:
        for k, v in gucs.items():
            got = c.execute("SELECT current_setting(%s)", (k,)).fetchone()[0]
            if got != str(v):
                raise util.UserError(f"setting {k}={v} did not reach the session (got {got})")


def measure_knn(inst, ds, base_point, qids, gucs, pgbench_s, log=util.log):
    """One sweep point: recall@100 (LIMIT 100 pass, also the warm-up), recall@10 with
    single-client latencies (LIMIT 10 pass), all queries in one statement (qps_server: no
    round trip per query, the figure to set beside an in-process library's one thread), then
    pgbench -c 1 (qps_1_pgbench: the client overhead of Python left out, as pgvector's
    published numbers) and -c 2 (qps_2)."""
    m = ds.metric
    ids100, _, _ = run_pass(inst, ds, knn_sql(m, 100), qids, gucs, warmup=min(20, len(qids)))
    ids10, lat, wall = run_pass(inst, ds, knn_sql(m, 10), qids, gucs, warmup=min(5, len(qids)))
    ids_srv, wall_srv = server_pass(inst, ds, qids, gucs)
    recall10 = ds.recall(10).mean(ids10, qids)
    if ds.recall(10).mean(ids_srv, qids) != recall10:
        log("    note: the one-statement pass found other rows than the per-query pass")
    check_gucs_reach_pgbench(inst, gucs)
    bench1 = inst.pgbench(pgbench_knn_script(m, ds.nq), clients=1, duration=pgbench_s, gucs=gucs)
    bench = inst.pgbench(pgbench_knn_script(m, ds.nq), clients=2, duration=pgbench_s, gucs=gucs)
    p = dict(base_point, kind="knn",
             recall_at_10=recall10, recall_at_100=ds.recall(100).mean(ids100, qids),
             rows_at_100=float(np.mean([len(r) for r in ids100])),
             qps_1=len(qids) / wall, qps_1_pgbench=bench1["tps"], qps_server=len(qids) / wall_srv,
             qps_2=bench["tps"], queries=len(qids),
             plan=explain(inst, ds, knn_sql(m, 10), gucs), **util.latency_stats(lat))
    setting = f" {p['search_param']}={p['search_setting']}" if p.get("search_param") else ""
    log(f"  {p['method']}{setting}: recall@10 {p['recall_at_10']:.4f}, recall@100 {p['recall_at_100']:.4f}, "
        f"{p['qps_1']:,.1f} QPS (1 client), {p['qps_1_pgbench']:,.1f} (pgbench -c 1), {p['qps_server']:,.1f} (in server), {p['qps_2']:,.1f} QPS (2 clients), p99 {p['p99_ms']:.2f} ms")
    return p


def measure_filtered(inst, ds, base_point, attr, variant, gucs, qids, log=util.log):
    """WHERE attr = x ORDER BY ... LIMIT 10 for every query: filtered recall@10, rows
    actually returned, latency and the plan."""
    sql = knn_sql(ds.metric, 10, attr)
    ids, lat, wall = run_pass(inst, ds, sql, qids, gucs, warmup=min(20, len(qids)), attr=attr)
    sel = ds.selectivity(attr)[qids]
    p = dict(base_point, kind="filtered", filter=attr, variant=variant, settings=gucs,
             recall_at_10=ds.filtered_recall(attr).mean(ids, qids), recall_at_100=None,
             rows_returned=float(np.mean([len(r) for r in ids])),
             rows_expected=float(np.mean([min(10, s * ds.n) for s in sel])),
             selectivity_mean=float(np.mean(sel)), selectivity_min=float(np.min(sel)),
             selectivity_max=float(np.max(sel)), qps_1=len(qids) / wall, qps_2=None,
             plan=explain(inst, ds, sql, gucs, attr), **util.latency_stats(lat))
    log(f"  {p['method']} filter {attr} ({variant}): recall@10 {p['recall_at_10']:.4f}, "
        f"{p['rows_returned']:.2f} rows, p50 {p['p50_ms']:.2f} ms")
    return p


def build_index(inst, method, opts, metric, workers, log=util.log):
    """CREATE INDEX with max_parallel_maintenance_workers = workers (the table's
    parallel_workers is set to the same so the planner's size heuristics don't veto
    it); returns seconds, index bytes and WAL bytes. Progress lines while it runs."""
    sql = method.create_sql(INDEX, "items", "embedding", metric, opts)
    label = "serial" if workers == 0 else f"{workers} parallel workers"
    log(f"  {sql}  [{label}]")
    with inst.connect() as c:
        c.execute("CHECKPOINT")
        c.execute(f"SET max_parallel_maintenance_workers = {workers}")
        if workers:
            c.execute(f"ALTER TABLE items SET (parallel_workers = {workers})")
        lsn = wal_lsn(c)
        t0 = time.perf_counter()
        with util.Ticker(_build_progress(inst, t0, log)):
            c.execute(sql)
        secs = time.perf_counter() - t0
        wal = wal_since(c, lsn)
        if workers:
            c.execute("ALTER TABLE items RESET (parallel_workers)")
        size = c.execute("SELECT pg_relation_size(%s::regclass)", (INDEX,)).fetchone()[0]
    log(f"  built in {secs:.1f}s: {size / 2**20:.1f} MiB, WAL {wal / 2**20:.1f} MiB")
    return {"seconds": secs, "index_bytes": size, "wal_bytes": wal}


def _build_progress(inst, t0, log):
    """A ticker callback printing pg_stat_progress_create_index."""
    state = {}

    def report():
        """Print one progress line (own connection, made on first use)."""
        if "conn" not in state:
            state["conn"] = inst.connect()
        row = state["conn"].execute(
            "SELECT phase, blocks_done, blocks_total, tuples_done, tuples_total "
            "FROM pg_stat_progress_create_index LIMIT 1").fetchone()
        el = time.perf_counter() - t0
        if row:
            log(f"    building: {el:.0f}s, phase '{row[0]}', blocks {row[1]:,}/{row[2]:,}, "
                f"tuples {row[3]:,}/{row[4]:,}")
        else:
            log(f"    building: {el:.0f}s")
    return report


def drop_index(inst):
    """Drop the vector index if it exists."""
    with inst.connect() as c:
        c.execute(f"DROP INDEX IF EXISTS {INDEX}")


def measure_cold(inst, ds, base_point, gucs, rel_bytes, qids, drop_os_cache, log=util.log):
    """Restart with shared_buffers far below the searched relation's size, run the
    queries once without warm-up, restore the settings; the OS page cache stays warm
    unless drop_os_cache."""
    normal = inst.settings["shared_buffers"]
    small_kb = max(1024, (rel_bytes // 16) // 1024 // 1024 * 1024)
    log(f"  cold cache: restart with shared_buffers={small_kb // 1024}MB "
        f"(searched relation {rel_bytes / 2**20:.0f} MiB)")
    inst.restart(shared_buffers=f"'{small_kb}kB'")
    try:
        if drop_os_cache:
            _drop_os_cache(log)
        ids, lat, wall = run_pass(inst, ds, knn_sql(ds.metric, 10), qids, gucs)
    finally:
        inst.restart(shared_buffers=normal)
    p = dict(base_point, kind="cold", shared_buffers_bytes=small_kb * 1024,
             os_cache_dropped=bool(drop_os_cache),
             recall_at_10=ds.recall(10).mean(ids, qids), recall_at_100=None,
             qps_1=len(qids) / wall, qps_2=None, first_ms=lat[0] * 1000, **util.latency_stats(lat))
    log(f"  cold: recall@10 {p['recall_at_10']:.4f}, {p['qps_1']:,.1f} QPS, first query {p['first_ms']:.1f} ms, "
        f"p99 {p['p99_ms']:.2f} ms")
    return p


def _drop_os_cache(log):
    """Ask the kernel to drop clean page-cache pages (root only; affects the machine)."""
    try:
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("1\n")
    except OSError as e:
        log(f"  (could not drop the OS page cache: {e})")


def measure_insert(inst, ds, base_point, pool_size, seconds, clients_list=(1, 2), log=util.log):
    """Rows/s inserting new vectors into the (indexed) items table with pgbench, for each
    client count; the inserted rows are not removed here (see cleanup_inserts)."""
    script = (f"WITH k AS (SELECT nextval('ins_seq') AS v)\n"
              f"INSERT INTO items (id, embedding, section, cat) SELECT {INSERT_ID_OFFSET} + k.v, "
              f"s.embedding, s.section, s.cat FROM k JOIN ins_src s ON s.id = k.v % {pool_size};\n")
    points = []
    for clients in clients_list:
        r = inst.pgbench(script, clients=clients, duration=seconds)
        points.append(dict(base_point, kind="insert", clients=clients, rows_per_s=r["tps"],
                           recall_at_10=None, recall_at_100=None, qps_1=None, qps_2=None,
                           p50_ms=None, p95_ms=None, p99_ms=None, latency_avg_ms=r["latency_ms"]))
        log(f"  insert, {clients} client(s): {r['tps']:,.1f} rows/s")
    return points


def measure_vacuum(inst, ds, base_point, qids, gucs, every=10, log=util.log):
    """Delete every `every`-th base row (id % every = 0; 10%), time the VACUUM, then
    measure recall@10 against the exact top-10 of the remaining rows (the ground truth
    minus the deleted ids)."""
    with inst.connect() as c:
        gone = c.execute(f"DELETE FROM items WHERE id % {every} = 0").rowcount
        t0 = time.perf_counter()
        c.execute("VACUUM items")
        secs = time.perf_counter() - t0
    keep = ds.gt % every != 0
    gt_after = np.full((ds.nq, 10), -1, np.int32)
    for i in range(ds.nq):
        rest = ds.gt[i][keep[i]][:10]
        gt_after[i, :len(rest)] = rest
    ids, lat, wall = run_pass(inst, ds, knn_sql(ds.metric, 10), qids, gucs, warmup=min(20, len(qids)))
    p = dict(base_point, kind="vacuum", vacuum_s=secs, rows_deleted=gone,
             recall_at_10=datasets.Recall(ds, gt_after, 10).mean(ids, qids), recall_at_100=None,
             rows_returned=float(np.mean([len(r) for r in ids])), qps_1=len(qids) / wall, qps_2=None,
             **util.latency_stats(lat))
    log(f"  deleted {gone:,} rows, VACUUM {secs:.2f}s; then recall@10 {p['recall_at_10']:.4f}, "
        f"{p['rows_returned']:.2f} rows")
    return p


def restore_deleted(inst, ds, every=10):
    """Put back the base rows measure_vacuum deleted (call without the vector index)."""
    ids = np.arange(0, ds.n, every)
    with inst.connect() as c:
        register_vector(c)
        copy_binary(c, "items", ids, ds.base[ids], ds.attrs["section"][ids], ds.attrs["cat"][ids])
        c.execute("VACUUM (ANALYZE) items")


def cleanup_inserts(inst):
    """Remove the rows the insert benchmark added and reset its sequence."""
    with inst.connect() as c:
        c.execute(f"DELETE FROM items WHERE id >= {INSERT_ID_OFFSET}")
        c.execute("VACUUM items")
        c.execute("ALTER SEQUENCE ins_seq RESTART")


def plain_copy(inst, log=util.log):
    """items_plain: a copy of items with the vectors stored inline (STORAGE PLAIN) instead
    of out of line in TOAST (the type's default, STORAGE external); returns its name."""
    log("  copying items to items_plain with SET STORAGE PLAIN (vectors inline, no TOAST)")
    with inst.connect() as c:
        c.execute("DROP TABLE IF EXISTS items_plain")
        c.execute("CREATE TABLE items_plain (LIKE items)")
        c.execute("ALTER TABLE items_plain ALTER COLUMN embedding SET STORAGE PLAIN")
        c.execute("INSERT INTO items_plain SELECT * FROM items")
        c.execute("VACUUM (ANALYZE) items_plain")
        c.execute("SELECT pg_prewarm('items_plain')")
    return "items_plain"


def measure_scan_rate(inst, ds, base_point, qids, workers, table="items", log=util.log):
    """Exact k-NN (no index) rows scanned per second, with max_parallel_workers_per_gather
    = workers; per core when workers = 0."""
    gucs = {"max_parallel_workers_per_gather": workers}
    sql = knn_sql(ds.metric, 10, table=table)
    ids, lat, wall = run_pass(inst, ds, sql, qids, gucs, warmup=min(3, len(qids)))
    rate = ds.n * len(qids) / wall
    p = dict(base_point, kind="scan", table=table, workers_per_gather=workers, rows_per_s=rate,
             rows_per_s_per_core=rate if workers == 0 else None,
             recall_at_10=ds.recall(10).mean(ids, qids), recall_at_100=None,
             qps_1=len(qids) / wall, qps_2=None, queries=len(qids),
             plan=explain(inst, ds, sql, gucs), **util.latency_stats(lat))
    log(f"  exact scan of {table}, {workers} parallel workers: {rate / 1e6:,.2f} M rows/s, "
        f"{p['qps_1']:,.2f} QPS, recall@10 {p['recall_at_10']:.4f}")
    return p
