/*
 * hnsw_algo.hpp -- HNSW search and neighbour selection over a GraphView.
 *
 * CONSTRAINT (read this first). Every function in this header may run over a
 * page-backed view whose methods raise a PostgreSQL ERROR, which longjmps
 * through these frames without running destructors. So no object alive in
 * these frames may have a non-trivial destructor: no std::vector/std::string
 * with the default allocator, no unique_ptr, no RAII lock guards. All working
 * memory comes from the caller as plain pointers (SearchScratch, VisitedSet,
 * output arrays); the view, the distance object and the pair-distance
 * callable must be trivially destructible as well. The functions are not
 * noexcept, so a view that reports errors as C++ exceptions (pg_try) also
 * unwinds cleanly.
 *
 * The algorithm is the one of the HNSW paper (Malkov & Yashunin) as hnswlib
 * and pgvector implement it:
 *  - Elements have dense uint32 ids. A GraphView gives an element's level, its
 *    neighbour ids on a level, the entry point and the top level.
 *  - search_layer() is the ef-bounded beam search of one level: a min-heap of
 *    candidates still to expand and a max-heap of the ef best results; it stops
 *    when the nearest unexpanded candidate is farther than the worst result.
 *    The candidate heap is bounded by the scratch: when it fills up, entries
 *    farther than the current worst result (which can never be expanded) are
 *    dropped first.
 *    search_layer_observed() is the same search reporting each expansion
 *    (Vamana's build prunes over them, vamana.hpp); take_unvisited() is the
 *    first pass of an expansion, shared with beam_search.hpp.
 *  - greedy_search_layer() is the ef=1 descent used on the upper levels.
 *  - find_insert_neighbors() is the read-only half of an insert: descend to
 *    the new element's level, then on each level down to 0 a beam search of
 *    width ef_construction whose results seed the next level (the paper's
 *    ep <- W, as pgvector) and a heuristic selection of the element's
 *    neighbours. reselect_neighbors() re-runs the heuristic on a full list
 *    plus a new back-link. Storage, locking and writing the links belong to
 *    the graph (hnsw_graph.hpp in memory, the PG zone on pages).
 *  - select_neighbors_heuristic() is the paper's heuristic (algorithm 4), as
 *    hnswlib's getNeighborsByHeuristic2: walking candidates nearest first, keep
 *    one only if it is nearer to the base element than to every neighbour kept
 *    so far. With keep_pruned (pgvector's behaviour, "keepPrunedConnections" in
 *    the paper) the list is then filled up to the maximum with the nearest
 *    rejected candidates; without it (hnswlib) the list may stay short.
 *  - Ties. Candidates at equal distance from a base element are ranked by a
 *    hash of (candidate id, base id) (tie_rank), not by id: with many
 *    identical vectors every list is full of candidates at distance 0, and a
 *    fixed order (by id, or by arrival) would make every full list drop the
 *    newest copy, so copies after the first 2m + 1 would get no incoming link.
 *    A per-base pseudo-random order makes the copies' lists random subsets of
 *    each other: a well-connected random graph. Distinct distances keep their
 *    order, so graphs without ties are unchanged.
 *  - No list ever names its own element: find_insert_neighbors() never
 *    selects `self`, reselect_neighbors() drops the base element's id.
 *
 * Distances: a QueryDistance object is bound to one query and returns the
 * distance to an element id (and can prefetch the element's vector). Smaller
 * is nearer. For the vector types the PG zone builds it from one kernel of
 * vx::kernels::active(), fetched once per scan or build. Cosine is handled by
 * normalising vectors (stored ones at build time, the query at scan start)
 * and using the negative inner product, as pgvector does; l2 uses the squared
 * distance (same order).
 */
#ifndef VX_CORE_HNSW_ALGO_HPP
#define VX_CORE_HNSW_ALGO_HPP

#include <cassert>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <type_traits>

#include "vx/core/heap.hpp"
#include "vx/core/status.hpp"
#include "vx/core/visited.hpp"
#include "vx/kernels/kernels.hpp"

