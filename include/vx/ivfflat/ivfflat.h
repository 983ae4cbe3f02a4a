/*
 * ivfflat.h -- the ivfflat index access method (pgvector's SQL surface on
 * our own page format; src/ivfflat/README.md has the layout).
 *
 * Pages (each with an IvfflatPageOpaqueData special space: next block,
 * page type, page id):
 *   block 0            metapage: magic, format version, element kind,
 *                      metric, dimensions, lists, first directory block
 *   directory pages    one IvfflatListData item per list: first and
 *                      insert (last known) entry page, then the center as
 *                      a datum of the index's kind
 *   entry pages        chains, one per list: IvfflatEntryData items (heap
 *                      TID + the value as a datum, normalized for cosine)
 *
 * A metapage with pgvector's magic (IVFFLAT_PGVECTOR_MAGIC) or another
 * magic or version is refused with a REINDEX hint.
 */
#ifndef VX_IVFFLAT_IVFFLAT_H
#define VX_IVFFLAT_IVFFLAT_H

#include "vx/pg.h"

#include "vx/am/distance.h"
#include "vx/am/elem.h"

/* Limits and defaults (pgvector's) */
#define IVFFLAT_MAX_DIM 2000
#define IVFFLAT_MAX_HALFVEC_DIM (IVFFLAT_MAX_DIM * 2)
#define IVFFLAT_MAX_BIT_DIM (IVFFLAT_MAX_DIM * 32)
#define IVFFLAT_DEFAULT_LISTS 100
#define IVFFLAT_MIN_LISTS 1
#define IVFFLAT_MAX_LISTS 32768
#define IVFFLAT_DEFAULT_PROBES 1

/* Support functions (pgvector's numbers) */
#define IVFFLAT_DISTANCE_PROC 1
#define IVFFLAT_NORM_PROC 2
#define IVFFLAT_KMEANS_DISTANCE_PROC 3
#define IVFFLAT_KMEANS_NORM_PROC 4
#define IVFFLAT_TYPE_INFO_PROC 5

/* Build phases (pgvector's numbers and names) */
#define PROGRESS_IVFFLAT_PHASE_KMEANS 2
#define PROGRESS_IVFFLAT_PHASE_ASSIGN 3
#define PROGRESS_IVFFLAT_PHASE_LOAD 4

/* Format */
#define IVFFLAT_MAGIC 0x56584956 /* "VXIV" */
#define IVFFLAT_VERSION 1
#define IVFFLAT_PGVECTOR_MAGIC 0x14FF1A7 /* pgvector's ivfflat metapage */
#define IVFFLAT_PAGE_ID 0xFF8B
#define IVFFLAT_METAPAGE_BLKNO 0

#define IVFFLAT_PAGE_META 1
#define IVFFLAT_PAGE_DIRECTORY 2
#define IVFFLAT_PAGE_ENTRY 3

typedef enum IvfflatIterativeScanMode
{
	IVFFLAT_ITERATIVE_SCAN_OFF,
	IVFFLAT_ITERATIVE_SCAN_RELAXED
} IvfflatIterativeScanMode;

extern int ivfflat_probes;
extern int ivfflat_iterative_scan;
extern int ivfflat_max_probes;

typedef struct IvfflatOptions
{
	int32 vl_len_;
	int lists;
} IvfflatOptions;

typedef struct IvfflatPageOpaqueData
{
	BlockNumber next; /* next page of the chain (directory or one list's entries) */
	uint16 page_type;
	uint16 page_id;
} IvfflatPageOpaqueData;

typedef IvfflatPageOpaqueData *IvfflatPageOpaque;

static_assert(sizeof(IvfflatPageOpaqueData) == 8, "special space layout");

typedef struct IvfflatMetaPageData
{
	uint32 magic;
	uint32 version;
	uint16 elem_kind; /* VxElemKind */
	uint16 metric;	  /* VxMetric */
	uint32 dimensions;
	uint32 lists;
	uint32 center_size;			  /* bytes of a center datum (MAXALIGNed) */
	BlockNumber first_directory; /* first directory page */
} IvfflatMetaPageData;

