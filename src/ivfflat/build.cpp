/*
 * build.cpp -- ambuild and ambuildempty for ivfflat.
 *
 * 1. Sample (phase "performing k-means"): one heap scan keeps a uniform
 *    reservoir of max(50 * lists, 10000) values (pgvector's count) as
 *    floats, fewer if maintenance_work_mem cannot hold them with the k-means
 *    state; an ERROR (pgvector's text) if it cannot hold even one per list.
 *    Cosine values are normalized (zero vectors skipped, they are not
 *    indexed); inner-product samples too, since their k-means is spherical
 *    (pgvector's FUNCTION 4). Fewer samples than lists gives pgvector's
 *    "little data" NOTICE.
 * 2. k-means (src/core/kmeans.cpp) on the samples with the SIMD kernels;
 *    bit values are clustered as 0/1 floats (squared L2 = Hamming) and the
 *    centers rounded back to bits; halfvec centers are rounded to half.
 * 3. Pages (phase "assigning tuples"): metapage, directory pages, one empty
 *    entry page per list, then a second heap scan assigns each row to its
 *    nearest center (dist->fn over center datums) and appends it to that
 *    list's chain. No WAL: the whole relation is logged at the end
 *    (VxLogBuiltIndex; always for the init fork of an unlogged table).
 *
 * Parallel: step 3's heap scan runs in PostgreSQL parallel workers when
 * plan_create_index_workers() grants some (max_parallel_maintenance_workers,
 * the table's size or parallel_workers). The leader writes the metapage and
 * directory first; each worker reads the centers from there (shared
 * buffers), scans its part of the heap and appends to the lists under the
 * same page locks as inserts; the leader scans too, then follows every
 * chain to its end to record the insert pages. Centers are the same either
 * way, so a parallel build holds the same entries in each list as a serial
 * one (only their order within a list differs). The k-means itself runs in
 * the leader on the SIMD kernels (four centers per kernel call), no threads.
 */
#include "vx/pg.h"

#include "vx/am/parallel.h"
#include "vx/am/writer.h"
#include "vx/core/hnsw_algo.hpp" /* SplitMix64 */
#include "vx/core/kmeans.hpp"
#include "vx/ivfflat/ivfflat.h"
#include "vx/kernels/kernels.hpp"
#include "vx/types/halfvec.h"
#include "vx/types/vector.h"

#include <cmath>

typedef struct IvfflatBuildState
{
	Relation heap;
	Relation index;
	ForkNumber fork;
	IvfflatMetaPageData meta;
	VxDistanceData dist;
	const VxElemTraits *traits;
	bool spherical;

	/* sampling */
	float *samples;
	uint32 nsamples;
	uint32 capacity;
	double seen;	/* values offered to the reservoir */
	double indexable; /* rows the assignment will index */
	vx::core::SplitMix64 rng;
	float *tmp; /* one value as floats */

	/* centers */
	char *centers; /* lists datums of meta.center_size bytes */
	IvfflatListLoc *locs;
	BlockNumber *start;	 /* first entry page of each list */
	BlockNumber *insert; /* last entry page of each list */

	double reltuples;
	double indtuples;
	MemoryContext tmp_ctx;

	/* parallel assignment (NULL: serial) */
	struct IvfflatBuildShared *shared;
	bool leader;
} IvfflatBuildState;

/* Keys of the parallel context's table of contents */
#define IVFFLAT_KEY_SHARED UINT64CONST(0x5658495600000001)
#define IVFFLAT_KEY_QUERY_TEXT UINT64CONST(0x5658495600000002)
#define IVFFLAT_KEY_WAL_USAGE UINT64CONST(0x5658495600000003)
#define IVFFLAT_KEY_BUFFER_USAGE UINT64CONST(0x5658495600000004)

/* State shared by the participants of a parallel assignment (in the segment). */
typedef struct IvfflatBuildShared
{
	/* set by the leader before launching workers */
	Oid heaprelid;
	Oid indexrelid;
	bool isconcurrent;

	slock_t mutex;
	ConditionVariable cv; /* a participant finished its scan */
	int nparticipantsdone;
	double reltuples;
	bool brokenhotchain;
	pg_atomic_uint64 indtuples; /* rows assigned, all participants */

	/* ParallelTableScanDescData follows */
} IvfflatBuildShared;

