#!/usr/bin/python3
"""Embed the Debian package descriptions and write the benchmark files.

Usage: debian_build.py WORK_DIR OUT_DIR DIM [--seed 42] [--nq 1000] [--method ftsent-centered|ftsent|sif]

Inputs (in WORK_DIR): corpus.tsv, text.txt (from debian_corpus.py / debian_tokenize.py)
and the fastText model ft<DIM>.bin.

Embedding (method "ftsent-centered", default): `fasttext print-sentence-vectors`
on the package's token line (fastText's unsupervised sentence vector = unweighted
mean of the L2-normalised word vectors, word vectors include subword n-grams so
every token has one), then the mean of the BASE rows is subtracted from every
vector (base and query); the mean is written to mean.fvecs (raw = centred + mean).
Centring does not change L2 neighbours; it removes the common direction that
made random pairs have cosine ~0.83 and slightly improves neighbour quality.
Other methods, for comparison only: "ftsent" (no centring) and "sif" (SIF-weighted
mean, a=1e-3, first singular vector removed) -- SIF scored worse here.

Outputs in OUT_DIR (ids are 0-based row numbers of base.fvecs / query.fvecs):
  base.fvecs, query.fvecs            the (centred) vectors, not normalised (L2 / IP)
  base_unit.fvecs, query_unit.fvecs  the same vectors L2-normalised (cosine)
  mean.fvecs                         the base mean that was subtracted (1 row)
  gt_l2.ivecs  + gt_l2_dist.fvecs    exact top-100 by Euclidean distance (raw vectors)
  gt_cos.ivecs + gt_cos_dist.fvecs   exact top-100 by cosine distance 1-cos
  gt_cos_same_section.ivecs (+_dist.fvecs)  exact top-10 by cosine among base rows
                                     whose section equals the query's (-1 padded)
  gt_l2_same_section.ivecs  (+_dist.fvecs)  same with Euclidean distance
  gt.ivecs (= gt_cos.ivecs) + meta.json {"metric": "cosine"}: for tools that read one ground truth + its metric
  metadata.csv, query_meta.csv, stats.json, sanity_neighbours.txt
Ties are broken by smaller id; distances are computed in float64.
"""
import argparse
import collections
import csv
import json
import os
import subprocess
import sys
import time

import numpy as np

SIF_A = 1e-3
SANITY = ["postgresql-15", "nginx", "python3-numpy", "vim", "openssh-server", "gimp",
          "libssl-dev", "rustc", "texlive-latex-base", "fonts-dejavu-core"]


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, flush=True)


def write_vecs(path, arr, dtype):
    arr = np.ascontiguousarray(arr, dtype=dtype)
    n, d = arr.shape
    out = np.empty((n, d + 1), dtype=dtype)
    out.view(np.int32)[:, 0] = d
    out[:, 1:] = arr
    out.tofile(path)


def fasttext_lines(args, lines):
    res = subprocess.run(["fasttext"] + args, input="\n".join(lines) + "\n",
                         capture_output=True, text=True, check=True)
    return res.stdout.rstrip("\n").split("\n")


def embed_sif(model, texts):
    cnt = collections.Counter(w for s in texts for w in s.split())
    vocab = sorted(cnt)
    out = fasttext_lines(["print-word-vectors", model], vocab)
    if len(out) != len(vocab):
        sys.exit("print-word-vectors returned %d lines for %d words" % (len(out), len(vocab)))
    W = np.array([l.rstrip(" ").split(" ")[1:] for l in out], dtype=np.float64)
    for w, l in zip(vocab[:50], out[:50]):
        assert l.split(" ")[0] == w
    W /= np.maximum(np.linalg.norm(W, axis=1, keepdims=True), 1e-12)
    tot = float(sum(cnt.values()))
    wt = np.array([SIF_A / (SIF_A + cnt[w] / tot) for w in vocab])
    W *= wt[:, None]
    idx = {w: i for i, w in enumerate(vocab)}
    E = np.zeros((len(texts), W.shape[1]))
    for i, s in enumerate(texts):
        ids = [idx[w] for w in s.split()]
        E[i] = W[ids].sum(0) / len(ids)
    _, _, vt = np.linalg.svd(E, full_matrices=False)
    u = vt[0]
    E -= np.outer(E @ u, u)
    return E.astype(np.float32), {"vocab_size": len(vocab), "tokens": int(tot)}


def embed_ftsent(model, texts):
    out = fasttext_lines(["print-sentence-vectors", model], texts)
    return np.array([l.split() for l in out], dtype=np.float32), {}


