/*
 * labels.cpp -- the optional label column of a diskann index (a smallint[]
 * second key, pgvectorscale's labelled filtering): reading a row's labels,
 * storing them in its node, the scan's conditions (labels && q, labels @> q)
 * evaluated inside the traversal, and the metapage's table of per-label start
 * points (Filtered-DiskANN).
 *
 * A node holds up to label_capacity labels, sorted and distinct. A row with
 * more is stored with its first label_capacity and nlabels =
 * DISKANN_LABELS_OVERFLOW: scans then accept it whatever the condition and
 * let the executor recheck the row (xs_recheck), so answers stay exact.
 * NULL elements match nothing (as with the array operators); a NULL array
 * (nlabels = DISKANN_LABELS_NULL) satisfies no condition, an empty one only
 * labels @> '{}'.
 */
#include "vx/pg.h"

#include "vx/diskann/diskann.h"

#include <algorithm>

/* Error unless the index's columns are a vector column and, optionally, one smallint[] label column. */
void
DiskannCheckLabelColumn(Relation index)
{
	int natts = IndexRelationGetNumberOfKeyAttributes(index);

	if (natts > 2 || (natts == 2 && TupleDescAttr(index->rd_att, 1)->atttypid != INT2ARRAYOID) ||
		TupleDescAttr(index->rd_att, 0)->atttypid == INT2ARRAYOID)
		ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						errmsg("diskann index must have a vector column first, then optionally a smallint[] column "
							   "of labels")));
}

/* A row's labels from its smallint[] value (sorted, distinct; NULL elements dropped). */
void
DiskannReadLabels(Datum array, bool isnull, DiskannLabels *out)
{
	ArrayType *a;
	Datum *elems;
	bool *nulls;
	int n;
	int count = 0;
	int16 all[DISKANN_MAX_NODE_LABELS + 1];

	out->count = DISKANN_LABELS_NULL;
	if (isnull)
		return;
	out->count = 0;
	a = DatumGetArrayTypeP(array);
	deconstruct_array(a, INT2OID, sizeof(int16), true, TYPALIGN_SHORT, &elems, &nulls, &n);
	for (int i = 0; i < n; i++) {
		int16 v;
		bool seen = false;

		if (nulls[i])
			continue;
		v = DatumGetInt16(elems[i]);
		for (int j = 0; j < count && !seen; j++)
			seen = all[j] == v;
		if (seen)
			continue;
		if (count == DISKANN_MAX_NODE_LABELS) {
			count = DISKANN_MAX_NODE_LABELS + 1; /* too many: stored truncated, rechecked */
			break;
		}
		all[count++] = v;
	}
	std::sort(all, all + Min(count, DISKANN_MAX_NODE_LABELS));
	memcpy(out->values, all, sizeof(int16) * Min(count, DISKANN_MAX_NODE_LABELS));
	out->count = count > DISKANN_MAX_NODE_LABELS ? DISKANN_LABELS_OVERFLOW : count;
	pfree(elems);
	pfree(nulls);
}

/* Store labels in a node (truncated to the index's capacity, then marked for recheck). */
void
DiskannStoreLabels(DiskannNode *node, const DiskannMetaPageData *meta, const DiskannLabels *labels)
{
	int16 *dst = DiskannNodeLabels(node, meta);
	int n = DiskannStoredLabels(labels->count, DISKANN_MAX_NODE_LABELS);

	if (meta->label_capacity == 0) {
		node->nlabels = 0;
		return;
	}
	memset(dst, 0, DiskannLabelBytes(meta));
	if (labels->count == DISKANN_LABELS_NULL) {
		node->nlabels = DISKANN_LABELS_NULL;
		return;
	}
	memcpy(dst, labels->values, sizeof(int16) * Min(n, (int) meta->label_capacity));
	node->nlabels =
		(labels->count == DISKANN_LABELS_OVERFLOW || n > meta->label_capacity) ? DISKANN_LABELS_OVERFLOW : (uint8) n;
}

/* Whether sorted a[0..na) and b[0..nb) share an element. */
static bool
DiskannLabelsOverlap(const int16 *a, int na, const int16 *b, int nb)
{
	int i = 0;
	int j = 0;

	while (i < na && j < nb) {
		if (a[i] == b[j])
			return true;
		if (a[i] < b[j])
			i++;
		else
			j++;
	}
	return false;
}

/* Whether sorted a[0..na) contains every element of sorted b[0..nb). */
static bool
DiskannLabelsContain(const int16 *a, int na, const int16 *b, int nb)
{
	int i = 0;

	for (int j = 0; j < nb; j++) {
		while (i < na && a[i] < b[j])
			i++;
		if (i == na || a[i] != b[j])
			return false;
	}
	return true;
}

