/*
 * hnsw_graph.hpp -- the build-time HNSW graph, in one caller-provided arena.
 *
 * Everything lives in a single contiguous arena that the caller allocates
 * (palloc, or a dynamic shared memory segment shared by parallel build
 * workers that map it at different addresses). The arena holds no raw
 * pointers: element ids index fixed-stride arrays, and a process attaches by
 * computing addresses from the offsets in the header. Layout (offsets in
 * HnswGraphLayout, all 64-byte aligned; the arena base must be too):
 *
 *   header    HnswGraphHeader: parameters, layout, id and upper-list
 *             allocators, entry point and its lock
 *   nodes     per id: NodeHead {lock, level, upper, count0} + 2m level-0 ids
 *   values    per id: the vector bytes (value_bytes, stride rounded up to 64
 *             so every vector starts on a cache line)
 *   payloads  per id: payload_bytes opaque bytes (heap TIDs for the PG zone)
 *   upper     pool of upper-level lists {count, m ids}; an element of level L
 *             owns L consecutive lists starting at NodeHead::upper
 *
 * Memory per element: 12 + 8m (node) + round64(value_bytes) + payload_bytes
 * + on average (4 + 4m)/(m - 1) (upper lists): for m=16 and a 256-dim float
 * vector 140 + 1024 + 4.5, i.e. 1169 bytes, or 1173 with a 4-byte payload and
 * the upper-pool margin (hnswlib: 1164 + ~5). Upper lists are provisioned for the
 * expected count plus 8 standard deviations; add() returns OutOfMemory if the
 * ids or the upper pool run out (the PG zone then flushes and continues on
 * disk, as pgvector does when maintenance_work_mem fills up).
 *
 * Concurrency is a policy. SingleThreaded takes no locks. Concurrent (N
 * threads or processes inserting at once, as hnswlib's addPoint):
 *  - ids and upper lists are handed out with atomic fetch-add;
 *  - each node has a one-byte spinlock guarding its neighbour lists and
 *    counts; readers copy a list out under the lock; nobody holds two node
 *    locks at once, so there is no lock order to respect;
 *  - an insert first searches (read-only), then writes the new element's own
 *    lists under its lock, and only then adds back-links one neighbour at a
 *    time under that neighbour's lock. The element becomes reachable only
 *    through a back-link, so readers never see it half-linked; its value and
 *    level were written before and are published by those lock releases;
 *  - the entry point {id, level} is one 64-bit word read atomically and
 *    written under the entry spinlock. An insert whose level exceeds the
 *    current top level keeps that lock for its whole duration (hnswlib does
 *    the same), so two new top-level elements cannot both miss each other.
 * Spinlocks are std::atomic_ref on arena bytes (lock-free, address-free, so
 * valid across processes). Waiters pause, then yield.
 *
 * A graph built with Concurrent can be re-attached as SingleThreaded for
 * lock-free reads once all writers are done (flush, benchmarks).
 *
 * Neighbour selection (measured on debian-d256, cosine, m=16, efc=64; see
 * bench/tools/hnsw_core_bench.cpp). Level-0 lists hold up to 2m ids and upper
 * lists m, as in pgvector. With keep_pruned=1 (pgvector's back-fill, the
 * default) lists are filled to capacity with the nearest pruned candidates.
 * pgvector also lets a new element pick 2m neighbours on level 0; that costs
 * 5939 distance computations per insert against 2147 when it picks m
 * (insert_degree0 = m, the default here) and gave the same recall per ef
 * within run-to-run noise (0.95 at ef ~18-20 either way), because back-links
 * fill the lists to 2m anyway. hnswlib's semantics (keep_pruned=0,
 * insert_degree0=m) cost 811 per insert but need ef ~29 for 0.95, ~15% fewer
 * queries per second at that recall.
 *
 * Duplicates: add() can merge a row whose value is byte-identical to an
 * element found by its neighbour search into that element (on_dup), as
 * pgvector keeps up to 10 heap TIDs per element. Without merging, identical
 * vectors fill each other's lists with candidates at distance 0; the
 * per-element tie order of the heuristic (tie_rank in hnsw_algo.hpp) keeps
 * those lists random subsets of the copies, so every copy keeps incoming
 * links and stays reachable.
 */
