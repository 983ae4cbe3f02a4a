/*
 * build_graph.cpp -- the PG-zone wrapper around the in-memory build graph of
 * vx::core (HnswGraph<SingleThreaded>): one 64-byte aligned arena, sized for
 * maintenance_work_mem, holding every element's vector, heap TID (payload)
 * and neighbour lists.
 *
 * Values in the arena are the raw elements for vector, halfvec and bit (the
 * core's kernel metrics), and the whole datum for sparsevec (a metric over
 * datums, slot-sized for HNSW_MAX_SPARSE_NNZ non-zeros). HnswBuildGraphVector
 * turns a raw value back into a datum for the vector pages.
 *
 * All core objects here are trivially destructible and live in the build's
 * graph context, so an ERROR raised anywhere during the build frees them
 * with the context (conventions, section 5).
 */
#include "vx/pg.h"

#include "vx/core/hnsw_graph.hpp"
#include "vx/hnsw/hnsw.h"
#include "vx/kernels/kernels.hpp"
#include "vx/types/halfvec.h"
#include "vx/types/sparsevec.h"
#include "vx/types/vector.h"

using vx::core::HnswGraph;
using vx::core::HnswGraphParams;
using vx::core::InsertScratch;
using vx::core::SingleThreaded;
using vx::core::Status;

namespace {

/* Distance between two sparsevec datums stored in the arena (noexcept: the kernels are). */
struct MetricDatum
{
	const HnswDistanceData *dist;

	float
	operator()(const void *a, const void *b) const noexcept
	{
		return dist->fn(dist, static_cast<const char *>(a), static_cast<const char *>(b));
	}
};

/* Everything the wrapper keeps (trivially destructible; palloc'd). */
struct BuildGraphImpl
{
	HnswGraph<SingleThreaded> graph;
	InsertScratch scratch;
	HnswGraphParams params;
	char *datum; /* one datum rebuilt from a raw value, or a padded sparsevec value */
	Size arena_bytes;
};

static_assert(std::is_trivially_destructible_v<BuildGraphImpl>, "build graph state must survive longjmp");

/* Bytes of the arena value of one element. */
uint32
HnswValueBytes(const HnswMetaPageData *meta)
{
	switch ((HnswElemKind) meta->elem_kind) {
	case HNSW_ELEM_F32:
		return meta->dimensions * sizeof(float);
	case HNSW_ELEM_F16:
		return meta->dimensions * sizeof(half);
	case HNSW_ELEM_BIT:
		return (meta->dimensions + 7) / 8;
	case HNSW_ELEM_SPARSE:
		return MAXALIGN(HnswDatumMaxSize(HNSW_ELEM_SPARSE, meta->dimensions));
	}
	pg_unreachable();
}

/* Start of the raw elements inside a datum of the index's kind. */
const void *
HnswRawValue(HnswElemKind kind, const char *datum)
{
	switch (kind) {
	case HNSW_ELEM_F32:
		return ((const Vector *) datum)->x;
	case HNSW_ELEM_F16:
		return ((const HalfVector *) datum)->x;
	case HNSW_ELEM_BIT:
		return VARBITS((const VarBit *) datum);
	case HNSW_ELEM_SPARSE:
		return datum;
	}
	pg_unreachable();
}

/* Call add() with the core metric of (kind, metric). */
Status
HnswAddWithMetric(BuildGraphImpl *impl, const HnswDistanceData *dist, const void *value, const void *payload,
				  int level)
{
	const vx::kernels::KernelTable &kt = *(const vx::kernels::KernelTable *) dist->kernels;
	size_t n = dist->dimensions;
	bool ip = dist->metric == HNSW_METRIC_IP || dist->metric == HNSW_METRIC_COSINE;
	auto &g = impl->graph;
	auto &s = impl->scratch;

	switch (dist->kind) {
	case HNSW_ELEM_F32:
		if (ip)
			return g.add(value, payload, level, vx::core::MetricF32NegIp{kt.ip_f32, n}, s);
		return g.add(value, payload, level,
					 vx::core::MetricF32{dist->metric == HNSW_METRIC_L2 ? kt.l2sq_f32 : kt.l1_f32, n}, s);
	case HNSW_ELEM_F16:
		if (ip)
			return g.add(value, payload, level, vx::core::MetricF16NegIp{kt.ip_f16, n}, s);
		return g.add(value, payload, level,
					 vx::core::MetricF16{dist->metric == HNSW_METRIC_L2 ? kt.l2sq_f16 : kt.l1_f16, n}, s);
	case HNSW_ELEM_BIT:
		if (dist->metric == HNSW_METRIC_JACCARD)
			return g.add(value, payload, level, vx::core::MetricJaccard{kt.jaccard, (n + 7) / 8}, s);
		return g.add(value, payload, level, vx::core::MetricHamming{kt.hamming, (n + 7) / 8}, s);
	case HNSW_ELEM_SPARSE:
		return g.add(value, payload, level, MetricDatum{dist}, s);
	}
	pg_unreachable();
}

} // namespace

#define IMPL(graph) ((BuildGraphImpl *) (graph)->impl)

