/*
 * build_parallel.cpp -- parallel hnsw builds: PostgreSQL parallel workers
 * insert into one in-memory graph in dynamic shared memory.
 *
 * The leader (the backend running CREATE INDEX) creates a parallel context
 * whose segment holds:
 *   - HnswBuildShared: relation ids, the scan's ParallelTableScanDesc,
 *     counters and the coordination state below, under a spinlock, with a
 *     condition variable to wait on;
 *   - the build area (build_graph.cpp): the graph's arena, sized for
 *     maintenance_work_mem (and for not much more than the rows the table is
 *     estimated to hold: the segment is allocated eagerly);
 *   - the query text and per-worker buffer and WAL usage, as btree does.
 * Workers (HnswParallelBuildMain, found by name in the "vector" library) and
 * the leader, unless parallel_leader_participation is off, each scan part of
 * the heap (table_beginscan_parallel) and insert every row with
 * HnswBuildCallback into the shared graph through the core's Concurrent
 * policy. Ids come from the graph's atomic allocator, levels from each
 * participant's own generator (seeded with its number).
 *
 * When the graph is full (phase IN_MEMORY -> FULL, set by the participant
 * whose insert failed), no one starts another in-memory insert; the leader
 * waits until the inserts already running are done (ngraphinserts = 0),
 * writes the graph to pages and sets phase ON_PAGES; every participant then
 * inserts its remaining rows on pages, concurrently, as aminsert does. The
 * leader notices FULL at its next row, or in its final wait if its own scan
 * is over. Nobody waits while inside an in-memory insert, and only the
 * leader waits for those, so there is no cycle.
 *
 * Once every participant reported its scan done, the leader (if the graph
 * was never flushed) writes the pages from the shared graph, then ends the
 * parallel context. Errors in workers reach the leader through the parallel
 * infrastructure (CHECK_FOR_INTERRUPTS in its waits); the segment goes away
 * with the context or the aborted transaction.
 */
#include "vx/pg.h"

#include "vx/am/parallel.h"
#include "vx/hnsw/build.h"
#include "vx/hnsw/hnsw.h"

/* Keys of the parallel context's table of contents */
#define HNSW_KEY_SHARED UINT64CONST(0x56584E4800000001)
#define HNSW_KEY_AREA UINT64CONST(0x56584E4800000002)
#define HNSW_KEY_QUERY_TEXT UINT64CONST(0x56584E4800000003)
#define HNSW_KEY_WAL_USAGE UINT64CONST(0x56584E4800000004)
#define HNSW_KEY_BUFFER_USAGE UINT64CONST(0x56584E4800000005)

/* State shared by the participants of a parallel build (in the segment). */
typedef struct HnswBuildShared
{
	/* set by the leader before launching workers, read-only afterwards */
	Oid heaprelid;
	Oid indexrelid;
	bool isconcurrent;
	int participants; /* planned scanning participants (pin cache shares) */
	uint64 seed;

	slock_t mutex;
	ConditionVariable cv; /* a participant finished, the phase changed, or in-memory inserts drained */

	/* under mutex */
	int nparticipantsdone;
	double reltuples;
	bool brokenhotchain;
	HnswBuildPhase phase;
	int ngraphinserts; /* participants inside an in-memory insert */

	pg_atomic_uint64 indtuples; /* values indexed, all participants */

	/* ParallelTableScanDescData follows */
} HnswBuildShared;

#define HnswSharedTableScan(shared) ((ParallelTableScanDesc) ((char *) (shared) + BUFFERALIGN(sizeof(HnswBuildShared))))

/* One process's handle on the parallel build. */
typedef struct HnswParallelBuildData
{
	ParallelContext *pcxt; /* leader only */
	HnswBuildShared *shared;
	Snapshot snapshot;	/* leader: the scan's */
	int participants;	/* leader: scanning participants actually running */
	bool leader_scans;	/* leader: it scans too */
	WalUsage *walusage; /* leader: per worker */
	BufferUsage *bufferusage;
} HnswParallelBuildData;

extern "C" PGDLLEXPORT void HnswParallelBuildMain(dsm_segment *seg, shm_toc *toc);

/* Rows the table is expected to hold (the planner's estimate, from its current size). */
static double
HnswEstimateRows(Relation heap)
{
	BlockNumber pages;
	double tuples;
	double allvisfrac;

	estimate_rel_size(heap, NULL, &pages, &tuples, &allvisfrac);
	return tuples;
}

/*
 * Leader: set up the parallel context and launch up to nworkers workers.
 * False (and nothing to clean up) when no worker could be started: the
 * caller then builds serially.
 */
