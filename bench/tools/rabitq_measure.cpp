/*
 * rabitq_measure.cpp -- the measurements behind kQueryBits (vx/core/rabitq.hpp):
 * for code widths 1, 2, 4 and query widths 4, 6, 8, the mean relative error
 * of Quantizer::estimate() against exact distances and the recall@10 of
 * "top 100 by estimate, re-ranked exactly"; plus pgvectorscale's SBQ
 * baseline (1 bit per dimension: x_i > mean_i; symmetric Hamming distance;
 * top 100 by Hamming re-ranked exactly) on the same data.
 *
 *   rabitq_measure [--queries 500] [--rerank 100] [--seed 42]
 *
 * Data: seeded Gaussian mixtures, 5,000 x 256 and 2,000 x 768 (32 clusters,
 * centres N(0, 1), points centre + N(0, 1)), queries from the same mixture;
 * L2 on the raw data, NegIp (cosine) on normalized data. The quantizer's
 * center is the data mean. NegIp errors are relative to the cosine distance
 * 1 + NegIp (inner products themselves cross zero). Runs in a few seconds.
 */
#include "vx/core/heap.hpp"
#include "vx/core/hnsw_algo.hpp"
#include "vx/core/rabitq.hpp"
#include "vx/kernels/kernels.hpp"

#include "../../test/unit/test_data.hpp" /* the unit tests' seeded clusters */

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

using namespace vx::core;

/* n x dim points of a seeded Gaussian mixture (32 clusters), optionally normalized. */
std::vector<float>
mixture(uint32_t n, uint32_t dim, uint64_t seed, bool normalize)
{
	std::vector<float> out = test::gaussian_clusters(n, dim, 32, seed);
	if (normalize)
		for (uint32_t i = 0; i < n; i++)
			normalize_f32(&out[static_cast<size_t>(i) * dim], dim);
	return out;
}

/* A shorter re-rank list, where the estimators differ more. */
constexpr uint32_t kShortRerank = 20;

/* Exact distance under the metric (squared L2 or negative inner product), in double. */
double
exact(const float *a, const float *b, uint32_t dim, EstimateMetric m)
{
	double s = 0;
	for (uint32_t i = 0; i < dim; i++)
		s += m == EstimateMetric::L2sq ? (static_cast<double>(a[i]) - b[i]) * (static_cast<double>(a[i]) - b[i])
									   : -static_cast<double>(a[i]) * b[i];
	return s;
}

/* Ids of the k smallest of score[0..n), nearest first (ties by id). */
std::vector<uint32_t>
top_k(const std::vector<float> &score, uint32_t k)
{
	std::vector<Candidate> all(score.size());
	for (uint32_t i = 0; i < score.size(); i++)
		all[i] = Candidate{score[i], i};
	k = std::min<uint32_t>(k, static_cast<uint32_t>(all.size()));
	std::partial_sort(all.begin(), all.begin() + k, all.end(), nearer);
	std::vector<uint32_t> ids(k);
	for (uint32_t i = 0; i < k; i++)
		ids[i] = all[i].id;
	return ids;
}

/* One dataset: base, queries, exact distances and exact top 10 per query. */
struct Data
{
	uint32_t n, dim, nq;
	EstimateMetric metric;
	std::vector<float> base, queries, mean;
	std::vector<double> dist;	/* nq x n exact distances */
	std::vector<uint32_t> truth; /* nq x 10 */
};

Data
make_data(uint32_t n, uint32_t dim, uint32_t nq, EstimateMetric m, uint64_t seed)
{
	Data d{n, dim, nq, m, {}, {}, {}, {}, {}};
	std::vector<float> all = mixture(n + nq, dim, seed, m == EstimateMetric::NegIp);
	d.base.assign(all.begin(), all.begin() + static_cast<size_t>(n) * dim);
	d.queries.assign(all.begin() + static_cast<size_t>(n) * dim, all.end());
	d.mean.assign(dim, 0.0f);
	for (uint32_t i = 0; i < n; i++)
		for (uint32_t j = 0; j < dim; j++)
			d.mean[j] += d.base[static_cast<size_t>(i) * dim + j] / static_cast<float>(n);
	d.dist.resize(static_cast<size_t>(nq) * n);
	for (uint32_t q = 0; q < nq; q++) {
		std::vector<float> row(n);
		for (uint32_t i = 0; i < n; i++) {
			double e = exact(&d.queries[static_cast<size_t>(q) * dim], &d.base[static_cast<size_t>(i) * dim], dim, m);
			d.dist[static_cast<size_t>(q) * n + i] = e;
			row[i] = static_cast<float>(e);
		}
		std::vector<uint32_t> t = top_k(row, 10);
		d.truth.insert(d.truth.end(), t.begin(), t.end());
	}
	return d;
}

/* recall@10 of query q when the ids of `shortlist` are re-ranked exactly. */
double
rerank_recall(const Data &d, uint32_t q, const std::vector<uint32_t> &shortlist)
{
	std::vector<Candidate> c;
	for (uint32_t id : shortlist)
		c.push_back(Candidate{static_cast<float>(d.dist[static_cast<size_t>(q) * d.n + id]), id});
	std::sort(c.begin(), c.end(), nearer);
	uint32_t hits = 0;
	for (uint32_t i = 0; i < 10 && i < c.size(); i++)
		for (uint32_t j = 0; j < 10; j++)
			hits += c[i].id == d.truth[static_cast<size_t>(q) * 10 + j];
	return hits / 10.0;
}