typedef IvfflatMetaPageData *IvfflatMetaPage;

/* A directory item: one list. The center datum follows at IVFFLAT_LIST_CENTER. */
typedef struct IvfflatListData
{
	BlockNumber start; /* first entry page (always valid) */
	BlockNumber insert; /* last entry page as last seen (may lag: follow next) */
} IvfflatListData;

typedef IvfflatListData *IvfflatList;

#define IVFFLAT_LIST_CENTER(list) ((char *) (list) + MAXALIGN(sizeof(IvfflatListData)))
#define IVFFLAT_LIST_SIZE(center_size) (MAXALIGN(sizeof(IvfflatListData)) + (center_size))

/* Largest item a page holds (one item on an otherwise empty page). */
#define IVFFLAT_MAX_ITEM_SIZE \
	(BLCKSZ - MAXALIGN(SizeOfPageHeaderData + sizeof(ItemIdData)) - MAXALIGN(sizeof(IvfflatPageOpaqueData)))

/* An entry item: a heap TID then the value as a datum (at IVFFLAT_ENTRY_VALUE). */
typedef struct IvfflatEntryData
{
	ItemPointerData tid;
} IvfflatEntryData;

#define IVFFLAT_ENTRY_VALUE(e) ((char *) (e) + MAXALIGN(sizeof(IvfflatEntryData)))
#define IVFFLAT_ENTRY_SIZE(datum_size) (MAXALIGN(sizeof(IvfflatEntryData)) + MAXALIGN(datum_size))

#define IvfflatPageGetOpaque(page) ((IvfflatPageOpaque) PageGetSpecialPointer(page))
#define IvfflatPageGetMeta(page) ((IvfflatMetaPage) PageGetContents(page))

/* Where a list's directory item lives. */
typedef struct IvfflatListLoc
{
	BlockNumber blkno;
	OffsetNumber offno;
} IvfflatListLoc;

/* handler.cpp */
void IvfflatInit(void);
int IvfflatGetLists(Relation index);

/* pages.cpp */
void IvfflatInitPage(Page page, uint16 page_type);
IvfflatMetaPage IvfflatCheckMetaPage(Relation index, Page page);
void IvfflatReadMeta(Relation index, IvfflatMetaPageData *meta);
const IvfflatMetaPageData *IvfflatGetCachedMeta(Relation index);
void IvfflatCheckPage(Relation index, Page page, uint16 page_type, BlockNumber blkno);
void IvfflatInitDistance(VxDistance dist, const IvfflatMetaPageData *meta);
const VxTypeInfo *IvfflatTypeInfo(Relation index);
Datum IvfflatPrepareValue(const VxDistanceData *dist, Datum value, bool for_index, bool *skip);

/* build.cpp */
IndexBuildResult *ivfflatbuild(Relation heap, Relation index, IndexInfo *indexInfo);
void ivfflatbuildempty(Relation index);

/* insert.cpp */
void IvfflatAppendEntry(Relation index, ForkNumber fork, BlockNumber *insert, const char *datum, ItemPointer tid,
						bool building);
bool ivfflatinsert(Relation index, Datum *values, bool *isnull, ItemPointer heap_tid, Relation heap,
				   IndexUniqueCheck checkUnique,
#if PG_VERSION_NUM >= 140000
				   bool indexUnchanged,
#endif
				   IndexInfo *indexInfo);

/* scan.cpp */
IndexScanDesc ivfflatbeginscan(Relation index, int nkeys, int norderbys);
void ivfflatrescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys, int norderbys);
bool ivfflatgettuple(IndexScanDesc scan, ScanDirection dir);
void ivfflatendscan(IndexScanDesc scan);

/* vacuum.cpp */
IndexBulkDeleteResult *ivfflatbulkdelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
										 IndexBulkDeleteCallback callback, void *callback_state);
IndexBulkDeleteResult *ivfflatvacuumcleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats);

#endif /* VX_IVFFLAT_IVFFLAT_H */