#ifndef VX_CORE_HNSW_GRAPH_HPP
#define VX_CORE_HNSW_GRAPH_HPP

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <span>
#include <type_traits>

#include "vx/core/hnsw_algo.hpp"
#include "vx/core/prefetch.hpp"

namespace vx::core {

inline constexpr uint32_t kHnswGraphMagic = 0x56584857; /* "VXHW" */
inline constexpr uint32_t kHnswGraphVersion = 1;

/* Graph parameters; stored in the arena header, so POD with fixed-width fields. */
struct HnswGraphParams
{
	uint32_t m = 16;			   /* max neighbours per upper level; level 0 holds 2m */
	uint32_t ef_construction = 64; /* beam width while inserting */
	uint32_t value_bytes = 0;	   /* bytes of every element's vector */
	uint32_t payload_bytes = 0;	   /* opaque bytes per element, may be 0 */
	uint32_t capacity = 0;		   /* max number of elements */
	uint32_t keep_pruned = 1;	   /* 1: fill lists with pruned candidates (pgvector); 0: hnswlib */
	uint32_t insert_degree0 = 0;   /* neighbours a new element picks on level 0, 1..2m; 0 = m (see above) */
};

/* Where each section of the arena starts; computed from the parameters. */
struct HnswGraphLayout
{
	uint64_t nodes_off;
	uint64_t values_off;
	uint64_t payloads_off;
	uint64_t upper_off;
	uint64_t total_bytes;
	uint32_t node_stride;
	uint32_t value_stride;
	uint32_t upper_stride;
	uint32_t upper_capacity; /* number of upper-level lists in the pool */
};

/* Layout for p; total_bytes is 0 if the parameters are invalid or too large. */
HnswGraphLayout hnsw_graph_layout(const HnswGraphParams &p) noexcept;

/* Largest capacity whose layout fits in bytes (p.capacity is ignored); 0 if none. */
uint32_t hnsw_graph_capacity_for(size_t bytes, const HnswGraphParams &p) noexcept;

/* Arena header; all mutable fields are accessed through std::atomic_ref. */
struct HnswGraphHeader
{
	uint32_t magic;
	uint32_t version;
	HnswGraphParams params;
	HnswGraphLayout layout;
	alignas(64) uint32_t next_id; /* ids handed out (may exceed capacity after failures) */
	uint32_t upper_used;		  /* upper lists handed out */
	alignas(64) uint64_t entry;	  /* entry id | top level << 32; kEmptyEntry when empty */
	uint8_t entry_lock;			  /* spinlock for writers of entry */
};

inline constexpr uint64_t kEmptyEntry = kInvalidId;

/* Per-element head of the node array, followed by 2m level-0 ids. */
struct NodeHead
{
	uint8_t lock;	/* spinlock (Concurrent policy) */
	uint8_t level;	/* 0..kMaxLevel, immutable once published */
	uint16_t unused;
	uint32_t upper; /* first upper list, kInvalidId for level 0 */
	uint32_t count0;
};
static_assert(sizeof(NodeHead) == 12);

/* Acquire a spinlock byte (slow path out of line). */
void spin_lock_slow(uint8_t *word) noexcept;

/* Acquire a spinlock byte in the arena. */
inline void
spin_lock(uint8_t *word) noexcept
{
	if (std::atomic_ref<uint8_t>(*word).exchange(1, std::memory_order_acquire) == 0)
		return;
	spin_lock_slow(word);
}

/* Release a spinlock byte in the arena. */
inline void
spin_unlock(uint8_t *word) noexcept
{
	std::atomic_ref<uint8_t>(*word).store(0, std::memory_order_release);
}

static_assert(std::atomic_ref<uint8_t>::is_always_lock_free);
static_assert(std::atomic_ref<uint32_t>::is_always_lock_free);
static_assert(std::atomic_ref<uint64_t>::is_always_lock_free);

/* No locks: one inserting thread, or read-only use. */
struct SingleThreaded
{
	static constexpr bool kConcurrent = false;
};

/* Per-node spinlocks and atomic allocators: many inserting threads or processes. */
struct Concurrent
{
	static constexpr bool kConcurrent = true;
};

/* QueryDistance over the arena's value array. */
template <class Metric>
struct ArenaQueryDistance
{
	const std::byte *values;
	size_t stride;
	uint32_t prefetch_lines; /* cache lines of a vector to prefetch */
	const void *query;
	Metric metric;

