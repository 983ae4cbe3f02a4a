/*
 * recent.cpp -- the backend's recent-buffer tables (include/vx/am/recent.h).
 */
#include "vx/pg.h"

#include "vx/am/recent.h"

#define VX_RECENT_TABLES 4

static VxRecentTable recent_tables[VX_RECENT_TABLES];
static uint64 recent_clock = 0;

/* The recent-buffer table of an index (created or recycled on first use). */
VxRecentTable *
VxRecentTableFor(Relation index)
{
	VxRecentTable *victim = &recent_tables[0];

	recent_clock++;
	for (int i = 0; i < VX_RECENT_TABLES; i++) {
		VxRecentTable *t = &recent_tables[i];

		if (t->buffers != NULL && RelFileNodeEquals(t->node, index->rd_node)) {
			t->last_use = recent_clock;
			return t;
		}
		if (t->last_use < victim->last_use)
			victim = t;
	}
	if (victim->buffers != NULL)
		pfree(victim->buffers);
	victim->buffers = NULL;
	victim->size = 0;
	victim->node = index->rd_node;
	victim->last_use = recent_clock;
	return victim;
}

/* Slot of blkno in a recent table, growing it (never fails: memory is small, 4 bytes a block). */
Buffer *
VxRecentSlot(VxRecentTable *t, BlockNumber blkno)
{
	if (blkno >= t->size) {
		BlockNumber size = Max(blkno + 1 + blkno / 4, (BlockNumber) 1024);
		Buffer *grown = (Buffer *) MemoryContextAllocZero(TopMemoryContext, (Size) size * sizeof(Buffer));

		if (t->buffers != NULL) {
			memcpy(grown, t->buffers, (Size) t->size * sizeof(Buffer));
			pfree(t->buffers);
		}
		t->buffers = grown;
		t->size = size;
	}
	return &t->buffers[blkno];
}

/* blkno pinned: where the backend last saw it, else read and remembered (see recent.h). */
Buffer
VxRecentRead(Relation index, VxRecentTable *t, BlockNumber blkno, bool *fresh)
{
	Buffer *recent = VxRecentSlot(t, blkno);

	if (BufferIsValid(*recent) && ReadRecentBuffer(index->rd_node, MAIN_FORKNUM, blkno, *recent)) {
		*fresh = false;
		return *recent;
	}
	*recent = ReadBuffer(index, blkno);
	*fresh = true;
	return *recent;
}
