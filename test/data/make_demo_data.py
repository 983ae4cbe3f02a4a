#!/usr/bin/python3
"""make_demo_data.py -- build test/data/debian-demo.tsv.gz from debian-d256.

Reads ../shared/datasets/debian-d256 (base.fvecs + metadata.csv; 62,666
Debian package descriptions embedded in 256 dimensions) and writes a small,
deterministic subset that COPY (text format) loads into

    packages(id int, package text, section text, description text, embedding vector(256))

The subset: the 300 packages nearest to postgresql-15 by cosine distance,
the 100 nearest to nginx and to python3-numpy (so the demo has meaningful
neighbourhoods to explore), topped up to 3,000 rows with a seeded random
sample of the rest. Ids are the dataset's base row numbers. Values are
rounded to 6 significant digits to keep the file small. Only needed to
regenerate the file; the project does not read ../shared at run time.

usage: test/data/make_demo_data.py [DATASET_DIR] [OUT_FILE]
"""
import csv
import gzip
import os
import sys

import numpy as np

ROWS = 3000
ANCHORS = [("postgresql-15", 300), ("nginx", 100), ("python3-numpy", 100)]
SEED = 42


def read_fvecs(path):
    """Return the float32 matrix stored in a TEXMEX .fvecs file."""
    raw = np.fromfile(path, dtype=np.int32)
    dim = raw[0]
    return raw.reshape(-1, dim + 1)[:, 1:].view(np.float32)


def copy_escape(s):
    """Escape a string for COPY's text format."""
    return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "../../../shared/datasets/debian-d256")
    if not os.path.isdir(src):
        src = "/work/shared/datasets/debian-d256"
    dst = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "debian-demo.tsv.gz")

    base = read_fvecs(os.path.join(src, "base.fvecs"))
    with open(os.path.join(src, "metadata.csv"), newline="") as f:
        meta = list(csv.DictReader(f))
    assert len(meta) == len(base)
    by_name = {m["package"]: i for i, m in enumerate(meta)}

    unit = base / np.linalg.norm(base, axis=1, keepdims=True)
    chosen = []
    for name, k in ANCHORS:
        order = np.argsort(1.0 - unit @ unit[by_name[name]], kind="stable")
        chosen.extend(int(i) for i in order[:k] if int(i) not in chosen)
    rest = np.setdiff1d(np.arange(len(base)), chosen)
    rng = np.random.default_rng(SEED)
    chosen.extend(int(i) for i in rng.choice(rest, ROWS - len(chosen), replace=False))

    with gzip.GzipFile(dst, "wb", compresslevel=9, mtime=0) as out:
        for i in sorted(chosen):
            m = meta[i]
            vec = "[" + ",".join(f"{x:.6g}" for x in base[i]) + "]"
            row = [str(i), m["package"], m["section"], m["short_description"], vec]
            out.write(("\t".join(copy_escape(c) for c in row) + "\n").encode())
    print(f"{dst}: {len(chosen)} rows, {os.path.getsize(dst)} bytes")


if __name__ == "__main__":
    main()