#define IvfflatSharedTableScan(shared) \
	((ParallelTableScanDesc) ((char *) (shared) + BUFFERALIGN(sizeof(IvfflatBuildShared))))

extern "C" PGDLLEXPORT void IvfflatParallelBuildMain(dsm_segment *seg, shm_toc *toc);

/* The elements of a prepared datum as floats into out (bit: 0/1); false for a zero vector under a spherical k-means. */
static bool
IvfflatToFloats(IvfflatBuildState *bs, const char *datum, float *out)
{
	uint32 dims = bs->meta.dimensions;

	switch ((VxElemKind) bs->meta.elem_kind) {
	case VX_ELEM_F32:
		memcpy(out, ((const Vector *) datum)->x, sizeof(float) * dims);
		break;
	case VX_ELEM_F16:
		vx::kernels::active().f16_to_f32((const uint16_t *) ((const HalfVector *) datum)->x, out, dims);
		break;
	case VX_ELEM_BIT: {
		const uint8 *bits = (const uint8 *) bs->traits->raw(datum);
		for (uint32 i = 0; i < dims; i++)
			out[i] = (bits[i / 8] & (0x80 >> (i % 8))) ? 1.0f : 0.0f;
		break;
	}
	default:
		elog(ERROR, "ivfflat does not index element kind %d", bs->meta.elem_kind);
	}
	if (bs->spherical) {
		double norm = 0;
		for (uint32 i = 0; i < dims; i++)
			norm += (double) out[i] * out[i];
		if (!(norm > 0))
			return false;
		norm = sqrt(norm);
		for (uint32 i = 0; i < dims; i++)
			out[i] = (float) (out[i] / norm);
	}
	return true;
}

/* Sampling callback: reservoir sampling of prepared values. */
static void
IvfflatSampleCallback(Relation index, ItemPointer tid, Datum *values, bool *isnull, bool tupleIsAlive, void *state)
{
	IvfflatBuildState *bs = (IvfflatBuildState *) state;
	MemoryContext old;
	Datum value;
	bool skip;

	if (isnull[0])
		return;
	old = MemoryContextSwitchTo(bs->tmp_ctx);
	value = IvfflatPrepareValue(&bs->dist, values[0], true, &skip);
	if (!skip)
		bs->indexable += 1;
	if (!skip && IvfflatToFloats(bs, DatumGetPointer(value), bs->tmp)) {
		uint64 slot = UINT64_MAX;

		bs->seen += 1;
		if (bs->nsamples < bs->capacity)
			slot = bs->nsamples++;
		else {
			uint64 j = bs->rng.next() % (uint64) bs->seen;
			if (j < bs->capacity)
				slot = j;
		}
		if (slot != UINT64_MAX)
			memcpy(bs->samples + slot * bs->meta.dimensions, bs->tmp, sizeof(float) * bs->meta.dimensions);
	}
	MemoryContextSwitchTo(old);
	MemoryContextReset(bs->tmp_ctx);
}

