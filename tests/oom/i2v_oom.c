/*
** i2v_oom.c: the out-of-memory test of item2vec.
**
**   build/i2v_oom ./item2vec.so            every scenario, both modes
**   build/i2v_oom ./item2vec.so train      scenarios whose name has "train"
**   I2V_OOM_STEP=7 I2V_OOM_TRANSIENT_ONLY=1 build/i2v_oom ...   a sample
**   I2V_OOM_N=40 [I2V_OOM_PERSISTENT=1 | I2V_OOM_INTERRUPT=1] [I2V_OOM_TRACE=1]
**                                                         ...   one run, shown
**
** How it works.  SQLite's allocator is replaced (SQLITE_CONFIG_MALLOC) by a
** wrapper around the default one that counts the live allocations and, once
** armed with N, makes the Nth allocation from then on fail: only that one
** ("transient") or that one and every later one ("persistent").  item2vec
** allocates through sqlite3_malloc64, so its allocations pass through the
** wrapper like SQLite's own.  For each scenario, mode and N = 1, 2, ... the
** harness opens a fresh in-memory database, sets it up unarmed (load the
** extension, create a source table, train the model the scenario starts from),
** arms the wrapper, runs the scenario's statements, disarms, and checks:
**   - the statements either succeed with exactly the output of the run
**     without faults, or fail with SQLITE_NOMEM or a message that says
**     "out of memory" (or, for scenarios that test an error path, the error
**     the run without faults gets);
**   - the database afterwards holds the old model or the new one, whole
**     (a "check" query is compared with its output before and after the
**     fault-free run);
**   - sqlite3_close succeeds (no statement left open) and the number of
**     live allocations is back to what it was before sqlite3_open (no leak).
** N grows until a run makes fewer than N allocations, so every allocation of
** every path is made to fail once.  Crashes and memory errors are left to
** the sanitizer the harness runs under (tests/run.sh preloads ASan for
** `make test-asan`).  Output: one "ok - ..."/"not ok - ..." line per
** scenario and mode, in the test runner's protocol, then a total.
*/
#include <execinfo.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- the failing allocator ---------------------------------------------- */

typedef struct fault_state {
  sqlite3_mem_methods base; /* SQLite's default allocator */
  long countdown;           /* allocations left before the failing one; <0 off */
  int persistent;           /* keep failing after the first fault */
  int failing;              /* the first fault happened (persistent mode) */
  long injected;            /* faults injected since armed */
  long allocations;         /* allocations since armed */
  long live;                /* allocations not yet freed */
} fault_state;

/* SQLite's allocator callbacks take no context pointer, so this one state
** (the harness's, not the extension's) is file-level. */
static fault_state g_fault = {.countdown = -1};

static int fault_now(void) {
  fault_state *f = &g_fault;
  if (f->countdown < 0) return 0;
  __atomic_add_fetch(&f->allocations, 1, __ATOMIC_RELAXED);
  if (f->failing) {
    __atomic_add_fetch(&f->injected, 1, __ATOMIC_RELAXED);
    return 1;
  }
  if (__atomic_sub_fetch(&f->countdown, 1, __ATOMIC_RELAXED) == 0) {
    __atomic_add_fetch(&f->injected, 1, __ATOMIC_RELAXED);
    if (getenv("I2V_OOM_TRACE")) { /* debugging: where the fault hits */
      void *frames[32];
      backtrace_symbols_fd(frames, backtrace(frames, 32), 2);
    }
    if (f->persistent) f->failing = 1;
    else f->countdown = -1;
    return 1;
  }
  return 0;
}

static void *fault_malloc(int n) {
  if (fault_now()) return NULL;
  void *p = g_fault.base.xMalloc(n);
  if (p) __atomic_add_fetch(&g_fault.live, 1, __ATOMIC_RELAXED);
  return p;
}

static void fault_free(void *p) {
  if (!p) return;
  __atomic_sub_fetch(&g_fault.live, 1, __ATOMIC_RELAXED);
  g_fault.base.xFree(p);
}

static void *fault_realloc(void *p, int n) {
  if (fault_now()) return NULL;
  return g_fault.base.xRealloc(p, n);
}

static int fault_size(void *p) { return g_fault.base.xSize(p); }
static int fault_roundup(int n) { return g_fault.base.xRoundup(n); }
static int fault_init(void *x) { return g_fault.base.xInit(x); }
static void fault_shutdown(void *x) { g_fault.base.xShutdown(x); }

static void arm(long n, int persistent) {
  g_fault.injected = 0;
  g_fault.allocations = 0;
  g_fault.failing = 0;
  g_fault.persistent = persistent;
  __atomic_store_n(&g_fault.countdown, n, __ATOMIC_SEQ_CST);
}

static void disarm(void) { __atomic_store_n(&g_fault.countdown, -1, __ATOMIC_SEQ_CST); g_fault.failing = 0; }

/* ---- interrupts at every point: a progress handler ------------------------- */

/* The third mode: instead of an allocation, the Nth call of a progress
** handler (every VM step of any statement of the connection, nested ones
** included) and every later one interrupt, as a persistent sqlite3_interrupt
** does but at a chosen point. */
typedef struct interrupt_state {
  long countdown; /* calls before the first interrupt; <0 off */
  long calls, fired;
} interrupt_state;
static interrupt_state g_interrupt = {.countdown = -1};