	float
	operator()(uint32_t id) const noexcept
	{
		return metric(query, values + static_cast<size_t>(id) * stride);
	}

	void
	prefetch(uint32_t id) const noexcept
	{
		const char *p = reinterpret_cast<const char *>(values + static_cast<size_t>(id) * stride);
		for (uint32_t i = 0; i < prefetch_lines; i++)
			__builtin_prefetch(p + 64 * i, 0, 3);
	}
};

/* Bytes of InsertScratch for a graph with parameters p. */
inline size_t
insert_scratch_bytes(const HnswGraphParams &p) noexcept
{
	return InsertScratch::bytes_needed(p.m, p.ef_construction, p.capacity);
}

/* Carve an InsertScratch for a graph with parameters p from mem. */
inline bool
carve_insert_scratch(void *mem, size_t bytes, const HnswGraphParams &p, InsertScratch *out) noexcept
{
	return InsertScratch::carve(mem, bytes, p.m, p.ef_construction, p.capacity, out);
}

template <class Policy>
class HnswGraph
{
public:
	HnswGraph() noexcept = default;

	/* Initialise an empty graph in arena (64-byte aligned, >= layout total_bytes). */
	static Status
	create(void *arena, size_t bytes, const HnswGraphParams &p, HnswGraph *out) noexcept
	{
		HnswGraphLayout layout = hnsw_graph_layout(p);
		if (layout.total_bytes == 0 || reinterpret_cast<uintptr_t>(arena) % 64 != 0)
			return Status::InvalidArgument;
		if (layout.total_bytes > bytes)
			return Status::OutOfMemory;
		auto *h = new (arena) HnswGraphHeader{}; /* trivially destructible; lives as long as the arena */
		h->magic = kHnswGraphMagic;
		h->version = kHnswGraphVersion;
		h->params = p;
		if (h->params.insert_degree0 == 0)
			h->params.insert_degree0 = p.m;
		h->layout = layout;
		h->entry = kEmptyEntry;
		return attach(arena, bytes, out);
	}

	/* Attach to a graph another process or thread created in arena. */
	static Status
	attach(void *arena, size_t bytes, HnswGraph *out) noexcept
	{
		auto *h = static_cast<HnswGraphHeader *>(arena);
		if (bytes < sizeof(HnswGraphHeader) || h->magic != kHnswGraphMagic || h->version != kHnswGraphVersion ||
			h->layout.total_bytes > bytes)
			return Status::InvalidArgument;
		HnswGraph g;
		g.hdr_ = h;
		auto *base = static_cast<std::byte *>(arena);
		g.nodes_ = base + h->layout.nodes_off;
		g.values_ = base + h->layout.values_off;
		g.payloads_ = base + h->layout.payloads_off;
		g.upper_ = base + h->layout.upper_off;
		g.node_stride_ = h->layout.node_stride;
		g.value_stride_ = h->layout.value_stride;
		g.upper_stride_ = h->layout.upper_stride;
		g.m_ = h->params.m;
		g.m0_ = 2 * h->params.m;
		/* Whole vector up to 1 KiB; the hardware prefetcher streams the rest. No measurable effect while
		 * the data fits the last-level cache (480 MiB on the test VM); it matters for larger arenas. */
		g.prefetch_lines_ = std::min<uint32_t>((h->params.value_bytes + 63) / 64, 16);
		*out = g;
		return Status::Ok;
	}

