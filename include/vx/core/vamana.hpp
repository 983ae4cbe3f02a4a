/*
 * vamana.hpp -- the Vamana graph of DiskANN (Subramanya et al., NeurIPS
 * 2019): RobustPrune, GreedySearch and the two-pass build, over the
 * GraphView of hnsw_algo.hpp (level 0 only).
 *
 * What lives where: the graph being built is VamanaGraph, n fixed-size
 * lists of up to R ids plus their counts, all in caller memory (the PG zone
 * builds in a palloc'd arena, then writes pages). Distances come from the
 * caller: a QueryDistance for searches, pair_dist(a, b) between two nodes
 * for the build (exact, or RaBitQ's estimate_pair; any non-negative
 * symmetric distance such as squared L2).
 *
 * robust_prune() is DiskANN's occlude_list: candidates sorted nearest first
 * by distance to the base; take the nearest remaining p*, keep it, and
 * occlude every remaining p' with alpha * d(p*, p') <= d(base, p'). Rounds
 * of growing alpha (1, 1.2, 1.44, .., ending exactly at max_alpha) with an
 * occlusion factor per candidate (the largest d(base, p') / d(p*, p') over
 * the kept p*) let a list that round 1 left short fill up with the least
 * occluded candidates. An exact copy of a kept point (d(p*, p') = 0) is
 * occluded for good. Output is nearest first, never the base, at most R.
 *
 * greedy_search() is the beam search of search_layer (a candidate is
 * expanded while it is nearer than the L-th best) that also records the
 * expanded nodes: Vamana's visited set V, the raw material of pruning.
 *
 * Estimated searches: a PairDist may offer search_distance(p), a
 * QueryDistance from p that estimates (RaBitQ codes, CodeDistance in
 * rabitq.hpp). The build's searches then read one code per node instead of
 * a full row, and only V gets exact distances before pruning: on debian
 * (62,666 x 256, R 50, L 100) a search computed ~1,400 distances per node
 * and V holds ~110, so most of the rows a build touched were read once and
 * thrown away.
 *
 * vamana_build(): a seeded random order of the nodes; pass 1 with alpha 1,
 * pass 2 with max_alpha (one pass with max_alpha unless two_pass). For each
 * node p: greedy_search from the medoid with list size L; N(p) =
 * robust_prune(V u N(p) \ {p}); then p is added to the list of every new
 * neighbour j, and when N(j) is full, N(j) u {p} is pruned back to R with
 * the same alpha. Lists hold up to cap >= R ids while building (DiskANN's
 * slack: with cap = capacity_for(R), a back-link prunes a list once per
 * ~0.3 R links instead of at every link, which was most of the build's
 * distance computations); a last step prunes every list longer than R back
 * to R with max_alpha. Single-threaded and deterministic: the same seed,
 * data and distances give the same graph. The caller polls nothing: *interrupt
 * is checked before every node (Status::Interrupted, the graph then valid
 * but incomplete) and progress(done) is called every kProgressEvery nodes
 * (done counts the steps of vamana_build_steps: insertions, then trims).
 *
 * Invariants of a built graph: counts[i] <= R, no list names its own node,
 * no list holds an id twice, every id is < n.
 *
 * Memory: nothing is allocated; VamanaScratch is carved from one caller
 * buffer. Searches may run over a page-backed view that longjmps (see
 * hnsw_algo.hpp): every object in these frames is trivially destructible.
 */
#ifndef VX_CORE_VAMANA_HPP
#define VX_CORE_VAMANA_HPP

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <thread>
#include <atomic>
#include <type_traits>

#include "vx/core/heap.hpp"
#include "vx/core/hnsw_algo.hpp"
#include "vx/core/prefetch.hpp"
#include "vx/core/rabitq.hpp"
#include "vx/core/status.hpp"
#include "vx/core/visited.hpp"

