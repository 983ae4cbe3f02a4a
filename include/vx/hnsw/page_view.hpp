/*
 * page_view.hpp -- adapters that let the vx::core HNSW algorithms run over
 * index pages (PG zone, C++): a GraphView, a QueryDistance and a pair
 * distance for the neighbour heuristic.
 *
 * All of them are trivially destructible structs of pointers: their methods
 * read pages through graph.cpp and may raise an ERROR, which longjmps
 * through the core's search frames (allowed by hnsw_algo.hpp's constraint,
 * checked here with static_asserts).
 *
 * Ids at or above the graph's id limit (elements allocated after the reader
 * read the metapage, so invisible to its snapshot) are never entered;
 * unwritten vector slots get an infinite distance. Ids below the limit are
 * allocated, so their pages exist.
 */
#ifndef VX_HNSW_PAGE_VIEW_HPP
#define VX_HNSW_PAGE_VIEW_HPP

#include "vx/core/hnsw_algo.hpp"
#include "vx/hnsw/hnsw.h"

#include <limits>
#include <span>
#include <type_traits>

/*
 * GraphView over pages. Neighbour ids at or above limit (the next_id the
 * reader saw) are dropped: they belong to inserts its snapshot cannot see,
 * and a VisitedSet sized for limit ids can then be used as is. So is
 * exclude: an insert's own id (HNSW_INVALID_ID for scans). An id vacuum
 * freed can still be named by links written after vacuum's repair pass;
 * when an insert reuses it, its search would otherwise reach its own,
 * not yet written, record (whose slot still holds the old vector) and could
 * pick itself as a neighbour.
 */
struct HnswPageGraph
{
	HnswView view;
	uint32_t limit;
	uint32_t exclude;

	uint32_t entry_point() const { return view->meta.entry_id; }
	int max_level() const { return view->meta.entry_level; }
	uint32_t max_degree() const { return 2 * view->meta.m; }

	int
	level_of(uint32_t id) const
	{
		HnswRecordInfo info;

		return HnswViewRecord(view, id, 0, NULL, &info) < 0 ? 0 : info.level;
	}

	std::span<const uint32_t>
	neighbors(uint32_t id, int level, uint32_t *buf) const
	{
		HnswRecordInfo info;
		int n = HnswViewRecord(view, id, level, buf, &info);
		uint32_t k = 0;

		for (int i = 0; i < n; i++)
			if (buf[i] < limit && buf[i] != exclude)
				buf[k++] = buf[i];
		return std::span<const uint32_t>(buf, k);
	}
};

/* Distance from a fixed datum to elements on pages (0 to all for a NULL query). */
struct HnswPageDistance
{
	HnswView view;
	const char *query; /* datum of the index's kind (normalized for cosine), or NULL */

	float
	operator()(uint32_t id) const
	{
		float d;
		uint32 version;

		if (query == NULL)
			return 0;
		if (!HnswViewDistance(view, id, query, &d, &version))
			return std::numeric_limits<float>::infinity();
		return d;
	}

	void
	prefetch(uint32_t id) const
	{
		if (query != NULL)
			HnswViewPrefetch(view, id);
	}
};

/*
 * Distances between stored elements for the neighbour heuristic. Vectors
 * are copied from pages once into a small open-addressing table (capacity a
 * power of two), so each pair costs one kernel call and no page access.
 * When the table is half full it is emptied before the next pair is looked
 * up, so the two vectors of a pair are always present together.
 */
struct HnswPairDistance
{
	HnswView view;
	HnswId *ids;   /* table keys, HNSW_INVALID_ID when free */
	char *vectors; /* table values, slot_bytes each */
	uint32_t *count;
	uint32_t mask;
	Size slot_bytes;

	/* Vector of id, copied in on first use. */
	const char *
	vector(uint32_t id) const
	{
		uint32_t i = (id * 0x9E3779B1U) & mask;

		while (ids[i] != id && ids[i] != HNSW_INVALID_ID)
			i = (i + 1) & mask;
		if (ids[i] == HNSW_INVALID_ID) {
			ids[i] = id;
			(*count)++;
			HnswViewCopyVector(view, id, vectors + i * slot_bytes);
		}
		return vectors + i * slot_bytes;
	}

	float
	operator()(uint32_t a, uint32_t b) const
	{
		const char *va;

		if (*count + 2 > (mask + 1) / 2)
			clear();
		va = vector(a);
		return view->dist->fn(view->dist, va, vector(b));
	}

	/* Forget every vector. */
	void
	clear() const
	{
		for (uint32_t i = 0; i <= mask; i++)
			ids[i] = HNSW_INVALID_ID;
		*count = 0;
	}
};

static_assert(std::is_trivially_destructible_v<HnswPageGraph>);
static_assert(std::is_trivially_destructible_v<HnswPageDistance>);
static_assert(std::is_trivially_destructible_v<HnswPairDistance>);
static_assert(vx::core::GraphView<HnswPageGraph>);
static_assert(vx::core::QueryDistance<HnswPageDistance>);

/* graph.cpp: set up a pair-distance table for at least n distinct elements at a time. */
void HnswPairDistanceInit(HnswPairDistance *pd, HnswView view, uint32 n);

#endif /* VX_HNSW_PAGE_VIEW_HPP */
