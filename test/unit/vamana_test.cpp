/*
 * vamana_test.cpp -- GoogleTest for the Vamana core (vx/core/vamana.hpp):
 * RobustPrune on hand-made points, GreedySearch on a small graph, and builds
 * on seeded Gaussian clusters checked against brute force (recall, graph
 * invariants, reachability, determinism, interrupts), plus the whole
 * pipeline of the diskann method: search by RaBitQ estimate, exact re-rank.
 *
 * Recall thresholds are set from measurements with a margin, and the tests
 * show they can fail: a graph with tiny lists, or with its lists cut short
 * (what missing back-links or an over-eager prune leave), falls below them.
 * Distances use the tests' kernel level (test_data.hpp: scalar under the
 * sanitizers).
 */
#include "vx/core/hnsw_algo.hpp"
#include "vx/core/rabitq.hpp"
#include "vx/core/vamana.hpp"
#include "vx/kernels/kernels.hpp"

#include "test_data.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

namespace vx::core {
namespace {

/* ---------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------- */

/* A Vamana graph that owns its lists. */
struct OwnedGraph
{
	std::vector<uint32_t> ids, counts;
	VamanaGraph g;

	/* cap: list room while building (0: R) */
	OwnedGraph(uint32_t n, uint32_t R, uint32_t cap = 0)
		: ids(static_cast<size_t>(n) * std::max(R, cap), kInvalidId), counts(n, 0)
	{
		g.ids = ids.data();
		g.counts = counts.data();
		g.n = n;
		g.R = R;
		g.cap = cap;
	}
};

/* A builder's scratch that owns its memory. */
struct OwnedScratch
{
	std::vector<uint64_t> mem;
	VamanaScratch s;

	OwnedScratch(uint32_t R, uint32_t L, uint32_t n) : mem(VamanaScratch::bytes_needed(R, L, n) / 8 + 1)
	{
		EXPECT_TRUE(VamanaScratch::carve(mem.data(), mem.size() * 8, R, L, n, &s));
	}
};

/* Search scratch, visited set and output buffers for queries. */
struct Searcher
{
	std::vector<uint64_t> mem;
	std::vector<uint16_t> tags;
	std::vector<Candidate> best, expanded;
	SearchScratch s;
	VisitedSet visited;

	Searcher(uint32_t n, uint32_t L, uint32_t R)
		: mem(SearchScratch::bytes_needed(L, R) / 8 + 1), tags(n), best(L), expanded(4 * L)
	{
		EXPECT_TRUE(SearchScratch::carve(mem.data(), mem.size() * 8, L, R, &s));
		visited = VisitedSet(tags.data(), n);
	}

	/* greedy_search from the graph's medoid; returns the count of best. */
	template <class Dist>
	uint32_t
	search(const VamanaGraph &g, const Dist &dist, uint32_t L, uint32_t *nexp = nullptr)
	{
		uint32_t unused;
		visited.reset();
		return greedy_search(g, dist, &g.medoid, 1, L, visited, s, best.data(), expanded.data(),
							 static_cast<uint32_t>(expanded.size()), nexp ? nexp : &unused);
	}
};

/* Rows of dim floats and the squared L2 distance between two of them (the build's pair_dist). */
struct Rows
{
	const float *data;
	uint32_t dim;
	float (*l2sq)(const float *, const float *, size_t) noexcept;

	const float *row(uint32_t i) const { return data + static_cast<size_t>(i) * dim; }
	float operator()(uint32_t a, uint32_t b) const noexcept { return l2sq(row(a), row(b), dim); }
};

/* Distance from a query vector to rows (a QueryDistance). */
struct RowDistance
{
	const Rows *rows;
	const float *q;