namespace vx::core {

/* Growth of alpha between pruning rounds (DiskANN's). */
inline constexpr float kAlphaStep = 1.2f;

/* Nodes between two progress() calls of vamana_build. */
inline constexpr uint32_t kProgressEvery = 1024;

/* Sort cand[0..n) nearest first (ties by id); insertion sort, n is a neighbour list. */
inline void
sort_nearest_first(Candidate *cand, uint32_t n) noexcept
{
	for (uint32_t i = 1; i < n; i++) {
		Candidate c = cand[i];
		uint32_t j = i;
		for (; j > 0 && nearer(c, cand[j - 1]); j--)
			cand[j] = cand[j - 1];
		cand[j] = c;
	}
}

/*
 * DiskANN's RobustPrune (occlude_list). cand[0..n) is sorted nearest first
 * by distance to the base element (non-negative distances), without the
 * base and without duplicate ids; pair_dist(a, b) is the distance between
 * two candidates. Writes at most R kept candidates, nearest first, to out
 * and returns their count. occlude: scratch of n floats.
 */
template <class PairDist>
uint32_t
robust_prune(const Candidate *cand, uint32_t n, float max_alpha, uint32_t R, const PairDist &pair_dist, Candidate *out,
			 float *occlude) noexcept(noexcept(pair_dist(0u, 0u)))
{
	constexpr float kKept = std::numeric_limits<float>::infinity();
	if (max_alpha < 1.0f)
		max_alpha = 1.0f;
	for (uint32_t i = 0; i < n; i++)
		occlude[i] = 0.0f;
	uint32_t kept = 0;
	for (float alpha = 1.0f;; alpha = std::min(alpha * kAlphaStep, max_alpha)) {
		for (uint32_t i = 0; i < n && kept < R; i++) {
			if (!(occlude[i] < alpha))
				continue; /* kept already, or occluded at this alpha */
			out[kept++] = cand[i];
			occlude[i] = kKept;
			for (uint32_t j = i + 1; j < n; j++) {
				if (!(occlude[j] < max_alpha))
					continue; /* kept, or occluded in every round */
				float pd = pair_dist(cand[i].id, cand[j].id);
				/* alpha * pd <= d(base, p') for every alpha <= d / pd; an exact copy is occluded for good */
				float factor = pd > 0 ? cand[j].dist / pd : kKept;
				occlude[j] = std::max(occlude[j], factor);
			}
		}
		if (kept >= R || !(alpha < max_alpha))
			break;
	}
	sort_nearest_first(out, kept);
	return kept;
}

/*
 * Vamana's GreedySearch on level 0: a beam of width L (1..s.max_ef) from
 * starts[0..nstarts) (nstarts <= L). Writes the count returned of the L
 * best, nearest first, to best (room for L), and the expanded nodes with
 * their distances, in expansion order, to expanded (the first max_expanded
 * of them; the search itself goes on) with their count in *nexpanded. Ids
 * marked in visited are skipped (the caller resets it).
 */
template <GraphView View, QueryDistance Dist, VisitedTracker Visited>
uint32_t
greedy_search(const View &view, const Dist &dist, const uint32_t *starts, uint32_t nstarts, uint32_t L,
			  Visited &visited, SearchScratch &s, Candidate *best, Candidate *expanded, uint32_t max_expanded,
			  uint32_t *nexpanded)
{
	assert(nstarts <= L);
	for (uint32_t i = 0; i < nstarts; i++)
		best[i] = Candidate{dist(starts[i]), starts[i]};
	uint32_t nexp = 0;
	uint32_t n = search_layer_observed(view, dist, best, nstarts, 0, L, visited, s, best, [&](const Candidate &c) {
		if (nexp < max_expanded)
			expanded[nexp++] = c;
	});
	*nexpanded = nexp;
	return n;
}

/* List room per node for a build with out-degree R: DiskANN's slack factor of 1.3. */
constexpr uint32_t
vamana_capacity_for(uint32_t R) noexcept
{
	return R + (R * 3 + 9) / 10;
}

/* In-memory Vamana graph on caller memory: n nodes, each with up to cap (R once built) neighbour ids. */
struct VamanaGraph
{
	uint32_t *ids = nullptr;	/* n * stride() ids; list of node i at ids[i * stride()] */
	uint32_t *counts = nullptr; /* n list lengths */
	uint32_t n = 0;
	uint32_t R = 0;				  /* out-degree of the built graph */
	uint32_t cap = 0;			  /* list room while building (>= R); 0: R */
	uint32_t medoid = kInvalidId; /* the entry point, set by the caller (find_medoid) */

