/*
 * hnsw.h -- the hnsw index access method: constants, options, page layouts.
 *
 * Layout (see src/hnsw/README.md for the full story):
 *
 *   block 0            metapage (HnswMetaPageData)
 *   blocks 1..         extents, each holding HNSW_EXTENT_ELEMENTS(meta) elements
 *
 * Elements have dense ids (uint32, 0..next_id-1). An element's pages are found
 * by arithmetic on its id, never through a directory, so neighbour lists store
 * 4-byte ids and scans keep an epoch-tagged visited array indexed by id.
 *
 *   extent  = [upper page][group 0][group 1]...[group G-1]
 *   group   = [graph page][vector pages for the group's R elements]
 *
 * The graph page holds R fixed-size HnswGraphRecord slots (level, flags, heap
 * TID, level-0 neighbour ids). The vector pages hold fixed-size vector slots
 * (header + the indexed datum, normalized for cosine), P per page, or one
 * vector spanning several consecutive pages when it is larger than a page.
 * The upper page holds the neighbour lists of levels >= 1 of the extent's
 * elements as ordinary line-pointer items; an element whose upper lists do not
 * fit there gets its level lowered at insert time (levels are random anyway),
 * which keeps every address arithmetic. Blocks are allocated in id order, so
 * the relation only grows as far as the highest id needs.
 *
 * Every page carries HnswPageOpaqueData with a page type and HNSW_PAGE_ID.
 * The metapage carries HNSW_MAGIC and HNSW_VERSION: an index with a different
 * magic (e.g. built by pgvector) is refused with a REINDEX hint.
 */
#ifndef VX_HNSW_HNSW_H
#define VX_HNSW_HNSW_H

#include "vx/pg.h"

#include <cstdint>

/* Identity of our pages. */
#define HNSW_MAGIC 0x56584E48 /* "VXNH" */
#define HNSW_VERSION 1
#define HNSW_PAGE_ID 0xFF91

#define HNSW_METAPAGE_BLKNO 0

/* Page types (HnswPageOpaqueData.page_type) */
#define HNSW_PAGE_META 1
#define HNSW_PAGE_UPPER 2
#define HNSW_PAGE_GRAPH 3
#define HNSW_PAGE_VECTOR 4

/* Options and their limits (pgvector's) */
#define HNSW_DEFAULT_M 16
#define HNSW_MIN_M 2
#define HNSW_MAX_M 100
#define HNSW_DEFAULT_EF_CONSTRUCTION 64
#define HNSW_MIN_EF_CONSTRUCTION 4
#define HNSW_MAX_EF_CONSTRUCTION 1000
#define HNSW_DEFAULT_EF_SEARCH 40
#define HNSW_MIN_EF_SEARCH 1
#define HNSW_MAX_EF_SEARCH 10000 /* pgvector stops at 1000; widening is allowed */
#define HNSW_MAX_LEVEL 15

/* Dimension limits of what can be indexed */
#define HNSW_MAX_DIM 16000		/* vector and halfvec */
#define HNSW_MAX_BIT_DIM 64000	/* bit */
#define HNSW_MAX_SPARSE_NNZ 1000 /* sparsevec non-zeros */

/* Support function numbers (pgvector's) */
#define HNSW_DISTANCE_PROC 1
#define HNSW_NORM_PROC 2
#define HNSW_TYPE_INFO_PROC 3

#define HNSW_INVALID_ID UINT32_MAX

typedef uint32_t HnswId;

/* Special space of every page */
typedef struct HnswPageOpaqueData
{
	uint16 page_type;
	uint16 flags;
	uint16 unused;
	uint16 page_id; /* HNSW_PAGE_ID: identifies our pages */
} HnswPageOpaqueData;

typedef HnswPageOpaqueData *HnswPageOpaque;

#define HnswPageGetOpaque(page) ((HnswPageOpaque) PageGetSpecialPointer(page))

/* Element storage kinds (what a vector slot holds) */
typedef enum HnswElemKind
{
	HNSW_ELEM_F32 = 1, /* vector */
	HNSW_ELEM_F16 = 2, /* halfvec */
	HNSW_ELEM_BIT = 3, /* bit */
	HNSW_ELEM_SPARSE = 4 /* sparsevec, slot sized for HNSW_MAX_SPARSE_NNZ */
} HnswElemKind;

/* Metrics (which kernel; cosine is inner product over normalized vectors) */
typedef enum HnswMetric
{
	HNSW_METRIC_L2 = 1,
	HNSW_METRIC_IP = 2,
	HNSW_METRIC_COSINE = 3,
	HNSW_METRIC_L1 = 4,
	HNSW_METRIC_HAMMING = 5,
	HNSW_METRIC_JACCARD = 6
} HnswMetric;

/*
 * Metapage contents. Geometry fields are fixed at build time; the mutable
 * fields (entry point, next_id, free list) change under an exclusive lock on
 * the metapage and are WAL-logged with it.
 */
