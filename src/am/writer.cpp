/*
 * writer.cpp -- page writes of graph indexes (include/vx/am/writer.h):
 * generic WAL records at run time, plain dirty buffers during a build, and
 * the build's final log_newpage_range.
 *
 * Locks: VxNewBuffer takes the relation extension lock only while it
 * extends; the writer itself takes none (the caller holds exclusive content
 * locks on every registered buffer until after VxWriterFinish).
 */
#include "vx/pg.h"

#include "vx/am/writer.h"
#include "vx/core/page_delta.hpp"

/* START_CRIT_SECTION and END_CRIT_SECTION, spelled without C++20's deprecated ++ on a volatile. */
static inline void
VxEnterCritSection()
{
	CritSectionCount = CritSectionCount + 1;
}

static inline void
VxLeaveCritSection()
{
	Assert(CritSectionCount > 0);
	CritSectionCount = CritSectionCount - 1;
}

/* The deltas of the record being finished (only inside VxWriterFinish's critical section, so one set serves all). */
static char vx_writer_deltas[MAX_GENERIC_XLOG_PAGES][vx::core::max_delta_bytes(BLCKSZ)];

/*
 * Start a set of page writes: a generic WAL record at run time, or plain
 * dirty buffers during a build (VxLogBuiltIndex covers the whole relation
 * at the end). The caller holds exclusive locks on the registered buffers
 * until finish.
 */
void
VxWriterStart(VxWriter *w, Relation index, bool building)
{
	w->building = building;
	w->logged = !building && RelationNeedsWAL(index);
	w->nbuffers = 0;
}

/* The page to modify for buf (full_image: the page is new or rewritten whole). */
Page
VxWriterPage(VxWriter *w, Buffer buf, bool full_image)
{
	for (int i = 0; i < w->nbuffers; i++)
		if (w->buffers[i] == buf)
			return w->building ? BufferGetPage(buf) : (Page) w->images[i].data;
	if (w->nbuffers >= MAX_GENERIC_XLOG_PAGES)
		elog(ERROR, "maximum number %d of generic xlog buffers is exceeded", MAX_GENERIC_XLOG_PAGES);
	int i = w->nbuffers++;

	w->buffers[i] = buf;
	w->full_image[i] = full_image;
	if (w->building)
		return BufferGetPage(buf);
	memcpy(w->images[i].data, BufferGetPage(buf), BLCKSZ);
	return (Page) w->images[i].data;
}

/* Copy image onto page with its hole zeroed, as generic_redo leaves it. */
static void
VxWriterApply(Page page, const char *image)
{
	PageHeader header = (PageHeader) image;

	memcpy(page, image, header->pd_lower);
	memset((char *) page + header->pd_lower, 0, header->pd_upper - header->pd_lower);
	memcpy((char *) page + header->pd_upper, image + header->pd_upper, BLCKSZ - header->pd_upper);
}

/*
 * Apply and log (or just dirty) every registered page: the record
 * GenericXLogFinish would write (RM_GENERIC_ID, each page's delta as its
 * block data, or a full image), so core's generic_redo replays it.
 */
void
VxWriterFinish(VxWriter *w)
{
	if (w->building) {
		for (int i = 0; i < w->nbuffers; i++)
			MarkBufferDirty(w->buffers[i]);
	} else if (!w->logged) {
		VxEnterCritSection();
		for (int i = 0; i < w->nbuffers; i++) {
			VxWriterApply(BufferGetPage(w->buffers[i]), w->images[i].data);
			MarkBufferDirty(w->buffers[i]);
		}
		VxLeaveCritSection();
	} else {
		XLogRecPtr lsn;

		XLogBeginInsert();
		VxEnterCritSection();
		for (int i = 0; i < w->nbuffers; i++) {
			Page page = BufferGetPage(w->buffers[i]);
			const char *image = w->images[i].data;

			if (w->full_image[i])
				XLogRegisterBuffer(i, w->buffers[i], REGBUF_FORCE_IMAGE | REGBUF_STANDARD);
			else {
				vx::core::PageImage old{(const char *) page, ((PageHeader) page)->pd_lower, ((PageHeader) page)->pd_upper};
				vx::core::PageImage target{image, ((PageHeader) image)->pd_lower, ((PageHeader) image)->pd_upper};
				size_t bytes = vx::core::delta_between(old, target, BLCKSZ, vx_writer_deltas[i]);

				XLogRegisterBuffer(i, w->buffers[i], REGBUF_STANDARD);
				XLogRegisterBufData(i, vx_writer_deltas[i], (uint32) bytes);
			}
			VxWriterApply(page, image);
			MarkBufferDirty(w->buffers[i]);
		}
		lsn = XLogInsert(RM_GENERIC_ID, 0);
		for (int i = 0; i < w->nbuffers; i++)
			PageSetLSN(BufferGetPage(w->buffers[i]), lsn);
		VxLeaveCritSection();
	}
	w->nbuffers = 0;
}

/*
 * Extend the relation by one page and return it pinned and exclusively
 * locked, not yet initialized. The extension lock serializes concurrent
 * extenders (a build holds the only reference, but taking it is harmless).
 */
Buffer
VxNewBuffer(Relation index, ForkNumber fork)
{
	Buffer buf;

	LockRelationForExtension(index, ExclusiveLock);
	buf = ReadBufferExtended(index, fork, P_NEW, RBM_NORMAL, NULL);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	UnlockRelationForExtension(index, ExclusiveLock);
	return buf;
}

/*
 * WAL-log a fork a build wrote without WAL: every page, when the relation
 * needs WAL; an unlogged table's init fork always (it must survive a crash
 * to reset the index).
 */
void
VxLogBuiltIndex(Relation index, ForkNumber fork)
{
	if (RelationNeedsWAL(index) || fork == INIT_FORKNUM)
		log_newpage_range(index, fork, 0, RelationGetNumberOfBlocksInFork(index, fork), true);
}
