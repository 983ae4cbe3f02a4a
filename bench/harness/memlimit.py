"""Phase `memlimit`: index methods searched when the index is larger than memory.

Each method's index is built by the suite's normal server (plenty of memory). For the
measurement the server is restarted inside a fresh cgroup v1 memory cgroup
(/sys/fs/cgroup/memory/vxbench-<pid>): memory.limit_in_bytes (and memory.memsw.limit_in_bytes
when it exists, so swap cannot stand in for memory) set to the limit, and pg_ctl started from
a shell that first wrote its own PID to the cgroup's cgroup.procs, so the postmaster and every
backend run inside it. The page cache their reads fill is charged to the cgroup, so at most
limit - shared_buffers - process memory of the relations stays cached. Then `sync`, the OS
page cache is dropped (echo 3 > /proc/sys/vm/drop_caches; pages cached before, e.g. by the
build, would otherwise be served without being charged), a few warm-up queries run, and the
method's search setting is swept with one Python client.

Per sweep point: recall@10, QPS, latencies; shared-buffer misses per query of the index and
of the table (heap + TOAST: pg_statio deltas; a miss may still be served by the cgroup's
page cache), the bytes the backend really read from storage per query (/proc/<pid>/io
read_bytes), the cgroup's major faults per query (memory.stat total_pgmajfault: faults on
mapped memory only, so near 0 for PostgreSQL, which read()s its files), and the cgroup's
peak memory (memory.max_usage_in_bytes, reset before each point).

The server is stopped and the cgroup removed (memory.force_empty, rmdir) whatever happens;
the normal server is then started again outside it for the next method.
"""
import os
import re
import signal
import subprocess
import time

import numpy as np

from . import sqlbench, util

CGROUP_ROOT = "/sys/fs/cgroup/memory"
SKIP_MESSAGE = "cgroups unavailable: memlimit scenario skipped"
EXTRA_SWEEP_POINTS = 4      # search settings per curve of a method's memlimit_sweeps


def parse_size(text):
    """A size such as '256MiB', '256M', '256MB', '1G', '1.5GiB' or '268435456' in bytes (all
    multiples binary)."""
    m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([kKmMgGtT]?)(?:i?[bB])?\s*", str(text))
    if not m:
        raise util.UserError(f"cannot read the size {text!r} (e.g. 256MiB, 1G, 268435456)")
    mult = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}[m.group(2).lower()]
    return int(float(m.group(1)) * mult)


def available(root=CGROUP_ROOT):
    """Whether a memory cgroup can be made and limited here: (ok, reason)."""
    if not os.path.isfile(os.path.join(root, "memory.limit_in_bytes")):
        return False, f"{root} is not a cgroup v1 memory hierarchy"
    probe = os.path.join(root, f"vxbench-probe-{os.getpid()}")
    try:
        os.mkdir(probe)
    except OSError as e:
        return False, f"cannot create a cgroup under {root}: {e.strerror}"
    try:
        with open(os.path.join(probe, "memory.limit_in_bytes"), "w") as f:
            f.write(str(2**40))
        if not os.access(os.path.join(probe, "cgroup.procs"), os.W_OK):
            return False, "the cgroup's cgroup.procs is not writable"
    except OSError as e:
        return False, f"cannot set a memory limit: {e.strerror}"
    finally:
        try:
            os.rmdir(probe)
        except OSError:
            pass
    return True, ""


