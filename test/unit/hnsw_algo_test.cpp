/*
 * hnsw_algo_test.cpp -- GoogleTest for the HNSW core (visited set, heaps,
 * neighbour heuristic, in-arena graph, search, concurrent build, interrupts).
 *
 * Recall tests compare against brute force computed here with the same
 * kernel (the best level of the CPU), on seeded Gaussian-cluster data; their thresholds are set so a
 * graph with broken linking (e.g. missing back-links or a wrong heuristic)
 * fails them. Data is small (10k x 32) so the suite runs in seconds.
 */
#include "vx/core/heap.hpp"
#include "vx/core/hnsw_algo.hpp"
#include "vx/core/hnsw_graph.hpp"
#include "vx/core/visited.hpp"
#include "vx/kernels/kernels.hpp"

#include "test_data.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <memory>
#include <new>
#include <random>
#include <thread>
#include <vector>

namespace vx::core {
namespace {

/* ---------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------- */

/* 64-byte aligned heap buffer for arenas. */
struct AlignedBuf
{
	struct Free
	{
		void operator()(std::byte *p) const { ::operator delete[](p, std::align_val_t(64)); }
	};
	std::unique_ptr<std::byte[], Free> p;
	size_t size = 0;

	explicit AlignedBuf(size_t n) : p(new (std::align_val_t(64)) std::byte[n]), size(n) {}
	std::byte *get() const { return p.get(); }
};

using test::brute_force;
using test::Dataset;
using test::gaussian_clusters;
using test::make_dataset;

/* A graph in its own arena plus one insert scratch, for single-threaded tests. */
template <class Policy>
struct TestGraph
{
	HnswGraphParams params;
	AlignedBuf arena;
	HnswGraph<Policy> g;

	explicit TestGraph(const HnswGraphParams &p) : params(p), arena(hnsw_graph_layout(p).total_bytes)
	{
		EXPECT_EQ(HnswGraph<Policy>::create(arena.get(), arena.size, p, &g), Status::Ok);
	}
};

/* Owned insert scratch. */
struct OwnedInsertScratch
{
	std::vector<uint64_t> mem;
	InsertScratch s;

	explicit OwnedInsertScratch(const HnswGraphParams &p) : mem(insert_scratch_bytes(p) / 8 + 1)
	{
		EXPECT_TRUE(carve_insert_scratch(mem.data(), mem.size() * 8, p, &s));
	}
};

/* Owned search scratch + visited set + result buffer for queries. */
struct Searcher
{
	std::vector<uint64_t> mem;
	std::vector<uint16_t> tags;
	std::vector<Candidate> out;
	SearchScratch s;
	VisitedSet visited;

	Searcher(uint32_t capacity, uint32_t max_ef, uint32_t max_degree)
		: mem(SearchScratch::bytes_needed(max_ef, max_degree) / 8 + 1), tags(capacity), out(max_ef)
	{
		EXPECT_TRUE(SearchScratch::carve(mem.data(), mem.size() * 8, max_ef, max_degree, &s));
		visited = VisitedSet(tags.data(), capacity);
	}
};

/* Insert every row of data (payload = row number) with one thread. */
template <class Policy, class Metric>
Status
build_all(HnswGraph<Policy> &g, const std::vector<float> &data, uint32_t dim, const Metric &metric, uint64_t seed,
		  const volatile int *flag = nullptr)
{
	OwnedInsertScratch scratch(g.params());
	SplitMix64 rng{seed};
	uint32_t cursor = 0;
	uint32_t n = static_cast<uint32_t>(data.size() / dim);
	uint32_t row_id = 0;
	auto row = [&](uint32_t i, const void **value, const void **payload) {
		*value = &data[static_cast<size_t>(i) * dim];
		row_id = i;
		*payload = &row_id;
	};
	return build_rows(g, n, &cursor, row, metric, rng, scratch.s, flag);
}

/* Mean recall@k of the graph over the queries; graph ids map to rows through the uint32 payload. */
template <class Policy, class Metric>
double
recall_at(const HnswGraph<Policy> &g, const std::vector<float> &queries, const std::vector<uint32_t> &truth,
		  uint32_t dim, uint32_t k, uint32_t ef, const Metric &metric)
{
	uint32_t nq = static_cast<uint32_t>(queries.size() / dim);
	Searcher srch(g.params().capacity, ef, g.max_degree());
	uint64_t hits = 0;
	for (uint32_t q = 0; q < nq; q++) {
		auto dist = g.query_distance(metric, &queries[static_cast<size_t>(q) * dim]);
		uint32_t got = hnsw_search(g, dist, ef, srch.visited, srch.s, srch.out.data());
		for (uint32_t j = 0; j < std::min(got, k); j++) {
			uint32_t row;
			std::memcpy(&row, g.payload(srch.out[j].id), sizeof(row));
			const uint32_t *t = &truth[static_cast<size_t>(q) * k];
			hits += std::find(t, t + k, row) != t + k;
		}
	}
	return static_cast<double>(hits) / (static_cast<double>(nq) * k);
}

/* Graph tests run on the best kernel level and restore the previous one (the table is global). */
class HnswCore : public ::testing::Test
{
protected:
	static void
	SetUpTestSuite()
	{
		saved_ = kernels::active().level;
		kernels::kernels_init();
	}
	static void TearDownTestSuite() { kernels::kernels_init(saved_); }