/* Sample the heap and run k-means; fills bs->centers with center datums. */
static void
IvfflatComputeCenters(IvfflatBuildState *bs, IndexInfo *indexInfo)
{
	uint32 dims = bs->meta.dimensions;
	uint32 lists = bs->meta.lists;
	/* a sample's floats and kmeans' per-sample scratch (assignment, two bounds) */
	Size per_sample = sizeof(float) * (Size) dims + vx::core::kmeans_scratch_bytes(1, 1, 1) - vx::core::kmeans_scratch_bytes(0, 1, 1);
	Size fixed = vx::core::kmeans_scratch_bytes(0, lists, dims) + sizeof(float) * (Size) lists * dims;
	Size budget = (Size) maintenance_work_mem * 1024;
	uint32 want = Max(lists * 50, 10000);
	float *centers;
	void *scratch;
	vx::core::KmeansParams params;
	vx::core::Status status;
	Size raw_bytes = bs->traits->raw_bytes(dims, 0);
	char *raw;

	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, PROGRESS_IVFFLAT_PHASE_KMEANS);

	if (bs->heap != NULL) {
		BlockNumber blocks = RelationGetNumberOfBlocks(bs->heap);
		double max_tuples = (double) blocks * MaxHeapTuplesPerPage;

		if (max_tuples < want)
			want = (uint32) Max(max_tuples, 1.0);
	} else
		want = 0;

	if (fixed + (Size) Min(want, lists) * per_sample > budget)
		ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						errmsg("memory required is %zu MB, maintenance_work_mem is %d MB",
							   (fixed + (Size) Min(want, lists) * per_sample) / (1024 * 1024) + 1,
							   maintenance_work_mem / 1024)));
	if (fixed + (Size) want * per_sample > budget)
		want = (uint32) ((budget - fixed) / per_sample);

	bs->capacity = want;
	bs->nsamples = 0;
	bs->seen = 0;
	bs->samples = (float *) MemoryContextAllocHuge(CurrentMemoryContext, Max(sizeof(float) * (Size) want * dims, 1));
	bs->tmp = (float *) palloc(sizeof(float) * dims);
	if (bs->heap != NULL) {
		table_index_build_scan(bs->heap, bs->index, indexInfo, true, true, IvfflatSampleCallback, (void *) bs, NULL);
		if (bs->nsamples < lists)
			ereport(NOTICE, (errmsg("ivfflat index created with little data"),
							 errdetail("This will cause low recall."),
							 errhint("Drop the index until the table has more data.")));
	}

	centers = (float *) MemoryContextAllocHuge(CurrentMemoryContext, sizeof(float) * (Size) lists * dims);
	scratch = MemoryContextAllocHuge(CurrentMemoryContext, vx::core::kmeans_scratch_bytes(bs->nsamples, lists, dims));
	params.dim = dims;
	params.k = lists;
	params.spherical = bs->spherical;
	params.seed = 42;
	for (;;) {
		status = vx::core::kmeans(vx::kernels::active(), bs->samples, bs->nsamples, params, centers, scratch,
								  (const volatile int *) &InterruptPending);
		if (status != vx::core::Status::Interrupted)
			break;
		CHECK_FOR_INTERRUPTS();
	}
	if (status != vx::core::Status::Ok)
		elog(ERROR, "ivfflat k-means failed: %s", vx::core::status_name(status));
	pfree(scratch);
	pfree(bs->samples);
	bs->samples = NULL;

	/* centers as datums of the index's kind */
	raw = (char *) palloc0(raw_bytes);
	bs->centers = (char *) MemoryContextAllocHuge(CurrentMemoryContext, (Size) bs->meta.center_size * lists);
	memset(bs->centers, 0, (Size) bs->meta.center_size * lists);
	for (uint32 c = 0; c < lists; c++) {
		const float *v = centers + (Size) c * dims;

		switch ((VxElemKind) bs->meta.elem_kind) {
		case VX_ELEM_F32:
			memcpy(raw, v, sizeof(float) * dims);
			break;
		case VX_ELEM_F16:
			for (uint32 i = 0; i < dims; i++)
				((uint16 *) raw)[i] = vx::kernels::float_to_half(v[i]);
			break;
		case VX_ELEM_BIT:
			memset(raw, 0, raw_bytes);
			for (uint32 i = 0; i < dims; i++)
				if (v[i] >= 0.5f)
					raw[i / 8] |= (char) (0x80 >> (i % 8));
			break;
		default:
			break;
		}
		bs->traits->make_datum(raw, dims, bs->centers + (Size) c * bs->meta.center_size);
	}
	pfree(raw);
	pfree(centers);
}

