/*
 * diskann.h -- the diskann index access method: constants, options, page
 * layouts and the functions the files of src/diskann share.
 *
 * Layout (src/diskann/README.md has the full story):
 *
 *   block 0                      metapage (DiskannMetaPageData)
 *   blocks 1 .. center_pages     the quantizer's center (float32, packed over the pages)
 *   then node pages              node_size-byte DiskannNode records, nodes_per_page each,
 *                                each followed by vector_pages vector pages (plain only)
 *
 * Nodes have dense ids (uint32); node id lives on block
 * first_node_block + (id / nodes_per_page) * (1 + vector_pages) at record
 * id % nodes_per_page, by
 * arithmetic, so neighbour lists hold 4-byte ids and scans keep an
 * epoch-tagged visited array indexed by id. A node record is the compact
 * tier: the heap TID, the vector's RaBitQ code and factors (vx::core
 * Quantizer), and up to num_neighbors neighbour ids. Traversal reads only
 * node pages; the full-precision vectors used to re-rank the best
 * candidates are read from the heap (memory_optimized, vector_pages 0) or
 * from the vector pages that follow each node page (plain: the "extent" of
 * a node page is the node page and its vector_pages vector pages, which hold
 * the full vectors of that node page's nodes, found by arithmetic too).
 *
 * Every page carries DiskannPageOpaqueData with a page type and
 * DISKANN_PAGE_ID; the metapage carries DISKANN_MAGIC and DISKANN_VERSION, so
 * an index of another format is refused with a REINDEX hint.
 */
#ifndef VX_DISKANN_DISKANN_H
#define VX_DISKANN_DISKANN_H

#include "vx/pg.h"

#include "vx/am/distance.h"
#include "vx/am/elem.h"
#include "vx/am/writer.h"
#include "vx/core/rabitq.hpp"

#include <cstdint>

#define DISKANN_MAGIC 0x56584441 /* "VXDA" */
#define DISKANN_VERSION 1
#define DISKANN_PAGE_ID 0xFF92

#define DISKANN_METAPAGE_BLKNO 0

/* Page types (DiskannPageOpaqueData.page_type) */
#define DISKANN_PAGE_META 1
#define DISKANN_PAGE_CENTER 2
#define DISKANN_PAGE_NODE 3
#define DISKANN_PAGE_VECTOR 4 /* plain: full vectors of the node page before it */

/* Options (pgvectorscale's names and defaults) */
#define DISKANN_DEFAULT_NUM_NEIGHBORS 50
#define DISKANN_MIN_NUM_NEIGHBORS 10
#define DISKANN_MAX_NUM_NEIGHBORS 1000
#define DISKANN_DEFAULT_SEARCH_LIST_SIZE 100
#define DISKANN_MIN_SEARCH_LIST_SIZE 10
#define DISKANN_MAX_SEARCH_LIST_SIZE 1000
#define DISKANN_DEFAULT_MAX_ALPHA 1.2
#define DISKANN_MIN_MAX_ALPHA 1.0
#define DISKANN_MAX_MAX_ALPHA 5.0
#define DISKANN_MAX_BITS 8
#define DISKANN_MAX_DIM 16000

/* Settings */
#define DISKANN_DEFAULT_QUERY_SEARCH_LIST_SIZE 100
#define DISKANN_DEFAULT_QUERY_RESCORE 50
#define DISKANN_MAX_QUERY_LIST 10000

/* Support function 3: type info (1 and 2, distance and norm, are VX_DISTANCE_PROC and VX_NORM_PROC) */
#define DISKANN_TYPE_INFO_PROC 3

/* storage_layout */
#define DISKANN_LAYOUT_MEMORY_OPTIMIZED 1
#define DISKANN_LAYOUT_PLAIN 2

#define DISKANN_INVALID_ID UINT32_MAX

/* Heavyweight page-lock tag serializing the first insert into an empty index (not a real block). */
#define DISKANN_UPDATE_LOCK 0

/* Build phases for pg_stat_progress_create_index (1 is "initializing"). */
#define PROGRESS_DISKANN_PHASE_LOAD 2
#define PROGRESS_DISKANN_PHASE_GRAPH 3
#define PROGRESS_DISKANN_PHASE_WRITE 4

typedef uint32_t DiskannId;

