/*
 * scan.cpp -- index scans of hnsw: ORDER BY <operator> <query> [LIMIT k].
 *
 * A scan reads the metapage once for the entry point, descends greedily
 * through the upper levels and runs a beam search of width hnsw.ef_search on
 * level 0 (vx::core::greedy_search_layer/search_layer over the page-backed
 * view of graph.cpp), then returns the results nearest first, with their
 * operator value in xs_orderbyvals (exact, so xs_recheckorderby = false).
 * Deleted elements are traversed but not returned.
 *
 * The query (ORDER BY argument) is only known at amrescan, and may be a
 * Param: it is prepared (detoasted, normalized for cosine) on the first
 * amgettuple after each rescan. A NULL query puts every element at the same
 * distance: the scan returns rows in graph order with NULL ORDER BY values,
 * as pgvector does (and as an exact sort would, NULLs being rows too).
 *
 * hnsw.iterative_scan: when the executor asks for more rows than the first
 * batch held (a filter rejected them), the search is run again with twice
 * the width, and the rows not returned yet are returned: in the order of the
 * new batch (relaxed_order), or only those not nearer than the last row
 * returned (strict_order), so the output stays sorted. Batches stop when
 * hnsw.max_scan_tuples distances have been computed or the search memory
 * would exceed work_mem * hnsw.scan_mem_multiplier.
 * XXX: each batch repeats the work of the previous one (at most doubling the
 * total); a resumable search would not.
 *
 * No heavyweight lock is taken: pages are read under one share lock at a
 * time. Under an MVCC snapshot a heap TID collected before a concurrent
 * vacuum either still has its dead tuple or names a tuple inserted after the
 * snapshot, which the heap fetch skips; so, like pgvector, only MVCC
 * snapshots are supported. Elements allocated after the scan read the
 * metapage belong to transactions the snapshot cannot see and are ignored.
 *
 * Memory: the scan context holds the view's pin cache, the search scratch
 * and results; the query context is reset at every rescan. The visited set
 * is the backend's cached one when no other scan uses it.
 */
#include "vx/pg.h"

#include "vx/core/hnsw_algo.hpp"
#include "vx/hnsw/hnsw.h"
#include "vx/hnsw/page_view.hpp"

using vx::core::Candidate;

typedef struct HnswScanOpaqueData
{
	MemoryContext scan_ctx;	 /* lives until endscan */
	MemoryContext query_ctx; /* reset at every rescan */

	HnswMetaPageData meta; /* as read by this search */
	HnswDistanceData dist;
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
	uint32 nresults;
	uint32 next;
	uint32 ef;

	/* iterative scans */
	vx::core::VisitedSet *returned; /* ids returned so far (from the second batch on) */
	float last_distance;
	bool returned_any;
} HnswScanOpaqueData;

typedef HnswScanOpaqueData *HnswScanOpaque;

/* ambeginscan: set up the scan (nothing is read before the first amgettuple). */
IndexScanDesc
hnswbeginscan(Relation index, int nkeys, int norderbys)
{
	IndexScanDesc scan = RelationGetIndexScan(index, nkeys, norderbys);
	HnswScanOpaque so = palloc0_object(HnswScanOpaqueData);

	so->scan_ctx = AllocSetContextCreate(CurrentMemoryContext, "Hnsw scan context", ALLOCSET_DEFAULT_SIZES);
	so->query_ctx = AllocSetContextCreate(so->scan_ctx, "Hnsw scan query context", ALLOCSET_SMALL_SIZES);
	/* the AM provides the ORDER BY value arrays (as GiST does) */
	if (norderbys > 0) {
		scan->xs_orderbyvals = palloc0_array(Datum, norderbys);
		scan->xs_orderbynulls = palloc_array(bool, norderbys);
		for (int i = 0; i < norderbys; i++)
			scan->xs_orderbynulls[i] = true;
	}
	scan->opaque = so;
	return scan;
}

/* amrescan: take the (new) ORDER BY argument; the search runs on the next amgettuple. */
void
hnswrescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys, int norderbys)
{
	HnswScanOpaque so = (HnswScanOpaque) scan->opaque;

	if (keys && scan->numberOfKeys > 0)
		memmove(scan->keyData, keys, scan->numberOfKeys * sizeof(ScanKeyData));
	if (orderbys && scan->numberOfOrderBys > 0)
		memmove(scan->orderByData, orderbys, scan->numberOfOrderBys * sizeof(ScanKeyData));

	MemoryContextReset(so->query_ctx);
	so->searched = false;
	so->exhausted = false;
	so->query = NULL;
	so->nresults = 0;
	so->next = 0;
	so->returned_any = false;
	if (so->returned != NULL)
		so->returned->reset();
}

