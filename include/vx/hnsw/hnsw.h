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
 * (a version, then the indexed datum, normalized for cosine) laid back to
 * back over the contents of the group's vector pages as one byte stream, in
 * runs of slots_per_run slots that start on a page boundary: either whole
 * slots per page (a run is one page) or, when that wastes space, the whole
 * group packed as one run, where a slot may straddle two or more pages.
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

#include "vx/am/distance.h"
#include "vx/am/elem.h"

#include <cstdint>

/* Identity of our pages. */
#define HNSW_MAGIC 0x56584E48 /* "VXNH" */
#define HNSW_VERSION 2 /* 1: whole slots only, 8-byte slot header, MAXALIGNed records */
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

/*
 * pgvector keeps up to this many heap TIDs per element (identical vectors
 * share one); here each copy is an element, and a non-iterative scan returns
 * up to HNSW_HEAPTIDS - 1 ties per result so it returns no fewer rows.
 */
#define HNSW_HEAPTIDS 10

/* Dimension limits of what can be indexed */
#define HNSW_MAX_DIM 16000		/* vector and halfvec */
#define HNSW_MAX_BIT_DIM 64000	/* bit */
#define HNSW_MAX_SPARSE_NNZ 1000 /* sparsevec non-zeros */

/* Support function numbers (pgvector's; VxGetMetric reads 1 and 2) */
#define HNSW_DISTANCE_PROC VX_DISTANCE_PROC
#define HNSW_NORM_PROC VX_NORM_PROC
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
	uint16 elem_kind;	 /* VxElemKind */
	uint16 metric;		 /* VxMetric */
	uint16 m;
	uint16 ef_construction;

	/* geometry */
	uint32 record_size;			/* bytes per HnswGraphRecord incl. 2*m ids, a multiple of 4 */
	uint32 records_per_page;	/* R */
	uint32 vector_slot_size;	/* S: bytes per vector slot (version + datum), a multiple of 4 */
	uint32 slots_per_run;		/* slots packed back to back from a page boundary */
	uint32 pages_per_run;		/* pages one run takes */
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

/*
 * Header of a vector slot; the datum (varlena, as stored in the heap)
 * follows at offset 4, so it is 4-byte aligned (all our datums need: int32
 * headers, float, half), not MAXALIGNed.
 */
typedef struct HnswVectorSlot
{
	uint32 version; /* matches HnswGraphRecord.version; 0: never written */
	/* varlena datum follows */
} HnswVectorSlot;

/* Usable bytes of a page's contents (between the header and our special). */
#define HNSW_PAGE_CAPACITY (BLCKSZ - MAXALIGN(SizeOfPageHeaderData) - MAXALIGN(sizeof(HnswPageOpaqueData)))

/* Most pages one vector slot can touch (a 16,000-dimension vector: 9). */
#define HNSW_MAX_SLOT_PAGES 10

/* Where an element lives. */
typedef struct HnswAddress
{
	BlockNumber graph_block;
	uint32 record_index; /* slot on the graph page */
	BlockNumber vector_block; /* first page of the vector slot */
	uint32 vector_offset;	  /* byte offset of the slot in that page's contents */
	uint32 vector_pages;	  /* pages the slot touches: 1, or more when it straddles */
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

	/* the slot's place in the group's stream: its run, then its bytes within the run */
	uint32 run = in_group / meta->slots_per_run;
	uint32 in_run = (in_group % meta->slots_per_run) * meta->vector_slot_size;

	a.upper_block = extent_start;
	a.graph_block = group_start;
	a.record_index = in_group;
	a.vector_block = group_start + 1 + run * meta->pages_per_run + in_run / HNSW_PAGE_CAPACITY;
	a.vector_offset = in_run % HNSW_PAGE_CAPACITY;
	a.vector_pages = (a.vector_offset + meta->vector_slot_size + HNSW_PAGE_CAPACITY - 1) / HNSW_PAGE_CAPACITY;
	return a;
}

/* ------------------------------------------------------------------------
 * Everything below is shared by the files of src/hnsw (PG zone).
 * ------------------------------------------------------------------------ */

/* Bytes of a record header before neighbors[] */
#define HNSW_RECORD_HEADER_SIZE offsetof(HnswGraphRecord, neighbors)

/* Bytes of a vector slot header before the datum */
#define HNSW_VECTOR_HEADER_SIZE sizeof(HnswVectorSlot)

