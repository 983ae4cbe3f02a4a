/*
 * scan.cpp -- index scans of diskann: ORDER BY <operator> <query> [LIMIT k].
 *
 * The first amgettuple after amrescan prepares the query (the ORDER BY
 * argument, possibly a Param: detoasted, normalized for cosine, its
 * quantized part rotated and quantized: vx::core::QueryCode), reads the
 * metapage for the entry point and runs the first batch of a resumable beam
 * search (vx::core::resumable_batch) of list size
 * diskann.query_search_list_size over the node pages, on estimated
 * distances from the codes. Deleted nodes are traversed but never enter a
 * batch.
 *
 * Re-ranking: the first diskann.query_rescore candidates of each batch
 * (nearest by estimate) get their exact distance and come out in exact
 * order, with exact ORDER BY values; the rest of the batch follows in
 * estimated order. memory_optimized: from the heap row (the indexed value,
 * recomputed with FormIndexDatum, so expression indexes work too); a
 * candidate whose heap row the scan's snapshot cannot see is dropped (the
 * executor would drop it too). plain: from the vector the index stores (the
 * same value, as the column stores it, so the same distance bit for bit),
 * read from the vector pages of the node's extent, no heap access; a
 * candidate whose node was deleted or reused since the batch read it is
 * dropped, and visibility is left to the executor; rows it reports dead
 * to every transaction (kill_prior_tuple) are replaced in the window by the
 * next candidates (DiskannScanRerankMore).
 *
 * Scans are always iterative: when the executor wants more rows than a
 * batch held (a WHERE clause rejected them), the next batch continues the
 * same search from its pool, so no node is returned twice and no distance
 * is computed twice; the scan ends when the graph is exhausted or the
 * search's memory would exceed work_mem (with a NOTICE).
 *
 * No heavyweight lock; pages are read under one share lock at a time. As
 * with hnsw only MVCC snapshots are supported: TIDs are kept without a pin
 * on their heap page. Ids allocated after the scan read the metapage belong
 * to transactions its snapshot cannot see and are ignored.
 */
#include "vx/pg.h"

#include "vx/am/scan.h"
#include "vx/am/visited.h"
#include "vx/core/beam_search.hpp"
#include "vx/diskann/diskann.h"
#include "vx/diskann/page_view.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

using vx::core::Candidate;

/* Start points of one search at most: the entry point and label starts. */
#define DISKANN_MAX_SCAN_STARTS 64

/* A result ready to return. */
typedef struct DiskannResult
{
	ItemPointerData tid;
	DiskannId id;	/* its node, and the node's version when the batch read it (plain's re-rank) */
	uint32 version;
	float distance; /* internal: exact when exact, else estimated */
	bool exact;
	bool recheck; /* its labels overflowed the node: the executor checks the label conditions */
} DiskannResult;

typedef struct DiskannScanOpaqueData
{
	MemoryContext scan_ctx;	 /* until endscan */
	MemoryContext query_ctx; /* reset at every rescan */

	DiskannIndexData di;
	bool index_ready;

	bool searched;
	bool exhausted;
	char *query;	 /* prepared query datum (normalized for cosine), NULL for a NULL query */
	char *raw_query; /* the query as given (detoasted): exact distances to heap rows use it */
	vx::core::QueryCode qc;

	vx::core::VisitedSet *visited;
	bool visited_cached;
	DiskannId limit;
	vx::core::ResumableBeam beam;
	Size budget;
	uint32 list_size;
	Candidate *heap_buf; /* list_size: the batch's result heap */
	Candidate *batch;	 /* list_size: the batch, nearest first */
	vx::core::SearchStats stats;

	DiskannLabelFilter filter; /* conditions on the label column (nkeys 0: none) */
	DiskannId *starts;		   /* entry point and label start points of this search */
	uint32 nstarts;

	DiskannResult *results; /* list_size: the batch, nearest first by estimate */
	uint32 nresults;
	uint32 next;
	uint32 ranked; /* results[next .. ranked) are re-ranked exactly */
	bool prior_ranked; /* plain: the row returned last was re-ranked */
	uint32 owed;	   /* plain: re-ranked rows the executor found dead, to replace in the window */

	/* re-ranking from the index (plain): a datum of the index's type whose elements are read from the vector pages */
	char *stored;
	char *stored_raw; /* its elements */

	/* re-ranking from the heap */
	IndexFetchTableData *fetch;
	TupleTableSlot *slot;
	IndexInfo *index_info;
	EState *estate;
} DiskannScanOpaqueData;