/* Write the metapage, the directory and one empty entry page per list (no WAL). */
static void
IvfflatCreatePages(IvfflatBuildState *bs)
{
	Size item_size = IVFFLAT_LIST_SIZE(bs->meta.center_size);
	char *item = (char *) palloc0(item_size);
	Buffer buf;
	Page page;

	/* metapage: block 0 */
	buf = VxNewBuffer(bs->index, bs->fork);
	Assert(BufferGetBlockNumber(buf) == IVFFLAT_METAPAGE_BLKNO);
	page = BufferGetPage(buf);
	IvfflatInitPage(page, IVFFLAT_PAGE_META);
	bs->meta.first_directory = IVFFLAT_METAPAGE_BLKNO + 1;
	memcpy(PageGetContents(page), &bs->meta, sizeof(IvfflatMetaPageData));
	((PageHeader) page)->pd_lower = (PageGetContents(page) - page) + sizeof(IvfflatMetaPageData);
	MarkBufferDirty(buf);
	UnlockReleaseBuffer(buf);

	/* directory pages, entry pages not yet known */
	buf = InvalidBuffer;
	page = NULL;
	for (uint32 c = 0; c < bs->meta.lists; c++) {
		OffsetNumber off;

		if (page == NULL || PageGetFreeSpace(page) < item_size) {
			Buffer nbuf = VxNewBuffer(bs->index, bs->fork);

			IvfflatInitPage(BufferGetPage(nbuf), IVFFLAT_PAGE_DIRECTORY);
			if (BufferIsValid(buf)) {
				IvfflatPageGetOpaque(page)->next = BufferGetBlockNumber(nbuf);
				MarkBufferDirty(buf);
				UnlockReleaseBuffer(buf);
			}
			buf = nbuf;
			page = BufferGetPage(buf);
		}
		((IvfflatList) item)->start = InvalidBlockNumber;
		((IvfflatList) item)->insert = InvalidBlockNumber;
		memcpy(IVFFLAT_LIST_CENTER(item), bs->centers + (Size) c * bs->meta.center_size, bs->meta.center_size);
		off = PageAddItem(page, (Item) item, item_size, InvalidOffsetNumber, false, false);
		if (off == InvalidOffsetNumber)
			elog(ERROR, "failed to add index item to \"%s\"", RelationGetRelationName(bs->index));
		bs->locs[c].blkno = BufferGetBlockNumber(buf);
		bs->locs[c].offno = off;
	}
	MarkBufferDirty(buf);
	UnlockReleaseBuffer(buf);
	pfree(item);

	/* one entry page per list */
	for (uint32 c = 0; c < bs->meta.lists; c++) {
		buf = VxNewBuffer(bs->index, bs->fork);
		IvfflatInitPage(BufferGetPage(buf), IVFFLAT_PAGE_ENTRY);
		bs->start[c] = bs->insert[c] = BufferGetBlockNumber(buf);
		MarkBufferDirty(buf);
		UnlockReleaseBuffer(buf);
	}
}

/* The last page of the chain through blkno (no other process writes it any more). */
static BlockNumber
IvfflatChainEnd(IvfflatBuildState *bs, BlockNumber blkno)
{
	for (;;) {
		Buffer buf = ReadBufferExtended(bs->index, bs->fork, blkno, RBM_NORMAL, NULL);
		BlockNumber next;

		LockBuffer(buf, BUFFER_LOCK_SHARE);
		next = IvfflatPageGetOpaque(BufferGetPage(buf))->next;
		UnlockReleaseBuffer(buf);
		if (next == InvalidBlockNumber)
			return blkno;
		blkno = next;
	}
}

/*
 * Point every directory item at its first and last entry pages (no WAL).
 * After a parallel assignment the leader's last pages are only hints (the
 * workers appended too): the chains are followed to their ends.
 */
static void
IvfflatFinishDirectory(IvfflatBuildState *bs, bool parallel)
{
	Buffer buf = InvalidBuffer;

	for (uint32 c = 0; c < bs->meta.lists; c++) {
		IvfflatList list;
		Page page;

		if (!BufferIsValid(buf) || BufferGetBlockNumber(buf) != bs->locs[c].blkno) {
			if (BufferIsValid(buf)) {
				MarkBufferDirty(buf);
				UnlockReleaseBuffer(buf);
			}
			buf = ReadBufferExtended(bs->index, bs->fork, bs->locs[c].blkno, RBM_NORMAL, NULL);
			LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		}
		page = BufferGetPage(buf);
		list = (IvfflatList) PageGetItem(page, PageGetItemId(page, bs->locs[c].offno));
		if (parallel)
			bs->insert[c] = IvfflatChainEnd(bs, bs->insert[c]);
		list->start = bs->start[c];
		list->insert = bs->insert[c];
	}
	if (BufferIsValid(buf)) {
		MarkBufferDirty(buf);
		UnlockReleaseBuffer(buf);
	}
}

