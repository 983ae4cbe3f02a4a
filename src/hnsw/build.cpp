/*
 * build.cpp -- ambuild and ambuildempty for hnsw.
 *
 * The build has two phases:
 *   1. load: scan the heap (table_index_build_scan); each non-NULL value is
 *      detoasted, checked, normalized for cosine (zero vectors are skipped,
 *      as in pgvector), given a random level and inserted into the
 *      in-memory graph of vx::core (one arena holding vectors and neighbour
 *      lists; distances through the KernelTable resolved once, never fmgr);
 *   2. write: the graph is laid out on pages in block order (metapage, then
 *      per extent its upper page and per group its graph page and vector
 *      pages), through the buffer manager without WAL; at the end the whole
 *      relation is WAL-logged with log_newpage_range when it needs WAL.
 *
 * Parallel builds (build_parallel.cpp): when plan_create_index_workers()
 * grants workers, the graph's arena lives in the parallel context's shared
 * memory, the leader and the workers each scan part of the heap and insert
 * into the one graph at the same time (the core's Concurrent policy), and
 * the leader writes the pages once everyone is done. Every participant runs
 * HnswBuildCallback below; only the parts that coordinate differ.
 *
 * Levels come from a generator per participant seeded with a constant (plus
 * the participant's number), so a serial build of the same rows in the same
 * order gives the same graph (reproducible tests). A level is lowered, once
 * the element's id is known, when the extent's upper page could not hold its
 * upper lists, before the element enters the graph, so memory and pages
 * always agree.
 *
 * Memory: the arena is sized for maintenance_work_mem (the whole build's,
 * shared by the participants of a parallel build). When it is full, the
 * build says so with pgvector's NOTICE, writes the graph to pages as in
 * phase 2 (in a parallel build the leader does, while the others wait) and
 * inserts the remaining rows on pages with the aminsert code, without WAL.
 * Those inserts keep one page view per participant for the rest of the
 * build (pins stay cached from row to row, up to a share of
 * shared_buffers), and read the vectors of elements that were in the graph
 * from the arena, which stays allocated: memory remains bounded and the
 * slowdown after the flush stays moderate (README: "Build").
 *
 * Nothing is visible to other backends until the build commits, so no locks
 * are taken on the new pages beyond the buffer locks of writing them; the
 * participants of a parallel build serialize entry-point changes of their
 * on-page inserts with the heavyweight update lock, as aminsert does.
 */
#include "vx/pg.h"

#include "vx/am/writer.h"
#include "vx/hnsw/build.h"
#include "vx/hnsw/hnsw.h"

/* Seed of the level generators of builds (participant i uses seed + i). */
#define HNSW_BUILD_SEED UINT64CONST(0x5658484E53573031)

/* Check the column and the options; pgvector's messages and codes. */
static void
HnswCheckBuildable(Relation index, const VxTypeInfo *typeinfo, int m, int ef_construction)
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

/* Set up one participant's build state: checks, geometry, distance, contexts (not the graph). */
void
HnswBuildStateInit(HnswBuildState *bs, Relation heap, Relation index, IndexInfo *index_info, ForkNumber fork,
				   uint64 seed)
{
	const VxTypeInfo *typeinfo = VxGetTypeInfo(index, HNSW_TYPE_INFO_PROC);
	int m = HnswGetM(index);
	int ef_construction = HnswGetEfConstruction(index);
	VxMetric metric;

	MemSet(bs, 0, sizeof(*bs));
	bs->heap = heap;
	bs->index = index;
	bs->index_info = index_info;
	bs->fork = fork;
	bs->phase = HNSW_BUILD_IN_MEMORY;
	bs->leader = true;

	HnswCheckBuildable(index, typeinfo, m, ef_construction);
	metric = VxGetMetric(index, typeinfo->kind, "hnsw");

	HnswComputeGeometry(&bs->meta, typeinfo->kind, metric, TupleDescAttr(index->rd_att, 0)->atttypmod, m,
						ef_construction);
	HnswInitDistance(&bs->dist, &bs->meta);
	pg_prng_seed(&bs->prng, seed);

	bs->graph_ctx = AllocSetContextCreate(CurrentMemoryContext, "Hnsw build graph context", ALLOCSET_DEFAULT_SIZES);
	bs->tmp_ctx = AllocSetContextCreate(CurrentMemoryContext, "Hnsw build temporary context", ALLOCSET_DEFAULT_SIZES);
}

