"""Small shared helpers: progress logging (stderr, so stdout stays the markdown report),
user-facing errors, latency statistics and machine facts.
"""
import os
import re
import platform
import subprocess
import sys
import threading
import time

import numpy as np

T0 = time.time()


class UserError(Exception):
    """An error whose message is meant for the user as is (no traceback)."""


def log(*parts):
    """A progress line on stderr, prefixed with the elapsed run time."""
    el = int(time.time() - T0)
    print(f"[{el // 60:3d}:{el % 60:02d}]", *parts, file=sys.stderr, flush=True)


class Progress:
    """Rate-limited progress reporting for loops: update(done, total) prints at most every
    `every` seconds."""

    def __init__(self, label, out=log, every=10.0):
        """Start the clock."""
        self.label = label
        self.out = out
        self.every = every
        self.t0 = time.time()
        self.last = self.t0

    def update(self, done, total):
        """Report done/total if enough time has passed since the last line."""
        now = time.time()
        if now - self.last >= self.every and done < total:
            self.last = now
            self.out(f"{self.label}: {done:,}/{total:,} ({now - self.t0:.0f}s)")


class Ticker:
    """A background thread that calls `report()` every `every` seconds while a long,
    blocking step runs (e.g. CREATE INDEX); use as a context manager."""

    def __init__(self, report, every=15.0):
        """Prepare (the thread starts on __enter__)."""
        self.report = report
        self.every = every
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        """Thread body: report until stopped; a failing report ends the ticker quietly."""
        while not self.stop.wait(self.every):
            try:
                self.report()
            except Exception:
                return

    def __enter__(self):
        """Start ticking."""
        self.thread.start()
        return self

    def __exit__(self, *exc):
        """Stop ticking and wait for the thread."""
        self.stop.set()
        self.thread.join()


def latency_stats(lat_s):
    """p50/p95/p99 in milliseconds of per-query latencies given in seconds."""
    a = np.asarray(lat_s) * 1000.0
    return {"p50_ms": float(np.percentile(a, 50)), "p95_ms": float(np.percentile(a, 95)),
            "p99_ms": float(np.percentile(a, 99))}


def machine():
    """Cores, CPU model, memory and kernel of this machine."""
    model = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = None
    try:
        with open("/proc/meminfo") as f:
            mem = int(f.readline().split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return {"cores": os.cpu_count(), "cpu_model": model, "memory_bytes": mem,
            "kernel": platform.release(), "load_avg_at_start": os.getloadavg()[0]}


def git_commit(root):
    """The checkout's commit (with a -dirty suffix when there are uncommitted changes)."""
    def git(*args):
        """Output of a git command in the checkout."""
        return subprocess.run(["git", "-C", root, *args], capture_output=True, text=True).stdout.strip()
    commit = git("rev-parse", "HEAD") or "unknown"
    if git("status", "--porcelain", "--untracked-files=no"):
        commit += "-dirty"
    return commit


def parse_bytes(text):
    """A PostgreSQL memory setting ('1GB', '256MB', '8192kB') in bytes."""
    m = re.fullmatch(r"\s*(\d+)\s*(kB|MB|GB|TB)?\s*", text.strip("'"))
    if not m:
        raise UserError(f"cannot read the memory setting {text!r}")
    return int(m.group(1)) * {None: 8192, "kB": 2**10, "MB": 2**20, "GB": 2**30, "TB": 2**40}[m.group(2)]


def fmt_bytes(b):
    """Human-readable size in MiB (or '-' for unknown)."""
    return "-" if b is None else f"{b / 2**20:.1f}"


def fmt(x, digits=1):
    """A number with fixed digits, or '-' for None."""
    if x is None:
        return "-"
    return f"{x:,.{digits}f}"