static int progress_cb(void *arg) {
  interrupt_state *st = arg;
  st->calls++;
  if (st->countdown < 0) return 0;
  if (st->countdown > 1) {
    st->countdown--;
    return 0;
  }
  st->countdown = 1; /* from now on, every call */
  st->fired++;
  return 1;
}

/* ---- transcripts of statements (plain malloc: not SQLite's heap) ---------- */

typedef struct text {
  char *s;
  size_t n, cap;
} text;

static void text_add(text *t, const char *fmt, ...) {
  va_list ap;
  for (;;) {
    size_t room = t->cap - t->n;
    va_start(ap, fmt);
    int w = vsnprintf(t->s ? t->s + t->n : NULL, room, fmt, ap);
    va_end(ap);
    if (w < 0) abort();
    if ((size_t)w < room) {
      t->n += (size_t)w;
      return;
    }
    size_t nc = (t->cap + (size_t)w + 1) * 2;
    char *s = realloc(t->s, nc);
    if (!s) abort();
    t->s = s;
    t->cap = nc;
  }
}

static void text_free(text *t) {
  free(t->s);
  memset(t, 0, sizeof(*t));
}

/* The end of the statement starting at sql: past its ';' (outside quotes). */
static const char *statement_end(const char *sql) {
  char quote = 0;
  for (const char *p = sql; *p; p++) {
    if (quote) {
      if (*p == quote) quote = 0;
    } else if (*p == '\'' || *p == '"') {
      quote = *p;
    } else if (*p == ';') {
      return p + 1;
    }
  }
  return sql + strlen(sql);
}

/* Run one statement (from *tail, which moves past it), appending its rows
** to out, or "ERROR code message"; returns its error code. */
static int run_one(sqlite3 *db, const char **tail, text *out) {
  const char *start = *tail, *end = statement_end(start);
  *tail = end;
  {
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, start, (int)(end - start), &st, NULL);
    if (rc != SQLITE_OK) {
      text_add(out, "ERROR %d %s\n", sqlite3_extended_errcode(db) & 0xff, sqlite3_errmsg(db));
      return rc;
    }
    if (!st) return SQLITE_OK; /* blank or comment */
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      int nc = sqlite3_column_count(st);
      for (int i = 0; i < nc; i++) {
        /* Numbers are formatted here: converting them to text would be an
        ** allocation of the harness's own, failing after the fact. */
        int type = sqlite3_column_type(st, i);
        if (i) text_add(out, "|");
        if (type == SQLITE_INTEGER) {
          text_add(out, "%lld", (long long)sqlite3_column_int64(st, i));
        } else if (type == SQLITE_FLOAT) {
          text_add(out, "%.6g", sqlite3_column_double(st, i));
        } else if (type == SQLITE_NULL) {
          text_add(out, "NULL");
        } else {
          const unsigned char *v = type == SQLITE_TEXT ? sqlite3_column_text(st, i)
                                                       : sqlite3_column_blob(st, i);
          if (!v && sqlite3_column_bytes(st, i) > 0) {
            rc = SQLITE_NOMEM;
            break;
          }
          text_add(out, "%.*s", sqlite3_column_bytes(st, i), v ? (const char *)v : "");
        }
      }
      if (rc == SQLITE_NOMEM) break;
      text_add(out, "\n");
    }
    if (rc != SQLITE_DONE) {
      if (rc == SQLITE_NOMEM)
        text_add(out, "ERROR %d out of memory\n", SQLITE_NOMEM);
      else
        text_add(out, "ERROR %d %s\n", sqlite3_extended_errcode(db) & 0xff,
                 sqlite3_errmsg(db));
      sqlite3_finalize(st);
      return rc == SQLITE_ROW ? SQLITE_ERROR : rc;
    }
    rc = sqlite3_finalize(st);
    if (rc != SQLITE_OK) {
      text_add(out, "ERROR %d %s\n", rc & 0xff, sqlite3_errmsg(db));
      return rc;
    }
  }
  return SQLITE_OK;
}

/* Run every statement of sql; stop at the first error unless keep_going.
** Returns the first error code, 0 when all succeeded. */
static int run_sql(sqlite3 *db, const char *sql, text *out, int keep_going) {
  const char *tail = sql;
  int first = SQLITE_OK;
  while (tail && *tail) {
    int rc = run_one(db, &tail, out);
    if (rc != SQLITE_OK) {
      if (first == SQLITE_OK) first = rc;
      if (!keep_going) break;
    }
  }
  return first;
}

/* Drop the "no such table: item2vec_..." lines of a check transcript. */
static void drop_missing_tables(text *t) {
  if (!t->s) return;
  char *r = t->s, *w = t->s;
  while (*r) {
    char *e = strchr(r, '\n');
    size_t n = e ? (size_t)(e - r) + 1 : strlen(r);
    if (strncmp(r, "ERROR 1 no such table: item2vec_", 32) != 0) {
      memmove(w, r, n);
      w += n;
    }
    r += n;
  }
  *w = 0;
  t->n = (size_t)(w - t->s);
}

