/*
 * scan.cpp -- index scans of hnsw: ORDER BY <operator> <query> [LIMIT k].
 *
 * A scan reads the metapage once for the entry point, descends greedily
 * through the upper levels (vx::core::greedy_search_layer) and searches
 * level 0 with a beam of width hnsw.ef_search, then returns the results
 * nearest first, with their operator value in xs_orderbyvals (exact, so
 * xs_recheckorderby = false). Deleted elements are traversed but not
 * returned. Everything runs over the page-backed view of graph.cpp.
 *
 * The query (ORDER BY argument) is only known at amrescan, and may be a
 * Param: it is prepared (detoasted, normalized for cosine) on the first
 * amgettuple after each rescan. A NULL query puts every element at the same
 * distance: rows come back in graph order with NULL ORDER BY values, as
 * pgvector does (and as an exact sort would, NULLs being rows too).
 *
 * With hnsw.iterative_scan off, level 0 is vx::core::search_layer. With it
 * on, level 0 is a resumable form of the same beam search, so that the scan
 * can go on when the executor wants more rows than a batch held (a filter
 * rejected them):
 *   - the frontier (candidates still to expand, a min-heap) and the pool
 *     (candidates evaluated but not in a batch: rejected or evicted, a
 *     min-heap) survive between batches, and so does the visited set;
 *   - a batch fills its ef-wide result heap from the pool's nearest, puts
 *     them on the frontier too, and runs the usual loop (stop when the
 *     nearest frontier candidate is farther than the worst result);
 *   - each element is returned at most once, and no distance is computed
 *     twice: the work is that of one ever-growing search.
 * relaxed_order returns each batch in its order; strict_order skips rows
 * nearer than the last one returned, so the output stays sorted. Batches
 * stop when hnsw.max_scan_tuples distances have been computed, when the
 * frontier and pool would exceed work_mem * hnsw.scan_mem_multiplier (with
 * a NOTICE), or when nothing is left.
 *
 * No heavyweight lock is taken: pages are read under one share lock at a
 * time. Under an MVCC snapshot a heap TID collected before a concurrent
 * vacuum either still has its dead tuple or names a tuple inserted after the
 * snapshot, which the heap fetch skips; so, like pgvector, only MVCC
 * snapshots are supported. Elements allocated after the scan read the
 * metapage belong to transactions the snapshot cannot see and are ignored.
 *
 * Memory: the scan context holds the view's pin cache, the search memory
 * and results; the query context is reset at every rescan. The visited set
 * is the backend's cached one when no other scan uses it.
 */
#include "vx/pg.h"

#include "vx/am/visited.h"
#include "vx/am/scan.h"
#include "vx/core/hnsw_algo.hpp"
#include "vx/hnsw/hnsw.h"
#include "vx/hnsw/page_view.hpp"

#include <limits>

using vx::core::Candidate;

typedef struct HnswScanOpaqueData
{
	MemoryContext scan_ctx;	 /* lives until endscan */
	MemoryContext query_ctx; /* reset at every rescan */

	HnswMetaPageData meta; /* as read by this search */
	VxDistanceData dist;
	HnswViewData view;
	bool view_ready;

	bool searched; /* the first batch ran since the last rescan */
	bool exhausted;
	char *query; /* prepared query datum, NULL for a NULL query */

	/* search memory */
	vx::core::VisitedSet *visited;
	bool visited_cached;
	uint32 visited_limit;
	vx::core::SearchScratch scratch;
	uint32 scratch_ef; /* scratch and results are sized for this ef */
	vx::core::SearchStats stats;

	/* current batch */
	Candidate *results;
	Candidate *ties; /* room for the search's ties (ef * (HNSW_HEAPTIDS - 1)) */
	uint32 nresults;
	uint32 next;
	uint32 ef;

	/* iterative scans */
	bool iterative;		 /* this search is resumable */
	vx::core::ResumableBeam beam; /* frontier and pool, kept between batches */
	Candidate entry;	   /* level-0 start of the first batch */
	Size budget;		   /* bytes the two heaps may take */
	float last_distance;
	bool returned_any;
} HnswScanOpaqueData;

typedef HnswScanOpaqueData *HnswScanOpaque;

/* ambeginscan: set up the scan (nothing is read before the first amgettuple). */
IndexScanDesc
hnswbeginscan(Relation index, int nkeys, int norderbys)
{
	HnswScanOpaque so = palloc0_object(HnswScanOpaqueData);

	so->scan_ctx = AllocSetContextCreate(CurrentMemoryContext, "Hnsw scan context", ALLOCSET_DEFAULT_SIZES);
	so->query_ctx = AllocSetContextCreate(so->scan_ctx, "Hnsw scan query context", ALLOCSET_SMALL_SIZES);
	return VxBeginScan(index, nkeys, norderbys, so);
}

