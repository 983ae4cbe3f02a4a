/*
 * meta.cpp -- the metapage format check of include/vx/am/meta.h.
 */
#include "vx/pg.h"

#include "vx/am/meta.h"

/* ERROR unless the metapage is in this extension's format (see meta.h). */
void
VxCheckMetaFormat(Relation index, Page page, const VxMetaFormat *f)
{
	if (PageIsNew(page))
		ereport(ERROR, (errcode(ERRCODE_INDEX_CORRUPTED),
						errmsg("index \"%s\" has an uninitialized metapage", RelationGetRelationName(index)),
						errhint("REINDEX the index.")));
	if (f->magic == f->pgvector_magic)
		ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						errmsg("index \"%s\" was built by pgvector and cannot be read by this extension",
							   RelationGetRelationName(index)),
						errhint("REINDEX the index to rebuild it in this extension's format.")));
	if (f->magic != f->expected_magic || !f->ours)
		ereport(ERROR, (errcode(ERRCODE_INDEX_CORRUPTED),
						errmsg("index \"%s\" is not a valid %s index", RelationGetRelationName(index), f->am_name),
						errdetail("Magic number %08X, expected %08X.", f->magic, f->expected_magic),
						errhint("REINDEX the index.")));
	if (f->version != f->expected_version)
		ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						errmsg("index \"%s\" has %s format version %u, this extension reads version %u",
							   RelationGetRelationName(index), f->am_name, f->version, f->expected_version),
						errhint("REINDEX the index to rebuild it in this extension's format.")));
}
