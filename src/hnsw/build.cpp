/*
 * build.cpp -- ambuild and ambuildempty for hnsw.
 *
 * The build has two phases:
 *   1. load: scan the heap (table_index_build_scan); each non-NULL value is
 *      detoasted, checked, normalized for cosine (zero vectors are skipped,
 *      as in pgvector), given the next dense id and a random level, and
 *      inserted into the in-memory graph of vx::core (one arena holding
 *      vectors and neighbour lists; distances through the KernelTable
 *      resolved once, never fmgr);
 *   2. write: the graph is laid out on pages in block order (metapage, then
 *      per extent its upper page and per group its graph page and vector
 *      pages), through the buffer manager without WAL; at the end the whole
 *      relation is WAL-logged with log_newpage_range when it needs WAL.
 *
 * Levels are drawn from a generator seeded with a constant, so the same
 * rows in the same order give the same graph (reproducible tests). A level
 * is lowered when the extent's upper page could not hold the element's
 * upper lists, before the element enters the graph, so memory and pages
 * always agree.
 *
 * Memory: the graph's arena is sized for maintenance_work_mem. When it is
 * full, the build says so with pgvector's NOTICE, writes the graph to pages
 * as in phase 2 and inserts the remaining tuples on pages with the aminsert
 * code (without WAL), so memory stays bounded.
 * XXX: on-page inserts are much slower than in-memory ones (pgvector has the
 * same cliff); a spilling or parallel build is the next step.
 *
 * Nothing is visible to other backends until the build commits, so no locks
 * are taken on the new pages beyond the buffer locks of writing them.
 */
#include "vx/pg.h"

#include "vx/hnsw/hnsw.h"

#include <cmath>

/* Seed of the level generator of builds. */
#define HNSW_BUILD_SEED UINT64CONST(0x5658484E53573031)

typedef struct HnswBuildState
{
	Relation heap;
	Relation index;
	IndexInfo *index_info;
	ForkNumber fork;

	HnswMetaPageData meta; /* geometry and, after load, entry point and count */
	HnswDistanceData dist;

	double reltuples;
	double indtuples;

	HnswBuildGraphData graph; /* in-memory graph (build_graph.cpp) */
	bool flushed;			  /* graph written to pages; later tuples are inserted there */
	uint32 *upper_used;		  /* bytes taken on each extent's upper page */
	uint32 upper_capacity;	  /* entries of upper_used */

	pg_prng_state prng;
	MemoryContext graph_ctx;
	MemoryContext tmp_ctx;
} HnswBuildState;

static void HnswBuildWritePages(HnswBuildState *bs);

/* Check the column and the options; pgvector's messages and codes. */
static void
HnswCheckBuildable(Relation index, const HnswTypeInfo *typeinfo, int m, int ef_construction)
{
	Form_pg_attribute attr = TupleDescAttr(index->rd_att, 0);
	int dimensions = attr->atttypmod;

	/* bit varying is binary coercible to bit, but has no fixed length */
	if (attr->atttypid == VARBITOID)
		ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED), errmsg("type not supported for hnsw index")));

	if (dimensions < 0)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("column does not have dimensions")));

	if (dimensions > typeinfo->max_dimensions)
		ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						errmsg("column cannot have more than %d dimensions for hnsw index", typeinfo->max_dimensions)));

	if (ef_construction < 2 * m)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("ef_construction must be greater than or equal to 2 * m")));
}