	float operator()(uint32_t id) const { return rows->l2sq(q, rows->row(id), rows->dim); }
	void prefetch(uint32_t) const {}
};

/* The squared L2 of the tests' kernel level. */
auto
test_l2sq()
{
	return test::algo_kernels().l2sq_f32;
}

/* Medoid of rows: the row nearest to their mean. */
uint32_t
medoid_of(const std::vector<float> &data, uint32_t dim)
{
	uint32_t n = static_cast<uint32_t>(data.size() / dim);
	std::vector<float> mean(dim, 0.0f);
	for (size_t i = 0; i < data.size(); i++)
		mean[i % dim] += data[i] / static_cast<float>(n);
	auto l2 = test_l2sq();
	return find_medoid(n, [&](uint32_t i) { return l2(&data[static_cast<size_t>(i) * dim], mean.data(), dim); });
}

/* Build a graph over data (squared L2); returns the build's status. */
Status
build(OwnedGraph &og, const std::vector<float> &data, uint32_t dim, const VamanaBuildParams &p,
	  const volatile int *interrupt = nullptr)
{
	Rows rows{data.data(), dim, test_l2sq()};
	OwnedScratch scratch(og.g.stride(), p.L, og.g.n);
	og.g.medoid = medoid_of(data, dim);
	return vamana_build(og.g, p, rows, scratch.s, interrupt, [](uint64_t) {});
}

/* Mean recall@k of greedy_search at width L over the queries. */
double
graph_recall(const VamanaGraph &g, const std::vector<float> &data, const std::vector<float> &queries, uint32_t dim,
			 uint32_t k, uint32_t L)
{
	Rows rows{data.data(), dim, test_l2sq()};
	auto metric = [&](const float *a, const float *b) { return rows.l2sq(a, b, dim); };
	std::vector<uint32_t> truth = test::brute_force(data, queries, dim, k, metric);
	uint32_t nq = static_cast<uint32_t>(queries.size() / dim);
	Searcher srch(g.n, L, g.R);
	uint64_t hits = 0;
	for (uint32_t q = 0; q < nq; q++) {
		RowDistance dist{&rows, &queries[static_cast<size_t>(q) * dim]};
		uint32_t got = srch.search(g, dist, L);
		hits += test::hits_at(srch.best.data(), got, &truth[static_cast<size_t>(q) * k], k);
	}
	return static_cast<double>(hits) / (static_cast<double>(nq) * k);
}

/* Check the invariants of a built graph: degree, ids in range, no self loop, no duplicate. */
void
expect_valid(const VamanaGraph &g)
{
	for (uint32_t i = 0; i < g.n; i++) {
		ASSERT_LE(g.counts[i], g.R) << i;
		std::span<const uint32_t> nb = g.neighbors(i, 0, nullptr);
		std::vector<uint32_t> sorted(nb.begin(), nb.end());
		std::sort(sorted.begin(), sorted.end());
		ASSERT_EQ(std::adjacent_find(sorted.begin(), sorted.end()), sorted.end()) << "duplicate in list " << i;
		for (uint32_t id : nb) {
			ASSERT_LT(id, g.n) << i;
			ASSERT_NE(id, i) << "self loop";
		}
	}
}

/* Nodes not reachable from the medoid. */
uint32_t
unreachable(const VamanaGraph &g)
{
	return g.n - static_cast<uint32_t>(test::reachable_from(g, g.medoid, g.n).size());
}

/* ---------------------------------------------------------------------------
 * robust_prune on hand-made points
 * ------------------------------------------------------------------------- */

/* Points of the plane; distances between them are Euclidean (not squared), so ratios read easily. */
struct Plane
{
	std::vector<std::pair<float, float>> p;