/* Assignment callback: append each row to its nearest list. */
static void
IvfflatAssignCallback(Relation index, ItemPointer tid, Datum *values, bool *isnull, bool tupleIsAlive, void *state)
{
	IvfflatBuildState *bs = (IvfflatBuildState *) state;
	MemoryContext old;
	Datum value;
	bool skip;

	if (isnull[0])
		return;
	old = MemoryContextSwitchTo(bs->tmp_ctx);
	value = IvfflatPrepareValue(&bs->dist, values[0], true, &skip);
	if (!skip) {
		const char *datum = DatumGetPointer(value);
		uint32 best = 0;
		float best_d = INFINITY;
		uint32 lists = bs->meta.lists;
		uint32 c = 0;

		if (bs->dist.fn4 != NULL)
			for (; c + 4 <= lists; c += 4) {
				const char *v[4];
				float out[4];

				for (int j = 0; j < 4; j++)
					v[j] = bs->centers + (Size) (c + j) * bs->meta.center_size;
				bs->dist.fn4(&bs->dist, datum, v, out);
				for (int j = 0; j < 4; j++)
					if (out[j] < best_d) {
						best_d = out[j];
						best = c + j;
					}
			}
		for (; c < lists; c++) {
			float d = bs->dist.fn(&bs->dist, datum, bs->centers + (Size) c * bs->meta.center_size);
			if (d < best_d) {
				best_d = d;
				best = c;
			}
		}
		IvfflatAppendEntry(bs->index, bs->fork, &bs->insert[best], datum, tid, true);
		bs->indtuples++;
		if (bs->shared != NULL) {
			uint64 n = pg_atomic_add_fetch_u64(&bs->shared->indtuples, 1);

			if (bs->leader)
				pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, (int64) n);
		} else
			pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, (int64) bs->indtuples);
	}
	MemoryContextSwitchTo(old);
	MemoryContextReset(bs->tmp_ctx);
}


/* One participant's part of the parallel heap scan; then count it done. */
static void
IvfflatParallelScan(IvfflatBuildState *bs, bool progress)
{
	IvfflatBuildShared *shared = bs->shared;
	IndexInfo *index_info = BuildIndexInfo(bs->index);
	TableScanDesc scan;
	double reltuples;

	index_info->ii_Concurrent = shared->isconcurrent;
	scan = table_beginscan_parallel(bs->heap, IvfflatSharedTableScan(shared));
	/* ends the scan */
	reltuples = table_index_build_scan(bs->heap, bs->index, index_info, true, progress, IvfflatAssignCallback,
									   (void *) bs, scan);
	SpinLockAcquire(&shared->mutex);
	shared->nparticipantsdone++;
	shared->reltuples += reltuples;
	if (index_info->ii_BrokenHotChain)
		shared->brokenhotchain = true;
	SpinLockRelease(&shared->mutex);
	ConditionVariableBroadcast(&shared->cv);
}

/*
 * Leader: assign the rows with nworkers parallel workers (each scans part
 * of the heap and appends to the lists under the same page locks as
 * inserts); false if no worker could be started (then nothing was done).
 */
