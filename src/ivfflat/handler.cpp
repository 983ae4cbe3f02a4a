/*
 * handler.cpp -- the ivfflat access method's handler, reloption, settings,
 * cost estimate and build phase names (pgvector's names, ranges and texts:
 * lists 1..32768 default 100; ivfflat.probes 1..32768 default 1;
 * ivfflat.iterative_scan off | relaxed_order; ivfflat.max_probes 1..32768
 * default 32768, where a value below probes means probes).
 *
 * Cost: genericcostestimate prices reading the whole index; a scan reads
 * the fraction of the lists it probes, and the startup cost is that
 * fraction (all of it is read before the first row). With an iterative
 * scan and restrictions the index must produce LIMIT / selectivity rows,
 * which takes more lists (up to max_probes): the estimate counts those.
 * One distance per entry read is added at cpu_operator_cost.
 */
#include "vx/pg.h"

#include "vx/am/scan.h"
#include "vx/ivfflat/ivfflat.h"

#include <cmath>

int ivfflat_probes = IVFFLAT_DEFAULT_PROBES;
int ivfflat_iterative_scan = IVFFLAT_ITERATIVE_SCAN_OFF;
int ivfflat_max_probes = IVFFLAT_MAX_LISTS;

static relopt_kind ivfflat_relopt_kind;

static const struct config_enum_entry ivfflat_iterative_scan_options[] = {
	{"off", IVFFLAT_ITERATIVE_SCAN_OFF, false},
	{"relaxed_order", IVFFLAT_ITERATIVE_SCAN_RELAXED, false},
	{NULL, 0, false},
};

/* Register the reloption and settings (called from _PG_init). */
void
IvfflatInit(void)
{
	ivfflat_relopt_kind = add_reloption_kind();
	add_int_reloption(ivfflat_relopt_kind, "lists", "Number of inverted lists", IVFFLAT_DEFAULT_LISTS,
					  IVFFLAT_MIN_LISTS, IVFFLAT_MAX_LISTS, AccessExclusiveLock);

	DefineCustomIntVariable("ivfflat.probes", "Sets the number of probes", "Valid range is 1..lists.", &ivfflat_probes,
							IVFFLAT_DEFAULT_PROBES, IVFFLAT_MIN_LISTS, IVFFLAT_MAX_LISTS, PGC_USERSET, GUC_EXPLAIN,
							NULL, NULL, NULL);
	DefineCustomEnumVariable("ivfflat.iterative_scan", "Sets the mode for iterative scans", NULL,
							 &ivfflat_iterative_scan, IVFFLAT_ITERATIVE_SCAN_OFF, ivfflat_iterative_scan_options,
							 PGC_USERSET, GUC_EXPLAIN, NULL, NULL, NULL);
	/* below probes means probes */
	DefineCustomIntVariable("ivfflat.max_probes", "Sets the max number of probes for iterative scans", NULL,
							&ivfflat_max_probes, IVFFLAT_MAX_LISTS, IVFFLAT_MIN_LISTS, IVFFLAT_MAX_LISTS, PGC_USERSET,
							GUC_EXPLAIN, NULL, NULL, NULL);

#if PG_VERSION_NUM >= 150000
	MarkGUCPrefixReserved("ivfflat");
#else
	EmitWarningsOnPlaceholders("ivfflat");
#endif
}

/* lists of an index (its reloption or the default). */
int
IvfflatGetLists(Relation index)
{
	IvfflatOptions *o = (IvfflatOptions *) index->rd_options;

	return o != NULL ? o->lists : IVFFLAT_DEFAULT_LISTS;
}

/* Parse and validate reloptions. */
static bytea *
ivfflatoptions(Datum reloptions, bool validate)
{
	static const relopt_parse_elt tab[] = {
		{"lists", RELOPT_TYPE_INT, offsetof(IvfflatOptions, lists)},
	};

	return (bytea *) build_reloptions(reloptions, validate, ivfflat_relopt_kind, sizeof(IvfflatOptions), tab,
									  lengthof(tab));
}

/* Name of a build phase for pg_stat_progress_create_index. */
static char *
ivfflatbuildphasename(int64 phasenum)
{
	switch (phasenum) {
	case PROGRESS_CREATEIDX_SUBPHASE_INITIALIZE:
		return (char *) "initializing";
	case PROGRESS_IVFFLAT_PHASE_KMEANS:
		return (char *) "performing k-means";
	case PROGRESS_IVFFLAT_PHASE_ASSIGN:
		return (char *) "assigning tuples";
	case PROGRESS_IVFFLAT_PHASE_LOAD:
		return (char *) "loading tuples";
	default:
		return NULL;
	}
}