	static inline kernels::Level saved_ = kernels::Level::Scalar;
};

/* ---------------------------------------------------------------------------
 * Visited set and heaps
 * ------------------------------------------------------------------------- */

TEST(Visited, MarksAndResets)
{
	std::vector<uint16_t> tags(100, 0xffff); /* garbage: the constructor must clear it */
	VisitedSet v(tags.data(), 100);
	EXPECT_FALSE(v.contains(7));
	EXPECT_FALSE(v.test_and_set(7));
	EXPECT_TRUE(v.test_and_set(7));
	EXPECT_TRUE(v.contains(7));
	EXPECT_FALSE(v.contains(8));
	v.reset();
	EXPECT_FALSE(v.contains(7));
	EXPECT_FALSE(v.test_and_set(99));
	EXPECT_EQ(v.capacity(), 100u);
}

TEST(Visited, EpochWrapClearsTags)
{
	std::vector<uint16_t> tags(10);
	VisitedSet v(tags.data(), 10);
	v.test_and_set(3);
	/* Mark 5 in every epoch; after a wrap an old tag equal to the new epoch must not leak. */
	for (int i = 0; i < 70000; i++) {
		v.reset();
		ASSERT_FALSE(v.contains(3)) << "reset " << i;
		if (i % 1000 == 0)
			v.test_and_set(3);
	}
}

TEST(Heap, MinAndMaxOrder)
{
	std::mt19937 rng(1);
	std::uniform_real_distribution<float> u(0.0f, 1.0f);
	std::vector<Candidate> in(500);
	for (uint32_t i = 0; i < in.size(); i++)
		in[i] = Candidate{u(rng), i};
	in[10].dist = in[20].dist; /* a tie, broken by id */

	std::vector<Candidate> a(in.size()), b(in.size()), out(in.size());
	MinHeap mn(a.data(), static_cast<uint32_t>(a.size()));
	MaxHeap mx(b.data(), static_cast<uint32_t>(b.size()));
	for (const Candidate &c : in) {
		mn.push(c);
		mx.push(c);
	}
	EXPECT_TRUE(mn.full());
	std::vector<Candidate> sorted = in;
	std::sort(sorted.begin(), sorted.end(), nearer);
	for (size_t i = 0; i < sorted.size(); i++) {
		ASSERT_EQ(mn.top().id, sorted[i].id);
		ASSERT_EQ(mx.top().id, sorted[sorted.size() - 1 - i].id);
		mn.pop();
		mx.pop();
	}
	EXPECT_TRUE(mn.empty() && mx.empty());
}

TEST(Heap, BoundedKeepsNearestAndDrainsSorted)
{
	std::mt19937 rng(2);
	std::uniform_real_distribution<float> u(0.0f, 100.0f);
	std::vector<Candidate> in(1000);
	for (uint32_t i = 0; i < in.size(); i++)
		in[i] = Candidate{u(rng), i};
	std::vector<Candidate> buf(10), out(10);
	MaxHeap mx(buf.data(), 10);
	for (const Candidate &c : in)
		mx.push_bounded(c);
	EXPECT_EQ(mx.drain_sorted(out.data()), 10u);
	std::vector<Candidate> sorted = in;
	std::sort(sorted.begin(), sorted.end(), nearer);
	for (int i = 0; i < 10; i++)
		EXPECT_EQ(out[i].id, sorted[i].id);
	EXPECT_TRUE(mx.empty());

	/* A bounded min-heap keeps the farthest; drain is still ascending. */
	MinHeap mn(buf.data(), 10);
	for (const Candidate &c : in)
		mn.push_bounded(c);
	EXPECT_EQ(mn.drain_sorted(out.data()), 10u);
	for (int i = 0; i < 10; i++)
		EXPECT_EQ(out[i].id, sorted[990 + i].id);
}

TEST(Heap, ReplaceTopAndRemoveFarther)
{
	std::vector<Candidate> buf(8), out(8);
	MinHeap mn(buf.data(), 8);
	for (uint32_t i = 0; i < 8; i++)
		mn.push(Candidate{static_cast<float>(i), i});
	EXPECT_FALSE(mn.push_bounded(Candidate{-1.0f, 99})); /* full min-heap refuses a smaller one */
	mn.replace_top(Candidate{5.5f, 55});				  /* drops 0 */
	EXPECT_EQ(mn.top().id, 1u);
	mn.remove_farther_than(4.0f); /* keeps 1,2,3,4 */
	EXPECT_EQ(mn.size(), 4u);
	EXPECT_EQ(mn.drain_sorted(out.data()), 4u);
	for (uint32_t i = 0; i < 4; i++)
		EXPECT_EQ(out[i].id, i + 1);
}

/* ---------------------------------------------------------------------------
 * Heuristic on hand-made 1-D points
 * ------------------------------------------------------------------------- */

/* Points on a line; the base element is at 0 and ids index xs. */
struct Line
{
	std::vector<float> xs;
	float operator()(uint32_t a, uint32_t b) const { return std::fabs(xs[a] - xs[b]); }

