/*
 * scan.cpp -- ORDER BY scans of ivfflat.
 *
 * The first amgettuple reads the directory (share lock per page), orders
 * every list by the distance of its center to the query, then reads the
 * entry pages of the nearest ivfflat.probes lists: each page under a share
 * lock, the distance of every entry computed there (the query against four
 * entries per kernel call) and only (distance, heap TID) kept. These are
 * sorted and returned in order. With ivfflat.iterative_scan =
 * relaxed_order, once they are exhausted the next batch of probes lists is
 * read and sorted (so the order is exact within a batch only), up to
 * ivfflat.max_probes lists in all (at least probes), as pgvector does.
 *
 * No heavyweight lock is taken; page locks are held only while a page is
 * read. Entries removed by VACUUM after being read are harmless: the heap
 * TID is checked by the executor against the snapshot. Candidates live in
 * the scan's memory context (XXX: no work_mem spill as pgvector's tuplesort
 * has; 16 bytes an entry read).
 */
#include "vx/pg.h"

#include "vx/am/scan.h"
#include "vx/ivfflat/ivfflat.h"

#include <algorithm>

typedef struct IvfflatCandidate
{
	float distance;
	ItemPointerData tid;
} IvfflatCandidate;

typedef struct IvfflatScanList
{
	float distance;
	BlockNumber start;
} IvfflatScanList;

typedef struct IvfflatScanOpaqueData
{
	MemoryContext ctx;
	IvfflatMetaPageData meta;
	VxDistanceData dist;
	BufferAccessStrategy bas;
	bool first;
	char *query; /* prepared query datum */

	IvfflatScanList *lists; /* all lists by center distance */
	uint32 nlists;
	uint32 next_list; /* first list not read yet */
	uint32 max_lists; /* lists this scan may read */
	uint32 batch;	  /* lists per batch (probes) */

	IvfflatCandidate *cands; /* the batch's candidates not returned yet: a heap, nearest on top */
	Size ncands;
	Size capacity;
} IvfflatScanOpaqueData;

typedef IvfflatScanOpaqueData *IvfflatScanOpaque;

/* Order candidates and lists by distance (then TID for a stable order). */
static int
IvfflatCompareCandidates(const void *a, const void *b)
{
	const IvfflatCandidate *x = (const IvfflatCandidate *) a;
	const IvfflatCandidate *y = (const IvfflatCandidate *) b;

	if (x->distance < y->distance)
		return -1;
	if (x->distance > y->distance)
		return 1;
	return ItemPointerCompare((ItemPointer) &x->tid, (ItemPointer) &y->tid);
}

/*
 * Heap order of the candidates (std::make_heap keeps the greatest on top):
 * the farther is the lesser, so the nearest comes out first. A heap costs
 * O(n) for the batch plus O(log n) per row the executor takes; sorting
 * every candidate of the probed lists was a third of a LIMIT 10 query.
 */
static bool
IvfflatFarther(const IvfflatCandidate &a, const IvfflatCandidate &b)
{
	return IvfflatCompareCandidates(&a, &b) > 0;
}

/* Order lists by center distance. */
static int
IvfflatCompareLists(const void *a, const void *b)
{
	const IvfflatScanList *x = (const IvfflatScanList *) a;
	const IvfflatScanList *y = (const IvfflatScanList *) b;

	if (x->distance < y->distance)
		return -1;
	if (x->distance > y->distance)
		return 1;
	return x->start < y->start ? -1 : (x->start > y->start ? 1 : 0);
}

/* Room for one more candidate. */
static inline void
IvfflatReserve(IvfflatScanOpaque so, Size more)
{
	if (so->ncands + more <= so->capacity)
		return;
	{
		Size cap = Max(so->capacity * 2, so->ncands + more + 256);
		IvfflatCandidate *n = (IvfflatCandidate *) MemoryContextAllocHuge(so->ctx, cap * sizeof(IvfflatCandidate));

		if (so->ncands > 0)
			memcpy(n, so->cands, so->ncands * sizeof(IvfflatCandidate));
		if (so->cands != NULL)
			pfree(so->cands);
		so->cands = n;
		so->capacity = cap;
	}
}

