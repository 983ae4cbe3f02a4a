/*
 * visited.h -- the backend's visited set, shared by the graph searches of
 * the index access methods (hnsw, diskann).
 *
 * Why: a search marks the element ids it has seen. Allocating and clearing
 * 2 bytes per element for every query would cost more than a short search;
 * instead one epoch-tagged vx::core::VisitedSet per backend is kept across
 * scans and inserts of any index and reset in O(1). A second user while
 * it is taken (two scans open at once) gets a private set. The in-use mark
 * is cleared at transaction end, so an ERROR cannot leak it.
 */
#ifndef VX_AM_VISITED_H
#define VX_AM_VISITED_H

#include "vx/pg.h"

#include "vx/core/visited.hpp"

/* A visited set (reset) for ids < limit: the backend's (*cached) when free, else a palloc'd one. */
vx::core::VisitedSet *VxVisitedAcquire(uint32 limit, bool *cached);

/* Give a visited set back (cached: as VxVisitedAcquire set it). */
void VxVisitedRelease(vx::core::VisitedSet *set, bool cached);

#endif /* VX_AM_VISITED_H */