bool
HnswParallelBegin(HnswBuildState *bs, int nworkers, uint64 seed)
{
	ParallelContext *pcxt;
	HnswParallelBuildData *par;
	HnswBuildShared *shared;
	Snapshot snapshot;
	bool isconcurrent = bs->index_info->ii_Concurrent;
	bool leader_scans = parallel_leader_participation;
	int participants = nworkers + (leader_scans ? 1 : 0);
	/* the segment is allocated eagerly: no bigger than the rows need, with a margin (a miss only spills) */
	double max_elements = HnswEstimateRows(bs->heap) * 1.2 + 1000;
	Size budget = HnswBuildBudget();
	Size shared_bytes;
	Size area_bytes;
	char *area;
	MemoryContext old;

	EnterParallelMode();
	pcxt = CreateParallelContext("vector", "HnswParallelBuildMain", nworkers);

	/* CREATE INDEX CONCURRENTLY scans with an MVCC snapshot, a plain build sees every tuple */
	snapshot = isconcurrent ? RegisterSnapshot(GetTransactionSnapshot()) : SnapshotAny;

	/* the budget counts every process's insert scratch, the leader's included */
	shared_bytes = add_size(BUFFERALIGN(sizeof(HnswBuildShared)), table_parallelscan_estimate(bs->heap, snapshot));
	area_bytes = HnswBuildAreaSize(&bs->meta, budget, nworkers + 1, max_elements);
	shm_toc_estimate_chunk(&pcxt->estimator, shared_bytes);
	shm_toc_estimate_chunk(&pcxt->estimator, area_bytes);
	shm_toc_estimate_chunk(&pcxt->estimator, mul_size(sizeof(WalUsage), pcxt->nworkers));
	shm_toc_estimate_chunk(&pcxt->estimator, mul_size(sizeof(BufferUsage), pcxt->nworkers));
	shm_toc_estimate_keys(&pcxt->estimator, 4);
	VxParallelEstimateQueryText(pcxt);

	InitializeParallelDSM(pcxt);
	if (pcxt->seg == NULL) {
		/* no segment available: build serially */
		if (IsMVCCSnapshot(snapshot))
			UnregisterSnapshot(snapshot);
		DestroyParallelContext(pcxt);
		ExitParallelMode();
		return false;
	}

	shared = (HnswBuildShared *) shm_toc_allocate(pcxt->toc, shared_bytes);
	shared->heaprelid = RelationGetRelid(bs->heap);
	shared->indexrelid = RelationGetRelid(bs->index);
	shared->isconcurrent = isconcurrent;
	shared->participants = participants;
	shared->seed = seed;
	SpinLockInit(&shared->mutex);
	ConditionVariableInit(&shared->cv);
	shared->nparticipantsdone = 0;
	shared->reltuples = 0;
	shared->brokenhotchain = false;
	shared->phase = HNSW_BUILD_IN_MEMORY;
	shared->ngraphinserts = 0;
	pg_atomic_init_u64(&shared->indtuples, 0);
	table_parallelscan_initialize(bs->heap, HnswSharedTableScan(shared), snapshot);
	shm_toc_insert(pcxt->toc, HNSW_KEY_SHARED, shared);

	area = (char *) shm_toc_allocate(pcxt->toc, area_bytes);
	HnswBuildAreaCreate(area, &bs->meta, budget, nworkers + 1, max_elements);
	shm_toc_insert(pcxt->toc, HNSW_KEY_AREA, area);

	par = (HnswParallelBuildData *) MemoryContextAllocZero(bs->graph_ctx, sizeof(HnswParallelBuildData));
	par->walusage = (WalUsage *) shm_toc_allocate(pcxt->toc, mul_size(sizeof(WalUsage), pcxt->nworkers));
	shm_toc_insert(pcxt->toc, HNSW_KEY_WAL_USAGE, par->walusage);
	par->bufferusage = (BufferUsage *) shm_toc_allocate(pcxt->toc, mul_size(sizeof(BufferUsage), pcxt->nworkers));
	shm_toc_insert(pcxt->toc, HNSW_KEY_BUFFER_USAGE, par->bufferusage);
	VxParallelStoreQueryText(pcxt, HNSW_KEY_QUERY_TEXT);

	LaunchParallelWorkers(pcxt);
	par->pcxt = pcxt;
	par->shared = shared;
	par->snapshot = snapshot;
	par->leader_scans = leader_scans;
	par->participants = pcxt->nworkers_launched + (leader_scans ? 1 : 0);
	bs->parallel = par;

	if (pcxt->nworkers_launched == 0) {
		/* no worker: build serially (the segment goes away unused) */
		HnswParallelEnd(bs);
		return false;
	}
	/* pgvector's message; whether the leader scans as well goes in the detail */
	ereport(DEBUG1, (errmsg("using %d parallel workers", pcxt->nworkers_launched),
					 errdetail_internal("The leader %s.", leader_scans ? "scans too" : "only waits")));

	old = MemoryContextSwitchTo(bs->graph_ctx);
	HnswBuildGraphAttach(&bs->graph, area, &bs->meta, &bs->dist, true);
	MemoryContextSwitchTo(old);
	return true;
}