	/* Ids between the starts of two lists. */
	uint32_t stride() const noexcept { return cap > R ? cap : R; }

	/* GraphView: the medoid (kInvalidId for an empty graph). */
	uint32_t
	entry_point() const noexcept
	{
		return n == 0 ? kInvalidId : medoid;
	}

	/* GraphView: a single level. */
	int max_level() const noexcept { return 0; }

	/* GraphView: every node is on level 0. */
	int level_of(uint32_t) const noexcept { return 0; }

	/* GraphView: the list capacity. */
	uint32_t max_degree() const noexcept { return stride(); }

	/* GraphView: the list of id (a span into the graph; empty above level 0). */
	std::span<const uint32_t>
	neighbors(uint32_t id, int level, uint32_t *) const noexcept
	{
		if (level > 0)
			return {};
		return {ids + static_cast<size_t>(id) * stride(), counts[id]};
	}

	/* Start fetching the count and the list of id (a search reads them next). */
	void
	prefetch_neighbors(uint32_t id, int) const noexcept
	{
		__builtin_prefetch(counts + id);
		prefetch_bytes(ids + static_cast<size_t>(id) * stride(), stride() * sizeof(uint32_t));
	}

	/* The writable list of id (room for stride()). */
	uint32_t *
	list(uint32_t id) noexcept
	{
		return ids + static_cast<size_t>(id) * stride();
	}
};

/* Options of a Vamana build. */
struct VamanaBuildParams
{
	uint32_t R;		 /* list capacity (max out-degree) */
	uint32_t L;		 /* beam width while building */
	float max_alpha; /* pruning alpha of the last pass (>= 1; 1.2 in DiskANN) */
	uint64_t seed;	 /* order of insertion */
	bool two_pass;	 /* a first pass with alpha 1 (the paper), then max_alpha */
	uint32_t first_pass_L = 0; /* beam width of the first pass (0: L; see vamana_first_pass_width) */
};

/*
 * Beam width of the first pass (alpha 1) for a build of width L: L / 4, at
 * least 16 (or L). The first pass only drafts the graph the second one
 * rebuilds; on debian (R 50, L 100) a first pass at 25 instead of 100 cut
 * the build's distance computations by a third, and the graph's recall@10
 * under an exact search of width 10 / 20 moved from 0.964 / 0.989 to
 * 0.960 / 0.983 (bench/tools/vamana_core_bench).
 */
constexpr uint32_t
vamana_first_pass_width(uint32_t L) noexcept
{
	return std::max(L / 4, std::min(L, 16u));
}

/*
 * A PairDist (Exact: exact distances between rows, optionally prefetch)
 * whose build searches estimate from the rows' RaBitQ codes: the search for
 * row p prepares p's query code (rows: row_floats floats per row, the
 * vectors the codes were made from) into this builder's query and work.
 * One per builder; see "Estimated searches" in the file comment.
 */
template <class Exact>
struct CodedSearchPair : Exact
{
	const Quantizer *quantizer = nullptr;
	const uint8_t *codes = nullptr; /* quantizer->code_bytes() per row */
	const CodeFactors *factors = nullptr;
	const float *rows = nullptr;
	uint32_t row_floats = 0;
	QueryCode *query = nullptr; /* planes: quantizer->query_bytes() */
	float *work = nullptr;		/* quantizer->work_floats() */

	CodeDistance
	search_distance(uint32_t p) const noexcept
	{
		quantizer->prepare_query(rows + static_cast<size_t>(p) * row_floats, query, work);
		return CodeDistance{quantizer, query, codes, factors, EstimateMetric::L2sq};
	}
};

/* Scratch for one builder, carved from one caller buffer. */
struct VamanaScratch
{
	VisitedSet visited;
	SearchScratch search;
	Candidate *best = nullptr;	   /* greedy_search results, L */
	Candidate *expanded = nullptr; /* greedy_search expansions, max_expanded */
	uint32_t max_expanded = 0;
	Candidate *pool = nullptr; /* prune candidates: max_expanded + R + 1 */
	float *occlude = nullptr;  /* robust_prune scratch, as pool */
	Candidate *pruned = nullptr; /* robust_prune output, R */
	uint32_t *order = nullptr;	 /* insertion order, n */
	uint32_t R = 0, L = 0, n = 0;
	uint64_t done = 0;	  /* steps vamana_build completed (its resume point after Interrupted) */
	uint64_t claimed = ~uint64_t{0}; /* vamana_build_shared: the step in hand (~0: none) */
	bool order_drawn = false;		 /* order holds the build's insertion order */

