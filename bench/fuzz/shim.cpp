/*
 * shim.cpp -- a minimal PostgreSQL backend for the fuzz targets (see
 * shim.h). Not part of the extension; built only by bench/fuzz/run with
 * clang, libFuzzer, ASan and UBSan.
 *
 * Memory: palloc'd chunks are malloc'd one by one and remembered; pfree
 * frees at once; vx_fuzz_reset_memory frees the rest after each input (as a
 * memory context reset would). Errors: errstart/errfinish collect the
 * SQLSTATE and the formatted message (formatting runs every argument
 * through vsnprintf, so a bad %s pointer is caught); an ERROR then longjmps
 * to vx_fuzz_jmp, as PG_TRY would. Lower levels are dropped.
 */
#include "shim.h"

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <unordered_set>

VxFuzzError vx_fuzz_error;
sigjmp_buf *vx_fuzz_jmp;

static std::unordered_set<void *> *chunks;
static int cur_elevel;

/* Free every chunk still allocated. */
void
vx_fuzz_reset_memory(void)
{
	if (chunks == nullptr)
		return;
	for (void *p : *chunks)
		free(p);
	chunks->clear();
}

/* Report a failed property and abort (libFuzzer saves the input). */
void
vx_fuzz_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "vx_fuzz: FINDING: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	abort();
}

/* A raised ERROR must carry a real SQLSTATE and a message. */
void
vx_fuzz_check_error(void)
{
	if (vx_fuzz_error.sqlerrcode == ERRCODE_INTERNAL_ERROR || vx_fuzz_error.sqlerrcode == 0 ||
		vx_fuzz_error.message[0] == '\0')
		vx_fuzz_fail("unclear error (SQLSTATE %s): \"%s\"", unpack_sql_state(vx_fuzz_error.sqlerrcode),
					 vx_fuzz_error.message);
}

/* A zeroed fcinfo for nargs arguments with a zeroed flinfo. */
FunctionCallInfo
vx_fuzz_fcinfo(int nargs)
{
	FunctionCallInfo fcinfo = (FunctionCallInfo) palloc0(SizeForFunctionCallInfo(nargs));

	fcinfo->flinfo = (FmgrInfo *) palloc0(sizeof(FmgrInfo));
	fcinfo->nargs = nargs;
	return fcinfo;
}

/* --- memory ------------------------------------------------------------- */

static void *
alloc_chunk(Size size, bool zero)
{
	void *p;

	if (!AllocSizeIsValid(size))
		elog(ERROR, "invalid memory alloc request size %zu", size);
	p = zero ? calloc(1, size ? size : 1) : malloc(size ? size : 1);
	if (p == nullptr)
		abort();
	if (chunks == nullptr)
		chunks = new std::unordered_set<void *>();
	chunks->insert(p);
	return p;
}

