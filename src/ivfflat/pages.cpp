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

#include "vx/am/meta.h"
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
	VxMetaFormat f;

	f.am_name = "ivfflat";
	f.magic = meta->magic;
	f.version = meta->version;
	f.ours = PageGetSpecialSize(page) == MAXALIGN(sizeof(IvfflatPageOpaqueData)) &&
			 IvfflatPageGetOpaque(page)->page_id == IVFFLAT_PAGE_ID &&
			 IvfflatPageGetOpaque(page)->page_type == IVFFLAT_PAGE_META;
	f.expected_magic = IVFFLAT_MAGIC;
	f.expected_version = IVFFLAT_VERSION;
	f.pgvector_magic = IVFFLAT_PGVECTOR_MAGIC;
	VxCheckMetaFormat(index, page, &f);

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
