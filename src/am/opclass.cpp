/*
 * opclass.cpp -- amvalidate of the graph index methods (include/vx/am/opclass.h).
 */
#include "vx/pg.h"

#include "vx/am/distance.h"
#include "vx/am/opclass.h"

/* Report one problem of an operator class as INFO. */
#define VX_OPCLASS_PROBLEM(...) ereport(INFO, (errcode(ERRCODE_INVALID_OBJECT_DEFINITION), errmsg(__VA_ARGS__)))

/* Validate an operator class of am_name (see opclass.h). */
bool
VxValidateOpclass(Oid opclassoid, const char *am_name, uint16 type_info_proc)
{
	bool result = true;
	HeapTuple classtup;
	Form_pg_opclass classform;
	Oid opfamilyoid;
	Oid opcintype;
	char *opclassname;
	CatCList *proclist;
	CatCList *oprlist;
	bool has_distance = false;

	classtup = SearchSysCache1(CLAOID, ObjectIdGetDatum(opclassoid));
	if (!HeapTupleIsValid(classtup))
		elog(ERROR, "cache lookup failed for operator class %u", opclassoid);
	classform = (Form_pg_opclass) GETSTRUCT(classtup);
	opfamilyoid = classform->opcfamily;
	opcintype = classform->opcintype;
	opclassname = NameStr(classform->opcname);

	proclist = SearchSysCacheList1(AMPROCNUM, ObjectIdGetDatum(opfamilyoid));
	for (int i = 0; i < proclist->n_members; i++) {
		Form_pg_amproc procform = (Form_pg_amproc) GETSTRUCT(&proclist->members[i]->tuple);
		bool ok;

		if (procform->amprocnum == VX_DISTANCE_PROC) {
			ok = check_amproc_signature(procform->amproc, FLOAT8OID, false, 2, 2, opcintype, opcintype);
			has_distance = has_distance || ok;
		} else if (procform->amprocnum == VX_NORM_PROC)
			ok = check_amproc_signature(procform->amproc, FLOAT8OID, false, 1, 1, opcintype);
		else if (procform->amprocnum == type_info_proc)
			ok = check_amproc_signature(procform->amproc, INTERNALOID, true, 1, 1, INTERNALOID);
		else {
			VX_OPCLASS_PROBLEM("%s operator class \"%s\" contains invalid support function number %d", am_name,
							   opclassname, procform->amprocnum);
			result = false;
			continue;
		}
		if (!ok) {
			VX_OPCLASS_PROBLEM("%s operator class \"%s\" contains support function %d with wrong signature", am_name,
							   opclassname, procform->amprocnum);
			result = false;
		}
	}
	ReleaseSysCacheList(proclist);

	oprlist = SearchSysCacheList1(AMOPSTRATEGY, ObjectIdGetDatum(opfamilyoid));
	for (int i = 0; i < oprlist->n_members; i++) {
		Form_pg_amop oprform = (Form_pg_amop) GETSTRUCT(&oprlist->members[i]->tuple);

		if (oprform->amopstrategy != 1 || oprform->amoppurpose != AMOP_ORDER) {
			VX_OPCLASS_PROBLEM("%s operator class \"%s\" contains operator %u that is not an ORDER BY operator with "
							   "strategy 1",
							   am_name, opclassname, oprform->amopopr);
			result = false;
			continue;
		}
		if (!check_amop_signature(oprform->amopopr, FLOAT8OID, oprform->amoplefttype, oprform->amoprighttype)) {
			VX_OPCLASS_PROBLEM("%s operator class \"%s\" contains operator %u with wrong signature", am_name,
							   opclassname, oprform->amopopr);
			result = false;
		}
	}
	ReleaseSysCacheList(oprlist);

	if (!has_distance) {
		VX_OPCLASS_PROBLEM("%s operator class \"%s\" is missing support function %d", am_name, opclassname,
						   VX_DISTANCE_PROC);
		result = false;
	}
	ReleaseSysCache(classtup);
	return result;
}
