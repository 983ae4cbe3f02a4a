/*
 * arena.cpp -- the backend's operation arena (include/vx/am/arena.h).
 *
 * Blocks of at least 256 KB in TopMemoryContext, kept in a list; the arena
 * fills them in order and Acquire rewinds to the first. A request larger
 * than a block gets a block of its own size, kept too, so after the first
 * few operations nothing is allocated at all.
 */
#include "vx/pg.h"

#include "vx/am/arena.h"

#define VX_ARENA_BLOCK_SIZE (256 * 1024)

typedef struct VxArenaBlock
{
	struct VxArenaBlock *next;
	Size size; /* usable bytes after the header */
} VxArenaBlock;

struct VxArena
{
	bool cached;		   /* the backend's arena; else a stand-in over palloc */
	VxArenaBlock *first;   /* every block, in fill order */
	VxArenaBlock *current; /* the block being filled */
	Size used;			   /* bytes of current handed out */
};

static VxArena backend_arena = {true, NULL, NULL, 0};
static VxArena standin_arena = {false, NULL, NULL, 0};
static bool backend_arena_in_use = false;
static bool backend_xact_callback = false;

#define BlockData(block) ((char *) (block) + MAXALIGN(sizeof(VxArenaBlock)))

/* Forget the in-use mark at commit or abort. */
static void
VxArenaXactCallback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_ABORT ||
		event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PREPARE)
		backend_arena_in_use = false;
}

VxArena *
VxArenaAcquire(void)
{
	if (!backend_xact_callback) {
		RegisterXactCallback(VxArenaXactCallback, NULL);
		backend_xact_callback = true;
	}
	if (backend_arena_in_use)
		return &standin_arena;
	backend_arena_in_use = true;
	backend_arena.current = backend_arena.first;
	backend_arena.used = 0;
	return &backend_arena;
}

void *
VxArenaAlloc(VxArena *arena, Size bytes)
{
	VxArenaBlock *block;

	bytes = MAXALIGN(bytes);
	if (!arena->cached)
		return palloc(bytes);
	/* the next block with room, else a new one at the end of the list */
	while (arena->current != NULL && arena->used + bytes > arena->current->size) {
		arena->current = arena->current->next;
		arena->used = 0;
	}
	if (arena->current == NULL) {
		Size size = Max(bytes, (Size) VX_ARENA_BLOCK_SIZE);

		block = (VxArenaBlock *) MemoryContextAllocHuge(TopMemoryContext, MAXALIGN(sizeof(VxArenaBlock)) + size);
		block->next = NULL;
		block->size = size;
		if (arena->first == NULL)
			arena->first = block;
		else {
			VxArenaBlock *last = arena->first;

			while (last->next != NULL)
				last = last->next;
			last->next = block;
		}
		arena->current = block;
		arena->used = 0;
	}
	arena->used += bytes;
	return BlockData(arena->current) + arena->used - bytes;
}

void
VxArenaFree(VxArena *arena, void *p)
{
	if (!arena->cached)
		pfree(p);
}

void
VxArenaRelease(VxArena *arena)
{
	if (arena->cached)
		backend_arena_in_use = false;
}