/* Size the scratch and results for beam width ef; false if that exceeds the memory budget. */
static bool
HnswScanReserve(HnswScanOpaque so, uint32 ef, bool check_budget)
{
	uint32 degree = 2 * so->meta.m;
	size_t bytes;
	void *mem;

	if (so->scratch_ef >= ef)
		return true;
	bytes = vx::core::SearchScratch::bytes_needed(ef, degree) + sizeof(Candidate) * ef;
	if (check_budget && (double) bytes > (double) work_mem * 1024.0 * hnsw_scan_mem_multiplier)
		return false;

	if (so->scratch_ef > 0) {
		pfree(so->results);
		pfree(so->scratch.candidates);
	}
	mem = MemoryContextAllocHuge(so->scan_ctx, vx::core::SearchScratch::bytes_needed(ef, degree));
	if (!vx::core::SearchScratch::carve(mem, vx::core::SearchScratch::bytes_needed(ef, degree), ef, degree,
										&so->scratch))
		elog(ERROR, "could not set up hnsw search scratch");
	Assert((void *) so->scratch.candidates == mem);
	so->scratch.stats = &so->stats;
	so->results = (Candidate *) MemoryContextAllocHuge(so->scan_ctx, sizeof(Candidate) * ef);
	so->scratch_ef = ef;
	return true;
}

/* One search of width so->ef from the entry point into so->results. */
static void
HnswScanSearch(HnswScanOpaque so)
{
	HnswPageGraph graph{&so->view, so->visited_limit};
	HnswPageDistance dist{&so->view, so->query};
	Candidate cur{dist(so->meta.entry_id), so->meta.entry_id};

	for (int l = so->meta.entry_level; l > 0; l--)
		cur = vx::core::greedy_search_layer(graph, dist, cur, l, so->scratch);
	so->visited->reset();
	so->nresults = vx::core::search_layer(graph, dist, &cur, 1, 0, so->ef, *so->visited, so->scratch, so->results);
	so->next = 0;
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
		HnswInitDistance(&so->dist, (HnswElemKind) so->meta.elem_kind, (HnswMetric) so->meta.metric,
						 so->meta.dimensions);
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
		HnswCheckQuery(&so->dist, so->query);

	if (so->visited == NULL || so->visited_limit < so->meta.next_id) {
		if (so->visited != NULL)
			HnswVisitedRelease(so->visited, so->visited_cached);
		so->visited = NULL;
		so->visited = HnswVisitedAcquire(so->meta.next_id, &so->visited_cached);
		so->visited_limit = so->meta.next_id;
		if (so->returned != NULL)
			pfree(so->returned);
		so->returned = NULL;
	}
	so->visited_limit = so->meta.next_id;

	so->ef = hnsw_ef_search;
	so->stats.distances = 0;
	so->stats.expansions = 0;
	HnswScanReserve(so, so->ef, false);
	HnswScanSearch(so);
	MemoryContextSwitchTo(old);
}

/* Iterative scans: run the next, twice as wide batch; false when a bound stops the scan. */
static bool
HnswScanNextBatch(IndexScanDesc scan)
{
	HnswScanOpaque so = (HnswScanOpaque) scan->opaque;
	MemoryContext old;
	uint32 ef;

	if ((int64) so->stats.distances >= (int64) hnsw_max_scan_tuples)
		return false;
	if (so->nresults < so->ef)
		return false; /* the last batch already saw every reachable element */

	old = MemoryContextSwitchTo(so->scan_ctx);
	if (so->returned == NULL) {
		so->returned = palloc_object(vx::core::VisitedSet);
		*so->returned = vx::core::VisitedSet(
			(uint16 *) MemoryContextAllocHuge(so->scan_ctx, vx::core::VisitedSet::bytes_for(so->visited_limit)),
			so->visited_limit);
	}
	/* what the first batch returned was not recorded: mark it now, before its array is replaced */
	if (!so->returned_any) {
		for (uint32 i = 0; i < so->nresults; i++)
			so->returned->test_and_set(so->results[i].id);
		so->returned_any = true;
	}

	ef = so->ef > UINT32_MAX / 2 ? UINT32_MAX : so->ef * 2;
	if (!HnswScanReserve(so, ef, true)) {
		MemoryContextSwitchTo(old);
		ereport(NOTICE, (errmsg("hnsw index scan exceeded work_mem after %llu tuples",
								(unsigned long long) so->stats.distances),
						 errhint("Increase work_mem to scan more tuples.")));
		return false;
	}
	so->ef = ef;
	HnswScanSearch(so);
	MemoryContextSwitchTo(old);
	return true;
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

			if (!(c.dist < std::numeric_limits<float>::infinity()))
				continue; /* vector not readable */
			if (so->returned_any && so->returned->test_and_set(c.id))
				continue; /* returned by an earlier batch */
			if (hnsw_iterative_scan == HNSW_ITERATIVE_SCAN_STRICT && so->returned_any && c.dist < so->last_distance)
				continue; /* would break the order */
			if (HnswViewRecord(&so->view, c.id, 0, NULL, &info) < 0 || !(info.flags & HNSW_RECORD_LIVE))
				continue; /* deleted (or never completed) */

			so->last_distance = c.dist;
			scan->xs_heaptid = info.heap_tid;
			scan->xs_recheck = false;
			scan->xs_recheckorderby = false;
			scan->xs_orderbyvals[0] = so->query != NULL ? Float8GetDatum(HnswOrderByValue(&so->dist, c.dist)) : 0;
			scan->xs_orderbynulls[0] = so->query == NULL;
			return true;
		}

		if (hnsw_iterative_scan == HNSW_ITERATIVE_SCAN_OFF || !HnswScanNextBatch(scan)) {
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
		HnswVisitedRelease(so->visited, so->visited_cached);
	MemoryContextDelete(so->scan_ctx);
	pfree(so);
	scan->opaque = NULL;
}
