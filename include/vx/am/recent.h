/*
 * recent.h -- where each block of an index was last found in shared
 * buffers, per backend and kept across scans and inserts: ReadRecentBuffer()
 * re-pins such a buffer after checking its tag, without the buffer-mapping
 * hash lookup and partition lock of ReadBuffer(), and a search can prefetch
 * a recent buffer's descriptor and page lines without pinning. A stale entry
 * (buffer evicted or reused) only fails the check or wastes a hint. A few
 * indexes are remembered, keyed by relfilenode; 4 bytes a block.
 */
#ifndef VX_AM_RECENT_H
#define VX_AM_RECENT_H

#include "vx/pg.h"

typedef struct VxRecentTable
{
	RelFileNode node;
	Buffer *buffers;
	BlockNumber size;
	uint64 last_use;
} VxRecentTable;

/* The recent-buffer table of an index (created or recycled on first use). */
VxRecentTable *VxRecentTableFor(Relation index);

/* Slot of blkno in a recent table, growing it. */
Buffer *VxRecentSlot(VxRecentTable *t, BlockNumber blkno);

/* The buffer blkno was last seen in, or InvalidBuffer (no lookup, no pin). */
static inline Buffer
VxRecentPeek(const VxRecentTable *t, BlockNumber blkno)
{
	return blkno < t->size ? t->buffers[blkno] : InvalidBuffer;
}

/*
 * blkno pinned: re-pinned where the backend last saw it, else read (*fresh:
 * it was read, so the caller checks its page type once) and remembered.
 */
Buffer VxRecentRead(Relation index, VxRecentTable *t, BlockNumber blkno, bool *fresh);

#endif /* VX_AM_RECENT_H */