static bool
IvfflatParallelAssign(IvfflatBuildState *bs, IndexInfo *indexInfo, int nworkers)
{
	ParallelContext *pcxt;
	IvfflatBuildShared *shared;
	Snapshot snapshot;
	bool isconcurrent = indexInfo->ii_Concurrent;
	Size shared_bytes;
	WalUsage *walusage;
	BufferUsage *bufferusage;
	int participants;

	EnterParallelMode();
	pcxt = CreateParallelContext("vector", "IvfflatParallelBuildMain", nworkers);
	/* CREATE INDEX CONCURRENTLY scans with an MVCC snapshot, a plain build sees every tuple */
	snapshot = isconcurrent ? RegisterSnapshot(GetTransactionSnapshot()) : SnapshotAny;
	shared_bytes = add_size(BUFFERALIGN(sizeof(IvfflatBuildShared)), table_parallelscan_estimate(bs->heap, snapshot));
	shm_toc_estimate_chunk(&pcxt->estimator, shared_bytes);
	shm_toc_estimate_chunk(&pcxt->estimator, mul_size(sizeof(WalUsage), pcxt->nworkers));
	shm_toc_estimate_chunk(&pcxt->estimator, mul_size(sizeof(BufferUsage), pcxt->nworkers));
	shm_toc_estimate_keys(&pcxt->estimator, 3);
	VxParallelEstimateQueryText(pcxt);
	InitializeParallelDSM(pcxt);
	if (pcxt->seg == NULL) {
		if (IsMVCCSnapshot(snapshot))
			UnregisterSnapshot(snapshot);
		DestroyParallelContext(pcxt);
		ExitParallelMode();
		return false;
	}

	shared = (IvfflatBuildShared *) shm_toc_allocate(pcxt->toc, shared_bytes);
	shared->heaprelid = RelationGetRelid(bs->heap);
	shared->indexrelid = RelationGetRelid(bs->index);
	shared->isconcurrent = isconcurrent;
	SpinLockInit(&shared->mutex);
	ConditionVariableInit(&shared->cv);
	shared->nparticipantsdone = 0;
	shared->reltuples = 0;
	shared->brokenhotchain = false;
	pg_atomic_init_u64(&shared->indtuples, 0);
	table_parallelscan_initialize(bs->heap, IvfflatSharedTableScan(shared), snapshot);
	shm_toc_insert(pcxt->toc, IVFFLAT_KEY_SHARED, shared);
	walusage = (WalUsage *) shm_toc_allocate(pcxt->toc, mul_size(sizeof(WalUsage), pcxt->nworkers));
	shm_toc_insert(pcxt->toc, IVFFLAT_KEY_WAL_USAGE, walusage);
	bufferusage = (BufferUsage *) shm_toc_allocate(pcxt->toc, mul_size(sizeof(BufferUsage), pcxt->nworkers));
	shm_toc_insert(pcxt->toc, IVFFLAT_KEY_BUFFER_USAGE, bufferusage);
	VxParallelStoreQueryText(pcxt, IVFFLAT_KEY_QUERY_TEXT);

	/* the workers read the metapage and directory through shared buffers: they are written already */
	LaunchParallelWorkers(pcxt);
	if (pcxt->nworkers_launched == 0) {
		WaitForParallelWorkersToFinish(pcxt);
		if (IsMVCCSnapshot(snapshot))
			UnregisterSnapshot(snapshot);
		DestroyParallelContext(pcxt);
		ExitParallelMode();
		return false;
	}
	ereport(DEBUG1, (errmsg_internal("ivfflat build: %d parallel workers launched", pcxt->nworkers_launched)));

	bs->shared = shared;
	bs->leader = true;
	participants = pcxt->nworkers_launched + 1;
	IvfflatParallelScan(bs, true);
	for (;;) {
		bool done;

		SpinLockAcquire(&shared->mutex);
		done = shared->nparticipantsdone >= participants;
		SpinLockRelease(&shared->mutex);
		if (done)
			break;
		ConditionVariableSleep(&shared->cv, WAIT_EVENT_PARALLEL_CREATE_INDEX_SCAN);
	}
	ConditionVariableCancelSleep();
	bs->reltuples = shared->reltuples;
	bs->indtuples = (double) pg_atomic_read_u64(&shared->indtuples);
	if (shared->brokenhotchain)
		indexInfo->ii_BrokenHotChain = true;

	WaitForParallelWorkersToFinish(pcxt);
	for (int i = 0; i < pcxt->nworkers_launched; i++)
		InstrAccumParallelQuery(&bufferusage[i], &walusage[i]);
	if (IsMVCCSnapshot(snapshot))
		UnregisterSnapshot(snapshot);
	DestroyParallelContext(pcxt);
	ExitParallelMode();
	bs->shared = NULL;
	return true;
}

/*
 * Entry point of a parallel build worker (found by name in the "vector"
 * library): the centers and each list's first page come from the metapage
 * and directory the leader wrote, then its part of the heap is assigned.
 */