/* Scanning participants planned (each gets its share of the pins on-page inserts may keep). */
int
HnswParallelParticipants(HnswBuildState *bs)
{
	return Max(bs->parallel->shared->participants, 1);
}

/* One participant's part of the heap scan; then count it done. */
static void
HnswParallelScan(HnswBuildState *bs, bool progress)
{
	HnswBuildShared *shared = bs->parallel->shared;
	IndexInfo *index_info = BuildIndexInfo(bs->index);
	TableScanDesc scan;
	double reltuples;

	index_info->ii_Concurrent = shared->isconcurrent;
	scan = table_beginscan_parallel(bs->heap, HnswSharedTableScan(shared));
	/* ends the scan */
	reltuples = table_index_build_scan(bs->heap, bs->index, index_info, true, progress, HnswBuildCallback, (void *) bs,
									   scan);
	HnswBuildFinishScan(bs);

	SpinLockAcquire(&shared->mutex);
	shared->nparticipantsdone++;
	shared->reltuples += reltuples;
	if (index_info->ii_BrokenHotChain)
		shared->brokenhotchain = true;
	SpinLockRelease(&shared->mutex);
	ConditionVariableBroadcast(&shared->cv);
}

/* Leader: write the full graph to pages and let everyone go on there (no in-memory insert is running). */
static void
HnswParallelFlush(HnswBuildState *bs)
{
	HnswBuildShared *shared = bs->parallel->shared;

	HnswBuildNoticeFull(bs);
	HnswBuildFlush(bs);
	SpinLockAcquire(&shared->mutex);
	shared->phase = HNSW_BUILD_ON_PAGES;
	SpinLockRelease(&shared->mutex);
	ConditionVariableBroadcast(&shared->cv);
}

/*
 * Leader: scan its part of the heap (unless it does not participate), then
 * wait for every worker, flushing the graph if one reports it full; leaves
 * the totals in bs.
 */
void
HnswParallelLeaderScan(HnswBuildState *bs)
{
	HnswParallelBuildData *par = bs->parallel;
	HnswBuildShared *shared = par->shared;

	if (par->leader_scans)
		HnswParallelScan(bs, true);

	/* a worker that failed to start raises an ERROR here instead of being waited for */
	WaitForParallelWorkersToAttach(par->pcxt);

	for (;;) {
		bool done;
		bool flush;

		SpinLockAcquire(&shared->mutex);
		done = shared->nparticipantsdone == par->participants;
		flush = shared->phase == HNSW_BUILD_FULL && shared->ngraphinserts == 0;
		SpinLockRelease(&shared->mutex);

		if (flush)
			HnswParallelFlush(bs);
		else if (done)
			break;
		pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, (int64) pg_atomic_read_u64(&shared->indtuples));
		/* timed: the tuple count above is refreshed while workers insert */
		(void) ConditionVariableTimedSleep(&shared->cv, 200, WAIT_EVENT_PARALLEL_CREATE_INDEX_SCAN);
	}
	ConditionVariableCancelSleep();

	bs->reltuples = shared->reltuples;
	bs->indtuples = (double) pg_atomic_read_u64(&shared->indtuples);
	if (shared->brokenhotchain)
		bs->index_info->ii_BrokenHotChain = true;
	pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, (int64) bs->indtuples);
}

/* Whether this participant may insert into the in-memory graph now (then it must call HnswParallelLeaveGraph). */
bool
HnswParallelEnterGraph(HnswBuildState *bs)
{
	HnswBuildShared *shared = bs->parallel->shared;
	bool enter;

	SpinLockAcquire(&shared->mutex);
	enter = shared->phase == HNSW_BUILD_IN_MEMORY;
	if (enter)
		shared->ngraphinserts++;
	SpinLockRelease(&shared->mutex);
	return enter;
}

