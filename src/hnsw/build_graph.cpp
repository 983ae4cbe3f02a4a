/*
 * build_graph.cpp -- the PG-zone wrapper around the in-memory build graph of
 * vx::core (HnswGraph): one 64-byte aligned arena holding every element's
 * vector, heap TID (payload) and neighbour lists, inside a "build area"
 * sized for maintenance_work_mem.
 *
 * Build area (no pointers: a parallel build maps it at a different address
 * in every process):
 *
 *   HnswBuildAreaHeader   offsets, the room counters of the extents' upper
 *                         pages (uint32 each, updated with atomic CAS)
 *   padding to 64 bytes   (absolute addresses: dynamic shared memory
 *                         segments are page aligned, so the padding is the
 *                         same in every process)
 *   core graph arena
 *
 * A graph created for several processes is inserted into through the core's
 * Concurrent policy (per-node spinlocks in the arena, atomic id and list
 * allocators); the flush reads it through a SingleThreaded handle on the
 * same arena once every inserter is done. Element ids come from the graph's
 * allocator; an element's level is then lowered, if needed, until its upper
 * lists fit on the upper page of its extent (the core's clamp_level hook,
 * called once the id is known), so the graph and the pages always agree.
 *
 * Values in the arena are the raw elements for vector, halfvec and bit (the
 * core's kernel metrics), and the whole datum for sparsevec (a metric over
 * datums, slot-sized for HNSW_MAX_SPARSE_NNZ non-zeros): the kind's raw
 * value (VxElemTraits, include/vx/am/elem.h). HnswBuildGraphVector turns a
 * raw value back into a datum for the vector pages. The same metrics
 * serve on-page inserts after a flush (HnswMemVectors), so an element's
 * distance is the same bits whether its vector is read here or on its page.
 *
 * All core objects here are trivially destructible and live in the build's
 * graph context (or the shared segment), so an ERROR raised anywhere during
 * the build frees them with the context (ARCHITECTURE.md, "Zones and
 * errors"). Every function the core calls back (metric, clamp) is noexcept
 * and calls no PG.
 */
#include "vx/pg.h"

#include "vx/core/hnsw_graph.hpp"
#include "vx/hnsw/build.h"
#include "vx/kernels/kernels.hpp"

#include <atomic>

using vx::core::Concurrent;
using vx::core::HnswGraph;
using vx::core::HnswGraphParams;
using vx::core::InsertScratch;
using vx::core::SingleThreaded;
using vx::core::Status;

/* Start of a build area. */
typedef struct HnswBuildAreaHeader
{
	uint64 arena_off;	 /* from the area's start */
	uint64 arena_bytes;
	uint32 extents;		 /* entries of upper_used */
	uint32 extent_elements;
	uint32 upper_used[FLEXIBLE_ARRAY_MEMBER]; /* bytes taken on each extent's upper page */
} HnswBuildAreaHeader;

namespace {

/* Distance between two sparsevec datums stored in the arena (noexcept: the kernels are). */
struct MetricDatum
{
	const VxDistanceData *dist;

