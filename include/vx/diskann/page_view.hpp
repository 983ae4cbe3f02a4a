/*
 * page_view.hpp -- the diskann node pages seen as a vx::core GraphView and
 * QueryDistance (boundary zone: the core's searches run over these, and
 * every method may ereport).
 *
 * Each access pins the node's page (where the backend last saw it, without
 * a buffer-mapping lookup when it can: vx/am/recent.h), takes a share lock,
 * copies what it needs (neighbour ids; or code and factors for a distance)
 * and releases the page at once: a search holds one content lock at a time, never a heavyweight
 * lock. Both adapters are trivially destructible, as the core's searches
 * require (an ERROR longjmps through them).
 *
 * Ids at or above `limit` (the next_id the search read from the metapage)
 * belong to inserts the scan's snapshot cannot see: they are ignored.
 */
#ifndef VX_DISKANN_PAGE_VIEW_HPP
#define VX_DISKANN_PAGE_VIEW_HPP

#include "vx/diskann/diskann.h"

#include "vx/core/hnsw_algo.hpp"

#include <limits>
#include <span>
#include <type_traits>

/* What the last distance read learned about its node. */
typedef struct DiskannNodeSeen
{
	DiskannId id;
	uint8 flags;
	uint32 version;
	ItemPointerData heap_tid;
	bool want_labels; /* copy the labels too (a scan with a label filter) */
	uint8 nlabels;	  /* or DISKANN_LABELS_OVERFLOW */
	int16 labels[DISKANN_MAX_NODE_LABELS];
} DiskannNodeSeen;

/* Node pages as a one-level graph. */
struct DiskannPageGraph
{
	DiskannIndexData *di;
	DiskannId limit;
	DiskannId self; /* never listed (an insert's own id), or DISKANN_INVALID_ID */

	uint32_t entry_point() const { return di->meta.entry_id; }
	int max_level() const { return 0; }
	int level_of(uint32_t) const { return 0; }
	uint32_t max_degree() const { return di->meta.num_neighbors; }

	/* Copy id's neighbour ids (those below limit) into buf. */
	std::span<const uint32_t>
	neighbors(uint32_t id, int level, uint32_t *buf) const
	{
		const DiskannMetaPageData *meta = &di->meta;
		BlockNumber blkno = DiskannNodeBlock(meta, id);
		Buffer b = DiskannPinNodePage(di, blkno);
		Page page;
		DiskannNode *node;
		uint32_t n = 0;

		LockBuffer(b, BUFFER_LOCK_SHARE);
		page = BufferGetPage(b);
		node = DiskannNodeOf(page, meta, id);
		if (node->flags != DISKANN_NODE_UNUSED) {
			const DiskannId *ids = DiskannNodeNeighbors(node, meta);
			uint32_t count = Min((uint32_t) node->nneighbors, (uint32_t) meta->num_neighbors);

			for (uint32_t i = 0; i < count; i++)
				if (ids[i] < limit && ids[i] != self)
					buf[n++] = ids[i];
		}
		UnlockReleaseBuffer(b);
		return std::span<const uint32_t>(buf, n);
	}
};

/* Estimated distance from a prepared query to a node, from its code on the node page. */
struct DiskannPageDistance
{
	DiskannIndexData *di;
	const vx::core::QueryCode *qc;
	vx::core::EstimateMetric metric;
	DiskannNodeSeen *seen; /* what the last call read (may be NULL) */

	float
	operator()(uint32_t id) const
	{
		const DiskannMetaPageData *meta = &di->meta;
		BlockNumber blkno = DiskannNodeBlock(meta, id);
		Buffer b = DiskannPinNodePage(di, blkno);
		Page page;
		DiskannNode *node;
		float d = std::numeric_limits<float>::infinity();

		LockBuffer(b, BUFFER_LOCK_SHARE);
		page = BufferGetPage(b);
		node = DiskannNodeOf(page, meta, id);
		if (node->flags != DISKANN_NODE_UNUSED)
			d = di->quantizer.estimate(*qc, DiskannNodeCode(node), *DiskannNodeFactors(node), metric);
		if (seen != NULL) {
			seen->id = id;
			seen->flags = node->flags;
			seen->version = node->version;
			seen->heap_tid = node->heap_tid;
			if (seen->want_labels) {
				seen->nlabels = node->nlabels;
				memcpy(seen->labels, DiskannNodeLabels(node, meta),
					   sizeof(int16) * DiskannStoredLabels(node->nlabels, meta->label_capacity));
			}
		}
		UnlockReleaseBuffer(b);
		return d;
	}

	/* Start fetching id's node (DiskannPrefetchNode). */
	void
	prefetch(uint32_t id) const
	{
		DiskannPrefetchNode(di, id);
	}
};

static_assert(std::is_trivially_destructible_v<DiskannPageGraph>, "longjmp crosses the graph view");
static_assert(std::is_trivially_destructible_v<DiskannPageDistance>, "longjmp crosses the distance");
static_assert(vx::core::GraphView<DiskannPageGraph>);
static_assert(vx::core::QueryDistance<DiskannPageDistance>);

#endif /* VX_DISKANN_PAGE_VIEW_HPP */