/* Special space of every page */
typedef struct DiskannPageOpaqueData
{
	uint16 page_type;
	uint16 flags;
	uint16 unused;
	uint16 page_id; /* DISKANN_PAGE_ID */
} DiskannPageOpaqueData;

typedef DiskannPageOpaqueData *DiskannPageOpaque;

#define DiskannPageGetOpaque(page) ((DiskannPageOpaque) PageGetSpecialPointer(page))

/* Usable bytes of a page's contents (between the header and our special). */
#define DISKANN_PAGE_CAPACITY (BLCKSZ - MAXALIGN(SizeOfPageHeaderData) - MAXALIGN(sizeof(DiskannPageOpaqueData)))

/*
 * Metapage contents. What is indexed and the geometry are fixed at build
 * time; the mutable fields change under an exclusive lock on the metapage
 * and are WAL-logged with it.
 */
typedef struct DiskannMetaPageData
{
	uint32 magic;
	uint32 version;

	/* what is indexed */
	uint32 dimensions;		/* of the column */
	uint16 elem_kind;		/* VxElemKind: vector or halfvec */
	uint16 metric;			/* VxMetric: l2, ip or cosine */
	uint16 num_neighbors;	/* R */
	uint16 search_list_size; /* L of builds and inserts */
	float4 max_alpha;
	uint16 storage_layout;
	uint16 bits;			/* bits per dimension of the codes */
	uint32 code_dimensions; /* dimensions quantized: num_dimensions, or all */
	uint64 seed;			/* of the quantizer's rotation */

	/* geometry */
	uint32 center_pages;
	uint32 code_bytes;
	uint32 node_size; /* bytes per DiskannNode incl. code and neighbours, a multiple of 4 */
	uint32 nodes_per_page;

	/* mutable state */
	DiskannId entry_id; /* start of every search (the medoid at build); DISKANN_INVALID_ID when empty */
	DiskannId next_id;	/* ids below this have been allocated */
	DiskannId free_head; /* first reusable id, chained through next_free */
	uint16 label_capacity; /* labels a node holds (0: no label column) */
	uint16 nlabel_entries; /* entries of the label table after this struct */
	uint64 live_count;	   /* nodes not deleted (a statistic) */

	/* geometry of the vector tier (plain; all 0 for memory_optimized) */
	uint32 vector_bytes;	 /* one stored vector: all dimensions, elements as the column stores them */
	uint32 vectors_per_page; /* V: vectors a vector page holds (0 when one vector spans pages) */
	uint32 pages_per_vector; /* P: vector pages one vector spans (1 when V > 0) */
	uint32 vector_pages;	 /* K: vector pages after each node page (ceil(nodes_per_page / V), or nodes_per_page * P) */
	/* then DiskannLabelEntry[nlabel_entries], sorted by label */
} DiskannMetaPageData;

/* A label's own start point (Filtered-DiskANN): a live node that has the label. */
typedef struct DiskannLabelEntry
{
	int16 label;
	uint16 unused;
	DiskannId id;
} DiskannLabelEntry;

/* Labels with a start point of their own (the rest start at the entry point only); fits the metapage. */
#define DISKANN_MAX_LABEL_ENTRIES 900
/* Labels a node can hold at most, and at least when there is a label column. */
#define DISKANN_MAX_NODE_LABELS 64
#define DISKANN_MIN_NODE_LABELS 8
/* DiskannNode.nlabels of a node whose row has more labels than label_capacity: the executor rechecks it. */
#define DISKANN_LABELS_OVERFLOW 255
/* DiskannNode.nlabels of a row whose label array is NULL: no condition holds (NULL && x is NULL). */
#define DISKANN_LABELS_NULL 254

typedef DiskannMetaPageData *DiskannMetaPage;

/* The on-disk layout: memory_optimized fields where they were before the vector tier (TAP 056 patches these). */
static_assert(offsetof(DiskannMetaPageData, storage_layout) == 24, "metapage layout");
static_assert(offsetof(DiskannMetaPageData, live_count) == 72, "metapage layout");
static_assert(offsetof(DiskannMetaPageData, vector_bytes) == 80, "metapage layout");
static_assert(sizeof(DiskannMetaPageData) == 96, "metapage layout");

#define DiskannPageGetMeta(page) ((DiskannMetaPage) PageGetContents(page))