	/* Expansions recorded per search: a search of width L expands a little more than L nodes (66 on
	 * average, 71 at most for L 64 on the 10k x 32 test data), so 2 L loses none. */
	static constexpr uint32_t
	max_expanded_for(uint32_t L) noexcept
	{
		return 2 * L;
	}

	/* Bytes needed for builds with list room R (the graph's stride()), beam width L and n nodes. */
	static size_t bytes_needed(uint32_t R, uint32_t L, uint32_t n) noexcept;

	/* Lay the scratch out in mem (8-byte aligned, >= bytes_needed()); false if too small or R, L zero. */
	static bool carve(void *mem, size_t bytes, uint32_t R, uint32_t L, uint32_t n, VamanaScratch *out) noexcept;
};

static_assert(std::is_trivially_destructible_v<VamanaGraph> && std::is_trivially_destructible_v<VamanaScratch>);

/* Node whose distance to the data's mean is smallest (dist_to_mean(i) from the caller); kInvalidId if n is 0. */
template <class DistToMean>
uint32_t
find_medoid(uint32_t n, const DistToMean &dist_to_mean) noexcept(noexcept(dist_to_mean(0u)))
{
	uint32_t best = kInvalidId;
	float best_dist = std::numeric_limits<float>::infinity();
	for (uint32_t i = 0; i < n; i++) {
		float d = dist_to_mean(i);
		if (best == kInvalidId || d < best_dist) {
			best = i;
			best_dist = d;
		}
	}
	return best;
}

namespace detail {

/* The distance from one node to the others, as a QueryDistance. */
template <class PairDist>
struct NodeDistance
{
	const PairDist *pair_dist;
	uint32_t base;

	float
	operator()(uint32_t id) const
	{
		return (*pair_dist)(base, id);
	}
	/* a PairDist over memory may start fetching a node's vector (the search computes the distances next) */
	void
	prefetch(uint32_t id) const
	{
		if constexpr (requires { pair_dist->prefetch(id); })
			pair_dist->prefetch(id);
	}
};

/* Sort pool[0..n) nearest first as seen from base and prune it to at most R into s.pruned. */
template <class PairDist>
uint32_t
prune_pool(uint32_t base, uint32_t n, float alpha, uint32_t R, const PairDist &pair_dist, VamanaScratch &s)
{
	std::sort(s.pool, s.pool + n,
			  [base](const Candidate &a, const Candidate &b) { return nearer_from(a, b, base); });
	return robust_prune(s.pool, n, alpha, R, pair_dist, s.pruned, s.occlude);
}

/* Builders alone on a graph take no locks. */
struct NoNodeLocks
{
	void lock(uint32_t) const noexcept {}
	void unlock(uint32_t) const noexcept {}
};

/* A view of g that copies each list under its node's lock (builders share g). */
template <class Locks>
struct LockedVamanaView
{
	const VamanaGraph *g;
	Locks locks;

	uint32_t entry_point() const noexcept { return g->entry_point(); }
	int max_level() const noexcept { return 0; }
	int level_of(uint32_t) const noexcept { return 0; }
	uint32_t max_degree() const noexcept { return g->max_degree(); }
	void prefetch_neighbors(uint32_t id, int level) const noexcept { g->prefetch_neighbors(id, level); }