	float
	operator()(const void *a, const void *b) const noexcept
	{
		return dist->fn(dist, static_cast<const char *>(a), static_cast<const char *>(b));
	}
};

/* One process's handles on the area (trivially destructible; palloc'd). */
struct BuildGraphImpl
{
	HnswGraph<SingleThreaded> single; /* reads; inserts of a serial build */
	HnswGraph<Concurrent> shared;	  /* inserts of a parallel build */
	bool concurrent;
	InsertScratch scratch;
	HnswBuildAreaHeader *area;
	uint32 upper_item_bytes[HNSW_MAX_LEVEL + 1]; /* upper item plus line pointer, per level */
	uint32 value_bytes;
	const VxElemTraits *traits; /* of the index's kind */
	char *datum; /* one datum rebuilt from a raw value, or a padded sparsevec value */
};

static_assert(std::is_trivially_destructible_v<BuildGraphImpl>, "build graph state must survive longjmp");

/* Call fn(metric) with the core metric of dist's (kind, metric); the same bits as dist->fn. */
template <class Fn>
auto
HnswWithMetric(const VxDistanceData *dist, const Fn &fn)
{
	const vx::kernels::KernelTable &kt = *(const vx::kernels::KernelTable *) dist->kernels;
	size_t n = dist->dimensions;
	bool ip = dist->metric == VX_METRIC_IP || dist->metric == VX_METRIC_COSINE;

	switch (dist->kind) {
	case VX_ELEM_F32:
		if (ip)
			return fn(vx::core::MetricF32NegIp{kt.ip_f32, n});
		return fn(vx::core::MetricF32{dist->metric == VX_METRIC_L2 ? kt.l2sq_f32 : kt.l1_f32, n});
	case VX_ELEM_F16:
		if (ip)
			return fn(vx::core::MetricF16NegIp{kt.ip_f16, n});
		return fn(vx::core::MetricF16{dist->metric == VX_METRIC_L2 ? kt.l2sq_f16 : kt.l1_f16, n});
	case VX_ELEM_BIT:
		if (dist->metric == VX_METRIC_JACCARD)
			return fn(vx::core::MetricJaccard{kt.jaccard, (n + 7) / 8});
		return fn(vx::core::MetricHamming{kt.hamming, (n + 7) / 8});
	case VX_ELEM_SPARSE:
		return fn(MetricDatum{dist});
	}
	pg_unreachable();
}

/* The core graph parameters for this index, without capacity. */
HnswGraphParams
HnswBuildParams(const HnswMetaPageData *meta)
{
	HnswGraphParams p;

	p.m = meta->m;
	p.ef_construction = meta->ef_construction;
	/* sparsevec: whole datums, slot-sized */
	p.value_bytes = VxElemTraitsOf((VxElemKind) meta->elem_kind)->raw_bytes(meta->dimensions, HNSW_MAX_SPARSE_NNZ);
	p.payload_bytes = sizeof(ItemPointerData);
	p.keep_pruned = 1;
	p.insert_degree0 = 0;
	p.capacity = 0;
	return p;
}

/* Bytes of the area header for a graph of capacity elements, padding for the arena's alignment included. */
Size
HnswAreaHeaderBytes(const HnswMetaPageData *meta, uint32 capacity)
{
	uint32 extents = capacity / HnswExtentElements(meta) + 1;

	return offsetof(HnswBuildAreaHeader, upper_used) + (Size) extents * sizeof(uint32) + 64;
}

/*
 * The parameters of the area's graph: the largest capacity whose area and
 * per-participant insert scratch (a visited tag per element) fit in budget,
 * capped near max_elements (if > 0); at least 16 elements.
 */
HnswGraphParams
HnswPlanArea(const HnswMetaPageData *meta, Size budget, int participants, double max_elements)
{
	HnswGraphParams p = HnswBuildParams(meta);
	auto need = [&](uint32 capacity) {
		p.capacity = capacity;
		return vx::core::hnsw_graph_layout(p).total_bytes + HnswAreaHeaderBytes(meta, capacity) +
			   participants * InsertScratch::bytes_needed(p.m, p.ef_construction, capacity);
	};
	uint32 capacity = vx::core::hnsw_graph_capacity_for(budget, p);

	if (max_elements > 0 && max_elements < capacity)
		capacity = (uint32) max_elements;
	capacity = Max(capacity, 16U);
	while (capacity > 16 && need(capacity) > budget)
		capacity -= capacity / 16 + 1;
	p.capacity = capacity;
	return p;
}

/* HnswMemVectors: distance from a datum to element id's vector in the arena. */
float
HnswMemDistance(void *arg, const char *datum, uint32 id)
{
	HnswBuildGraph graph = (HnswBuildGraph) arg;
	BuildGraphImpl *impl = (BuildGraphImpl *) graph->impl;
	const void *q = impl->traits->raw(datum);
	const void *v = impl->single.value(id);

	return HnswWithMetric(graph->dist, [q, v](const auto &metric) { return metric(q, v); });
}

/* HnswMemVectors: bytes of element id's vector, to prefetch. */
const void *
HnswMemAddress(void *arg, uint32 id)
{
	return ((BuildGraphImpl *) ((HnswBuildGraph) arg)->impl)->single.value(id);
}

/* Write element id's value as a datum of the index's kind into dest. */
void
HnswMemCopy(void *arg, uint32 id, char *dest)
{
	HnswBuildGraph graph = (HnswBuildGraph) arg;
	BuildGraphImpl *impl = (BuildGraphImpl *) graph->impl;

	impl->traits->make_datum(impl->single.value(id), graph->meta->dimensions, dest);
}

} // namespace