/* maintenance_work_mem in bytes (at least 1 MB): the budget of the build's graph. */
Size
HnswBuildBudget(void)
{
	return Max((Size) maintenance_work_mem * 1024, (Size) 1024 * 1024);
}

/* A serial build's graph: a build area of about maintenance_work_mem in the graph context. */
static void
HnswBuildSerialGraph(HnswBuildState *bs)
{
	MemoryContext old = MemoryContextSwitchTo(bs->graph_ctx);
	Size bytes = HnswBuildAreaSize(&bs->meta, HnswBuildBudget(), 1, 0);
	/* the allocation is lazy (malloc'd pages are touched as the graph grows) */
	char *area = (char *) MemoryContextAllocHuge(bs->graph_ctx, bytes);

	HnswBuildAreaCreate(area, &bs->meta, HnswBuildBudget(), 1, 0);
	HnswBuildGraphAttach(&bs->graph, area, &bs->meta, &bs->dist, false);
	MemoryContextSwitchTo(old);
}

/* The NOTICE of a graph that outgrew maintenance_work_mem (pgvector's text). */
void
HnswBuildNoticeFull(HnswBuildState *bs)
{
	ereport(NOTICE, (errmsg("hnsw graph no longer fits into maintenance_work_mem after %u tuples",
							HnswBuildGraphSize(&bs->graph)),
					 errdetail("Building will take significantly more time."),
					 errhint("Increase maintenance_work_mem to speed up builds.")));
}

/*
 * Add one heap tuple's value: to the in-memory graph, or on pages once the
 * graph is full (every participant of a parallel build runs this).
 */
void
HnswBuildCallback(Relation index, ItemPointer tid, Datum *values, bool *isnull, bool tupleIsAlive, void *state)
{
	HnswBuildState *bs = (HnswBuildState *) state;
	MemoryContext old;
	Datum value;
	const char *datum;
	uint32 dimensions;
	bool skip;
	bool added = false;

	if (isnull[0])
		return;

	old = MemoryContextSwitchTo(bs->tmp_ctx);
	value = HnswPrepareValue(&bs->dist, values[0], true, &skip);
	if (skip) {
		MemoryContextSwitchTo(old);
		MemoryContextReset(bs->tmp_ctx);
		return;
	}
	datum = DatumGetPointer(value);
	dimensions = VxElemTraitsOf(bs->dist.kind)->dimensions(datum);
	if (dimensions != bs->meta.dimensions)
		elog(ERROR, "hnsw index value has %u dimensions, expected %u", dimensions, bs->meta.dimensions);

	if (bs->phase != HNSW_BUILD_ON_PAGES) {
		int level = HnswRandomLevel(&bs->prng, bs->meta.m);

		if (bs->parallel == NULL) {
			added = HnswBuildGraphInsert(&bs->graph, level, datum, tid);
			if (!added) {
				/* the arena is full: lay the graph out on pages and go on there */
				HnswBuildNoticeFull(bs);
				HnswBuildFlush(bs);
				HnswBuildStartOnPages(bs);
			}
		} else {
			if (HnswParallelEnterGraph(bs)) {
				added = HnswBuildGraphInsert(&bs->graph, level, datum, tid);
				HnswParallelLeaveGraph(bs, added);
			}
			if (!added)
				HnswParallelWaitOnPages(bs);
		}
	}
	if (!added)
		HnswInserterInsert(&bs->inserter, datum, tid);

	MemoryContextSwitchTo(old);
	MemoryContextReset(bs->tmp_ctx);

	bs->indtuples++;
	if (bs->parallel != NULL)
		HnswParallelReportTuple(bs);
	else
		pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, (int64) bs->indtuples);
}