void
IvfflatParallelBuildMain(dsm_segment *seg, shm_toc *toc)
{
	IvfflatBuildShared *shared;
	IvfflatBuildState bs;
	LOCKMODE heap_lockmode;
	LOCKMODE index_lockmode;
	BlockNumber blkno;
	BlockNumber last_directory = InvalidBlockNumber;
	uint32 c = 0;

	VxParallelWorkerQueryText(toc, IVFFLAT_KEY_QUERY_TEXT);
	shared = (IvfflatBuildShared *) shm_toc_lookup(toc, IVFFLAT_KEY_SHARED, false);

	/* the lock modes index.c already holds in the leader */
	if (!shared->isconcurrent) {
		heap_lockmode = ShareLock;
		index_lockmode = AccessExclusiveLock;
	} else {
		heap_lockmode = ShareUpdateExclusiveLock;
		index_lockmode = RowExclusiveLock;
	}

	memset(&bs, 0, sizeof(bs));
	bs.heap = table_open(shared->heaprelid, heap_lockmode);
	bs.index = index_open(shared->indexrelid, index_lockmode);
	bs.fork = MAIN_FORKNUM;
	bs.shared = shared;
	bs.leader = false;
	IvfflatReadMeta(bs.index, &bs.meta);
	IvfflatInitDistance(&bs.dist, &bs.meta);
	bs.traits = VxElemTraitsOf((VxElemKind) bs.meta.elem_kind);
	bs.tmp_ctx = AllocSetContextCreate(CurrentMemoryContext, "ivfflat build tuple", ALLOCSET_DEFAULT_SIZES);
	bs.centers = (char *) MemoryContextAllocHuge(CurrentMemoryContext, (Size) bs.meta.center_size * bs.meta.lists);
	bs.insert = palloc_array(BlockNumber, bs.meta.lists);
	for (blkno = bs.meta.first_directory; blkno != InvalidBlockNumber;) {
		Buffer buf = ReadBuffer(bs.index, blkno);
		Page page;

		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		IvfflatCheckPage(bs.index, page, IVFFLAT_PAGE_DIRECTORY, blkno);
		for (OffsetNumber off = FirstOffsetNumber; off <= PageGetMaxOffsetNumber(page) && c < bs.meta.lists; off++) {
			IvfflatList list = (IvfflatList) PageGetItem(page, PageGetItemId(page, off));

			memcpy(bs.centers + (Size) c * bs.meta.center_size, IVFFLAT_LIST_CENTER(list), bs.meta.center_size);
			c++;
		}
		last_directory = blkno;
		blkno = IvfflatPageGetOpaque(page)->next;
		UnlockReleaseBuffer(buf);
	}
	if (c != bs.meta.lists)
		elog(ERROR, "ivfflat parallel build: %u lists in the directory, expected %u", c, bs.meta.lists);
	/* the first entry pages follow the last directory page, one per list in order (IvfflatCreatePages) */
	{
		BlockNumber first = last_directory + 1;

		for (c = 0; c < bs.meta.lists; c++)
			bs.insert[c] = first + c;
	}

	InstrStartParallelQuery();
	IvfflatParallelScan(&bs, false);
	InstrEndParallelQuery(&((BufferUsage *) shm_toc_lookup(toc, IVFFLAT_KEY_BUFFER_USAGE, false))[ParallelWorkerNumber],
						  &((WalUsage *) shm_toc_lookup(toc, IVFFLAT_KEY_WAL_USAGE, false))[ParallelWorkerNumber]);

	index_close(bs.index, index_lockmode);
	table_close(bs.heap, heap_lockmode);
}

