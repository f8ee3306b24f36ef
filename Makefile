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

# Core modules include no SQLite header; the unit tests link them alone.
CORE_SRC := ext/i2v_options.c ext/i2v_vocab.c ext/i2v_vec.c ext/i2v_topk.c \
            ext/i2v_json.c ext/i2v_train.c \
            ext/i2v_reader.c ext/i2v_csvtok.c ext/i2v_w2vfile.c \
            ext/i2v_eval.c ext/i2v_pca.c ext/i2v_hnsw.c
SQL_SRC  := ext/item2vec.c ext/i2v_source.c ext/i2v_store.c ext/i2v_similar.c \
            ext/i2v_train_sql.c \
            ext/i2v_csv.c ext/i2v_w2v.c \
            ext/i2v_evaluate.c ext/i2v_project.c
SQL_SRC  += ext/i2v_update.c
# The approximate index (item2vec_index).
SQL_SRC  += ext/i2v_index.c
HEADERS  := $(wildcard ext/*.h)
BUILD    ?= build
CORE_OBJ := $(CORE_SRC:ext/%.c=$(BUILD)/%.o)
SQL_OBJ  := $(SQL_SRC:ext/%.c=$(BUILD)/%.o)

# The trainer's inner loop and the scan gain from -O3 vectorisation.
$(BUILD)/i2v_train.o $(BUILD)/i2v_vec.o: OPT_FILE := -O3

.PHONY: all test unit demo bench clean test-asan test-valgrind lint format fuzz report

all: $(LIB)

$(BUILD)/%.o: ext/%.c $(HEADERS) | $(BUILD)
	$(CC) $(ALL_CFLAGS) $(OPT_FILE) -c $< -o $@

$(BUILD):
	mkdir -p $(BUILD)

$(LIB): $(CORE_OBJ) $(SQL_OBJ) ext/item2vec.map
	$(CC) $(ALL_CFLAGS) $(SHARED) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LDLIBS)

$(BUILD)/test_core: tests/unit/test_core.c $(CORE_OBJ) $(BUILD)/i2v_libc.o
	$(CC) $(ALL_CFLAGS) -Iext -o $@ $^ $(LDLIBS)

$(BUILD)/test_eval: tests/unit/test_eval.c $(CORE_OBJ) $(BUILD)/i2v_libc.o
	$(CC) $(ALL_CFLAGS) -Iext -o $@ $^ $(LDLIBS)

# Unit tests of the approximate index (run by tests/sh/test_hnsw_unit.sh).
$(BUILD)/test_hnsw: tests/unit/test_hnsw.c $(CORE_OBJ) $(BUILD)/i2v_libc.o
	$(CC) $(ALL_CFLAGS) -Iext -o $@ $^ $(LDLIBS)

test: $(LIB) $(BUILD)/test_core $(BUILD)/test_eval $(BUILD)/test_hnsw $(BUILD)/i2v_oom
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
$(BUILD)/hnsw_exp: bench/hnsw_exp.c $(CORE_OBJ) $(BUILD)/i2v_libc.o
	$(CC) $(ALL_CFLAGS) -Iext -o $@ $^ $(LDLIBS)

$(BUILD)/bench_trainer: bench/trainer.c $(CORE_OBJ) $(BUILD)/i2v_libc.o
	$(CC) $(ALL_CFLAGS) -Iext -o $@ $^ $(LDLIBS)

# One self-contained HTML page about a model (map, loss, neighbours):
#   make report DB=movies.db [MODEL=default] [LABEL=movies.movieId.genres]
#               [NAME=movies.movieId.title] [OUT=report.html]
#   make report ML_DIR=path/to/ml-latest-small   (builds build/movielens.db)
MODEL ?= default
OUT   ?= report.html
report: $(LIB)
	@if [ -z "$(DB)" ] && [ -z "$(ML_DIR)" ]; then \
	  echo "make report: give DB=database.db (with a trained model) or ML_DIR=ml-latest-small"; exit 2; fi
	$(PYTHON) scripts/report.py $(if $(DB),--db "$(DB)",--movielens "$(ML_DIR)") --model "$(MODEL)" \
	  $(if $(LABEL),--label "$(LABEL)") $(if $(NAME),--name "$(NAME)") --out "$(OUT)"

# Sanitizers: the whole suite against an ASan+UBSan build in build-asan/
# (LIB and BUILD overridable), and under valgrind memcheck (see README,
# "Reliability", for what runs under valgrind).
ASAN_CFLAGS ?= -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
               -fno-sanitize-recover=undefined
test-asan:
	$(MAKE) BUILD=build-asan LIB=build-asan/$(LIB) CFLAGS="$(ASAN_CFLAGS)" \
	  LDFLAGS="-fsanitize=address,undefined" build-asan/$(LIB) build-asan/i2v_oom \
	  build-asan/test_core build-asan/test_eval build-asan/test_hnsw
	I2V_SANITIZE=asan I2V_LIB=build-asan/item2vec I2V_UNIT=build-asan/test_core \
	  I2V_UNIT_EVAL=build-asan/test_eval I2V_BUILD=build-asan bash tests/run.sh

test-valgrind: $(LIB) $(BUILD)/i2v_oom $(BUILD)/test_core $(BUILD)/test_eval $(BUILD)/test_hnsw
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
FUZZ_TARGETS := options json model readers
FUZZ_SRC_options := ext/i2v_options.c ext/i2v_libc.c
FUZZ_SRC_json    := ext/i2v_json.c ext/i2v_vocab.c ext/i2v_libc.c
FUZZ_SRC_model   := $(CORE_SRC) $(SQL_SRC)
FUZZ_LIBS_model  := -lsqlite3 $(LDLIBS)
FUZZ_SRC_readers := ext/i2v_reader.c ext/i2v_csvtok.c ext/i2v_w2vfile.c ext/i2v_vocab.c \
                    ext/i2v_libc.c
FUZZ_LIBS_readers := -lz

build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(HEADERS) $(CORE_SRC) $(SQL_SRC)
	@mkdir -p build-fuzz
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Iext $(PKG_CFLAGS) -o $@ $< $(FUZZ_SRC_$*) $(FUZZ_LIBS_$*) -lm

fuzz: $(FUZZ_TARGETS:%=build-fuzz/fuzz_%)
	bash tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

lint:
	cppcheck --quiet --enable=warning,performance,portability --error-exitcode=1 \
	  --suppress=missingIncludeSystem $(PKG_CFLAGS) ext/
	clang-format --dry-run --Werror ext/*.c ext/*.h

format:
	clang-format -i ext/*.c ext/*.h

clean:
	rm -rf build build-asan build-fuzz $(LIB) tests/out
