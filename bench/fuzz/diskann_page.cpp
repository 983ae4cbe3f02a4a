/*
 * diskann_page.cpp -- fuzz target: a damaged diskann metapage, node page and
 * (storage_layout plain) vector page.
 *
 * Input: 8 parameter bytes choose a geometry (element kind, storage layout,
 * metric, dimensions -- up to 16,000 for plain, where a vector spans vector
 * pages --, quantized dimensions, bits, neighbours, label capacity), which
 * DiskannComputeGeometry turns into a valid metapage, a node page full of
 * plausible nodes and the first vector page of its extent; the rest of the
 * input damages those three pages (FuzzDamage). Then the readers run as a scan or insert would:
 * DiskannCheckMetaPage and VxInitDistance on the metapage (what
 * DiskannOpenIndex does), DiskannCheckPage on the node page (what
 * DiskannPinNodePage does), and for every node of the page the reads of
 * DiskannReadNode and the page views (header and code, neighbour ids up to
 * min(nneighbors, num_neighbors), labels up to DiskannStoredLabels, factors),
 * and for plain DiskannCheckPage on the vector page and the chunk reads of
 * DiskannReadVector for every node whose vector (or first chunk) is on it.
 * Property: either a clear ERROR or no access outside the pages (ASan) and
 * no UB; a metapage the check accepts must describe nodes that fit a page.
 */
#include "page_common.h"

#include "vx/am/distance.h"
#include "vx/kernels/kernels.hpp"
#include "vx/diskann/diskann.h"

extern "C" int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	vx::kernels::kernels_init();
	return 0;
}

/* Read node idx of a node page the way DiskannReadNode and the page views do; returns a checksum. */
static uint32
ReadNode(Page page, const DiskannMetaPageData *meta, uint32 idx)
{
	DiskannNode *node = DiskannNodeAt(page, meta, idx);
	char bytes[DISKANN_NODE_HEADER_SIZE + 4096];
	uint32 sum = 0;
	int nids;
	int nlabels;
	const DiskannId *ids;
	const int16 *labels;

	/* DiskannReadNode: header and code */
	if (DISKANN_NODE_HEADER_SIZE + meta->code_bytes > sizeof(bytes))
		vx_fuzz_fail("accepted code_bytes %u is larger than any real code", meta->code_bytes);
	memcpy(bytes, node, DISKANN_NODE_HEADER_SIZE + meta->code_bytes);
	sum += (uint8) bytes[DISKANN_NODE_HEADER_SIZE + meta->code_bytes - 1];
	/* neighbours, as DiskannReadNode and DiskannPageGraph::neighbors clamp them */
	nids = Min((int) node->nneighbors, (int) meta->num_neighbors);
	ids = DiskannNodeNeighbors(node, meta);
	for (int i = 0; i < nids; i++)
		sum += ids[i];
	/* labels, as DiskannPageDistance copies them */
	nlabels = DiskannStoredLabels(node->nlabels, meta->label_capacity);
	labels = DiskannNodeLabels(node, meta);
	for (int i = 0; i < nlabels; i++)
		sum += (uint16) labels[i];
	sum += (uint32) (DiskannNodeFactors(node)->norm != 0);
	return sum;
}

