# item2vec: a SQLite extension that learns item embeddings from interaction
# tables.  `make` builds item2vec.so; see README.md for the other targets.

CC      ?= cc
PYTHON  ?= /usr/bin/python3
SQLITE3 ?= sqlite3

PKG_CFLAGS := $(shell pkg-config --cflags sqlite3 zlib 2>/dev/null)
WARN    := -Wall -Wextra
OPT     ?= -O2
CFLAGS  ?= $(OPT) -g
ALL_CFLAGS = $(CFLAGS) $(WARN) -std=gnu11 -fPIC -fvisibility=hidden -fopenmp-simd $(PKG_CFLAGS) $(EXTRA_CFLAGS)
LDLIBS  = -lz -lm -lpthread
LDFLAGS ?=

UNAME_S := $(shell uname -s)
ifeq ($(UNAME_S),Darwin)
  EXT := dylib
  SHARED := -dynamiclib
else
  EXT := so
  SHARED := -shared -Wl,--version-script=ext/item2vec.map
endif
LIB := item2vec.$(EXT)

# Layout (each file's header says what it serves):
#   ext/core/  the SQLite-free modules; the unit tests link them alone
#   ext/sql/   one file per SQL surface, plus sql/common.c (what they share)
#   ext/item2vec.c, ext/item2vec.map  the entry point and its export list
# Naming: a core module and the SQL file that serves it share one basename,
# the core module's, which is also its identifier prefix (i2v_<name>_...):
# core/train.c + sql/train.c (item2vec_train), core/eval.c + sql/eval.c
# (item2vec_evaluate), core/w2v.c + sql/w2v.c (item2vec_import/export),
# core/csv.c + sql/csv.c (item2vec_csv), core/hnsw.c + sql/hnsw.c
# (item2vec_index), core/pca.c + sql/pca.c (item2vec_project).  Sources
# include headers by their path under ext/ ("core/vocab.h"); objects mirror
# the folders (build/core/train.o, build/sql/train.o), so names cannot clash.
# core/libc.c (the plain allocator) is for tools and tests, not the library.
CORE_SRC := $(filter-out ext/core/libc.c,$(wildcard ext/core/*.c))
SQL_SRC  := ext/item2vec.c $(wildcard ext/sql/*.c)
HEADERS  := $(wildcard ext/core/*.h ext/sql/*.h)
BUILD    ?= build
CORE_OBJ := $(CORE_SRC:ext/%.c=$(BUILD)/%.o)
SQL_OBJ  := $(SQL_SRC:ext/%.c=$(BUILD)/%.o)
LIBC_OBJ := $(BUILD)/core/libc.o

# The trainer's inner loop and the scan gain from -O3 vectorisation.
$(BUILD)/core/train.o $(BUILD)/core/vec.o: OPT_FILE := -O3

.PHONY: all test unit demo bench clean test-asan test-valgrind lint format fuzz report \
        install uninstall

all: $(LIB)

$(BUILD)/%.o: ext/%.c $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Iext $(OPT_FILE) -c $< -o $@

$(BUILD):
	mkdir -p $(BUILD)

$(LIB): $(CORE_OBJ) $(SQL_OBJ) ext/item2vec.map
	$(CC) $(ALL_CFLAGS) $(SHARED) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LDLIBS)

$(BUILD)/test_core: tests/unit/test_core.c $(CORE_OBJ) $(LIBC_OBJ)
	$(CC) $(ALL_CFLAGS) -Iext -o $@ $^ $(LDLIBS)

$(BUILD)/test_eval: tests/unit/test_eval.c $(CORE_OBJ) $(LIBC_OBJ)
	$(CC) $(ALL_CFLAGS) -Iext -o $@ $^ $(LDLIBS)

# Unit tests of the approximate index (run by tests/sh/test_hnsw_unit.sh).
$(BUILD)/test_hnsw: tests/unit/test_hnsw.c $(CORE_OBJ) $(LIBC_OBJ)
	$(CC) $(ALL_CFLAGS) -Iext -o $@ $^ $(LDLIBS)

# The library built to ask for a SQLite from the future, so a test sees the
# version check refuse to load it (tests/sh/test_load_version.sh).
FUTURE_LIB := $(BUILD)/future/item2vec.$(EXT)
$(FUTURE_LIB): ext/item2vec.c $(filter-out $(BUILD)/item2vec.o,$(SQL_OBJ)) $(CORE_OBJ) ext/item2vec.map
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Iext -DI2V_MIN_SQLITE_VERSION=3999000 $(SHARED) $(LDFLAGS) -o $@ \
	  ext/item2vec.c $(filter %.o,$^) $(LDLIBS)

test: $(LIB) $(BUILD)/test_core $(BUILD)/test_eval $(BUILD)/test_hnsw $(BUILD)/i2v_oom $(FUTURE_LIB)
	@bash tests/run.sh

demo: $(LIB)
	@bash scripts/demo.sh

bench: $(LIB) $(BUILD)/bench_gen
	@bash scripts/bench.sh

# Bench tools: the planted-cluster generator (a program, so it links
# libsqlite3, which the extension does not) and a timer of the trainer alone.
$(BUILD)/bench_gen: bench/gen.c | $(BUILD)
	$(CC) $(CFLAGS) $(WARN) $(PKG_CFLAGS) -o $@ $< $(shell pkg-config --libs sqlite3 2>/dev/null || echo -lsqlite3) -lm

# The approximate index alone, for tuning it (see bench/hnsw_exp.c).
$(BUILD)/hnsw_exp: bench/hnsw_exp.c $(CORE_OBJ) $(LIBC_OBJ)
	$(CC) $(ALL_CFLAGS) -Iext -o $@ $^ $(LDLIBS)

$(BUILD)/bench_trainer: bench/trainer.c $(CORE_OBJ) $(LIBC_OBJ)
	$(CC) $(ALL_CFLAGS) -Iext -o $@ $^ $(LDLIBS)

# One self-contained HTML page about a model (map, loss, neighbours):
#   make report [DB=data/demo.db] [MODEL=default] [LABEL=movies.movieId.genres]
#               [NAME=movies.movieId.title] [OUT=report.html]
# Without DB it reports the demo's database, DEMO_DB, and builds that first
# as `make demo` does (ML_DIR, ML_ZIP, ...) when it is missing.  Without
# LABEL the map is coloured by the first genre when a table with a `genres`
# column joins the items (LABEL=none turns that off).
MODEL   ?= default
OUT     ?= report.html
DEMO_DB ?= data/demo.db
report: $(LIB)
	@db='$(or $(DB),$(DEMO_DB))'; \
	if [ -z '$(DB)' ] && [ ! -f "$$db" ]; then \
	  echo "make report: $$db is missing; building it as make demo does"; \
	  I2V_LIB='$(abspath $(basename $(LIB)))' I2V_DEMO_DB="$$db" bash scripts/demo.sh || exit 1; \
	  echo; fi; \
	I2V_LIB='$(abspath $(basename $(LIB)))' $(PYTHON) scripts/report.py --db "$$db" --model '$(MODEL)' \
	  $(if $(LABEL),--label '$(LABEL)') $(if $(NAME),--name '$(NAME)') --out '$(OUT)'

# Installing: the library goes to $(DESTDIR)$(LIBDIR), by default
# /usr/local/lib/item2vec.so, as autotools and CMake users expect (PREFIX sets
# the prefix, LIBDIR the folder, DESTDIR stages it for a package).  Load it
# with `.load /usr/local/lib/item2vec`, or `.load item2vec` where the dynamic
# loader searches that folder (LD_LIBRARY_PATH, or a PREFIX of /usr).
PREFIX  ?= /usr/local
LIBDIR  ?= $(PREFIX)/lib
INSTALL ?= install
install: $(LIB)
	$(INSTALL) -d "$(DESTDIR)$(LIBDIR)"
	$(INSTALL) -m 0644 "$(LIB)" "$(DESTDIR)$(LIBDIR)/$(notdir $(LIB))"

uninstall:
	rm -f "$(DESTDIR)$(LIBDIR)/$(notdir $(LIB))"

# Sanitizers: the whole suite against an ASan+UBSan build in build-asan/
# (LIB and BUILD overridable), and under valgrind memcheck (see
# docs/reliability.md for what runs under valgrind).
ASAN_CFLAGS ?= -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
               -fno-sanitize-recover=undefined
test-asan:
	$(MAKE) BUILD=build-asan LIB=build-asan/$(LIB) CFLAGS="$(ASAN_CFLAGS)" \
	  LDFLAGS="-fsanitize=address,undefined" build-asan/$(LIB) build-asan/i2v_oom \
	  build-asan/future/item2vec.$(EXT) \
	  build-asan/test_core build-asan/test_eval build-asan/test_hnsw
	I2V_SANITIZE=asan I2V_LIB=build-asan/item2vec I2V_UNIT=build-asan/test_core \
	  I2V_UNIT_EVAL=build-asan/test_eval I2V_BUILD=build-asan bash tests/run.sh

test-valgrind: $(LIB) $(BUILD)/i2v_oom $(BUILD)/test_core $(BUILD)/test_eval $(BUILD)/test_hnsw \
               $(FUTURE_LIB)
	I2V_SANITIZE=valgrind bash tests/run.sh

# The out-of-memory harness (tests/oom/i2v_oom.c): a program linked with
# SQLite that loads the extension and fails every allocation in turn.
$(BUILD)/i2v_oom: tests/oom/i2v_oom.c | $(BUILD)
	$(CC) $(CFLAGS) $(WARN) $(PKG_CFLAGS) -rdynamic -o $@ $< $(LDFLAGS) -lsqlite3

# Fuzzing with libFuzzer (clang): `make fuzz` builds each target of
# tests/fuzz/ and runs it FUZZ_SECONDS seconds (tests/fuzz/run.sh).
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 30
FUZZ_CFLAGS  ?= -g -O1 -std=gnu11 -fopenmp-simd -fsanitize=fuzzer,address,undefined \
                -DI2V_LOAD_PREALLOC_BYTES=4096 -Wno-pass-failed \
                -fno-sanitize-recover=undefined
FUZZ_TARGETS := options json model readers hnsw
FUZZ_SRC_options := ext/core/options.c ext/core/common.c ext/core/libc.c
FUZZ_SRC_json    := ext/core/json.c ext/core/vocab.c ext/core/random.c ext/core/common.c \
                    ext/core/libc.c
FUZZ_SRC_model   := $(CORE_SRC) $(SQL_SRC)
FUZZ_LIBS_model  := -lsqlite3 $(LDLIBS)
FUZZ_SRC_readers := ext/core/reader.c ext/core/csv.c ext/core/lines.c ext/core/w2v.c \
                    ext/core/vocab.c ext/core/random.c ext/core/common.c ext/core/libc.c
FUZZ_LIBS_readers := -lz
FUZZ_SRC_hnsw    := ext/core/hnsw.c ext/core/vec.c ext/core/topk.c ext/core/common.c \
                    ext/core/libc.c
FUZZ_LIBS_hnsw   := -lpthread

build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(HEADERS) $(CORE_SRC) $(SQL_SRC)
	@mkdir -p build-fuzz
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Iext $(PKG_CFLAGS) -o $@ $< $(FUZZ_SRC_$*) $(FUZZ_LIBS_$*) -lm

fuzz: $(FUZZ_TARGETS:%=build-fuzz/fuzz_%)
	bash tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

LINT_FILES = $(wildcard ext/*.c ext/*.h ext/core/*.c ext/core/*.h ext/sql/*.c ext/sql/*.h)
lint:
	cppcheck --quiet --enable=warning,performance,portability --error-exitcode=1 \
	  --suppress=missingIncludeSystem $(PKG_CFLAGS) -Iext ext/
	clang-format --dry-run --Werror $(LINT_FILES)

format:
	clang-format -i $(LINT_FILES)

clean:
	rm -rf build build-asan build-fuzz $(LIB) tests/out