/* amrescan: take the (new) ORDER BY argument; the search runs on the next amgettuple. */
void
hnswrescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys, int norderbys)
{
	HnswScanOpaque so = (HnswScanOpaque) scan->opaque;

	VxRescanKeys(scan, keys, orderbys);
	MemoryContextReset(so->query_ctx);
	so->searched = false;
	so->exhausted = false;
	so->query = NULL;
	so->nresults = 0;
	so->next = 0;
	so->returned_any = false;
	so->beam.clear();
}

/* Size the scratch and results for beam width ef. */
static void
HnswScanReserve(HnswScanOpaque so, uint32 ef)
{
	uint32 degree = 2 * so->meta.m;
	size_t bytes = vx::core::SearchScratch::bytes_needed(ef, degree);

	if (so->scratch_ef >= ef)
		return;
	if (so->scratch_ef > 0) {
		pfree(so->results);
		pfree(so->scratch.candidates);
	}
	if (!vx::core::SearchScratch::carve(MemoryContextAllocHuge(so->scan_ctx, bytes), bytes, ef, degree, &so->scratch))
		elog(ERROR, "could not set up hnsw search scratch");
	so->scratch.stats = &so->stats;
	/* results: ef, then the ties with the worst of them (see HnswScanBegin) */
	so->results = (Candidate *) MemoryContextAllocHuge(so->scan_ctx, sizeof(Candidate) * (Size) ef * HNSW_HEAPTIDS);
	so->ties = (Candidate *) MemoryContextAllocHuge(so->scan_ctx, sizeof(Candidate) * (Size) ef * (HNSW_HEAPTIDS - 1));
	so->scratch_ef = ef;
}

/*
 * One batch of the resumable search into so->results (vx::core's
 * resumable_batch, see the file comment); false when the memory budget
 * stopped it (the batch still holds what was found).
 */
static bool
HnswScanResumable(HnswScanOpaque so)
{
	HnswPageGraph graph{&so->view, so->visited_limit, HNSW_INVALID_ID};
	HnswPageDistance dist{&so->view, so->query};
	VxGrowPolicy grow{so->scan_ctx, so->budget, &so->beam};
	uint32_t nout = 0;
	bool ok;

	/* the beam keeps the scratch's copy-out buffers */
	so->beam.neighbor_buf = so->scratch.neighbor_buf;
	so->beam.pending = so->scratch.pending;
	ok = vx::core::resumable_batch(graph, dist, *so->visited, so->beam, &so->entry, 1, so->ef, VxAcceptAll{}, grow,
								   so->scratch.results, so->results, &nout, &so->stats);
	so->nresults = nout;
	so->next = 0;
	return ok;
}

/* First amgettuple after a rescan: prepare the query and run the first batch. */
static void
HnswScanBegin(IndexScanDesc scan)
{
	HnswScanOpaque so = (HnswScanOpaque) scan->opaque;
	Relation index = scan->indexRelation;
	MemoryContext old;
	bool skip;

	so->searched = true;
	pgstat_count_index_scan(index);

	if (scan->orderByData == NULL)
		elog(ERROR, "cannot scan hnsw index without order");
	/* TIDs are kept in memory without a pin on their page: see the file comment */
	if (!IsMVCCSnapshot(scan->xs_snapshot))
		elog(ERROR, "non-MVCC snapshots are not supported with hnsw");

	old = MemoryContextSwitchTo(so->scan_ctx);
	HnswReadMeta(index, &so->meta);
	if (!so->view_ready) {
		HnswInitDistance(&so->dist, &so->meta);
		HnswViewInit(&so->view, index, &so->meta, &so->dist);
		so->view_ready = true;
	}
	so->view.meta = so->meta; /* fresh entry point */

	/* a NULL query puts every element at the same (NULL) distance, as in pgvector */
	if (!(scan->orderByData->sk_flags & SK_ISNULL)) {
		MemoryContextSwitchTo(so->query_ctx);
		so->query = DatumGetPointer(HnswPrepareValue(&so->dist, scan->orderByData->sk_argument, false, &skip));
		MemoryContextSwitchTo(so->scan_ctx);
	}

	if (so->meta.entry_id == HNSW_INVALID_ID) {
		so->exhausted = true;
		MemoryContextSwitchTo(old);
		return;
	}
	if (so->query != NULL)
		VxCheckQuery(&so->dist, so->query);

	if (so->visited == NULL || so->visited_limit < so->meta.next_id) {
		if (so->visited != NULL)
			VxVisitedRelease(so->visited, so->visited_cached);
		so->visited = NULL;
		so->visited = VxVisitedAcquire(so->meta.next_id, &so->visited_cached);
	}
	so->visited_limit = so->meta.next_id;
	so->visited->reset();

	so->ef = hnsw_ef_search;
	so->stats.distances = 0;
	so->stats.expansions = 0;
	HnswScanReserve(so, so->ef);

	{
		HnswPageGraph graph{&so->view, so->visited_limit, HNSW_INVALID_ID};
		HnswPageDistance dist{&so->view, so->query};
		Candidate cur{dist(so->meta.entry_id), so->meta.entry_id};

		for (int l = so->meta.entry_level; l > 0; l--)
			cur = vx::core::greedy_search_layer(graph, dist, cur, l, so->scratch);

		so->iterative = hnsw_iterative_scan != HNSW_ITERATIVE_SCAN_OFF;
		if (so->iterative) {
			so->entry = cur;
			so->budget = (Size) ((double) work_mem * 1024.0 * hnsw_scan_mem_multiplier);
			HnswScanResumable(so);
		} else {
			/*
			 * Ties with the worst result are returned too, up to
			 * HNSW_HEAPTIDS - 1 per result: identical vectors are separate
			 * elements here, and pgvector returns up to HNSW_HEAPTIDS heap
			 * TIDs of one element, so ef_search = 1 over 20 copies of one
			 * vector gives 10 rows there and at least as many here.
			 */
			so->scratch.ties = so->ties;
			so->scratch.max_ties = so->ef * (HNSW_HEAPTIDS - 1);
			so->nresults =
				vx::core::search_layer(graph, dist, &cur, 1, 0, so->ef, *so->visited, so->scratch, so->results);
			so->scratch.ties = NULL;
			so->scratch.max_ties = 0;
			so->next = 0;
		}
	}
	MemoryContextSwitchTo(old);
}