#define IMPL(graph) ((BuildGraphImpl *) (graph)->impl)

/*
 * Bytes of a build area for this index within budget, for participants
 * inserting processes (each with its own scratch, counted in the budget),
 * for at most about max_elements elements (<= 0: no cap).
 */
Size
HnswBuildAreaSize(const HnswMetaPageData *meta, Size budget, int participants, double max_elements)
{
	HnswGraphParams p = HnswPlanArea(meta, budget, participants, max_elements);

	return HnswAreaHeaderBytes(meta, p.capacity) + vx::core::hnsw_graph_layout(p).total_bytes;
}

/* Lay out an empty build area at area (HnswBuildAreaSize bytes for the same arguments). */
void
HnswBuildAreaCreate(char *area, const HnswMetaPageData *meta, Size budget, int participants, double max_elements)
{
	HnswGraphParams p = HnswPlanArea(meta, budget, participants, max_elements);
	Size bytes = HnswBuildAreaSize(meta, budget, participants, max_elements);
	HnswBuildAreaHeader *hdr = (HnswBuildAreaHeader *) area;
	Size header = HnswAreaHeaderBytes(meta, p.capacity) - 64;
	char *arena = (char *) TYPEALIGN(64, area + header);
	HnswGraph<SingleThreaded> g;
	Status st;

	MemSet(hdr, 0, header);
	hdr->extent_elements = HnswExtentElements(meta);
	hdr->extents = p.capacity / hdr->extent_elements + 1;
	hdr->arena_off = arena - area;
	hdr->arena_bytes = vx::core::hnsw_graph_layout(p).total_bytes;
	if (hdr->arena_off + hdr->arena_bytes > bytes)
		elog(ERROR, "hnsw build area of %zu bytes is too small", bytes);
	st = HnswGraph<SingleThreaded>::create(arena, hdr->arena_bytes, p, &g);
	if (st != Status::Ok)
		elog(ERROR, "could not create hnsw build graph: %s", vx::core::status_name(st));
}

/*
 * Attach this process to the build area at area (created by
 * HnswBuildAreaCreate here or in the leader). concurrent: other processes
 * insert at the same time.
 */
void
HnswBuildGraphAttach(HnswBuildGraph graph, char *area, const HnswMetaPageData *meta, const VxDistanceData *dist,
					 bool concurrent)
{
	HnswBuildAreaHeader *hdr = (HnswBuildAreaHeader *) area;
	BuildGraphImpl *impl = palloc0_object(BuildGraphImpl);
	char *arena = area + hdr->arena_off;
	Size scratch_bytes;

	if ((uintptr_t) arena % 64 != 0)
		elog(ERROR, "hnsw build graph is not aligned in this process");
	if (HnswGraph<SingleThreaded>::attach(arena, hdr->arena_bytes, &impl->single) != Status::Ok ||
		HnswGraph<Concurrent>::attach(arena, hdr->arena_bytes, &impl->shared) != Status::Ok)
		elog(ERROR, "could not attach to the hnsw build graph");
	impl->concurrent = concurrent;
	impl->area = hdr;
	for (int l = 0; l <= HNSW_MAX_LEVEL; l++)
		impl->upper_item_bytes[l] = l == 0 ? 0 : HnswUpperItemSize(meta->m, l) + sizeof(ItemIdData);

	const HnswGraphParams &p = impl->single.params();
	impl->value_bytes = p.value_bytes;
	scratch_bytes = InsertScratch::bytes_needed(p.m, p.ef_construction, p.capacity);
	if (!InsertScratch::carve(MemoryContextAllocHuge(CurrentMemoryContext, scratch_bytes), scratch_bytes, p.m,
							  p.ef_construction, p.capacity, &impl->scratch))
		elog(ERROR, "could not set up hnsw build scratch");
	impl->traits = VxElemTraitsOf(dist->kind);
	impl->datum = (char *) palloc0(Max(p.value_bytes, impl->traits->datum_size(meta->dimensions, HNSW_MAX_SPARSE_NNZ)));

	graph->impl = impl;
	graph->meta = meta;
	graph->dist = dist;
	MemSet(&graph->mem, 0, sizeof(graph->mem));
}

