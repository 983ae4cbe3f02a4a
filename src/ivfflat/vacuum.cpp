/*
 * vacuum.cpp -- ambulkdelete and amvacuumcleanup for ivfflat.
 *
 * bulkdelete walks every list's chain; on each entry page (exclusive lock,
 * since items are removed) the entries whose heap TID the callback reports
 * dead are deleted with PageIndexMultiDelete in one generic WAL record of
 * that page. Pages stay in their chains, empty or not (as pgvector: the
 * space is reused by later inserts into that list only). Only one page is
 * locked at a time, walking forward, as inserts do.
 */
#include "vx/pg.h"

#include "vx/am/writer.h"
#include "vx/ivfflat/ivfflat.h"

/* The first entry page of every list, read from the directory. */
static BlockNumber *
IvfflatListStarts(Relation index, const IvfflatMetaPageData *meta, BufferAccessStrategy bas, uint32 *count)
{
	BlockNumber *starts = palloc_array(BlockNumber, meta->lists);
	BlockNumber blkno = meta->first_directory;

	*count = 0;
	while (blkno != InvalidBlockNumber) {
		Buffer buf = ReadBufferExtended(index, MAIN_FORKNUM, blkno, RBM_NORMAL, bas);
		Page page;
		OffsetNumber maxoff;

		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		IvfflatCheckPage(index, page, IVFFLAT_PAGE_DIRECTORY, blkno);
		maxoff = PageGetMaxOffsetNumber(page);
		for (OffsetNumber off = FirstOffsetNumber; off <= maxoff && *count < meta->lists; off++)
			starts[(*count)++] = ((IvfflatList) PageGetItem(page, PageGetItemId(page, off)))->start;
		blkno = IvfflatPageGetOpaque(page)->next;
		UnlockReleaseBuffer(buf);
	}
	return starts;
}

/* ambulkdelete: remove the entries of dead heap tuples. */
IndexBulkDeleteResult *
ivfflatbulkdelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats, IndexBulkDeleteCallback callback,
				  void *callback_state)
{
	Relation index = info->index;
	IvfflatMetaPageData meta;
	BlockNumber *starts;
	uint32 nlists;
	OffsetNumber deletable[MaxOffsetNumber];

	if (stats == NULL)
		stats = palloc0_object(IndexBulkDeleteResult);
	IvfflatReadMeta(index, &meta);
	starts = IvfflatListStarts(index, &meta, info->strategy, &nlists);

	for (uint32 l = 0; l < nlists; l++) {
		BlockNumber blkno = starts[l];

		while (blkno != InvalidBlockNumber) {
			Buffer buf;
			Page page;
			OffsetNumber maxoff;
			int ndeletable = 0;

			vacuum_delay_point();
			buf = ReadBufferExtended(index, MAIN_FORKNUM, blkno, RBM_NORMAL, info->strategy);
			/* exclusive: items are removed */
			LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
			page = BufferGetPage(buf);
			IvfflatCheckPage(index, page, IVFFLAT_PAGE_ENTRY, blkno);
			maxoff = PageGetMaxOffsetNumber(page);
			for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off++) {
				IvfflatEntryData *e = (IvfflatEntryData *) PageGetItem(page, PageGetItemId(page, off));

				if (callback(&e->tid, callback_state)) {
					deletable[ndeletable++] = off;
					stats->tuples_removed++;
				} else
					stats->num_index_tuples++;
			}
			if (ndeletable > 0) {
				VxWriter w;

				VxWriterStart(&w, index, false);
				page = VxWriterPage(&w, buf, false);
				PageIndexMultiDelete(page, deletable, ndeletable);
				VxWriterFinish(&w);
			}
			blkno = IvfflatPageGetOpaque(BufferGetPage(buf))->next;
			UnlockReleaseBuffer(buf);
		}
	}
	pfree(starts);
	return stats;
}

/* amvacuumcleanup: statistics only (nothing to compact). */
IndexBulkDeleteResult *
ivfflatvacuumcleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats)
{
	if (info->analyze_only)
		return stats;
	if (stats == NULL) {
		/* no bulkdelete ran: count the entries */
		IvfflatMetaPageData meta;
		BlockNumber *starts;
		uint32 nlists;

		stats = palloc0_object(IndexBulkDeleteResult);
		IvfflatReadMeta(info->index, &meta);
		starts = IvfflatListStarts(info->index, &meta, info->strategy, &nlists);
		for (uint32 l = 0; l < nlists; l++)
			for (BlockNumber blkno = starts[l]; blkno != InvalidBlockNumber;) {
				Buffer buf = ReadBufferExtended(info->index, MAIN_FORKNUM, blkno, RBM_NORMAL, info->strategy);
				Page page;

				LockBuffer(buf, BUFFER_LOCK_SHARE);
				page = BufferGetPage(buf);
				IvfflatCheckPage(info->index, page, IVFFLAT_PAGE_ENTRY, blkno);
				stats->num_index_tuples += PageGetMaxOffsetNumber(page);
				blkno = IvfflatPageGetOpaque(page)->next;
				UnlockReleaseBuffer(buf);
			}
		pfree(starts);
	}
	stats->num_pages = RelationGetNumberOfBlocks(info->index);
	return stats;
}
