/*
 * vacuum.cpp -- ambulkdelete and amvacuumcleanup for hnsw.
 *
 * This round's vacuum marks, it does not repair: every graph page is visited
 * in block order under an exclusive lock, records whose heap tuple is dead
 * are flagged HNSW_RECORD_DELETED in one GenericXLog record per page, and the
 * metapage's live_count is updated at the end. A deleted element stays in
 * the graph (scans still traverse it, so connectivity is unchanged) but is
 * never returned, so a heap TID reused after vacuum can never be returned
 * for the old vector. Neighbour-list repair and id reuse (the free list and
 * record versions are already in the format) come with graph repair.
 *
 * Locks: one graph page at a time, then the metapage; never two at once.
 * Scans need no coordination with vacuum: under an MVCC snapshot a TID they
 * collected before the flag was set either still points to the dead tuple or
 * to a tuple inserted after the snapshot, which the heap fetch skips.
 */
#include "vx/pg.h"

#include "vx/hnsw/hnsw.h"

/* Visit every graph page; mark dead records when callback is given, count live ones. */
static void
HnswVacuumPass(IndexVacuumInfo *info, IndexBulkDeleteResult *stats, IndexBulkDeleteCallback callback,
			   void *callback_state)
{
	Relation index = info->index;
	HnswMetaPageData meta;
	uint64 live = 0;
	BlockNumber nblocks = RelationGetNumberOfBlocks(index);
	uint32 *marked;

	HnswReadMeta(index, &meta);
	marked = palloc_array(uint32, meta.records_per_page);

	for (HnswId first = 0; first < meta.next_id; first += meta.records_per_page) {
		HnswAddress a = HnswAddressOf(&meta, first);
		uint32 nrecords = Min(meta.records_per_page, meta.next_id - first);
		int nmarked = 0;
		Buffer buf;
		Page page;

		if (a.graph_block >= nblocks)
			break; /* allocation of this id never reached its pages (crash) */

		vacuum_delay_point();
		buf = ReadBufferExtended(index, MAIN_FORKNUM, a.graph_block, RBM_NORMAL, info->strategy);
		/* exclusive lock: flags change, and concurrent inserts rewrite neighbour lists here */
		LockBuffer(buf, callback != NULL ? BUFFER_LOCK_EXCLUSIVE : BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		if (PageIsNew(page)) {
			UnlockReleaseBuffer(buf);
			continue;
		}
		HnswCheckPage(index, page, HNSW_PAGE_GRAPH, a.graph_block);

		for (uint32 i = 0; i < nrecords; i++) {
			HnswGraphRecord *rec = HnswRecordAt(page, &meta, i);

			if (!(rec->flags & HNSW_RECORD_LIVE))
				continue;
			if (callback != NULL && callback(&rec->heap_tid, callback_state))
				marked[nmarked++] = i;
			else
				live++;
		}

		if (nmarked > 0) {
			GenericXLogState *state = GenericXLogStart(index);

			page = GenericXLogRegisterBuffer(state, buf, 0);
			for (int j = 0; j < nmarked; j++)
				HnswRecordAt(page, &meta, marked[j])->flags = HNSW_RECORD_DELETED;
			GenericXLogFinish(state);
			stats->tuples_removed += nmarked;
		}
		UnlockReleaseBuffer(buf);
	}

	stats->num_index_tuples = (double) live;
	stats->estimated_count = false;
	stats->num_pages = RelationGetNumberOfBlocks(index);
	pfree(marked);

	if (callback != NULL) {
		Buffer metabuf = ReadBufferExtended(index, MAIN_FORKNUM, HNSW_METAPAGE_BLKNO, RBM_NORMAL, info->strategy);
		GenericXLogState *state;
		Page page;

		/* exclusive metapage lock: live_count is mutable state */
		LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
		state = GenericXLogStart(index);
		page = GenericXLogRegisterBuffer(state, metabuf, 0);
		HnswCheckMetaPage(index, page)->live_count = live;
		GenericXLogFinish(state);
		UnlockReleaseBuffer(metabuf);
	}
}

/* Mark index entries of dead heap tuples deleted. */
IndexBulkDeleteResult *
hnswbulkdelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats, IndexBulkDeleteCallback callback,
			   void *callback_state)
{
	if (stats == NULL)
		stats = palloc0_object(IndexBulkDeleteResult);
	HnswVacuumPass(info, stats, callback, callback_state);
	return stats;
}

/* Statistics after vacuum (counted when bulkdelete did not run). */
IndexBulkDeleteResult *
hnswvacuumcleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats)
{
	if (info->analyze_only)
		return stats;
	if (stats == NULL) {
		stats = palloc0_object(IndexBulkDeleteResult);
		HnswVacuumPass(info, stats, NULL, NULL);
	}
	return stats;
}
