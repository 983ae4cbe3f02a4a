/*
 * types_text.cpp -- fuzz target: text input of vector, halfvec, sparsevec.
 *
 * Input: byte 0 picks the type (mod 3), byte 1 the typmod (FuzzTypmod), the
 * rest is the literal (up to the first NUL). Properties: the input function
 * either returns a valid value of the right dimensions or raises a clear
 * ERROR (never a crash, an out-of-bounds access, UB or an internal error);
 * and an accepted value's text output reads back to the same bytes.
 */
#include "types_common.h"

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

	if (size < 2)
		return 0;
	vx_fuzz_jmp = &jb;
	if (sigsetjmp(jb, 0) == 0) {
		int t = data[0] % 3;
		int32 typmod = FuzzTypmod(data[1]);
		char *lit = pnstrdup((const char *) data + 2, size - 2);
		Datum value = FuzzCallInput(kFuzzTypes[t].in, CStringGetDatum(lit), typmod);
		char *out;
		Datum again;

		FuzzCheckValue(t, value, typmod);
		out = DatumGetCString(FuzzCall1(kFuzzTypes[t].out, value));
		again = FuzzCallInput(kFuzzTypes[t].in, CStringGetDatum(out), typmod);
		FuzzCheckSame(t, value, again, "text output and input");
	} else
		vx_fuzz_check_error();
	vx_fuzz_jmp = nullptr;
	vx_fuzz_reset_memory();
	return 0;
}