/*
 * Add a datum with this level (lowered if its extent's upper page has no
 * room left) and its heap TID; the element gets the graph's next id. False
 * when the arena is full (the element was not added).
 */
bool
HnswBuildGraphInsert(HnswBuildGraph graph, int level, const char *datum, ItemPointer tid)
{
	BuildGraphImpl *impl = IMPL(graph);
	const void *value = impl->traits->raw(datum);
	HnswBuildAreaHeader *area = impl->area;
	const uint32 *item_bytes = impl->upper_item_bytes;
	Status st;

	/* called by the core once the id is known; may run under the entry lock: a CAS, nothing else */
	auto clamp = [area, item_bytes](uint32_t id, int lvl) noexcept {
		std::atomic_ref<uint32_t> used(area->upper_used[id / area->extent_elements]);
		uint32_t cur = used.load(std::memory_order_relaxed);

		for (;;) {
			while (lvl > 0 && cur + item_bytes[lvl] > HNSW_PAGE_CAPACITY)
				lvl--;
			if (lvl == 0 || used.compare_exchange_weak(cur, cur + item_bytes[lvl], std::memory_order_relaxed))
				return lvl;
		}
	};

	if (graph->dist->kind == VX_ELEM_SPARSE) {
		/* the arena copies value_bytes: pad the datum to the slot size */
		MemSet(impl->datum, 0, impl->value_bytes);
		memcpy(impl->datum, datum, VARSIZE_ANY(datum));
		value = impl->datum;
	}
	st = HnswWithMetric(graph->dist, [&](const auto &metric) {
		if (impl->concurrent)
			return impl->shared.add(value, tid, level, metric, impl->scratch, nullptr, nullptr, nullptr, clamp);
		return impl->single.add(value, tid, level, metric, impl->scratch, nullptr, nullptr, nullptr, clamp);
	});
	if (st == Status::OutOfMemory)
		return false;
	if (st != Status::Ok)
		elog(ERROR, "hnsw build graph insert failed: %s", vx::core::status_name(st));
	return true;
}

/* Number of elements in the graph (all complete once no process inserts). */
uint32
HnswBuildGraphSize(HnswBuildGraph graph)
{
	return IMPL(graph)->single.size();
}

/* Level of element id. */
int
HnswBuildGraphLevel(HnswBuildGraph graph, HnswId id)
{
	return IMPL(graph)->single.level_of(id);
}

/* Neighbour ids of id on level (pointer into the arena; no process may be inserting). */
int
HnswBuildGraphNeighbors(HnswBuildGraph graph, HnswId id, int level, const uint32 **ids)
{
	std::span<const uint32_t> nb = IMPL(graph)->single.neighbors(id, level, NULL);

	*ids = nb.data();
	return (int) nb.size();
}

/* Heap TID of element id. */
ItemPointer
HnswBuildGraphTid(HnswBuildGraph graph, HnswId id)
{
	return (ItemPointer) IMPL(graph)->single.payload(id);
}

/* Element id as a datum (valid until the next call). */
const char *
HnswBuildGraphVector(HnswBuildGraph graph, HnswId id)
{
	BuildGraphImpl *impl = IMPL(graph);

	if (graph->dist->kind == VX_ELEM_SPARSE)
		return (const char *) impl->single.value(id);
	HnswMemCopy(graph, id, impl->datum);
	return impl->datum;
}

/* Entry point and its level (HNSW_INVALID_ID, -1 when empty). */
void
HnswBuildGraphEntry(HnswBuildGraph graph, HnswId *entry_id, int16 *entry_level)
{
	BuildGraphImpl *impl = IMPL(graph);

	*entry_id = impl->single.entry_point();
	*entry_level = (int16) impl->single.max_level();
}

/* The graph's vectors for on-page inserts after the flush (ids below the current size). */
const HnswMemVectors *
HnswBuildGraphMemVectors(HnswBuildGraph graph)
{
	graph->mem.count = HnswBuildGraphSize(graph);
	graph->mem.arg = graph;
	graph->mem.distance = HnswMemDistance;
	graph->mem.copy = HnswMemCopy;
	graph->mem.address = HnswMemAddress;
	return &graph->mem;
}