/* Iterative scans: the next batch; false when a bound or the end of the graph stops the scan. */
static bool
HnswScanNextBatch(IndexScanDesc scan)
{
	HnswScanOpaque so = (HnswScanOpaque) scan->opaque;
	MemoryContext old;
	bool ok;

	if (!so->iterative)
		return false;
	if ((int64) so->stats.distances >= (int64) hnsw_max_scan_tuples)
		return false;
	if (so->beam.exhausted())
		return false; /* every reachable element was returned */

	old = MemoryContextSwitchTo(so->scan_ctx);
	so->returned_any = true;
	ok = HnswScanResumable(so);
	MemoryContextSwitchTo(old);
	if (!ok)
		ereport(NOTICE, (errmsg("hnsw index scan exceeded work_mem after %llu tuples",
								(unsigned long long) so->stats.distances),
						 errhint("Increase work_mem to scan more tuples.")));
	if (!ok && so->nresults == 0)
		return false;
	if (!ok) {
		/* return what this batch found, then stop: the next call finds the beam exhausted */
		so->beam.frontier.heap.clear();
		so->beam.pool.heap.clear();
	}
	return true;
}

/*
 * Is the vector of an element at infinite distance readable? Unreadable
 * slots get an infinite distance (page_view.hpp), but a readable vector can
 * be that far too (a squared L2 distance above FLT_MAX, from components of
 * about 1e19 and more): those rows are returned, last, as by pgvector.
 */
static bool
HnswScanReadable(HnswScanOpaque so, HnswId id)
{
	float d;
	uint32 version;

	return so->query != NULL && HnswViewDistance(&so->view, id, so->query, &d, &version);
}

/* amgettuple: the next nearest row. */
bool
hnswgettuple(IndexScanDesc scan, ScanDirection dir)
{
	HnswScanOpaque so = (HnswScanOpaque) scan->opaque;

	if (!so->searched)
		HnswScanBegin(scan);
	if (so->exhausted)
		return false;

	for (;;) {
		while (so->next < so->nresults) {
			Candidate c = so->results[so->next++];
			HnswRecordInfo info;

			if (!(c.dist < std::numeric_limits<float>::infinity()) && !HnswScanReadable(so, c.id))
				continue; /* vector not readable */
			if (hnsw_iterative_scan == HNSW_ITERATIVE_SCAN_STRICT && so->returned_any && c.dist < so->last_distance)
				continue; /* would break the order */
			if (HnswViewRecord(&so->view, c.id, 0, NULL, &info) < 0 || !(info.flags & HNSW_RECORD_LIVE))
				continue; /* deleted (or never completed) */

			so->last_distance = c.dist;
			scan->xs_heaptid = info.heap_tid;
			scan->xs_recheck = false;
			scan->xs_recheckorderby = false;
			scan->xs_orderbyvals[0] = so->query != NULL ? Float8GetDatum(VxOrderByValue(&so->dist, c.dist)) : 0;
			scan->xs_orderbynulls[0] = so->query == NULL;
			return true;
		}

		if (!HnswScanNextBatch(scan)) {
			so->exhausted = true;
			return false;
		}
	}
}

/* amendscan: drop pins, give the visited set back, free everything. */
void
hnswendscan(IndexScanDesc scan)
{
	HnswScanOpaque so = (HnswScanOpaque) scan->opaque;

	if (so->view_ready)
		HnswViewReleasePins(&so->view);
	if (so->visited != NULL)
		VxVisitedRelease(so->visited, so->visited_cached);
	MemoryContextDelete(so->scan_ctx);
	pfree(so);
	scan->opaque = NULL;
}
