/*
 * beam_search.hpp -- a resumable beam search on level 0 of a GraphView: the
 * iterative index scans of hnsw and diskann, where the executor may want
 * more rows than a batch held (a filter rejected them), and filtered
 * traversal (candidates that may not be returned are still expanded).
 *
 * The algorithm is hnsw's iterative scan (pgvector's, moved here from
 * src/hnsw/scan.cpp and generalised):
 *   - the frontier (candidates still to expand, a min-heap) and the pool
 *     (candidates evaluated but not in a batch: evicted from a batch's
 *     results or never good enough, a min-heap) survive between batches, and
 *     so does the caller's visited set;
 *   - the first batch starts from the entries; a later one fills its
 *     ef-wide result heap from the pool's nearest, puts them on the frontier
 *     too, and runs the usual loop: expand the nearest frontier candidate
 *     until it is farther than the worst result (a full heap);
 *   - an evaluated candidate that accept() refuses goes to the frontier only,
 *     never to the results or the pool: it is traversed, never returned;
 *   - so each element is returned at most once over all batches, and no
 *     distance is computed twice: the work is that of one ever-growing
 *     search. With accept() always true the first batch is exactly
 *     search_layer()'s result from the same entries.
 * The frontier and the pool grow through a caller policy (palloc in the PG
 * zone, against a work_mem budget); when it refuses, the batch ends early
 * and returns what it has with false. The search is over when both heaps
 * are empty (exhausted()).
 *
 * May run over a view that longjmps (see hnsw_algo.hpp): every object in
 * these frames is trivially destructible (static_asserts below), all memory
 * is the caller's, and a policy that throws or longjmps leaves the heaps
 * valid (it replaces a heap only once its copy is complete).
 */
#ifndef VX_CORE_BEAM_SEARCH_HPP
#define VX_CORE_BEAM_SEARCH_HPP

#include <cassert>
#include <cstdint>
#include <span>
#include <type_traits>

#include "vx/core/heap.hpp"
#include "vx/core/hnsw_algo.hpp"

namespace vx::core {

/* Capacity a GrowHeap asks for first. */
inline constexpr uint32_t kGrowHeapMinCapacity = 256;

/*
 * A min-heap that grows through a caller policy: grow(GrowHeap &h, uint32_t
 * want_cap) returns false to refuse (budget), else replaces h.buf/h.cap with
 * storage of at least want_cap (the policy copies the elements and rebuilds
 * h.heap, which move_to() does; the old storage is then the policy's to free).
 */
struct GrowHeap
{
	MinHeap heap;
	Candidate *buf = nullptr;
	uint32_t cap = 0;

	/* Copy the elements to new_buf (room for new_cap >= heap.size()) and use it from now on. */
	void
	move_to(Candidate *new_buf, uint32_t new_cap) noexcept
	{
		assert(new_cap >= heap.size());
		MinHeap grown(new_buf, new_cap);
		for (uint32_t i = 0; i < heap.size(); i++)
			grown.push(heap.data()[i]); /* in heap order: no element moves */
		heap = grown;
		buf = new_buf;
		cap = new_cap;
	}
};

/*
 * State of one resumable search. neighbor_buf and pending are caller memory
 * of the view's max_degree() ids each (a SearchScratch's, for instance).
 */
struct ResumableBeam
{
	GrowHeap frontier; /* to expand */
	GrowHeap pool;	   /* evaluated, accepted, not returned yet */
	bool started = false;
	uint32_t *neighbor_buf = nullptr; /* view copy-out buffer */
	uint32_t *pending = nullptr;	  /* unvisited neighbours of one expansion */

	/* Forget the search (keeps the buffers): the next batch starts from its entries. */
	void
	clear() noexcept
	{
		frontier.heap.clear();
		pool.heap.clear();
		started = false;
	}

