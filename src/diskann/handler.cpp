/*
 * handler.cpp -- the diskann access method's handler, options, settings,
 * cost estimate, opclass validation and build phase names.
 *
 * The DDL is pgvectorscale's: reloptions num_neighbors (default 50),
 * search_list_size (100), max_alpha (1.2), storage_layout
 * ('memory_optimized' | 'plain'), num_dimensions (0: all) and
 * num_bits_per_dimension (0: 2 below 900 dimensions, else 1, as
 * pgvectorscale), settings diskann.query_search_list_size (100) and
 * diskann.query_rescore (50). Out-of-range values get PostgreSQL's
 * reloption errors.
 *
 * The index only serves ORDER BY <operator> LIMIT queries. Scans are always
 * iterative (they go on while the executor asks), so the cost of a scan is
 * the fraction of the graph a search wide enough for what the query needs
 * visits: with LIMIT k and other restrictions of selectivity s, about k / s
 * rows.
 */
#include "vx/pg.h"

#include "vx/am/opclass.h"
#include "vx/am/scan.h"
#include "vx/diskann/diskann.h"

#include <cmath>

int diskann_query_search_list_size = DISKANN_DEFAULT_QUERY_SEARCH_LIST_SIZE;
int diskann_query_rescore = DISKANN_DEFAULT_QUERY_RESCORE;

static relopt_kind diskann_relopt_kind;

/* Validate storage_layout. */
static void
DiskannValidateLayout(const char *value)
{
	if (value == NULL || strcmp(value, "memory_optimized") == 0 || strcmp(value, "plain") == 0)
		return;
	ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					errmsg("invalid value for parameter \"storage_layout\": \"%s\"", value),
					errdetail("Valid values are \"memory_optimized\" and \"plain\".")));
}

/* Register the reloptions and settings (called from _PG_init). */
void
DiskannInit(void)
{
	diskann_relopt_kind = add_reloption_kind();
	add_int_reloption(diskann_relopt_kind, "num_neighbors", "Maximum number of neighbors per node",
					  DISKANN_DEFAULT_NUM_NEIGHBORS, DISKANN_MIN_NUM_NEIGHBORS, DISKANN_MAX_NUM_NEIGHBORS,
					  AccessExclusiveLock);
	add_int_reloption(diskann_relopt_kind, "search_list_size", "Size of the search list during construction",
					  DISKANN_DEFAULT_SEARCH_LIST_SIZE, DISKANN_MIN_SEARCH_LIST_SIZE, DISKANN_MAX_SEARCH_LIST_SIZE,
					  AccessExclusiveLock);
	add_real_reloption(diskann_relopt_kind, "max_alpha", "Alpha of the robust prune during construction",
					   DISKANN_DEFAULT_MAX_ALPHA, DISKANN_MIN_MAX_ALPHA, DISKANN_MAX_MAX_ALPHA, AccessExclusiveLock);
	add_string_reloption(diskann_relopt_kind, "storage_layout", "Storage layout: memory_optimized or plain",
						 "memory_optimized", DiskannValidateLayout, AccessExclusiveLock);
	add_int_reloption(diskann_relopt_kind, "num_dimensions", "Number of leading dimensions to index (0: all)", 0, 0,
					  DISKANN_MAX_DIM, AccessExclusiveLock);
	add_int_reloption(diskann_relopt_kind, "num_bits_per_dimension",
					  "Bits per dimension of the quantized codes (0: automatic)", 0, 0, DISKANN_MAX_BITS,
					  AccessExclusiveLock);

	DefineCustomIntVariable("diskann.query_search_list_size", "Sets the size of the search list for queries",
							"Valid range is 1..10000.", &diskann_query_search_list_size,
							DISKANN_DEFAULT_QUERY_SEARCH_LIST_SIZE, 1, DISKANN_MAX_QUERY_LIST, PGC_USERSET, 0, NULL,
							NULL, NULL);
	DefineCustomIntVariable("diskann.query_rescore", "Sets the number of candidates re-ranked with exact distances",
							"0 re-ranks nothing (rows come in the order of the quantized distances).",
							&diskann_query_rescore, DISKANN_DEFAULT_QUERY_RESCORE, 0, DISKANN_MAX_QUERY_LIST,
							PGC_USERSET, 0, NULL, NULL, NULL);

	MarkGUCPrefixReserved("diskann");
}

/* The index's options, or NULL for the defaults. */
static DiskannOptions *
DiskannGetOptions(Relation index)
{
	return (DiskannOptions *) index->rd_options;
}

/* num_neighbors */
int
DiskannGetNumNeighbors(Relation index)
{
	DiskannOptions *o = DiskannGetOptions(index);

	return o != NULL ? o->num_neighbors : DISKANN_DEFAULT_NUM_NEIGHBORS;
}