/* The in-memory insert is over; added = false: the graph is full. */
void
HnswParallelLeaveGraph(HnswBuildState *bs, bool added)
{
	HnswBuildShared *shared = bs->parallel->shared;
	bool wake;

	SpinLockAcquire(&shared->mutex);
	shared->ngraphinserts--;
	if (!added && shared->phase == HNSW_BUILD_IN_MEMORY)
		shared->phase = HNSW_BUILD_FULL;
	wake = shared->phase == HNSW_BUILD_FULL && shared->ngraphinserts == 0;
	SpinLockRelease(&shared->mutex);
	if (wake)
		ConditionVariableBroadcast(&shared->cv);
}

/*
 * The graph is full: wait until it is on pages (the leader writes it once no
 * in-memory insert is running), then prepare this participant's on-page
 * inserts.
 */
void
HnswParallelWaitOnPages(HnswBuildState *bs)
{
	HnswBuildShared *shared = bs->parallel->shared;

	for (;;) {
		HnswBuildPhase phase;
		int busy;

		SpinLockAcquire(&shared->mutex);
		phase = shared->phase;
		busy = shared->ngraphinserts;
		SpinLockRelease(&shared->mutex);

		if (phase == HNSW_BUILD_ON_PAGES)
			break;
		if (bs->leader && busy == 0) {
			HnswParallelFlush(bs);
			break;
		}
		ConditionVariableSleep(&shared->cv, WAIT_EVENT_PARALLEL_CREATE_INDEX_SCAN);
	}
	ConditionVariableCancelSleep();
	HnswBuildStartOnPages(bs);
}

/* Count one indexed value for all participants; the leader reports the total as progress. */
void
HnswParallelReportTuple(HnswBuildState *bs)
{
	uint64 n = pg_atomic_add_fetch_u64(&bs->parallel->shared->indtuples, 1);

	if (bs->leader)
		pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, (int64) n);
}

/* Leader: wait for the workers to exit, take their buffer and WAL usage, end the parallel context. */
void
HnswParallelEnd(HnswBuildState *bs)
{
	HnswParallelBuildData *par = bs->parallel;

	WaitForParallelWorkersToFinish(par->pcxt);
	for (int i = 0; i < par->pcxt->nworkers_launched; i++)
		InstrAccumParallelQuery(&par->bufferusage[i], &par->walusage[i]);
	if (IsMVCCSnapshot(par->snapshot))
		UnregisterSnapshot(par->snapshot);
	DestroyParallelContext(par->pcxt);
	ExitParallelMode();
	bs->parallel = NULL;
}

/* Entry point of a parallel build worker (found by name in the "vector" library). */
void
HnswParallelBuildMain(dsm_segment *seg, shm_toc *toc)
{
	HnswBuildShared *shared;
	HnswParallelBuildData par;
	HnswBuildState bs;
	Relation heap;
	Relation index;
	LOCKMODE heap_lockmode;
	LOCKMODE index_lockmode;
	MemoryContext old;

	VxParallelWorkerQueryText(toc, HNSW_KEY_QUERY_TEXT);

	shared = (HnswBuildShared *) shm_toc_lookup(toc, HNSW_KEY_SHARED, false);

	/* the lock modes index.c already holds in the leader */
	if (!shared->isconcurrent) {
		heap_lockmode = ShareLock;
		index_lockmode = AccessExclusiveLock;
	} else {
		heap_lockmode = ShareUpdateExclusiveLock;
		index_lockmode = RowExclusiveLock;
	}
	heap = table_open(shared->heaprelid, heap_lockmode);
	index = index_open(shared->indexrelid, index_lockmode);

	HnswBuildStateInit(&bs, heap, index, NULL, MAIN_FORKNUM, shared->seed + 1 + ParallelWorkerNumber);
	MemSet(&par, 0, sizeof(par));
	par.shared = shared;
	bs.parallel = &par;
	bs.leader = false;
	old = MemoryContextSwitchTo(bs.graph_ctx);
	HnswBuildGraphAttach(&bs.graph, (char *) shm_toc_lookup(toc, HNSW_KEY_AREA, false), &bs.meta, &bs.dist, true);
	MemoryContextSwitchTo(old);

	InstrStartParallelQuery();
	HnswParallelScan(&bs, false);
	InstrEndParallelQuery(&((BufferUsage *) shm_toc_lookup(toc, HNSW_KEY_BUFFER_USAGE, false))[ParallelWorkerNumber],
						  &((WalUsage *) shm_toc_lookup(toc, HNSW_KEY_WAL_USAGE, false))[ParallelWorkerNumber]);

	index_close(index, index_lockmode);
	table_close(heap, heap_lockmode);
}
