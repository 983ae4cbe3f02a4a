/*
 * elem.cpp -- the traits table of the element kinds (include/vx/am/elem.h).
 *
 * One row per VxElemKind. vector and halfvec share one template (their
 * datums have the same shape: varlena header, int16 dim, int16 unused, then
 * the elements); bit and sparsevec have their own functions. Nothing here
 * allocates or locks; only VxElemTraitsOf can raise an ERROR.
 */
#include "vx/pg.h"

#include "vx/am/elem.h"
#include "vx/types/halfvec.h"
#include "vx/types/sparsevec.h"
#include "vx/types/vector.h"

/* SQL functions of src/types used for cosine normalization. */
extern "C" {
Datum vector_norm(PG_FUNCTION_ARGS);
Datum l2_normalize(PG_FUNCTION_ARGS);
Datum halfvec_l2_norm(PG_FUNCTION_ARGS);
Datum halfvec_l2_normalize(PG_FUNCTION_ARGS);
Datum sparsevec_l2_norm(PG_FUNCTION_ARGS);
Datum sparsevec_l2_normalize(PG_FUNCTION_ARGS);
}

namespace {

/* vector (T = Vector, Elem = float) and halfvec (HalfVector, half). */
template <class T, class Elem>
struct DenseKind
{
	/* Elements of a datum. */
	static uint32
	dimensions(const char *datum)
	{
		return ((const T *) datum)->dim;
	}

	/* Size of a datum of dimensions elements. */
	static Size
	datum_size(uint32 dimensions, uint32 max_nnz)
	{
		return offsetof(T, x) + sizeof(Elem) * dimensions;
	}

	/* Bytes of its elements. */
	static uint32
	raw_bytes(uint32 dimensions, uint32 max_nnz)
	{
		return dimensions * sizeof(Elem);
	}

	/* Its elements. */
	static const void *
	raw(const char *datum)
	{
		return ((const T *) datum)->x;
	}

	/* A datum holding these elements. */
	static void
	make_datum(const void *raw, uint32 dimensions, char *dest)
	{
		T *d = (T *) dest;

		SET_VARSIZE(d, datum_size(dimensions, 0));
		d->dim = dimensions;
		d->unused = 0;
		memcpy(d->x, raw, dimensions * sizeof(Elem));
	}
};

/* Bits of a bit datum. */
uint32
BitDimensions(const char *datum)
{
	return VARBITLEN((const VarBit *) datum);
}

/* Size of a bit datum of dimensions bits. */
Size
BitDatumSize(uint32 dimensions, uint32 max_nnz)
{
	return VARBITTOTALLEN(dimensions);
}

/* Bytes of its bits. */
uint32
BitRawBytes(uint32 dimensions, uint32 max_nnz)
{
	return (dimensions + 7) / 8;
}

/* Its bits. */
const void *
BitRaw(const char *datum)
{
	return VARBITS((const VarBit *) datum);
}

/* A bit datum holding these bits. */
void
BitMakeDatum(const void *raw, uint32 dimensions, char *dest)
{
	SET_VARSIZE(dest, VARBITTOTALLEN(dimensions));
	VARBITLEN((VarBit *) dest) = dimensions;
	memcpy(VARBITS((VarBit *) dest), raw, BitRawBytes(dimensions, 0));
}

/* Dimensions of a sparsevec datum. */
uint32
SparseDimensions(const char *datum)
{
	return ((const SparseVector *) datum)->dim;
}

/* Size of the largest sparsevec datum of max_nnz non-zeros (any dimensions). */
Size
SparseDatumSize(uint32 dimensions, uint32 max_nnz)
{
	return SPARSEVEC_SIZE(max_nnz);
}

/* The raw value of a sparsevec is the whole datum (16 + 8 * nnz bytes: already MAXALIGNed). */
uint32
SparseRawBytes(uint32 dimensions, uint32 max_nnz)
{
	return SPARSEVEC_SIZE(max_nnz);
}

/* The datum itself. */
const void *
SparseRaw(const char *datum)
{
	return datum;
}

/* Copy a sparsevec datum. */
void
SparseMakeDatum(const void *raw, uint32 dimensions, char *dest)
{
	memcpy(dest, raw, VARSIZE_ANY(raw));
}

using VectorKind = DenseKind<Vector, float>;
using HalfvecKind = DenseKind<HalfVector, half>;

/* Indexed by VxElemKind - 1. */
const VxElemTraits kElemTraits[] = {
	{VX_ELEM_F32, "vector", sizeof(float), offsetof(Vector, x), VectorKind::dimensions, VectorKind::datum_size,
	 VectorKind::raw_bytes, VectorKind::raw, VectorKind::make_datum, vector_norm, l2_normalize},
	{VX_ELEM_F16, "halfvec", sizeof(half), offsetof(HalfVector, x), HalfvecKind::dimensions, HalfvecKind::datum_size,
	 HalfvecKind::raw_bytes, HalfvecKind::raw, HalfvecKind::make_datum, halfvec_l2_norm, halfvec_l2_normalize},
	{VX_ELEM_BIT, "bit", 0, 0, BitDimensions, BitDatumSize, BitRawBytes, BitRaw, BitMakeDatum, NULL, NULL},
	{VX_ELEM_SPARSE, "sparsevec", 0, 0, SparseDimensions, SparseDatumSize, SparseRawBytes, SparseRaw, SparseMakeDatum,
	 sparsevec_l2_norm, sparsevec_l2_normalize},
};

} // namespace

/* The traits of kind; ERROR for a kind that does not exist (a corrupted metapage). */
const VxElemTraits *
VxElemTraitsOf(VxElemKind kind)
{
	if (unlikely((int) kind < VX_ELEM_F32 || (int) kind > VX_ELEM_SPARSE))
		ereport(ERROR, (errcode(ERRCODE_INDEX_CORRUPTED), errmsg("invalid vector element kind %d", (int) kind)));
	return &kElemTraits[kind - 1];
}