	float
	operator()(uint32_t a, uint32_t b) const noexcept
	{
		return std::hypot(p[a].first - p[b].first, p[a].second - p[b].second);
	}
	/* Candidates ids[] with their distance to point base, sorted nearest first. */
	std::vector<Candidate>
	candidates(uint32_t base, std::vector<uint32_t> ids) const
	{
		std::vector<Candidate> c;
		for (uint32_t id : ids)
			c.push_back(Candidate{(*this)(base, id), id});
		std::sort(c.begin(), c.end(), nearer);
		return c;
	}
};

/* robust_prune of cand with alpha and R; the ids kept, nearest first. */
std::vector<uint32_t>
prune(const Plane &pl, const std::vector<Candidate> &cand, float alpha, uint32_t R)
{
	std::vector<Candidate> out(R + 1, Candidate{-1.0f, kInvalidId});
	std::vector<float> occlude(cand.size());
	uint32_t n = robust_prune(cand.data(), static_cast<uint32_t>(cand.size()), alpha, R, pl, out.data(),
							  occlude.data());
	EXPECT_LE(n, R);
	EXPECT_EQ(out[R].id, kInvalidId) << "wrote past R";
	std::vector<uint32_t> ids;
	for (uint32_t i = 0; i < n; i++) {
		ids.push_back(out[i].id);
		if (i > 0) {
			EXPECT_FALSE(nearer(out[i], out[i - 1])) << "not nearest first";
		}
	}
	return ids;
}

TEST(RobustPrune, AlphaOnALine)
{
	/* base 0 (id 0) and points at x = 1, 2, 7, 8: x is occluded by 1 when alpha (x - 1) <= x */
	Plane pl{{{0, 0}, {1, 0}, {2, 0}, {7, 0}, {8, 0}}};
	auto cand = pl.candidates(0, {1, 2, 3, 4});
	EXPECT_EQ(prune(pl, cand, 1.0f, 8), (std::vector<uint32_t>{1}));
	/* 7: 1.2 * 6 > 7, kept in the 1.2 round; 8 is then occluded by 7 */
	EXPECT_EQ(prune(pl, cand, 1.2f, 8), (std::vector<uint32_t>{1, 3}));
	/* at alpha 2, 2 stays occluded (2 * 1 <= 2: a tie occludes); at 2.01 it is kept */
	EXPECT_EQ(prune(pl, cand, 2.0f, 8), (std::vector<uint32_t>{1, 3}));
	EXPECT_EQ(prune(pl, cand, 2.01f, 8), (std::vector<uint32_t>{1, 2, 3}));
}

TEST(RobustPrune, LastRoundIsExactlyMaxAlpha)
{
	/* x = 5 has occlusion factor 5 / 4 = 1.25: not kept at 1.2, kept at 1.3 (rounds 1, 1.2, 1.3) */
	Plane pl{{{0, 0}, {1, 0}, {5, 0}}};
	auto cand = pl.candidates(0, {1, 2});
	EXPECT_EQ(prune(pl, cand, 1.2f, 4), (std::vector<uint32_t>{1}));
	EXPECT_EQ(prune(pl, cand, 1.3f, 4), (std::vector<uint32_t>{1, 2}));
	EXPECT_EQ(prune(pl, cand, 1.25f, 4), (std::vector<uint32_t>{1})); /* factor == alpha occludes */
	EXPECT_EQ(prune(pl, cand, 0.5f, 4), (std::vector<uint32_t>{1}));  /* alpha below 1 acts as 1 */
}

TEST(RobustPrune, PlaneKeepsDirectionsAndFillsByOcclusion)
{
	/* base at the origin; (1,0) and (0,1) are not occluded (distance sqrt 2 > 1), (2,0.1) is */
	Plane pl{{{0, 0}, {1, 0}, {0, 1}, {2, 0.1f}, {-1.5f, 0}, {1.2f, 1.2f}}};
	auto cand = pl.candidates(0, {1, 2, 3, 4, 5});
	EXPECT_EQ(prune(pl, cand, 1.0f, 8), (std::vector<uint32_t>{1, 2, 4}));
	/* (1.2,1.2): d = 1.70, nearest kept (1,0) or (0,1) at 1.22: factor 1.39, kept from alpha 1.44 */
	EXPECT_EQ(prune(pl, cand, 1.5f, 8), (std::vector<uint32_t>{1, 2, 4, 5}));
	/* (2, 0.1): d = 2.002, to (1,0) 1.005: factor 1.99 */
	EXPECT_EQ(prune(pl, cand, 2.5f, 8), (std::vector<uint32_t>{1, 2, 4, 5, 3}));
	/* R caps the list; the nearest unoccluded come first */
	EXPECT_EQ(prune(pl, cand, 2.5f, 2), (std::vector<uint32_t>{1, 2}));
}

TEST(RobustPrune, RCapsSpreadPoints)
{
	/* 5 points 72 degrees apart around the base: chords (>= 1.17) exceed their distances (<= 1.04) */
	Plane pl;
	pl.p.push_back({0, 0});
	std::vector<uint32_t> ids;
	for (uint32_t i = 0; i < 5; i++) {
		float a = static_cast<float>(i) * 2.0f * 3.14159265f / 5.0f, r = 1.0f + 0.01f * static_cast<float>(i);
		pl.p.push_back({r * std::cos(a), r * std::sin(a)});
		ids.push_back(i + 1);
	}
	auto cand = pl.candidates(0, ids);
	EXPECT_EQ(prune(pl, cand, 1.0f, 25), (std::vector<uint32_t>{1, 2, 3, 4, 5}));
	EXPECT_EQ(prune(pl, cand, 1.2f, 3), (std::vector<uint32_t>{1, 2, 3}));
	EXPECT_TRUE(prune(pl, cand, 1.2f, 0).empty());
	EXPECT_TRUE(prune(pl, {}, 1.2f, 4).empty());
}

TEST(RobustPrune, CopiesAreNotBothKept)
{
	/* 1 and 2 are the same point, 3 is on the other side: the list gets one copy and 3 */
	Plane pl{{{0, 0}, {1, 0}, {1, 0}, {-1, 0}}};
	auto cand = pl.candidates(0, {1, 2, 3});
	for (float alpha : {1.0f, 1.2f, 3.0f})
		for (uint32_t R : {2u, 3u, 8u}) {
			std::vector<uint32_t> kept = prune(pl, cand, alpha, R);
			EXPECT_EQ(kept.size(), 2u) << alpha << " " << R;
			EXPECT_EQ(std::count(kept.begin(), kept.end(), 3u), 1) << alpha << " " << R;
		}
	/* with only copies, one is kept */
	EXPECT_EQ(prune(pl, pl.candidates(0, {1, 2}), 1.2f, 4).size(), 1u);
	/* a copy of the base comes first and occludes at alpha 1 what is as far from it as from the base */
	Plane same{{{0, 0}, {0, 0}, {1, 0}}};
	EXPECT_EQ(prune(same, same.candidates(0, {1, 2}), 1.0f, 4), (std::vector<uint32_t>{1}));
	EXPECT_EQ(prune(same, same.candidates(0, {1, 2}), 1.2f, 4), (std::vector<uint32_t>{1, 2}));
}

/* ---------------------------------------------------------------------------
 * greedy_search on a small graph
 * ------------------------------------------------------------------------- */

TEST(GreedySearch, GridGraph)
{
	/* a 10 x 10 grid, each node linked to its 4 neighbours, points at integer coordinates */
	const uint32_t side = 10, n = side * side;
	OwnedGraph og(n, 4);
	std::vector<float> pts(2 * n);
	for (uint32_t y = 0; y < side; y++)
		for (uint32_t x = 0; x < side; x++) {
			uint32_t id = y * side + x;
			pts[2 * id] = static_cast<float>(x);
			pts[2 * id + 1] = static_cast<float>(y);
			auto link = [&](uint32_t to) { og.g.list(id)[og.counts[id]++] = to; };
			if (x > 0)
				link(id - 1);
			if (x + 1 < side)
				link(id + 1);
			if (y > 0)
				link(id - side);
			if (y + 1 < side)
				link(id + side);
		}
	og.g.medoid = 0;
	Rows rows{pts.data(), 2, test_l2sq()};
	float q[2] = {7.2f, 8.1f};
	RowDistance dist{&rows, q};
	Searcher srch(n, 8, 4);
	uint32_t nexp = 0;
	uint32_t got = srch.search(og.g, dist, 8, &nexp);
	ASSERT_EQ(got, 8u);
	/* the 8 nearest grid points by brute force */
	std::vector<Candidate> all;
	for (uint32_t i = 0; i < n; i++)
		all.push_back(Candidate{dist(i), i});
	std::sort(all.begin(), all.end(), nearer);
	for (uint32_t i = 0; i < 8; i++)
		EXPECT_EQ(srch.best[i].id, all[i].id) << i;
	/* expansions: start first, each once, with its distance */
	ASSERT_GE(nexp, 8u);
	EXPECT_EQ(srch.expanded[0].id, 0u);
	std::vector<uint32_t> seen;
	for (uint32_t i = 0; i < nexp; i++) {
		EXPECT_EQ(srch.expanded[i].dist, dist(srch.expanded[i].id));
		seen.push_back(srch.expanded[i].id);
	}
	std::sort(seen.begin(), seen.end());
	EXPECT_EQ(std::adjacent_find(seen.begin(), seen.end()), seen.end());

	/* a cap on recorded expansions does not change the result */
	std::vector<Candidate> best(8), few(3);
	uint32_t capped = 0, start = 0;
	srch.visited.reset();
	ASSERT_EQ(greedy_search(og.g, dist, &start, 1, 8, srch.visited, srch.s, best.data(), few.data(), 3, &capped), 8u);
	EXPECT_EQ(capped, 3u);
	for (uint32_t i = 0; i < 8; i++)
		EXPECT_EQ(best[i].id, all[i].id);

	/* pre-marked ids are skipped: the column x = 7 is excluded */
	srch.visited.reset();
	for (uint32_t y = 0; y < side; y++)
		srch.visited.test_and_set(y * side + 7);
	ASSERT_EQ(greedy_search(og.g, dist, &start, 1, 8, srch.visited, srch.s, best.data(), few.data(), 3, &capped), 8u);
	for (const Candidate &c : best)
		EXPECT_NE(c.id % side, 7u);

	/* several starts */
	uint32_t starts[2] = {99, 90};
	srch.visited.reset();
	ASSERT_EQ(greedy_search(og.g, dist, starts, 2, 8, srch.visited, srch.s, best.data(), few.data(), 3, &capped), 8u);
	EXPECT_EQ(best[0].id, all[0].id);
}

/* ---------------------------------------------------------------------------
 * Builds
 * ------------------------------------------------------------------------- */

constexpr uint32_t kDim = 32, kN = 10000, kQueries = 200, kK = 10;

/* The parameters of the synthetic builds. */
VamanaBuildParams
synthetic_params()
{
	return VamanaBuildParams{32, 64, 1.2f, 7, true};
}

TEST(VamanaBuild, RecallAndInvariants)
{
	test::Dataset ds = test::make_dataset(kN, kQueries, kDim, 50, 31);
	OwnedGraph og(kN, 32);
	ASSERT_EQ(build(og, ds.base, kDim, synthetic_params()), Status::Ok);
	expect_valid(og.g);
	uint32_t lost = unreachable(og.g);
	double r50 = graph_recall(og.g, ds.base, ds.queries, kDim, kK, 50);
	double mean_degree = 0;
	for (uint32_t c : og.counts)
		mean_degree += c;
	mean_degree /= kN;
	std::printf("[ vamana ] 10k x 32, R 32, L 64, alpha 1.2: recall@10 at L 50 %.4f, mean degree %.1f, "
				"unreachable %u\n",
				r50, mean_degree, lost);
	EXPECT_GE(r50, 0.95);
	EXPECT_LE(lost, 2u);
	EXPECT_GT(mean_degree, 8.0);

	/* measured: recall 0.997, mean degree 24.6, nothing unreachable. The threshold can fail:
	 * lists cut to their 3 nearest (what lost back-links and a too eager prune leave) give 0.21 */
	OwnedGraph cut = og;
	cut.g.ids = cut.ids.data();
	cut.g.counts = cut.counts.data();
	for (uint32_t &c : cut.counts)
		c = std::min(c, 3u);
	double r_cut = graph_recall(cut.g, ds.base, ds.queries, kDim, kK, 50);
	std::printf("[ vamana ] lists cut to 3: recall@10 at L 50 %.4f\n", r_cut);
	EXPECT_LT(r_cut, 0.95);
}

TEST(VamanaBuild, TinyListsFailRecall)
{
	test::Dataset ds = test::make_dataset(kN, kQueries, kDim, 50, 32);
	OwnedGraph og(kN, 3);
	ASSERT_EQ(build(og, ds.base, kDim, VamanaBuildParams{3, 8, 1.0f, 7, false}), Status::Ok);
	expect_valid(og.g);
	double r = graph_recall(og.g, ds.base, ds.queries, kDim, kK, 50);
	std::printf("[ vamana ] R 3, L 8, alpha 1: recall@10 at L 50 %.4f\n", r); /* measured 0.04 */
	EXPECT_LT(r, 0.95);
}

TEST(VamanaBuild, DeterministicPerSeed)
{
	std::vector<float> data = test::gaussian_clusters(2000, 16, 10, 33);
	VamanaBuildParams p{16, 32, 1.2f, 5, true};
	OwnedGraph a(2000, 16), b(2000, 16), c(2000, 16);
	ASSERT_EQ(build(a, data, 16, p), Status::Ok);
	ASSERT_EQ(build(b, data, 16, p), Status::Ok);
	p.seed = 6;
	ASSERT_EQ(build(c, data, 16, p), Status::Ok);
	EXPECT_EQ(a.ids, b.ids);
	EXPECT_EQ(a.counts, b.counts);
	EXPECT_NE(a.ids, c.ids);
	expect_valid(c.g);
}

TEST(VamanaBuild, InterruptAndProgress)
{
	std::vector<float> data = test::gaussian_clusters(3000, 8, 5, 34);
	Rows rows{data.data(), 8, test_l2sq()};
	VamanaBuildParams p{8, 16, 1.2f, 1, true};
	OwnedGraph og(3000, 8);
	og.g.medoid = medoid_of(data, 8);
	OwnedScratch scratch(8, 16, 3000);

	/* set before the build: nothing happens */
	volatile int flag = 1;
	EXPECT_EQ(vamana_build(og.g, p, rows, scratch.s, &flag, [](uint64_t) {}), Status::Interrupted);
	EXPECT_EQ(std::count(og.counts.begin(), og.counts.end(), 0u), 3000);

	/* set from progress after 2048 nodes: the build stops there, with a valid graph */
	flag = 0;
	std::vector<uint64_t> calls;
	Status st = vamana_build(og.g, p, rows, scratch.s, &flag, [&](uint64_t done) {
		calls.push_back(done);
		if (done == 2048)
			flag = 1;
	});
	EXPECT_EQ(st, Status::Interrupted);
	EXPECT_EQ(calls, (std::vector<uint64_t>{1024, 2048}));
	expect_valid(og.g);

	/* a full two-pass build (fresh scratch) reports every 1024 steps: insertions over both passes, then trims */
	OwnedGraph full(3000, 8);
	OwnedScratch full_scratch(8, 16, 3000);
	full.g.medoid = og.g.medoid;
	calls.clear();
	flag = 0;
	EXPECT_EQ(vamana_build(full.g, p, rows, full_scratch.s, &flag, [&](uint64_t done) { calls.push_back(done); }),
			  Status::Ok);
	EXPECT_EQ(calls, (std::vector<uint64_t>{1024, 2048, 3072, 4096, 5120, 6144, 7168, 8192}));

	/* the interrupted build resumes where it stopped and ends with the same graph */
	calls.clear();
	EXPECT_EQ(vamana_build(og.g, p, rows, scratch.s, &flag, [&](uint64_t done) { calls.push_back(done); }),
			  Status::Ok);
	EXPECT_EQ(calls, (std::vector<uint64_t>{3072, 4096, 5120, 6144, 7168, 8192}));
	EXPECT_EQ(og.counts, full.counts);
	EXPECT_EQ(og.ids, full.ids);
}

/* Rows that count the pair distances computed. */
struct CountingRows : Rows
{
	mutable uint64_t pairs = 0;