namespace vx::core {

inline constexpr uint32_t kInvalidId = UINT32_MAX;

/* Highest level an element may get (levels are 0..kMaxLevel). */
inline constexpr int kMaxLevel = 16;

/*
 * What search needs from a graph. neighbors() either returns a span into the
 * view's own memory (valid until the next call on the view) or copies the ids
 * into buf, which has room for max_degree() ids, and returns a span over buf.
 * A level above level_of(id) yields an empty span.
 */
template <class V>
concept GraphView = requires(const V &v, uint32_t id, int level, uint32_t *buf) {
	{ v.entry_point() } -> std::convertible_to<uint32_t>; /* kInvalidId if empty */
	{ v.max_level() } -> std::convertible_to<int>;
	{ v.level_of(id) } -> std::convertible_to<int>;
	{ v.max_degree() } -> std::convertible_to<uint32_t>;
	{ v.neighbors(id, level, buf) } -> std::same_as<std::span<const uint32_t>>;
};

/* Distance from one fixed query to an element, plus a prefetch hint for the element's vector. */
template <class D>
concept QueryDistance = requires(const D &d, uint32_t id) {
	{ d(id) } -> std::convertible_to<float>;
	d.prefetch(id);
};

/*
 * A view may also offer prefetch_neighbors(id, level): start fetching a list
 * that search reads soon. In-memory graphs do (a miss costs ~200 ns on the
 * 2-core test machine, an estimate ~15 ns); page-backed views have nothing
 * cheap to offer.
 */
template <class V>
inline void
prefetch_list(const V &view, uint32_t id, int level) noexcept
{
	if constexpr (requires { view.prefetch_neighbors(id, level); })
		view.prefetch_neighbors(id, level);
}

/* A set of ids marked during one search (VisitedSet, or a hash set for sparse ids). */
template <class S>
concept VisitedTracker = requires(S &s, uint32_t id) {
	{ s.test_and_set(id) } -> std::convertible_to<bool>;
	s.reset();
};

/* ---------------------------------------------------------------------------
 * Distances between two stored values, over the kernel table.
 * ------------------------------------------------------------------------- */

/* Distance of two values of n elements of type Elem through one kernel; Negate for inner product. */
template <class Elem, bool Negate>
struct KernelMetric
{
	float (*fn)(const Elem *a, const Elem *b, size_t n) noexcept;
	size_t n;

	float
	operator()(const void *a, const void *b) const noexcept
	{
		float d = fn(static_cast<const Elem *>(a), static_cast<const Elem *>(b), n);
		return Negate ? -d : d;
	}
};

/* vector: l2sq_f32 or l1_f32 */
using MetricF32 = KernelMetric<float, false>;
/* vector: -ip_f32 (inner product; cosine on normalised vectors) */
using MetricF32NegIp = KernelMetric<float, true>;
/* halfvec: l2sq_f16 or l1_f16 */
using MetricF16 = KernelMetric<uint16_t, false>;
/* halfvec: -ip_f16 (inner product; cosine on normalised vectors) */
using MetricF16NegIp = KernelMetric<uint16_t, true>;

/* bit: Hamming distance over nbytes bytes. */
struct MetricHamming
{
	uint64_t (*fn)(const uint8_t *a, const uint8_t *b, size_t nbytes) noexcept;
	size_t nbytes;

	float
	operator()(const void *a, const void *b) const noexcept
	{
		return static_cast<float>(fn(static_cast<const uint8_t *>(a), static_cast<const uint8_t *>(b), nbytes));
	}
};

/* bit: Jaccard distance 1 - |a&b| / |a|b| over nbytes bytes (1 when both are empty). */
struct MetricJaccard
{
	kernels::JaccardCounts (*fn)(const uint8_t *a, const uint8_t *b, size_t nbytes) noexcept;
	size_t nbytes;

	float
	operator()(const void *a, const void *b) const noexcept
	{
		kernels::JaccardCounts c = fn(static_cast<const uint8_t *>(a), static_cast<const uint8_t *>(b), nbytes);
		uint64_t either = c.a + c.b - c.both;
		if (either == 0)
			return 1.0f;
		return static_cast<float>(1.0 - static_cast<double>(c.both) / static_cast<double>(either));
	}
};

/* Scale v to unit L2 norm (norm summed in double, as pgvector); false, v unchanged, if the norm is 0. */
bool normalize_f32(float *v, size_t n) noexcept;

/* Same for a halfvec stored as IEEE binary16 bits. */
bool normalize_f16(uint16_t *v, size_t n) noexcept;

/* ---------------------------------------------------------------------------
 * Levels
 * ------------------------------------------------------------------------- */

/* pgvector's level multiplier mL = 1 / ln(m). */
inline double
level_multiplier(uint32_t m) noexcept
{
	return 1.0 / std::log(static_cast<double>(m));
}

/* Level for a uniform draw u in (0, 1]: floor(-ln(u) * ml), capped at kMaxLevel. */
int level_from_uniform(double u, double ml) noexcept;

/* Small seeded generator (SplitMix64) for levels in tests, benchmarks and threads; no global state. */
struct SplitMix64
{
	uint64_t state;

