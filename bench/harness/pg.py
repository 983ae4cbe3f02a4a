"""A private PostgreSQL 15 instance for one benchmark run.

The extension is built and installed into a private stage with `test/lib/stage.sh`, and the
server runs from that staged bindir as the `postgres` OS user (PostgreSQL refuses root), with
its own data directory, unix socket directory and port. Every setting that changes results
is written explicitly into the instance's config and reported. The instance is stopped and
its directory removed when the run ends, also on error or Ctrl-C (the caller uses `with`).
"""
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile

import psycopg

from . import util

# Settings every instance gets (the scenario adds memory settings on top).
BASE_SETTINGS = {
    "listen_addresses": "''",
    "jit": "off",                       # JIT compile time would pollute exact-scan latencies
    "autovacuum": "off",                # the suite VACUUMs explicitly; no background noise
    "synchronous_commit": "off",        # insert rates measure CPU work, not fsync latency
    "max_wal_size": "'16GB'",           # no checkpoints forced in the middle of a build
    "checkpoint_timeout": "'1h'",
    "max_worker_processes": "8",
    "max_parallel_workers": "8",
    "max_parallel_workers_per_gather": "2",
    "log_min_messages": "warning",
    "log_checkpoints": "off",
}


def as_postgres(cmd):
    """The command prefixed to run as the postgres OS user when we are root."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return list(cmd)


def stage(root, stage_dir):
    """Build the extension and install it into stage_dir; returns the staged bindir."""
    util.log(f"building and staging the extension: bash test/lib/stage.sh {stage_dir}")
    res = subprocess.run(["bash", os.path.join(root, "test/lib/stage.sh"), stage_dir],
                         cwd=root, capture_output=True, text=True)
    if res.returncode != 0:
        raise util.UserError(f"test/lib/stage.sh failed:\n{res.stderr[-4000:]}")
    return res.stdout.strip().splitlines()[-1]


def free_port(start):
    """The first TCP port from start that nothing listens on (also used as socket name)."""
    for port in range(start, start + 500):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise util.UserError("no free port found")


@contextlib.contextmanager
def huge_pages(settings, wanted):
    """With wanted: reserve enough 2 MiB huge pages for shared_buffers (vm.nr_hugepages,
    root only), set huge_pages=on in settings, and restore the old reservation afterwards.
    PostgreSQL's documented tuning for large shared_buffers: fewer TLB misses per page access."""
    if not wanted:
        yield False
        return
    if os.geteuid() != 0:
        raise util.UserError("--huge-pages needs root (it sets vm.nr_hugepages)")
    path = "/proc/sys/vm/nr_hugepages"
    with open(path) as f:
        old = int(f.read())
    need = old + int(util.parse_bytes(settings["shared_buffers"]) * 1.15 / 2**21) + 256  # + other shared memory, with room
    with open(path, "w") as f:
        f.write(str(need))
    with open(path) as f:
        got = int(f.read())
    try:
        if got < need:
            raise util.UserError(f"could only reserve {got} of {need} huge pages")
        settings["huge_pages"] = "on"
        util.log(f"huge pages: {need - old} x 2 MiB reserved for shared_buffers={settings['shared_buffers']}")
        yield True
    finally:
        with open(path, "w") as f:
            f.write(str(old))