extern "C" {
void *
palloc(Size size)
{
	return alloc_chunk(size, false);
}

void *
palloc0(Size size)
{
	return alloc_chunk(size, true);
}

void *
palloc_extended(Size size, int flags)
{
	return alloc_chunk(size, (flags & MCXT_ALLOC_ZERO) != 0);
}

void *
palloc_mul(Size s1, Size s2)
{
	if (s2 != 0 && s1 > MaxAllocSize / s2)
		elog(ERROR, "invalid memory alloc request size %zu * %zu", s1, s2);
	return alloc_chunk(s1 * s2, false);
}

void *
MemoryContextAlloc(MemoryContext context, Size size)
{
	return alloc_chunk(size, false);
}

void *
MemoryContextAllocZero(MemoryContext context, Size size)
{
	return alloc_chunk(size, true);
}

void
pfree(void *pointer)
{
	if (chunks == nullptr || chunks->erase(pointer) != 1)
		vx_fuzz_fail("pfree of a pointer that palloc did not return");
	free(pointer);
}

void *
repalloc(void *pointer, Size size)
{
	void *p;

	if (chunks == nullptr || chunks->erase(pointer) != 1)
		vx_fuzz_fail("repalloc of a pointer that palloc did not return");
	p = realloc(pointer, size ? size : 1);
	if (p == nullptr)
		abort();
	chunks->insert(p);
	return p;
}

char *
pstrdup(const char *in)
{
	size_t n = strlen(in);
	char *p = (char *) palloc(n + 1);

	memcpy(p, in, n + 1);
	return p;
}

char *
pnstrdup(const char *in, Size len)
{
	size_t n = strnlen(in, len);
	char *p = (char *) palloc(n + 1);

	memcpy(p, in, n);
	p[n] = '\0';
	return p;
}

/* --- errors --------------------------------------------------------------- */

bool
errstart(int elevel, const char *domain)
{
	cur_elevel = elevel;
	if (elevel < ERROR)
		return false;
	vx_fuzz_error.elevel = elevel;
	vx_fuzz_error.sqlerrcode = ERRCODE_INTERNAL_ERROR; /* elog's default */
	vx_fuzz_error.message[0] = '\0';
	return true;
}

bool
errstart_cold(int elevel, const char *domain)
{
	return errstart(elevel, domain);
}

void
errfinish(const char *filename, int lineno, const char *funcname)
{
	if (cur_elevel < ERROR)
		return;
	if (vx_fuzz_jmp == nullptr)
		vx_fuzz_fail("ERROR outside VX_FUZZ_TRY at %s:%d: %s", filename, lineno, vx_fuzz_error.message);
	siglongjmp(*vx_fuzz_jmp, 1);
}

int
errcode(int sqlerrcode)
{
	vx_fuzz_error.sqlerrcode = sqlerrcode;
	return 0;
}

/* Format into the message (the first call wins: errmsg before errdetail/errhint). */
static void
format_part(bool is_message, const char *fmt, va_list ap)
{
	char buf[1024];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (is_message)
		snprintf(vx_fuzz_error.message, sizeof(vx_fuzz_error.message), "%s", buf);
}

#define VX_FORMAT_FUNCTION(name, is_message)                                                                          \
	int name(const char *fmt, ...)                                                                                     \
	{                                                                                                                  \
		va_list ap;                                                                                                    \
		va_start(ap, fmt);                                                                                             \
		format_part(is_message, fmt, ap);                                                                              \
		va_end(ap);                                                                                                    \
		return 0;                                                                                                      \
	}

VX_FORMAT_FUNCTION(errmsg, true)
VX_FORMAT_FUNCTION(errmsg_internal, true)
VX_FORMAT_FUNCTION(errdetail, false)
VX_FORMAT_FUNCTION(errdetail_internal, false)
VX_FORMAT_FUNCTION(errhint, false)

void
float_overflow_error(void)
{
	ereport(ERROR, (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE), errmsg("value out of range: overflow")));
}

void
float_underflow_error(void)
{
	ereport(ERROR, (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE), errmsg("value out of range: underflow")));
}

/* --- stringinfo and pqformat (PG's semantics, incl. its errors) ---------- */

void
initStringInfo(StringInfo str)
{
	str->data = (char *) palloc(1024);
	str->maxlen = 1024;
	resetStringInfo(str);
}

void
resetStringInfo(StringInfo str)
{
	str->data[0] = '\0';
	str->len = 0;
	str->cursor = 0;
}

void
enlargeStringInfo(StringInfo str, int needed)
{
	int newlen;

	if (needed < 0 || ((Size) needed) >= (MaxAllocSize - (Size) str->len))
		elog(ERROR, "invalid string enlargement request size: %d", needed);
	needed += str->len + 1;
	if (needed <= str->maxlen)
		return;
	newlen = 2 * str->maxlen;
	while (needed > newlen)
		newlen = 2 * newlen;
	if (newlen > (int) MaxAllocSize)
		newlen = (int) MaxAllocSize;
	str->data = (char *) repalloc(str->data, newlen);
	str->maxlen = newlen;
}

void
appendBinaryStringInfo(StringInfo str, const char *data, int datalen)
{
	enlargeStringInfo(str, datalen);
	memcpy(str->data + str->len, data, datalen);
	str->len += datalen;
	str->data[str->len] = '\0';
}