/* Extend the fork by one page that must land at blkno; return it locked. */
static Buffer
HnswBuildNewBuffer(HnswBuildState *bs, BlockNumber blkno)
{
	Buffer buf = VxNewBuffer(bs->index, bs->fork);

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

/* Write the in-memory graph to pages (no process may be inserting into it); rows now go on pages. */
void
HnswBuildFlush(HnswBuildState *bs)
{
	HnswBuildWritePages(bs);
	bs->phase = HNSW_BUILD_ON_PAGES;
	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, PROGRESS_HNSW_PHASE_LOAD);
}

/* Pins one participant's on-page inserts may keep: a quarter of shared_buffers, shared by the participants. */
static uint32
HnswBuildPinCacheSize(HnswBuildState *bs)
{
	int participants = bs->parallel != NULL ? HnswParallelParticipants(bs) : 1;
	uint32 limit = (uint32) Max(NBuffers / (4 * participants), 8);
	uint32 size = 8;

	while (size * 2 <= limit)
		size *= 2;
	return size;
}

/*
 * Set up this participant's on-page inserts after the flush: one inserter
 * for the rest of the build (in the graph context), with a larger pin cache
 * than a single insert gets, reading the flushed elements' vectors from the
 * arena.
 */
void
HnswBuildStartOnPages(HnswBuildState *bs)
{
	MemoryContext old = MemoryContextSwitchTo(bs->graph_ctx);

	HnswInserterInit(&bs->inserter, bs->index, true, bs->parallel != NULL, &bs->prng);
	HnswViewSetPinCache(&bs->inserter.view, HnswBuildPinCacheSize(bs));
	bs->inserter.view.mem = HnswBuildGraphMemVectors(&bs->graph);
	bs->phase = HNSW_BUILD_ON_PAGES;
	MemoryContextSwitchTo(old);
}

/* Release what the participant holds after its scan (the inserter's pins). */
void
HnswBuildFinishScan(HnswBuildState *bs)
{
	if (bs->inserter.index != NULL)
		HnswInserterEnd(&bs->inserter);
}

/* Build the index into fork (MAIN for CREATE INDEX, INIT for an unlogged table's init fork). */
static void
HnswBuildIndex(Relation heap, Relation index, IndexInfo *index_info, HnswBuildState *bs, ForkNumber fork)
{
	int nworkers = 0;

	HnswBuildStateInit(bs, heap, index, index_info, fork, HNSW_BUILD_SEED);

	/* the planner's choice: max_parallel_maintenance_workers, the table's parallel_workers, its size */
	if (heap != NULL)
		nworkers = plan_create_index_workers(RelationGetRelid(heap), RelationGetRelid(index));

	if (heap != NULL)
		pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, PROGRESS_HNSW_PHASE_LOAD);
	if (nworkers > 0 && HnswParallelBegin(bs, nworkers, HNSW_BUILD_SEED))
		HnswParallelLeaderScan(bs);
	else {
		HnswBuildSerialGraph(bs);
		if (heap != NULL)
			bs->reltuples = table_index_build_scan(heap, index, index_info, true, true, HnswBuildCallback,
												   (void *) bs, NULL);
		HnswBuildFinishScan(bs);
	}

	if (bs->phase != HNSW_BUILD_ON_PAGES)
		HnswBuildWritePages(bs);
	if (bs->parallel != NULL)
		HnswParallelEnd(bs);

	/* the pages were written without WAL; an unlogged table's init fork is always logged */
	VxLogBuiltIndex(index, fork);

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