typedef DiskannScanOpaqueData *DiskannScanOpaque;

/*
 * Live nodes whose labels meet the scan's conditions enter a batch. The
 * search asks right after computing the node's distance, which read it into
 * seen; otherwise (the entries, evaluated together first) it is read again.
 */
struct DiskannAccept
{
	const DiskannNodeSeen *seen;
	const DiskannLabelFilter *filter;
	const DiskannPageDistance *dist;

	bool
	operator()(uint32_t id) const
	{
		if (seen->id != id)
			(void) (*dist)(id);
		if (seen->flags != DISKANN_NODE_LIVE)
			return false;
		if (filter->nkeys == 0 || seen->nlabels == DISKANN_LABELS_OVERFLOW)
			return !filter->never;
		return DiskannLabelsMatch(filter, seen->labels, seen->nlabels);
	}
};

/* ambeginscan: set up the scan (nothing is read before the first amgettuple). */
IndexScanDesc
diskannbeginscan(Relation index, int nkeys, int norderbys)
{
	DiskannScanOpaque so = palloc0_object(DiskannScanOpaqueData);

	so->scan_ctx = AllocSetContextCreate(CurrentMemoryContext, "Diskann scan context", ALLOCSET_DEFAULT_SIZES);
	so->query_ctx = AllocSetContextCreate(so->scan_ctx, "Diskann scan query context", ALLOCSET_SMALL_SIZES);
	return VxBeginScan(index, nkeys, norderbys, so);
}

/* amrescan: take the (new) ORDER BY argument; the search runs on the next amgettuple. */
void
diskannrescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys, int norderbys)
{
	DiskannScanOpaque so = (DiskannScanOpaque) scan->opaque;

	VxRescanKeys(scan, keys, orderbys);
	MemoryContextReset(so->query_ctx);
	so->searched = false;
	so->exhausted = false;
	so->query = NULL;
	so->nresults = 0;
	so->next = 0;
	so->prior_ranked = false;
	so->owed = 0;
	so->beam.clear();
}

/* Exact internal distance of the row at tid, or false if the snapshot cannot see it. */
static bool
DiskannScanExact(IndexScanDesc scan, ItemPointer tid, float *distance)
{
	DiskannScanOpaque so = (DiskannScanOpaque) scan->opaque;
	bool call_again = false;
	bool all_dead = false;
	Datum values[INDEX_MAX_KEYS];
	bool isnull[INDEX_MAX_KEYS];
	ExprContext *econtext;
	bool found;
	ItemPointerData t = *tid;
	Datum value;
	MemoryContext old;

	if (so->fetch == NULL) {
		old = MemoryContextSwitchTo(so->scan_ctx);

		so->fetch = table_index_fetch_begin(scan->heapRelation);
		so->slot = table_slot_create(scan->heapRelation, NULL);
		so->index_info = BuildIndexInfo(scan->indexRelation);
		so->estate = CreateExecutorState();
		MemoryContextSwitchTo(old);
	}
	found = table_index_fetch_tuple(so->fetch, &t, scan->xs_snapshot, so->slot, &call_again, &all_dead);
	if (!found)
		return false;
	econtext = GetPerTupleExprContext(so->estate);
	econtext->ecxt_scantuple = so->slot;
	ResetExprContext(econtext);
	/* the value, its detoasted and normalized copies live until the next row */
	old = MemoryContextSwitchTo(econtext->ecxt_per_tuple_memory);
	FormIndexDatum(so->index_info, so->slot, so->estate, values, isnull);
	if (!isnull[0]) {
		value = PointerGetDatum(PG_DETOAST_DATUM(values[0]));
		*distance = VxExactDistance(&so->di.dist, so->raw_query, DatumGetPointer(value));
	}
	MemoryContextSwitchTo(old);
	ExecClearTuple(so->slot);
	return !isnull[0];
}

/* Order of exact distances; NaN (a zero query under cosine) sorts last. */
static bool
DiskannNearer(const DiskannResult &a, const DiskannResult &b)
{
	return a.distance < b.distance || (std::isnan(b.distance) && !std::isnan(a.distance));
}