/* ---- scenarios ------------------------------------------------------------ */

/* The source: 40 users with 6 items each among 30, integers and text. */
static const char source_sql[] =
    "CREATE TABLE src(u INTEGER, i, t INTEGER);"
    "WITH RECURSIVE n(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM n WHERE x < 239)"
    " INSERT INTO src SELECT x / 6, CASE WHEN x % 5 = 0 THEN 'item' || ((x * 7) % 30)"
    " ELSE (x * 7) % 30 END, 240 - x FROM n;"
    "INSERT INTO src VALUES (NULL, 1, 0), (3, NULL, 0);";

static const char train_old[] =
    "SELECT item2vec_train('src', 'u', 'i', 'model=m', 'vector_size=8', "
    "'epochs=1', 'workers=1', 'seed=3', 'save_context=1', 'verbose=0') IS NOT NULL;";

/* The state a model check compares: one line per model, the hash of its
** vectors written out by SQLite itself.  The tables may be missing (run with
** keep-going; a missing table reads as no rows, since a failed first training
** may leave them created and empty). */
static const char check_models[] =
    "SELECT name, dim, items FROM item2vec_models ORDER BY name;"
    "SELECT model, count(*), sum(frequency), group_concat(hex(vector), '') "
    " FROM item2vec_vectors GROUP BY model ORDER BY model;"
    "SELECT model, count(*), group_concat(hex(vector), '') "
    " FROM item2vec_context GROUP BY model ORDER BY model;"
    "SELECT model, count(*), sum(weight) FROM item2vec_pairs GROUP BY model ORDER BY model;";

/* What item2vec_drop removes: the model tables, its pairs and its index. */
static const char check_drop[] =
    "SELECT name, dim, items FROM item2vec_models ORDER BY name;"
    "SELECT model, count(*), sum(frequency) FROM item2vec_vectors GROUP BY model ORDER BY model;"
    "SELECT model, count(*) FROM item2vec_context GROUP BY model ORDER BY model;"
    "SELECT model, count(*), sum(weight) FROM item2vec_pairs GROUP BY model ORDER BY model;"
    "SELECT model, count(*) FROM item2vec_index GROUP BY model ORDER BY model;";

/* Models written by hand (tests/sql/models_load.sql has the same): rows in
** insertion order, '1' and 1 stored twice (the second copy of 2 malformed),
** and a model whose malformed row is not such a copy. */
static const char hand_sql[] =
    "CREATE TABLE item2vec_models(name TEXT PRIMARY KEY, dim INTEGER NOT NULL, "
    " items INTEGER NOT NULL, source TEXT, params TEXT, stats TEXT, created_at TEXT);"
    "CREATE TABLE item2vec_vectors(model TEXT NOT NULL, item, frequency INTEGER NOT NULL, "
    " vector BLOB NOT NULL);"
    "INSERT INTO item2vec_models(name, dim, items) VALUES ('dups', 2, 1), ('badrow', 2, 3);"
    "INSERT INTO item2vec_vectors VALUES ('dups', '1', 10, x'0000803f00000000'),"
    " ('dups', 1, 11, x'000000000000803f'), ('dups', 2, 12, x'9a99193fcdcc4c3f'),"
    " ('dups', 2.0, 13, x'00'), ('dups', 'x', 14, x'cdcc4c3f9a99193f'),"
    " ('dups', 3, 15, x'000000000000803f'), ('dups', 4, 17, x'000080bf00000000'),"
    " ('badrow', 1, 1, x'0000803f00000000'), ('badrow', '1', 1, x'00'),"
    " ('badrow', 2, 1, x'00000000');";

/* Databases the runs start from, built once and copied into each run's
** connection (sqlite3_deserialize), so no run pays for the setup. */
enum { IMAGE_EMPTY, IMAGE_SOURCE, IMAGE_MODEL, IMAGE_HAND, N_IMAGES };

/* Exports and imports through files in the temporary folder (the paths
** are filled in by main, which also writes the files the imports read). */
static char w2v_export_sql[800], w2v_import_txt_sql[512], w2v_import_bin_sql[512];
static char w2v_txt[256], w2v_bin[256];

/* The stored index (its table may be missing, as with check_models). */
static const char check_index[] =
    "SELECT model, count(*), sum(length(data)), hex(substr(group_concat(data), 1, 64)) "
    " FROM item2vec_index GROUP BY model;";

typedef struct scenario {
  const char *name;
  int load_armed;    /* load the extension while armed */
  int image;         /* the database it starts from: IMAGE_* */
  const char *armed; /* the statements under test */
  const char *check; /* unarmed, before and after; NULL: none */
  int keep_going;    /* run every statement even after an error */
} scenario;

