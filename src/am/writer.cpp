/*
 * writer.cpp -- page writes of graph indexes (include/vx/am/writer.h):
 * GenericXLog records at run time, plain dirty buffers during a build, and
 * the build's final log_newpage_range.
 *
 * Locks: VxNewBuffer takes the relation extension lock only while it
 * extends; the writer itself takes none (the caller holds exclusive content
 * locks on every registered buffer until after VxWriterFinish).
 */
#include "vx/pg.h"

#include "vx/am/writer.h"

/*
 * Start a set of page writes: GenericXLog at run time, or plain dirty
 * buffers during a build (VxLogBuiltIndex covers the whole relation at the
 * end). The caller holds exclusive locks on the registered buffers until
 * finish.
 */
void
VxWriterStart(VxWriter *w, Relation index, bool building)
{
	w->building = building;
	w->nbuffers = 0;
	w->state = building ? NULL : GenericXLogStart(index);
}

/* The page to modify for buf (full_image: the page is new or rewritten whole). */
Page
VxWriterPage(VxWriter *w, Buffer buf, bool full_image)
{
	Assert(w->nbuffers < MAX_GENERIC_XLOG_PAGES);
	w->buffers[w->nbuffers++] = buf;
	if (w->building)
		return BufferGetPage(buf);
	return GenericXLogRegisterBuffer(w->state, buf, full_image ? GENERIC_XLOG_FULL_IMAGE : 0);
}

/* Apply and log (or just dirty) every registered page. */
void
VxWriterFinish(VxWriter *w)
{
	if (w->building) {
		for (int i = 0; i < w->nbuffers; i++)
			MarkBufferDirty(w->buffers[i]);
	} else
		GenericXLogFinish(w->state);
	w->nbuffers = 0;
	w->state = NULL;
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
