/*
 * hnsw_page.cpp -- fuzz target: damaged hnsw metapage, graph page and
 * vector pages.
 *
 * Input: 6 parameter bytes choose what is indexed (element kind, metric,
 * dimensions, m), which HnswComputeGeometry turns into a valid metapage,
 * the first group's graph page (records with neighbours) and its vector
 * pages (slots with datums); the rest of the input damages those pages
 * (FuzzDamage). Then the readers run as a scan would: HnswCheckMetaPage
 * (every metapage read), and for each id of the first group whose slot lies
 * on the pages built: HnswAddressOf, HnswCheckPage on the graph and vector
 * pages (HnswViewPin), the record's neighbours up to min(nneighbors, 2m),
 * HnswReadSlot over the slot's pages, and for a written slot
 * HnswCheckSlotDatum and (sparsevec, whose kernels follow the stored nnz)
 * the distance kernel on the datum. Property: a clear ERROR, or no
 * access outside the pages (ASan), no UB, no division by zero.
 */
#include "page_common.h"

#include "vx/hnsw/hnsw.h"
#include "vx/kernels/kernels.hpp"
#include "vx/types/sparsevec.h"

#define FUZZ_VECTOR_PAGES 12

extern "C" int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	vx::kernels::kernels_init();
	return 0;
}

extern "C" int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sigjmp_buf jb;
	static volatile uint32 sink;

	if (size < 6)
		return 0;
	vx_fuzz_jmp = &jb;
	if (sigsetjmp(jb, 0) == 0) {
		Relation rel = FuzzIndexRelation();
		static const VxElemKind kinds[4] = {VX_ELEM_F32, VX_ELEM_F16, VX_ELEM_BIT, VX_ELEM_SPARSE};
		VxElemKind kind = kinds[data[0] % 4];
		VxMetric metric = kind == VX_ELEM_BIT ? (VxMetric) (VX_METRIC_HAMMING + data[1] % 2)
											  : (VxMetric) (VX_METRIC_L2 + data[1] % 4);
		uint32 dims = 1 + ((uint32) data[2] | (uint32) data[3] << 8) % (kind == VX_ELEM_BIT ? 64000 : 16000);
		int m = HNSW_MIN_M + data[4] % (HNSW_MAX_M - HNSW_MIN_M + 1);
		HnswMetaPageData geometry;
		HnswMetaPageData meta;
		/* block 0 meta, 1 upper, 2 graph, 3.. the group's vector pages */
		Page pages[3 + FUZZ_VECTOR_PAGES];
		int npages;
		char *datum;
		VxDistanceData dist;

		HnswComputeGeometry(&geometry, kind, metric, dims, m, 64);
		npages = 3 + (int) Min(geometry.vector_pages_per_group, (uint32) FUZZ_VECTOR_PAGES);
		for (int i = 0; i < npages; i++) {
			pages[i] = FuzzPage();
			HnswInitBlockPage(&geometry, i, pages[i]);
		}
		HnswWriteMetaPage(pages[0], &geometry);
		for (uint32 r = 0; r < geometry.records_per_page; r++) {
			HnswGraphRecord *rec = HnswRecordAt(pages[2], &geometry, r);
			HnswAddress a = HnswAddressOf(&geometry, r);

			rec->flags = HNSW_RECORD_LIVE;
			rec->version = 1;
			rec->nneighbors = (uint16) (r % (2 * m + 1));
			for (uint32 j = 0; j < rec->nneighbors; j++)
				rec->neighbors[j] = r + j + 1;
			if (a.vector_block + a.vector_pages <= (BlockNumber) npages) {
				uint32 version = 1;

				/* a 4-byte varlena header, then the datum's bytes as the geometry sizes them */
				datum = (char *) palloc0(geometry.vector_slot_size);
				SET_VARSIZE(datum, geometry.vector_slot_size - HNSW_VECTOR_HEADER_SIZE);
				if (kind == VX_ELEM_SPARSE) {
					/* a real sparsevec: nnz non-zeros at indices 0.. */
					SparseVector *sv = (SparseVector *) datum;

					sv->dim = (int32) dims;
					sv->nnz = (int32) Min(r % 7, dims);
					for (int j = 0; j < sv->nnz; j++) {
						sv->indices[j] = j;
						SPARSEVEC_VALUES(sv)[j] = 1.0f + j;
					}
					SET_VARSIZE(datum, SPARSEVEC_SIZE(sv->nnz));
				}
				HnswWriteVectorSlot(&pages[a.vector_block], &geometry, a.vector_offset, version, datum, 0,
									a.vector_pages);
			}
		}

		FuzzDamage(pages, npages, data + 6, size - 6);

		memcpy(&meta, HnswCheckMetaPage(rel, pages[0]), sizeof(meta));
		VxInitDistance(&dist, (VxElemKind) meta.elem_kind, (VxMetric) meta.metric, meta.dimensions);
		datum = (char *) palloc(meta.vector_slot_size);
		for (uint32 id = 0; id < meta.records_per_page; id++) {
			HnswAddress a = HnswAddressOf(&meta, id);
			HnswGraphRecord *rec;
			uint32 version;
			uint32 n;

			if (a.vector_block + a.vector_pages > (BlockNumber) npages || a.graph_block >= (BlockNumber) npages)
				continue;
			HnswCheckPage(rel, pages[a.graph_block], HNSW_PAGE_GRAPH, a.graph_block);
			rec = HnswRecordAt(pages[a.graph_block], &meta, a.record_index);
			n = Min((uint32) rec->nneighbors, 2 * (uint32) meta.m);
			for (uint32 j = 0; j < n; j++)
				sink = sink + rec->neighbors[j];
			for (uint32 p = 0; p < a.vector_pages; p++)
				HnswCheckPage(rel, pages[a.vector_block + p], HNSW_PAGE_VECTOR, a.vector_block + p);
			HnswReadSlot(&pages[a.vector_block], &meta, a.vector_offset, &version, datum);
			sink = sink + version + (uint8) datum[meta.vector_slot_size - HNSW_VECTOR_HEADER_SIZE - 1];
			if (version == 0)
				continue;
			/* what HnswViewDistance does with a slot: check it, then the kernel reads it */
			HnswCheckSlotDatum(rel, &meta, id, datum);
			if (meta.elem_kind == VX_ELEM_SPARSE)
				sink = sink + (dist.fn(&dist, datum, datum) != 0);
		}
	} else
		vx_fuzz_check_error();
	vx_fuzz_jmp = nullptr;
	vx_fuzz_reset_memory();
	return 0;
}