	std::span<const uint32_t>
	neighbors(uint32_t id, int level, uint32_t *buf) const noexcept
	{
		if (level > 0)
			return {};
		locks.lock(id);
		std::span<const uint32_t> nb = g->neighbors(id, 0, buf);
		std::copy(nb.begin(), nb.end(), buf);
		locks.unlock(id);
		return {buf, nb.size()};
	}
};

/*
 * Link node p with pruning parameter alpha (one step of vamana_build). With
 * locks, other builders work on g at the same time: every list is read and
 * written under its node's lock, one lock at a time, and the distances of
 * the search and of p's prune are computed outside any lock.
 */
template <class PairDist, class Locks>
void
vamana_insert(VamanaGraph &g, uint32_t p, float alpha, uint32_t L, const PairDist &pair_dist, VamanaScratch &s,
			  const Locks &locks)
{
	/* V: the nodes a search for p expands, over estimates when pair_dist offers them (search_distance(p)) */
	uint32_t nexp = 0;
	auto search = [&](const auto &dist) {
		s.visited.reset();
		if constexpr (std::is_same_v<Locks, NoNodeLocks>)
			greedy_search(g, dist, &g.medoid, 1, L, s.visited, s.search, s.best, s.expanded, s.max_expanded, &nexp);
		else
			greedy_search(LockedVamanaView<Locks>{&g, locks}, dist, &g.medoid, 1, L, s.visited, s.search, s.best,
						  s.expanded, s.max_expanded, &nexp);
	};
	constexpr bool estimated = requires { pair_dist.search_distance(p); };
	if constexpr (estimated)
		search(pair_dist.search_distance(p));
	else
		search(NodeDistance<PairDist>{&pair_dist, p});

	/* N(p) = prune(V u N(p) \ {p}), each id once */
	uint32_t npool = 0;
	s.visited.reset();
	s.visited.test_and_set(p);
	for (uint32_t i = 0; i < nexp; i++)
		if (!s.visited.test_and_set(s.expanded[i].id))
			s.pool[npool++] = s.expanded[i];
	if constexpr (estimated) {
		/* pruning compares exact distances: fetch V's rows together, then measure */
		NodeDistance<PairDist> exact{&pair_dist, p};
		for (uint32_t i = 0; i < npool; i++)
			exact.prefetch(s.pool[i].id);
		for (uint32_t i = 0; i < npool; i++)
			s.pool[i].dist = exact(s.pool[i].id);
	}
	uint32_t *list = g.list(p);
	uint32_t *own = s.search.neighbor_buf; /* p's list as it was (room for stride()) */
	locks.lock(p);
	uint32_t nown = g.counts[p];
	std::copy(list, list + nown, own);
	locks.unlock(p);
	for (uint32_t i = 0; i < nown; i++)
		if (!s.visited.test_and_set(own[i]))
			s.pool[npool++] = Candidate{pair_dist(p, own[i]), own[i]};
	/* N(p) is pruned to R: the slack is for back-links */
	uint32_t kept = prune_pool(p, npool, alpha, g.R, pair_dist, s);
	locks.lock(p);
	for (uint32_t i = 0; i < kept; i++)
		list[i] = own[i] = s.pruned[i].id; /* own: N(p) for the back-links, whatever happens to list */
	g.counts[p] = kept; /* a back-link another builder added since the copy is dropped: its edge to p stays */
	locks.unlock(p);

	/* back-links: p joins each neighbour's list, which is pruned back to R when its room is full */
	for (uint32_t i = 0; i < kept; i++) {
		uint32_t j = own[i];
		uint32_t *lj = g.list(j);
		locks.lock(j);
		uint32_t cj = g.counts[j];
		if (std::find(lj, lj + cj, p) != lj + cj) {
			locks.unlock(j);
			continue;
		}
		if (cj < g.stride()) {
			lj[cj] = p;
			g.counts[j] = cj + 1;
			locks.unlock(j);
			continue;
		}
		/* pruned under the lock: rare (once per ~0.3 R links with slack), and nothing else then waits long */
		Candidate *pool = s.pool;
		for (uint32_t k = 0; k < cj; k++)
			pool[k] = Candidate{pair_dist(j, lj[k]), lj[k]};
		pool[cj] = Candidate{pair_dist(j, p), p};
		uint32_t kj = prune_pool(j, cj + 1, alpha, g.R, pair_dist, s);
		for (uint32_t k = 0; k < kj; k++)
			lj[k] = s.pruned[k].id;
		g.counts[j] = kj;
		locks.unlock(j);
	}
}

/* Prune the list of node j back to R with alpha when it is longer (the end of a build with slack). */
template <class PairDist>
void
vamana_trim(VamanaGraph &g, uint32_t j, float alpha, const PairDist &pair_dist, VamanaScratch &s)
{
	uint32_t cj = g.counts[j];
	if (cj <= g.R)
		return;
	uint32_t *lj = g.list(j);
	for (uint32_t k = 0; k < cj; k++)
		s.pool[k] = Candidate{pair_dist(j, lj[k]), lj[k]};
	uint32_t kj = prune_pool(j, cj, alpha, g.R, pair_dist, s);
	for (uint32_t k = 0; k < kj; k++)
		lj[k] = s.pruned[k].id;
	g.counts[j] = kj;
}

/* Check the parameters of a build against g and s. */
inline bool
vamana_params_ok(const VamanaGraph &g, const VamanaBuildParams &p, const VamanaScratch &s) noexcept
{
	return p.R != 0 && p.R == g.R && p.L != 0 && p.L <= s.L && p.first_pass_L <= s.L && g.stride() <= s.R &&
		   g.n <= s.n && g.medoid < g.n && p.max_alpha >= 1.0f;
}

/* The seeded random insertion order (Fisher-Yates) into s.order: every builder draws the same one. */
inline void
vamana_draw_order(uint32_t n, uint64_t seed, VamanaScratch &s) noexcept
{
	SplitMix64 rng{seed};
	for (uint32_t i = 0; i < n; i++)
		s.order[i] = i;
	for (uint32_t i = n - 1; i > 0; i--)
		std::swap(s.order[i], s.order[rng.next() % (i + 1)]);
	s.order_drawn = true;
}

/* Run step k of a build (see vamana_build_steps). */
template <class PairDist, class Locks>
void
vamana_step(VamanaGraph &g, const VamanaBuildParams &p, uint64_t k, const PairDist &pair_dist, VamanaScratch &s,
			const Locks &locks)
{
	uint64_t inserts = (p.two_pass ? 2u : 1u) * static_cast<uint64_t>(g.n);
	if (k < inserts) {
		bool first = p.two_pass && k < g.n;
		uint32_t L = first && p.first_pass_L != 0 ? p.first_pass_L : p.L;
		vamana_insert(g, s.order[k % g.n], first ? 1.0f : p.max_alpha, L, pair_dist, s, locks);
	} else
		vamana_trim(g, static_cast<uint32_t>(k - inserts), p.max_alpha, pair_dist, s);
}

} // namespace detail

/* Steps of vamana_build over n nodes (what its progress counts): the insertions of each pass, then one trim per node. */
constexpr uint64_t
vamana_build_steps(uint32_t n, bool two_pass) noexcept
{
	return static_cast<uint64_t>(two_pass ? 3 : 2) * n;
}

/*
 * Build the Vamana graph g (counts all 0, medoid set) with pair_dist(a, b)
 * between nodes (see the file comment). Returns InvalidArgument for
 * parameters that do not match g or s, Interrupted when *interrupt became
 * non-zero (interrupt may be null), else Ok. After Interrupted, calling it
 * again with the same g, p and s resumes where it stopped (s.done counts the
 * steps made; the caller may handle an interrupt that does not cancel and go
 * on). progress(done) may be a no-op. noexcept when pair_dist and progress
 * are; if they may longjmp instead, nothing in these frames needs a
 * destructor (the graph stays valid).
 */
template <class PairDist, class Progress>
Status
vamana_build(VamanaGraph &g, const VamanaBuildParams &p, const PairDist &pair_dist, VamanaScratch &s,
			 const volatile int *interrupt,
			 Progress &&progress) noexcept(noexcept(pair_dist(0u, 0u)) && noexcept(progress(uint64_t{0})))
{
	if (g.n == 0)
		return Status::Ok;
	if (!detail::vamana_params_ok(g, p, s))
		return Status::InvalidArgument;
	if (!s.order_drawn)
		detail::vamana_draw_order(g.n, p.seed, s);
	uint64_t total = vamana_build_steps(g.n, p.two_pass);
	while (s.done < total) {
		if (interrupt != nullptr && *interrupt != 0)
			return Status::Interrupted;
		detail::vamana_step(g, p, s.done, pair_dist, s, detail::NoNodeLocks{});
		if (++s.done % kProgressEvery == 0)
			progress(s.done);
	}
	return Status::Ok;
}

/*
 * The coordination of builders sharing one graph (vamana_build_shared), in
 * memory every builder maps (PostgreSQL's dynamic shared memory): the next
 * step to hand out and the steps finished. Zeroed before the first builder
 * starts; plain integers used through std::atomic_ref, so the struct is
 * address-free and may live anywhere.
 */
struct VamanaShared
{
	alignas(8) uint64_t next_step;
	alignas(8) uint64_t finished;
	alignas(8) uint64_t finished_inserts;
};

/* Per-node locks of builders sharing a graph: one byte per node (a test-and-set spinlock, zeroed = free). */
struct VamanaNodeLocks
{
	uint8_t *bytes = nullptr;