	float
	operator()(uint32_t a, uint32_t b) const noexcept
	{
		pairs++;
		return Rows::operator()(a, b);
	}
};

TEST(VamanaBuild, SlackKeepsRecallWithFewerDistances)
{
	test::Dataset ds = test::make_dataset(kN, kQueries, kDim, 50, 31);
	VamanaBuildParams p = synthetic_params();
	uint64_t pairs[2];
	double recall[2];
	for (int slack = 0; slack < 2; slack++) {
		OwnedGraph og(kN, p.R, slack ? vamana_capacity_for(p.R) : 0);
		CountingRows rows{{ds.base.data(), kDim, test_l2sq()}};
		OwnedScratch scratch(og.g.stride(), p.L, kN);
		og.g.medoid = medoid_of(ds.base, kDim);
		ASSERT_EQ(vamana_build(og.g, p, rows, scratch.s, nullptr, [](uint64_t) {}), Status::Ok);
		expect_valid(og.g); /* lists back to R after the trims */
		EXPECT_LE(unreachable(og.g), 2u);
		pairs[slack] = rows.pairs;
		recall[slack] = graph_recall(og.g, ds.base, ds.queries, kDim, kK, 50);
	}
	std::printf("[ vamana ] slack: pair distances %llu -> %llu, recall@10 at L 50 %.4f -> %.4f\n",
				(unsigned long long) pairs[0], (unsigned long long) pairs[1], recall[0], recall[1]);
	EXPECT_LT(pairs[1], pairs[0] * 9 / 10);
	EXPECT_GE(recall[1], recall[0] - 0.01);
}

/* Build og with nbuilders threads through vamana_build_shared. */
void
build_shared(OwnedGraph &og, const std::vector<float> &data, uint32_t dim, const VamanaBuildParams &p,
			 int nbuilders)
{
	Rows rows{data.data(), dim, test_l2sq()};
	og.g.medoid = medoid_of(data, dim);
	VamanaShared shared{};
	std::vector<uint8_t> lock_bytes(og.g.n, 0);
	VamanaNodeLocks locks{lock_bytes.data()};
	std::vector<OwnedScratch> scratch;
	for (int b = 0; b < nbuilders; b++)
		scratch.emplace_back(og.g.stride(), p.L, og.g.n);
	std::vector<Status> status(nbuilders, Status::Ok);
	std::vector<std::thread> threads;
	for (int b = 0; b < nbuilders; b++)
		threads.emplace_back([&, b] {
			status[b] = vamana_build_shared(og.g, p, rows, scratch[b].s, shared, locks, nullptr, [](uint64_t) {});
		});
	for (std::thread &t : threads)
		t.join();
	for (Status st : status)
		EXPECT_EQ(st, Status::Ok);
	EXPECT_EQ(shared.finished, vamana_build_steps(og.g.n, p.two_pass));
	EXPECT_TRUE(std::all_of(lock_bytes.begin(), lock_bytes.end(), [](uint8_t b) { return b == 0; }));
}

TEST(VamanaBuild, SharedBuildAloneIsTheSerialBuild)
{
	std::vector<float> data = test::gaussian_clusters(2000, 16, 10, 33);
	VamanaBuildParams p{16, 32, 1.2f, 5, true};
	OwnedGraph serial(2000, 16, vamana_capacity_for(16)), shared(2000, 16, vamana_capacity_for(16));
	ASSERT_EQ(build(serial, data, 16, p), Status::Ok);
	build_shared(shared, data, 16, p, 1);
	EXPECT_EQ(serial.ids, shared.ids);
	EXPECT_EQ(serial.counts, shared.counts);
}

TEST(VamanaBuild, SharedBuildWithFourBuilders)
{
	test::Dataset ds = test::make_dataset(kN, kQueries, kDim, 50, 31);
	VamanaBuildParams p = synthetic_params();
	OwnedGraph og(kN, p.R, vamana_capacity_for(p.R));
	build_shared(og, ds.base, kDim, p, 4);
	expect_valid(og.g);
	uint32_t lost = unreachable(og.g);
	double r50 = graph_recall(og.g, ds.base, ds.queries, kDim, kK, 50);
	std::printf("[ vamana ] 4 builders: recall@10 at L 50 %.4f, unreachable %u\n", r50, lost);
	EXPECT_GE(r50, 0.95);
	EXPECT_LE(lost, 2u);
}

TEST(VamanaBuild, RejectsMismatchedParameters)
{
	std::vector<float> data = test::gaussian_clusters(100, 4, 2, 35);
	Rows rows{data.data(), 4, test_l2sq()};
	OwnedGraph og(100, 8);
	OwnedScratch scratch(8, 16, 100);
	og.g.medoid = 0;
	auto run = [&](VamanaBuildParams p) { return vamana_build(og.g, p, rows, scratch.s, nullptr, [](uint64_t) {}); };
	EXPECT_EQ(run({4, 16, 1.2f, 1, true}), Status::InvalidArgument);  /* R differs from the graph's */
	EXPECT_EQ(run({8, 32, 1.2f, 1, true}), Status::InvalidArgument);  /* L above the scratch's */
	EXPECT_EQ(run({8, 16, 0.9f, 1, true}), Status::InvalidArgument);  /* alpha below 1 */
	og.g.medoid = 100;
	EXPECT_EQ(run({8, 16, 1.2f, 1, true}), Status::InvalidArgument);  /* no medoid */
	og.g.medoid = 0;
	EXPECT_EQ(run({8, 16, 1.2f, 1, false}), Status::Ok);
	expect_valid(og.g);
	EXPECT_EQ(unreachable(og.g), 0u);
	EXPECT_FALSE(VamanaScratch::carve(scratch.mem.data(), 64, 8, 16, 100, &scratch.s));
	EXPECT_EQ(find_medoid(0, [](uint32_t) { return 0.0f; }), kInvalidId);
}

/* ---------------------------------------------------------------------------
 * The diskann pipeline: traverse by RaBitQ estimate, re-rank exactly
 * ------------------------------------------------------------------------- */

/* Rows encoded by a RaBitQ quantizer centered on their mean (bits per dimension, seed 17), with query scratch. */
struct EncodedRows
{
	std::vector<float> mean;
	Quantizer q;
	std::vector<uint8_t> codes, planes;
	std::vector<CodeFactors> f;
	std::vector<float> work;