/* Upper-page item: HnswUpperItem, then per level an HnswUpperList of m ids */
typedef struct HnswUpperList
{
	uint16 count;
	uint16 pad;
	HnswId ids[FLEXIBLE_ARRAY_MEMBER];
} HnswUpperList;

/* Magic of pgvector's own hnsw metapage, recognised only to explain the refusal. */
#define HNSW_PGVECTOR_MAGIC 0xA953A953

/* Build phases reported to pg_stat_progress_create_index (1 is "initializing"). */
#define PROGRESS_HNSW_PHASE_LOAD 2
#define PROGRESS_HNSW_PHASE_WRITE 3

/* hnsw.iterative_scan values */
typedef enum HnswIterativeScanMode
{
	HNSW_ITERATIVE_SCAN_OFF,
	HNSW_ITERATIVE_SCAN_RELAXED,
	HNSW_ITERATIVE_SCAN_STRICT
} HnswIterativeScanMode;

/* Parsed reloptions (build_reloptions layout) */
typedef struct HnswOptions
{
	int32 vl_len_; /* varlena header (do not touch directly!) */
	int m;
	int ef_construction;
} HnswOptions;

/* Settings (handler.cpp) */
extern int hnsw_ef_search;
extern int hnsw_iterative_scan;
extern int hnsw_max_scan_tuples;
extern double hnsw_scan_mem_multiplier;

/* One pinned page of a view's pin cache */
typedef struct HnswPinEntry
{
	BlockNumber blkno;
	Buffer buf;
} HnswPinEntry;

/* What a reader learns from a graph record (graph.cpp) */
typedef struct HnswRecordInfo
{
	uint8 flags;
	uint8 level;
	uint32 version;
	ItemPointerData heap_tid;
	OffsetNumber upper_offset;
} HnswRecordInfo;

/*
 * Vectors a build still holds in memory (its graph arena after the flush):
 * elements with ids below count are read from there instead of their pages
 * (graph.cpp). Vectors never change during a build, so both agree.
 */
typedef struct HnswMemVectors
{
	uint32 count;
	void *arg;
	float (*distance)(void *arg, const char *datum, uint32 id); /* from a datum of the index's kind */
	void (*copy)(void *arg, uint32 id, char *dest);			  /* the element's datum */
	const void *(*address)(void *arg, uint32 id);			  /* its bytes, to prefetch */
} HnswMemVectors;

/* The page-backed graph view (graph.cpp): a geometry, a distance, cached pins. */
typedef struct HnswViewData
{
	Relation index;
	HnswMetaPageData meta; /* geometry; mutable fields as of the last metapage read */
	const VxDistanceData *dist;
	HnswPinEntry *cache;
	uint32 cache_mask;
	char *scratch; /* one datum, copied from a slot that straddles pages */
	void *recent;  /* the backend's recent-buffer table of this index (graph.cpp) */
	uint64 distances;
	const HnswMemVectors *mem; /* NULL, or a build's vectors in memory */
} HnswViewData;

typedef HnswViewData *HnswView;

/* handler.cpp */
void HnswInit(void);
int HnswGetM(Relation index);
int HnswGetEfConstruction(Relation index);
double HnswGetMl(int m);
int HnswRandomLevel(pg_prng_state *prng, int m);
int HnswGetMaxLevel(int m);

/* support.cpp */
void HnswInitDistance(VxDistance dist, const HnswMetaPageData *meta);
Datum HnswPrepareValue(const VxDistanceData *dist, Datum value, bool for_index, bool *skip);

/* pages.cpp */
void HnswComputeGeometry(HnswMetaPageData *meta, VxElemKind kind, VxMetric metric, uint32 dimensions, int m,
						 int ef_construction);
void HnswInitPage(Page page, uint16 page_type);
uint16 HnswBlockType(const HnswMetaPageData *meta, BlockNumber blkno);
void HnswInitBlockPage(const HnswMetaPageData *meta, BlockNumber blkno, Page page);
BlockNumber HnswLastBlockOf(const HnswMetaPageData *meta, HnswId id);
void HnswWriteMetaPage(Page page, const HnswMetaPageData *meta);
HnswMetaPage HnswCheckMetaPage(Relation index, Page page);
void HnswReadMeta(Relation index, HnswMetaPageData *meta);
const HnswMetaPageData *HnswGetCachedMeta(Relation index);
Size HnswUpperItemSize(int m, int level);
HnswUpperList *HnswUpperListAt(HnswUpperItem *item, int m, int level);
OffsetNumber HnswAddUpperItem(Page page, HnswId id, int level, int m);
bool HnswUpperFits(Page page, int level, int m);
void HnswCheckPage(Relation index, Page page, uint16 page_type, BlockNumber blkno);
Size HnswVectorPageBytes(const HnswMetaPageData *meta, BlockNumber blkno);
void HnswReadSlot(Page *pages, const HnswMetaPageData *meta, uint32 offset, uint32 *version, char *datum);
void HnswCheckSlotDatum(Relation index, const HnswMetaPageData *meta, HnswId id, const char *datum);
void HnswWriteVectorSlot(Page *pages, const HnswMetaPageData *meta, uint32 offset, uint32 version, const char *datum,
						 uint32 first, uint32 count);