static const scenario scenarios[] = {
    {"load", 1, IMAGE_EMPTY,
     "SELECT item2vec_version() IS NOT NULL;", NULL, 0},
    {"train-new", 0, IMAGE_SOURCE,
     "SELECT item2vec_train('src', 'u', 'i', 'vector_size=8', "
     "'epochs=1', 'workers=1', 'order_by=t', 'verbose=0') IS NOT NULL;",
     check_models, 0},
    {"train-replace", 0, IMAGE_MODEL,
     "SELECT item2vec_train('main.src', 'u', 'i', 'model=m', "
     "'vector_size=8', 'epochs=1', 'workers=1', 'seed=9', 'sg=0', "
     "'save_context=1', 'verbose=0') IS NOT NULL;",
     check_models, 0},
    {"recommend", 0, IMAGE_MODEL,
     "SELECT rank, item, round(score, 4) FROM recommend_items(1, 3, 'm');"
     "SELECT count(*) FROM (SELECT DISTINCT u FROM src WHERE u IS NOT NULL) AS x,"
     " recommend_items(x.u, 2, 'm') AS r;"
     "SELECT item FROM recommend_items(NULL, 3, 'm') WHERE history = '[1, \"item0\", 2]';"
     "SELECT item FROM recommend_items(2, 3, 'm') WHERE exclude = '[3]' AND"
     " only = '[4, 5, 6, 7, 8, \"item5\"]' AND min_frequency = 1 AND seen = 1;",
     NULL, 0},
    {"query", 0, IMAGE_MODEL,
     "SELECT rank, item, round(similarity, 4) FROM similar_items(1, 3, 'm');"
     "SELECT item FROM similar_items('[1, \"item0\", 2.0, \"x\\u00e9\"]', 2, 'm');"
     "SELECT item FROM similar_items('{\"positive\":[1,2],\"negative\":3}', 2, 'm');"
     "SELECT round(item2vec_similarity(1, '2', 'm'), 4), item2vec_similarity(1, 999, 'm');"
     "SELECT length(item2vec_vector(1, 'm')), item2vec_to_json(item2vec_vector('item0', 'm')) IS NOT NULL;"
     "SELECT m.i, s.rank FROM (SELECT 4 AS i UNION ALL SELECT 5) AS m, similar_items(m.i, 2, 'm') AS s;"
     "SELECT item, round(similarity, 4) FROM similar_items(1, 3, 'm') WHERE score = 'context';"
     "SELECT count(*) FROM similar_items('[1, 2]', 3, 'm', '[3]') WHERE score = 'context';"
     "SELECT item FROM similar_items(1, 4, 'm') WHERE min_frequency = 8;"
     "SELECT item FROM similar_items('[\"item0\", 3]', 3, 'm', 'item5') "
     " WHERE only = '[4, 5, 6, 7, \"item10\"]' AND min_frequency = 2;"
     "SELECT count(*) FROM similar_items(1, 3, 'm') WHERE score = 'context' AND min_frequency = 9;"
     "SELECT item, round(similarity, 4) FROM similar_items(item2vec_vector(2, 'm'), 3, 'm');"
     "SELECT m.i, s.item FROM (SELECT 'item0' AS i UNION ALL SELECT json_array(4)) AS m, "
     " similar_items(m.i, 2, 'm') AS s;",
     NULL, 0},
    {"update", 0, IMAGE_MODEL,
     "SELECT item2vec_train('src', 'u', 'i', 'model=m', 'update=1', 'workers=1', "
     "'verbose=0') IS NOT NULL;",
     check_models, 0},
    {"csv", 0, IMAGE_EMPTY,
     "CREATE VIRTUAL TABLE temp.a USING item2vec_csv(path='tests/data/ratings.csv.gz');"
     "SELECT count(*), sum(rating), max(timestamp) FROM temp.a;"
     "CREATE VIRTUAL TABLE temp.b USING item2vec_csv(path='tests/data/small.zip', "
     "member='small/movies.csv');"
     "SELECT count(*), max(title) FROM temp.b;",
     NULL, 0},
    {"lines", 0, IMAGE_EMPTY,
     "CREATE VIRTUAL TABLE temp.p USING item2vec_lines(path='tests/data/playlists.txt.gz');"
     "SELECT count(*), count(DISTINCT line), sum(item), max(position) FROM temp.p;"
     "CREATE VIRTUAL TABLE temp.z USING item2vec_lines(path='tests/data/playlists.zip', "
     "member='train.txt');"
     "SELECT count(*), max(item) FROM temp.z WHERE line > 50;",
     NULL, 0},
    {"w2v-export", 0, IMAGE_MODEL, w2v_export_sql, NULL, 0},
    {"w2v-import-text", 0, IMAGE_MODEL, w2v_import_txt_sql, check_models, 0},
    {"w2v-import-binary-gz", 0, IMAGE_MODEL, w2v_import_bin_sql, check_models, 0},
    {"evaluate", 0, IMAGE_MODEL,
     "SELECT json_extract(e, '$.users'), json_extract(e, '$.items'), "
     " json_extract(e, '$.popularity.coverage'), json_extract(e, '$.loss[0]') "
     " FROM (SELECT item2vec_evaluate('src', 'u', 'i', 'order_by=t', 'vector_size=8', "
     " 'epochs=1', 'workers=1', 'verbose=0') AS e);",
     check_models, 0},
    {"project", 0, IMAGE_MODEL,
     "SELECT count(*), round(sum(x * x), 3), round(max(variance), 3) "
     " FROM item2vec_project('m', 2);",
     NULL, 0},
    {"index-build", 0, IMAGE_MODEL,
     "SELECT item2vec_index('m', 'threads=1', 'M=4', 'ef_construction=16') IS NOT NULL;",
     check_index, 0},
    {"index", 0, IMAGE_MODEL,
     "SELECT json_extract(item2vec_index('m', 'threads=1', 'M=4', 'ef_construction=16'), "
     " '$.items');"
     "SELECT count(*), min(rank) FROM similar_items(1, 5, 'm');"
     "SELECT count(*) FROM similar_items('[1, 2]', 3, 'm') WHERE ef = 8;"
     "SELECT item FROM similar_items(1, 4, 'm') WHERE min_frequency = 8 AND ef = 1;"
     "SELECT count(*) FROM similar_items(1, 4, 'm') WHERE min_frequency = 9;"
     "SELECT count(*) FROM similar_items(item2vec_vector(3, 'm'), 5, 'm');",
     NULL, 0},
    {"drop", 0, IMAGE_MODEL, "SELECT item2vec_drop('m');", check_drop, 0},
    {"drop-unknown", 0, IMAGE_MODEL, "SELECT item2vec_drop('nosuch');", check_drop, 1},
    {"hand-model", 0, IMAGE_HAND,
     "SELECT group_concat(quote(item)), round(sum(similarity), 4) FROM similar_items(2, 10, 'dups');"
     "SELECT round(item2vec_similarity(1, 3, 'dups'), 4);"
     "SELECT * FROM similar_items(1, 10, 'badrow');",
     NULL, 1},
    {"errors", 0, IMAGE_MODEL,
     "SELECT * FROM recommend_items(NULL, 3, 'm') WHERE history = '[1,';"
     "SELECT * FROM recommend_items(1, 3, 'nosuch');"
     "SELECT * FROM recommend_items(1, 0, 'm');"
     "SELECT item2vec_train('nosuch', 'u', 'i');"
     "SELECT item2vec_train('src', 'u', 'nosuch');"
     "SELECT item2vec_train('src', 'u', 'i', 'windw=3');"
     "SELECT item2vec_train('src', 'u', 'i', 'min_count=1000');"
     "SELECT * FROM similar_items('[1,', 3, 'm');"
     "SELECT * FROM similar_items(1, 3, 'nosuch');"
     "SELECT * FROM similar_items(x'0000803f', 3, 'm');"
     "SELECT * FROM similar_items('[item', 3, 'm');"
     "SELECT * FROM similar_items(1, 3, 'm') WHERE min_frequency = -1;"
     "SELECT item2vec_to_json(x'0102');",
     check_models, 1},
};
#define N_SCENARIOS ((int)(sizeof(scenarios) / sizeof(scenarios[0])))