/* Mean relative error and recall of the RaBitQ estimator for one (bits, query bits). */
void
measure_rabitq(const Data &d, uint32_t bits, uint32_t query_bits, uint32_t rerank, const char *label)
{
	Quantizer qz;
	qz.dims = d.dim;
	qz.bits = bits;
	qz.seed = 7;
	qz.bitplane_dot = vx::kernels::active().bitplane_dot;
	qz.code_dot = vx::kernels::active().code_dot;
	qz.set_center(d.mean.data());
	std::vector<uint8_t> codes(static_cast<size_t>(d.n) * qz.code_bytes());
	std::vector<CodeFactors> f(d.n);
	std::vector<float> work(qz.work_floats());
	for (uint32_t i = 0; i < d.n; i++)
		qz.encode(&d.base[static_cast<size_t>(i) * d.dim], &codes[static_cast<size_t>(i) * qz.code_bytes()], &f[i],
				  work.data());
	std::vector<uint8_t> planes(static_cast<size_t>(query_bits) * qz.plane_bytes());
	double err = 0, recall = 0, recall_short = 0;
	std::vector<float> est(d.n);
	for (uint32_t q = 0; q < d.nq; q++) {
		QueryCode qc{};
		qc.planes = planes.data();
		qz.prepare_query_bits(&d.queries[static_cast<size_t>(q) * d.dim], query_bits, &qc, work.data());
		for (uint32_t i = 0; i < d.n; i++) {
			est[i] = qz.estimate(qc, &codes[static_cast<size_t>(i) * qz.code_bytes()], f[i], d.metric);
			double e = d.dist[static_cast<size_t>(q) * d.n + i];
			double ref = d.metric == EstimateMetric::L2sq ? e : 1.0 + e;
			err += std::fabs(est[i] - e) / std::max(ref, 1e-9);
		}
		recall += rerank_recall(d, q, top_k(est, rerank));
		recall_short += rerank_recall(d, q, top_k(est, kShortRerank));
	}
	std::printf("%-9s %-4s B=%u Bq=%u   rel.err %.4f   recall@10 %.4f   (top %u: %.4f)\n", label,
				d.metric == EstimateMetric::L2sq ? "L2" : "cos", bits, query_bits,
				err / (static_cast<double>(d.nq) * d.n), recall / d.nq, kShortRerank, recall_short / d.nq);
}

/* pgvectorscale's SBQ: bit = x_i > mean_i, symmetric Hamming distance, top `rerank` re-ranked exactly. */
void
measure_sbq(const Data &d, uint32_t rerank, const char *label)
{
	uint32_t nbytes = (d.dim + 7) / 8;
	auto encode = [&](const float *x, uint8_t *out) {
		std::memset(out, 0, nbytes);
		for (uint32_t j = 0; j < d.dim; j++)
			if (x[j] > d.mean[j])
				out[j / 8] |= static_cast<uint8_t>(1u << (j % 8));
	};
	std::vector<uint8_t> codes(static_cast<size_t>(d.n) * nbytes), qcode(nbytes);
	for (uint32_t i = 0; i < d.n; i++)
		encode(&d.base[static_cast<size_t>(i) * d.dim], &codes[static_cast<size_t>(i) * nbytes]);
	double recall = 0, recall_short = 0;
	std::vector<float> ham(d.n);
	for (uint32_t q = 0; q < d.nq; q++) {
		encode(&d.queries[static_cast<size_t>(q) * d.dim], qcode.data());
		for (uint32_t i = 0; i < d.n; i++)
			ham[i] = static_cast<float>(
				vx::kernels::active().hamming(qcode.data(), &codes[static_cast<size_t>(i) * nbytes], nbytes));
		recall += rerank_recall(d, q, top_k(ham, rerank));
		recall_short += rerank_recall(d, q, top_k(ham, kShortRerank));
	}
	std::printf("%-9s %-4s SBQ (1 bit, Hamming)            recall@10 %.4f   (top %u: %.4f)\n", label,
				d.metric == EstimateMetric::L2sq ? "L2" : "cos", recall / d.nq, kShortRerank, recall_short / d.nq);
}

} // namespace

int
main(int argc, char **argv)
{
	uint32_t nq = 500, rerank = 100;
	uint64_t seed = 42;
	for (int i = 1; i + 1 < argc; i += 2) {
		std::string a = argv[i];
		if (a == "--queries")
			nq = static_cast<uint32_t>(std::atoi(argv[i + 1]));
		else if (a == "--rerank")
			rerank = static_cast<uint32_t>(std::atoi(argv[i + 1]));
		else if (a == "--seed")
			seed = std::strtoull(argv[i + 1], nullptr, 10);
		else {
			std::fprintf(stderr, "unknown option %s\n", argv[i]);
			return 2;
		}
	}
	vx::kernels::kernels_init();
	struct Shape
	{
		uint32_t n, dim;
		const char *label;
	} shapes[] = {{5000, 256, "5000x256"}, {2000, 768, "2000x768"}};
	for (const Shape &s : shapes)
		for (EstimateMetric m : {EstimateMetric::L2sq, EstimateMetric::NegIp}) {
			Data d = make_data(s.n, s.dim, nq, m, seed);
			for (uint32_t bits : {1u, 2u, 4u})
				for (uint32_t qb : {4u, 6u, 8u})
					measure_rabitq(d, bits, qb, rerank, s.label);
			measure_sbq(d, rerank, s.label);
		}
	return 0;
}
