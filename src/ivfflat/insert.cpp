/*
 * insert.cpp -- aminsert for ivfflat, and the list append that builds use
 * too.
 *
 * An insert prepares the value (detoast, cosine normalization; a zero
 * vector under cosine is not indexed, as in pgvector), finds the nearest
 * center by reading the directory pages one at a time under a share lock,
 * then appends the entry to that list:
 *
 *   1. exclusive lock on the list's insert page (as the directory said);
 *      while that page has a next page (another backend appended), move on
 *      to it (lock the next, release the current: one lock at a time,
 *      always forward along the chain, so no deadlock).
 *   2. if the entry fits: one generic WAL record (that page).
 *   3. else a new page (extension lock only while extending; the new page
 *      is locked and unreachable), the entry written on it and the full
 *      page's next pointed at it: one record of both pages, so a crash
 *      leaves either no new page in the chain or a complete one.
 *   4. after releasing the entry pages, the directory item's insert page
 *      is advanced under an exclusive lock of its directory page (a second
 *      record; if it is lost, the insert page only lags and step 1 follows
 *      the chain).
 *
 * Scans read each entry page under a share lock and copy what they need,
 * so they never see a half-written page.
 */
#include "vx/pg.h"

#include "vx/am/writer.h"
#include "vx/ivfflat/ivfflat.h"

/* Append an entry item to the chain whose last known page is *blkno; *blkno is then the page that holds it. */
static void
IvfflatAppendItem(Relation index, ForkNumber fork, BlockNumber *blkno, const char *item, Size size, bool building)
{
	Buffer buf = ReadBufferExtended(index, fork, *blkno, RBM_NORMAL, NULL);
	Page page;
	VxWriter w;

	/* exclusive: the page is modified; chains are only walked forward, one lock at a time */
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	for (;;) {
		BlockNumber next;

		page = BufferGetPage(buf);
		IvfflatCheckPage(index, page, IVFFLAT_PAGE_ENTRY, BufferGetBlockNumber(buf));
		next = IvfflatPageGetOpaque(page)->next;
		if (next == InvalidBlockNumber)
			break;
		UnlockReleaseBuffer(buf);
		buf = ReadBufferExtended(index, fork, next, RBM_NORMAL, NULL);
		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	}

	if (PageGetFreeSpace(page) >= size) {
		VxWriterStart(&w, index, building);
		page = VxWriterPage(&w, buf, false);
		if (PageAddItem(page, (Item) item, size, InvalidOffsetNumber, false, false) == InvalidOffsetNumber)
			elog(ERROR, "failed to add index item to \"%s\"", RelationGetRelationName(index));
		VxWriterFinish(&w);
		*blkno = BufferGetBlockNumber(buf);
		UnlockReleaseBuffer(buf);
		return;
	}

	{
		/* the new page is reachable only once the old one points at it, in the same record */
		Buffer newbuf = VxNewBuffer(index, fork);
		Page newpage;

		VxWriterStart(&w, index, building);
		newpage = VxWriterPage(&w, newbuf, true);
		page = VxWriterPage(&w, buf, false);
		IvfflatInitPage(newpage, IVFFLAT_PAGE_ENTRY);
		if (PageAddItem(newpage, (Item) item, size, InvalidOffsetNumber, false, false) == InvalidOffsetNumber)
			elog(ERROR, "failed to add index item to \"%s\"", RelationGetRelationName(index));
		IvfflatPageGetOpaque(page)->next = BufferGetBlockNumber(newbuf);
		VxWriterFinish(&w);
		*blkno = BufferGetBlockNumber(newbuf);
		UnlockReleaseBuffer(buf);
		UnlockReleaseBuffer(newbuf);
	}
}

/* Build an entry item for (tid, datum) in palloc'd memory; *size its size. */
static char *
IvfflatMakeEntry(const char *datum, ItemPointer tid, Size *size)
{
	Size dsize = VARSIZE_ANY(datum);
	char *item;

	*size = IVFFLAT_ENTRY_SIZE(dsize);
	item = (char *) palloc0(*size);
	((IvfflatEntryData *) item)->tid = *tid;
	memcpy(IVFFLAT_ENTRY_VALUE(item), datum, dsize);
	return item;
}

