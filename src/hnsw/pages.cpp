/*
 * pages.cpp -- hnsw page formats: geometry, page init, metapage, graph
 * records, vector slots and upper-page items (layout in include/vx/hnsw/hnsw.h
 * and src/hnsw/README.md).
 *
 * Invariants kept here:
 *   - every page has HnswPageOpaqueData with HNSW_PAGE_ID and its type, and
 *     the type of a block follows from its number (HnswBlockType);
 *   - fixed-size arrays (metapage contents, graph records, vector slots) lie
 *     below pd_lower, so full-page images of GenericXLog keep them (the
 *     pd_lower..pd_upper hole is not logged);
 *   - the metapage carries HNSW_MAGIC and HNSW_VERSION and is checked on every
 *     read: an index with another magic (pgvector's) or a newer version is
 *     refused with a REINDEX hint and never misread.
 * Nothing here takes locks except HnswReadMeta/HnswReadVector (share locks,
 * released before returning) and HnswNewBuffer (relation extension lock).
 */
#include "vx/pg.h"

#include "vx/hnsw/hnsw.h"

#include <cmath>

/* Bytes of one upper-level list (count, pad, m ids). */
static inline Size
HnswUpperListSize(int m)
{
	return offsetof(HnswUpperList, ids) + sizeof(HnswId) * m;
}

/* Bytes of an upper-page item for an element of this level (>= 1). */
Size
HnswUpperItemSize(int m, int level)
{
	return MAXALIGN(sizeof(HnswUpperItem) + level * HnswUpperListSize(m));
}

/* The list of level `level` (>= 1) inside an upper-page item. */
HnswUpperList *
HnswUpperListAt(HnswUpperItem *item, int m, int level)
{
	return (HnswUpperList *) ((char *) item + sizeof(HnswUpperItem) + (level - 1) * HnswUpperListSize(m));
}

/*
 * Expected upper-page bytes per element: levels follow P(level >= l) = m^-l,
 * and an element of level l >= 1 needs an item of l lists plus a line pointer.
 */
static double
HnswExpectedUpperBytes(int m)
{
	double bytes = 0;

	for (int l = 1; l <= HNSW_MAX_LEVEL; l++) {
		double p_exact = pow((double) m, -l) - pow((double) m, -(l + 1));

		bytes += p_exact * (double) (HnswUpperItemSize(m, l) + sizeof(ItemIdData));
	}
	return bytes;
}

/*
 * Fill the geometry fields of a metapage for this kind, dimension count and m.
 * Groups are sized so the graph page and its vector pages waste the least
 * space per element; extents so the upper page is expected to be half full,
 * which leaves many standard deviations of headroom before levels get capped.
 */
void
HnswComputeGeometry(HnswMetaPageData *meta, HnswElemKind kind, HnswMetric metric, uint32 dimensions, int m,
					int ef_construction)
{
	Size capacity = HNSW_PAGE_CAPACITY;
	Size record_size = MAXALIGN(HNSW_RECORD_HEADER_SIZE + sizeof(HnswId) * 2 * m);
	Size slot_size = HNSW_VECTOR_HEADER_SIZE + MAXALIGN(HnswDatumMaxSize(kind, dimensions));
	uint32 max_records = capacity / record_size;
	uint32 records;
	uint32 per_extent;

	MemSet(meta, 0, sizeof(*meta));
	meta->magic = HNSW_MAGIC;
	meta->version = HNSW_VERSION;
	meta->dimensions = dimensions;
	meta->elem_kind = kind;
	meta->metric = metric;
	meta->m = m;
	meta->ef_construction = ef_construction;
	meta->record_size = record_size;
	meta->vector_slot_size = slot_size;

	if (slot_size <= capacity) {
		uint32 per_page = capacity / slot_size;
		double best = 0;

		/* records per group r minimizing pages per element (1 + ceil(r / P)) / r */
		records = max_records;
		for (uint32 r = max_records; r >= 1; r--) {
			double per_element = (double) r / (1 + (r + per_page - 1) / per_page);

			if (per_element > best + 1e-9) {
				best = per_element;
				records = r;
			}
		}
		meta->vectors_per_page = per_page;
		meta->pages_per_vector = 1;
		meta->vector_pages_per_group = (records + per_page - 1) / per_page;
	} else {
		records = max_records;
		meta->vectors_per_page = 0;
		meta->pages_per_vector = (slot_size + capacity - 1) / capacity;
		meta->vector_pages_per_group = records * meta->pages_per_vector;
	}
	meta->records_per_page = records;

	per_extent = (uint32) (0.5 * (double) (capacity - MAXALIGN(sizeof(HnswUpperItem))) / HnswExpectedUpperBytes(m));
	meta->groups_per_extent = Max(1, per_extent / records);

	meta->entry_id = HNSW_INVALID_ID;
	meta->entry_level = -1;
	meta->next_id = 0;
	meta->free_head = HNSW_INVALID_ID;
	meta->live_count = 0;
}

