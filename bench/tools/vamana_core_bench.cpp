/*
 * vamana_core_bench.cpp -- build time, distance counts and graph quality of
 * the in-memory Vamana build (vx::core vamana.hpp, what a diskann build runs)
 * on an fvecs dataset (default: debian-d256, cosine), without PostgreSQL.
 *
 *   vamana_core_bench [--data DIR] [--metric cos|l2] [--R 50] [--L 100] [--alpha 1.2]
 *                     [--two-pass 0|1] [--L1 N] [--code-bits 0|B] [--f16 0|1] [--prefetch-lines 16]
 *                     [--Ls 10,20,40,100] [--limit N] [--seed 1] [--nodes-per-page N]
 *
 * --L1: the first pass's beam width (default: vamana_first_pass_width(L), the
 * PG build's); --code-bits B: searches estimate from B-bit RaBitQ codes (the
 * PG build's way; 0: exact searches); --f16: exact distances over half-precision
 * copies of the rows; --nodes-per-page N: how many distinct pages of N nodes
 * the expansions of a search of width 40 touch, with ids as built and renumbered
 * breadth-first from the medoid (on debian at 26 a page: 1.10 and 1.28 nodes
 * per page visit, so renumbering would save a seventh of the page visits).
 *
 * The build uses exact squared L2 distances between stored rows (cosine:
 * rows normalized first), as the PG build does. Distances are counted by
 * where they come from: the searches and the new node's own pool ("search":
 * the first operand is the node being inserted) or list pruning ("prune").
 * Quality: recall@10 against the dataset's exact ground truth of a greedy
 * search of list size L from the medoid over exact distances (no codes: the
 * graph alone), and its distance computations per query.
 *
 * Build: cmake target vamana_core_bench (bash test/lib/unit.sh builds it).
 */
#include "vx/core/rabitq.hpp"
#include "vx/core/vamana.hpp"
#include "vx/kernels/kernels.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "vecs_file.hpp"

namespace {

using namespace vx::core;

size_t g_prefetch_bytes = 1024; /* --prefetch-lines */

/* Squared L2 between rows of T (float, or half bits), counting calls by their origin (see the file comment). */
template <class T>
struct CountingPair
{
	const T *rows;
	uint32_t dims;
	float (*l2sq)(const T *, const T *, size_t) noexcept;
	const VamanaScratch *scratch; /* to tell which node is being inserted */
	uint32_t n;
	mutable uint64_t search = 0, prune = 0;

	float
	operator()(uint32_t a, uint32_t b) const noexcept
	{
		uint64_t step = scratch->done;
		bool inserting = step < 2ull * n && scratch->order[step % n] == a;
		(inserting ? search : prune)++;
		return l2sq(rows + static_cast<size_t>(a) * dims, rows + static_cast<size_t>(b) * dims, dims);
	}

	void
	prefetch(uint32_t a) const noexcept
	{
		const char *p = reinterpret_cast<const char *>(rows + static_cast<size_t>(a) * dims);
		for (size_t off = 0; off < std::min<size_t>(dims * sizeof(T), g_prefetch_bytes); off += 64)
			__builtin_prefetch(p + off, 0, 3);
	}
};
using CountingPairL2 = CountingPair<float>;

/* Exact distance from a query to rows, counted. */
struct QueryL2
{
	const float *rows;
	const float *q;
	uint32_t dims;
	float (*l2sq)(const float *, const float *, size_t) noexcept;
	mutable uint64_t calls = 0;

	float
	operator()(uint32_t id) const noexcept
	{
		calls++;
		return l2sq(q, rows + static_cast<size_t>(id) * dims, dims);
	}