/* search_list_size */
int
DiskannGetSearchListSize(Relation index)
{
	DiskannOptions *o = DiskannGetOptions(index);

	return o != NULL ? o->search_list_size : DISKANN_DEFAULT_SEARCH_LIST_SIZE;
}

/* max_alpha */
double
DiskannGetMaxAlpha(Relation index)
{
	DiskannOptions *o = DiskannGetOptions(index);

	return o != NULL ? o->max_alpha : DISKANN_DEFAULT_MAX_ALPHA;
}

/* storage_layout */
int
DiskannGetStorageLayout(Relation index)
{
	DiskannOptions *o = DiskannGetOptions(index);
	const char *value;

	if (o == NULL || o->storage_layout_offset == 0)
		return DISKANN_LAYOUT_MEMORY_OPTIMIZED;
	value = (const char *) o + o->storage_layout_offset;
	return strcmp(value, "plain") == 0 ? DISKANN_LAYOUT_PLAIN : DISKANN_LAYOUT_MEMORY_OPTIMIZED;
}

/* num_dimensions (0: all) */
int
DiskannGetNumDimensions(Relation index)
{
	DiskannOptions *o = DiskannGetOptions(index);

	return o != NULL ? o->num_dimensions : 0;
}

/* num_bits_per_dimension (0: automatic) */
int
DiskannGetBits(Relation index)
{
	DiskannOptions *o = DiskannGetOptions(index);

	return o != NULL ? o->num_bits_per_dimension : 0;
}

/* Parse and validate reloptions. */
static bytea *
diskannoptions(Datum reloptions, bool validate)
{
	static const relopt_parse_elt tab[] = {
		{"num_neighbors", RELOPT_TYPE_INT, offsetof(DiskannOptions, num_neighbors)},
		{"search_list_size", RELOPT_TYPE_INT, offsetof(DiskannOptions, search_list_size)},
		{"max_alpha", RELOPT_TYPE_REAL, offsetof(DiskannOptions, max_alpha)},
		{"storage_layout", RELOPT_TYPE_STRING, offsetof(DiskannOptions, storage_layout_offset)},
		{"num_dimensions", RELOPT_TYPE_INT, offsetof(DiskannOptions, num_dimensions)},
		{"num_bits_per_dimension", RELOPT_TYPE_INT, offsetof(DiskannOptions, num_bits_per_dimension)},
	};

	return (bytea *) build_reloptions(reloptions, validate, diskann_relopt_kind, sizeof(DiskannOptions), tab,
									  lengthof(tab));
}

/* Name of a build phase for pg_stat_progress_create_index. */
static char *
diskannbuildphasename(int64 phasenum)
{
	switch (phasenum) {
	case PROGRESS_CREATEIDX_SUBPHASE_INITIALIZE:
		return (char *) "initializing";
	case PROGRESS_DISKANN_PHASE_LOAD:
		return (char *) "loading tuples";
	case PROGRESS_DISKANN_PHASE_GRAPH:
		return (char *) "building graph";
	case PROGRESS_DISKANN_PHASE_WRITE:
		return (char *) "writing index pages";
	default:
		return NULL;
	}
}

/*
 * Fraction of the index a search of list size L visits: about L expansions
 * of num_neighbors neighbours each, discounted for neighbours already seen
 * (the shape of hnsw's estimate, on one level).
 */
static double
DiskannVisitRatio(double tuples, int num_neighbors, double list_size)
{
	double discount;

	if (tuples < 1)
		return 1.0;
	discount = 0.55 * log(tuples) / (log((double) num_neighbors) * (1 + log(list_size)));
	return Min(num_neighbors * list_size * discount / tuples, 1.0);
}

/*
 * Cost of an index scan (only ORDER BY scans): genericcostestimate prices
 * reading the whole index; the startup cost is the fraction a search of the
 * needed width visits, plus one heap fetch per re-ranked candidate.
 */
static void
diskanncostestimate(PlannerInfo *root, IndexPath *path, double loop_count, Cost *indexStartupCost,
					Cost *indexTotalCost, Selectivity *indexSelectivity, double *indexCorrelation, double *indexPages)
{
	GenericCosts costs;
	double tuples = path->indexinfo->tuples;
	double selectivity;
	double needed;
	double ratio;
	int num_neighbors;

	if (!VxCostBegin(root, path, loop_count, &costs, &needed, &selectivity, indexStartupCost, indexTotalCost,
					 indexSelectivity, indexCorrelation, indexPages))
		return;

	{
		Relation index = index_open(path->indexinfo->indexoid, NoLock);

		num_neighbors = DiskannGetNumNeighbors(index);
		index_close(index, NoLock);
	}

	ratio = DiskannVisitRatio(tuples, num_neighbors, Max((double) diskann_query_search_list_size, needed));
	costs.indexStartupCost = costs.indexTotalCost * ratio +
							 Min((double) diskann_query_rescore, tuples) * costs.spc_random_page_cost;

	*indexStartupCost = costs.indexStartupCost;
	*indexTotalCost = Max(costs.indexTotalCost, costs.indexStartupCost);
	*indexSelectivity = costs.indexSelectivity;
	*indexCorrelation = costs.indexCorrelation;
	*indexPages = costs.numIndexPages;
}