/* Node flags */
#define DISKANN_NODE_UNUSED 0x00  /* never used or freed */
#define DISKANN_NODE_LIVE 0x01	  /* in the graph */
#define DISKANN_NODE_DELETED 0x02 /* heap tuple dead; traversed, never returned, until vacuum frees it */

/*
 * A node record (the compact tier). version increases each time the id is
 * reused; factors are vx::core::CodeFactors; code (code_bytes) follows the
 * header, then label_capacity int16 labels (sorted, padded to 4 bytes), then
 * num_neighbors neighbour ids.
 */
typedef struct DiskannNode
{
	uint8 flags;
	uint8 nlabels; /* or DISKANN_LABELS_OVERFLOW */
	uint16 nneighbors;
	uint32 version;
	ItemPointerData heap_tid;
	uint16 pad;
	DiskannId next_free; /* free-list link while UNUSED */
	float4 factors[5];	 /* vx::core::CodeFactors */
	/* code[code_bytes], then DiskannId neighbors[num_neighbors] */
} DiskannNode;

#define DISKANN_NODE_HEADER_SIZE sizeof(DiskannNode)

static_assert(sizeof(vx::core::CodeFactors) == sizeof(((DiskannNode *) 0)->factors), "node factors layout");
static_assert(sizeof(DiskannNode) % 4 == 0, "node records are 4-byte aligned");

/* The first node page. */
static inline BlockNumber
DiskannFirstNodeBlock(const DiskannMetaPageData *meta)
{
	return 1 + meta->center_pages;
}

/* Block of node page p (the p-th node page, holding ids p * nodes_per_page ...). */
static inline BlockNumber
DiskannNodePageBlock(const DiskannMetaPageData *meta, uint32 p)
{
	return DiskannFirstNodeBlock(meta) + p * (1 + meta->vector_pages);
}

/* Block of node id. */
static inline BlockNumber
DiskannNodeBlock(const DiskannMetaPageData *meta, DiskannId id)
{
	return DiskannNodePageBlock(meta, id / meta->nodes_per_page);
}

/* Page type of block blkno (> 0) by position: center, node or vector page. */
static inline uint16
DiskannBlockType(const DiskannMetaPageData *meta, BlockNumber blkno)
{
	if (blkno <= meta->center_pages)
		return DISKANN_PAGE_CENTER;
	return (blkno - DiskannFirstNodeBlock(meta)) % (1 + meta->vector_pages) == 0 ? DISKANN_PAGE_NODE
																				  : DISKANN_PAGE_VECTOR;
}

/*
 * Where chunk j (0 .. pages_per_vector - 1) of node id's stored vector lives
 * (plain): its block, and its offset and length in that page's contents.
 */
static inline BlockNumber
DiskannVectorChunk(const DiskannMetaPageData *meta, DiskannId id, uint32 j, uint32 *offset, uint32 *len)
{
	uint32 slot = id % meta->nodes_per_page;
	BlockNumber node_block = DiskannNodeBlock(meta, id);

	if (meta->vectors_per_page > 0) {
		*offset = (slot % meta->vectors_per_page) * meta->vector_bytes;
		*len = meta->vector_bytes;
		return node_block + 1 + slot / meta->vectors_per_page;
	}
	*offset = 0;
	*len = Min((uint32) DISKANN_PAGE_CAPACITY, meta->vector_bytes - j * (uint32) DISKANN_PAGE_CAPACITY);
	return node_block + 1 + slot * meta->pages_per_vector + j;
}

/* Bytes of vector page k (1 .. vector_pages) of an extent that pd_lower covers (every slot, or its chunk). */
static inline uint32
DiskannVectorPageBytes(const DiskannMetaPageData *meta, uint32 k)
{
	if (meta->vectors_per_page > 0)
		return meta->vectors_per_page * meta->vector_bytes;
	return Min((uint32) DISKANN_PAGE_CAPACITY,
			   meta->vector_bytes - ((k - 1) % meta->pages_per_vector) * (uint32) DISKANN_PAGE_CAPACITY);
}

/* Node record idx of a node page. */
static inline DiskannNode *
DiskannNodeAt(Page page, const DiskannMetaPageData *meta, uint32 idx)
{
	return (DiskannNode *) (PageGetContents(page) + (Size) idx * meta->node_size);
}