typedef struct image {
  unsigned char *data; /* plain malloc */
  sqlite3_int64 n;
} image;
static image g_images[N_IMAGES];

/* Build the images: the source table, then the source and model 'm', then
** the models written by hand. */
static int make_images(const char *lib) {
  for (int k = IMAGE_SOURCE; k < N_IMAGES; k++) {
    sqlite3 *db = NULL;
    text out = {0};
    char *err = NULL;
    int rc = sqlite3_open(":memory:", &db);
    if (rc == SQLITE_OK) sqlite3_enable_load_extension(db, 1);
    if (rc == SQLITE_OK) rc = sqlite3_load_extension(db, lib, NULL, &err);
    if (rc == SQLITE_OK) rc = run_sql(db, k == IMAGE_HAND ? hand_sql : source_sql, &out, 0);
    if (rc == SQLITE_OK && k == IMAGE_MODEL) rc = run_sql(db, train_old, &out, 0);
    if (rc == SQLITE_OK && k == IMAGE_MODEL) { /* the files the imports read */
      char sql[800];
      snprintf(sql, sizeof(sql),
               "SELECT item2vec_export('m', '%s'); SELECT item2vec_export('m', '%s');",
               w2v_txt, w2v_bin);
      rc = run_sql(db, sql, &out, 0);
    }
    if (rc != SQLITE_OK) {
      fprintf(stderr, "cannot build the test database with %s: %s %s\n", lib,
              err ? err : "", out.s ? out.s : sqlite3_errmsg(db));
    } else {
      sqlite3_int64 n = 0;
      unsigned char *p = sqlite3_serialize(db, "main", &n, 0);
      g_images[k].data = p ? malloc((size_t)n) : NULL;
      if (g_images[k].data) memcpy(g_images[k].data, p, (size_t)n);
      g_images[k].n = n;
      sqlite3_free(p);
      if (!g_images[k].data) rc = SQLITE_NOMEM;
    }
    sqlite3_free(err);
    text_free(&out);
    sqlite3_close(db);
    if (rc != SQLITE_OK) return rc;
  }
  return SQLITE_OK;
}

/* Start db from image k (unarmed). */
static int use_image(sqlite3 *db, int k) {
  if (k == IMAGE_EMPTY) return SQLITE_OK;
  unsigned char *copy = sqlite3_malloc64((sqlite3_uint64)g_images[k].n);
  if (!copy) return SQLITE_NOMEM;
  memcpy(copy, g_images[k].data, (size_t)g_images[k].n);
  return sqlite3_deserialize(db, "main", copy, g_images[k].n, g_images[k].n,
                             SQLITE_DESERIALIZE_FREEONCLOSE | SQLITE_DESERIALIZE_RESIZEABLE);
}