	std::vector<Candidate>
	candidates() const
	{
		std::vector<Candidate> c;
		for (uint32_t i = 0; i < xs.size(); i++)
			c.push_back(Candidate{std::fabs(xs[i]), i});
		std::sort(c.begin(), c.end(), nearer);
		return c;
	}
};

TEST(Heuristic, KeepsOnlyDiverseNeighbours)
{
	/* 1 is kept; -1.5 is farther from 1 (2.5) than from the base (1.5): kept;
	 * 2 is nearer to 1 (1) than to the base (2): pruned; 3 likewise (2 < 3). */
	Line line{{1.0f, 2.0f, -1.5f, 3.0f}};
	std::vector<Candidate> cand = line.candidates(), out(4), pruned(4);
	uint32_t n = select_neighbors_heuristic(cand.data(), 4, 3, false, line, out.data(), pruned.data());
	ASSERT_EQ(n, 2u);
	EXPECT_EQ(out[0].id, 0u);
	EXPECT_EQ(out[1].id, 2u);

	/* With keep_pruned the nearest rejected (2, id 1) fills the third slot. */
	n = select_neighbors_heuristic(cand.data(), 4, 3, true, line, out.data(), pruned.data());
	ASSERT_EQ(n, 3u);
	EXPECT_EQ(out[0].id, 0u);
	EXPECT_EQ(out[1].id, 2u);
	EXPECT_EQ(out[2].id, 1u);

	/* max_keep = 1 keeps just the nearest. */
	n = select_neighbors_heuristic(cand.data(), 4, 1, false, line, out.data(), pruned.data());
	ASSERT_EQ(n, 1u);
	EXPECT_EQ(out[0].id, 0u);
}

TEST(Heuristic, TiesAreKeptAndSmallSetsUnpruned)
{
	/* 1 kept; -1 is 2 from 1 and 1 from the base: kept; 2 is 1 from 1 and 2 from the base: pruned. */
	Line tie{{1.0f, -1.0f, 2.0f}};
	std::vector<Candidate> cand = tie.candidates(), out(3), pruned(3);
	EXPECT_EQ(select_neighbors_heuristic(cand.data(), 3, 4, false, tie, out.data(), pruned.data()), 3u)
		<< "fewer candidates than max_keep: hnswlib keeps them all";
	EXPECT_EQ(select_neighbors_heuristic(cand.data(), 3, 3, false, tie, out.data(), pruned.data()), 2u)
		<< "as many candidates as max_keep: the heuristic runs";

	/* Exact tie: candidate at 2 with kept element at 0 -> |2-0| == base distance 2: kept (strict <). */
	Line exact{{0.0f, 2.0f}};
	cand = exact.candidates();
	/* n == max_keep, so the heuristic runs: 0 (distance 0) is kept; 2 is 2 from it and 2 from the base. */
	uint32_t n = select_neighbors_heuristic(cand.data(), 2, 2, false, exact, out.data(), pruned.data());
	EXPECT_EQ(n, 2u);
}

TEST(Heuristic, ReselectFullList)
{
	/* Base at 0 with a full list {1, 2, -1.5} (ids 0..2, cap 3); the new element is 3 (id 3). By distance:
	 * 1, -1.5, 2, 3. Kept: 1 and -1.5; pruned: 2 and 3 (both nearer to 1 than to the base). */
	Line line{{1.0f, 2.0f, -1.5f, 3.0f}};
	auto base_dist = [&](uint32_t id) { return std::fabs(line.xs[id]); };
	std::vector<uint64_t> mem(InsertScratch::bytes_needed(2, 4, 4) / 8 + 1);
	InsertScratch s;
	ASSERT_TRUE(InsertScratch::carve(mem.data(), mem.size() * 8, 2, 4, 4, &s));
	uint32_t ids[3] = {0, 1, 2};

	/* keep_pruned: back-fill with the nearest pruned (2); the new element is the one dropped. */
	uint32_t n = reselect_neighbors(99, ids, 3, Candidate{3.0f, 3}, 3, true, base_dist, line, s);
	ASSERT_EQ(n, 3u);
	EXPECT_EQ(s.shrink_out[0].id, 0u);
	EXPECT_EQ(s.shrink_out[1].id, 2u);
	EXPECT_EQ(s.shrink_out[2].id, 1u);

	/* hnswlib: the list shrinks to the diverse pair. */
	n = reselect_neighbors(99, ids, 3, Candidate{3.0f, 3}, 3, false, base_dist, line, s);
	ASSERT_EQ(n, 2u);
	EXPECT_EQ(s.shrink_out[0].id, 0u);
	EXPECT_EQ(s.shrink_out[1].id, 2u);

	/* A new element at -0.5 (distance 0.5, now the nearest) is kept; 1 is 1.5 from it (> 1.0): kept;
	 * -1.5 is 1.0 from it (< 1.5): pruned; 2 is 1.0 from 1 (< 2.0): pruned. */
	line.xs.push_back(-0.5f);
	n = reselect_neighbors(99, ids, 3, Candidate{0.5f, 4}, 3, false, base_dist, line, s);
	ASSERT_EQ(n, 2u);
	EXPECT_EQ(s.shrink_out[0].id, 4u);
	EXPECT_EQ(s.shrink_out[1].id, 0u);

	/* A damaged list naming its own base (id 1, at 2): the base is dropped, so the new element
	 * (at 3) fits (keep_pruned: no pruning): {0, 2, 3} by distance, no 1. */
	n = reselect_neighbors(1, ids, 3, Candidate{3.0f, 3}, 3, true, base_dist, line, s);
	ASSERT_EQ(n, 3u);
	EXPECT_EQ(s.shrink_out[0].id, 0u);
	EXPECT_EQ(s.shrink_out[1].id, 2u);
	EXPECT_EQ(s.shrink_out[2].id, 3u);
}

TEST(Heuristic, SortCandidates)
{
	/* Distinct distances: nearest first, whatever the base. */
	std::vector<Candidate> c{{3.0f, 1}, {1.0f, 7}, {2.0f, 2}, {0.5f, 3}};
	for (uint32_t base : {0u, 5u, 1000u}) {
		std::vector<Candidate> d = c;
		sort_candidates(d.data(), 4, base);
		EXPECT_EQ(d[0].id, 3u);
		EXPECT_EQ(d[1].id, 7u);
		EXPECT_EQ(d[2].id, 2u);
		EXPECT_EQ(d[3].id, 1u);
	}

	/* Ties: ordered by tie_rank(id, base), so each base has its own order; 3 and 7 tie at 1.0. */
	c = {{3.0f, 1}, {1.0f, 7}, {2.0f, 2}, {1.0f, 3}};
	uint32_t first3 = 0, first7 = 0;
	for (uint32_t base = 0; base < 200; base++) {
		std::vector<Candidate> d = c;
		sort_candidates(d.data(), 4, base);
		bool three_first = tie_rank(3, base) < tie_rank(7, base);
		EXPECT_EQ(d[0].id, three_first ? 3u : 7u);
		EXPECT_EQ(d[1].id, three_first ? 7u : 3u);
		EXPECT_EQ(d[2].id, 2u);
		EXPECT_EQ(d[3].id, 1u);
		(three_first ? first3 : first7)++;
	}
	/* a fair coin over 200 bases: each order between 60 and 140 times (fails with p < 1e-8) */
	EXPECT_GT(first3, 60u);
	EXPECT_GT(first7, 60u);
}

TEST(Heuristic, TiedFullListDropsAVaryingCandidate)
{
	/* A list of 32 copies (all at distance 0 from the base, and from each other) and one more
	 * copy: ordered by id (or by arrival) the newcomer, last, would be dropped every time, so
	 * copies after the first 33 would never get an incoming link. With ties in each base's own
	 * order the dropped ones vary; at most half the list (16) is kept at one distance, so over
	 * 330 bases the newcomer is dropped about 330 * 17/33 = 170 times, and every copy sometimes. */
	auto zero = [](uint32_t, uint32_t) { return 0.0f; };
	auto base_zero = [](uint32_t) { return 0.0f; };
	std::vector<uint64_t> mem(InsertScratch::bytes_needed(16, 64, 1) / 8 + 1);
	InsertScratch s;
	ASSERT_TRUE(InsertScratch::carve(mem.data(), mem.size() * 8, 16, 64, 1, &s));
	uint32_t ids[32];
	for (uint32_t i = 0; i < 32; i++)
		ids[i] = 1000 + i;
	uint32_t newcomer_dropped = 0;
	std::vector<bool> dropped_ever(33, false);
	for (uint32_t base = 0; base < 330; base++) {
		uint32_t n = reselect_neighbors(base, ids, 32, Candidate{0.0f, 1032}, 32, true, base_zero, zero, s);
		ASSERT_EQ(n, 16u);
		std::vector<bool> kept(33, false);
		for (uint32_t i = 0; i < n; i++)
			kept[s.shrink_out[i].id - 1000] = true;
		for (uint32_t i = 0; i < 33; i++)
			if (!kept[i])
				dropped_ever[i] = true;
		newcomer_dropped += !kept[32];
	}
	EXPECT_GE(newcomer_dropped, 120u);
	EXPECT_LE(newcomer_dropped, 220u); /* mean 170 */
	EXPECT_EQ(std::count(dropped_ever.begin(), dropped_ever.end(), true), 33);
}

TEST(Heuristic, TiesFillAtMostHalfTheList)
{
	/* 40 copies of the base (distance 0 from it and from each other) and 8 distinct elements
	 * at distance 1 + i from the base and 1 + i from the copies: the distinct ones are kept
	 * (a copy never prunes them: it is as far from them as the base), the copies take 16
	 * slots, not all 32, so the list keeps links out of the cluster and room for more. */
	std::vector<Candidate> cand;
	for (uint32_t i = 0; i < 40; i++)
		cand.push_back(Candidate{0.0f, i});
	for (uint32_t i = 0; i < 8; i++)
		cand.push_back(Candidate{1.0f + i, 100 + i});
	auto pair = [](uint32_t a, uint32_t b) {
		if (a < 100 && b < 100)
			return 0.0f;
		if (a >= 100 && b >= 100)
			return 100.0f; /* distinct ones far apart: none prunes another */
		return 1.0f + static_cast<float>((a >= 100 ? a : b) - 100);
	};
	std::vector<Candidate> out(32), pruned(cand.size());
	uint32_t n = select_neighbors_heuristic(cand.data(), static_cast<uint32_t>(cand.size()), 32, true, pair,
											out.data(), pruned.data());
	uint32_t copies = 0, distinct = 0;
	for (uint32_t i = 0; i < n; i++)
		(out[i].id < 100 ? copies : distinct)++;
	EXPECT_EQ(copies, 16u);
	EXPECT_EQ(distinct, 8u);
	EXPECT_EQ(n, 24u);
}

/* ---------------------------------------------------------------------------
 * search_layer on a hand-made view
 * ------------------------------------------------------------------------- */

/* A path 0-1-2-...-n-1 on level 0 over points x = id; level 1 holds 0 and n-1 linked. */
struct PathView
{
	uint32_t n;
	std::vector<std::vector<uint32_t>> adj;
	std::vector<uint32_t> top{0, 0};
	uint32_t degree = 2; /* largest level-0 list */
	std::vector<uint32_t> upper0; /* more level-1 neighbours of 0 (stale links, whatever their level) */

