/*
 * build.h -- what the serial and the parallel diskann build share
 * (build.cpp, build_parallel.cpp): the graph's distance between rows in
 * memory, the resumable run of a Vamana build, and the parallel build's
 * interface.
 */
#ifndef VX_DISKANN_BUILD_H
#define VX_DISKANN_BUILD_H

#include "vx/core/vamana.hpp"
#include "vx/diskann/diskann.h"
#include "vx/kernels/kernels.hpp"

/* Squared L2 distance between two rows in memory (the build's graph metric). */
struct DiskannBuildPairL2
{
	const float *vectors;
	uint32 dims;
	float (*l2sq)(const float *, const float *, size_t) noexcept;

	float
	operator()(uint32_t a, uint32_t b) const noexcept
	{
		return l2sq(vectors + (Size) a * dims, vectors + (Size) b * dims, dims);
	}

	/* start fetching row a's vector (up to 1 KiB: the kernel's streaming covers the rest) */
	void
	prefetch(uint32_t a) const noexcept
	{
		const char *p = (const char *) (vectors + (Size) a * dims);
		Size bytes = Min((Size) dims * sizeof(float), (Size) 1024);

		for (Size off = 0; off < bytes; off += 64)
			__builtin_prefetch(p + off, 0, 3);
	}
};

/* A participant's build distances: exact between rows, searches estimated from the rows' codes. */
typedef vx::core::CodedSearchPair<DiskannBuildPairL2> DiskannBuildPair;

/* The rows' codes, the graph's input besides the rows: code_bytes and one CodeFactors per row. */
typedef struct DiskannBuildCodes
{
	const vx::core::Quantizer *quantizer;
	const uint8 *codes;
	const vx::core::CodeFactors *factors;
} DiskannBuildCodes;

DiskannBuildPair DiskannMakeBuildPair(const float *vectors, uint32 dims, const DiskannBuildCodes *codes);

/* Encode rows [first, last) of vectors (dims floats each) into codes and factors; work: work_floats(). */
static inline void
DiskannEncodeRows(const vx::core::Quantizer *quantizer, const float *vectors, uint32 first, uint32 last, uint8 *codes,
				  vx::core::CodeFactors *factors, float *work)
{
	for (uint32 i = first; i < last; i++)
		quantizer->encode(vectors + (Size) i * quantizer->dims, codes + (Size) i * quantizer->code_bytes(), &factors[i],
						  work);
}

/*
 * Run a Vamana build step function run(interrupt) -> Status until it is done:
 * it stops at any interrupt, and one that does not cancel (a barrier, a
 * memory-context log request, a parallel worker's message) resumes it. An
 * error from the core is an ERROR.
 */
template <class Run>
void
DiskannRunBuild(Run &&run)
{
	const volatile sig_atomic_t *interrupt = &InterruptPending;
	vx::core::Status status;

	do {
		status = run(interrupt);
		if (status == vx::core::Status::Interrupted) {
			CHECK_FOR_INTERRUPTS();
			/* still pending: interrupts are held off here, so stop polling rather than spin */
			if (InterruptPending)
				interrupt = NULL;
		}
	} while (status == vx::core::Status::Interrupted);
	if (status != vx::core::Status::Ok)
		elog(ERROR, "diskann graph build failed: %s", vx::core::status_name(status));
}

/* A participant's scratch for builds of graph with params (palloc'd in the current context). */
vx::core::VamanaScratch DiskannBuildScratch(const vx::core::VamanaGraph &graph,
											const vx::core::VamanaBuildParams &params);

/* build_parallel.cpp: the build's rows and graph in a parallel context's shared memory */
typedef struct DiskannParallelBuild DiskannParallelBuild;

DiskannParallelBuild *DiskannParallelBegin(int nworkers, uint32 max_rows, uint32 dims, uint32 stride,
										   uint32 code_bytes);
float *DiskannParallelVectors(DiskannParallelBuild *par);
void DiskannParallelCodeSpace(DiskannParallelBuild *par, float **center, uint8 **codes,
							  vx::core::CodeFactors **factors);
void DiskannParallelGraph(DiskannParallelBuild *par, vx::core::VamanaGraph *graph,
						  const vx::core::VamanaBuildParams *params, const DiskannMetaPageData *meta);
void DiskannParallelEnd(DiskannParallelBuild *par);

extern "C" PGDLLEXPORT void DiskannParallelBuildMain(dsm_segment *seg, shm_toc *toc);

#endif /* VX_DISKANN_BUILD_H */