extern "C" int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sigjmp_buf jb;
	static volatile uint32 sink;

	if (size < 8)
		return 0;
	vx_fuzz_jmp = &jb;
	if (sigsetjmp(jb, 0) == 0) {
		Relation rel = FuzzIndexRelation();
		VxElemKind kind = (data[0] & 1) ? VX_ELEM_F16 : VX_ELEM_F32;
		int layout = (data[0] & 2) ? DISKANN_LAYOUT_PLAIN : DISKANN_LAYOUT_MEMORY_OPTIMIZED;
		VxMetric metric = (VxMetric) (VX_METRIC_L2 + data[1] % 3);
		uint32 dims = 1 + ((uint32) data[2] | (uint32) data[3] << 8) % ((data[0] & 4) ? DISKANN_MAX_DIM : 2000);
		uint32 code_dims = 1 + (uint32) data[4] * 8 % dims;
		int bits = 1 + data[5] % DISKANN_MAX_BITS;
		int neighbors = 1 + data[6] % 96;
		int label_capacity = data[7] % 9;
		DiskannMetaPageData *geometry = (DiskannMetaPageData *) palloc0(BLCKSZ);
		Page pages[3] = {FuzzPage(), FuzzPage(), FuzzPage()};
		DiskannMetaPageData meta;
		VxDistanceData dist;

		/* the valid pages (a geometry whose node does not fit is a clear error: done) */
		DiskannComputeGeometry(geometry, kind, metric, dims, code_dims, neighbors, 100, 1.2, layout, bits,
							   label_capacity);
		DiskannInitPage(pages[0], DISKANN_PAGE_META);
		DiskannWriteMetaPage(pages[0], geometry);
		DiskannInitPage(pages[1], DISKANN_PAGE_NODE);
		for (uint32 i = 0; i < geometry->nodes_per_page; i++) {
			DiskannNode *node = DiskannNodeAt(pages[1], geometry, i);
			DiskannId *ids = DiskannNodeNeighbors(node, geometry);

			node->flags = DISKANN_NODE_LIVE;
			node->nneighbors = (uint16) (i % (geometry->num_neighbors + 1));
			node->nlabels = (uint8) (i % (geometry->label_capacity + 1));
			for (uint32 j = 0; j < node->nneighbors; j++)
				ids[j] = i + j + 1;
		}

		if (geometry->vector_pages > 0) {
			DiskannInitVectorPage(pages[2], geometry, 1);
			memset(PageGetContents(pages[2]), 0x3c, DiskannVectorPageBytes(geometry, 1));
		}

		FuzzDamage(pages, geometry->vector_pages > 0 ? 3 : 2, data + 8, size - 8);

		/* DiskannOpenIndex */
		memcpy(&meta, DiskannCheckMetaPage(rel, pages[0]), sizeof(meta));
		VxInitDistance(&dist, (VxElemKind) meta.elem_kind, (VxMetric) meta.metric, meta.dimensions);
		/* DiskannPinNodePage, then every node's reads */
		DiskannCheckPage(rel, pages[1], DISKANN_PAGE_NODE, DiskannFirstNodeBlock(&meta));
		for (uint32 i = 0; i < meta.nodes_per_page; i++)
			sink = sink + ReadNode(pages[1], &meta, i);
		/* DiskannReadVector: the chunks on the extent's first vector page */
		if (meta.vector_pages > 0) {
			BlockNumber first_vector = DiskannFirstNodeBlock(&meta) + 1;

			if (DiskannBlockType(&meta, first_vector) != DISKANN_PAGE_VECTOR)
				vx_fuzz_fail("block after a node page of a plain index is not a vector page");
			DiskannCheckPage(rel, pages[2], DISKANN_PAGE_VECTOR, first_vector);
			for (uint32 i = 0; i < meta.nodes_per_page; i++)
				for (uint32 j = 0; j < meta.pages_per_vector; j++) {
					uint32 offset;
					uint32 len;
					static char chunk[BLCKSZ];

					if (DiskannVectorChunk(&meta, i, j, &offset, &len) != first_vector)
						continue;
					if ((Size) offset + len > DISKANN_PAGE_CAPACITY)
						vx_fuzz_fail("accepted geometry puts a vector chunk (%u + %u) outside a page", offset, len);
					memcpy(chunk, PageGetContents(pages[2]) + offset, len);
					sink = sink + (uint8) chunk[len - 1];
				}
		}
	} else
		vx_fuzz_check_error();
	vx_fuzz_jmp = nullptr;
	vx_fuzz_reset_memory();
	return 0;
}