/* Node id's record on its (locked) page. */
static inline DiskannNode *
DiskannNodeOf(Page page, const DiskannMetaPageData *meta, DiskannId id)
{
	return DiskannNodeAt(page, meta, id % meta->nodes_per_page);
}

/* A node's code bytes. */
static inline uint8 *
DiskannNodeCode(DiskannNode *node)
{
	return (uint8 *) node + DISKANN_NODE_HEADER_SIZE;
}

/* Labels actually stored for a count (DiskannNode.nlabels or DiskannLabels.count) with room for capacity. */
static inline int
DiskannStoredLabels(int count, int capacity)
{
	if (count == DISKANN_LABELS_NULL)
		return 0;
	return count == DISKANN_LABELS_OVERFLOW || count > capacity ? capacity : count;
}

/* Bytes of a node's label array. */
static inline uint32
DiskannLabelBytes(const DiskannMetaPageData *meta)
{
	return ((uint32) meta->label_capacity * sizeof(int16) + 3) & ~3U;
}

/* A node's labels. */
static inline int16 *
DiskannNodeLabels(DiskannNode *node, const DiskannMetaPageData *meta)
{
	return (int16 *) ((char *) node + DISKANN_NODE_HEADER_SIZE + meta->code_bytes);
}

/* A node's neighbour ids. */
static inline DiskannId *
DiskannNodeNeighbors(DiskannNode *node, const DiskannMetaPageData *meta)
{
	return (DiskannId *) ((char *) node + DISKANN_NODE_HEADER_SIZE + meta->code_bytes + DiskannLabelBytes(meta));
}

/* The label table that follows the metapage struct. */
static inline DiskannLabelEntry *
DiskannMetaLabels(DiskannMetaPageData *meta)
{
	return (DiskannLabelEntry *) (meta + 1);
}

/* A node's factors. */
static inline const vx::core::CodeFactors *
DiskannNodeFactors(const DiskannNode *node)
{
	return (const vx::core::CodeFactors *) node->factors;
}

/* Parsed reloptions (build_reloptions layout) */
typedef struct DiskannOptions
{
	int32 vl_len_; /* varlena header (do not touch directly!) */
	int num_neighbors;
	int search_list_size;
	double max_alpha;
	int storage_layout_offset; /* string option */
	int num_dimensions;
	int num_bits_per_dimension;
} DiskannOptions;

/* What an index needs to search and insert: metapage, distance, quantizer (with the center loaded). */
typedef struct DiskannIndexData
{
	Relation index;
	DiskannMetaPageData meta; /* geometry; mutable fields as of the last read */
	VxDistanceData dist;
	vx::core::Quantizer quantizer;
	vx::core::EstimateMetric est_metric;
	float *center;		 /* code_dimensions floats */
	float *work;		 /* quantizer scratch */
	float *fvec;		 /* one vector as float32 (code_dimensions) */
	struct VxRecentTable *recent; /* where the backend last found each block (vx/am/recent.h) */
	struct VxArena *arena;		  /* an insert's scratch memory while it runs (vx/am/arena.h), else NULL */
	bool center_of_empty;		  /* center read while the index was empty: the first insert may replace it */
} DiskannIndexData;

typedef DiskannIndexData *DiskannIndex;

/* Settings (handler.cpp) */
extern int diskann_query_search_list_size;
extern int diskann_query_rescore;

/* handler.cpp */
void DiskannInit(void);
int DiskannGetNumNeighbors(Relation index);
int DiskannGetSearchListSize(Relation index);
double DiskannGetMaxAlpha(Relation index);
int DiskannGetStorageLayout(Relation index);
int DiskannGetNumDimensions(Relation index);
int DiskannGetBits(Relation index);

/* pages.cpp */
void DiskannComputeGeometry(DiskannMetaPageData *meta, VxElemKind kind, VxMetric metric, uint32 dimensions,
							uint32 code_dimensions, int num_neighbors, int search_list_size, double max_alpha,
							int layout, int bits, int label_capacity);