/* Graph record of slot idx on a graph page. */
static inline HnswGraphRecord *
HnswRecordAt(Page page, const HnswMetaPageData *meta, uint32 idx)
{
	return (HnswGraphRecord *) (PageGetContents(page) + (Size) idx * meta->record_size);
}

/* The vector slot at byte offset `offset` of a vector page's contents (whole when it does not straddle). */
static inline HnswVectorSlot *
HnswVectorSlotAt(Page page, uint32 offset)
{
	return (HnswVectorSlot *) (PageGetContents(page) + offset);
}

/* The datum stored in a vector slot that lies on one page. */
static inline char *
HnswSlotDatum(HnswVectorSlot *slot)
{
	return (char *) slot + HNSW_VECTOR_HEADER_SIZE;
}

/* graph.cpp */
void HnswViewInit(HnswView view, Relation index, const HnswMetaPageData *meta, const VxDistanceData *dist);
void HnswViewSetPinCache(HnswView view, uint32 size);
void HnswViewReleasePins(HnswView view);
int HnswViewRecord(HnswView view, HnswId id, int level, HnswId *neighbors, HnswRecordInfo *info);
bool HnswViewDistance(HnswView view, HnswId id, const char *q, float *distance, uint32 *version);
uint32 HnswViewCopyVector(HnswView view, HnswId id, char *dest);
void HnswViewPrefetch(HnswView view, HnswId id);

/* build.cpp */
IndexBuildResult *hnswbuild(Relation heap, Relation index, IndexInfo *indexInfo);
void hnswbuildempty(Relation index);

/* Heavyweight page-lock tag serializing entry point changes (not a real block). */
#define HNSW_UPDATE_LOCK 0

/*
 * An on-page inserter (insert.cpp): distance, scratch and a page view set up
 * once and kept across inserts, so a build that inserts many rows on pages
 * keeps its pins and allocations from one row to the next.
 */
typedef struct HnswInserterData
{
	Relation index;
	bool building;	  /* inside CREATE INDEX: no WAL */
	bool lock_entry;  /* serialize entry-point changes with the heavyweight update lock */
	pg_prng_state *prng; /* levels */
	HnswMetaPageData meta;
	VxDistanceData dist;
	HnswViewData view;
	void *scratch; /* the insert scratch (insert.cpp) */
} HnswInserterData;

typedef HnswInserterData *HnswInserter;

/* insert.cpp */
void HnswInserterInit(HnswInserter ins, Relation index, bool building, bool lock_entry, pg_prng_state *prng);
void HnswInserterInsert(HnswInserter ins, const char *datum, ItemPointer tid);
void HnswInserterEnd(HnswInserter ins);
void HnswInsertValue(Relation index, const char *datum, ItemPointer tid, bool building);
bool HnswListHas(const HnswId *ids, int n, HnswId id);
bool HnswReplaceList(Relation index, const HnswMetaPageData *meta, HnswId nb, int level, const HnswRecordInfo *info,
					 const HnswId *list, int n, const HnswId *new_list, int new_n, bool building);
bool hnswinsert(Relation index, Datum *values, bool *isnull, ItemPointer heap_tid, Relation heap,
				IndexUniqueCheck checkUnique, bool indexUnchanged, IndexInfo *indexInfo);

/* vacuum.cpp */
IndexBulkDeleteResult *hnswbulkdelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
									  IndexBulkDeleteCallback callback, void *callback_state);
IndexBulkDeleteResult *hnswvacuumcleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats);

/* scan.cpp */
IndexScanDesc hnswbeginscan(Relation index, int nkeys, int norderbys);
void hnswrescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys, int norderbys);
bool hnswgettuple(IndexScanDesc scan, ScanDirection dir);
void hnswendscan(IndexScanDesc scan);

#endif /* VX_HNSW_HNSW_H */