/*
 * Re-rank the next diskann.query_rescore visible results (from so->ranked
 * on) with the exact distances of their heap rows (plain: of the vectors
 * the index stores) and sort them by it; rows the snapshot cannot see (plain:
 * nodes deleted or reused since) are dropped and do not count (after many
 * deletes a chunk still holds rescore rows to order). Done lazily, chunk by chunk,
 * as the executor consumes rows: a filtered query gets exact order among the
 * rows it keeps, and rows never asked for cost no heap fetch.
 */
static void
DiskannScanRerank(IndexScanDesc scan)
{
	DiskannScanOpaque so = (DiskannScanOpaque) scan->opaque;
	uint32 start = so->ranked;
	uint32 want = (uint32) diskann_query_rescore;
	uint32 kept = start;
	uint32 i = start;

	so->owed = 0;
	/* plain: start reading the vector pages of the window (an index on disk reads them together) */
	for (uint32 k = start; so->stored != NULL && k < so->nresults && k - start < want; k++)
		DiskannPrefetchVector(&so->di, so->results[k].id);
	for (; i < so->nresults && kept - start < want; i++) {
		float d = 0;

		if (so->stored != NULL) {
			if (!DiskannReadVector(&so->di, so->results[i].id, so->results[i].version, so->stored_raw))
				continue;
			d = VxExactDistance(&so->di.dist, so->raw_query, so->stored);
		} else if (!DiskannScanExact(scan, &so->results[i].tid, &d))
			continue;
		so->results[kept] = so->results[i];
		so->results[kept].distance = d;
		so->results[kept].exact = true;
		kept++;
	}
	std::sort(so->results + start, so->results + kept, DiskannNearer);
	memmove(so->results + kept, so->results + i, sizeof(DiskannResult) * (so->nresults - i));
	so->nresults -= i - kept;
	so->ranked = kept; /* nothing visible left: ranked == nresults, gettuple fetches the next batch */
}

/*
 * Plain: put the next so->owed candidates of the batch into the window being
 * returned (results[next .. ranked), in exact order), one for each row of it
 * the executor found dead to every transaction (kill_prior_tuple), so that
 * as with the heap re-rank, rows VACUUM has not marked yet do not use up the
 * window of a query whose neighbourhood was deleted.
 */
static void
DiskannScanRerankMore(IndexScanDesc scan)
{
	DiskannScanOpaque so = (DiskannScanOpaque) scan->opaque;

	while (so->owed > 0 && so->ranked < so->nresults) {
		DiskannResult r = so->results[so->ranked];
		uint32 pos;

		if (!DiskannReadVector(&so->di, r.id, r.version, so->stored_raw)) {
			memmove(so->results + so->ranked, so->results + so->ranked + 1,
					sizeof(DiskannResult) * (so->nresults - so->ranked - 1));
			so->nresults--;
			continue;
		}
		r.distance = VxExactDistance(&so->di.dist, so->raw_query, so->stored);
		r.exact = true;
		for (pos = so->ranked; pos > so->next && DiskannNearer(r, so->results[pos - 1]); pos--)
			so->results[pos] = so->results[pos - 1];
		so->results[pos] = r;
		so->ranked++;
		so->owed--;
	}
}

/*
 * One batch of the search into so->results, nearest first by estimate
 * (gettuple re-ranks them chunk by chunk). Returns false when the graph is
 * exhausted and nothing was found.
 */
static bool
DiskannScanBatch(IndexScanDesc scan, bool first)
{
	DiskannScanOpaque so = (DiskannScanOpaque) scan->opaque;
	DiskannNodeSeen seen;
	DiskannPageGraph graph{&so->di, so->limit, DISKANN_INVALID_ID};
	DiskannPageDistance dist{&so->di, &so->qc, so->di.est_metric, &seen};
	DiskannAccept accept{&seen, &so->filter, &dist};
	VxGrowPolicy grow{so->scan_ctx, so->budget, &so->beam};
	Candidate entries[DISKANN_MAX_SCAN_STARTS];
	uint32 nbatch = 0;
	bool ok;

	seen.id = DISKANN_INVALID_ID;
	seen.want_labels = so->filter.nkeys > 0;
	if (first)
		for (uint32 i = 0; i < so->nstarts; i++)
			entries[i] = Candidate{dist(so->starts[i]), so->starts[i]};
	ok = vx::core::resumable_batch(graph, dist, *so->visited, so->beam, entries, first ? so->nstarts : 0,
								   so->list_size, accept, grow, so->heap_buf, so->batch, &nbatch, &so->stats);

	/* the TIDs of the batch (the node is read again: it may have changed since its distance) */
	so->nresults = 0;
	so->next = 0;
	so->ranked = 0;
	so->owed = 0;
	for (uint32 i = 0; i < nbatch; i++) {
		float d = dist(so->batch[i].id);

		if (!accept(so->batch[i].id))
			continue;
		so->results[so->nresults].tid = seen.heap_tid;
		so->results[so->nresults].id = so->batch[i].id;
		so->results[so->nresults].version = seen.version;
		so->results[so->nresults].distance = d;
		so->results[so->nresults].exact = false;
		so->results[so->nresults].recheck = so->filter.nkeys > 0 && seen.nlabels == DISKANN_LABELS_OVERFLOW;
		so->nresults++;
	}

	if (!ok)
		ereport(NOTICE, (errmsg("diskann index scan exceeded work_mem after %llu tuples",
								(unsigned long long) so->stats.distances),
						 errhint("Increase work_mem to scan more tuples.")));
	if (!ok)
		so->beam.clear(); /* return what this batch found, then stop */
	return nbatch > 0;
}

