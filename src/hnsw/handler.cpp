/*
 * handler.cpp -- the hnsw access method's handler, options, settings, cost
 * estimate, opclass validation and build phase names.
 *
 * The surface is pgvector 0.8's: reloptions m (2..100, default 16) and
 * ef_construction (4..1000, default 64), settings hnsw.ef_search,
 * hnsw.iterative_scan, hnsw.max_scan_tuples and hnsw.scan_mem_multiplier
 * with pgvector's names, defaults and descriptions (hnsw.ef_search accepts up
 * to 10000 instead of 1000). The index only serves ORDER BY <operator>
 * LIMIT queries; without an ORDER BY it is never chosen.
 *
 * The cost estimate starts from genericcostestimate() (which sees every
 * index page as a random read of all tuples) and charges the startup cost
 * for the fraction of the graph a search of the needed width visits (see
 * hnswcostestimate); so a LIMIT query prefers the index, and a selective
 * filter gets a B-tree and an exact sort when the index could not deliver.
 */
#include "vx/pg.h"

#include "vx/am/opclass.h"
#include "vx/am/scan.h"
#include "vx/hnsw/hnsw.h"

#include <cfloat>
#include <climits>
#include <cmath>

int hnsw_ef_search = HNSW_DEFAULT_EF_SEARCH;
int hnsw_iterative_scan = HNSW_ITERATIVE_SCAN_OFF;
int hnsw_max_scan_tuples = 20000;
double hnsw_scan_mem_multiplier = 1;

static relopt_kind hnsw_relopt_kind;

static const struct config_enum_entry hnsw_iterative_scan_options[] = {
	{"off", HNSW_ITERATIVE_SCAN_OFF, false},
	{"relaxed_order", HNSW_ITERATIVE_SCAN_RELAXED, false},
	{"strict_order", HNSW_ITERATIVE_SCAN_STRICT, false},
	{NULL, 0, false},
};

/* Register the reloptions and settings (called from _PG_init). */
void
HnswInit(void)
{
	hnsw_relopt_kind = add_reloption_kind();
	add_int_reloption(hnsw_relopt_kind, "m", "Max number of connections", HNSW_DEFAULT_M, HNSW_MIN_M, HNSW_MAX_M,
					  AccessExclusiveLock);
	add_int_reloption(hnsw_relopt_kind, "ef_construction", "Size of the dynamic candidate list for construction",
					  HNSW_DEFAULT_EF_CONSTRUCTION, HNSW_MIN_EF_CONSTRUCTION, HNSW_MAX_EF_CONSTRUCTION,
					  AccessExclusiveLock);

	DefineCustomIntVariable("hnsw.ef_search", "Sets the size of the dynamic candidate list for search",
							"Valid range is 1..10000.", &hnsw_ef_search, HNSW_DEFAULT_EF_SEARCH, HNSW_MIN_EF_SEARCH,
							HNSW_MAX_EF_SEARCH, PGC_USERSET, 0, NULL, NULL, NULL);

	DefineCustomEnumVariable("hnsw.iterative_scan", "Sets the mode for iterative scans", NULL, &hnsw_iterative_scan,
							 HNSW_ITERATIVE_SCAN_OFF, hnsw_iterative_scan_options, PGC_USERSET, 0, NULL, NULL, NULL);

	/* Approximate, like pgvector's: it bounds the continuation, not the first ef_search batch. */
	DefineCustomIntVariable("hnsw.max_scan_tuples", "Sets the max number of tuples to visit for iterative scans",
							NULL, &hnsw_max_scan_tuples, 20000, 1, INT_MAX, PGC_USERSET, 0, NULL, NULL, NULL);

	/* Same range as hash_mem_multiplier */
	DefineCustomRealVariable("hnsw.scan_mem_multiplier", "Sets the multiple of work_mem to use for iterative scans",
							 NULL, &hnsw_scan_mem_multiplier, 1, 1, 1000, PGC_USERSET, 0, NULL, NULL, NULL);

	MarkGUCPrefixReserved("hnsw");
}

/* The index's m option. */
int
HnswGetM(Relation index)
{
	HnswOptions *opts = (HnswOptions *) index->rd_options;

	return opts != NULL ? opts->m : HNSW_DEFAULT_M;
}

