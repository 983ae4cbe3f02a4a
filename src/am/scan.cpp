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

/* The expression under implicit casts and relabelings. */
static Node *
VxStripCasts(Node *node)
{
	for (;;) {
		if (node != NULL && IsA(node, RelabelType))
			node = (Node *) ((RelabelType *) node)->arg;
		else if (node != NULL && IsA(node, FuncExpr) &&
				 ((FuncExpr *) node)->funcformat == COERCE_IMPLICIT_CAST &&
				 list_length(((FuncExpr *) node)->args) == 1)
			node = (Node *) linitial(((FuncExpr *) node)->args);
		else
			return node;
	}
}

/*
 * Is clause a bound on one of the ORDER BY distances (`v <-> q < r`,
 * `r > v <-> q`, ...)? The index returns rows nearest first, so such a
 * bound only cuts the tail: it never makes the index produce more rows
 * than the LIMIT.
 */
static bool
VxIsDistanceBound(Node *clause, List *orderbys)
{
	OpExpr *op;
	ListCell *lc;

	if (clause == NULL || !IsA(clause, OpExpr) || list_length(((OpExpr *) clause)->args) != 2)
		return false;
	op = (OpExpr *) clause;
	foreach (lc, orderbys) {
		Node *orderby = VxStripCasts((Node *) lfirst(lc));

		if (equal(VxStripCasts((Node *) linitial(op->args)), orderby) ||
			equal(VxStripCasts((Node *) lsecond(op->args)), orderby))
			return true;
	}
	return false;
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

	/*
	 * A bound on the ORDER BY distance removes rows only after those the
	 * LIMIT takes (the index returns them nearest first): the rows needed
	 * depend on the other restrictions only (pgvector's planner ignores
	 * every restriction here).
	 */
	if (*selectivity < 1.0 && rel->baserestrictinfo != NIL) {
		List *others = NIL;
		bool bounded = false;
		ListCell *lc;

		foreach (lc, rel->baserestrictinfo) {
			RestrictInfo *rinfo = (RestrictInfo *) lfirst(lc);

			if (VxIsDistanceBound((Node *) rinfo->clause, path->indexorderbys))
				bounded = true;
			else
				others = lappend(others, rinfo);
		}
		if (bounded)
			*selectivity = others == NIL ? 1.0 : Min(clauselist_selectivity(root, others, rel->relid, JOIN_INNER, NULL), 1.0);
		list_free(others);
	}
	if (root->limit_tuples > 0)
		*needed = Min(path->indexinfo->tuples, root->limit_tuples / *selectivity);
	return true;
}