/* Build the index into fork (MAIN, or INIT for an unlogged table's empty index). */
static void
IvfflatBuildIndex(Relation heap, Relation index, IndexInfo *indexInfo, IvfflatBuildState *bs, ForkNumber fork)
{
	const VxTypeInfo *info = IvfflatTypeInfo(index);
	bool parallel = false;
	int dimensions = TupleDescAttr(RelationGetDescr(index), 0)->atttypmod;
	VxMetric metric;

	memset(bs, 0, sizeof(*bs));
	bs->heap = heap;
	bs->index = index;
	bs->fork = fork;
	bs->rng.state = 0x1f2e3d4c5b6a7988ull;

	if (dimensions < 0)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("column does not have dimensions")));
	if (dimensions > info->max_dimensions)
		ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						errmsg("column cannot have more than %d dimensions for ivfflat index", info->max_dimensions)));
	metric = VxGetMetric(index, info->kind, "ivfflat");
	if (!VxDistanceSupported(info->kind, metric) ||
		(metric != VX_METRIC_L2 && metric != VX_METRIC_IP && metric != VX_METRIC_COSINE &&
		 metric != VX_METRIC_HAMMING))
		ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED), errmsg("ivfflat does not support this operator class")));
	/* spherical k-means (pgvector's FUNCTION 4) needs more than one dimension */
	bs->spherical = OidIsValid(index_getprocid(index, 1, IVFFLAT_KMEANS_NORM_PROC));
	if (bs->spherical && dimensions == 1)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("dimensions must be greater than one for this opclass")));

	bs->traits = VxElemTraitsOf(info->kind);
	bs->meta.magic = IVFFLAT_MAGIC;
	bs->meta.version = IVFFLAT_VERSION;
	bs->meta.elem_kind = (uint16) info->kind;
	bs->meta.metric = (uint16) metric;
	bs->meta.dimensions = (uint32) dimensions;
	bs->meta.lists = (uint32) IvfflatGetLists(index);
	bs->meta.center_size = (uint32) MAXALIGN(bs->traits->datum_size(dimensions, 0));
	bs->meta.first_directory = InvalidBlockNumber;
	if (Max(IVFFLAT_LIST_SIZE(bs->meta.center_size), IVFFLAT_ENTRY_SIZE(bs->meta.center_size)) > IVFFLAT_MAX_ITEM_SIZE)
		ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						errmsg("column cannot have more than %d dimensions for ivfflat index", info->max_dimensions)));
	IvfflatInitDistance(&bs->dist, &bs->meta);

	bs->tmp_ctx = AllocSetContextCreate(CurrentMemoryContext, "ivfflat build tuple", ALLOCSET_DEFAULT_SIZES);
	bs->locs = palloc_array(IvfflatListLoc, bs->meta.lists);
	bs->start = palloc_array(BlockNumber, bs->meta.lists);
	bs->insert = palloc_array(BlockNumber, bs->meta.lists);

	IvfflatComputeCenters(bs, indexInfo);
	IvfflatCreatePages(bs);

	if (heap != NULL) {
		/* the planner's choice: max_parallel_maintenance_workers, the table's parallel_workers, its size */
		int nworkers = plan_create_index_workers(RelationGetRelid(heap), RelationGetRelid(index));

		pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, PROGRESS_IVFFLAT_PHASE_ASSIGN);
		/* the sampling scan counted the rows to assign */
		pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_TOTAL, (int64) bs->indexable);
		pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, 0);
		if (nworkers > 0 && IvfflatParallelAssign(bs, indexInfo, nworkers))
			parallel = true;
		else
			bs->reltuples =
				table_index_build_scan(heap, index, indexInfo, true, true, IvfflatAssignCallback, (void *) bs, NULL);
	}
	IvfflatFinishDirectory(bs, parallel);

	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, PROGRESS_IVFFLAT_PHASE_LOAD);
	/* the pages were written without WAL; an unlogged table's init fork is always logged */
	VxLogBuiltIndex(index, fork);
	MemoryContextDelete(bs->tmp_ctx);
}

/* ambuild: CREATE INDEX / REINDEX. */
IndexBuildResult *
ivfflatbuild(Relation heap, Relation index, IndexInfo *indexInfo)
{
	IndexBuildResult *result;
	IvfflatBuildState bs;

	if (RelationGetNumberOfBlocks(index) != 0)
		elog(ERROR, "index \"%s\" already contains data", RelationGetRelationName(index));
	IvfflatBuildIndex(heap, index, indexInfo, &bs, MAIN_FORKNUM);

	result = palloc_object(IndexBuildResult);
	result->heap_tuples = bs.reltuples;
	result->index_tuples = bs.indtuples;
	return result;
}

/* ambuildempty: the init fork of an unlogged table's index (random centers, empty lists). */
void
ivfflatbuildempty(Relation index)
{
	IvfflatBuildState bs;

	IvfflatBuildIndex(NULL, index, BuildIndexInfo(index), &bs, INIT_FORKNUM);
}