	/* --- GraphView -------------------------------------------------------- */

	/* Entry element, kInvalidId while empty. */
	uint32_t
	entry_point() const noexcept
	{
		return static_cast<uint32_t>(load_entry());
	}

	/* Level of the entry element (-1 while empty). */
	int
	max_level() const noexcept
	{
		uint64_t e = load_entry();
		return e == kEmptyEntry ? -1 : static_cast<int>(e >> 32);
	}

	/* Level of element id. */
	int
	level_of(uint32_t id) const noexcept
	{
		return node(id)->level;
	}

	/* Largest neighbour list (level 0). */
	uint32_t
	max_degree() const noexcept
	{
		return m0_;
	}

	/* Neighbours of id on level: copied to buf under the node lock (Concurrent) or a direct span. */
	std::span<const uint32_t>
	neighbors(uint32_t id, int level, uint32_t *buf) const noexcept
	{
		NodeHead *h = node(id);
		if (level > h->level)
			return {};
		uint32_t *count, *ids;
		list_of(h, level, &count, &ids);
		if constexpr (Policy::kConcurrent) {
			spin_lock(&h->lock);
			uint32_t n = *count;
			std::memcpy(buf, ids, n * sizeof(uint32_t));
			spin_unlock(&h->lock);
			return {buf, n};
		} else {
			return {ids, *count};
		}
	}

	/* Start fetching the head and level-0 list of id (search_layer reads it next; upper lists stay cached). */
	void
	prefetch_neighbors(uint32_t id, int level) const noexcept
	{
		if (level != 0)
			return;
		prefetch_bytes(node(id), sizeof(NodeHead) + static_cast<size_t>(m0_) * sizeof(uint32_t));
	}

	/* --- element access ---------------------------------------------------- */

	/* Number of elements added (all complete once every adder has returned). */
	uint32_t
	size() const noexcept
	{
		uint32_t n = std::atomic_ref<uint32_t>(hdr_->next_id).load(std::memory_order_acquire);
		return n < hdr_->params.capacity ? n : hdr_->params.capacity;
	}

	const HnswGraphParams &params() const noexcept { return hdr_->params; }
	const HnswGraphLayout &layout() const noexcept { return hdr_->layout; }

	/* Arena bytes per element at full capacity (header and upper pool included). */
	double
	bytes_per_element() const noexcept
	{
		return static_cast<double>(hdr_->layout.total_bytes) / hdr_->params.capacity;
	}

	/* Vector bytes of element id. */
	const void *
	value(uint32_t id) const noexcept
	{
		return values_ + static_cast<size_t>(id) * value_stride_;
	}

	/* Payload bytes of element id. */
	void *
	payload(uint32_t id) const noexcept
	{
		return payloads_ + static_cast<size_t>(id) * hdr_->params.payload_bytes;
	}

	/* Cache lines of a vector that distance objects prefetch (default: the whole vector, at most 16). */
	void set_prefetch_lines(uint32_t lines) noexcept { prefetch_lines_ = lines; }

	/* A QueryDistance from query (value_bytes bytes, same encoding as stored values) to elements. */
	template <class Metric>
	ArenaQueryDistance<Metric>
	query_distance(const Metric &metric, const void *query) const noexcept
	{
		return ArenaQueryDistance<Metric>{values_, value_stride_, prefetch_lines_, query, metric};
	}

	/* --- insertion --------------------------------------------------------- */