/* Cost of an index scan (only ORDER BY scans; see the file comment). */
static void
ivfflatcostestimate(PlannerInfo *root, IndexPath *path, double loop_count, Cost *indexStartupCost,
					Cost *indexTotalCost, Selectivity *indexSelectivity, double *indexCorrelation, double *indexPages)
{
	GenericCosts costs;
	double tuples = path->indexinfo->tuples;
	double selectivity;
	double needed;
	double lists;
	double probes;
	double ratio;

	if (!VxCostBegin(root, path, loop_count, &costs, &needed, &selectivity, indexStartupCost, indexTotalCost,
					 indexSelectivity, indexCorrelation, indexPages))
		return;

	{
		Relation index = index_open(path->indexinfo->indexoid, NoLock);

		lists = (double) IvfflatGetCachedMeta(index)->lists;
		index_close(index, NoLock);
	}

	probes = Min((double) ivfflat_probes, lists);
	if (ivfflat_iterative_scan != IVFFLAT_ITERATIVE_SCAN_OFF && tuples > 0) {
		/* lists needed to produce `needed` rows, at tuples / lists rows a list */
		double want = ceil(needed / Max(tuples / lists, 1.0));

		probes = Min(Max(probes, want), Max((double) ivfflat_max_probes, probes));
		probes = Min(probes, lists);
	}
	ratio = lists > 0 ? probes / lists : 1.0;

	costs.indexStartupCost = costs.indexTotalCost * ratio + tuples * ratio * cpu_operator_cost;
	*indexStartupCost = costs.indexStartupCost;
	*indexTotalCost = Max(costs.indexTotalCost, costs.indexStartupCost);
	*indexSelectivity = costs.indexSelectivity;
	*indexCorrelation = costs.indexCorrelation;
	*indexPages = costs.numIndexPages;
}

/* Opclasses are pgvector's (support functions 1..5); nothing to check beyond what the build reads. */
static bool
ivfflatvalidate(Oid opclassoid)
{
	return true;
}

VX_FUNCTION(ivfflathandler);

/* The index access method handler: fields assigned one by one (IndexAmRoutine changes between releases). */
Datum
ivfflathandler(PG_FUNCTION_ARGS)
{
	IndexAmRoutine *amroutine = makeNode(IndexAmRoutine);

	amroutine->amstrategies = 0;
	amroutine->amsupport = 5;
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
	amroutine->amcanbuildparallel = true; /* as pgvector; the build plans its own workers either way */
#endif
	amroutine->amcaninclude = false;
	amroutine->amusemaintenanceworkmem = false;
#if PG_VERSION_NUM >= 160000
	amroutine->amsummarizing = false;
#endif
	amroutine->amparallelvacuumoptions = VACUUM_OPTION_PARALLEL_BULKDEL;
	amroutine->amkeytype = InvalidOid;

	amroutine->ambuild = ivfflatbuild;
	amroutine->ambuildempty = ivfflatbuildempty;
	amroutine->aminsert = ivfflatinsert;
#if PG_VERSION_NUM >= 170000
	amroutine->aminsertcleanup = NULL;
#endif
	amroutine->ambulkdelete = ivfflatbulkdelete;
	amroutine->amvacuumcleanup = ivfflatvacuumcleanup;
	amroutine->amcanreturn = NULL;
	amroutine->amcostestimate = ivfflatcostestimate;
	amroutine->amoptions = ivfflatoptions;
	amroutine->amproperty = NULL;
	amroutine->ambuildphasename = ivfflatbuildphasename;
	amroutine->amvalidate = ivfflatvalidate;
	amroutine->amadjustmembers = NULL;
	amroutine->ambeginscan = ivfflatbeginscan;
	amroutine->amrescan = ivfflatrescan;
	amroutine->amgettuple = ivfflatgettuple;
	amroutine->amgetbitmap = NULL;
	amroutine->amendscan = ivfflatendscan;
	amroutine->ammarkpos = NULL;
	amroutine->amrestrpos = NULL;
	amroutine->amestimateparallelscan = NULL;
	amroutine->aminitparallelscan = NULL;
	amroutine->amparallelrescan = NULL;

	PG_RETURN_POINTER(amroutine);
}
