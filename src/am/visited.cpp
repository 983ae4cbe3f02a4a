/*
 * visited.cpp -- the backend's cached visited set (include/vx/am/visited.h).
 *
 * The tags live in TopMemoryContext and grow with headroom when a larger
 * index is searched; they are never shrunk. The in-use flag is cleared by a
 * transaction callback at commit and abort, so a search that ended in an
 * ERROR does not keep the set taken; a private set (palloc'd in the
 * caller's context) goes away with that context.
 */
#include "vx/pg.h"

#include "vx/am/visited.h"

#include <type_traits>

static vx::core::VisitedSet backend_visited;
static uint16 *backend_tags = NULL;
static uint32 backend_capacity = 0;
static bool backend_visited_in_use = false;
static bool backend_xact_callback = false;

static_assert(std::is_trivially_destructible_v<vx::core::VisitedSet>, "a static visited set must need no destructor");

/* Forget the in-use mark at commit or abort. */
static void
VxVisitedXactCallback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_ABORT ||
		event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PREPARE)
		backend_visited_in_use = false;
}

/* A visited set (reset) for ids < limit. */
vx::core::VisitedSet *
VxVisitedAcquire(uint32 limit, bool *cached)
{
	uint32 capacity = Max(limit, 1U);

	if (!backend_xact_callback) {
		RegisterXactCallback(VxVisitedXactCallback, NULL);
		backend_xact_callback = true;
	}

	if (backend_visited_in_use) {
		vx::core::VisitedSet *set = palloc_object(vx::core::VisitedSet);

		*set = vx::core::VisitedSet((uint16 *) palloc(vx::core::VisitedSet::bytes_for(capacity)), capacity);
		*cached = false;
		return set;
	}

	if (backend_capacity < capacity) {
		/* grow with headroom, so an index that keeps growing is not reallocated every time */
		uint32 grown = capacity + capacity / 4;

		if (backend_tags != NULL)
			pfree(backend_tags);
		backend_tags = NULL;
		backend_capacity = 0;
		backend_tags = (uint16 *) MemoryContextAllocHuge(TopMemoryContext, vx::core::VisitedSet::bytes_for(grown));
		backend_capacity = grown;
		backend_visited = vx::core::VisitedSet(backend_tags, backend_capacity);
	} else
		backend_visited.reset();

	backend_visited_in_use = true;
	*cached = true;
	return &backend_visited;
}

/* Give a visited set back. */
void
VxVisitedRelease(vx::core::VisitedSet *set, bool cached)
{
	if (cached)
		backend_visited_in_use = false;
}