/*
 * Where the search starts: the entry point, and with label conditions the
 * start points of the labels they name (Filtered-DiskANN), so that a rare
 * label's nodes are reached without crossing the whole graph.
 */
static void
DiskannScanStarts(DiskannScanOpaque so)
{
	Buffer buf;
	DiskannMetaPage meta;

	so->starts = (DiskannId *) palloc(sizeof(DiskannId) * DISKANN_MAX_SCAN_STARTS);
	so->nstarts = 0;
	so->starts[so->nstarts++] = so->di.meta.entry_id;
	if (so->filter.nkeys == 0)
		return;
	buf = ReadBuffer(so->di.index, DISKANN_METAPAGE_BLKNO);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	meta = DiskannCheckMetaPage(so->di.index, BufferGetPage(buf));
	for (int k = 0; k < so->filter.nkeys; k++)
		for (int i = 0; i < so->filter.nvalues[k] && so->nstarts < DISKANN_MAX_SCAN_STARTS; i++) {
			DiskannId id;
			bool dup = false;

			if (!DiskannLabelEntryFind(meta, so->filter.values[k][i], &id) || id >= so->limit)
				continue;
			for (uint32 j = 0; j < so->nstarts && !dup; j++)
				dup = so->starts[j] == id;
			if (!dup)
				so->starts[so->nstarts++] = id;
		}
	UnlockReleaseBuffer(buf);
}

/* First amgettuple after a rescan: prepare the query and run the first batch. */
static void
DiskannScanBegin(IndexScanDesc scan)
{
	DiskannScanOpaque so = (DiskannScanOpaque) scan->opaque;
	Relation index = scan->indexRelation;
	MemoryContext old;
	bool skip;

	so->searched = true;
	pgstat_count_index_scan(index);

	if (scan->orderByData == NULL)
		elog(ERROR, "cannot scan diskann index without order");
	if (!IsMVCCSnapshot(scan->xs_snapshot))
		elog(ERROR, "non-MVCC snapshots are not supported with diskann");

	old = MemoryContextSwitchTo(so->scan_ctx);
	if (!so->index_ready) {
		DiskannOpenIndex(&so->di, index);
		so->index_ready = true;
		so->qc.planes = (uint8 *) palloc0(so->di.quantizer.query_bytes());
		so->beam.neighbor_buf = (uint32 *) palloc(sizeof(uint32) * so->di.meta.num_neighbors);
		so->beam.pending = (uint32 *) palloc(sizeof(uint32) * so->di.meta.num_neighbors);
		if (so->di.meta.vector_pages > 0) {
			const VxElemTraits *traits = VxElemTraitsOf((VxElemKind) so->di.meta.elem_kind);
			char *zeros = (char *) palloc0(so->di.meta.vector_bytes);

			so->stored = (char *) palloc0(traits->datum_size(so->di.meta.dimensions, 0));
			traits->make_datum(zeros, so->di.meta.dimensions, so->stored);
			so->stored_raw = (char *) traits->raw(so->stored);
			pfree(zeros);
		}
	} else
		DiskannIndexRefreshMeta(&so->di);

	if (so->di.meta.entry_id == DISKANN_INVALID_ID) {
		so->exhausted = true;
		MemoryContextSwitchTo(old);
		return;
	}

	/* a NULL query puts every node at the same (NULL) distance, as hnsw */
	MemoryContextSwitchTo(so->query_ctx);
	if (!(scan->orderByData->sk_flags & SK_ISNULL)) {
		so->raw_query = DatumGetPointer(PG_DETOAST_DATUM(scan->orderByData->sk_argument));
		so->query = DatumGetPointer(VxPrepareValue(&so->di.dist, PointerGetDatum(so->raw_query), false, &skip));
		VxCheckQuery(&so->di.dist, so->query);
		DiskannToFloat(&so->di, so->query, so->di.fvec);
	} else
		memset(so->di.fvec, 0, sizeof(float) * so->di.meta.code_dimensions);
	so->di.quantizer.prepare_query(so->di.fvec, &so->qc, so->di.work);
	MemoryContextSwitchTo(so->scan_ctx);

	so->limit = so->di.meta.next_id;
	MemoryContextSwitchTo(so->query_ctx);
	DiskannInitLabelFilter(&so->filter, scan->keyData, scan->numberOfKeys);
	DiskannScanStarts(so);
	MemoryContextSwitchTo(so->scan_ctx);
	if (so->visited != NULL)
		VxVisitedRelease(so->visited, so->visited_cached);
	so->visited = NULL;
	so->visited = VxVisitedAcquire(so->limit, &so->visited_cached);
	so->visited->reset();

	if (so->list_size < (uint32) diskann_query_search_list_size) {
		so->list_size = diskann_query_search_list_size;
		so->heap_buf = (Candidate *) palloc(sizeof(Candidate) * so->list_size);
		so->batch = (Candidate *) palloc(sizeof(Candidate) * so->list_size);
		so->results = (DiskannResult *) palloc(sizeof(DiskannResult) * so->list_size);
	}
	so->list_size = diskann_query_search_list_size;
	so->budget = (Size) work_mem * 1024;
	so->stats.distances = 0;
	so->stats.expansions = 0;

	if (!DiskannScanBatch(scan, true))
		so->exhausted = true;
	MemoryContextSwitchTo(old);
}

