/*
 * pages.cpp -- hnsw page formats: geometry, page init, metapage, graph
 * records, vector slots and upper-page items (layout in include/vx/hnsw/hnsw.h
 * and src/hnsw/README.md).
 *
 * Invariants kept here:
 *   - every page has HnswPageOpaqueData with HNSW_PAGE_ID and its type, and
 *     the type of a block follows from its number (HnswBlockType);
 *   - fixed-size arrays (metapage contents, graph records, vector slots) lie
 *     below pd_lower, so full-page images of generic WAL keep them (the
 *     pd_lower..pd_upper hole is not logged);
 *   - a group's vector slots form one byte stream over its vector pages'
 *     contents, in runs that start on a page boundary (HnswAddressOf): a
 *     slot may straddle pages, and is then read and written piecewise by
 *     HnswReadSlot/HnswWriteVectorSlot over the array of its pages;
 *   - the metapage carries HNSW_MAGIC and HNSW_VERSION and is checked on every
 *     read: an index with another magic (pgvector's) or a newer version is
 *     refused with a REINDEX hint and never misread.
 * Nothing here takes locks except HnswReadMeta (a share lock, released
 * before returning). Pages are written through VxWriter and extended with
 * VxNewBuffer (include/vx/am/writer.h).
 */
#include "vx/pg.h"

#include "vx/am/meta.h"
#include "vx/hnsw/hnsw.h"
#include "vx/types/sparsevec.h"

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

/* Whether pages_a / records_a < pages_b / records_b (pages per element, exactly). */
static inline bool
HnswFewerPages(uint64 pages_a, uint64 records_a, uint64 pages_b, uint64 records_b)
{
	return pages_a * records_b < pages_b * records_a;
}

/*
 * Fill the geometry fields of a metapage for this kind, dimension count and m.
 *
 * A group is a graph page of R records and the vector pages of their slots.
 * Two layouts of the slots are considered, each with the R in 1..(records
 * that fit) that needs the fewest pages per element, (1 + vector pages) / R:
 *   - whole: P = capacity / S slots per page (a run is one page), or, for a
 *     slot larger than a page, one slot per run of ceil(S / capacity) pages;
 *   - packed: the R slots back to back over ceil(R * S / capacity) pages
 *     (one run), so about one slot in P straddles a page boundary.
 * Packed is taken when it saves at least 1% of the pages: every read of a
 * straddling slot pins and locks two or more pages and runs the kernel per
 * page (bit, sparsevec: copies the slot), not worth a smaller saving (2,000
 * floats, sparsevec: nothing to save, nearly every slot would straddle).
 * Extents are sized so the upper page is expected to be half full, which
 * leaves many standard deviations of headroom before levels get capped.
 */