typedef struct HnswMetaPageData
{
	uint32 magic;
	uint32 version;

	/* what is indexed */
	uint32 dimensions;	 /* elements, or bits for bit */
	uint16 elem_kind;	 /* HnswElemKind */
	uint16 metric;		 /* HnswMetric */
	uint16 m;
	uint16 ef_construction;

	/* geometry */
	uint32 record_size;			/* bytes per HnswGraphRecord incl. 2*m ids, MAXALIGNed */
	uint32 records_per_page;	/* R */
	uint32 vector_slot_size;	/* bytes per vector slot (header + datum), MAXALIGNed */
	uint32 vectors_per_page;	/* P, or 0 when one vector spans pages */
	uint32 pages_per_vector;	/* 1 unless a vector spans pages */
	uint32 vector_pages_per_group;
	uint32 groups_per_extent;	/* G */

	/* mutable state */
	HnswId entry_id;	 /* HNSW_INVALID_ID when empty */
	int16 entry_level;
	uint16 unused;
	HnswId next_id;		 /* ids below this have been allocated */
	HnswId free_head;	 /* first reusable id, chained through records */
	uint64 live_count;	 /* elements not deleted (estimate for costing) */
} HnswMetaPageData;

typedef HnswMetaPageData *HnswMetaPage;

#define HnswPageGetMeta(page) ((HnswMetaPage) PageGetContents(page))

/* Graph record flags */
#define HNSW_RECORD_UNUSED 0x00	 /* slot never used or freed */
#define HNSW_RECORD_LIVE 0x01	 /* element in the graph */
#define HNSW_RECORD_DELETED 0x02 /* heap tuple dead; still traversable until repaired */

/*
 * Fixed-size slot on a graph page. version increments each time the id is
 * reused, and the vector slot carries the same version, so a reader that
 * raced with reuse detects the mismatch and skips the element.
 */
typedef struct HnswGraphRecord
{
	uint8 flags;
	uint8 level;		  /* 0..HNSW_MAX_LEVEL */
	uint16 nneighbors;	  /* valid entries in neighbors[] (level 0) */
	uint32 version;
	ItemPointerData heap_tid;
	OffsetNumber upper_offset; /* item on the extent's upper page, or InvalidOffsetNumber */
	HnswId next_free;		   /* free-list link while UNUSED */
	HnswId neighbors[FLEXIBLE_ARRAY_MEMBER]; /* capacity 2*m */
} HnswGraphRecord;

/* Upper-page item: neighbour lists of levels 1..level, each capacity m. */
typedef struct HnswUpperItem
{
	HnswId id;
	uint8 level;
	uint8 unused[3];
	/* then for each level l in 1..level: uint16 count; uint16 pad; HnswId ids[m] */
} HnswUpperItem;

/* Header of a vector slot; the datum (varlena, as stored in the heap) follows. */
typedef struct HnswVectorSlot
{
	uint32 version; /* matches HnswGraphRecord.version */
	uint32 unused;
	/* varlena datum follows, MAXALIGNed */
} HnswVectorSlot;

/* Where an element lives. */
typedef struct HnswAddress
{
	BlockNumber graph_block;
	uint32 record_index; /* slot on the graph page */
	BlockNumber vector_block;
	uint32 vector_index; /* slot on the vector page (0 when spanning) */
	BlockNumber upper_block;
} HnswAddress;

/* Elements per extent. */
static inline uint32
HnswExtentElements(const HnswMetaPageData *meta)
{
	return meta->records_per_page * meta->groups_per_extent;
}

/* Pages per group and per extent. */
static inline uint32
HnswGroupPages(const HnswMetaPageData *meta)
{
	return 1 + meta->vector_pages_per_group;
}

static inline uint32
HnswExtentPages(const HnswMetaPageData *meta)
{
	return 1 + meta->groups_per_extent * HnswGroupPages(meta);
}

/* Compute an element's blocks from its id: pure arithmetic, no I/O. */
static inline HnswAddress
HnswAddressOf(const HnswMetaPageData *meta, HnswId id)
{
	HnswAddress a;
	uint32 per_extent = HnswExtentElements(meta);
	uint32 extent = id / per_extent;
	uint32 in_extent = id % per_extent;
	uint32 group = in_extent / meta->records_per_page;
	uint32 in_group = in_extent % meta->records_per_page;
	BlockNumber extent_start = 1 + extent * HnswExtentPages(meta);
	BlockNumber group_start = extent_start + 1 + group * HnswGroupPages(meta);

	a.upper_block = extent_start;
	a.graph_block = group_start;
	a.record_index = in_group;
	if (meta->vectors_per_page > 0) {
		a.vector_block = group_start + 1 + in_group / meta->vectors_per_page;
		a.vector_index = in_group % meta->vectors_per_page;
	} else {
		a.vector_block = group_start + 1 + in_group * meta->pages_per_vector;
		a.vector_index = 0;
	}
	return a;
}

#endif /* VX_HNSW_HNSW_H */