/* amgettuple: the next row. */
bool
diskanngettuple(IndexScanDesc scan, ScanDirection dir)
{
	DiskannScanOpaque so = (DiskannScanOpaque) scan->opaque;

	if (!so->searched)
		DiskannScanBegin(scan);
	/* plain: the executor found the row returned last dead to every transaction (see DiskannScanRerankMore) */
	if (so->prior_ranked && scan->kill_prior_tuple)
		so->owed++;
	so->prior_ranked = false;

	while (!so->exhausted) {
		if (so->next == so->ranked && so->next < so->nresults && so->query != NULL && diskann_query_rescore > 0) {
			MemoryContext old = MemoryContextSwitchTo(so->scan_ctx);

			DiskannScanRerank(scan);
			MemoryContextSwitchTo(old);
			continue;
		}
		if (so->owed > 0 && so->next < so->ranked) {
			MemoryContext old = MemoryContextSwitchTo(so->scan_ctx);

			DiskannScanRerankMore(scan);
			MemoryContextSwitchTo(old);
		}
		if (so->next < so->nresults) {
			DiskannResult *r = &so->results[so->next++];

			so->prior_ranked = so->stored != NULL && r->exact;
			scan->xs_heaptid = r->tid;
			scan->xs_recheck = r->recheck;
			scan->xs_recheckorderby = false;
			scan->xs_orderbyvals[0] =
				so->query != NULL ? Float8GetDatum(VxOrderByValue(&so->di.dist, r->distance)) : (Datum) 0;
			scan->xs_orderbynulls[0] = so->query == NULL;
			return true;
		} else {
			MemoryContext old = MemoryContextSwitchTo(so->scan_ctx);
			bool more = so->beam.started && DiskannScanBatch(scan, false);

			MemoryContextSwitchTo(old);
			if (!more)
				so->exhausted = true;
		}
	}
	return false;
}

/* amendscan: give the visited set back, free everything. */
void
diskannendscan(IndexScanDesc scan)
{
	DiskannScanOpaque so = (DiskannScanOpaque) scan->opaque;

	if (so->visited != NULL)
		VxVisitedRelease(so->visited, so->visited_cached);
	if (so->fetch != NULL) {
		table_index_fetch_end(so->fetch);
		ExecDropSingleTupleTableSlot(so->slot);
		FreeExecutorState(so->estate);
	}
	MemoryContextDelete(so->scan_ctx);
	pfree(so);
	scan->opaque = NULL;
}