/* Set up the build state: checks, geometry, distance, memory. */
static void
HnswInitBuildState(HnswBuildState *bs, Relation heap, Relation index, IndexInfo *index_info, ForkNumber fork)
{
	const HnswTypeInfo *typeinfo = HnswGetTypeInfo(index);
	int m = HnswGetM(index);
	int ef_construction = HnswGetEfConstruction(index);
	HnswMetric metric;

	MemSet(bs, 0, sizeof(*bs));
	bs->heap = heap;
	bs->index = index;
	bs->index_info = index_info;
	bs->fork = fork;

	HnswCheckBuildable(index, typeinfo, m, ef_construction);
	metric = HnswGetMetric(index, typeinfo->kind);

	HnswComputeGeometry(&bs->meta, typeinfo->kind, metric, TupleDescAttr(index->rd_att, 0)->atttypmod, m,
						ef_construction);
	HnswInitDistance(&bs->dist, typeinfo->kind, metric, bs->meta.dimensions);
	pg_prng_seed(&bs->prng, HNSW_BUILD_SEED);

	bs->graph_ctx = AllocSetContextCreate(CurrentMemoryContext, "Hnsw build graph context", ALLOCSET_DEFAULT_SIZES);
	bs->tmp_ctx = AllocSetContextCreate(CurrentMemoryContext, "Hnsw build temporary context", ALLOCSET_DEFAULT_SIZES);
	HnswBuildGraphInit(&bs->graph, bs->graph_ctx, &bs->meta, &bs->dist);
}

/* Lower level until the element's upper item fits on its extent's upper page, and reserve it. */
static int
HnswReserveUpper(HnswBuildState *bs, HnswId id, int level)
{
	uint32 extent = id / HnswExtentElements(&bs->meta);
	Size capacity = HNSW_PAGE_CAPACITY;

	if (extent >= bs->upper_capacity) {
		uint32 n = Max(extent + 1, bs->upper_capacity * 2);

		uint32 *grown = (uint32 *) MemoryContextAllocZero(bs->graph_ctx, n * sizeof(uint32));

		if (bs->upper_used != NULL) {
			memcpy(grown, bs->upper_used, bs->upper_capacity * sizeof(uint32));
			pfree(bs->upper_used);
		}
		bs->upper_used = grown;
		bs->upper_capacity = n;
	}
	while (level > 0 && bs->upper_used[extent] + HnswUpperItemSize(bs->meta.m, level) + sizeof(ItemIdData) > capacity)
		level--;
	if (level > 0)
		bs->upper_used[extent] += HnswUpperItemSize(bs->meta.m, level) + sizeof(ItemIdData);
	return level;
}

/* Add one heap tuple's value: to the in-memory graph, or on pages once it was flushed. */
static void
HnswBuildCallback(Relation index, ItemPointer tid, Datum *values, bool *isnull, bool tupleIsAlive, void *state)
{
	HnswBuildState *bs = (HnswBuildState *) state;
	MemoryContext old;
	Datum value;
	bool skip;

	if (isnull[0])
		return;

	old = MemoryContextSwitchTo(bs->tmp_ctx);
	value = HnswPrepareValue(&bs->dist, values[0], true, &skip);
	if (skip) {
		MemoryContextSwitchTo(old);
		MemoryContextReset(bs->tmp_ctx);
		return;
	}
	if (HnswDatumDimensions(bs->dist.kind, DatumGetPointer(value)) != bs->meta.dimensions)
		elog(ERROR, "hnsw index value has %u dimensions, expected %u",
			 HnswDatumDimensions(bs->dist.kind, DatumGetPointer(value)), bs->meta.dimensions);

	if (!bs->flushed) {
		HnswId id = HnswBuildGraphSize(&bs->graph);
		int level = HnswReserveUpper(bs, id, HnswRandomLevel(&bs->prng, bs->meta.m));

		if (!HnswBuildGraphInsert(&bs->graph, id, level, DatumGetPointer(value), tid)) {
			/* the arena is full: lay the graph out on pages and go on there */
			ereport(NOTICE,
					(errmsg("hnsw graph no longer fits into maintenance_work_mem after %.0f tuples", bs->indtuples),
					 errdetail("Building will take significantly more time."),
					 errhint("Increase maintenance_work_mem to speed up builds.")));
			HnswBuildWritePages(bs);
			bs->flushed = true;
		}
	}
	if (bs->flushed)
		HnswInsertValue(bs->index, DatumGetPointer(value), tid, true);

	MemoryContextSwitchTo(old);
	MemoryContextReset(bs->tmp_ctx);

	bs->indtuples++;
	pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, (int64) bs->indtuples);
}