/* Read the directory and order the lists by the distance of their centers to the query. */
static void
IvfflatOrderLists(Relation index, IvfflatScanOpaque so)
{
	BlockNumber blkno = so->meta.first_directory;
	BlockNumber nblocks = RelationGetNumberOfBlocks(index);

	so->lists = (IvfflatScanList *) MemoryContextAlloc(so->ctx, sizeof(IvfflatScanList) * so->meta.lists);
	so->nlists = 0;
	while (blkno != InvalidBlockNumber) {
		Buffer buf;
		Page page;
		OffsetNumber maxoff;

		if (blkno >= nblocks)
			ereport(ERROR, (errcode(ERRCODE_INDEX_CORRUPTED),
							errmsg("index \"%s\" has a directory link past its end", RelationGetRelationName(index)),
							errhint("REINDEX the index.")));
		buf = ReadBufferExtended(index, MAIN_FORKNUM, blkno, RBM_NORMAL, so->bas);
		/* share: only the insert pages of the items change */
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		IvfflatCheckPage(index, page, IVFFLAT_PAGE_DIRECTORY, blkno);
		maxoff = PageGetMaxOffsetNumber(page);
		for (OffsetNumber off = FirstOffsetNumber; off <= maxoff && so->nlists < so->meta.lists; off++) {
			IvfflatList list = (IvfflatList) PageGetItem(page, PageGetItemId(page, off));

			so->lists[so->nlists].distance = so->dist.fn(&so->dist, so->query, IVFFLAT_LIST_CENTER(list));
			so->lists[so->nlists].start = list->start;
			so->nlists++;
		}
		blkno = IvfflatPageGetOpaque(page)->next;
		UnlockReleaseBuffer(buf);
	}
	qsort(so->lists, so->nlists, sizeof(IvfflatScanList), IvfflatCompareLists);
}

/* Read one list's entry pages into the candidates. */
static void
IvfflatReadList(Relation index, IvfflatScanOpaque so, BlockNumber blkno, BlockNumber nblocks)
{
	BlockNumber steps = 0;

	while (blkno != InvalidBlockNumber) {
		Buffer buf;
		Page page;
		OffsetNumber maxoff;
		OffsetNumber off;

		/* a concurrent insert may have extended the index since nblocks was read */
		if (blkno >= nblocks)
			nblocks = RelationGetNumberOfBlocks(index);
		if (blkno >= nblocks || ++steps > nblocks)
			ereport(ERROR, (errcode(ERRCODE_INDEX_CORRUPTED),
							errmsg("index \"%s\" has a broken list chain at block %u", RelationGetRelationName(index),
								   blkno),
							errhint("REINDEX the index.")));
		buf = ReadBufferExtended(index, MAIN_FORKNUM, blkno, RBM_NORMAL, so->bas);
		/* share: inserts add items and vacuum removes them under the exclusive lock */
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		IvfflatCheckPage(index, page, IVFFLAT_PAGE_ENTRY, blkno);
		maxoff = PageGetMaxOffsetNumber(page);
		IvfflatReserve(so, maxoff);
		off = FirstOffsetNumber;
		if (so->dist.fn4 != NULL)
			for (; off + 3 <= maxoff; off += 4) {
				const char *v[4];
				float out[4];

				for (int j = 0; j < 4; j++)
					v[j] = IVFFLAT_ENTRY_VALUE(PageGetItem(page, PageGetItemId(page, off + j)));
				so->dist.fn4(&so->dist, so->query, v, out);
				for (int j = 0; j < 4; j++) {
					IvfflatCandidate *c = &so->cands[so->ncands++];

					c->distance = out[j];
					c->tid = ((IvfflatEntryData *) PageGetItem(page, PageGetItemId(page, off + j)))->tid;
				}
			}
		for (; off <= maxoff; off++) {
			char *item = (char *) PageGetItem(page, PageGetItemId(page, off));
			IvfflatCandidate *c = &so->cands[so->ncands++];

			c->distance = so->dist.fn(&so->dist, so->query, IVFFLAT_ENTRY_VALUE(item));
			c->tid = ((IvfflatEntryData *) item)->tid;
		}
		blkno = IvfflatPageGetOpaque(page)->next;
		UnlockReleaseBuffer(buf);
	}
}

/* Read the next batch of lists and heap what they hold; false when no list is left to read. */
static bool
IvfflatNextBatch(Relation index, IvfflatScanOpaque so)
{
	uint32 end = Min(so->next_list + so->batch, so->max_lists);
	BlockNumber nblocks = RelationGetNumberOfBlocks(index);

	if (so->next_list >= end)
		return false;
	so->ncands = 0;
	for (; so->next_list < end; so->next_list++) {
		CHECK_FOR_INTERRUPTS();
		IvfflatReadList(index, so, so->lists[so->next_list].start, nblocks);
	}
	std::make_heap(so->cands, so->cands + so->ncands, IvfflatFarther);
	return true;
}