/* The result of one run. */
typedef struct outcome {
  int rc;      /* first error of the armed statements */
  text out;    /* their transcript */
  text before; /* check query before arming */
  text after;  /* check query after disarming */
  int close_rc;
  int autocommit; /* 0: the run left a transaction open */
  long leaked;
  long allocations, injected;
} outcome;

static void outcome_free(outcome *o) {
  text_free(&o->out);
  text_free(&o->before);
  text_free(&o->after);
}

enum { MODE_TRANSIENT, MODE_PERSISTENT, MODE_INTERRUPT };

/* One run: n = 0 runs without faults. Returns 0, or -1 when the unarmed
** setup itself failed (a harness problem). */
static int run_once(const char *lib, const scenario *s, long n, int persistent,
                    outcome *o) {
  sqlite3 *db = NULL;
  char *err = NULL;
  memset(o, 0, sizeof(*o));
  long live0 = g_fault.live;
  if (sqlite3_open(":memory:", &db) != SQLITE_OK) return -1;
  sqlite3_enable_load_extension(db, 1);
  if (!s->load_armed) {
    if (sqlite3_load_extension(db, lib, NULL, &err) != SQLITE_OK) {
      fprintf(stderr, "cannot load %s: %s\n", lib, err ? err : "?");
      sqlite3_free(err);
      sqlite3_close(db);
      return -1;
    }
    if (use_image(db, s->image) != SQLITE_OK) {
      fprintf(stderr, "setup of %s failed: %s\n", s->name, sqlite3_errmsg(db));
      sqlite3_close(db);
      return -1;
    }
    if (s->check) run_sql(db, s->check, &o->before, 1);
  }
  if (persistent == MODE_INTERRUPT) {
    g_interrupt.calls = g_interrupt.fired = 0;
    g_interrupt.countdown = n > 0 ? n : -1;
    sqlite3_progress_handler(db, 1, progress_cb, &g_interrupt);
  } else if (n > 0) {
    arm(n, persistent);
  }
  if (s->load_armed) {
    o->rc = sqlite3_load_extension(db, lib, NULL, &err);
    /* SQLite reports every failed entry point as SQLITE_ERROR; no message
    ** at all means allocating it failed as well. */
    if (o->rc != SQLITE_OK)
      text_add(&o->out, "ERROR %d %s\n", o->rc, err ? err : "out of memory (no message)");
    sqlite3_free(err);
    err = NULL;
  }
  if (o->rc == SQLITE_OK) o->rc = run_sql(db, s->armed, &o->out, s->keep_going);
  o->allocations = g_fault.allocations;
  o->injected = g_fault.injected;
  disarm();
  if (persistent == MODE_INTERRUPT) { /* calls stand for allocations */
    sqlite3_progress_handler(db, 0, NULL, NULL);
    o->allocations = g_interrupt.calls;
    o->injected = g_interrupt.fired;
  }
  o->autocommit = sqlite3_get_autocommit(db);
  if (s->check) run_sql(db, s->check, &o->after, 1);
  drop_missing_tables(&o->before);
  drop_missing_tables(&o->after);
  o->close_rc = sqlite3_close(db);
  if (o->close_rc != SQLITE_OK) sqlite3_close_v2(db);
  o->leaked = g_fault.live - live0;
  return 0;
}

/* 1 when the error line says memory ran out. */
static int is_oom_error(const text *t) {
  return t->s && (strstr(t->s, "ERROR 7 ") || strstr(t->s, "out of memory"));
}

static int line_is_oom(const char *line, size_t n) {
  char buf[512];
  if (n >= sizeof(buf)) n = sizeof(buf) - 1;
  memcpy(buf, line, n);
  buf[n] = 0;
  return strncmp(buf, "ERROR 7 ", 8) == 0 ||
         (strncmp(buf, "ERROR ", 6) == 0 && strstr(buf, "out of memory"));
}

/* "ERROR c <SQLite's generic text for c>" with the code of want's line: SQLite
** lost the message (copying it into the connection is an allocation that
** SQLite lets fail silently) but kept the code. */
static int line_lost_message(const char *g, size_t gn, const char *w, size_t wn) {
  int gc = 0, wc = 0, at = 0;
  if (sscanf(g, "ERROR %d %n", &gc, &at) < 1 || sscanf(w, "ERROR %d", &wc) < 1 ||
      gc != wc || (size_t)at > gn)
    return 0;
  const char *generic = sqlite3_errstr(gc);
  (void)wn;
  return strlen(generic) == gn - (size_t)at && memcmp(g + at, generic, gn - (size_t)at) == 0;
}

