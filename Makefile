# PGXS build of the `vector` extension (a C++20 module).
#
#   make PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config && make install
#
# Every .cpp under src/ is part of the module; per-ISA kernel files get their
# own -m flags below and nothing else is built with them.

EXTENSION = vector
EXTVERSION = 0.8.6

MODULE_big = vector
SRCS = $(sort $(wildcard src/*.cpp src/*/*.cpp))
OBJS = $(SRCS:.cpp=.o)
# The C headers other extensions include to read our datums, installed (like
# pgvector's) as $(includedir_server)/extension/vector/{vector,halfvec,sparsevec}.h
HEADERS = include/extension/vector/vector.h include/extension/vector/halfvec.h include/extension/vector/sparsevec.h

# Every released version an existing database may carry: pgvector's releases
# (0.1.2 is listed too: its tarball's control file named 0.1.1, fixed in
# 0.1.3, and a database created from a git checkout may say 0.1.2) and our own
# earlier 0.8.1. Each gets one generated script straight to $(EXTVERSION);
# see tools/gen_upgrade.pl for why one step suits every start.
UPGRADE_FROM = 0.1.0 0.1.1 0.1.2 0.1.3 0.1.4 0.1.5 0.1.6 0.1.7 0.1.8 \
	0.2.0 0.2.1 0.2.2 0.2.3 0.2.4 0.2.5 0.2.6 0.2.7 0.3.0 0.3.1 0.3.2 \
	0.4.0 0.4.1 0.4.2 0.4.3 0.4.4 0.5.0 0.5.1 0.6.0 0.6.1 0.6.2 \
	0.7.0 0.7.1 0.7.2 0.7.3 0.7.4 0.8.0 0.8.1 0.8.2 0.8.3 0.8.4 0.8.5
UPGRADE_SCRIPTS = $(foreach v,$(UPGRADE_FROM),sql/$(EXTENSION)--$(v)--$(EXTVERSION).sql)

DATA = sql/$(EXTENSION)--$(EXTVERSION).sql $(UPGRADE_SCRIPTS)
EXTRA_CLEAN = sql/$(EXTENSION)--$(EXTVERSION).sql $(UPGRADE_SCRIPTS) $(OBJS:.o=.d)


REGRESS = vector_input vector_functions vector_binary halfvec sparsevec bit cast aggregate btree simd_level \
	hnsw_vector hnsw_halfvec hnsw_sparsevec hnsw_bit hnsw_options hnsw_verify hnsw_ddl hnsw_limits hnsw_pack hnsw_cost \
	diskann_vector diskann_options diskann_labels \
	ivfflat_vector ivfflat_halfvec ivfflat_bit ivfflat_options
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

UPGRADE_DEPS = tools/gen_upgrade.pl sql/$(EXTENSION).sql sql/upgrade/pre.sql sql/upgrade/post.sql $(EXTENSION).control

sql/$(EXTENSION)--%--$(EXTVERSION).sql: $(UPGRADE_DEPS)
	perl tools/gen_upgrade.pl $* $(EXTVERSION) sql/$(EXTENSION).sql sql/upgrade/pre.sql sql/upgrade/post.sql $(EXTENSION).control > $@.tmp
	mv $@.tmp $@

all: sql/$(EXTENSION)--$(EXTVERSION).sql $(UPGRADE_SCRIPTS)

-include $(OBJS:.o=.d)

print-%:
	@echo $($*)

# Test only: install scripts that rebuild each earlier version's catalog
# (test/upgrade/rewind.sql), for TAP 050's update-vs-fresh comparison.
# stage.sh installs them into the private test stage; never shipped.
install-upgrade-bases: sql/$(EXTENSION)--$(EXTVERSION).sql
	rm -rf .tmp/upgrade-bases && mkdir -p .tmp/upgrade-bases
	perl test/upgrade/make_bases.pl sql/$(EXTENSION).sql test/upgrade/rewind.sql .tmp/upgrade-bases
	$(INSTALL_DATA) .tmp/upgrade-bases/*.sql '$(DESTDIR)$(datadir)/extension/'

.PHONY: install-upgrade-bases