/* Extend the fork by one page that must land at blkno; return it locked. */
static Buffer
HnswBuildNewBuffer(HnswBuildState *bs, BlockNumber blkno)
{
	Buffer buf = HnswNewBuffer(bs->index, bs->fork);

	if (BufferGetBlockNumber(buf) != blkno)
		elog(ERROR, "hnsw build expected block %u, got %u", blkno, BufferGetBlockNumber(buf));
	return buf;
}

/* Copy a page image into a new block (no WAL: the build logs everything at the end). */
static void
HnswBuildWritePage(HnswBuildState *bs, BlockNumber blkno, Page image)
{
	Buffer buf = HnswBuildNewBuffer(bs, blkno);

	memcpy(BufferGetPage(buf), image, BLCKSZ);
	MarkBufferDirty(buf);
	UnlockReleaseBuffer(buf);
}

/* Fill the graph record of id (neighbours of level 0, TID, upper item offset). */
static void
HnswBuildFillRecord(HnswBuildState *bs, Page page, HnswId id, uint32 idx, OffsetNumber upper_offset)
{
	HnswGraphRecord *rec = HnswRecordAt(page, &bs->meta, idx);
	const uint32 *nb;
	int n = HnswBuildGraphNeighbors(&bs->graph, id, 0, &nb);

	rec->flags = HNSW_RECORD_LIVE;
	rec->level = HnswBuildGraphLevel(&bs->graph, id);
	rec->nneighbors = n;
	rec->version = 1;
	rec->heap_tid = *HnswBuildGraphTid(&bs->graph, id);
	rec->upper_offset = upper_offset;
	rec->next_free = HNSW_INVALID_ID;
	memcpy(rec->neighbors, nb, n * sizeof(HnswId));
}

/* Write the upper page of the extent starting at first; offsets[] gets each element's item. */
static void
HnswBuildWriteUpper(HnswBuildState *bs, Page image, HnswId first, uint32 count, OffsetNumber *offsets)
{
	HnswAddress a = HnswAddressOf(&bs->meta, first);

	HnswInitPage(image, HNSW_PAGE_UPPER);
	for (uint32 i = 0; i < count; i++) {
		HnswId id = first + i;
		int level = HnswBuildGraphLevel(&bs->graph, id);
		HnswUpperItem *item;

		offsets[i] = InvalidOffsetNumber;
		if (level == 0)
			continue;
		offsets[i] = HnswAddUpperItem(image, id, level, bs->meta.m);
		if (offsets[i] == InvalidOffsetNumber)
			elog(ERROR, "hnsw build: upper page of block %u is full", a.upper_block);
		item = (HnswUpperItem *) PageGetItem(image, PageGetItemId(image, offsets[i]));
		for (int l = 1; l <= level; l++) {
			HnswUpperList *list = HnswUpperListAt(item, bs->meta.m, l);
			const uint32 *nb;
			int n = HnswBuildGraphNeighbors(&bs->graph, id, l, &nb);

			list->count = n;
			memcpy(list->ids, nb, n * sizeof(HnswId));
		}
	}
	HnswBuildWritePage(bs, a.upper_block, image);
}

/*
 * Write the graph page and vector pages of the group starting at first.
 * The slots are laid over page images (vpages: vector_pages_per_group of
 * them) first, since a slot may straddle two pages; only the pages the
 * group's count elements touch are written.
 */
static void
HnswBuildWriteGroup(HnswBuildState *bs, Page image, Page *vpages, HnswId first, uint32 count,
					const OffsetNumber *offsets)
{
	const HnswMetaPageData *meta = &bs->meta;
	HnswAddress a = HnswAddressOf(meta, first);
	uint32 npages = HnswLastBlockOf(meta, first + count - 1) - a.graph_block;

	HnswInitBlockPage(meta, a.graph_block, image);
	for (uint32 i = 0; i < count; i++)
		HnswBuildFillRecord(bs, image, first + i, i, offsets[i]);
	HnswBuildWritePage(bs, a.graph_block, image);

	for (uint32 p = 0; p < npages; p++)
		HnswInitBlockPage(meta, a.graph_block + 1 + p, vpages[p]);
	for (uint32 i = 0; i < count; i++) {
		HnswAddress ea = HnswAddressOf(meta, first + i);

		HnswWriteVectorSlot(vpages + (ea.vector_block - a.graph_block - 1), meta, ea.vector_offset, 1,
							HnswBuildGraphVector(&bs->graph, first + i), 0, ea.vector_pages);
	}
	for (uint32 p = 0; p < npages; p++)
		HnswBuildWritePage(bs, a.graph_block + 1 + p, vpages[p]);
}