	explicit PathView(uint32_t count) : n(count), adj(count)
	{
		for (uint32_t i = 0; i + 1 < n; i++) {
			adj[i].push_back(i + 1);
			adj[i + 1].push_back(i);
		}
		top = {0, n - 1};
	}
	uint32_t entry_point() const { return 0; }
	int max_level() const { return 1; }
	int level_of(uint32_t id) const { return id == 0 || id == n - 1 ? 1 : 0; }
	uint32_t max_degree() const { return degree; }
	std::span<const uint32_t>
	neighbors(uint32_t id, int level, uint32_t *buf) const
	{
		if (level == 1) {
			if (level_of(id) < 1)
				return {};
			buf[0] = id == 0 ? n - 1 : 0;
			uint32_t k = 1;
			if (id == 0)
				for (uint32_t x : upper0)
					buf[k++] = x;
			return {buf, k};
		}
		return {adj[id].data(), adj[id].size()};
	}
};

/* Distance |x - q| on the path. */
struct PathDist
{
	float q;
	float operator()(uint32_t id) const { return std::fabs(static_cast<float>(id) - q); }
	void prefetch(uint32_t) const {}
};

static_assert(GraphView<PathView>);
static_assert(QueryDistance<PathDist>);

TEST(Search, BeamOnPathFindsNearest)
{
	PathView view(100);
	Searcher srch(100, 8, 2);
	PathDist d{70.2f};
	uint32_t got = hnsw_search(view, d, 5, srch.visited, srch.s, srch.out.data());
	ASSERT_EQ(got, 5u);
	uint32_t expect[] = {70, 71, 69, 72, 68};
	for (int i = 0; i < 5; i++)
		EXPECT_EQ(srch.out[i].id, expect[i]);
	/* Greedy on level 1 from 0 jumps to 99 (nearer to 70.2), then level 0 walks down. */
	Candidate c = greedy_search_layer(view, d, Candidate{d(0), 0}, 1, srch.s);
	EXPECT_EQ(c.id, 99u);
}

TEST(Search, PreMarkedIdsAreSkipped)
{
	PathView view(20);
	Searcher srch(20, 4, 2);
	PathDist d{10.0f};
	srch.visited.reset();
	srch.visited.test_and_set(10);
	Candidate ep{d(9), 9};
	uint32_t got = search_layer(view, d, &ep, 1, 0, 3, srch.visited, srch.s, srch.out.data());
	ASSERT_EQ(got, 3u);
	EXPECT_EQ(srch.out[0].id, 9u); /* 10 is excluded, and the walk stops there */
	EXPECT_EQ(srch.out[1].id, 8u);
	EXPECT_EQ(srch.out[2].id, 7u);
}

/* Ids 10..19 are copies of one point (the query's); the others lie farther the farther from 15. */
struct CopiesDist
{
	float operator()(uint32_t id) const
	{
		return id >= 10 && id < 20 ? 0.0f : 1.0f + std::fabs(static_cast<float>(id) - 15.0f);
	}
	void prefetch(uint32_t) const {}
};

TEST(Search, TiesWithTheWorstResultAreKept)
{
	PathView view(40);
	Searcher srch(40, 4, 2);
	CopiesDist d;
	Candidate ep{d(0), 0};

	/* without ties: ef = 1 gives one copy */
	srch.visited.reset();
	EXPECT_EQ(search_layer(view, d, &ep, 1, 0, 1, srch.visited, srch.s, srch.out.data()), 1u);
	EXPECT_EQ(srch.out[0].dist, 0.0f);

	/* with room for 9 ties: all 10 copies, nearest first, nothing else */
	std::vector<Candidate> ties(9), out(10);
	srch.s.ties = ties.data();
	srch.s.max_ties = 9;
	srch.visited.reset();
	uint32_t got = search_layer(view, d, &ep, 1, 0, 1, srch.visited, srch.s, out.data());
	ASSERT_EQ(got, 10u);
	std::vector<uint32_t> ids;
	for (uint32_t i = 0; i < got; i++) {
		EXPECT_EQ(out[i].dist, 0.0f);
		ids.push_back(out[i].id);
	}
	std::sort(ids.begin(), ids.end());
	for (uint32_t i = 0; i < 10; i++)
		EXPECT_EQ(ids[i], 10 + i);

	/* ties with a result that a nearer one later evicts are dropped: ef = 2 from far away */
	srch.s.max_ties = 2;
	srch.visited.reset();
	got = search_layer(view, d, &ep, 1, 0, 2, srch.visited, srch.s, out.data());
	ASSERT_GE(got, 2u);
	ASSERT_LE(got, 4u);
	for (uint32_t i = 0; i < got; i++)
		EXPECT_EQ(out[i].dist, 0.0f) << "only copies may be returned";
}

TEST(Search, AcceptingTraversesRejectedElements)
{
	/* 28..32 are rejected (deleted): the search starts among them and still finds 27 and 33 */
	PathView view(50);
	Searcher srch(50, 8, 2);
	PathDist d{30.0f};
	Candidate ep{0.0f, 30};
	auto accept = [](uint32_t id) { return id < 28 || id > 32; };
	srch.visited.reset();
	uint32_t got = search_layer_accepting(view, d, &ep, 1, 0, 4, srch.visited, srch.s, srch.out.data(), accept);
	ASSERT_EQ(got, 4u);
	std::vector<uint32_t> ids;
	for (uint32_t i = 0; i < got; i++)
		ids.push_back(srch.out[i].id);
	std::sort(ids.begin(), ids.end());
	EXPECT_EQ(ids, (std::vector<uint32_t>{26, 27, 33, 34}));
	/* the plain search would return the rejected ones */
	srch.visited.reset();
	got = search_layer(view, d, &ep, 1, 0, 4, srch.visited, srch.s, srch.out.data());
	EXPECT_EQ(srch.out[0].id, 30u);
}

TEST(Search, InsertNeverPicksItsOwnId)
{
	/* The on-page case: id 10 was freed by vacuum and popped again by the insert searching now;
	 * its record is not written yet (no neighbours) but its slot still holds the old vector
	 * (here at distance 0), and 9 and 11 still link to it (links written after vacuum's repair
	 * pass). 9 and 11 are also linked directly, so the path stays connected without 10. */
	PathView view(20);
	view.adj[10].clear();
	view.adj[9].push_back(11);
	view.adj[11].push_back(9);
	view.degree = 3;
	PathDist d{10.0f};
	auto pair = [](uint32_t a, uint32_t b) { return std::fabs(static_cast<float>(a) - static_cast<float>(b)); };
	std::vector<uint64_t> mem(InsertScratch::bytes_needed(2, 4, 20) / 8 + 1);
	InsertScratch s;
	ASSERT_TRUE(InsertScratch::carve(mem.data(), mem.size() * 8, 2, 4, 20, &s));
	InsertParams p{2, 4, 4, true};

	/* Told nothing about its id, the search picks 10 (at distance 0) for the element 10 itself. */
	ASSERT_EQ(find_insert_neighbors(view, d, pair, 0, 1, 0, kInvalidId, 10, p, s), 0);
	const Candidate *sel = s.selected_at(0);
	ASSERT_GT(s.selected_count[0], 0u);
	EXPECT_EQ(sel[0].id, 10u) << "the scenario must lead the search to the element's own id";

	/* Told its id, it never picks it, and still finds the nearest others: 9 and 11, then 8 and 12. */
	ASSERT_EQ(find_insert_neighbors(view, d, pair, 0, 1, 0, 10, 10, p, s), 0);
	ASSERT_EQ(s.selected_count[0], 4u);
	std::vector<uint32_t> got;
	for (uint32_t i = 0; i < s.selected_count[0]; i++)
		got.push_back(sel[i].id);
	std::sort(got.begin(), got.end());
	EXPECT_EQ(got, (std::vector<uint32_t>{8, 9, 11, 12}));
	for (uint32_t i = 0; i < s.nw; i++)
		EXPECT_NE(s.w[i].id, 10u);

	/* On an upper level: 19 (level 1, linked from the entry point 0 there) is the element being
	 * inserted, the query is its old vector. Without its id the descent steps onto 19 and it is
	 * picked; with it, the descent stays on 0 and level 0 finds 18, 17, 16, 15. */
	PathView upper(20);
	PathDist d19{19.0f};
	ASSERT_EQ(find_insert_neighbors(upper, d19, pair, 0, 1, 0, kInvalidId, 19, p, s), 0);
	ASSERT_GT(s.selected_count[0], 0u);
	EXPECT_EQ(sel[0].id, 19u);
	ASSERT_EQ(find_insert_neighbors(upper, d19, pair, 0, 1, 0, 19, 19, p, s), 0);
	got.clear();
	for (uint32_t i = 0; i < s.selected_count[0]; i++)
		got.push_back(sel[i].id);
	std::sort(got.begin(), got.end());
	EXPECT_EQ(got, (std::vector<uint32_t>{15, 16, 17, 18}));
}

TEST(Search, UpperLevelPicksStayOnTheLevel)
{
	/* 0's level-1 list also names 5, which is on level 0 only (a stale link to an id reused at a
	 * lower level). An element of level 1 at x = 5 finds 5 on level 1 (distance 0) but links to
	 * it on level 0 only; on level 1 it picks 0 and 19, the elements that are there. */
	PathView view(20);
	view.upper0 = {5};
	view.degree = 3;
	PathDist d{5.0f};
	auto pair = [](uint32_t a, uint32_t b) { return std::fabs(static_cast<float>(a) - static_cast<float>(b)); };
	std::vector<uint64_t> mem(InsertScratch::bytes_needed(2, 4, 20) / 8 + 1);
	InsertScratch s;
	ASSERT_TRUE(InsertScratch::carve(mem.data(), mem.size() * 8, 2, 4, 20, &s));
	InsertParams p{2, 4, 4, true};
	ASSERT_EQ(find_insert_neighbors(view, d, pair, 0, 1, 1, kInvalidId, 20, p, s), 1);
	std::vector<uint32_t> up;
	for (uint32_t i = 0; i < s.selected_count[1]; i++)
		up.push_back(s.selected_at(1)[i].id);
	std::sort(up.begin(), up.end());
	EXPECT_EQ(up, (std::vector<uint32_t>{0, 19}));
	ASSERT_GT(s.selected_count[0], 0u);
	EXPECT_EQ(s.selected_at(0)[0].id, 5u);
}

TEST(Search, TinyFrontierStillTerminates)
{
	/* A frontier with barely any room forces compaction paths; the result must stay correct. */
	PathView view(50);
	std::vector<Candidate> cand(3), res(4), out(4);
	std::vector<uint32_t> nbuf(2), pending(2);
	std::vector<uint16_t> tags(50);
	SearchScratch s;
	s.candidates = cand.data();
	s.candidate_capacity = 3;
	s.results = res.data();
	s.max_ef = 4;
	s.neighbor_buf = nbuf.data();
	s.pending = pending.data();
	s.max_degree = 2;
	VisitedSet v(tags.data(), 50);
	PathDist d{30.0f};
	Candidate ep{d(0), 0};
	uint32_t got = search_layer(view, d, &ep, 1, 0, 4, v, s, out.data());
	ASSERT_EQ(got, 4u);
	EXPECT_EQ(out[0].id, 30u);
}

/* ---------------------------------------------------------------------------
 * Levels, normalisation, layout
 * ------------------------------------------------------------------------- */

TEST(Levels, FromUniform)
{
	double ml = level_multiplier(16);
	EXPECT_EQ(level_from_uniform(1.0, ml), 0);
	EXPECT_EQ(level_from_uniform(1.0 / 16 + 1e-12, ml), 0);
	EXPECT_EQ(level_from_uniform(1.0 / 16 - 1e-12, ml), 1);
	EXPECT_EQ(level_from_uniform(1.0 / 256 - 1e-15, ml), 2);
	EXPECT_EQ(level_from_uniform(0.0, ml), kMaxLevel);
	EXPECT_EQ(level_from_uniform(1e-300, ml), kMaxLevel);

	SplitMix64 rng{42};
	int above = 0;
	for (int i = 0; i < 160000; i++) {
		double u = rng.uniform();
		ASSERT_GT(u, 0.0);
		ASSERT_LE(u, 1.0);
		above += level_from_uniform(u, ml) >= 1;
	}
	EXPECT_NEAR(above / 160000.0, 1.0 / 16, 0.003);
}

TEST(Normalize, F32AndF16)
{
	float v[2] = {3.0f, 4.0f};
	ASSERT_TRUE(normalize_f32(v, 2));
	EXPECT_FLOAT_EQ(v[0], 0.6f);
	EXPECT_FLOAT_EQ(v[1], 0.8f);
	float z[3] = {0, 0, 0};
	EXPECT_FALSE(normalize_f32(z, 3));
	EXPECT_EQ(z[0], 0.0f);

	uint16_t h[2] = {kernels::float_to_half(3.0f), kernels::float_to_half(4.0f)};
	ASSERT_TRUE(normalize_f16(h, 2));
	EXPECT_EQ(h[0], kernels::float_to_half(0.6f));
	EXPECT_EQ(h[1], kernels::float_to_half(0.8f));
}

TEST(Layout, SizesAndCapacity)
{
	HnswGraphParams p;
	p.m = 16;
	p.value_bytes = 256 * 4;
	p.capacity = 62666;
	HnswGraphLayout l = hnsw_graph_layout(p);
	ASSERT_GT(l.total_bytes, 0u);
	EXPECT_EQ(l.node_stride, 12u + 4 * 32);
	EXPECT_EQ(l.value_stride, 1024u);
	EXPECT_EQ(l.upper_stride, 4u + 4 * 16);
	EXPECT_EQ(l.values_off % 64, 0u);
	/* 62666/15 = 4178 expected upper lists; provision must exceed it but stay within ~1.2x. */
	EXPECT_GT(l.upper_capacity, 4178u);
	EXPECT_LT(l.upper_capacity, 5100u);
	double per = static_cast<double>(l.total_bytes) / p.capacity;
	EXPECT_GT(per, 1164.0);
	EXPECT_LT(per, 1172.0);

	EXPECT_EQ(hnsw_graph_capacity_for(l.total_bytes, p), p.capacity);
	EXPECT_LT(hnsw_graph_capacity_for(l.total_bytes - 1, p), p.capacity);

	HnswGraphParams bad = p;
	bad.m = 1;
	EXPECT_EQ(hnsw_graph_layout(bad).total_bytes, 0u);
	bad = p;
	bad.value_bytes = 0;
	EXPECT_EQ(hnsw_graph_layout(bad).total_bytes, 0u);
	bad = p;
	bad.insert_degree0 = 33;
	EXPECT_EQ(hnsw_graph_layout(bad).total_bytes, 0u);
}

TEST(Graph, CreateRejectsBadArena)
{
	HnswGraphParams p;
	p.value_bytes = 16;
	p.capacity = 10;
	AlignedBuf buf(hnsw_graph_layout(p).total_bytes + 64);
	HnswGraph<SingleThreaded> g;
	EXPECT_EQ(HnswGraph<SingleThreaded>::create(buf.get() + 8, buf.size - 8, p, &g), Status::InvalidArgument);
	EXPECT_EQ(HnswGraph<SingleThreaded>::create(buf.get(), 100, p, &g), Status::OutOfMemory);
	std::memset(buf.get(), 0, buf.size);
	EXPECT_EQ(HnswGraph<SingleThreaded>::attach(buf.get(), buf.size, &g), Status::InvalidArgument);
}

/* ---------------------------------------------------------------------------
 * Graph build and recall
 * ------------------------------------------------------------------------- */

constexpr uint32_t kDim = 32;
constexpr uint32_t kN = 10000;
constexpr uint32_t kQueries = 200;
constexpr uint32_t kK = 10;

/* Parameters for the synthetic recall tests. */
HnswGraphParams
synthetic_params(uint32_t keep_pruned = 1)
{
	HnswGraphParams p;
	p.m = 16;
	p.ef_construction = 64;
	p.value_bytes = kDim * sizeof(float);
	p.payload_bytes = sizeof(uint32_t);
	p.capacity = kN;
	p.keep_pruned = keep_pruned;
	return p;
}

TEST_F(HnswCore, RecallL2SingleThread)
{
	Dataset ds = make_dataset(kN, kQueries, kDim, 50, 7);
	std::vector<float> &base = ds.base, &queries = ds.queries;
	MetricF32 metric{kernels::active().l2sq_f32, kDim};
	std::vector<uint32_t> truth = brute_force(base, queries, kDim, kK, metric);

	TestGraph<SingleThreaded> tg(synthetic_params());
	ASSERT_EQ(build_all(tg.g, base, kDim, metric, 1), Status::Ok);
	ASSERT_EQ(tg.g.size(), kN);
	uint32_t bad;
	EXPECT_EQ(tg.g.verify(&bad), nullptr) << "id " << bad;

	double r64 = recall_at(tg.g, queries, truth, kDim, kK, 64, metric);
	double r10 = recall_at(tg.g, queries, truth, kDim, kK, 10, metric);
	EXPECT_GE(r64, 0.95);
	EXPECT_GE(r10, 0.90);
	EXPECT_GE(r64, r10);
	std::printf("[ recall ] l2 keep_pruned: ef=10 %.4f ef=64 %.4f\n", r10, r64);
}

TEST_F(HnswCore, RecallL2WithoutKeepPruned)
{
	Dataset ds = make_dataset(kN, kQueries, kDim, 50, 8);
	std::vector<float> &base = ds.base, &queries = ds.queries;
	MetricF32 metric{kernels::active().l2sq_f32, kDim};
	std::vector<uint32_t> truth = brute_force(base, queries, kDim, kK, metric);

	HnswGraphParams p = synthetic_params(0);
	p.insert_degree0 = p.m; /* hnswlib: m on insert, 2m capacity on level 0 */
	TestGraph<SingleThreaded> tg(p);
	ASSERT_EQ(build_all(tg.g, base, kDim, metric, 2), Status::Ok);
	uint32_t bad;
	EXPECT_EQ(tg.g.verify(&bad), nullptr) << "id " << bad;
	double r64 = recall_at(tg.g, queries, truth, kDim, kK, 64, metric);
	EXPECT_GE(r64, 0.95);
	std::printf("[ recall ] l2 hnswlib-style: ef=64 %.4f\n", r64);
}

TEST_F(HnswCore, RecallCosineViaInnerProduct)
{
	Dataset ds = make_dataset(kN, kQueries, kDim, 50, 9);
	std::vector<float> &base = ds.base, &queries = ds.queries;
	for (size_t i = 0; i < base.size(); i += kDim)
		ASSERT_TRUE(normalize_f32(&base[i], kDim));
	for (size_t i = 0; i < queries.size(); i += kDim)
		ASSERT_TRUE(normalize_f32(&queries[i], kDim));
	MetricF32NegIp metric{kernels::active().ip_f32, kDim};
	std::vector<uint32_t> truth = brute_force(base, queries, kDim, kK, metric);

	TestGraph<SingleThreaded> tg(synthetic_params());
	ASSERT_EQ(build_all(tg.g, base, kDim, metric, 3), Status::Ok);
	uint32_t bad;
	EXPECT_EQ(tg.g.verify(&bad), nullptr) << "id " << bad;
	double r64 = recall_at(tg.g, queries, truth, kDim, kK, 64, metric);
	EXPECT_GE(r64, 0.95);
	std::printf("[ recall ] cosine (normalised ip): ef=64 %.4f\n", r64);
}

TEST_F(HnswCore, BrokenGraphFailsRecall)
{
	/* The recall threshold must be able to fail: a graph limited to 1 neighbour per list (m=2,
	 * ef_construction=1, no back-fill) is poorly connected and must fall below it. */
	Dataset ds = make_dataset(kN, kQueries, kDim, 50, 10);
	std::vector<float> &base = ds.base, &queries = ds.queries;
	MetricF32 metric{kernels::active().l2sq_f32, kDim};
	std::vector<uint32_t> truth = brute_force(base, queries, kDim, kK, metric);
	HnswGraphParams p = synthetic_params(0);
	p.m = 2;
	p.ef_construction = 1;
	p.insert_degree0 = 1;
	TestGraph<SingleThreaded> tg(p);
	ASSERT_EQ(build_all(tg.g, base, kDim, metric, 4), Status::Ok);
	EXPECT_LT(recall_at(tg.g, queries, truth, kDim, kK, 64, metric), 0.95);
}

TEST_F(HnswCore, ConcurrentBuildIsValidAndComparable)
{
	Dataset ds = make_dataset(kN, kQueries, kDim, 50, 11);
	std::vector<float> &base = ds.base, &queries = ds.queries;
	MetricF32 metric{kernels::active().l2sq_f32, kDim};
	std::vector<uint32_t> truth = brute_force(base, queries, kDim, kK, metric);

	HnswGraphParams p = synthetic_params();
	TestGraph<Concurrent> tg(p);
	uint32_t cursor = 0;
	constexpr int kThreads = 4; /* more threads than cores: exercises lock waits with preemption */
	std::vector<std::thread> threads;
	std::atomic<int> failures{0};
	for (int t = 0; t < kThreads; t++) {
		threads.emplace_back([&, t] {
			OwnedInsertScratch scratch(p);
			SplitMix64 rng{100u + t};
			uint32_t row_id;
			auto row = [&](uint32_t i, const void **value, const void **payload) {
				*value = &base[static_cast<size_t>(i) * kDim];
				row_id = i;
				*payload = &row_id;
			};
			if (build_rows(tg.g, kN, &cursor, row, metric, rng, scratch.s, nullptr) != Status::Ok)
				failures++;
		});
	}
	for (std::thread &th : threads)
		th.join();
	ASSERT_EQ(failures.load(), 0);
	ASSERT_EQ(tg.g.size(), kN);

	uint32_t bad;
	EXPECT_EQ(tg.g.verify(&bad), nullptr) << "id " << bad;
	/* Every row inserted exactly once. */
	std::vector<int> seen(kN, 0);
	for (uint32_t id = 0; id < kN; id++) {
		uint32_t row;
		std::memcpy(&row, tg.g.payload(id), sizeof(row));
		ASSERT_LT(row, kN);
		seen[row]++;
	}
	EXPECT_EQ(std::count(seen.begin(), seen.end(), 1), static_cast<long>(kN));
	/* Entry point is at the maximum level over all elements. */
	int top = 0;
	for (uint32_t id = 0; id < kN; id++)
		top = std::max(top, tg.g.level_of(id));
	EXPECT_EQ(tg.g.max_level(), top);
	EXPECT_EQ(tg.g.level_of(tg.g.entry_point()), top);

	double r64 = recall_at(tg.g, queries, truth, kDim, kK, 64, metric);
	EXPECT_GE(r64, 0.95);

	/* Lock-free reader over the same arena, attached as SingleThreaded: same answers. */
	HnswGraph<SingleThreaded> ro;
	ASSERT_EQ(HnswGraph<SingleThreaded>::attach(tg.arena.get(), tg.arena.size, &ro), Status::Ok);
	EXPECT_DOUBLE_EQ(recall_at(ro, queries, truth, kDim, kK, 64, metric), r64);
	std::printf("[ recall ] l2 %d threads: ef=64 %.4f\n", kThreads, r64);
}

TEST_F(HnswCore, ClampLevelSeesTheIdAndLowersTheLevel)
{
	/* add()'s clamp_level is called with the element's id, from several threads at once, and the
	 * graph keeps the lowered level: here at most one element of level > 0 per 8 ids (a budget per
	 * id range, as the PG zone's upper pages have), taken with a CAS per range. */
	Dataset ds = make_dataset(kN, kQueries, kDim, 50, 12);
	std::vector<float> &base = ds.base, &queries = ds.queries;
	MetricF32 metric{kernels::active().l2sq_f32, kDim};
	std::vector<uint32_t> truth = brute_force(base, queries, kDim, kK, metric);

	HnswGraphParams p = synthetic_params();
	p.m = 4; /* many upper elements, so the clamp has work to do */
	TestGraph<Concurrent> tg(p);
	std::vector<uint32_t> used(kN / 8 + 1, 0);
	std::atomic<uint32_t> calls{0}, lowered{0};
	auto clamp = [&](uint32_t id, int level) {
		calls++;
		std::atomic_ref<uint32_t> slot(used[id / 8]);
		uint32_t expected = 0;
		if (level == 0 || slot.compare_exchange_strong(expected, 1))
			return level;
		lowered++;
		return 0;
	};
	uint32_t cursor = 0;
	std::vector<std::thread> threads;
	for (int t = 0; t < 3; t++) {
		threads.emplace_back([&, t] {
			OwnedInsertScratch scratch(p);
			SplitMix64 rng{200u + t};
			double ml = level_multiplier(p.m);
			for (;;) {
				uint32_t i = std::atomic_ref<uint32_t>(cursor).fetch_add(1);
				if (i >= kN)
					return;
				uint32_t row = i;
				uint32_t id;
				ASSERT_EQ(tg.g.add(&base[static_cast<size_t>(i) * kDim], &row, level_from_uniform(rng.uniform(), ml),
								   metric, scratch.s, &id, nullptr, nullptr, clamp),
						  Status::Ok);
				ASSERT_LT(id, kN);
			}
		});
	}
	for (std::thread &th : threads)
		th.join();
	ASSERT_EQ(tg.g.size(), kN);
	EXPECT_EQ(calls.load(), kN);
	EXPECT_GT(lowered.load(), 0u);
	uint32_t bad;
	EXPECT_EQ(tg.g.verify(&bad), nullptr) << "id " << bad;
	for (uint32_t r = 0; r < kN / 8 + 1; r++) {
		int upper = 0;
		for (uint32_t id = r * 8; id < std::min<uint32_t>(kN, r * 8 + 8); id++)
			upper += tg.g.level_of(id) > 0;
		ASSERT_LE(upper, 1) << "ids " << r * 8 << "..";
	}
	EXPECT_GE(recall_at(tg.g, queries, truth, kDim, kK, 64, metric), 0.9);
}

TEST_F(HnswCore, ArenaIsPositionIndependent)
{
	std::vector<float> base = gaussian_clusters(2000, kDim, 20, 12);
	MetricF32 metric{kernels::active().l2sq_f32, kDim};
	HnswGraphParams p = synthetic_params();
	p.capacity = 2000;
	TestGraph<SingleThreaded> tg(p);
	ASSERT_EQ(build_all(tg.g, base, kDim, metric, 5), Status::Ok);

	/* Copy the arena elsewhere (as another process would map it) and search both. */
	AlignedBuf copy(tg.arena.size);
	std::memcpy(copy.get(), tg.arena.get(), tg.arena.size);
	HnswGraph<SingleThreaded> moved;
	ASSERT_EQ(HnswGraph<SingleThreaded>::attach(copy.get(), copy.size, &moved), Status::Ok);
	std::memset(tg.arena.get(), 0xAB, 64); /* clobber the original header: nothing may point into it */
	Searcher a(2000, 32, 32);
	std::vector<float> q(base.begin() + 5 * kDim, base.begin() + 6 * kDim);
	uint32_t n = hnsw_search(moved, moved.query_distance(metric, q.data()), 32, a.visited, a.s, a.out.data());
	ASSERT_GT(n, 0u);
	EXPECT_EQ(a.out[0].dist, 0.0f);
	uint32_t row;
	std::memcpy(&row, moved.payload(a.out[0].id), sizeof(row));
	EXPECT_EQ(row, 5u);
	uint32_t bad;
	EXPECT_EQ(moved.verify(&bad), nullptr);
}

TEST_F(HnswCore, InterruptStopsBuild)
{
	std::vector<float> base = gaussian_clusters(kN, kDim, 50, 13);
	MetricF32 metric{kernels::active().l2sq_f32, kDim};

	/* Flag already set: nothing is inserted. */
	{
		TestGraph<SingleThreaded> tg(synthetic_params());
		volatile int flag = 1;
		EXPECT_EQ(build_all(tg.g, base, kDim, metric, 6, &flag), Status::Interrupted);
		EXPECT_EQ(tg.g.size(), 0u);
	}
	/* Flag raised while rows are supplied (as a signal handler would): stops right after that row. */
	{
		TestGraph<SingleThreaded> tg(synthetic_params());
		OwnedInsertScratch scratch(tg.params);
		SplitMix64 rng{6};
		volatile int flag = 0;
		uint32_t cursor = 0, row_id;
		auto row = [&](uint32_t i, const void **value, const void **payload) {
			if (i == 1234)
				flag = 1;
			*value = &base[static_cast<size_t>(i) * kDim];
			row_id = i;
			*payload = &row_id;
		};
		EXPECT_EQ(build_rows(tg.g, kN, &cursor, row, metric, rng, scratch.s, &flag), Status::Interrupted);
		EXPECT_EQ(tg.g.size(), 1235u);
		uint32_t bad;
		EXPECT_EQ(tg.g.verify(&bad), nullptr) << "id " << bad;
	}
}

TEST_F(HnswCore, OutOfCapacityLeavesValidGraph)
{
	std::vector<float> base = gaussian_clusters(600, kDim, 5, 14);
	MetricF32 metric{kernels::active().l2sq_f32, kDim};
	HnswGraphParams p = synthetic_params();
	p.capacity = 500;
	TestGraph<SingleThreaded> tg(p);
	EXPECT_EQ(build_all(tg.g, base, kDim, metric, 7), Status::OutOfMemory);
	EXPECT_EQ(tg.g.size(), 500u);
	uint32_t bad;
	EXPECT_EQ(tg.g.verify(&bad), nullptr) << "id " << bad;
}

/* Payload of the duplicate tests: up to 10 row numbers per element, like pgvector's heap TIDs. */
struct Rows10
{
	uint32_t count;
	uint32_t rows[10];
};

TEST_F(HnswCore, DuplicatesMergeAndStayReachable)
{
	/* 300 more copies of row 0 among 1000 rows: merged 10 per element, every copy must be found. */
	std::vector<float> base = gaussian_clusters(1300, kDim, 10, 15);
	for (uint32_t i = 1000; i < 1300; i++)
		std::copy(base.begin(), base.begin() + kDim, base.begin() + static_cast<size_t>(i) * kDim);
	MetricF32 metric{kernels::active().l2sq_f32, kDim};
	HnswGraphParams p = synthetic_params();
	p.capacity = 1300;
	p.payload_bytes = sizeof(Rows10);
	TestGraph<SingleThreaded> tg(p);
	OwnedInsertScratch scratch(p);
	SplitMix64 rng{8};
	uint32_t merged_rows = 0;
	for (uint32_t i = 0; i < 1300; i++) {
		Rows10 payload{1, {i}};
		auto on_dup = [&](uint32_t existing) {
			auto *r = static_cast<Rows10 *>(tg.g.payload(existing));
			if (r->count == 10)
				return false; /* full: insert a new element */
			r->rows[r->count++] = i;
			return true;
		};
		uint32_t id;
		bool merged;
		ASSERT_EQ(tg.g.add(&base[static_cast<size_t>(i) * kDim], &payload, level_from_uniform(rng.uniform(), 0.36),
						   metric, scratch.s, &id, on_dup, &merged),
				  Status::Ok);
		merged_rows += merged;
		if (merged) {
			ASSERT_EQ(std::memcmp(tg.g.value(id), &base[static_cast<size_t>(i) * kDim], kDim * sizeof(float)), 0);
		}
	}
	EXPECT_EQ(tg.g.size() + merged_rows, 1300u);
	EXPECT_GE(merged_rows, 301u * 9 / 10 - 10); /* ~31 elements hold the 301 copies */
	uint32_t bad;
	EXPECT_EQ(tg.g.verify(&bad), nullptr) << "id " << bad;

	Searcher srch(1300, 64, 32);
	uint32_t n = hnsw_search(tg.g, tg.g.query_distance(metric, base.data()), 64, srch.visited, srch.s,
							 srch.out.data());
	uint32_t found = 0;
	for (uint32_t i = 0; i < n; i++)
		if (srch.out[i].dist == 0.0f)
			found += static_cast<Rows10 *>(tg.g.payload(srch.out[i].id))->count;
	EXPECT_EQ(found, 301u);
}

/* Elements of g not reachable from its entry point through level-0 links (breadth first). */
template <class Policy>
uint32_t
unreachable_at_level0(const HnswGraph<Policy> &g)
{
	uint32_t n = g.size();
	std::vector<bool> seen(n, false);
	std::vector<uint32_t> queue{g.entry_point()}, buf(g.max_degree());
	seen[g.entry_point()] = true;
	for (size_t head = 0; head < queue.size(); head++)
		for (uint32_t nb : g.neighbors(queue[head], 0, buf.data()))
			if (!seen[nb]) {
				seen[nb] = true;
				queue.push_back(nb);
			}
	return n - static_cast<uint32_t>(queue.size());
}

/*
 * Without merging, copies of one vector fill each other's lists at distance 0. rows random
 * rows (rows 0 and up) plus `copies` more copies of row 0, inserted after them as in a table
 * where they were added last; ef is the search width that must return every copy.
 */
void
check_duplicates_reachable(uint32_t rows, uint32_t copies, uint32_t ef, uint64_t seed)
{
	uint32_t total = rows + copies;
	std::vector<float> base = gaussian_clusters(total, kDim, 10, seed);
	for (uint32_t i = rows; i < total; i++)
		std::copy(base.begin(), base.begin() + kDim, base.begin() + static_cast<size_t>(i) * kDim);
	MetricF32 metric{kernels::active().l2sq_f32, kDim};
	HnswGraphParams p = synthetic_params();
	p.capacity = total;
	TestGraph<SingleThreaded> tg(p);
	ASSERT_EQ(build_all(tg.g, base, kDim, metric, seed), Status::Ok);
	uint32_t bad;
	EXPECT_EQ(tg.g.verify(&bad), nullptr) << "id " << bad;
	EXPECT_EQ(unreachable_at_level0(tg.g), 0u) << "every element reachable from the entry point";

	Searcher srch(total, ef, 32);
	uint32_t n = hnsw_search(tg.g, tg.g.query_distance(metric, base.data()), ef, srch.visited, srch.s,
							 srch.out.data());
	uint32_t zeros = 0;
	for (uint32_t i = 0; i < n; i++)
		zeros += srch.out[i].dist == 0.0f;
	EXPECT_EQ(zeros, copies + 1) << "the search returns every copy";
}

TEST_F(HnswCore, DuplicatesWithoutMergeStayReachable)
{
	/* 018_hnsw_duplicates' shape: 100 copies among 3000 rows, all 101 found at ef 200 (a heuristic
	 * that orders ties by id kept 33). Then 300 copies among 1000 rows: more copies than
	 * ef_construction (64), so an insert's search sees only some of them. */
	check_duplicates_reachable(3000, 100, 200, 15);
	check_duplicates_reachable(1000, 300, 400, 8);
}

TEST_F(HnswCore, VerifyCatchesCorruption)
{
	std::vector<float> base = gaussian_clusters(500, kDim, 5, 16);
	MetricF32 metric{kernels::active().l2sq_f32, kDim};
	HnswGraphParams p = synthetic_params();
	p.capacity = 500;
	TestGraph<SingleThreaded> tg(p);
	ASSERT_EQ(build_all(tg.g, base, kDim, metric, 9), Status::Ok);
	uint32_t bad;
	ASSERT_EQ(tg.g.verify(&bad), nullptr);
	std::span<const uint32_t> nb = tg.g.neighbors(42, 0, nullptr);
	ASSERT_GT(nb.size(), 0u);
	uint32_t *ids = const_cast<uint32_t *>(nb.data());
	uint32_t saved = ids[0];
	ids[0] = 42;
	EXPECT_STREQ(tg.g.verify(&bad), "self loop");
	EXPECT_EQ(bad, 42u);
	ids[0] = 500;
	EXPECT_STREQ(tg.g.verify(&bad), "neighbour id out of range");
	ids[0] = saved;
	EXPECT_EQ(tg.g.verify(&bad), nullptr);
}

} // namespace
} // namespace vx::core