class Instance:
    """A private server: initdb, start, settings changes with restart, stop and cleanup."""

    def __init__(self, bindir, settings, port=None, keep=False, workroot=None):
        """Choose port and directories; nothing runs until __enter__."""
        self.bindir = bindir
        self.settings = dict(BASE_SETTINGS)
        self.settings.update(settings)
        self.port = port or free_port(55000 + os.getpid() % 3000)
        self.keep = keep
        self.dir = tempfile.mkdtemp(prefix="vx-bench-", dir=workroot)
        self.data = os.path.join(self.dir, "data")
        self.sock = os.path.join(self.dir, "sock")
        self.logfile = os.path.join(self.dir, "server.log")
        self.running = False
        self.dbname = "bench"

    # ------------------------------------------------------------ lifecycle

    def __enter__(self):
        """initdb and start; stop again on SIGTERM/SIGHUP like on Ctrl-C."""
        for sig in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, self._on_term)
        try:
            self.init()
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        """Stop and clean up, whatever happened."""
        self.close()

    def _on_term(self, signum, frame):
        """SIGTERM/SIGHUP: unwind like Ctrl-C so the server is stopped."""
        raise KeyboardInterrupt(f"signal {signum}")

    def init(self):
        """initdb into the private directory, owned by postgres."""
        os.makedirs(self.sock)
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
            shutil.chown(self.sock, "postgres")
        os.chmod(self.dir, 0o755)
        self._run([os.path.join(self.bindir, "initdb"), "-D", self.data, "-U", "postgres",
                   "-A", "trust", "-E", "UTF8", "--locale=C", "-N"])
        with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
            f.write("\ninclude 'bench.conf'\n")
        self._write_settings()

    def _write_settings(self):
        """Write the current settings to bench.conf (included by postgresql.conf)."""
        conf = dict(self.settings, port=str(self.port), unix_socket_directories=f"'{self.sock}'")
        path = os.path.join(self.data, "bench.conf")
        with open(path, "w") as f:
            for k, v in conf.items():
                f.write(f"{k} = {v}\n")
        if os.geteuid() == 0:
            shutil.chown(path, "postgres")

    def start(self, cgroup_procs=None):
        """Start the server and create the benchmark database if needed. With cgroup_procs
        (a cgroup's `cgroup.procs` file), pg_ctl is started from a shell that first writes
        its own PID there, so the postmaster and every backend run inside that cgroup."""
        cmd = as_postgres([os.path.join(self.bindir, "pg_ctl"), "-D", self.data, "-l", self.logfile,
                           "-w", "-t", "120", "start"])
        if cgroup_procs:
            cmd = ["sh", "-c", 'echo $$ > "$1" && shift && exec "$@"', "sh", cgroup_procs, *cmd]
        self._run(cmd, wrap=False)
        self.running = True
        with self.connect(dbname="postgres") as c:
            if not c.execute("SELECT 1 FROM pg_database WHERE datname = %s", (self.dbname,)).fetchone():
                c.execute(f"CREATE DATABASE {self.dbname}")

    def stop(self, mode="fast", force=False):
        """Shut down (no error if the server is already down); force: try even when this
        object believes the server is not running (e.g. after a failed start)."""
        if self.running or force:
            subprocess.run(as_postgres([os.path.join(self.bindir, "pg_ctl"), "-D", self.data,
                                        "-m", mode, "-w", "stop"]), capture_output=True)
            self.running = False

    def restart(self, cgroup_procs=None, **changes):
        """Restart with changed settings (values as they appear in postgresql.conf),
        inside a cgroup when cgroup_procs is given (see start)."""
        self.stop()
        self.settings.update(changes)
        self._write_settings()
        self.start(cgroup_procs)

    def postmaster_pid(self):
        """The running postmaster's PID (first line of postmaster.pid), or None."""
        try:
            with open(os.path.join(self.data, "postmaster.pid")) as f:
                return int(f.readline())
        except (OSError, ValueError):
            return None

    def close(self):
        """Stop the server and remove its directory (unless keep)."""
        try:
            self.stop()
        finally:
            if self.keep:
                util.log(f"instance kept in {self.dir} (port {self.port})")
            else:
                shutil.rmtree(self.dir, ignore_errors=True)

    def _run(self, cmd, wrap=True):
        """Run a server tool as postgres (cmd already wrapped when not wrap); on failure
        show its output and the server log."""
        res = subprocess.run(as_postgres(cmd) if wrap else cmd, capture_output=True, text=True)
        if res.returncode != 0:
            tail = ""
            if os.path.exists(self.logfile):
                with open(self.logfile) as f:
                    tail = f.read()[-3000:]
            raise util.UserError(f"{' '.join(cmd)} failed:\n{res.stdout}{res.stderr}\n{tail}")

    # ------------------------------------------------------------ clients

    def connect(self, dbname=None, options=None, **kw):
        """A psycopg connection (autocommit, no automatic preparation)."""
        return psycopg.connect(host=self.sock, port=self.port, user="postgres",
                               dbname=dbname or self.dbname, autocommit=True,
                               prepare_threshold=None, options=options or "", **kw)

    def pgbench(self, script, clients, duration=None, transactions=None, gucs=None):
        """Run pgbench with a custom script (prepared statements); returns tps and the
        average latency. GUCs reach the sessions through PGOPTIONS."""
        path = os.path.join(self.dir, "script.sql")
        with open(path, "w") as f:
            f.write(script)
        os.chmod(path, 0o644)
        cmd = [os.path.join(self.bindir, "pgbench"), "-n", "-M", "prepared", "-c", str(clients),
               "-j", str(clients), "-h", self.sock, "-p", str(self.port), "-U", "postgres",
               "-f", path]
        cmd += ["-T", str(duration)] if duration else ["-t", str(transactions)]
        env = dict(os.environ, PGOPTIONS=pgoptions(gucs))
        res = subprocess.run(cmd + [self.dbname], capture_output=True, text=True, env=env)
        tps = re.search(r"^tps = ([0-9.]+)", res.stdout, re.M)
        if res.returncode != 0 or not tps:
            raise util.UserError(f"pgbench failed:\n{res.stdout[-2000:]}{res.stderr[-2000:]}")
        failed = re.search(r"number of failed transactions: (\d+)", res.stdout)
        if failed and int(failed.group(1)) > 0:
            raise util.UserError(f"pgbench had failed transactions:\n{res.stdout[-2000:]}")
        lat = re.search(r"^latency average = ([0-9.]+) ms", res.stdout, re.M)
        return {"tps": float(tps.group(1)), "latency_ms": float(lat.group(1)) if lat else None}

    def server_version(self):
        """The server's version string."""
        with self.connect() as c:
            return c.execute("SHOW server_version").fetchone()[0]


def pgoptions(gucs):
    """A PGOPTIONS / libpq options string setting the given GUCs."""
    return " ".join(f"-c {k}={v}" for k, v in (gucs or {}).items())