class MemCgroup:
    """A memory cgroup of our own for the duration of a `with` block: created with the
    limit, removed afterwards (memory.force_empty, then rmdir). Processes still in it at
    exit can only be ones we started (the caller stops the server before); they are ended
    by PID so the cgroup can go."""

    def __init__(self, limit_bytes, root=CGROUP_ROOT, log=util.log):
        """Name it after our PID; nothing is created until __enter__."""
        self.path = os.path.join(root, f"vxbench-{os.getpid()}")
        self.want = limit_bytes
        self.log = log
        self.limit = None
        self.memsw = False

    @property
    def procs_file(self):
        """The cgroup.procs file a process writes its PID to, to join."""
        return os.path.join(self.path, "cgroup.procs")

    def __enter__(self):
        """Create the cgroup and set its limits (memsw too, when swap accounting exists)."""
        if os.path.isdir(self.path):      # a leftover of an earlier failure in this process
            self.remove()
        os.mkdir(self.path)
        try:
            self.write("memory.limit_in_bytes", self.want)
            if os.path.exists(os.path.join(self.path, "memory.memsw.limit_in_bytes")):
                self.write("memory.memsw.limit_in_bytes", self.want)
                self.memsw = True
            self.limit = int(self.read("memory.limit_in_bytes"))
        except BaseException:
            self.remove()
            raise
        self.log(f"  cgroup {self.path}: memory.limit_in_bytes={self.limit:,}"
                 + (" (memsw too)" if self.memsw else " (no memsw file: swap not limited)"))
        return self

    def __exit__(self, *exc):
        """Remove the cgroup, also on error."""
        self.remove()

    def read(self, name):
        """The content of one of the cgroup's files."""
        with open(os.path.join(self.path, name)) as f:
            return f.read()

    def write(self, name, value):
        """Write a value to one of the cgroup's files."""
        with open(os.path.join(self.path, name), "w") as f:
            f.write(f"{value}\n")

    def stat(self):
        """memory.stat as a dict of ints."""
        out = {}
        for line in self.read("memory.stat").splitlines():
            k, _, v = line.partition(" ")
            if v.strip().isdigit():
                out[k] = int(v)
        return out

    def pids(self):
        """PIDs in the cgroup."""
        try:
            return [int(x) for x in self.read("cgroup.procs").split()]
        except OSError:
            return []

    def remove(self):
        """Empty and remove the cgroup; processes still in it (ours) are ended by PID first."""
        if not os.path.isdir(self.path):
            return
        for sig in (signal.SIGTERM, signal.SIGKILL):
            pids = self.pids()
            if not pids:
                break
            self.log(f"  cgroup still holds PIDs {pids}: sending {sig.name}")
            for pid in pids:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            for _ in range(50):
                if not self.pids():
                    break
                time.sleep(0.1)
        try:
            self.write("memory.force_empty", 0)
        except OSError as e:
            self.log(f"  (memory.force_empty: {e.strerror})")
        for attempt in range(50):
            try:
                os.rmdir(self.path)
                return
            except FileNotFoundError:
                return
            except OSError as e:
                if attempt == 49:
                    self.log(f"WARNING: could not remove the cgroup {self.path}: {e.strerror}; "
                             f"remove it with: rmdir {self.path}")
                time.sleep(0.1)


def drop_os_cache(data_dir, log=util.log):
    """sync, then drop the OS page cache (root; the whole machine). Where that is refused,
    evict at least the instance's files (posix_fadvise DONTNEED). Returns what was done."""
    subprocess.run(["sync"], check=False)
    try:
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
        return "drop_caches"
    except OSError as e:
        log(f"  cannot drop the OS page cache ({e.strerror}); evicting the instance's files instead")
    n = 0
    for dirpath, _, files in os.walk(data_dir):
        for name in files:
            try:
                fd = os.open(os.path.join(dirpath, name), os.O_RDONLY)
            except OSError:
                continue
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                n += 1
            finally:
                os.close(fd)
    return f"fadvise DONTNEED on {n} files"


STATIO_SQL = """
SELECT coalesce(sum(i.idx_blks_read), 0), coalesce(sum(i.idx_blks_hit), 0),
       coalesce(max(t.heap_blks_read), 0) + coalesce(max(t.toast_blks_read), 0),
       coalesce(max(t.heap_blks_hit), 0) + coalesce(max(t.toast_blks_hit), 0),
       coalesce(max(t.tidx_blks_read), 0)
FROM pg_statio_user_tables t LEFT JOIN pg_statio_user_indexes i
     ON i.relid = t.relid AND i.indexrelname = %s
WHERE t.relname = 'items'"""
STATIO_KEYS = ("idx_blks_read", "idx_blks_hit", "heap_blks_read", "heap_blks_hit", "toast_idx_blks_read")