/* Keep-going runs: line i of got must be line i of want or an OOM error. */
static int lines_match_or_oom(const text *got, const text *want) {
  const char *g = got->s ? got->s : "", *w = want->s ? want->s : "";
  while (*g || *w) {
    const char *ge = strchr(g, '\n'), *we = strchr(w, '\n');
    size_t gn = ge ? (size_t)(ge - g) : strlen(g), wn = we ? (size_t)(we - w) : strlen(w);
    if (!(gn == wn && memcmp(g, w, gn) == 0) && !line_is_oom(g, gn) &&
        !line_lost_message(g, gn, w, wn))
      return 0;
    g += gn + (ge ? 1 : 0);
    w += wn + (we ? 1 : 0);
  }
  return 1;
}

/* ---- driver ----------------------------------------------------------------- */

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s LIBRARY [SCENARIO]\n", argv[0]);
    return 2;
  }
  const char *lib = argv[1];
  const char *only = argc > 2 ? argv[2] : NULL;
  /* I2V_OOM_STEP=k fails every kth allocation only (for slow runs, as under
  ** valgrind); I2V_OOM_TRANSIENT_ONLY skips the persistent mode. */
  long step = getenv("I2V_OOM_STEP") ? atol(getenv("I2V_OOM_STEP")) : 1;
  if (step < 1) step = 1;
  /* I2V_OOM_INTERRUPT_POINTS: how many points of each run get an interrupt. */
  long points = getenv("I2V_OOM_INTERRUPT_POINTS") ? atol(getenv("I2V_OOM_INTERRUPT_POINTS")) : 400;
  if (points < 1) points = 1;
  long total_runs = 0, total_faults = 0, total_allocs = 0, total_interrupt_runs = 0;
  int failed = 0;

  sqlite3_config(SQLITE_CONFIG_GETMALLOC, &g_fault.base);
  sqlite3_mem_methods m = {fault_malloc, fault_free,     fault_realloc, fault_size,
                           fault_roundup, fault_init, fault_shutdown, NULL};
  /* No lookaside: every allocation of SQLite goes through the wrapper. */
  if (sqlite3_config(SQLITE_CONFIG_MALLOC, &m) != SQLITE_OK ||
      sqlite3_config(SQLITE_CONFIG_LOOKASIDE, 0, 0) != SQLITE_OK) {
    fprintf(stderr, "cannot configure SQLite's allocator\n");
    return 2;
  }
  sqlite3_initialize();
  {
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    int pid = (int)getpid();
    snprintf(w2v_txt, sizeof(w2v_txt), "%s/i2v-oom-%d.txt", tmp, pid);
    snprintf(w2v_bin, sizeof(w2v_bin), "%s/i2v-oom-%d.bin.gz", tmp, pid);
    snprintf(w2v_export_sql, sizeof(w2v_export_sql),
             "SELECT item2vec_export('m', '%s-out') IS NOT NULL;"
             "SELECT item2vec_export('m', '%s-out.bin.gz') IS NOT NULL;",
             w2v_txt, w2v_txt);
    snprintf(w2v_import_txt_sql, sizeof(w2v_import_txt_sql),
             "SELECT item2vec_import('%s', 'imported') IS NOT NULL;", w2v_txt);
    snprintf(w2v_import_bin_sql, sizeof(w2v_import_bin_sql),
             "SELECT item2vec_import('%s', 'imported') IS NOT NULL;", w2v_bin);
  }
  if (make_images(lib) != SQLITE_OK) {
    printf("not ok - oom: cannot build the test databases with %s\n", lib);
    return 1;
  }
  { /* Warm up: SQLite's one-time allocations are not leaks. */
    outcome o;
    if (run_once(lib, &scenarios[3], 0, 0, &o) != 0) {
      printf("not ok - oom: cannot set up the harness with %s\n", lib);
      return 1;
    }
    outcome_free(&o);
  }

  for (int si = 0; si < N_SCENARIOS; si++) {
    const scenario *s = &scenarios[si];
    if (only && !strstr(s->name, only)) continue;
    outcome base;
    if (run_once(lib, s, 0, 0, &base) != 0) {
      printf("not ok - oom/%s: setup failed\n", s->name);
      failed++;
      continue;
    }
    if (getenv("I2V_OOM_N")) { /* debugging: one run, everything shown */
      outcome o;
      int persistent = getenv("I2V_OOM_INTERRUPT")    ? MODE_INTERRUPT
                       : getenv("I2V_OOM_PERSISTENT") ? MODE_PERSISTENT
                                                      : MODE_TRANSIENT;
      run_once(lib, s, atol(getenv("I2V_OOM_N")), persistent, &o);
      printf("== %s N=%s rc=%d close=%d autocommit=%d leaked=%ld injected=%ld\n-- out\n%s-- before\n%s-- after\n%s-- base out\n%s-- base after\n%s",
             s->name, getenv("I2V_OOM_N"), o.rc, o.close_rc, o.autocommit, o.leaked, o.injected,
             o.out.s ? o.out.s : "", o.before.s ? o.before.s : "", o.after.s ? o.after.s : "",
             base.out.s ? base.out.s : "", base.after.s ? base.after.s : "");
      outcome_free(&o);
      outcome_free(&base);
      continue;
    }
    for (int persistent = 0; persistent <= MODE_INTERRUPT; persistent++) {
      if (persistent == MODE_PERSISTENT && getenv("I2V_OOM_TRANSIENT_ONLY")) continue;
      /* Interrupts: the scenarios that write a model, sampled to about
      ** `points` points of their run (every VM step is a point). */
      if (persistent == MODE_INTERRUPT && (!s->check || s->keep_going)) continue;
      long mode_step = step;
      if (persistent == MODE_INTERRUPT) {
        outcome probe;
        if (run_once(lib, s, 0, MODE_INTERRUPT, &probe) == 0 && probe.allocations / points > 1)
          mode_step = probe.allocations / points;
        outcome_free(&probe);
      }
      const char *mode = persistent == MODE_INTERRUPT ? "interrupt"
                         : persistent              ? "persistent"
                                                   : "transient";
      long runs = 0, faults = 0, allocs = 0, nomem = 0, recovered = 0;
      char why[600] = "";
      for (long n = 1;; n += mode_step) {
        outcome o;
        if (run_once(lib, s, n, persistent, &o) != 0) {
          snprintf(why, sizeof(why), "setup failed at N=%ld", n);
          break;
        }
        runs++;
        faults += o.injected;
        int same = strcmp(o.out.s ? o.out.s : "", base.out.s ? base.out.s : "") == 0;
        if (o.injected && same) recovered++;
        if (o.injected && !same) nomem++;
        allocs += o.allocations;
        int done = o.injected == 0;
        const char *bad = NULL;
        if (o.close_rc != SQLITE_OK)
          bad = "sqlite3_close failed: a statement was left open";
        else if (o.leaked != 0)
          bad = "allocations leaked";
        else if (!o.autocommit)
          bad = "left a transaction open";
        else if (o.rc == SQLITE_OK && !s->keep_going) {
          if (!same)
            bad = "succeeded with an output different from the run without faults";
          else if (s->check && strcmp(o.after.s ? o.after.s : "", base.after.s ? base.after.s : "") != 0)
            bad = "succeeded but the stored models differ from the run without faults";
        } else if (s->keep_going) {
          /* error paths: each statement gets its own error or runs out of memory */
          if (!lines_match_or_oom(&o.out, &base.out))
            bad = "an error path failed with an error that is neither its own nor SQLITE_NOMEM";
          else if (s->check && strcmp(o.after.s ? o.after.s : "", o.before.s ? o.before.s : "") != 0)
            bad = "an error path changed the stored models";
        } else if (persistent == MODE_INTERRUPT) {
          /* "ERROR 9 interrupted" without a function's name: the calling
          ** statement was interrupted after the function had returned, so
          ** the new model may be stored, whole. */
          const char *e9 = o.out.s ? strstr(o.out.s, "ERROR 9 interrupted\n") : NULL;
          int after_return = e9 && (e9 == o.out.s || e9[-1] == '\n');
          if (!o.out.s || !(strstr(o.out.s, "ERROR 9 ") || strstr(o.out.s, "interrupted")))
            bad = "interrupted, failed with an error that is not SQLITE_INTERRUPT";
          else if (s->check && strcmp(o.after.s ? o.after.s : "", o.before.s ? o.before.s : "") != 0 &&
                   !(after_return && strcmp(o.after.s ? o.after.s : "", base.after.s ? base.after.s : "") == 0))
            bad = "interrupted, but the stored models changed";
        } else {
          if (!is_oom_error(&o.out))
            bad = "failed with an error that is not SQLITE_NOMEM";
          else if (s->check && strcmp(o.after.s ? o.after.s : "", o.before.s ? o.before.s : "") != 0)
            bad = "failed but the stored models changed";
        }
        if (bad) {
          snprintf(why, sizeof(why), "N=%ld: %s (leaked %ld); output: %.300s", n, bad,
                   o.leaked, o.out.s ? o.out.s : "");
          for (char *p = why; *p; p++)
            if (*p == '\n') *p = ' ';
          outcome_free(&o);
          break;
        }
        outcome_free(&o);
        if (done) break;
      }
      total_runs += runs;
      if (persistent == MODE_INTERRUPT) {
        total_interrupt_runs += runs;
      } else {
        total_faults += faults;
        total_allocs += allocs;
      }
      if (*why) {
        printf("not ok - oom/%s/%s: %s\n", s->name, mode, why);
        failed++;
      } else {
        printf("ok - oom/%s/%s: %ld runs, %ld %s, %ld runs failed cleanly, "
               "%ld recovered\n",
               s->name, mode, runs, faults,
               persistent == MODE_INTERRUPT ? "interrupts" : "faults injected", nomem,
               recovered);
      }
      fflush(stdout);
    }
    outcome_free(&base);
  }
  {
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char path[512];
    const char *suffix[] = {".txt", ".bin.gz", ".txt-out", ".txt-out.bin.gz"};
    for (int i = 0; i < 4; i++) {
      snprintf(path, sizeof(path), "%s/i2v-oom-%d%s", tmp, (int)getpid(), suffix[i]);
      remove(path);
    }
  }
  printf("# oom: %ld runs, %ld faults injected over %ld allocations; %ld runs "
         "interrupted at a chosen point\n",
         total_runs, total_faults, total_allocs, total_interrupt_runs);
  return failed ? 1 : 0;
}