	/* Next 64 random bits. */
	uint64_t
	next() noexcept
	{
		uint64_t z = (state += 0x9e3779b97f4a7c15ull);
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		return z ^ (z >> 31);
	}

	/* Uniform double in (0, 1]. */
	double
	uniform() noexcept
	{
		return static_cast<double>((next() >> 11) + 1) * 0x1.0p-53;
	}
};

/* ---------------------------------------------------------------------------
 * Scratch memory of one search
 * ------------------------------------------------------------------------- */

/* Optional counters a search adds to (for benchmarks and EXPLAIN-like stats). */
struct SearchStats
{
	uint64_t distances = 0; /* distance computations */
	uint64_t expansions = 0; /* neighbour lists read */
};

/*
 * Working memory for search_layer/greedy_search_layer, carved from one caller
 * buffer. Plain pointers: allocate once per scan (or per build worker) and
 * reuse for every query.
 */
struct SearchScratch
{
	Candidate *candidates = nullptr; /* frontier min-heap */
	uint32_t candidate_capacity = 0;
	Candidate *results = nullptr; /* result max-heap */
	uint32_t max_ef = 0;
	uint32_t *neighbor_buf = nullptr; /* view copy-out buffer, max_degree ids */
	uint32_t *pending = nullptr;	  /* unvisited neighbours of one expansion */
	uint32_t max_degree = 0;
	SearchStats *stats = nullptr; /* may be null */
	/*
	 * Ties (set by the caller, 0 by default): up to max_ties candidates at
	 * exactly the distance of the worst result when the results are full are
	 * kept in ties[] instead of being dropped, and those still at the final
	 * worst distance are returned after the ef results (the output stays
	 * sorted). Identical vectors are separate elements here, so a narrow
	 * beam would otherwise return one of many copies (pgvector returns up
	 * to 10 heap TIDs of one element).
	 */
	Candidate *ties = nullptr;
	uint32_t max_ties = 0;

	/* Bytes needed for searches with ef <= max_ef over views with max_degree() <= max_degree. */
	static size_t bytes_needed(uint32_t max_ef, uint32_t max_degree) noexcept;