/* Append (tid, datum) to the list whose chain ends (as last known) at *insert, in fork; used by builds. */
void
IvfflatAppendEntry(Relation index, ForkNumber fork, BlockNumber *insert, const char *datum, ItemPointer tid,
				   bool building)
{
	Size size;
	char *item = IvfflatMakeEntry(datum, tid, &size);

	IvfflatAppendItem(index, fork, insert, item, size, building);
	pfree(item);
}

/* The nearest list to a prepared value: its directory location and insert page. */
static void
IvfflatNearestList(Relation index, const IvfflatMetaPageData *meta, const VxDistanceData *dist, const char *datum,
				   IvfflatListLoc *loc, BlockNumber *insert)
{
	BlockNumber blkno = meta->first_directory;
	float best = INFINITY;
	bool found = false;

	while (blkno != InvalidBlockNumber) {
		Buffer buf = ReadBuffer(index, blkno);
		Page page;
		OffsetNumber maxoff;

		/* share: the insert pages change under the exclusive lock */
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		IvfflatCheckPage(index, page, IVFFLAT_PAGE_DIRECTORY, blkno);
		maxoff = PageGetMaxOffsetNumber(page);
		for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off++) {
			IvfflatList list = (IvfflatList) PageGetItem(page, PageGetItemId(page, off));
			float d = dist->fn(dist, datum, IVFFLAT_LIST_CENTER(list));

			if (!found || d < best) {
				best = d;
				found = true;
				loc->blkno = blkno;
				loc->offno = off;
				*insert = list->insert;
			}
		}
		blkno = IvfflatPageGetOpaque(page)->next;
		UnlockReleaseBuffer(buf);
	}
	if (!found)
		ereport(ERROR, (errcode(ERRCODE_INDEX_CORRUPTED),
						errmsg("index \"%s\" has no lists", RelationGetRelationName(index)),
						errhint("REINDEX the index.")));
}

/* Advance a list's insert page to blkno (if it still names old). */
static void
IvfflatUpdateInsertPage(Relation index, IvfflatListLoc loc, BlockNumber old, BlockNumber blkno)
{
	Buffer buf = ReadBuffer(index, loc.blkno);
	Page page;
	IvfflatList list;
	VxWriter w;

	/* exclusive: the directory item changes; no other lock is held */
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	list = (IvfflatList) PageGetItem(BufferGetPage(buf), PageGetItemId(BufferGetPage(buf), loc.offno));
	if (list->insert == old) {
		VxWriterStart(&w, index, false);
		page = VxWriterPage(&w, buf, false);
		list = (IvfflatList) PageGetItem(page, PageGetItemId(page, loc.offno));
		list->insert = blkno;
		VxWriterFinish(&w);
	}
	UnlockReleaseBuffer(buf);
}

/* aminsert: index one row (NULLs and zero vectors under cosine are not indexed). */
bool
ivfflatinsert(Relation index, Datum *values, bool *isnull, ItemPointer heap_tid, Relation heap,
			  IndexUniqueCheck checkUnique,
#if PG_VERSION_NUM >= 140000
			  bool indexUnchanged,
#endif
			  IndexInfo *indexInfo)
{
	MemoryContext ctx;
	MemoryContext old;
	const IvfflatMetaPageData *meta;
	VxDistanceData dist;
	Datum value;
	bool skip;

	if (isnull[0])
		return false;

	ctx = AllocSetContextCreate(CurrentMemoryContext, "ivfflat insert", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(ctx);

	meta = IvfflatGetCachedMeta(index);
	IvfflatInitDistance(&dist, meta);
	value = IvfflatPrepareValue(&dist, values[0], true, &skip);
	if (!skip) {
		IvfflatListLoc loc;
		BlockNumber insert;
		BlockNumber orig;

		IvfflatNearestList(index, meta, &dist, DatumGetPointer(value), &loc, &insert);
		orig = insert;
		IvfflatAppendEntry(index, MAIN_FORKNUM, &insert, DatumGetPointer(value), heap_tid, false);
		if (insert != orig)
			IvfflatUpdateInsertPage(index, loc, orig, insert);
	}

	MemoryContextSwitchTo(old);
	MemoryContextDelete(ctx);
	return false;
}
