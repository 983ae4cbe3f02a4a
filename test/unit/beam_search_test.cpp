/*
 * beam_search_test.cpp -- GoogleTest for the resumable beam search
 * (vx/core/beam_search.hpp) on a Vamana graph over seeded Gaussian
 * clusters: the first batch against search_layer, batches to exhaustion
 * (every reachable element exactly once, no distance computed twice),
 * filtered traversal, and a growth policy that refuses.
 */
#include "vx/core/beam_search.hpp"
#include "vx/core/hnsw_algo.hpp"
#include "vx/core/vamana.hpp"
#include "vx/kernels/kernels.hpp"

#include "test_data.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace vx::core {
namespace {

constexpr uint32_t kDim = 16, kN = 3000, kR = 16;

/* A built Vamana graph over clustered data, shared by the tests. */
struct Fixture
{
	std::vector<float> data, queries;
	std::vector<uint32_t> ids, counts;
	VamanaGraph g;
	float (*l2sq)(const float *, const float *, size_t) noexcept;

	Fixture()
	{
		test::Dataset ds = test::make_dataset(kN, 20, kDim, 20, 91);
		data = std::move(ds.base);
		queries = std::move(ds.queries);
		ids.assign(static_cast<size_t>(kN) * kR, kInvalidId);
		counts.assign(kN, 0);
		g.ids = ids.data();
		g.counts = counts.data();
		g.n = kN;
		g.R = kR;
		g.medoid = 0;
		l2sq = test::algo_kernels().l2sq_f32;
		auto pair = [this](uint32_t a, uint32_t b) noexcept { return l2sq(row(a), row(b), kDim); };
		std::vector<uint64_t> mem(VamanaScratch::bytes_needed(kR, 32, kN) / 8 + 1);
		VamanaScratch s;
		EXPECT_TRUE(VamanaScratch::carve(mem.data(), mem.size() * 8, kR, 32, kN, &s));
		EXPECT_EQ(vamana_build(g, VamanaBuildParams{kR, 32, 1.2f, 3, false}, pair, s, nullptr, [](uint64_t) {}),
				  Status::Ok);
	}
	const float *row(uint32_t i) const { return &data[static_cast<size_t>(i) * kDim]; }
};

const Fixture &
fixture()
{
	static const Fixture f;
	return f;
}

/* Distance from a query to rows; counts the evaluations of each id. */
struct CountingDistance
{
	const Fixture *f;
	const float *q;
	std::vector<uint32_t> *calls;

	float
	operator()(uint32_t id) const
	{
		(*calls)[id]++;
		return f->l2sq(q, f->row(id), kDim);
	}
	void prefetch(uint32_t) const {}
};

/* A growth policy over owned vectors, refusing capacities above budget. */
struct VectorGrow
{
	std::vector<std::vector<Candidate>> store;
	uint32_t budget = UINT32_MAX;
	uint32_t refusals = 0;

	bool
	operator()(GrowHeap &h, uint32_t want)
	{
		if (want > budget) {
			refusals++;
			return false;
		}
		store.emplace_back(want);
		h.move_to(store.back().data(), want);
		return true;
	}
};

/* One resumable search over the fixture's graph with its own state and buffers. */
struct Scan
{
	std::vector<uint16_t> tags;
	VisitedSet visited;
	std::vector<uint32_t> nbuf, pending, calls;
	std::vector<Candidate> results, out;
	ResumableBeam st;
	VectorGrow grow;
	SearchStats stats;
	CountingDistance dist;
	Candidate entry;

	Scan(const Fixture &f, const float *q, uint32_t ef)
		: tags(kN), nbuf(kR), pending(kR), calls(kN, 0), results(ef), out(ef), dist{&f, q, &calls}
	{
		visited = VisitedSet(tags.data(), kN);
		st.neighbor_buf = nbuf.data();
		st.pending = pending.data();
		entry = Candidate{dist(f.g.medoid), f.g.medoid};
	}