	/*
	 * Add an element with the given vector (value_bytes), payload (payload_bytes;
	 * may be null if 0) and level (from level_from_uniform), and link it in.
	 * The neighbour search runs on the caller's value before any arena space is
	 * taken. If on_dup is given (a callable bool(uint32_t existing_id)) and the
	 * search finds an element with byte-identical value, on_dup is called under
	 * that element's node lock; if it returns true (it absorbed the row, e.g.
	 * appended a heap TID to the payload, as pgvector keeps up to 10 per
	 * element) nothing is inserted, *merged is set and *id_out is the existing
	 * id. on_dup must be quick and must not call PG. If clamp_level is given
	 * (a callable int(uint32_t id, int level)), it is called once the
	 * element's id is taken and may lower the level (a caller whose storage
	 * depends on the id, such as pages with a fixed room for upper lists per
	 * range of ids; the search ran at the original level and its upper picks
	 * are dropped); it must be quick, lock-free and must not call PG (it may
	 * run under the entry lock). Returns OutOfMemory when the ids or the
	 * upper-list pool are exhausted; the graph stays valid and complete for
	 * every id < size().
	 */
	template <class Metric, class OnDup = std::nullptr_t, class ClampLevel = std::nullptr_t>
	Status
	add(const void *value, const void *payload, int level, const Metric &metric, InsertScratch &s,
		uint32_t *id_out = nullptr, const OnDup &on_dup = nullptr, bool *merged = nullptr,
		const ClampLevel &clamp_level = nullptr) noexcept
	{
		if (merged)
			*merged = false;
		if (level < 0)
			level = 0;
		if (level > kMaxLevel)
			level = kMaxLevel;

		/* Entry point: under Concurrent, keep its lock if this element may become the new top. */
		bool hold_entry = false;
		if constexpr (Policy::kConcurrent) {
			spin_lock(&hdr_->entry_lock);
			uint64_t e = hdr_->entry;
			if (e != kEmptyEntry && level <= static_cast<int>(e >> 32))
				spin_unlock(&hdr_->entry_lock);
			else
				hold_entry = true;
		}
		uint64_t e = load_entry();
		int start = -1; /* highest level with neighbours to link; -1 for the first element */
		if (e != kEmptyEntry) {
			start = find_neighbors(value, static_cast<uint32_t>(e), static_cast<int>(e >> 32), level, metric, s);
			if constexpr (!std::is_same_v<OnDup, std::nullptr_t>) {
				uint32_t existing;
				if (merge_duplicate(value, metric, s, on_dup, &existing)) {
					if (hold_entry)
						spin_unlock(&hdr_->entry_lock);
					if (id_out)
						*id_out = existing;
					if (merged)
						*merged = true;
					return Status::Ok;
				}
			}
		}

		uint32_t id;
		Status st = reserve(value, payload, level, clamp_level, &id);
		if (st == Status::Ok) {
			level = level_of(id); /* as clamped */
			if (start > level)
				start = level;
			if (start >= 0)
				link(id, start, metric, s);
			if (e == kEmptyEntry || level > static_cast<int>(e >> 32))
				store_entry(id, level);
			if (id_out)
				*id_out = id;
		}
		if (hold_entry)
			spin_unlock(&hdr_->entry_lock);
		return st;
	}

