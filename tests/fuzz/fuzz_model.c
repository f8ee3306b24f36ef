/*
** fuzz_model.c: libFuzzer target for what item2vec decodes from a database:
** stored models (sql/store.c's loader, reached through similar_items and the
** scalar functions) and vector BLOBs (item2vec_to_json).  A model table can
** be written by anyone with access to the file, so every field is hostile.
**
** Input layout (every read past the end gives zeros):
**   int16 dim, int32 items        the item2vec_models header
**   records: kind byte, then      kind & 7: 0 integer (8 bytes), 1 real
**            the item, then       (8 bytes), 2 text, 3 blob (length byte +
**            length byte +        bytes), 4 NULL; kind >> 3 is the frequency
**            vector bytes
** At most 64 records.  The extension is linked in and registered with
** sqlite3_auto_extension.  Checks (abort on failure): similar_items returns
** at most k rows with similarities in [-1, 1]; item2vec_similarity of an item
** with itself is NULL, 0 (zero vector) or 1.  Errors are expected and fine.
*/
#include <math.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int sqlite3_itemvec_init(sqlite3 *db, char **pzErrMsg, const sqlite3_api_routines *pApi);

typedef struct reader {
  const uint8_t *p;
  size_t n, pos;
} reader;

static uint64_t take(reader *r, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; i++) {
    uint64_t b = r->pos < r->n ? r->p[r->pos] : 0;
    r->pos++;
    v |= b << (8 * i);
  }
  return v;
}

static sqlite3 *g_db;

static void must(int rc) {
  if (rc != SQLITE_OK) abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  sqlite3_auto_extension((void (*)(void))sqlite3_itemvec_init);
  must(sqlite3_open(":memory:", &g_db));
  must(sqlite3_exec(g_db,
                    "CREATE TABLE item2vec_models(name TEXT PRIMARY KEY, dim INTEGER NOT NULL,"
                    " items INTEGER NOT NULL, source TEXT, params TEXT, stats TEXT, created_at TEXT);"
                    "CREATE TABLE item2vec_vectors(model TEXT NOT NULL, item, frequency INTEGER"
                    " NOT NULL, vector BLOB NOT NULL, PRIMARY KEY (model, item)) WITHOUT ROWID;",
                    NULL, NULL, NULL));
  return 0;
}

static void check_similar(sqlite3_stmt *q, sqlite3_int64 k) {
  int rows = 0, rc;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    rows++;
    double s = sqlite3_column_double(q, 2);
    if (!(s >= -1.001 && s <= 1.001)) abort();
    if (sqlite3_column_int64(q, 0) != rows) abort();
  }
  if (rc == SQLITE_DONE && rows > k) abort();
  sqlite3_reset(q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  reader r = {data, size, 0};
  sqlite3_stmt *ins = NULL, *st = NULL;
  int dim = (int16_t)take(&r, 2);
  int64_t items = (int32_t)take(&r, 4);
  sqlite3_int64 k = (sqlite3_int64)(take(&r, 1) % 20) - 2;

  must(sqlite3_exec(g_db, "BEGIN; DELETE FROM item2vec_models; DELETE FROM item2vec_vectors;",
                    NULL, NULL, NULL));
  must(sqlite3_prepare_v2(g_db, "INSERT INTO item2vec_models(name, dim, items) VALUES ('f', ?1, ?2)",
                          -1, &st, NULL));
  sqlite3_bind_int(st, 1, dim);
  sqlite3_bind_int64(st, 2, items);
  sqlite3_step(st);
  sqlite3_finalize(st);
  must(sqlite3_prepare_v2(g_db,
                          "INSERT OR IGNORE INTO item2vec_vectors(model, item, frequency, vector)"
                          " VALUES ('f', ?1, ?2, ?3)",
                          -1, &ins, NULL));
  for (int rec = 0; rec < 64 && r.pos < r.n; rec++) {
    int kind = (int)take(&r, 1);
    switch (kind & 7) {
      case 0: sqlite3_bind_int64(ins, 1, (sqlite3_int64)take(&r, 8)); break;
      case 1: {
        uint64_t u = take(&r, 8);
        double d;
        memcpy(&d, &u, 8);
        sqlite3_bind_double(ins, 1, d);
        break;
      }
      case 2:
      case 3: {
        size_t len = (size_t)take(&r, 1);
        size_t at = r.pos < r.n ? r.pos : r.n;
        if (len > r.n - at) len = r.n - at;
        if ((kind & 7) == 2)
          sqlite3_bind_text(ins, 1, (const char *)data + at, (int)len, SQLITE_TRANSIENT);
        else
          sqlite3_bind_blob(ins, 1, data + at, (int)len, SQLITE_TRANSIENT);
        r.pos = at + len;
        break;
      }
      default: sqlite3_bind_null(ins, 1); break;
    }
    sqlite3_bind_int64(ins, 2, kind >> 3);
    size_t vlen = (size_t)take(&r, 1);
    size_t at = r.pos < r.n ? r.pos : r.n;
    if (vlen > r.n - at) vlen = r.n - at;
    sqlite3_bind_blob(ins, 3, data + at, (int)vlen, SQLITE_TRANSIENT);
    r.pos = at + vlen;
    sqlite3_step(ins);
    sqlite3_reset(ins);
  }
  sqlite3_finalize(ins);
  must(sqlite3_exec(g_db, "COMMIT", NULL, NULL, NULL));

  /* The BLOB decoder on every stored vector and on the raw input. */
  must(sqlite3_prepare_v2(g_db, "SELECT item2vec_to_json(vector) FROM item2vec_vectors",
                          -1, &st, NULL));
  while (sqlite3_step(st) == SQLITE_ROW) {
  }
  sqlite3_finalize(st);
  must(sqlite3_prepare_v2(g_db, "SELECT item2vec_to_json(?1)", -1, &st, NULL));
  sqlite3_bind_blob(st, 1, data, (int)size, SQLITE_STATIC);
  sqlite3_step(st);
  sqlite3_finalize(st);

  /* The loader, through queries on each stored item (and the input as an id). */
  sqlite3_stmt *q = NULL, *items_st = NULL, *sim = NULL;
  must(sqlite3_prepare_v2(g_db, "SELECT rank, item, similarity FROM similar_items(?1, ?2, 'f')",
                          -1, &q, NULL));
  must(sqlite3_prepare_v2(g_db, "SELECT item2vec_similarity(?1, ?1, 'f'), item2vec_vector(?1, 'f')",
                          -1, &sim, NULL));
  must(sqlite3_prepare_v2(g_db, "SELECT item FROM item2vec_vectors LIMIT 4", -1, &items_st, NULL));
  while (sqlite3_step(items_st) == SQLITE_ROW) {
    sqlite3_bind_value(q, 1, sqlite3_column_value(items_st, 0));
    sqlite3_bind_int64(q, 2, k);
    check_similar(q, k);
    sqlite3_bind_value(sim, 1, sqlite3_column_value(items_st, 0));
    if (sqlite3_step(sim) == SQLITE_ROW && sqlite3_column_type(sim, 0) != SQLITE_NULL) {
      double s = sqlite3_column_double(sim, 0);
      if (!(fabs(s) < 1e-6 || fabs(s - 1.0) < 1e-3)) abort();
    }
    sqlite3_reset(sim);
  }
  sqlite3_bind_text(q, 1, (const char *)data, (int)size, SQLITE_STATIC);
  sqlite3_bind_int64(q, 2, 5);
  check_similar(q, 5);
  sqlite3_finalize(items_st);
  sqlite3_finalize(q);
  sqlite3_finalize(sim);
  return 0;
}