	/* The next batch; returns its ids and distances, nearest first. */
	template <class Accept>
	std::vector<Candidate>
	batch(const Fixture &f, const Accept &accept, bool *ok = nullptr)
	{
		uint32_t n = 0;
		bool r = resumable_batch(f.g, dist, visited, st, &entry, 1, static_cast<uint32_t>(out.size()), accept, grow,
								 results.data(), out.data(), &n, &stats);
		if (ok)
			*ok = r;
		return std::vector<Candidate>(out.begin(), out.begin() + n);
	}
};

/* Ids reachable from the medoid, ascending. */
std::vector<uint32_t>
reachable(const VamanaGraph &g)
{
	return test::reachable_from(g, g.medoid, g.n);
}

/* Run batches until the search is exhausted; every id returned, in order. */
template <class Accept>
std::vector<Candidate>
drain(const Fixture &f, Scan &scan, const Accept &accept, uint32_t *batches)
{
	std::vector<Candidate> all;
	*batches = 0;
	do {
		bool ok;
		std::vector<Candidate> b = scan.batch(f, accept, &ok);
		EXPECT_TRUE(ok);
		for (size_t i = 1; i < b.size(); i++)
			EXPECT_FALSE(nearer(b[i], b[i - 1])) << "batch not nearest first";
		all.insert(all.end(), b.begin(), b.end());
		++*batches;
	} while (!scan.st.exhausted() && *batches < kN);
	return all;
}

auto accept_all = [](uint32_t) { return true; };
auto accept_tenth = [](uint32_t id) { return id % 10 == 0; };

TEST(ResumableBeam, FirstBatchEqualsSearchLayer)
{
	const Fixture &f = fixture();
	for (uint32_t ef : {1u, 10u, 40u})
		for (uint32_t qi = 0; qi < 20; qi++) {
			SCOPED_TRACE(::testing::Message() << "ef=" << ef << " query=" << qi);
			const float *q = &f.queries[static_cast<size_t>(qi) * kDim];
			Scan scan(f, q, ef);
			std::vector<Candidate> got = scan.batch(f, accept_all);

			std::vector<uint64_t> mem(SearchScratch::bytes_needed(ef, kR) / 8 + 1);
			SearchScratch s;
			ASSERT_TRUE(SearchScratch::carve(mem.data(), mem.size() * 8, ef, kR, &s));
			std::vector<uint16_t> tags(kN);
			VisitedSet visited(tags.data(), kN);
			std::vector<Candidate> want(ef);
			uint32_t n = search_layer(f.g, scan.dist, &scan.entry, 1, 0, ef, visited, s, want.data());
			ASSERT_EQ(got.size(), n);
			for (uint32_t i = 0; i < n; i++) {
				EXPECT_EQ(got[i].id, want[i].id) << i;
				EXPECT_EQ(got[i].dist, want[i].dist) << i;
			}
		}
}

TEST(ResumableBeam, BatchesReturnEveryReachableElementOnce)
{
	const Fixture &f = fixture();
	std::vector<uint32_t> reach = reachable(f.g);
	for (uint32_t qi : {0u, 7u}) {
		Scan scan(f, &f.queries[static_cast<size_t>(qi) * kDim], 20);
		uint32_t batches;
		std::vector<Candidate> all = drain(f, scan, accept_all, &batches);
		std::vector<uint32_t> ids;
		for (const Candidate &c : all)
			ids.push_back(c.id);
		std::sort(ids.begin(), ids.end());
		EXPECT_EQ(std::adjacent_find(ids.begin(), ids.end()), ids.end()) << "an element returned twice";
		EXPECT_EQ(ids, reach);
		EXPECT_GE(batches, kN / 20);
		/* one distance per element: the entry's by the caller, the others by the batches */
		EXPECT_EQ(*std::max_element(scan.calls.begin(), scan.calls.end()), 1u);
		EXPECT_EQ(scan.stats.distances + 1, reach.size());
		/* the first batches are the nearest: the first 20 returned are the exact top 20 but a few */
		std::vector<Candidate> exact;
		for (uint32_t id : reach)
			exact.push_back(Candidate{f.l2sq(scan.dist.q, f.row(id), kDim), id});
		std::sort(exact.begin(), exact.end(), nearer);
		uint32_t hits = 0;
		for (uint32_t i = 0; i < 20; i++)
			for (uint32_t j = 0; j < 20; j++)
				hits += all[i].id == exact[j].id;
		EXPECT_GE(hits, 18u);
		/* nothing more after exhaustion */
		EXPECT_TRUE(scan.batch(f, accept_all).empty());
	}
}

TEST(ResumableBeam, FilteredBatchesReturnOnlyAcceptedIds)
{
	const Fixture &f = fixture();
	std::vector<uint32_t> want;
	for (uint32_t id : reachable(f.g))
		if (accept_tenth(id))
			want.push_back(id);
	Scan scan(f, &f.queries[3 * kDim], 10);
	std::vector<Candidate> first = scan.batch(f, accept_tenth);
	ASSERT_EQ(first.size(), 10u);
	for (const Candidate &c : first)
		EXPECT_EQ(c.id % 10, 0u);
	uint32_t batches;
	std::vector<Candidate> rest = drain(f, scan, accept_tenth, &batches);
	std::vector<uint32_t> ids;
	for (const Candidate &c : first)
		ids.push_back(c.id);
	for (const Candidate &c : rest) {
		EXPECT_EQ(c.id % 10, 0u);
		ids.push_back(c.id);
	}
	std::sort(ids.begin(), ids.end());
	EXPECT_EQ(ids, want);
	EXPECT_EQ(*std::max_element(scan.calls.begin(), scan.calls.end()), 1u);
	/* the first batch holds the accepted elements nearest to the query, but for a few */
	std::vector<Candidate> exact;
	for (uint32_t id : want)
		exact.push_back(Candidate{f.l2sq(scan.dist.q, f.row(id), kDim), id});
	std::sort(exact.begin(), exact.end(), nearer);
	uint32_t hits = 0;
	for (const Candidate &c : first)
		for (uint32_t j = 0; j < 10; j++)
			hits += c.id == exact[j].id;
	EXPECT_GE(hits, 9u);
}

TEST(ResumableBeam, RefusedGrowthStopsTheSearch)
{
	const Fixture &f = fixture();
	/* a budget of 512 candidates per heap: the first batch fits, later ones run into it */
	Scan scan(f, &f.queries[5 * kDim], 40);
	scan.grow.budget = 512;
	bool ok = true;
	uint32_t batches = 0, returned = 0;
	std::vector<uint32_t> ids;
	while (ok && !scan.st.exhausted()) {
		std::vector<Candidate> b = scan.batch(f, accept_all, &ok);
		for (size_t i = 1; i < b.size(); i++)
			EXPECT_FALSE(nearer(b[i], b[i - 1]));
		for (const Candidate &c : b)
			ids.push_back(c.id);
		returned += static_cast<uint32_t>(b.size());
		batches++;
	}
	EXPECT_FALSE(ok);
	EXPECT_GE(scan.grow.refusals, 1u);
	EXPECT_GT(batches, 1u);
	EXPECT_LT(returned, kN);
	std::sort(ids.begin(), ids.end());
	EXPECT_EQ(std::adjacent_find(ids.begin(), ids.end()), ids.end());

	/* a policy that refuses everything: the entry alone is returned, with false */
	Scan none(f, &f.queries[5 * kDim], 10);
	none.grow.budget = 0;
	std::vector<Candidate> b = none.batch(f, accept_all, &ok);
	EXPECT_FALSE(ok);
	ASSERT_EQ(b.size(), 1u);
	EXPECT_EQ(b[0].id, f.g.medoid);

	/* clear() starts over from the entries */
	none.grow.budget = UINT32_MAX;
	none.st.clear();
	none.visited.reset();
	b = none.batch(f, accept_all, &ok);
	EXPECT_TRUE(ok);
	EXPECT_EQ(b.size(), 10u);
}

TEST(ResumableBeam, GrowHeapMoveKeepsOrder)
{
	std::vector<Candidate> a(4), b(16);
	GrowHeap h;
	h.move_to(a.data(), 4);
	for (uint32_t i : {5u, 1u, 4u, 2u})
		h.heap.push(Candidate{static_cast<float>(i), i});
	EXPECT_TRUE(h.heap.full());
	h.move_to(b.data(), 16);
	EXPECT_EQ(h.cap, 16u);
	EXPECT_EQ(h.buf, b.data());
	h.heap.push(Candidate{3.0f, 3});
	std::vector<uint32_t> order;
	while (!h.heap.empty()) {
		order.push_back(h.heap.top().id);
		h.heap.pop();
	}
	EXPECT_EQ(order, (std::vector<uint32_t>{1, 2, 3, 4, 5}));
}

} // namespace
} // namespace vx::core