/* The index's ef_construction option. */
int
HnswGetEfConstruction(Relation index)
{
	HnswOptions *opts = (HnswOptions *) index->rd_options;

	return opts != NULL ? opts->ef_construction : HNSW_DEFAULT_EF_CONSTRUCTION;
}

/* Level multiplier mL = 1 / ln(m) of the HNSW paper. */
double
HnswGetMl(int m)
{
	return 1.0 / log((double) m);
}

/* Highest level an element may get: bounded by the paper's distribution and the format. */
int
HnswGetMaxLevel(int m)
{
	int level = (int) (log((double) UINT32_MAX) * HnswGetMl(m));

	return Min(level, HNSW_MAX_LEVEL);
}

/* A random level, floor(-ln(U) * mL) as in the HNSW paper, capped by HnswGetMaxLevel. */
int
HnswRandomLevel(pg_prng_state *prng, int m)
{
	double u = pg_prng_double(prng);
	int level = (int) floor(-log(u > 0 ? u : DBL_MIN) * HnswGetMl(m));

	return Min(level, HnswGetMaxLevel(m));
}

/* Parse and validate reloptions. */
static bytea *
hnswoptions(Datum reloptions, bool validate)
{
	static const relopt_parse_elt tab[] = {
		{"m", RELOPT_TYPE_INT, offsetof(HnswOptions, m)},
		{"ef_construction", RELOPT_TYPE_INT, offsetof(HnswOptions, ef_construction)},
	};

	return (bytea *) build_reloptions(reloptions, validate, hnsw_relopt_kind, sizeof(HnswOptions), tab, lengthof(tab));
}

/* Name of a build phase for pg_stat_progress_create_index. */
static char *
hnswbuildphasename(int64 phasenum)
{
	switch (phasenum) {
	case PROGRESS_CREATEIDX_SUBPHASE_INITIALIZE:
		return (char *) "initializing";
	case PROGRESS_HNSW_PHASE_LOAD:
		return (char *) "loading tuples";
	case PROGRESS_HNSW_PHASE_WRITE:
		return (char *) "writing index pages";
	default:
		return NULL;
	}
}

/*
 * Fraction of the index a search of width ef visits: the greedy descent
 * (about m elements per upper level) plus the layer-0 expansion of ef
 * candidates with 2*m neighbours each, discounted for neighbours already
 * visited (the same shape as pgvector's estimate).
 */
static double
HnswVisitRatio(double tuples, int m, double ef)
{
	double levels;
	double layer0;
	double discount;
	double ratio;

	if (tuples < 1)
		return 1.0;

	levels = floor(log(tuples) * HnswGetMl(m));
	layer0 = 2.0 * m * ef;
	discount = 0.55 * log(tuples) / (log((double) m) * (1 + log(ef)));
	ratio = (levels * m + layer0 * discount) / tuples;
	return Min(ratio, 1.0);
}

/*
 * Cost of an index scan (only ORDER BY scans are possible).
 *
 * genericcostestimate prices reading the whole index; the startup cost (the
 * search, before the first row) is the fraction a search visits. How wide
 * that search must be depends on what the query needs: with a LIMIT k and
 * other restrictions of selectivity s on the table, the index must produce
 * about k / s rows. With hnsw.iterative_scan the search widens to that many
 * rows, and costs accordingly. Without it, a scan never returns more than
 * ef_search rows: when a filter needs more, the index path could not answer
 * the query, and it is priced as an exhaustive search, so the planner picks
 * an exact plan (a B-tree on the filter and a sort) instead of returning too
 * few rows. Without a filter, a LIMIT above ef_search keeps pgvector's
 * behaviour (at most ef_search rows, fast).
 */