	/* Lay the scratch out in mem (8-byte aligned, >= bytes_needed()); false if too small. */
	static bool carve(void *mem, size_t bytes, uint32_t max_ef, uint32_t max_degree, SearchScratch *out) noexcept;
};

/* ---------------------------------------------------------------------------
 * Search
 * ------------------------------------------------------------------------- */

/*
 * ef=1 greedy walk on one level from start: move to the nearest neighbour while
 * it improves. Returns the local minimum reached.
 */
template <GraphView View, QueryDistance Dist>
Candidate
greedy_search_layer(const View &view, const Dist &dist, Candidate cur, int level, SearchScratch &s)
{
	assert(view.max_degree() <= s.max_degree);
	for (;;) {
		std::span<const uint32_t> nb = view.neighbors(cur.id, level, s.neighbor_buf);
		for (uint32_t id : nb)
			dist.prefetch(id);
		bool moved = false;
		for (uint32_t id : nb) {
			float d = dist(id);
			if (d < cur.dist) {
				cur = Candidate{d, id};
				moved = true;
			}
		}
		if (s.stats) {
			s.stats->distances += nb.size();
			s.stats->expansions++;
		}
		if (!moved)
			return cur;
	}
}

/*
 * Mark the ids of a neighbour list nb that visited had not seen, start
 * fetching their vectors and copy them to pending (room for nb.size());
 * returns their count. The first pass of an expansion: the distances
 * follow while the vectors arrive.
 */
template <QueryDistance Dist, VisitedTracker Visited>
uint32_t
take_unvisited(std::span<const uint32_t> nb, Visited &visited, const Dist &dist, uint32_t *pending)
{
	uint32_t npending = 0;
	for (uint32_t id : nb) {
		if (visited.test_and_set(id))
			continue;
		dist.prefetch(id);
		pending[npending++] = id;
	}
	return npending;
}

/* The accept of a search whose every candidate may be a result. */
struct AcceptAll
{
	bool operator()(uint32_t) const noexcept { return true; }
};

/*
 * Beam search of one level from the entry points eps[0..n_eps) (distances
 * filled in). Writes up to ef results, nearest first, to out (room for ef,
 * plus s.max_ties when ties are kept; may alias eps) and returns their
 * count. Ids already marked in visited are skipped, so the caller resets it
 * (or pre-marks ids to exclude). ef must be in 1..s.max_ef. on_expand(c)
 * sees every candidate whose neighbours are read, in that order (Vamana's
 * build prunes over them). Only candidates accept(id) admits become results
 * (search_layer_accepting); the others are still expanded. on_expand and
 * accept must be trivially destructible, like everything in these frames.
 */
template <GraphView View, QueryDistance Dist, VisitedTracker Visited, class OnExpand, class Accept = AcceptAll>
uint32_t
search_layer_observed(const View &view, const Dist &dist, const Candidate *eps, uint32_t n_eps, int level, uint32_t ef,
					  Visited &visited, SearchScratch &s, Candidate *out, OnExpand &&on_expand,
					  const Accept &accept = {})
{
	constexpr bool kAcceptAll = std::is_same_v<Accept, AcceptAll>;
	assert(view.max_degree() <= s.max_degree && ef >= 1 && ef <= s.max_ef);
	MinHeap frontier(s.candidates, s.candidate_capacity);
	MaxHeap results(s.results, ef < s.max_ef ? ef : s.max_ef);
	uint64_t ndist = 0, nexp = 0;
	uint32_t nties = 0;

	for (uint32_t i = 0; i < n_eps; i++) {
		if (visited.test_and_set(eps[i].id))
			continue;
		bool kept = accept(eps[i].id) && results.push_bounded(eps[i]);
		/* an entry is expanded when it is a result; with an accept, always (the others still connect) */
		if ((kept || !kAcceptAll) && !frontier.full())
			frontier.push(eps[i]);
	}

	while (!frontier.empty()) {
		Candidate c = frontier.top();
		if (results.full() && c.dist > results.top().dist)
			break; /* nothing left can improve the results */
		frontier.pop();
		/* the next expansion is most often the frontier's top now: its list arrives during c's */
		if (!frontier.empty())
			prefetch_list(view, frontier.top().id, level);

		std::span<const uint32_t> nb = view.neighbors(c.id, level, s.neighbor_buf);
		nexp++;
		on_expand(c);

		/* First pass: filter visited ids and start fetching their vectors. */
		uint32_t npending = take_unvisited(nb, visited, dist, s.pending);
		ndist += npending;

		/* Second pass: distances, while later vectors are still arriving. */
		for (uint32_t i = 0; i < npending; i++) {
			uint32_t id = s.pending[i];
			float d = dist(id);
			if (results.full() && !(d < results.top().dist)) {
				if (d == results.top().dist && nties < s.max_ties && accept(id)) {
					/* a tie with the worst result: kept aside, and expanded (its copies may follow) */
					Candidate tc{d, id};
					s.ties[nties++] = tc;
					if (!frontier.full())
						frontier.push(tc);
				}
				continue;
			}
			Candidate nc{d, id};
			if (accept(id))
				results.push_bounded(nc);
			if (frontier.full() && results.full())
				frontier.remove_farther_than(results.top().dist); /* they can never be expanded */
			if (!frontier.full())
				frontier.push(nc);
		}
	}

	if (s.stats) {
		s.stats->distances += ndist;
		s.stats->expansions += nexp;
	}
	if (nties == 0)
		return results.drain_sorted(out);

	/* ties still at the worst distance follow the results (out has room for ef + max_ties) */
	uint32_t nout = results.drain_sorted(out);
	float worst = nout > 0 ? out[nout - 1].dist : 0.0f;
	for (uint32_t i = 0; i < nties; i++)
		if (s.ties[i].dist == worst)
			out[nout++] = s.ties[i];
	return nout;
}

/* search_layer_observed without an observer: the beam search of HNSW. */
template <GraphView View, QueryDistance Dist, VisitedTracker Visited>
uint32_t
search_layer(const View &view, const Dist &dist, const Candidate *eps, uint32_t n_eps, int level, uint32_t ef,
			 Visited &visited, SearchScratch &s, Candidate *out)
{
	return search_layer_observed(view, dist, eps, n_eps, level, ef, visited, s, out, [](const Candidate &) {});
}

/*
 * Beam search of one level where only candidates accept(id) admits may
 * become results: the others are traversed (their neighbours read when they
 * are nearer than the worst result, or while the results are not full) but
 * never returned. VACUUM's repair searches this way around an element whose
 * neighbours were deleted: the deleted ones still connect the live ones.
 * Otherwise as search_layer (up to ef results, nearest first, to out; the
 * frontier holds at most s.candidate_capacity candidates, a candidate that
 * finds it full is dropped).
 */
template <GraphView View, QueryDistance Dist, VisitedTracker Visited, class Accept>
uint32_t
search_layer_accepting(const View &view, const Dist &dist, const Candidate *eps, uint32_t n_eps, int level,
					   uint32_t ef, Visited &visited, SearchScratch &s, Candidate *out, const Accept &accept)
{
	return search_layer_observed(view, dist, eps, n_eps, level, ef, visited, s, out, [](const Candidate &) {},
								 accept);
}

/*
 * Full k-NN search: greedy descent from the entry point to level 1, then a
 * beam search of width ef on level 0. Writes up to ef results, nearest first,
 * to out (room for ef) and returns their count; the caller takes the first k.
 * Resets visited.
 */
template <GraphView View, QueryDistance Dist, VisitedTracker Visited>
uint32_t
hnsw_search(const View &view, const Dist &dist, uint32_t ef, Visited &visited, SearchScratch &s, Candidate *out)
{
	uint32_t ep = view.entry_point();
	if (ep == kInvalidId || ef == 0)
		return 0;
	Candidate cur{dist(ep), ep};
	for (int level = view.level_of(ep); level > 0; level--)
		cur = greedy_search_layer(view, dist, cur, level, s);
	visited.reset();
	return search_layer(view, dist, &cur, 1, 0, ef, visited, s, out);
}

/* ---------------------------------------------------------------------------
 * Neighbour selection
 * ------------------------------------------------------------------------- */

/*
 * The HNSW heuristic. cand[0..n) is sorted nearest first by distance to the
 * base element (sort_candidates: ties in the base's own order), and should
 * not contain the base; pair_dist(a, b) is the distance between elements a and b.
 * Writes at most max_keep selected candidates to out and returns their count:
 * first the kept ones (nearest first), then, with keep_pruned, the nearest
 * rejected ones until max_keep. A candidate is kept unless some kept element
 * is strictly nearer to it than the base is (ties keep it, as hnswlib;
 * pgvector prunes on ties, which only matters for exact duplicates). At most
 * half of max_keep kept candidates may share one distance (the rest of such
 * a tie is dropped, not filled in): a list of a copy of many identical
 * vectors keeps room for back-links from elements outside their cluster
 * (pgvector merges up to 10 copies into one element instead).
 * Without keep_pruned, fewer than max_keep candidates are all kept unpruned
 * (hnswlib's shortcut). pruned needs room for n candidates; out for max_keep.
 */
template <class PairDist>
uint32_t
select_neighbors_heuristic(const Candidate *cand, uint32_t n, uint32_t max_keep, bool keep_pruned,
						   const PairDist &pair_dist, Candidate *out, Candidate *pruned)
{
	uint32_t kept = 0, npruned = 0;

	if (n <= max_keep && (keep_pruned || n < max_keep)) {
		for (uint32_t i = 0; i < n; i++)
			out[i] = cand[i];
		return n; /* everything fits: the heuristic could only reorder */
	}
	/* Ties: at most half the list at any one distance, so that copies of the base
	 * (all at one distance from it) leave room for links out of their cluster. */
	uint32_t tie_cap = (max_keep + 1) / 2, tied = 0;
	for (uint32_t i = 0; i < n && kept < max_keep; i++) {
		const Candidate &e = cand[i];
		bool good = true;
		if (kept > 0 && out[kept - 1].dist == e.dist && tied >= tie_cap)
			continue; /* over the cap: the room stays for later back-links from elsewhere */
		for (uint32_t j = 0; j < kept; j++) {
			if (pair_dist(e.id, out[j].id) < e.dist) {
				good = false;
				break;
			}
		}
		if (good) {
			tied = (kept > 0 && out[kept - 1].dist == e.dist) ? tied + 1 : 1;
			out[kept++] = e;
		} else
			pruned[npruned++] = e;
	}
	if (keep_pruned)
		for (uint32_t j = 0; j < npruned && kept < max_keep; j++)
			out[kept++] = pruned[j];
	return kept;
}

/*
 * Rank of candidate id among candidates at the same distance from element
 * base: SplitMix64's finalizer over the pair (a bijection, so ranks of
 * distinct ids never collide). Each base orders ties its own way.
 */
inline uint64_t
tie_rank(uint32_t id, uint32_t base) noexcept
{
	uint64_t z = ((static_cast<uint64_t>(base) << 32) | id) + 0x9e3779b97f4a7c15ull;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* a before b in base's list: nearer, or as near and of lower tie_rank. */
inline bool
nearer_from(const Candidate &a, const Candidate &b, uint32_t base) noexcept
{
	return a.dist < b.dist || (a.dist == b.dist && a.id != b.id && tie_rank(a.id, base) < tie_rank(b.id, base));
}

/*
 * Sort cand[0..n) nearest first as seen from element base (nearer_from).
 * Insertion sort: n is a neighbour list (<= 2m + 1) or beam results already
 * sorted by distance, where it costs one comparison per candidate.
 */
void sort_candidates(Candidate *cand, uint32_t n, uint32_t base) noexcept;

/* ---------------------------------------------------------------------------
 * Insert
 * ------------------------------------------------------------------------- */

/* A QueryDistance that puts one id (kInvalidId: none) infinitely far, so a greedy walk never moves to it. */
template <QueryDistance Dist>
struct ExcludingDistance
{
	const Dist *dist;
	uint32_t excluded;

	float
	operator()(uint32_t id) const
	{
		return id == excluded ? std::numeric_limits<float>::infinity() : (*dist)(id);
	}

	void prefetch(uint32_t id) const { dist->prefetch(id); }
};

/* Options of neighbour selection on insert. */
struct InsertParams
{
	uint32_t m;				  /* list capacity on upper levels; 2m on level 0 */
	uint32_t ef_construction; /* beam width while inserting */
	uint32_t insert_degree0;  /* neighbours a new element picks on level 0 (1..2m) */
	bool keep_pruned;		  /* fill lists with pruned candidates (pgvector) */
};

/* Working memory of one inserting thread (carved from one caller buffer). */
struct InsertScratch
{
	VisitedSet visited;
	SearchScratch search;
	Candidate *w = nullptr; /* search_layer results, ef_construction */
	uint32_t nw = 0;		/* entries in w; after find_insert_neighbors, the level-0 results */
	Candidate *selected = nullptr; /* (kMaxLevel + 1) rows of 2m: the picks per level */
	uint32_t selected_count[kMaxLevel + 1] = {};
	uint32_t m0 = 0;				 /* row stride of selected */
	Candidate *pruned = nullptr;	 /* heuristic rejects, max(ef_construction, 2m + 1) */
	Candidate *shrink = nullptr;	 /* overflowing list + new element, 2m + 1 */
	Candidate *shrink_out = nullptr; /* reselect_neighbors() result, 2m */

	/* Picks of find_insert_neighbors() on level. */
	const Candidate *selected_at(int level) const noexcept { return selected + static_cast<size_t>(level) * m0; }

	/* Bytes needed for lists of capacity m/2m, ef_construction, and ids below visited_capacity. */
	static size_t bytes_needed(uint32_t m, uint32_t ef_construction, uint32_t visited_capacity) noexcept;

	/* Lay the scratch out in mem (8-byte aligned); false if bytes is too small. */
	static bool carve(void *mem, size_t bytes, uint32_t m, uint32_t ef_construction, uint32_t visited_capacity,
					  InsertScratch *out) noexcept;
};

/*
 * Move the candidates of cand[0..n) that are on level (level_of >= level)
 * before the others, keeping both groups in order (tmp: room for n); returns
 * how many are on it. Only a stale link (to an id vacuum freed and an insert
 * reused at a lower level) leads a search on an upper level to an element
 * below it; linking to it there would spread the stale link.
 */
template <GraphView View>
uint32_t
on_level_first(const View &view, Candidate *cand, uint32_t n, int level, Candidate *tmp)
{
	uint32_t on = 0, off = 0;
	for (uint32_t i = 0; i < n; i++) {
		if (view.level_of(cand[i].id) >= level)
			cand[on++] = cand[i];
		else
			tmp[off++] = cand[i];
	}
	for (uint32_t i = 0; i < off; i++)
		cand[on + i] = tmp[i];
	return on;
}

/*
 * Read-only half of inserting an element of the given level whose distance
 * to elements is dist (pair_dist(a, b) between two elements): greedy descent
 * from ep (on level top) to level + 1, then for each level from min(level,
 * top) down to 0 a beam search (seeded by the previous level's results) and
 * the heuristic pick of at most m (2m capped by insert_degree0 on level 0)
 * neighbours on that level into s.selected_at(level). self is the new
 * element's id when it already has one (else kInvalidId): the descent never
 * steps onto it and the beam searches never visit it, so it is never picked,
 * whatever stale link names it (an id vacuum freed and the insert reused).
 * tie_base orders equal distances (tie_rank): self, or the id the element
 * will get. Returns min(level, top), the highest level with picks; s.w keeps
 * the level-0 results (nearest first).
 */
template <GraphView View, QueryDistance Dist, class PairDist>
int
find_insert_neighbors(const View &view, const Dist &dist, const PairDist &pair_dist, uint32_t ep, int top, int level,
					  uint32_t self, uint32_t tie_base, const InsertParams &p, InsertScratch &s)
{
	/* the descent never steps onto self (it is infinitely far), the beam searches never visit it */
	ExcludingDistance<Dist> upper_dist{&dist, self};
	Candidate cur{upper_dist(ep), ep};
	for (int l = top; l > level; l--)
		cur = greedy_search_layer(view, upper_dist, cur, l, s.search);
	int start = level < top ? level : top;
	s.w[0] = cur;
	s.nw = 1;
	for (int l = start; l >= 0; l--) {
		s.visited.reset();
		if (self != kInvalidId)
			s.visited.test_and_set(self);
		s.nw = search_layer(view, dist, s.w, s.nw, l, p.ef_construction, s.visited, s.search, s.w);
		sort_candidates(s.w, s.nw, tie_base); /* ties in this element's own order */
		uint32_t n_on = l == 0 ? s.nw : on_level_first(view, s.w, s.nw, l, s.pruned);
		uint32_t max_keep = l == 0 ? p.insert_degree0 : p.m;
		s.selected_count[l] = select_neighbors_heuristic(s.w, n_on, max_keep, p.keep_pruned, pair_dist,
														 s.selected + static_cast<size_t>(l) * s.m0, s.pruned);
	}
	return start;
}

/*
 * The list ids[0..n) (n <= cap) of element base is full and c must be
 * linked: rank the candidates (the list and c, without base itself, should
 * a damaged list name it) by distance to the base (base_dist(id)), ties in
 * base's order, and pick at most cap with the heuristic into s.shrink_out.
 * Returns the count.
 */
template <class BaseDist, class PairDist>
uint32_t
reselect_neighbors(uint32_t base, const uint32_t *ids, uint32_t n, Candidate c, uint32_t cap, bool keep_pruned,
				   const BaseDist &base_dist, const PairDist &pair_dist, InsertScratch &s)
{
	uint32_t k = 0;
	for (uint32_t i = 0; i < n; i++)
		if (ids[i] != base)
			s.shrink[k++] = Candidate{base_dist(ids[i]), ids[i]};
	if (c.id != base)
		s.shrink[k++] = c;
	sort_candidates(s.shrink, k, base);
	return select_neighbors_heuristic(s.shrink, k, cap, keep_pruned, pair_dist, s.shrink_out, s.pruned);
}

} // namespace vx::core

#endif /* VX_CORE_HNSW_ALGO_HPP */
