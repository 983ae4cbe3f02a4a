/*
 * scan.cpp -- the scan descriptor and key handling shared by the ORDER BY
 * scans of hnsw and diskann (include/vx/am/scan.h).
 */
#include "vx/pg.h"

#include "vx/am/scan.h"

/* A scan descriptor whose opaque is opaque, with ORDER BY value arrays (as GiST provides them). */
IndexScanDesc
VxBeginScan(Relation index, int nkeys, int norderbys, void *opaque)
{
	IndexScanDesc scan = RelationGetIndexScan(index, nkeys, norderbys);

	if (norderbys > 0) {
		scan->xs_orderbyvals = palloc0_array(Datum, norderbys);
		scan->xs_orderbynulls = palloc_array(bool, norderbys);
		for (int i = 0; i < norderbys; i++)
			scan->xs_orderbynulls[i] = true;
	}
	scan->opaque = opaque;
	return scan;
}

/* amrescan's part common to every AM: copy the new keys and ORDER BY arguments. */
void
VxRescanKeys(IndexScanDesc scan, ScanKey keys, ScanKey orderbys)
{
	if (keys && scan->numberOfKeys > 0)
		memmove(scan->keyData, keys, scan->numberOfKeys * sizeof(ScanKeyData));
	if (orderbys && scan->numberOfOrderBys > 0)
		memmove(scan->orderByData, orderbys, scan->numberOfOrderBys * sizeof(ScanKeyData));
}

/* The common start of a graph index's amcostestimate (see scan.h). */
bool
VxCostBegin(PlannerInfo *root, IndexPath *path, double loop_count, GenericCosts *costs, double *needed,
			double *selectivity, Cost *indexStartupCost, Cost *indexTotalCost, Selectivity *indexSelectivity,
			double *indexCorrelation, double *indexPages)
{
	RelOptInfo *rel = path->indexinfo->rel;

	if (path->indexorderbys == NIL) {
		*indexStartupCost = get_float8_infinity();
		*indexTotalCost = get_float8_infinity();
		*indexSelectivity = 0;
		*indexCorrelation = 0;
		*indexPages = 0;
		return false;
	}
	MemSet(costs, 0, sizeof(*costs));
	genericcostestimate(root, path, loop_count, costs);

	*selectivity = 1.0;
	*needed = path->indexinfo->tuples;
	if (rel->tuples > 0 && rel->rows > 0)
		*selectivity = Min(rel->rows / rel->tuples, 1.0);
	if (root->limit_tuples > 0)
		*needed = Min(path->indexinfo->tuples, root->limit_tuples / *selectivity);
	return true;
}