void DiskannInitPage(Page page, uint16 page_type);
void DiskannMetaSetLower(Page page);
void DiskannWriteMetaPage(Page page, const DiskannMetaPageData *meta);
DiskannMetaPage DiskannCheckMetaPage(Relation index, Page page);
void DiskannReadMeta(Relation index, DiskannMetaPageData *meta);
void DiskannCheckPage(Relation index, Page page, uint16 page_type, BlockNumber blkno);
void DiskannWriteCenter(Relation index, ForkNumber fork, const DiskannMetaPageData *meta, const float *center);
vx::core::Quantizer DiskannQuantizerFor(const DiskannMetaPageData *meta, const float *center);
void DiskannInitVectorPage(Page page, const DiskannMetaPageData *meta, uint32 k);
bool DiskannReadVector(DiskannIndex di, DiskannId id, uint32 version, char *raw);
void DiskannPrefetchVector(DiskannIndex di, DiskannId id);
void DiskannOpenIndex(DiskannIndex di, Relation index);
Buffer DiskannPinNodePage(DiskannIndex di, BlockNumber blkno);
void DiskannPrefetchNode(DiskannIndex di, DiskannId id);
bool DiskannReadNode(DiskannIndex di, DiskannId id, char *bytes, DiskannId *ids, int *nids);
void DiskannIndexRefreshMeta(DiskannIndex di);
void DiskannSetCenter(DiskannIndex di, const float *center, bool building);
void DiskannToFloat(DiskannIndex di, const char *datum, float *out);
void DiskannEncode(DiskannIndex di, const char *datum, uint8 *code, vx::core::CodeFactors *factors);
float DiskannPairL2(const DiskannIndexData *di, const DiskannNode *a, const DiskannNode *b);
uint32 DiskannNodeFlagsValid(uint8 flags);

/* A row's labels: sorted, distinct, at most DISKANN_MAX_NODE_LABELS (labels.cpp). */
typedef struct DiskannLabels
{
	int count; /* or DISKANN_LABELS_OVERFLOW when the row has more than fit, DISKANN_LABELS_NULL for NULL */
	int16 values[DISKANN_MAX_NODE_LABELS];
} DiskannLabels;

/* A scan's label conditions: every one must hold (labels.cpp). */
typedef struct DiskannLabelFilter
{
	int nkeys;
	bool never;		 /* a NULL argument: no row matches */
	uint16 *strategy; /* DISKANN_LABEL_OVERLAP or DISKANN_LABEL_CONTAINS */
	int *nvalues;
	int16 **values; /* sorted, distinct */
} DiskannLabelFilter;

#define DISKANN_LABEL_OVERLAP 1	 /* labels && q */
#define DISKANN_LABEL_CONTAINS 2 /* labels @> q */

/* labels.cpp */
void DiskannReadLabels(Datum array, bool isnull, DiskannLabels *out);
void DiskannStoreLabels(DiskannNode *node, const DiskannMetaPageData *meta, const DiskannLabels *labels);
bool DiskannLabelsMatch(const DiskannLabelFilter *filter, const int16 *labels, int nlabels);
void DiskannInitLabelFilter(DiskannLabelFilter *filter, ScanKey keys, int nkeys);
bool DiskannLabelEntryFind(DiskannMetaPageData *meta, int16 label, DiskannId *id);
bool DiskannLabelEntrySet(DiskannMetaPageData *meta, int16 label, DiskannId id);
void DiskannCheckLabelColumn(Relation index);

/* build.cpp */
IndexBuildResult *diskannbuild(Relation heap, Relation index, IndexInfo *indexInfo);
void diskannbuildempty(Relation index);

/* insert.cpp */
void DiskannInsertValue(DiskannIndex di, const char *datum, const char *raw, const DiskannLabels *labels,
						ItemPointer tid, bool building);
bool DiskannReplaceNeighbors(DiskannIndex di, DiskannId id, uint32 version, const DiskannId *old_ids, int old_n,
							 const DiskannId *new_ids, int new_n, bool building);
bool diskanninsert(Relation index, Datum *values, bool *isnull, ItemPointer heap_tid, Relation heap,
				   IndexUniqueCheck checkUnique, bool indexUnchanged, IndexInfo *indexInfo);

/* vacuum.cpp */
IndexBulkDeleteResult *diskannbulkdelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
										 IndexBulkDeleteCallback callback, void *callback_state);
IndexBulkDeleteResult *diskannvacuumcleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats);

/* scan.cpp */
IndexScanDesc diskannbeginscan(Relation index, int nkeys, int norderbys);
void diskannrescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys, int norderbys);
bool diskanngettuple(IndexScanDesc scan, ScanDirection dir);
void diskannendscan(IndexScanDesc scan);

#endif /* VX_DISKANN_DISKANN_H */