/* ambeginscan */
IndexScanDesc
ivfflatbeginscan(Relation index, int nkeys, int norderbys)
{
	IvfflatScanOpaque so = palloc0_object(IvfflatScanOpaqueData);

	so->ctx = AllocSetContextCreate(CurrentMemoryContext, "ivfflat scan", ALLOCSET_DEFAULT_SIZES);
	memcpy(&so->meta, IvfflatGetCachedMeta(index), sizeof(IvfflatMetaPageData));
	IvfflatInitDistance(&so->dist, &so->meta);
	so->bas = GetAccessStrategy(BAS_BULKREAD);
	return VxBeginScan(index, nkeys, norderbys, so);
}

/* amrescan: new ORDER BY argument; the scan starts over at the first amgettuple. */
void
ivfflatrescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys, int norderbys)
{
	IvfflatScanOpaque so = (IvfflatScanOpaque) scan->opaque;

	VxRescanKeys(scan, keys, orderbys);
	MemoryContextReset(so->ctx);
	so->first = true;
	so->query = NULL;
	so->lists = NULL;
	so->cands = NULL;
	so->ncands = so->capacity = 0;
	so->nlists = so->next_list = 0;
}

/* The prepared query (a NULL ORDER BY argument searches as a zero vector, as pgvector does). */
static char *
IvfflatScanQuery(IndexScanDesc scan, IvfflatScanOpaque so)
{
	const VxElemTraits *traits = VxElemTraitsOf((VxElemKind) so->meta.elem_kind);
	Datum value;
	bool skip;

	if (scan->numberOfOrderBys == 0 || scan->orderByData[0].sk_flags & SK_ISNULL) {
		char *raw = (char *) palloc0(traits->raw_bytes(so->meta.dimensions, 0));
		char *datum = (char *) palloc0(traits->datum_size(so->meta.dimensions, 0));

		traits->make_datum(raw, so->meta.dimensions, datum);
		return datum;
	}
	value = VxPrepareValue(&so->dist, scan->orderByData[0].sk_argument, false, &skip);
	VxCheckQuery(&so->dist, DatumGetPointer(value));
	return DatumGetPointer(value);
}

/* amgettuple: the next row in distance order. */
bool
ivfflatgettuple(IndexScanDesc scan, ScanDirection dir)
{
	IvfflatScanOpaque so = (IvfflatScanOpaque) scan->opaque;
	Relation index = scan->indexRelation;

	if (so->first) {
		MemoryContext old = MemoryContextSwitchTo(so->ctx);
		uint32 probes;

		so->first = false;
		so->query = IvfflatScanQuery(scan, so);
		IvfflatOrderLists(index, so);
		probes = Min((uint32) ivfflat_probes, so->nlists);
		so->batch = Max(probes, 1);
		so->max_lists = probes;
		if (ivfflat_iterative_scan != IVFFLAT_ITERATIVE_SCAN_OFF)
			so->max_lists = Min(Max((uint32) ivfflat_max_probes, probes), so->nlists);
		IvfflatNextBatch(index, so);
		MemoryContextSwitchTo(old);
	}

	while (so->ncands == 0) {
		MemoryContext old = MemoryContextSwitchTo(so->ctx);
		bool more = IvfflatNextBatch(index, so);

		MemoryContextSwitchTo(old);
		if (!more)
			return false;
	}

	{
		IvfflatCandidate *c;

		std::pop_heap(so->cands, so->cands + so->ncands, IvfflatFarther);
		c = &so->cands[--so->ncands];

		scan->xs_heaptid = c->tid;
		scan->xs_recheck = false;
		scan->xs_recheckorderby = false;
		if (scan->numberOfOrderBys > 0) {
			scan->xs_orderbyvals[0] = Float8GetDatum(VxOrderByValue(&so->dist, c->distance));
			scan->xs_orderbynulls[0] = false;
		}
	}
	return true;
}

/* amendscan */
void
ivfflatendscan(IndexScanDesc scan)
{
	IvfflatScanOpaque so = (IvfflatScanOpaque) scan->opaque;

	FreeAccessStrategy(so->bas);
	MemoryContextDelete(so->ctx);
	pfree(so);
	scan->opaque = NULL;
}
