/*
 * pages.cpp -- ivfflat page initialization, metapage checks, the type-info
 * support functions and the distance of an index.
 *
 * Every read of the metapage checks magic and version: pgvector's ivfflat
 * metapage (IVFFLAT_PGVECTOR_MAGIC, e.g. after pg_upgrade from pgvector)
 * and any other magic or version are refused with a REINDEX hint and never
 * misread. The metapage never changes after the build, so a copy is cached
 * in rd_amcache (a REINDEX makes a new relfilenode and a new relcache entry).
 */
#include "vx/pg.h"

#include "vx/ivfflat/ivfflat.h"

static const VxTypeInfo ivfflat_vector_type_info = {VX_ELEM_F32, IVFFLAT_MAX_DIM, "vector"};
static const VxTypeInfo ivfflat_halfvec_type_info = {VX_ELEM_F16, IVFFLAT_MAX_HALFVEC_DIM, "halfvec"};
static const VxTypeInfo ivfflat_bit_type_info = {VX_ELEM_BIT, IVFFLAT_MAX_BIT_DIM, "bit"};

VX_FUNCTION(ivfflat_halfvec_support)
{
	PG_RETURN_POINTER(&ivfflat_halfvec_type_info);
}

VX_FUNCTION(ivfflat_bit_support)
{
	PG_RETURN_POINTER(&ivfflat_bit_type_info);
}

/* What the opclass indexes, with ivfflat's dimension limit (vector opclasses have no support function 5). */
const VxTypeInfo *
IvfflatTypeInfo(Relation index)
{
	const VxTypeInfo *info = VxGetTypeInfo(index, IVFFLAT_TYPE_INFO_PROC);

	return info->kind == VX_ELEM_F32 ? &ivfflat_vector_type_info : info;
}

/* Initialize an empty page of the given type. */
void
IvfflatInitPage(Page page, uint16 page_type)
{
	IvfflatPageOpaque opaque;

	PageInit(page, BLCKSZ, sizeof(IvfflatPageOpaqueData));
	opaque = IvfflatPageGetOpaque(page);
	opaque->next = InvalidBlockNumber;
	opaque->page_type = page_type;
	opaque->page_id = IVFFLAT_PAGE_ID;
}

/* The metapage contents, or an ERROR for a metapage this extension cannot read. */
IvfflatMetaPage
IvfflatCheckMetaPage(Relation index, Page page)
{
	IvfflatMetaPage meta = IvfflatPageGetMeta(page);

	if (PageIsNew(page))
		ereport(ERROR, (errcode(ERRCODE_INDEX_CORRUPTED),
						errmsg("index \"%s\" has an uninitialized metapage", RelationGetRelationName(index)),
						errhint("REINDEX the index.")));
	if (meta->magic == IVFFLAT_PGVECTOR_MAGIC)
		ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						errmsg("index \"%s\" was built by pgvector and cannot be read by this extension",
							   RelationGetRelationName(index)),
						errhint("REINDEX the index to rebuild it in this extension's format.")));
	if (meta->magic != IVFFLAT_MAGIC || PageGetSpecialSize(page) != MAXALIGN(sizeof(IvfflatPageOpaqueData)) ||
		IvfflatPageGetOpaque(page)->page_id != IVFFLAT_PAGE_ID ||
		IvfflatPageGetOpaque(page)->page_type != IVFFLAT_PAGE_META)
		ereport(ERROR, (errcode(ERRCODE_INDEX_CORRUPTED),
						errmsg("index \"%s\" is not a valid ivfflat index", RelationGetRelationName(index)),
						errdetail("Magic number %08X, expected %08X.", meta->magic, IVFFLAT_MAGIC),
						errhint("REINDEX the index.")));
	if (meta->version != IVFFLAT_VERSION)
		ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						errmsg("index \"%s\" has ivfflat format version %u, this extension reads version %u",
							   RelationGetRelationName(index), meta->version, IVFFLAT_VERSION),
						errhint("REINDEX the index to rebuild it in this extension's format.")));
	if (meta->lists < IVFFLAT_MIN_LISTS || meta->lists > IVFFLAT_MAX_LISTS || meta->dimensions == 0 ||
		!VxDistanceSupported((VxElemKind) meta->elem_kind, (VxMetric) meta->metric) ||
		IVFFLAT_LIST_SIZE(meta->center_size) > IVFFLAT_MAX_ITEM_SIZE)
		ereport(ERROR, (errcode(ERRCODE_INDEX_CORRUPTED),
						errmsg("index \"%s\" has an invalid ivfflat metapage", RelationGetRelationName(index)),
						errhint("REINDEX the index.")));
	return meta;
}

/* Copy the metapage (checked) under a share lock. */
void
IvfflatReadMeta(Relation index, IvfflatMetaPageData *meta)
{
	Buffer buf = ReadBuffer(index, IVFFLAT_METAPAGE_BLKNO);

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	memcpy(meta, IvfflatCheckMetaPage(index, BufferGetPage(buf)), sizeof(IvfflatMetaPageData));
	UnlockReleaseBuffer(buf);
}

/* The metapage, cached in rd_amcache (it never changes after the build). */
const IvfflatMetaPageData *
IvfflatGetCachedMeta(Relation index)
{
	if (index->rd_amcache == NULL) {
		IvfflatMetaPageData *meta =
			(IvfflatMetaPageData *) MemoryContextAlloc(index->rd_indexcxt, sizeof(IvfflatMetaPageData));

		IvfflatReadMeta(index, meta);
		index->rd_amcache = meta;
	}
	return (const IvfflatMetaPageData *) index->rd_amcache;
}

/* ERROR unless page is one of ours of the expected type. */
void
IvfflatCheckPage(Relation index, Page page, uint16 page_type, BlockNumber blkno)
{
	if (unlikely(PageIsNew(page) || PageGetSpecialSize(page) != MAXALIGN(sizeof(IvfflatPageOpaqueData)) ||
				 IvfflatPageGetOpaque(page)->page_id != IVFFLAT_PAGE_ID ||
				 IvfflatPageGetOpaque(page)->page_type != page_type))
		ereport(ERROR, (errcode(ERRCODE_INDEX_CORRUPTED),
						errmsg("index \"%s\" contains an unexpected page at block %u", RelationGetRelationName(index),
							   blkno),
						errhint("REINDEX the index.")));
}

/* The distance of the index whose metapage is meta. */
void
IvfflatInitDistance(VxDistance dist, const IvfflatMetaPageData *meta)
{
	VxInitDistance(dist, (VxElemKind) meta->elem_kind, (VxMetric) meta->metric, meta->dimensions);
}

/* VxPrepareValue after checking the dimensions of a value to index (pgvector's messages). */
Datum
IvfflatPrepareValue(const VxDistanceData *dist, Datum value, bool for_index, bool *skip)
{
	value = VxPrepareValue(dist, value, for_index, skip);
	if (!*skip)
		VxCheckQuery(dist, DatumGetPointer(value));
	return value;
}
