/*
 * scan.h -- what the ORDER BY scans of the graph index methods share: the
 * scan descriptor with the AM-provided ORDER BY value arrays, taking the
 * keys at rescan, and the memory policy of the resumable beam search
 * (vx::core::resumable_batch) whose frontier and pool grow in the scan's
 * memory context up to a budget.
 */
#ifndef VX_AM_SCAN_H
#define VX_AM_SCAN_H

#include "vx/pg.h"

#include "vx/core/beam_search.hpp"

#include <type_traits>

/*
 * The common start of a graph index's amcostestimate. Without ORDER BY the
 * index returns nothing useful: the outputs get an infinite cost and the
 * result is false. Else costs gets genericcostestimate's figures, *needed
 * the rows the index must produce (LIMIT over the selectivity of the
 * table's other restrictions, at most every tuple) and *selectivity that
 * selectivity. A bound on an ORDER BY distance (`v <-> q < r`) does not
 * count: rows come nearest first, so it only cuts rows after the LIMIT's.
 */
bool VxCostBegin(PlannerInfo *root, IndexPath *path, double loop_count, GenericCosts *costs, double *needed,
				 double *selectivity, Cost *indexStartupCost, Cost *indexTotalCost, Selectivity *indexSelectivity,
				 double *indexCorrelation, double *indexPages);

/* A scan descriptor whose opaque is opaque, with ORDER BY value arrays (as GiST provides them). */
IndexScanDesc VxBeginScan(Relation index, int nkeys, int norderbys, void *opaque);

/* amrescan's part common to every AM: copy the new keys and ORDER BY arguments. */
void VxRescanKeys(IndexScanDesc scan, ScanKey keys, ScanKey orderbys);

/* The frontier and pool of one resumable search grow in ctx while both together fit budget bytes. */
struct VxGrowPolicy
{
	MemoryContext ctx;
	Size budget;
	const vx::core::ResumableBeam *beam;

	/* vx::core's grow policy: new storage of at least want candidates, or false past the budget. */
	bool
	operator()(vx::core::GrowHeap &h, uint32_t want) const
	{
		const vx::core::GrowHeap &other = &h == &beam->frontier ? beam->pool : beam->frontier;
		Size bytes = (Size) want * sizeof(vx::core::Candidate);
		vx::core::Candidate *old = h.buf;

		if (bytes + (Size) other.cap * sizeof(vx::core::Candidate) > budget)
			return false;
		h.move_to((vx::core::Candidate *) MemoryContextAllocHuge(ctx, bytes), want);
		if (old != NULL)
			pfree(old);
		return true;
	}
};

static_assert(std::is_trivially_destructible_v<VxGrowPolicy>, "longjmp crosses the grow policy");

/* Accept every candidate (no filter inside the traversal). */
struct VxAcceptAll
{
	bool operator()(uint32_t) const { return true; }
};

#endif /* VX_AM_SCAN_H */