	/*
	 * Structural check for tests and a future vx_verify_index: every list count
	 * within capacity, every neighbour id < size(), no self loops or duplicates,
	 * neighbours present on the level, entry point at the top level. Returns
	 * null if sound, else a message (and the offending id in *bad_id). Needs
	 * quiescence (no concurrent writers).
	 */
	const char *
	verify(uint32_t *bad_id) const noexcept
	{
		uint32_t n = size();
		uint64_t e = load_entry();
		*bad_id = kInvalidId;
		if (n == 0)
			return e == kEmptyEntry ? nullptr : "entry point set in an empty graph";
		uint32_t ep = static_cast<uint32_t>(e);
		if (e == kEmptyEntry || ep >= n)
			return "entry point out of range";
		int top = static_cast<int>(e >> 32);
		if (level_of(ep) != top)
			return "entry point level differs from the top level";
		for (uint32_t id = 0; id < n; id++) {
			NodeHead *h = node(id);
			*bad_id = id;
			if (h->level > top)
				return "element above the top level";
			for (int l = 0; l <= h->level; l++) {
				uint32_t *count, *ids;
				list_of(h, l, &count, &ids);
				if (*count > (l == 0 ? m0_ : m_))
					return "neighbour count above capacity";
				for (uint32_t i = 0; i < *count; i++) {
					if (ids[i] >= n)
						return "neighbour id out of range";
					if (ids[i] == id)
						return "self loop";
					if (node(ids[i])->level < l)
						return "neighbour absent from the level";
					for (uint32_t j = 0; j < i; j++)
						if (ids[j] == ids[i])
							return "duplicate neighbour";
				}
			}
		}
		*bad_id = kInvalidId;
		return nullptr;
	}

private:
	/* Node head of id. */
	NodeHead *
	node(uint32_t id) const noexcept
	{
		return reinterpret_cast<NodeHead *>(nodes_ + static_cast<size_t>(id) * node_stride_);
	}

	/* Count word of upper list number idx (its ids follow). */
	uint32_t *
	upper_list(uint32_t idx) const noexcept
	{
		return reinterpret_cast<uint32_t *>(upper_ + static_cast<size_t>(idx) * upper_stride_);
	}

	/* Count and ids of the list of node h on level (<= h->level). */
	void
	list_of(NodeHead *h, int level, uint32_t **count, uint32_t **ids) const noexcept
	{
		if (level == 0) {
			*count = &h->count0;
			*ids = reinterpret_cast<uint32_t *>(h + 1);
		} else {
			*count = upper_list(h->upper + static_cast<uint32_t>(level) - 1);
			*ids = *count + 1;
		}
	}

	/* Entry word, read atomically. */
	uint64_t
	load_entry() const noexcept
	{
		if constexpr (Policy::kConcurrent)
			return std::atomic_ref<uint64_t>(hdr_->entry).load(std::memory_order_acquire);
		else
			return hdr_->entry;
	}

	/* Publish a new entry point (caller holds the entry lock under Concurrent). */
	void
	store_entry(uint32_t id, int level) noexcept
	{
		uint64_t e = static_cast<uint64_t>(id) | (static_cast<uint64_t>(level) << 32);
		if constexpr (Policy::kConcurrent)
			std::atomic_ref<uint64_t>(hdr_->entry).store(e, std::memory_order_release);
		else
			hdr_->entry = e;
	}

	/* Allocator bump: atomic under Concurrent. */
	static uint32_t
	fetch_add(uint32_t *word, uint32_t v) noexcept
	{
		if constexpr (Policy::kConcurrent)
			return std::atomic_ref<uint32_t>(*word).fetch_add(v, std::memory_order_acq_rel);
		uint32_t old = *word;
		*word = old + v;
		return old;
	}

	/* Lock a node's lists (no-op when single-threaded). */
	static void
	lock_node(NodeHead *h) noexcept
	{
		if constexpr (Policy::kConcurrent)
			spin_lock(&h->lock);
	}

	/* Unlock a node's lists (no-op when single-threaded). */
	static void
	unlock_node(NodeHead *h) noexcept
	{
		if constexpr (Policy::kConcurrent)
			spin_unlock(&h->lock);
	}