/* Create the graph in an arena of about maintenance_work_mem (at least 1 MB). */
void
HnswBuildGraphInit(HnswBuildGraph graph, MemoryContext ctx, const HnswMetaPageData *meta,
				   const HnswDistanceData *dist)
{
	MemoryContext old = MemoryContextSwitchTo(ctx);
	BuildGraphImpl *impl = palloc0_object(BuildGraphImpl);
	Size budget = Max((Size) maintenance_work_mem * 1024, (Size) 1024 * 1024);
	Size scratch_bytes;
	char *arena;
	Status st;

	impl->params.m = meta->m;
	impl->params.ef_construction = meta->ef_construction;
	impl->params.value_bytes = HnswValueBytes(meta);
	impl->params.payload_bytes = sizeof(ItemPointerData);
	impl->params.keep_pruned = 1;
	impl->params.insert_degree0 = 0;

	/* the scratch (a visited tag per element) is part of the budget */
	impl->params.capacity = vx::core::hnsw_graph_capacity_for(budget, impl->params);
	impl->params.capacity = Max(impl->params.capacity, 16U);
	scratch_bytes = InsertScratch::bytes_needed(impl->params.m, impl->params.ef_construction, impl->params.capacity);
	while (impl->params.capacity > 16 &&
		   vx::core::hnsw_graph_layout(impl->params).total_bytes + scratch_bytes > budget) {
		impl->params.capacity -= impl->params.capacity / 16 + 1;
		scratch_bytes = InsertScratch::bytes_needed(impl->params.m, impl->params.ef_construction, impl->params.capacity);
	}

	impl->arena_bytes = vx::core::hnsw_graph_layout(impl->params).total_bytes;
	arena = (char *) MemoryContextAllocHuge(ctx, impl->arena_bytes + 64);
	arena = (char *) TYPEALIGN(64, arena);
	st = HnswGraph<SingleThreaded>::create(arena, impl->arena_bytes, impl->params, &impl->graph);
	if (st != Status::Ok)
		elog(ERROR, "could not create hnsw build graph: %s", vx::core::status_name(st));
	if (!InsertScratch::carve(MemoryContextAllocHuge(ctx, scratch_bytes), scratch_bytes, impl->params.m,
							  impl->params.ef_construction, impl->params.capacity, &impl->scratch))
		elog(ERROR, "could not set up hnsw build scratch");
	impl->datum = (char *) palloc0(Max(impl->params.value_bytes,
									   HnswDatumMaxSize((HnswElemKind) meta->elem_kind, meta->dimensions)));

	graph->impl = impl;
	graph->ctx = ctx;
	graph->meta = meta;
	graph->dist = dist;
	MemoryContextSwitchTo(old);
}

/*
 * Add element id (must be the graph's size) with this level and datum; false
 * when the arena is full (the element was not added).
 */
bool
HnswBuildGraphInsert(HnswBuildGraph graph, HnswId id, int level, const char *datum, ItemPointer tid)
{
	BuildGraphImpl *impl = IMPL(graph);
	Status st;
	const void *value = HnswRawValue(graph->dist->kind, datum);

	Assert(id == impl->graph.size());
	if (graph->dist->kind == HNSW_ELEM_SPARSE) {
		/* the arena copies value_bytes: pad the datum to the slot size */
		MemSet(impl->datum, 0, impl->params.value_bytes);
		memcpy(impl->datum, datum, VARSIZE_ANY(datum));
		value = impl->datum;
	}
	st = HnswAddWithMetric(impl, graph->dist, value, tid, level);
	if (st == Status::OutOfMemory)
		return false;
	if (st != Status::Ok)
		elog(ERROR, "hnsw build graph insert failed: %s", vx::core::status_name(st));
	return true;
}

/* Number of elements in the graph. */
uint32
HnswBuildGraphSize(HnswBuildGraph graph)
{
	return IMPL(graph)->graph.size();
}

/* Level of element id. */
int
HnswBuildGraphLevel(HnswBuildGraph graph, HnswId id)
{
	return IMPL(graph)->graph.level_of(id);
}

/* Neighbour ids of id on level (pointer into the arena). */
int
HnswBuildGraphNeighbors(HnswBuildGraph graph, HnswId id, int level, const uint32 **ids)
{
	std::span<const uint32_t> nb = IMPL(graph)->graph.neighbors(id, level, NULL);

	*ids = nb.data();
	return (int) nb.size();
}

/* Heap TID of element id. */
ItemPointer
HnswBuildGraphTid(HnswBuildGraph graph, HnswId id)
{
	return (ItemPointer) IMPL(graph)->graph.payload(id);
}

/* Element id as a datum (valid until the next call). */
const char *
HnswBuildGraphVector(HnswBuildGraph graph, HnswId id)
{
	BuildGraphImpl *impl = IMPL(graph);
	const void *raw = impl->graph.value(id);
	uint32 dims = graph->meta->dimensions;
	char *datum = impl->datum;

	switch ((HnswElemKind) graph->meta->elem_kind) {
	case HNSW_ELEM_F32:
		SET_VARSIZE(datum, VECTOR_SIZE(dims));
		((Vector *) datum)->dim = dims;
		((Vector *) datum)->unused = 0;
		memcpy(((Vector *) datum)->x, raw, dims * sizeof(float));
		return datum;
	case HNSW_ELEM_F16:
		SET_VARSIZE(datum, HALFVEC_SIZE(dims));
		((HalfVector *) datum)->dim = dims;
		((HalfVector *) datum)->unused = 0;
		memcpy(((HalfVector *) datum)->x, raw, dims * sizeof(half));
		return datum;
	case HNSW_ELEM_BIT:
		SET_VARSIZE(datum, VARBITTOTALLEN(dims));
		VARBITLEN((VarBit *) datum) = dims;
		memcpy(VARBITS((VarBit *) datum), raw, (dims + 7) / 8);
		return datum;
	case HNSW_ELEM_SPARSE:
		return (const char *) raw;
	}
	pg_unreachable();
}

/* Entry point and its level (HNSW_INVALID_ID, -1 when empty). */
void
HnswBuildGraphEntry(HnswBuildGraph graph, HnswId *entry_id, int16 *entry_level)
{
	BuildGraphImpl *impl = IMPL(graph);

	*entry_id = impl->graph.entry_point();
	*entry_level = (int16) impl->graph.max_level();
}
