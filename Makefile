# PGXS build of the `vector` extension (a C++20 module).
#
#   make PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config && make install
#
# Every .cpp under src/ is part of the module; per-ISA kernel files get their
# own -m flags below and nothing else is built with them.

EXTENSION = vector
EXTVERSION = 0.8.1

MODULE_big = vector
SRCS = $(sort $(wildcard src/*.cpp src/*/*.cpp))
OBJS = $(SRCS:.cpp=.o)
HEADERS = $(wildcard include/vx/types/*.h)

DATA = $(wildcard sql/$(EXTENSION)--*--*.sql) sql/$(EXTENSION)--$(EXTVERSION).sql
EXTRA_CLEAN = sql/$(EXTENSION)--$(EXTVERSION).sql $(OBJS:.o=.d)


REGRESS = vector_input vector_functions vector_binary halfvec sparsevec bit cast aggregate btree simd_level \
	hnsw_vector hnsw_halfvec hnsw_sparsevec hnsw_bit hnsw_options hnsw_verify hnsw_ddl hnsw_limits hnsw_pack hnsw_cost \
	diskann_vector diskann_options diskann_labels
REGRESS_OPTS = --load-extension=$(EXTENSION)

PG_CONFIG ?= $(shell test -x /usr/lib/postgresql/15/bin/pg_config && echo /usr/lib/postgresql/15/bin/pg_config || echo pg_config)
PGXS := $(shell $(PG_CONFIG) --pgxs)

PG_CPPFLAGS += -I$(CURDIR)/include
PG_CXXFLAGS += -std=c++20 -fno-strict-aliasing -Wall -Wextra -Wno-missing-field-initializers -Wno-unused-parameter -Wno-register -Wno-cast-function-type
ifdef WERROR
PG_CXXFLAGS += -Werror
endif
# header dependencies (PGXS tracks none unless the server was configured with
# --enable-depend): each object also depends on the headers it included
PG_CXXFLAGS += -MMD -MP
SHLIB_LINK += -lstdc++ -lm

# JIT bitcode: PGXS compiles every source to LLVM bitcode for inlining when the
# server was built --with-llvm. Our SQL functions are C++ and gain nothing from
# inlining, and clang may be absent, so no bitcode is emitted.
override with_llvm = no

include $(PGXS)

# Per-ISA kernel translation units (the only files built with -m flags). Each
# set is exactly what src/kernels/dispatch.cpp checks before using the file;
# CMakeLists.txt reads these two lines, so keep their shape. Off x86-64 the
# files compile to nothing and get no flags.
ifneq ($(filter x86_64% amd64%,$(shell $(CXX) -dumpmachine)),)
src/kernels/avx2.o: override CXXFLAGS += -mavx2 -mfma -mf16c
src/kernels/avx512.o: override CXXFLAGS += -mavx512f -mavx512bw -mavx512dq -mavx512vl -mavx2 -mfma -mf16c
endif

sql/$(EXTENSION)--$(EXTVERSION).sql: sql/$(EXTENSION).sql
	cp $< $@

all: sql/$(EXTENSION)--$(EXTVERSION).sql

-include $(OBJS:.o=.d)

print-%:
	@echo $($*)