def _statio(cur):
    """Block counters of items (heap + TOAST) and the vector index. The session's pending
    statistics are flushed first (PG 15 flushes them before the next ReadyForQuery once
    pg_stat_force_next_flush() was called), so the counters include its own queries."""
    cur.execute("SELECT pg_stat_force_next_flush()")
    cur.execute(STATIO_SQL, (sqlbench.INDEX,), prepare=False)
    return dict(zip(STATIO_KEYS, (int(x) for x in cur.fetchone())))


def _read_bytes(pid):
    """Bytes the process really caused to be fetched from storage (/proc/<pid>/io)."""
    try:
        with open(f"/proc/{pid}/io") as f:
            for line in f:
                if line.startswith("read_bytes:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def measured_pass(inst, ds, cg, qids, gucs):
    """One client, prepared statements, one query each (no warm-up: the caches are what
    the earlier queries left); returns the ids per query, latencies, wall time and the
    per-query deltas of the block, I/O and cgroup counters."""
    sql = sqlbench.knn_sql(ds.metric, 10)
    with inst.connect() as c:
        sqlbench.register_vector(c)
        sqlbench.set_gucs(c, gucs)
        cur = c.cursor()
        pid = cur.execute("SELECT pg_backend_pid()").fetchone()[0]
        s0 = _statio(cur)
        io0, cs0, fail0 = _read_bytes(pid), cg.stat(), int(cg.read("memory.failcnt"))
        cg.write("memory.max_usage_in_bytes", 0)       # resets the peak to the current usage
        results, lat = [], []
        prog = util.Progress("    queries", every=20.0)
        t_start = time.perf_counter()
        for j, i in enumerate(qids):
            t = time.perf_counter()
            cur.execute(sql, (ds.queries[i],), prepare=True)
            rows = cur.fetchall()
            lat.append(time.perf_counter() - t)
            results.append([r[0] for r in rows])
            prog.update(j + 1, len(qids))
        wall = time.perf_counter() - t_start
        io1, cs1, fail1 = _read_bytes(pid), cg.stat(), int(cg.read("memory.failcnt"))
        peak = int(cg.read("memory.max_usage_in_bytes"))
        s1 = _statio(cur)
    n = len(qids)
    fault_key = "total_pgmajfault" if "total_pgmajfault" in cs1 else "pgmajfault"
    out = {f"{k}_per_q": (s1[k] - s0[k]) / n for k in STATIO_KEYS}
    out.update(disk_read_kib_per_q=(io1 - io0) / 1024 / n if io0 is not None and io1 is not None else None,
               majflt_per_q=(cs1.get(fault_key, 0) - cs0.get(fault_key, 0)) / n,
               cgroup_peak_bytes=peak, cgroup_failcnt=fail1 - fail0,
               cgroup_cache_bytes=cs1.get("total_cache", cs1.get("cache")),
               cgroup_rss_bytes=cs1.get("total_rss", cs1.get("rss")))
    return results, lat, wall, out


def run_method(sc, inst, ds, m, opts, build, qids, warm_qids, limit_bytes, checks, log=util.log):
    """Measure one built index (named sqlbench.INDEX) inside a memory cgroup: restart in
    the cgroup, drop the caches, warm up, sweep; the server is then restarted normally.
    Returns the points and a summary of the run."""
    normal_sb = inst.settings["shared_buffers"]
    force = sqlbench.FORCE_INDEX
    values = list(m.search_values)
    curves = [({}, values)]
    for guc, extra in m.memlimit_sweeps.items():
        few = [values[i] for i in sorted(set(np.linspace(0, len(values) - 1, EXTRA_SWEEP_POINTS)
                                            .round().astype(int)))]
        curves += [({guc: x}, few) for x in extra]
    points, info = [], {"method": m.name, "index_bytes": build["index_bytes"]}
    try:
        with MemCgroup(limit_bytes, log=log) as cg:
            try:
                log(f"  restarting the server inside {cg.path} with shared_buffers={sc.mem_shared_buffers}")
                inst.restart(cgroup_procs=cg.procs_file, shared_buffers=f"'{sc.mem_shared_buffers}'")
                pm = inst.postmaster_pid()
                inside = pm in cg.pids()
                checks.check(f"memlimit {m.name}: the postmaster runs inside the cgroup", inside,
                             f"postmaster {pm}, cgroup {cg.pids()}")
                info.update(cgroup=cg.path, limit_bytes=cg.limit, memsw_limited=cg.memsw,
                            os_cache=drop_os_cache(inst.data, log))
                log(f"  OS page cache: {info['os_cache']}; {len(warm_qids)} warm-up queries")
                warm = dict({m.search_guc: m.default_search}, **force)
                _, wlat, _, wcnt = measured_pass(inst, ds, cg, warm_qids, warm)
                info.update(warmup_queries=len(warm_qids), warmup_ms_first=wlat[0] * 1000,
                            warmup_disk_read_kib_per_q=wcnt["disk_read_kib_per_q"],
                            warmup_idx_blks_read_per_q=wcnt["idx_blks_read_per_q"])
                plan = sqlbench.explain(inst, ds, sqlbench.knn_sql(ds.metric, 10), warm)
                peak = wcnt["cgroup_peak_bytes"]
                for extra, vals in curves:
                    for v in vals:
                        gucs = dict({m.search_guc: v}, **extra, **force)
                        ids, lat, wall, cnt = measured_pass(inst, ds, cg, qids, gucs)
                        peak = max(peak, cnt["cgroup_peak_bytes"])
                        p = dict({"dataset": ds.name, "metric": ds.metric, "system": "vector",
                                  "method": m.name, "options": opts, "search_param": m.search_guc,
                                  "search_setting": v, "extra_settings": extra}, **build)
                        p.update(kind="memlimit", recall_at_10=ds.recall(10).mean(ids, qids), recall_at_100=None,
                                 qps_1=len(qids) / wall, qps_2=None, queries=len(qids), plan=plan,
                                 mem_limit_bytes=cg.limit, shared_buffers=sc.mem_shared_buffers,
                                 os_cache=info["os_cache"], **util.latency_stats(lat), **cnt)
                        points.append(p)
                        ex = "".join(f" {k}={x}" for k, x in extra.items())
                        disk = cnt["disk_read_kib_per_q"]
                        log(f"  {m.name} {m.search_guc}={v}{ex}: recall@10 {p['recall_at_10']:.4f}, "
                            f"{p['qps_1']:,.1f} QPS, p50 {p['p50_ms']:.2f} ms, p99 {p['p99_ms']:.2f} ms, "
                            f"idx {cnt['idx_blks_read_per_q']:.1f} / heap {cnt['heap_blks_read_per_q']:.1f} "
                            f"blocks read per query, disk {'-' if disk is None else f'{disk:.0f}'} KiB/q, "
                            f"peak {cnt['cgroup_peak_bytes'] / 2**20:.0f} MiB")
                info.update(cgroup_peak_bytes=peak, stat_end=cg.stat())
            finally:
                # leave the cgroup empty: stop the server (also after a failed start)
                inst.stop(force=True)
                if cg.pids():
                    inst.stop(mode="immediate", force=True)
    finally:
        log(f"  cgroup removed; restarting the server normally (shared_buffers={normal_sb})")
        inst.restart(shared_buffers=normal_sb)
    if points:
        best = max(p["recall_at_10"] for p in points)
        checks.check(f"memlimit {m.name}: recall@10 non-trivial (>= 0.8 at the widest search)", best >= 0.8,
                     f"best {best:.4f}")
        checks.check(f"memlimit {m.name}: plans use the index", sqlbench.INDEX in points[0]["plan"],
                     points[0]["plan"][:200])
        checks.check(f"memlimit {m.name}: block counters measured",
                     sum(p["idx_blks_read_per_q"] + p["idx_blks_hit_per_q"] for p in points) > 0)
    return points, info