/*
 * Validate an operator class: the vector ones by the shared rules of
 * src/am/opclass.cpp; the label one (smallint[]) has search operators 1 (&&)
 * and 2 (@>) returning boolean and no support function.
 */
static bool
diskannvalidate(Oid opclassoid)
{
	HeapTuple classtup = SearchSysCache1(CLAOID, ObjectIdGetDatum(opclassoid));
	Form_pg_opclass classform;
	CatCList *oprlist;
	bool result = true;

	if (!HeapTupleIsValid(classtup))
		elog(ERROR, "cache lookup failed for operator class %u", opclassoid);
	classform = (Form_pg_opclass) GETSTRUCT(classtup);
	if (classform->opcintype != INT2ARRAYOID) {
		ReleaseSysCache(classtup);
		return VxValidateOpclass(opclassoid, "diskann", DISKANN_TYPE_INFO_PROC);
	}
	oprlist = SearchSysCacheList1(AMOPSTRATEGY, ObjectIdGetDatum(classform->opcfamily));
	for (int i = 0; i < oprlist->n_members; i++) {
		Form_pg_amop oprform = (Form_pg_amop) GETSTRUCT(&oprlist->members[i]->tuple);

		if ((oprform->amopstrategy != DISKANN_LABEL_OVERLAP && oprform->amopstrategy != DISKANN_LABEL_CONTAINS) ||
			oprform->amoppurpose != AMOP_SEARCH ||
			!check_amop_signature(oprform->amopopr, BOOLOID, oprform->amoplefttype, oprform->amoprighttype)) {
			ereport(INFO, (errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
						   errmsg("diskann operator class \"%s\" contains invalid operator %u",
								  NameStr(classform->opcname), oprform->amopopr)));
			result = false;
		}
	}
	ReleaseSysCacheList(oprlist);
	ReleaseSysCache(classtup);
	return result;
}

VX_FUNCTION(diskannhandler);

/* The index access method handler: fields assigned one by one (IndexAmRoutine changes between releases). */
Datum
diskannhandler(PG_FUNCTION_ARGS)
{
	IndexAmRoutine *amroutine = makeNode(IndexAmRoutine);

	amroutine->amstrategies = 0;
	amroutine->amsupport = 3;
	amroutine->amoptsprocnum = 0;
	amroutine->amcanorder = false;
	amroutine->amcanorderbyop = true;
	amroutine->amcanbackward = false;
	amroutine->amcanunique = false;
	amroutine->amcanmulticol = true; /* the vector, then optionally a label column */
	amroutine->amoptionalkey = true;
	amroutine->amsearcharray = false;
	amroutine->amsearchnulls = false;
	amroutine->amstorage = false;
	amroutine->amclusterable = false;
	amroutine->ampredlocks = false;
	amroutine->amcanparallel = false;
#if PG_VERSION_NUM >= 170000
	/* PG 17+ asks before planning build workers; ambuild plans its own workers either way */
	amroutine->amcanbuildparallel = true;
#endif
	amroutine->amcaninclude = false;
	amroutine->amusemaintenanceworkmem = false;
	amroutine->amparallelvacuumoptions = VACUUM_OPTION_PARALLEL_BULKDEL;
	amroutine->amkeytype = InvalidOid;

	amroutine->ambuild = diskannbuild;
	amroutine->ambuildempty = diskannbuildempty;
	amroutine->aminsert = diskanninsert;
	amroutine->ambulkdelete = diskannbulkdelete;
	amroutine->amvacuumcleanup = diskannvacuumcleanup;
	amroutine->amcanreturn = NULL;
	amroutine->amcostestimate = diskanncostestimate;
	amroutine->amoptions = diskannoptions;
	amroutine->amproperty = NULL;
	amroutine->ambuildphasename = diskannbuildphasename;
	amroutine->amvalidate = diskannvalidate;
	amroutine->amadjustmembers = NULL;
	amroutine->ambeginscan = diskannbeginscan;
	amroutine->amrescan = diskannrescan;
	amroutine->amgettuple = diskanngettuple;
	amroutine->amgetbitmap = NULL;
	amroutine->amendscan = diskannendscan;
	amroutine->ammarkpos = NULL;
	amroutine->amrestrpos = NULL;
	amroutine->amestimateparallelscan = NULL;
	amroutine->aminitparallelscan = NULL;
	amroutine->amparallelrescan = NULL;

	PG_RETURN_POINTER(amroutine);
}