def topk(Q, B, k, metric, mask=None):
    """Exact top-k (ids, distances), float64, ties -> smaller id."""
    Q = Q.astype(np.float64)
    B = B.astype(np.float64)
    ids = np.full((len(Q), k), -1, dtype=np.int32)
    dist = np.full((len(Q), k), np.inf, dtype=np.float64)
    bn = (B * B).sum(1)
    for s in range(0, len(Q), 100):
        q = Q[s:s + 100]
        if metric == "l2":
            d = np.maximum((q * q).sum(1)[:, None] - 2 * q @ B.T + bn[None, :], 0.0)
        else:  # cosine distance, inputs already unit length
            d = 1.0 - q @ B.T
        if mask is not None:
            d = np.where(mask[s:s + 100], d, np.inf)
        kk = min(k + 50, d.shape[1] - 1)
        part = np.argpartition(d, kk, axis=1)[:, :kk + 1]
        for r in range(len(q)):
            c = part[r]
            dc = d[r, c]
            # exact recomputation for the candidates to avoid cancellation error
            if metric == "l2":
                dc = np.where(np.isfinite(dc), ((B[c] - q[r]) ** 2).sum(1), np.inf)
            o = np.lexsort((c, dc))[:k]
            good = np.isfinite(dc[o])
            n = int(good.sum())
            ids[s + r, :n] = c[o][good]
            dist[s + r, :n] = dc[o][good]
            # make sure nothing outside the candidate set beats the k-th (argpartition guarantee)
    if metric == "l2":
        dist = np.sqrt(dist)
    return ids, dist


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("work")
    ap.add_argument("out")
    ap.add_argument("dim", type=int)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--nq", type=int, default=1000)
    ap.add_argument("--method", default="ftsent-centered", choices=["ftsent-centered", "ftsent", "sif"])
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    t0 = time.time()
    rows = [l.rstrip("\n").split("\t") for l in open(os.path.join(a.work, "corpus.tsv"), encoding="utf-8")]
    texts = [l.rstrip("\n") for l in open(os.path.join(a.work, "text.txt"), encoding="utf-8")]
    assert len(rows) == len(texts)
    N = len(rows)
    model = os.path.join(a.work, "ft%d.bin" % a.dim)
    log("embedding %d packages with %s (%s)" % (N, model, a.method))
    E, einfo = (embed_sif if a.method == "sif" else embed_ftsent)(model, texts)
    assert E.shape == (N, a.dim) and np.isfinite(E).all()

    rng = np.random.default_rng(a.seed)
    qset = np.sort(rng.permutation(N)[:a.nq])
    isq = np.zeros(N, bool)
    isq[qset] = True
    bidx = np.nonzero(~isq)[0]
    qidx = qset
    log("base %d, queries %d" % (len(bidx), len(qidx)))
    raw_cos = None
    if a.method == "ftsent-centered":
        rr = np.random.default_rng(a.seed + 2)
        i1, i2 = rr.integers(0, N, 20000), rr.integers(0, N, 20000)
        En = E / np.linalg.norm(E, axis=1, keepdims=True)
        raw_cos = float(np.median((En[i1] * En[i2]).sum(1)))
        mu = E[bidx].astype(np.float64).mean(0)
        E = (E.astype(np.float64) - mu).astype(np.float32)
        write_vecs(os.path.join(a.out, "mean.fvecs"), mu[None, :], np.float32)
        einfo["median_cos_random_pairs_before_centering"] = raw_cos
    t_embed = time.time() - t0
    U = E / np.linalg.norm(E, axis=1, keepdims=True)

    write_vecs(os.path.join(a.out, "base.fvecs"), E[bidx], np.float32)
    write_vecs(os.path.join(a.out, "query.fvecs"), E[qidx], np.float32)
    write_vecs(os.path.join(a.out, "base_unit.fvecs"), U[bidx], np.float32)
    write_vecs(os.path.join(a.out, "query_unit.fvecs"), U[qidx], np.float32)

    sec = np.array([r[4] for r in rows])
    bsec = sec[bidx]
    qsec = sec[qidx]
    sec_count = collections.Counter(bsec.tolist())

    def meta_row(i, r):
        tags = ";".join(t.strip() for t in r[8].split(",") if t.strip())
        return [i, r[0], r[4], r[5], r[6], r[1], r[2], r[3], r[7], tags, r[10]]
    hdr = ["id", "package", "section", "priority", "installed_size", "version",
           "architecture", "source", "maintainer", "debtags", "short_description"]
    with open(os.path.join(a.out, "metadata.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(hdr)
        for i, j in enumerate(bidx):
            w.writerow(meta_row(i, rows[j]))
    with open(os.path.join(a.out, "query_meta.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(hdr[:5] + ["section_base_rows", "section_selectivity"] + hdr[5:])
        for i, j in enumerate(qidx):
            m = meta_row(i, rows[j])
            c = sec_count.get(rows[j][4], 0)
            w.writerow(m[:5] + [c, "%.6f" % (c / len(bidx))] + m[5:])

    t1 = time.time()
    Eb, Eq, Ub, Uq = E[bidx], E[qidx], U[bidx], U[qidx]
    gl2, dl2 = topk(Eq, Eb, 100, "l2")
    gcos, dcos = topk(Uq, Ub, 100, "cos")
    mask = qsec[:, None] == bsec[None, :]
    gcs, dcs = topk(Uq, Ub, 10, "cos", mask)
    gls, dls = topk(Eq, Eb, 10, "l2", mask)
    t_gt = time.time() - t1
    for name, g, d in [("gt_l2", gl2, dl2), ("gt_cos", gcos, dcos),
                       ("gt_cos_same_section", gcs, dcs), ("gt_l2_same_section", gls, dls)]:
        write_vecs(os.path.join(a.out, name + ".ivecs"), g, np.int32)
        write_vecs(os.path.join(a.out, name + "_dist.fvecs"), np.where(np.isfinite(d), d, -1.0), np.float32)

    # convenience for tools that read gt.ivecs + meta.json "metric": cosine
    write_vecs(os.path.join(a.out, "gt.ivecs"), gcos, np.int32)
    json.dump({"name": "debian-d%d" % a.dim, "metric": "cosine", "n": int(len(bidx)), "nq": int(len(qidx)),
               "dim": a.dim, "gt": "gt.ivecs = gt_cos.ivecs (cosine); gt_l2.ivecs for metric l2",
               "generator": "bench/datasets/make_debian.sh"},
              open(os.path.join(a.out, "meta.json"), "w"), indent=1)

    # brute-force cross-check of a few gt rows
    for qi in (0, len(qidx) // 2, len(qidx) - 1):
        dd = 1 - Ub.astype(np.float64) @ Uq[qi].astype(np.float64)
        assert list(np.lexsort((np.arange(len(dd)), dd))[:100]) == list(gcos[qi]), "gt_cos check failed"
        dd = ((Eb.astype(np.float64) - Eq[qi].astype(np.float64)) ** 2).sum(1)
        assert list(np.lexsort((np.arange(len(dd)), dd))[:100]) == list(gl2[qi]), "gt_l2 check failed"
        dd = np.where(bsec == qsec[qi], 1 - Ub.astype(np.float64) @ Uq[qi].astype(np.float64), np.inf)
        o = [x for x in np.lexsort((np.arange(len(dd)), dd))[:10] if np.isfinite(dd[x])]
        assert o == [x for x in gcs[qi] if x >= 0], "gt_cos_same_section check failed"

    # ---- statistics -------------------------------------------------------------------
    sel = np.array([sec_count[s] / len(bidx) for s in qsec])
    per_sec_sel = np.array(sorted(c / len(bidx) for c in sec_count.values()))
    norms = np.linalg.norm(Eb, axis=1)
    # local intrinsic dimensionality (MLE, Levina-Bickel) at k=20 and k=100, Euclidean
    # distance between the unit vectors (from the cosine gt)
    def lid(d, k):
        d = d[:, :k]
        d = np.maximum(d, 1e-12)
        return float(np.median(-1.0 / np.mean(np.log(d[:, :-1] / d[:, -1:]), axis=1)))
    rr = np.random.default_rng(a.seed + 1)
    ra, rb = rr.integers(0, len(bidx), 20000), rr.integers(0, len(bidx), 20000)
    rand_cos = 1 - (Ub[ra] * Ub[rb]).sum(1)
    # filtered-recall hazard: how much of the unfiltered top-100 is in the query's section
    in_sec_top100 = np.mean([(bsec[gcos[i]] == qsec[i]).mean() for i in range(len(qidx))])
    # exact / near duplicates
    uniq_rows = len({E[i].tobytes() for i in range(N)})
    sections = sorted(sec_count.items(), key=lambda kv: -kv[1])
    # neighbour quality vs. labels the embedding never saw (section, source, debtags)
    bsrc = np.array([rows[j][3] for j in bidx])
    qsrc = np.array([rows[j][3] for j in qidx])
    tags = [frozenset(t.strip() for t in r[8].split(",") if t.strip() and not t.strip().startswith("role::"))
            for r in rows]
    btags = [tags[j] for j in bidx]
    qtags = [tags[j] for j in qidx]
    jac = lambda x, y: len(x & y) / len(x | y)
    nn_j = [jac(qtags[i], btags[j]) for i in range(len(qidx)) for j in gcos[i, :10] if qtags[i] and btags[j]]
    nn_j_os = [jac(qtags[i], btags[j]) for i in range(len(qidx)) for j in gcos[i, :10]
               if qtags[i] and btags[j] and bsrc[j] != qsrc[i]]
    rnd_j = [jac(qtags[i], btags[j]) for i, j in zip(rr.integers(0, len(qidx), 50000), rr.integers(0, len(bidx), 50000))
             if qtags[i] and btags[j]]
    quality = {
        "cos_top10_same_section": float((bsec[gcos[:, :10]] == qsec[:, None]).mean()),
        "random_same_section": float(sum((c / len(bidx)) ** 2 for c in sec_count.values())),
        "cos_top10_same_source_package": float((bsrc[gcos[:, :10]] == qsrc[:, None]).mean()),
        "cos_top10_debtag_jaccard": float(np.mean(nn_j)),
        "cos_top10_debtag_jaccard_other_source": float(np.mean(nn_j_os)),
        "random_pair_debtag_jaccard": float(np.mean(rnd_j)),
    }
    stats = {
        "dim": a.dim, "method": a.method, "seed": a.seed, "n_total": N, "n_base": int(len(bidx)),
        "n_query": int(len(qidx)), "embedding_info": einfo,
        "n_sections_base": len(sec_count), "sections_base": dict(sections),
        "sections_query_distinct": int(len(set(qsec.tolist()))),
        "selectivity_same_section_per_query": {
            "min": float(sel.min()), "p10": float(np.percentile(sel, 10)), "median": float(np.median(sel)),
            "mean": float(sel.mean()), "p90": float(np.percentile(sel, 90)), "max": float(sel.max())},
        "selectivity_per_section": {"min": float(per_sec_sel[0]), "median": float(np.median(per_sec_sel)),
                                    "max": float(per_sec_sel[-1])},
        "queries_with_fewer_than_10_same_section_rows": int((gcs < 0).any(1).sum()),
        "frac_unfiltered_top100_in_query_section_mean": float(in_sec_top100),
        "raw_norm": {"min": float(norms.min()), "median": float(np.median(norms)), "max": float(norms.max())},
        "cos_dist_random_pairs": {"p1": float(np.percentile(rand_cos, 1)), "median": float(np.median(rand_cos)),
                                  "p99": float(np.percentile(rand_cos, 99))},
        "cos_dist_query_nn1": {"min": float(dcos[:, 0].min()), "median": float(np.median(dcos[:, 0])),
                               "max": float(dcos[:, 0].max())},
        "cos_dist_query_nn10_median": float(np.median(dcos[:, 9])),
        "cos_dist_query_nn100_median": float(np.median(dcos[:, 99])),
        "queries_with_nn1_cos_dist_below_0.01": int((dcos[:, 0] < 0.01).sum()),
        "gt_cos_l2_top10_overlap_mean": float(np.mean([len(set(gcos[i, :10]) & set(gl2[i, :10])) / 10
                                                      for i in range(len(qidx))])),
        "lid_mle_unit_k20_median": lid(np.sqrt(2 * np.maximum(dcos, 0)), 20),
        "lid_mle_unit_k100_median": lid(np.sqrt(2 * np.maximum(dcos, 0)), 100),
        "distinct_vectors": uniq_rows,
        "neighbour_quality": quality,
        "seconds": {"embed": round(t_embed, 1), "ground_truth": round(t_gt, 1)},
    }

    # ---- sanity neighbours (over all packages, cosine) -----------------------------------
    name2i = {r[0]: i for i, r in enumerate(rows)}
    lines = []
    for p in SANITY:
        if p not in name2i:
            lines.append("%s: not in corpus" % p)
            continue
        i = name2i[p]
        s = U @ U[i]
        s[i] = -2
        nn = np.lexsort((np.arange(N), -s))[:10]
        lines.append("%s [%s]%s:" % (p, rows[i][4], " (query)" if isq[i] else ""))
        lines.append("    " + ", ".join("%s (%.2f)" % (rows[j][0], s[j]) for j in nn))
    open(os.path.join(a.out, "sanity_neighbours.txt"), "w").write("\n".join(lines) + "\n")
    json.dump(stats, open(os.path.join(a.out, "stats.json"), "w"), indent=1)
    print("\n".join(lines))
    print(json.dumps({k: v for k, v in stats.items() if k != "sections_base"}, indent=1))
    log("done in %.1fs" % (time.time() - t0))


if __name__ == "__main__":
    main()