	EncodedRows(const std::vector<float> &data, uint32_t n, uint32_t dim, uint32_t bits) : mean(dim, 0.0f)
	{
		for (size_t i = 0; i < data.size(); i++)
			mean[i % dim] += data[i] / static_cast<float>(n);
		q.dims = dim;
		q.bits = bits;
		q.seed = 17;
		q.bitplane_dot = test::algo_kernels().bitplane_dot;
		q.code_dot = test::algo_kernels().code_dot;
		q.set_center(mean.data());
		codes.resize(static_cast<size_t>(n) * q.code_bytes());
		planes.resize(q.query_bytes());
		f.resize(n);
		work.resize(q.work_floats());
		for (uint32_t i = 0; i < n; i++)
			q.encode(&data[static_cast<size_t>(i) * dim], &codes[static_cast<size_t>(i) * q.code_bytes()], &f[i],
					 work.data());
	}
};

TEST(VamanaBuild, QuantizedSearchWithRerank)
{
	const uint32_t dim = 128, n = 10000, nq = 100, L = 100, rescore = 50;
	test::Dataset ds = test::make_dataset(n, nq, dim, 50, 36);
	OwnedGraph og(n, 32);
	ASSERT_EQ(build(og, ds.base, dim, VamanaBuildParams{32, 64, 1.2f, 3, false}), Status::Ok);

	Rows rows{ds.base.data(), dim, test_l2sq()};
	auto metric = [&](const float *a, const float *b) { return rows.l2sq(a, b, dim); };
	std::vector<uint32_t> truth = test::brute_force(ds.base, ds.queries, dim, kK, metric);

	for (uint32_t bits : {1u, 2u, 4u}) {
		EncodedRows enc(ds.base, n, dim, bits);
		const Quantizer &q = enc.q;
		std::vector<uint8_t> &planes = enc.planes, &codes = enc.codes;
		std::vector<CodeFactors> &f = enc.f;
		std::vector<float> &work = enc.work;

		Searcher srch(n, L, 32);
		uint64_t hits = 0;
		for (uint32_t j = 0; j < nq; j++) {
			const float *qv = &ds.queries[static_cast<size_t>(j) * dim];
			QueryCode qc{};
			qc.planes = planes.data();
			q.prepare_query(qv, &qc, work.data());
			CodeDistance dist{&q, &qc, codes.data(), f.data(), EstimateMetric::L2sq};
			uint32_t got = srch.search(og.g, dist, L);
			uint32_t m = std::min(got, rescore);
			for (uint32_t i = 0; i < m; i++) /* re-rank the nearest `rescore` by estimate exactly */
				srch.best[i].dist = metric(qv, rows.row(srch.best[i].id));
			std::sort(srch.best.begin(), srch.best.begin() + m, nearer);
			hits += test::hits_at(srch.best.data(), m, &truth[static_cast<size_t>(j) * kK], kK);
		}
		double recall = static_cast<double>(hits) / (static_cast<double>(nq) * kK);
		std::printf("[ vamana ] 10k x 128, %u-bit RaBitQ traversal, L %u, exact re-rank of %u: recall@10 %.4f\n", bits,
					L, rescore, recall);
		/* measured: 0.833 (1 bit), 0.977 (2 bits), 1.0 (4 bits) */
		EXPECT_GE(recall, bits == 1 ? 0.75 : bits == 2 ? 0.95 : 0.98) << bits;
	}
}

TEST(VamanaBuild, CodedSearchesKeepRecallWithFewerExactDistances)
{
	/* the PG build's way: searches estimate from 2-bit codes, V gets exact distances before pruning */
	const uint32_t dim = 128, n = 10000;
	test::Dataset ds = test::make_dataset(n, kQueries, dim, 50, 37);
	VamanaBuildParams p{32, 64, 1.2f, 5, true, vamana_first_pass_width(64)};
	EncodedRows enc(ds.base, n, dim, 2);

	uint64_t pairs[2];
	double recall[2];
	for (int coded = 0; coded < 2; coded++) {
		OwnedGraph og(n, p.R, vamana_capacity_for(p.R));
		OwnedScratch scratch(og.g.stride(), p.L, n);
		og.g.medoid = medoid_of(ds.base, dim);
		CodedSearchPair<CountingRows> rows;
		static_cast<CountingRows &>(rows) = CountingRows{{ds.base.data(), dim, test_l2sq()}};
		QueryCode qc{};
		qc.planes = enc.planes.data();
		Status st;
		if (coded) {
			rows.quantizer = &enc.q;
			rows.codes = enc.codes.data();
			rows.factors = enc.f.data();
			rows.rows = ds.base.data();
			rows.row_floats = dim;
			rows.query = &qc;
			rows.work = enc.work.data();
			st = vamana_build(og.g, p, rows, scratch.s, nullptr, [](uint64_t) {});
		} else
			st = vamana_build(og.g, p, static_cast<const CountingRows &>(rows), scratch.s, nullptr, [](uint64_t) {});
		ASSERT_EQ(st, Status::Ok);
		expect_valid(og.g);
		EXPECT_LE(unreachable(og.g), 2u);
		pairs[coded] = rows.pairs;
		recall[coded] = graph_recall(og.g, ds.base, ds.queries, dim, kK, 20);
	}
	std::printf("[ vamana ] 10k x 128, searches on 2-bit codes: exact distances %llu -> %llu, recall@10 at L 20 "
				"%.4f -> %.4f\n",
				(unsigned long long) pairs[0], (unsigned long long) pairs[1], recall[0], recall[1]);
	EXPECT_LT(pairs[1], pairs[0] * 85 / 100); /* measured: 18.5 M -> 14.1 M; pruning stays exact */
	EXPECT_GE(recall[1], recall[0] - 0.015);
	EXPECT_GE(recall[1], 0.9);
}

} // namespace
} // namespace vx::core