	/* Started, and nothing left to expand or return. */
	bool
	exhausted() const noexcept
	{
		return started && frontier.heap.empty() && pool.heap.empty();
	}
};

static_assert(std::is_trivially_destructible_v<GrowHeap> && std::is_trivially_destructible_v<ResumableBeam>,
			  "resumable search state must survive a longjmp");

/* Push c onto h, growing it through the policy when full; false when the policy refused. */
template <class Grow>
bool
grow_push(GrowHeap &h, Candidate c, Grow &grow)
{
	if (h.heap.full()) {
		uint32_t want = h.cap < kGrowHeapMinCapacity / 2 ? kGrowHeapMinCapacity : h.cap * 2;
		if (h.cap > UINT32_MAX / 2 || !grow(h, want) || h.heap.full())
			return false;
	}
	h.heap.push(c);
	return true;
}

/*
 * One batch of the resumable search (see the file comment): the first batch
 * starts from entries[0..nentries) (distances filled in), later ones from
 * the pool's nearest. accept(id) decides whether an evaluated candidate may
 * enter the results. results: caller memory of ef Candidates (a MaxHeap is
 * laid on it; must not alias out); out: room for ef Candidates. Writes the
 * batch nearest first to out, its size to *nout, and adds to *stats (may be
 * null). Returns false when grow refused (the batch still holds what was
 * found; the search should stop). May run over a view that longjmps.
 */
template <GraphView View, QueryDistance Dist, VisitedTracker Visited, class Accept, class Grow>
bool
resumable_batch(const View &view, const Dist &dist, Visited &visited, ResumableBeam &st, const Candidate *entries,
				uint32_t nentries, uint32_t ef, const Accept &accept, Grow &grow, Candidate *results, Candidate *out,
				uint32_t *nout, SearchStats *stats)
{
	assert(ef >= 1 && st.neighbor_buf != nullptr && st.pending != nullptr);
	MaxHeap best(results, ef);
	uint64_t ndist = 0, nexp = 0;
	bool ok = true;

	/* An evaluated candidate: into the results (evicting the worst to the pool), the pool, or only the frontier. */
	auto admit = [&](Candidate nc) -> bool {
		if (!accept(nc.id))
			return grow_push(st.frontier, nc, grow); /* traversed, never returned */
		if (!best.full()) {
			best.push(nc);
			return grow_push(st.frontier, nc, grow);
		}
		if (nearer(nc, best.top())) {
			Candidate evicted = best.top();
			best.replace_top(nc);
			return grow_push(st.pool, evicted, grow) && grow_push(st.frontier, nc, grow);
		}
		return grow_push(st.pool, nc, grow);
	};

	if (!st.started) {
		st.started = true;
		for (uint32_t i = 0; i < nentries && ok; i++)
			if (!visited.test_and_set(entries[i].id))
				ok = admit(entries[i]);
	} else {
		while (ok && !best.full() && !st.pool.heap.empty()) {
			Candidate c = st.pool.heap.top();
			st.pool.heap.pop();
			best.push(c);
			ok = grow_push(st.frontier, c, grow);
		}
	}

	while (ok && !st.frontier.heap.empty()) {
		Candidate c = st.frontier.heap.top();
		if (best.full() && c.dist > best.top().dist)
			break; /* nothing left can improve this batch */
		st.frontier.heap.pop();

		std::span<const uint32_t> nb = view.neighbors(c.id, 0, st.neighbor_buf);
		nexp++;
		uint32_t npending = take_unvisited(nb, visited, dist, st.pending);
		for (uint32_t i = 0; i < npending && ok; i++) {
			ok = admit(Candidate{dist(st.pending[i]), st.pending[i]});
			ndist++;
		}
	}

	if (stats != nullptr) {
		stats->distances += ndist;
		stats->expansions += nexp;
	}
	*nout = best.drain_sorted(out);
	return ok;
}

} // namespace vx::core

#endif /* VX_CORE_BEAM_SEARCH_HPP */