void
HnswComputeGeometry(HnswMetaPageData *meta, VxElemKind kind, VxMetric metric, uint32 dimensions, int m,
					int ef_construction)
{
	Size capacity = HNSW_PAGE_CAPACITY;
	Size record_size = INTALIGN(HNSW_RECORD_HEADER_SIZE + sizeof(HnswId) * 2 * m);
	/* sparsevec slots hold HNSW_MAX_SPARSE_NNZ non-zeros */
	Size datum_size = VxElemTraitsOf(kind)->datum_size(dimensions, HNSW_MAX_SPARSE_NNZ);
	Size slot_size = HNSW_VECTOR_HEADER_SIZE + INTALIGN(datum_size);
	uint32 max_records = capacity / record_size;
	uint32 whole_slots = slot_size <= capacity ? capacity / slot_size : 1;
	uint32 whole_pages = slot_size <= capacity ? 1 : (slot_size + capacity - 1) / capacity;
	uint32 best_whole_r = 0, best_whole_pages = 0;
	uint32 best_packed_r = 0, best_packed_pages = 0;
	uint32 records;
	uint32 per_extent;

	/* a slot touches at most this many pages (starting anywhere on its first one) */
	if ((capacity - HNSW_VECTOR_HEADER_SIZE + slot_size + capacity - 1) / capacity > HNSW_MAX_SLOT_PAGES)
		elog(ERROR, "hnsw vector slot of %zu bytes spans too many pages", slot_size);

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

	/* for each layout, the R with the fewest pages per element (the largest such R on ties) */
	for (uint32 r = max_records; r >= 1; r--) {
		uint32 whole = 1 + (r + whole_slots - 1) / whole_slots * whole_pages;
		uint32 packed = 1 + (uint32) (((Size) r * slot_size + capacity - 1) / capacity);

		if (best_whole_r == 0 || HnswFewerPages(whole, r, best_whole_pages, best_whole_r)) {
			best_whole_r = r;
			best_whole_pages = whole;
		}
		if (best_packed_r == 0 || HnswFewerPages(packed, r, best_packed_pages, best_packed_r)) {
			best_packed_r = r;
			best_packed_pages = packed;
		}
	}

	/* packed only when it needs at most 99% of the pages of whole slots */
	if (HnswFewerPages(100 * (uint64) best_packed_pages, best_packed_r, 99 * (uint64) best_whole_pages,
					   best_whole_r)) {
		records = best_packed_r;
		meta->slots_per_run = records;
		meta->pages_per_run = best_packed_pages - 1;
		meta->vector_pages_per_group = best_packed_pages - 1;
	} else {
		records = best_whole_r;
		meta->slots_per_run = Min(whole_slots, records);
		meta->pages_per_run = whole_pages;
		meta->vector_pages_per_group = best_whole_pages - 1;
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
		used = HnswVectorPageBytes(meta, blkno);
	MemSet(PageGetContents(page), 0, used);
	((PageHeader) page)->pd_lower = (PageGetContents(page) - page) + used;
}

/*
 * Bytes of the slot stream on vector page blkno: what its pd_lower covers.
 * Every page of a run is full but the last.
 */
Size
HnswVectorPageBytes(const HnswMetaPageData *meta, BlockNumber blkno)
{
	uint32 page_in_group = ((blkno - 1) % HnswExtentPages(meta) - 1) % HnswGroupPages(meta) - 1;
	Size run_bytes = (Size) meta->slots_per_run * meta->vector_slot_size;
	Size before = (Size) (page_in_group % meta->pages_per_run) * HNSW_PAGE_CAPACITY;

	return Min((Size) HNSW_PAGE_CAPACITY, run_bytes - before);
}

/* Last block element id occupies (its pages come in block order within the extent). */
BlockNumber
HnswLastBlockOf(const HnswMetaPageData *meta, HnswId id)
{
	HnswAddress a = HnswAddressOf(meta, id);

	return a.vector_block + a.vector_pages - 1;
}

/* Write the metapage contents (page already initialized as META). */
void
HnswWriteMetaPage(Page page, const HnswMetaPageData *meta)
{
	memcpy(PageGetContents(page), meta, sizeof(HnswMetaPageData));
	((PageHeader) page)->pd_lower = (PageGetContents(page) - page) + sizeof(HnswMetaPageData);
}

/*
 * Whether a metapage's parameters are in range and its geometry is the one
 * HnswComputeGeometry derives from them, so that every address computed
 * from an id (HnswAddressOf divides by records_per_page and slots_per_run)
 * and every record, slot and upper list lies where the readers expect it.
 * Damage behind a valid magic and version is refused here, never read.
 */
static bool
HnswMetaGeometryValid(const HnswMetaPageData *meta)
{
	HnswMetaPageData derived;
	uint32 max_dim;

	switch (meta->elem_kind) {
	case VX_ELEM_F32:
	case VX_ELEM_F16:
		max_dim = HNSW_MAX_DIM;
		break;
	case VX_ELEM_BIT:
		max_dim = HNSW_MAX_BIT_DIM;
		break;
	case VX_ELEM_SPARSE:
		max_dim = SPARSEVEC_MAX_DIM;
		break;
	default:
		return false;
	}
	if (meta->metric < VX_METRIC_L2 || meta->metric > VX_METRIC_JACCARD || meta->dimensions < 1 ||
		meta->dimensions > max_dim || meta->m < HNSW_MIN_M || meta->m > HNSW_MAX_M ||
		meta->ef_construction < HNSW_MIN_EF_CONSTRUCTION || meta->ef_construction > HNSW_MAX_EF_CONSTRUCTION ||
		meta->entry_level < -1 || meta->entry_level > HNSW_MAX_LEVEL)
		return false;
	HnswComputeGeometry(&derived, (VxElemKind) meta->elem_kind, (VxMetric) meta->metric, meta->dimensions, meta->m,
						meta->ef_construction);
	return derived.record_size == meta->record_size && derived.records_per_page == meta->records_per_page &&
		   derived.vector_slot_size == meta->vector_slot_size && derived.slots_per_run == meta->slots_per_run &&
		   derived.pages_per_run == meta->pages_per_run &&
		   derived.vector_pages_per_group == meta->vector_pages_per_group &&
		   derived.groups_per_extent == meta->groups_per_extent;
}

/*
 * Whether the page's special space is where ours is: checked before the
 * opaque is read, because a damaged pd_special would point it anywhere.
 */
static inline bool
HnswSpecialValid(Page page)
{
	return ((PageHeader) page)->pd_special == BLCKSZ - MAXALIGN(sizeof(HnswPageOpaqueData));
}

/* Refuse a metapage we cannot read; return its contents otherwise. */
HnswMetaPage
HnswCheckMetaPage(Relation index, Page page)
{
	HnswMetaPage meta = HnswPageGetMeta(page);
	VxMetaFormat f;

	f.am_name = "hnsw";
	f.magic = meta->magic;
	f.version = meta->version;
	/* the special pointer first: a damaged one must not send the opaque read off the page */
	f.ours = HnswSpecialValid(page) && HnswPageGetOpaque(page)->page_id == HNSW_PAGE_ID &&
			 HnswPageGetOpaque(page)->page_type == HNSW_PAGE_META;
	f.expected_magic = HNSW_MAGIC;
	f.expected_version = HNSW_VERSION;
	f.pgvector_magic = HNSW_PGVECTOR_MAGIC;
	VxCheckMetaFormat(index, page, &f);

	if (!HnswMetaGeometryValid(meta))
		ereport(ERROR, (errcode(ERRCODE_INDEX_CORRUPTED),
						errmsg("index \"%s\" has an invalid hnsw metapage", RelationGetRelationName(index)),
						errhint("REINDEX the index.")));
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
	if (unlikely(PageIsNew(page) || !HnswSpecialValid(page) || HnswPageGetOpaque(page)->page_id != HNSW_PAGE_ID ||
				 HnswPageGetOpaque(page)->page_type != page_type))
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
 * Copy bytes [from, from + len) of the vector slot that starts at byte
 * offset `offset` of its first page's contents into dest, or (to_pages) from
 * src into the pages. pages[i] is the slot's page first + i.
 */
static void
HnswSlotBytes(Page *pages, uint32 first, uint32 offset, Size from, Size len, char *dest, const char *src,
			  bool to_pages)
{
	Size pos = offset + from; /* in the concatenated contents of the slot's pages */

	while (len > 0) {
		uint32 p = pos / HNSW_PAGE_CAPACITY - first;
		Size in_page = pos % HNSW_PAGE_CAPACITY;
		Size n = Min(len, (Size) HNSW_PAGE_CAPACITY - in_page);

		if (to_pages)
			memcpy(PageGetContents(pages[p]) + in_page, src, n);
		else
			memcpy(dest, PageGetContents(pages[p]) + in_page, n);
		pos += n;
		len -= n;
		if (to_pages)
			src += n;
		else
			dest += n;
	}
}

/*
 * Read the vector slot at byte offset `offset` of pages[0] (and on over the
 * following pages of pages[] when it straddles): its version, and its datum
 * into datum (vector_slot_size - HNSW_VECTOR_HEADER_SIZE bytes). The caller
 * holds share locks on all of the slot's pages, so the copy is of one
 * version.
 */
void
HnswReadSlot(Page *pages, const HnswMetaPageData *meta, uint32 offset, uint32 *version, char *datum)
{
	HnswSlotBytes(pages, 0, offset, 0, sizeof(uint32), (char *) version, NULL, false);
	HnswSlotBytes(pages, 0, offset, HNSW_VECTOR_HEADER_SIZE, meta->vector_slot_size - HNSW_VECTOR_HEADER_SIZE, datum,
				  NULL, false);
}

/*
 * Error unless the datum of element id's slot is safe to hand to the
 * distance functions. Dense and bit kernels read as many elements as the
 * metapage's dimensions (what the slot is sized for), but sparse kernels
 * follow the stored nnz: a damaged one must not send them past the slot.
 */
void
HnswCheckSlotDatum(Relation index, const HnswMetaPageData *meta, HnswId id, const char *datum)
{
	const SparseVector *s = (const SparseVector *) datum;

	if (meta->elem_kind != VX_ELEM_SPARSE)
		return;
	if (!VARATT_IS_4B_U(datum) || s->nnz < 0 || s->nnz > HNSW_MAX_SPARSE_NNZ || VARSIZE(datum) != SPARSEVEC_SIZE(s->nnz) ||
		VARSIZE(datum) > meta->vector_slot_size - HNSW_VECTOR_HEADER_SIZE)
		ereport(ERROR, (errcode(ERRCODE_INDEX_CORRUPTED),
						errmsg("index \"%s\" has a damaged vector for element %u", RelationGetRelationName(index), id),
						errhint("REINDEX the index.")));
}

/*
 * Write the vector slot at byte offset `offset` of its first page: version,
 * datum, zeros up to the slot size. Only the part on the slot's pages first
 * .. first + count - 1 (0: the page holding the version) is written, into
 * pages[0 .. count - 1], so one slot can be spread over several WAL records.
 */
void
HnswWriteVectorSlot(Page *pages, const HnswMetaPageData *meta, uint32 offset, uint32 version, const char *datum,
					uint32 first, uint32 count)
{
	Size slot_size = meta->vector_slot_size;
	Size datum_size = VARSIZE_ANY(datum);
	/* the slot's bytes on pages first .. first + count - 1, in slot coordinates */
	Size lo = first == 0 ? 0 : (Size) first * HNSW_PAGE_CAPACITY - offset;
	Size hi = Min(slot_size, (Size) (first + count) * HNSW_PAGE_CAPACITY - offset);
	/* the parts of the slot image: version, datum, zero padding */
	const char *parts[3] = {(const char *) &version, datum, NULL};
	Size ends[3] = {HNSW_VECTOR_HEADER_SIZE, HNSW_VECTOR_HEADER_SIZE + datum_size, slot_size};
	Size start = 0;

	Assert(HNSW_VECTOR_HEADER_SIZE + datum_size <= slot_size);
	for (int i = 0; i < 3; i++) {
		Size a = Max(lo, start);
		Size b = Min(hi, ends[i]);

		if (a < b) {
			if (parts[i] != NULL)
				HnswSlotBytes(pages, first, offset, a, b - a, NULL, parts[i] + (a - start), true);
			else {
				/* zero padding: written from a zeroed buffer in page-sized pieces */
				static const char zeros[256] = {0};

				for (Size z = a; z < b; z += Min(b - z, sizeof(zeros)))
					HnswSlotBytes(pages, first, offset, z, Min(b - z, sizeof(zeros)), NULL, zeros, true);
			}
		}
		start = ends[i];
	}
}