/* Initialize an empty page of the given type. */
void
HnswInitPage(Page page, uint16 page_type)
{
	HnswPageOpaque opaque;

	PageInit(page, BLCKSZ, sizeof(HnswPageOpaqueData));
	opaque = HnswPageGetOpaque(page);
	opaque->page_type = page_type;
	opaque->flags = 0;
	opaque->unused = 0;
	opaque->page_id = HNSW_PAGE_ID;
}

/* Type of the page at blkno, from the geometry alone. */
uint16
HnswBlockType(const HnswMetaPageData *meta, BlockNumber blkno)
{
	uint32 in_extent;

	if (blkno == HNSW_METAPAGE_BLKNO)
		return HNSW_PAGE_META;
	in_extent = (blkno - 1) % HnswExtentPages(meta);
	if (in_extent == 0)
		return HNSW_PAGE_UPPER;
	return ((in_extent - 1) % HnswGroupPages(meta)) == 0 ? HNSW_PAGE_GRAPH : HNSW_PAGE_VECTOR;
}

/*
 * Initialize the page at blkno as what the geometry says it is. Graph and
 * vector pages get their fixed arrays zeroed and covered by pd_lower
 * (records are HNSW_RECORD_UNUSED, slots version 0).
 */
void
HnswInitBlockPage(const HnswMetaPageData *meta, BlockNumber blkno, Page page)
{
	uint16 type = HnswBlockType(meta, blkno);
	Size used = 0;

	HnswInitPage(page, type);
	if (type == HNSW_PAGE_GRAPH)
		used = (Size) meta->records_per_page * meta->record_size;
	else if (type == HNSW_PAGE_VECTOR)
		used = meta->vectors_per_page > 0 ? (Size) meta->vectors_per_page * meta->vector_slot_size
										  : (Size) HNSW_PAGE_CAPACITY;
	MemSet(PageGetContents(page), 0, used);
	((PageHeader) page)->pd_lower = (PageGetContents(page) - page) + used;
}

/* Last block element id occupies (its pages come in block order within the extent). */
BlockNumber
HnswLastBlockOf(const HnswMetaPageData *meta, HnswId id)
{
	HnswAddress a = HnswAddressOf(meta, id);

	return a.vector_block + meta->pages_per_vector - 1;
}

/* Write the metapage contents (page already initialized as META). */
void
HnswWriteMetaPage(Page page, const HnswMetaPageData *meta)
{
	memcpy(PageGetContents(page), meta, sizeof(HnswMetaPageData));
	((PageHeader) page)->pd_lower = (PageGetContents(page) - page) + sizeof(HnswMetaPageData);
}