	void
	lock(uint32_t id) const noexcept
	{
		std::atomic_ref<uint8_t> b(bytes[id]);
		for (uint32_t spins = 0; b.exchange(1, std::memory_order_acquire) != 0;)
			while (b.load(std::memory_order_relaxed) != 0)
				if (++spins % 64 == 0)
					std::this_thread::yield(); /* the holder may be descheduled: give it the core */
	}

	void
	unlock(uint32_t id) const noexcept
	{
		std::atomic_ref<uint8_t>(bytes[id]).store(0, std::memory_order_release);
	}
};

/*
 * vamana_build for several builders (processes or threads) on one graph g
 * in shared memory: each calls it with its own s and the same g contents,
 * p, shared and locks. Steps are handed out one at a time from
 * shared.next_step in vamana_build's order, so with one builder the result
 * is vamana_build's; with more, lists are read and written under node
 * locks, and the graph depends on timing. Trims wait until every insertion
 * is done (a builder with a trim step in hand yields until then). Returns
 * Ok when no step is left, Interrupted as vamana_build (the step in hand is
 * kept in s; call again to resume), InvalidArgument as vamana_build.
 * progress(finished) sees the steps all builders finished, now and then.
 */
template <class PairDist, class Progress>
Status
vamana_build_shared(VamanaGraph &g, const VamanaBuildParams &p, const PairDist &pair_dist, VamanaScratch &s,
					VamanaShared &shared, VamanaNodeLocks locks, const volatile int *interrupt, Progress &&progress)
{
	constexpr uint64_t kNone = ~uint64_t{0};
	if (g.n == 0)
		return Status::Ok;
	if (!detail::vamana_params_ok(g, p, s) || locks.bytes == nullptr)
		return Status::InvalidArgument;
	if (!s.order_drawn)
		detail::vamana_draw_order(g.n, p.seed, s);
	uint64_t total = vamana_build_steps(g.n, p.two_pass);
	uint64_t inserts = total - g.n;
	std::atomic_ref<uint64_t> next(shared.next_step), finished(shared.finished),
		finished_inserts(shared.finished_inserts);
	for (;;) {
		if (interrupt != nullptr && *interrupt != 0)
			return Status::Interrupted;
		if (s.claimed == kNone) {
			uint64_t k = next.fetch_add(1, std::memory_order_relaxed);
			if (k >= total)
				return Status::Ok;
			s.claimed = k;
		}
		uint64_t k = s.claimed;
		if (k >= inserts && finished_inserts.load(std::memory_order_acquire) < inserts) {
			std::this_thread::yield(); /* trims start once every list has all its links */
			continue;
		}
		detail::vamana_step(g, p, k, pair_dist, s, locks);
		s.claimed = kNone;
		if (k < inserts)
			finished_inserts.fetch_add(1, std::memory_order_acq_rel);
		uint64_t f = finished.fetch_add(1, std::memory_order_acq_rel) + 1;
		if (f % kProgressEvery == 0)
			progress(f);
	}
}

} // namespace vx::core

#endif /* VX_CORE_VAMANA_HPP */