	/* Phase 1 (read-only): find_insert_neighbors() for value; see hnsw_algo.hpp. */
	template <class Metric>
	int
	find_neighbors(const void *value, uint32_t ep, int top, int level, const Metric &metric, InsertScratch &s) noexcept
	{
		const HnswGraphParams &p = hdr_->params;
		InsertParams ip{p.m, p.ef_construction, p.insert_degree0, p.keep_pruned != 0};
		auto pair_dist = [this, &metric](uint32_t a, uint32_t b) { return metric(this->value(a), this->value(b)); };
		/* no id yet (reserve() comes after the search), so nothing to exclude; ties are ordered
		 * as seen from the id the element will most likely get (exactly it when single-threaded) */
		uint32_t next;
		if constexpr (Policy::kConcurrent)
			next = std::atomic_ref<uint32_t>(hdr_->next_id).load(std::memory_order_relaxed);
		else
			next = hdr_->next_id;
		return find_insert_neighbors(*this, query_distance(metric, value), pair_dist, ep, top, level, kInvalidId, next,
									 ip, s);
	}

	/* Offer each level-0 result with a byte-identical value to on_dup until one absorbs the row. */
	template <class Metric, class OnDup>
	bool
	merge_duplicate(const void *value, const Metric &metric, InsertScratch &s, const OnDup &on_dup,
					uint32_t *existing) noexcept
	{
		/* A duplicate is at exactly the self-distance (the kernels are deterministic). */
		float self = metric(value, value);
		for (uint32_t i = 0; i < s.nw; i++) {
			if (s.w[i].dist != self || std::memcmp(this->value(s.w[i].id), value, hdr_->params.value_bytes) != 0)
				continue;
			NodeHead *h = node(s.w[i].id);
			lock_node(h); /* serialises on_dup calls that update the same element's payload */
			bool absorbed = on_dup(s.w[i].id);
			unlock_node(h);
			if (absorbed) {
				*existing = s.w[i].id;
				return true;
			}
		}
		return false;
	}

	/*
	 * Take upper lists and an id, let clamp_level lower the level, and write the element's node, value and
	 * payload (not yet reachable). Lists of levels the clamp removed stay unused.
	 */
	template <class ClampLevel>
	Status
	reserve(const void *value, const void *payload, int level, const ClampLevel &clamp_level, uint32_t *id_out) noexcept
	{
		const HnswGraphParams &p = hdr_->params;
		/* Upper lists first, then the id: a failure never leaves an id without its lists. */
		uint32_t upper = kInvalidId;
		if (level > 0) {
			upper = fetch_add(&hdr_->upper_used, static_cast<uint32_t>(level));
			uint32_t cap = hdr_->layout.upper_capacity;
			if (upper > cap || static_cast<uint32_t>(level) > cap - upper)
				return Status::OutOfMemory;
		}
		uint32_t id = fetch_add(&hdr_->next_id, 1);
		if (id >= p.capacity)
			return Status::OutOfMemory;
		if constexpr (!std::is_same_v<ClampLevel, std::nullptr_t>)
			level = std::clamp(clamp_level(id, level), 0, level);

		NodeHead *h = node(id);
		h->lock = 0;
		h->level = static_cast<uint8_t>(level);
		h->unused = 0;
		h->upper = upper;
		h->count0 = 0;
		for (int l = 1; l <= level; l++)
			*upper_list(upper + l - 1) = 0;
		std::memcpy(values_ + static_cast<size_t>(id) * value_stride_, value, p.value_bytes);
		if (p.payload_bytes > 0)
			std::memcpy(this->payload(id), payload, p.payload_bytes);
		*id_out = id;
		return Status::Ok;
	}

