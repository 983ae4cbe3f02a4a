/*
 * arena.h -- the backend's operation arena, for the index access methods'
 * per-row work (diskann inserts).
 *
 * Why: an insert needs a few hundred KB of scratch (copies of the nodes it
 * prunes over, search buffers). Allocated and freed per row, those blocks
 * went back to the OS every time (glibc trims the heap top past 128 KB),
 * and each trim's TLB shootdown cost a fifth of an insert's time. The arena
 * keeps its blocks in TopMemoryContext and hands memory out by bumping a
 * pointer; Acquire starts over, nothing is freed. One operation holds it at
 * a time: a second user while it is taken gets palloc'd memory (from its
 * current context) instead. The in-use mark is cleared at transaction end,
 * so an ERROR cannot leak it.
 */
#ifndef VX_AM_ARENA_H
#define VX_AM_ARENA_H

#include "vx/pg.h"

typedef struct VxArena VxArena;

/* Take the backend's arena (or a stand-in over palloc when it is taken), emptied. */
VxArena *VxArenaAcquire(void);

/* bytes of MAXALIGN'd memory from arena, valid until VxArenaRelease. */
void *VxArenaAlloc(VxArena *arena, Size bytes);

/* Free p from VxArenaAlloc: pfree for a stand-in, nothing for the backend's arena. */
void VxArenaFree(VxArena *arena, void *p);

/* Give the arena back (its memory stays with it for the next operation). */
void VxArenaRelease(VxArena *arena);

#endif /* VX_AM_ARENA_H */