/* Lay the in-memory graph out on pages, in block order. */
static void
HnswBuildWritePages(HnswBuildState *bs)
{
	HnswMetaPageData *meta = &bs->meta;
	uint32 n = HnswBuildGraphSize(&bs->graph);
	uint32 per_extent = HnswExtentElements(meta);
	Page image = (Page) palloc(BLCKSZ);
	Page *vpages = palloc_array(Page, meta->vector_pages_per_group);
	OffsetNumber *offsets = palloc_array(OffsetNumber, per_extent);

	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, PROGRESS_HNSW_PHASE_WRITE);
	pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_TOTAL, n);
	pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, 0);

	meta->next_id = n;
	meta->live_count = n;
	HnswBuildGraphEntry(&bs->graph, &meta->entry_id, &meta->entry_level);

	HnswInitPage(image, HNSW_PAGE_META);
	HnswWriteMetaPage(image, meta);
	HnswBuildWritePage(bs, HNSW_METAPAGE_BLKNO, image);
	for (uint32 p = 0; p < meta->vector_pages_per_group; p++)
		vpages[p] = (Page) palloc(BLCKSZ);

	for (HnswId ext = 0; ext < n; ext += per_extent) {
		uint32 ext_count = Min(per_extent, n - ext);

		HnswBuildWriteUpper(bs, image, ext, ext_count, offsets);
		for (uint32 g = 0; g < ext_count; g += meta->records_per_page) {
			HnswBuildWriteGroup(bs, image, vpages, ext + g, Min(meta->records_per_page, ext_count - g), offsets + g);
			CHECK_FOR_INTERRUPTS();
		}
		pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, ext + ext_count);
	}
	for (uint32 p = 0; p < meta->vector_pages_per_group; p++)
		pfree(vpages[p]);
	pfree(vpages);
	pfree(image);
	pfree(offsets);
}

/* Build the index into fork (MAIN for CREATE INDEX, INIT for an unlogged table's init fork). */
static void
HnswBuildIndex(Relation heap, Relation index, IndexInfo *index_info, HnswBuildState *bs, ForkNumber fork)
{
	HnswInitBuildState(bs, heap, index, index_info, fork);

	if (heap != NULL) {
		pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, PROGRESS_HNSW_PHASE_LOAD);
		bs->reltuples = table_index_build_scan(heap, index, index_info, true, true, HnswBuildCallback, (void *) bs,
											   NULL);
	}

	if (!bs->flushed)
		HnswBuildWritePages(bs);

	/* the pages were written without WAL; an unlogged table's init fork is always logged */
	if (RelationNeedsWAL(index) || fork == INIT_FORKNUM)
		log_newpage_range(index, fork, 0, RelationGetNumberOfBlocksInFork(index, fork), true);

	MemoryContextDelete(bs->graph_ctx);
	MemoryContextDelete(bs->tmp_ctx);
}

/* ambuild: CREATE INDEX / REINDEX. */
IndexBuildResult *
hnswbuild(Relation heap, Relation index, IndexInfo *indexInfo)
{
	IndexBuildResult *result;
	HnswBuildState bs;

	HnswBuildIndex(heap, index, indexInfo, &bs, MAIN_FORKNUM);

	result = palloc_object(IndexBuildResult);
	result->heap_tuples = bs.reltuples;
	result->index_tuples = bs.indtuples;
	return result;
}

/* ambuildempty: the init fork of an unlogged table's index (just a metapage). */
void
hnswbuildempty(Relation index)
{
	HnswBuildState bs;

	HnswBuildIndex(NULL, index, BuildIndexInfo(index), &bs, INIT_FORKNUM);
}