	void
	prefetch(uint32_t) const noexcept
	{
	}
};

/*
 * A QueryDistance that also counts, per expansion (the prefetches of one
 * take_unvisited), the distinct pages of nodes_per_page nodes its pending
 * nodes sit on, with ids renumbered by perm: how many page visits a search
 * over pages would make.
 */
struct PageCountingL2 : QueryL2
{
	const std::vector<uint32_t> *perm;
	uint32_t nodes_per_page;
	mutable std::vector<uint32_t> group;
	mutable uint64_t nodes = 0, pages = 0;

	void
	close() const
	{
		std::sort(group.begin(), group.end());
		pages += static_cast<uint64_t>(std::unique(group.begin(), group.end()) - group.begin());
		nodes += group.size();
		group.clear();
	}

	float
	operator()(uint32_t id) const noexcept
	{
		if (!group.empty())
			close();
		return QueryL2::operator()(id);
	}

	void
	prefetch(uint32_t id) const noexcept
	{
		group.push_back((*perm)[id] / nodes_per_page);
	}
};

/* Ids in breadth-first order from the medoid (unreached nodes last, in id order): perm[old] = new. */
std::vector<uint32_t>
bfs_order(const VamanaGraph &g)
{
	std::vector<uint32_t> perm(g.n, kInvalidId), queue;
	queue.reserve(g.n);
	uint32_t next = 0;
	perm[g.medoid] = next++;
	queue.push_back(g.medoid);
	for (size_t head = 0; head < queue.size(); head++) {
		uint32_t u = queue[head];
		for (uint32_t k = 0; k < g.counts[u]; k++) {
			uint32_t v = g.ids[static_cast<size_t>(u) * g.stride() + k];
			if (perm[v] == kInvalidId) {
				perm[v] = next++;
				queue.push_back(v);
			}
		}
	}
	for (uint32_t i = 0; i < g.n; i++)
		if (perm[i] == kInvalidId)
			perm[i] = next++;
	return perm;
}

double
now()
{
	return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

} // namespace

int
main(int argc, char **argv)
{
	std::string data = "/work/shared/datasets/debian-d256", metric = "cos";
	uint32_t R = 50, L = 100, L1 = 0, limit = 0, two_pass = 1, f16 = 0, code_bits = 0, nodes_per_page = 0;
	uint64_t seed = 1;
	float alpha = 1.2f;
	std::vector<uint32_t> Ls{10, 20, 40, 100};
	for (int i = 1; i + 1 < argc; i += 2) {
		std::string k = argv[i];
		const char *v = argv[i + 1];
		if (k == "--data")
			data = v;
		else if (k == "--metric")
			metric = v;
		else if (k == "--R")
			R = std::atoi(v);
		else if (k == "--L")
			L = std::atoi(v);
		else if (k == "--L1")
			L1 = std::atoi(v);
		else if (k == "--alpha")
			alpha = std::strtof(v, nullptr);
		else if (k == "--two-pass")
			two_pass = std::atoi(v);
		else if (k == "--prefetch-lines")
			g_prefetch_bytes = 64 * std::strtoul(v, nullptr, 10);
		else if (k == "--code-bits")
			code_bits = std::atoi(v);
		else if (k == "--nodes-per-page")
			nodes_per_page = std::atoi(v);
		else if (k == "--f16")
			f16 = std::atoi(v);
		else if (k == "--limit")
			limit = std::atoi(v);
		else if (k == "--seed")
			seed = std::strtoull(v, nullptr, 10);
		else if (k == "--Ls")
			Ls = vx::bench::parse_list(v);
		else {
			std::fprintf(stderr, "unknown option %s\n", k.c_str());
			return 2;
		}
	}

	uint32_t dim = 0, n = 0, qdim = 0, nq = 0, gt_k = 0, ngt = 0;
	std::vector<float> base = vx::bench::read_vecs<float>(data + "/base.fvecs", &dim, &n);
	std::vector<float> queries = vx::bench::read_vecs<float>(data + "/query.fvecs", &qdim, &nq);
	std::vector<int32_t> gt = vx::bench::read_vecs<int32_t>(data + "/gt_" + metric + ".ivecs", &gt_k, &ngt);
	if (qdim != dim || ngt != nq || gt_k < 10) {
		std::fprintf(stderr, "dataset shape mismatch\n");
		return 1;
	}
	if (limit > 0 && limit < nq)
		nq = limit;
	if (metric == "cos") {
		for (uint32_t i = 0; i < n; i++)
			normalize_f32(&base[static_cast<size_t>(i) * dim], dim);
		for (uint32_t i = 0; i < nq; i++)
			normalize_f32(&queries[static_cast<size_t>(i) * dim], dim);
	}
	vx::kernels::kernels_init(vx::kernels::Level::AVX512);
	const vx::kernels::KernelTable &kt = vx::kernels::active();

	VamanaGraph g;
	g.n = n;
	g.R = R;
	g.cap = vamana_capacity_for(R);
	std::vector<uint32_t> ids(static_cast<size_t>(n) * g.stride()), counts(n);
	g.ids = ids.data();
	g.counts = counts.data();
	std::vector<double> mean(dim);
	for (uint32_t i = 0; i < n; i++)
		for (uint32_t j = 0; j < dim; j++)
			mean[j] += base[static_cast<size_t>(i) * dim + j];
	std::vector<float> meanf(dim);
	for (uint32_t j = 0; j < dim; j++)
		meanf[j] = static_cast<float>(mean[j] / n);
	g.medoid = find_medoid(n, [&](uint32_t i) { return kt.l2sq_f32(&base[static_cast<size_t>(i) * dim], meanf.data(), dim); });

	VamanaBuildParams p{R, std::max(L, R), alpha, seed, two_pass != 0,
						L1 == 0 ? vamana_first_pass_width(std::max(L, R)) : std::min(L1, std::max(L, R))};
	std::vector<uint64_t> mem(VamanaScratch::bytes_needed(g.stride(), p.L, n) / 8 + 1);
	VamanaScratch s;
	if (!VamanaScratch::carve(mem.data(), mem.size() * 8, g.stride(), p.L, n, &s)) {
		std::fprintf(stderr, "scratch\n");
		return 1;
	}
	CountingPairL2 pair{base.data(), dim, kt.l2sq_f32, &s, n};
	std::vector<uint16_t> half;
	CountingPair<uint16_t> pair16{nullptr, dim, kt.l2sq_f16, &s, n};
	double t0 = now();
	Status st;
	Quantizer qz;
	std::vector<uint8_t> codes, qplanes;
	std::vector<CodeFactors> factors;
	std::vector<float> work;
	QueryCode qc{};
	if (code_bits > 0) {
		qz.dims = dim;
		qz.bits = code_bits;
		qz.seed = 7;
		qz.bitplane_dot = kt.bitplane_dot;
		qz.code_dot = kt.code_dot;
		qz.set_center(meanf.data());
		codes.resize(static_cast<size_t>(n) * qz.code_bytes());
		factors.resize(n);
		work.resize(qz.work_floats());
		qplanes.resize(qz.query_bytes());
		qc.planes = qplanes.data();
		for (uint32_t i = 0; i < n; i++)
			qz.encode(&base[static_cast<size_t>(i) * dim], &codes[static_cast<size_t>(i) * qz.code_bytes()],
					  &factors[i], work.data());
		std::printf("encoded %u rows in %.2f s\n", n, now() - t0);
		CodedSearchPair<CountingPairL2> est;
		static_cast<CountingPairL2 &>(est) = pair;
		est.quantizer = &qz;
		est.codes = codes.data();
		est.factors = factors.data();
		est.rows = base.data();
		est.row_floats = dim;
		est.query = &qc;
		est.work = work.data();
		st = vamana_build(g, p, est, s, nullptr, [](uint64_t) {});
		pair.search = est.search;
		pair.prune = est.prune;
	} else if (f16) {
		half.resize(base.size());
		for (size_t i = 0; i < base.size(); i++)
			half[i] = vx::kernels::float_to_half(base[i]);
		pair16.rows = half.data();
		st = vamana_build(g, p, pair16, s, nullptr, [](uint64_t) {});
		pair.search = pair16.search;
		pair.prune = pair16.prune;
	} else
		st = vamana_build(g, p, pair, s, nullptr, [](uint64_t) {});
	double secs = now() - t0;
	if (st != Status::Ok) {
		std::fprintf(stderr, "build: %s\n", status_name(st));
		return 1;
	}
	double deg = 0;
	for (uint32_t i = 0; i < n; i++)
		deg += counts[i];
	std::printf("dataset %s: %u x %u, metric %s, kernel %s\n", data.c_str(), n, dim, metric.c_str(), kt.name);
	std::printf("build R=%u L=%u L1=%u alpha=%.2f two_pass=%u f16=%u code_bits=%u: %.2f s, %.0f distances/row (search %.0f, prune %.0f), "
				"avg degree %.1f\n",
				R, p.L, p.first_pass_L, alpha, two_pass, f16, code_bits, secs, double(pair.search + pair.prune) / n, double(pair.search) / n,
				double(pair.prune) / n, deg / n);

	uint32_t maxL = *std::max_element(Ls.begin(), Ls.end());
	std::vector<uint64_t> qmem(VamanaScratch::bytes_needed(g.stride(), maxL, n) / 8 + 1);
	VamanaScratch qs;
	VamanaScratch::carve(qmem.data(), qmem.size() * 8, g.stride(), maxL, n, &qs);
	for (uint32_t l : Ls) {
		uint64_t hits = 0, calls = 0;
		double q0 = now();
		for (uint32_t q = 0; q < nq; q++) {
			QueryL2 dist{base.data(), &queries[static_cast<size_t>(q) * dim], dim, kt.l2sq_f32};
			uint32_t nexp = 0;
			qs.visited.reset();
			uint32_t got = greedy_search(g, dist, &g.medoid, 1, std::max(l, 10u), qs.visited, qs.search, qs.best,
										 qs.expanded, qs.max_expanded, &nexp);
			const int32_t *t = &gt[static_cast<size_t>(q) * gt_k];
			for (uint32_t j = 0; j < std::min(got, 10u); j++)
				hits += std::find(t, t + 10, static_cast<int32_t>(qs.best[j].id)) != t + 10;
			calls += dist.calls;
		}
		std::printf("  L=%-4u recall@10=%.4f  QPS=%8.0f  dist/query=%.0f\n", l, hits / (10.0 * nq), nq / (now() - q0),
					double(calls) / nq);
	}

	/* page visits per expansion: ids as built, and renumbered breadth-first from the medoid */
	if (nodes_per_page > 0) {
		std::vector<uint32_t> identity(n);
		for (uint32_t i = 0; i < n; i++)
			identity[i] = i;
		std::vector<uint32_t> bfs = bfs_order(g);
		for (const auto &[name, perm] : {std::pair{"as built", &identity}, std::pair{"bfs", &bfs}}) {
			PageCountingL2 dist{{base.data(), nullptr, dim, kt.l2sq_f32}, perm, nodes_per_page, {}};
			for (uint32_t q = 0; q < nq; q++) {
				dist.q = &queries[static_cast<size_t>(q) * dim];
				uint32_t nexp = 0;
				qs.visited.reset();
				greedy_search(g, dist, &g.medoid, 1, 40, qs.visited, qs.search, qs.best, qs.expanded, qs.max_expanded,
							  &nexp);
				dist.close();
			}
			std::printf("  ids %-8s: %u nodes a page, L=40: %.1f nodes and %.1f pages per query (%.2f nodes a page)\n",
						name, nodes_per_page, double(dist.nodes) / nq, double(dist.pages) / nq,
						double(dist.nodes) / double(dist.pages));
		}
	}
	return 0;
}