	/* Phases 2 and 3: publish id's own lists from s.selected, then add back-links one neighbour lock at a time. */
	template <class Metric>
	void
	link(uint32_t id, int start, const Metric &metric, InsertScratch &s) noexcept
	{
		auto pair_dist = [this, &metric](uint32_t a, uint32_t b) { return metric(value(a), value(b)); };
		NodeHead *h = node(id);
		lock_node(h);
		for (int l = start; l >= 0; l--) {
			uint32_t *count, *ids;
			list_of(h, l, &count, &ids);
			const Candidate *sel = s.selected_at(l);
			uint32_t k = 0;
			for (uint32_t i = 0; i < s.selected_count[l]; i++)
				if (sel[i].id != id) /* never a self link (the search ran before id existed) */
					ids[k++] = sel[i].id;
			*count = k;
		}
		unlock_node(h);

		/* The element becomes reachable with the first back-link. */
		for (int l = start; l >= 0; l--) {
			const Candidate *sel = s.selected_at(l);
			for (uint32_t i = 0; i < s.selected_count[l]; i++)
				if (sel[i].id != id)
					add_link(sel[i].id, Candidate{sel[i].dist, id}, l, metric, pair_dist, s);
		}
	}

	/* Add link nb -> c.id on level; if nb's list is full, reselect it with the heuristic. */
	template <class Metric, class PairDist>
	void
	add_link(uint32_t nb, Candidate c, int level, const Metric &metric, const PairDist &pair_dist,
			 InsertScratch &s) noexcept
	{
		NodeHead *h = node(nb);
		uint32_t cap = level == 0 ? m0_ : m_;
		uint32_t *count, *ids;
		list_of(h, level, &count, &ids);

		lock_node(h);
		uint32_t n = *count;
		if (n < cap) {
			ids[n] = c.id;
			*count = n + 1;
			unlock_node(h);
			return;
		}
		/* Full: reselect among the current neighbours and the new element, still under nb's lock. */
		const void *vnb = value(nb);
		for (uint32_t i = 0; i < n; i++)
			__builtin_prefetch(value(ids[i]), 0, 3);
		auto base_dist = [this, &metric, vnb](uint32_t x) { return metric(vnb, value(x)); };
		uint32_t k = reselect_neighbors(nb, ids, n, c, cap, hdr_->params.keep_pruned != 0, base_dist, pair_dist, s);
		for (uint32_t i = 0; i < k; i++)
			ids[i] = s.shrink_out[i].id;
		*count = k;
		unlock_node(h);
	}

	HnswGraphHeader *hdr_ = nullptr;
	std::byte *nodes_ = nullptr;
	std::byte *values_ = nullptr;
	std::byte *payloads_ = nullptr;
	std::byte *upper_ = nullptr;
	uint32_t node_stride_ = 0;
	uint32_t value_stride_ = 0;
	uint32_t upper_stride_ = 0;
	uint32_t m_ = 0;
	uint32_t m0_ = 0;
	uint32_t prefetch_lines_ = 0;
};

/*
 * Insert rows claimed one at a time from the shared cursor *next_row (a
 * uint32 in shared memory, bumped atomically) until n_rows are taken. row(i,
 * &value, &payload) supplies row i; levels come from rng (one per worker).
 * Polls interrupt_flag (if not null) before every row and returns Interrupted
 * when it is set; the graph is then valid for every id < size(). Several
 * workers may run this at once on a Concurrent graph.
 */
template <class Policy, class Metric, class RowFn>
Status
build_rows(HnswGraph<Policy> &g, uint32_t n_rows, uint32_t *next_row, const RowFn &row, const Metric &metric,
		   SplitMix64 &rng, InsertScratch &s, const volatile int *interrupt_flag) noexcept
{
	double ml = level_multiplier(g.params().m);
	for (;;) {
		if (interrupt_flag != nullptr && *interrupt_flag != 0)
			return Status::Interrupted;
		uint32_t i = std::atomic_ref<uint32_t>(*next_row).fetch_add(1, std::memory_order_relaxed);
		if (i >= n_rows)
			return Status::Ok;
		const void *value = nullptr;
		const void *payload = nullptr;
		row(i, &value, &payload);
		Status st = g.add(value, payload, level_from_uniform(rng.uniform(), ml), metric, s);
		if (st != Status::Ok)
			return st;
	}
}

} // namespace vx::core

#endif /* VX_CORE_HNSW_GRAPH_HPP */