/* Whether a node's labels (nlabels != DISKANN_LABELS_OVERFLOW) satisfy every condition of filter. */
bool
DiskannLabelsMatch(const DiskannLabelFilter *filter, const int16 *labels, int nlabels)
{
	if (filter->never || nlabels == DISKANN_LABELS_NULL)
		return false;
	for (int k = 0; k < filter->nkeys; k++) {
		bool ok = filter->strategy[k] == DISKANN_LABEL_OVERLAP
					  ? DiskannLabelsOverlap(labels, nlabels, filter->values[k], filter->nvalues[k])
					  : DiskannLabelsContain(labels, nlabels, filter->values[k], filter->nvalues[k]);

		if (!ok)
			return false;
	}
	return true;
}

/* The label conditions of a scan's keys (all on the label column), in the current memory context. */
void
DiskannInitLabelFilter(DiskannLabelFilter *filter, ScanKey keys, int nkeys)
{
	filter->nkeys = nkeys;
	filter->never = false;
	filter->strategy = (uint16 *) palloc(sizeof(uint16) * Max(nkeys, 1));
	filter->nvalues = (int *) palloc(sizeof(int) * Max(nkeys, 1));
	filter->values = (int16 **) palloc(sizeof(int16 *) * Max(nkeys, 1));
	for (int k = 0; k < nkeys; k++) {
		ScanKey key = &keys[k];
		ArrayType *a;
		Datum *elems;
		bool *nulls;
		int n;
		int count = 0;

		filter->strategy[k] = key->sk_strategy;
		filter->nvalues[k] = 0;
		filter->values[k] = NULL;
		if (key->sk_flags & SK_ISNULL) {
			filter->never = true; /* labels && NULL is NULL: no row */
			continue;
		}
		if (key->sk_strategy != DISKANN_LABEL_OVERLAP && key->sk_strategy != DISKANN_LABEL_CONTAINS)
			elog(ERROR, "unexpected diskann label strategy %d", key->sk_strategy);
		/* the argument may have any number of elements: not DiskannReadLabels, which caps them */
		a = DatumGetArrayTypeP(key->sk_argument);
		deconstruct_array(a, INT2OID, sizeof(int16), true, TYPALIGN_SHORT, &elems, &nulls, &n);
		filter->values[k] = (int16 *) palloc(sizeof(int16) * Max(n, 1));
		for (int i = 0; i < n; i++)
			if (!nulls[i])
				filter->values[k][count++] = DatumGetInt16(elems[i]);
			else if (key->sk_strategy == DISKANN_LABEL_CONTAINS)
				filter->never = true; /* @> of an array with a NULL element is never true */
		std::sort(filter->values[k], filter->values[k] + count);
		filter->nvalues[k] = (int) (std::unique(filter->values[k], filter->values[k] + count) - filter->values[k]);
	}
}

/* The start point of label in the metapage's table; false if it has none. */
bool
DiskannLabelEntryFind(DiskannMetaPageData *meta, int16 label, DiskannId *id)
{
	DiskannLabelEntry *e = DiskannMetaLabels(meta);
	DiskannLabelEntry *end = e + meta->nlabel_entries;
	DiskannLabelEntry *it =
		std::lower_bound(e, end, label, [](const DiskannLabelEntry &x, int16 l) { return x.label < l; });

	if (it == end || it->label != label)
		return false;
	*id = it->id;
	return true;
}

/*
 * Set (or, with DISKANN_INVALID_ID, remove) the start point of label in the
 * table of a metapage being written (its pd_lower is the caller's to
 * update); false when the table is full.
 */
bool
DiskannLabelEntrySet(DiskannMetaPageData *meta, int16 label, DiskannId id)
{
	DiskannLabelEntry *e = DiskannMetaLabels(meta);
	DiskannLabelEntry *end = e + meta->nlabel_entries;
	DiskannLabelEntry *it =
		std::lower_bound(e, end, label, [](const DiskannLabelEntry &x, int16 l) { return x.label < l; });

	if (it != end && it->label == label) {
		if (id != DISKANN_INVALID_ID)
			it->id = id;
		else {
			memmove(it, it + 1, (char *) end - (char *) (it + 1));
			meta->nlabel_entries--;
		}
		return true;
	}
	if (id == DISKANN_INVALID_ID)
		return true;
	if (meta->nlabel_entries >= DISKANN_MAX_LABEL_ENTRIES)
		return false;
	memmove(it + 1, it, (char *) end - (char *) it);
	it->label = label;
	it->unused = 0;
	it->id = id;
	meta->nlabel_entries++;
	return true;
}