/* Refuse a metapage we cannot read; return its contents otherwise. */
HnswMetaPage
HnswCheckMetaPage(Relation index, Page page)
{
	HnswMetaPage meta = HnswPageGetMeta(page);

	if (PageIsNew(page))
		ereport(ERROR, (errcode(ERRCODE_INDEX_CORRUPTED),
						errmsg("index \"%s\" has an uninitialized metapage", RelationGetRelationName(index)),
						errhint("REINDEX the index.")));

	if (meta->magic == HNSW_PGVECTOR_MAGIC)
		ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						errmsg("index \"%s\" was built by pgvector and cannot be read by this extension",
							   RelationGetRelationName(index)),
						errhint("REINDEX the index to rebuild it in this extension's format.")));

	if (meta->magic != HNSW_MAGIC || HnswPageGetOpaque(page)->page_id != HNSW_PAGE_ID ||
		HnswPageGetOpaque(page)->page_type != HNSW_PAGE_META)
		ereport(ERROR, (errcode(ERRCODE_INDEX_CORRUPTED),
						errmsg("index \"%s\" is not a valid hnsw index", RelationGetRelationName(index)),
						errdetail("Magic number %08X, expected %08X.", meta->magic, HNSW_MAGIC),
						errhint("REINDEX the index.")));

	if (meta->version != HNSW_VERSION)
		ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						errmsg("index \"%s\" has hnsw format version %u, this extension reads version %u",
							   RelationGetRelationName(index), meta->version, HNSW_VERSION),
						errhint("REINDEX the index to rebuild it in this extension's format.")));
	return meta;
}

/* Copy the metapage (checked) under a share lock. */
void
HnswReadMeta(Relation index, HnswMetaPageData *meta)
{
	Buffer buf = ReadBuffer(index, HNSW_METAPAGE_BLKNO);

	/* share lock: the mutable fields change under the exclusive lock */
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	memcpy(meta, HnswCheckMetaPage(index, BufferGetPage(buf)), sizeof(HnswMetaPageData));
	UnlockReleaseBuffer(buf);
}

/*
 * The metapage as of some moment, cached in rd_amcache. Only its geometry
 * (fixed at build; REINDEX makes a new relfilenode and so a new cache) may
 * be used: the mutable fields are stale.
 */
const HnswMetaPageData *
HnswGetCachedMeta(Relation index)
{
	if (index->rd_amcache == NULL) {
		HnswMetaPageData *meta = (HnswMetaPageData *) MemoryContextAlloc(index->rd_indexcxt, sizeof(HnswMetaPageData));

		HnswReadMeta(index, meta);
		index->rd_amcache = meta;
	}
	return (const HnswMetaPageData *) index->rd_amcache;
}

/* Error unless the page is one of ours of the expected type. */
void
HnswCheckPage(Relation index, Page page, uint16 page_type, BlockNumber blkno)
{
	HnswPageOpaque opaque = HnswPageGetOpaque(page);

	if (unlikely(PageIsNew(page) || opaque->page_id != HNSW_PAGE_ID || opaque->page_type != page_type))
		ereport(ERROR, (errcode(ERRCODE_INDEX_CORRUPTED),
						errmsg("index \"%s\" contains an unexpected page at block %u", RelationGetRelationName(index),
							   blkno),
						errhint("REINDEX the index.")));
}

/* Add an empty (zero counts) upper item for an element; InvalidOffsetNumber if it does not fit. */
OffsetNumber
HnswAddUpperItem(Page page, HnswId id, int level, int m)
{
	Size size = HnswUpperItemSize(m, level);
	HnswUpperItem *item = (HnswUpperItem *) palloc0(size);
	OffsetNumber off;

	item->id = id;
	item->level = level;
	off = PageAddItem(page, (Item) item, size, InvalidOffsetNumber, false, false);
	pfree(item);
	return off;
}

/* Whether an upper item for this level still fits on the page. */
bool
HnswUpperFits(Page page, int level, int m)
{
	return PageGetFreeSpace(page) >= HnswUpperItemSize(m, level);
}

/*
 * Write a vector slot: header then datum. pages[0] is the vector page of a
 * non-spanning slot. A spanning slot is cut into page-sized chunks; this
 * writes chunks first .. first+count-1 into pages[0 .. count-1], so callers
 * can spread one slot over several WAL records.
 */