void
pq_begintypsend(StringInfo buf)
{
	initStringInfo(buf);
	/* room for the varlena header */
	appendBinaryStringInfo(buf, "\0\0\0\0", 4);
}

bytea *
pq_endtypsend(StringInfo buf)
{
	bytea *result = (bytea *) buf->data;

	SET_VARSIZE(result, buf->len);
	return result;
}

void
pq_copymsgbytes(StringInfo msg, char *buf, int datalen)
{
	if (datalen < 0 || datalen > (msg->len - msg->cursor))
		ereport(ERROR, (errcode(ERRCODE_PROTOCOL_VIOLATION), errmsg("insufficient data left in message")));
	memcpy(buf, &msg->data[msg->cursor], datalen);
	msg->cursor += datalen;
}

unsigned int
pq_getmsgint(StringInfo msg, int b)
{
	unsigned int result;
	unsigned char n8;
	uint16 n16;
	uint32 n32;

	switch (b) {
	case 1:
		pq_copymsgbytes(msg, (char *) &n8, 1);
		result = n8;
		break;
	case 2:
		pq_copymsgbytes(msg, (char *) &n16, 2);
		result = pg_ntoh16(n16);
		break;
	case 4:
		pq_copymsgbytes(msg, (char *) &n32, 4);
		result = pg_ntoh32(n32);
		break;
	default:
		elog(ERROR, "unsupported integer size %d", b);
		result = 0;
	}
	return result;
}

float4
pq_getmsgfloat4(StringInfo msg)
{
	union {
		float4 f;
		uint32 i;
	} swap;

	swap.i = pq_getmsgint(msg, 4);
	return swap.f;
}

void
pq_sendfloat4(StringInfo buf, float4 f)
{
	union {
		float4 f;
		uint32 i;
	} swap;

	swap.f = f;
	pq_sendint32(buf, swap.i);
}

/* --- misc ----------------------------------------------------------------- */

/* bufpage.c's PageInit: an empty page with specialSize bytes of special space. */
void
PageInit(Page page, Size pageSize, Size specialSize)
{
	PageHeader p = (PageHeader) page;

	specialSize = MAXALIGN(specialSize);
	memset(p, 0, pageSize);
	p->pd_flags = 0;
	p->pd_lower = SizeOfPageHeaderData;
	p->pd_upper = pageSize - specialSize;
	p->pd_special = pageSize - specialSize;
	PageSetPageSizeAndVersion(page, pageSize, PG_PAGE_LAYOUT_VERSION);
}

int
pg_ltoa(int32 value, char *a)
{
	return snprintf(a, 12, "%d", value);
}

char *
unpack_sql_state(int sql_state)
{
	static char buf[12];

	for (int i = 0; i < 5; i++) {
		buf[i] = PGUNSIXBIT(sql_state);
		sql_state >>= 6;
	}
	buf[5] = '\0';
	return buf;
}

/* Plain 4-byte-header datums only (all the targets build); a 1-byte header is expanded. */
struct varlena *
pg_detoast_datum(struct varlena *datum)
{
	if (VARATT_IS_4B_U(datum))
		return datum;
	if (VARATT_IS_1B(datum) && !VARATT_IS_EXTERNAL(datum)) {
		Size n = VARSIZE_1B(datum) - VARHDRSZ_SHORT;
		struct varlena *r = (struct varlena *) palloc(n + VARHDRSZ);

		SET_VARSIZE(r, n + VARHDRSZ);
		memcpy(VARDATA(r), VARDATA_SHORT(datum), n);
		return r;
	}
	vx_fuzz_fail("pg_detoast_datum: compressed or external datum");
}

struct varlena *
pg_detoast_datum_copy(struct varlena *datum)
{
	struct varlena *d = pg_detoast_datum(datum);
	struct varlena *r = (struct varlena *) palloc(VARSIZE(d));

	memcpy(r, d, VARSIZE(d));
	return r;
}
}
