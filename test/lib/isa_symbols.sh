#!/bin/bash
# isa_symbols.sh OBJECT_OR_ARCHIVE... -- ODR check for the per-ISA kernel objects.
#
# avx2.o and avx512.o are compiled with extra -m flags. If one of them emits
# an out-of-line copy of an inline function (a weak symbol) that another
# object also emits, the linker keeps one copy for all callers and baseline
# code may end up executing AVX-512 instructions. Fails if any symbol defined
# in an object whose name contains "avx" is defined by another object too.
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: isa_symbols.sh FILE..." >&2; exit 2; }
nm -A --defined-only "$@" | awk '
	{
		# $1 is "file.o:addr" or "lib.a:member.o:addr"; only external symbols matter
		n = split($1, p, ":"); obj = p[n - 1]; type = $(NF - 1); sym = $NF
		if (type !~ /^[A-Zu]$/ || sym == "DW.ref.__gxx_personality_v0") next
		n = split(obj, q, "/"); obj = q[n]
		if (!((sym, obj) in seen)) { seen[sym, obj] = 1; objs[sym] = objs[sym] " " obj; count[sym]++ }
		if (obj ~ /avx/) isa[sym] = 1
	}
	END {
		bad = 0
		for (s in isa) if (count[s] > 1) { print "shared symbol in ISA object:" objs[s] ": " s; bad = 1 }
		if (bad) exit 1
		print "isa_symbols: ok"
	}'