void
HnswWriteVectorSlot(Page *pages, const HnswMetaPageData *meta, uint32 vector_index, uint32 version, const char *datum,
					uint32 first, uint32 count)
{
	Size datum_size = VARSIZE_ANY(datum);

	if (meta->vectors_per_page > 0) {
		HnswVectorSlot *slot = HnswVectorSlotAt(pages[0], meta, vector_index);

		Assert(HNSW_VECTOR_HEADER_SIZE + datum_size <= meta->vector_slot_size);
		slot->version = version;
		slot->unused = 0;
		memcpy(HnswSlotDatum(slot), datum, datum_size);
	} else {
		Size total = HNSW_VECTOR_HEADER_SIZE + datum_size;
		char *whole = (char *) palloc0(meta->vector_slot_size);

		((HnswVectorSlot *) whole)->version = version;
		memcpy(whole + HNSW_VECTOR_HEADER_SIZE, datum, datum_size);
		for (uint32 p = first; p < first + count; p++) {
			Size start = (Size) p * HNSW_PAGE_CAPACITY;

			Assert(p < meta->pages_per_vector);
			if (start < total)
				memcpy(PageGetContents(pages[p - first]), whole + start, Min(total - start, (Size) HNSW_PAGE_CAPACITY));
		}
		pfree(whole);
	}
}

/*
 * Copy the datum of a spanning vector into dest (vector_slot_size bytes) and
 * return its slot version. Each page is share-locked while copied; the
 * caller checks the version against the record it came from.
 */
void
HnswReadVector(Relation index, const HnswMetaPageData *meta, HnswId id, char *dest, uint32 *version)
{
	HnswAddress a = HnswAddressOf(meta, id);
	Size total = meta->vector_slot_size;
	Size done = 0;
	char *whole = (char *) palloc(total);

	for (uint32 p = 0; done < total; p++) {
		Size chunk = Min(total - done, (Size) HNSW_PAGE_CAPACITY);
		Buffer buf = ReadBuffer(index, a.vector_block + p);

		LockBuffer(buf, BUFFER_LOCK_SHARE);
		HnswCheckPage(index, BufferGetPage(buf), HNSW_PAGE_VECTOR, a.vector_block + p);
		memcpy(whole + done, PageGetContents(BufferGetPage(buf)), chunk);
		UnlockReleaseBuffer(buf);
		done += chunk;
	}
	*version = ((HnswVectorSlot *) whole)->version;
	memcpy(dest, whole + HNSW_VECTOR_HEADER_SIZE, total - HNSW_VECTOR_HEADER_SIZE);
	pfree(whole);
}

/*
 * Extend the relation by one page and return it pinned and exclusively
 * locked, not yet initialized. The extension lock serializes concurrent
 * extenders (build holds the only reference, but taking it is harmless).
 */
Buffer
HnswNewBuffer(Relation index, ForkNumber fork)
{
	Buffer buf;

	LockRelationForExtension(index, ExclusiveLock);
	buf = ReadBufferExtended(index, fork, P_NEW, RBM_NORMAL, NULL);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	UnlockRelationForExtension(index, ExclusiveLock);
	return buf;
}

/*
 * Page writes: GenericXLog at run time, or plain dirty buffers during a
 * build (log_newpage_range covers the whole relation at the end). The
 * caller holds exclusive locks on the registered buffers until finish.
 */
void
HnswWriterStart(HnswWriter *w, Relation index, bool building)
{
	w->building = building;
	w->nbuffers = 0;
	w->state = building ? NULL : GenericXLogStart(index);
}

/* The page to modify for buf (full_image: the page is new or rewritten whole). */
Page
HnswWriterPage(HnswWriter *w, Buffer buf, bool full_image)
{
	Assert(w->nbuffers < MAX_GENERIC_XLOG_PAGES);
	w->buffers[w->nbuffers++] = buf;
	if (w->building)
		return BufferGetPage(buf);
	return GenericXLogRegisterBuffer(w->state, buf, full_image ? GENERIC_XLOG_FULL_IMAGE : 0);
}

/* Apply and log (or just dirty) every registered page. */
void
HnswWriterFinish(HnswWriter *w)
{
	if (w->building) {
		for (int i = 0; i < w->nbuffers; i++)
			MarkBufferDirty(w->buffers[i]);
	} else
		GenericXLogFinish(w->state);
	w->nbuffers = 0;
	w->state = NULL;
}