static void
hnswcostestimate(PlannerInfo *root, IndexPath *path, double loop_count, Cost *indexStartupCost, Cost *indexTotalCost,
				 Selectivity *indexSelectivity, double *indexCorrelation, double *indexPages)
{
	GenericCosts costs;
	RelOptInfo *rel = path->indexinfo->rel;
	double tuples = path->indexinfo->tuples;
	double heap_pages = rel->pages;
	double selectivity;
	double needed;
	double ratio;
	double startup_pages;
	double spc_seq_page_cost;
	int m;

	/* Without ORDER BY the index can return nothing useful: never choose it. */
	if (!VxCostBegin(root, path, loop_count, &costs, &needed, &selectivity, indexStartupCost, indexTotalCost,
					 indexSelectivity, indexCorrelation, indexPages))
		return;

	/* m from the options: the planner holds a lock and no buffer read is needed. */
	{
		Relation index = index_open(path->indexinfo->indexoid, NoLock);

		m = HnswGetM(index);
		index_close(index, NoLock);
	}


	if (hnsw_iterative_scan != HNSW_ITERATIVE_SCAN_OFF)
		ratio = HnswVisitRatio(tuples, m, Max((double) hnsw_ef_search, needed));
	else if (selectivity < 1.0 && needed > hnsw_ef_search)
		ratio = 1.0; /* the scan would return too few rows: price the exhaustive search */
	else
		ratio = HnswVisitRatio(tuples, m, hnsw_ef_search);
	get_tablespace_page_costs(path->indexinfo->reltablespace, NULL, &spc_seq_page_cost);

	/* The search happens before the first row: that is the startup cost. */
	costs.indexStartupCost = costs.indexTotalCost * ratio;

	/*
	 * genericcostestimate charged random reads; a search that touches more
	 * pages than the heap has is mostly cached and sequential-like, and the
	 * seq scan it competes with is not charged for TOASTed vectors either.
	 */
	startup_pages = costs.numIndexPages * ratio;
	if (startup_pages > heap_pages && ratio < 0.5) {
		costs.indexStartupCost -= startup_pages * (costs.spc_random_page_cost - spc_seq_page_cost);
		costs.indexStartupCost -= (startup_pages - heap_pages) * spc_seq_page_cost;
	}

	*indexStartupCost = costs.indexStartupCost;
	*indexTotalCost = Max(costs.indexTotalCost, costs.indexStartupCost);
	*indexSelectivity = costs.indexSelectivity;
	*indexCorrelation = costs.indexCorrelation;
	*indexPages = costs.numIndexPages;
}

/* Validate an operator class (the shared rules of src/am/opclass.cpp). */
static bool
hnswvalidate(Oid opclassoid)
{
	return VxValidateOpclass(opclassoid, "hnsw", HNSW_TYPE_INFO_PROC);
}

VX_FUNCTION(hnswhandler);

/* The index access method handler: fields assigned one by one (IndexAmRoutine changes between releases). */
Datum
hnswhandler(PG_FUNCTION_ARGS)
{
	IndexAmRoutine *amroutine = makeNode(IndexAmRoutine);

	amroutine->amstrategies = 0;
	amroutine->amsupport = 3;
	amroutine->amoptsprocnum = 0;
	amroutine->amcanorder = false;
	amroutine->amcanorderbyop = true;
	amroutine->amcanbackward = false;
	amroutine->amcanunique = false;
	amroutine->amcanmulticol = false;
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

	amroutine->ambuild = hnswbuild;
	amroutine->ambuildempty = hnswbuildempty;
	amroutine->aminsert = hnswinsert;
	amroutine->ambulkdelete = hnswbulkdelete;
	amroutine->amvacuumcleanup = hnswvacuumcleanup;
	amroutine->amcanreturn = NULL;
	amroutine->amcostestimate = hnswcostestimate;
	amroutine->amoptions = hnswoptions;
	amroutine->amproperty = NULL;
	amroutine->ambuildphasename = hnswbuildphasename;
	amroutine->amvalidate = hnswvalidate;
	amroutine->amadjustmembers = NULL;
	amroutine->ambeginscan = hnswbeginscan;
	amroutine->amrescan = hnswrescan;
	amroutine->amgettuple = hnswgettuple;
	amroutine->amgetbitmap = NULL;
	amroutine->amendscan = hnswendscan;
	amroutine->ammarkpos = NULL;
	amroutine->amrestrpos = NULL;
	amroutine->amestimateparallelscan = NULL;
	amroutine->aminitparallelscan = NULL;
	amroutine->amparallelrescan = NULL;

	PG_RETURN_POINTER(amroutine);
}
