/*
** sql/store.c: the model tables, and the per-connection cache of loaded
** models that similar_items and the scalar functions answer from.
**
** Storage (plain tables in the main schema, created when missing):
**   item2vec_models(name TEXT PRIMARY KEY, dim, items, source, params, stats,
**                   created_at)
**   item2vec_vectors(model, item, frequency, vector BLOB, PRIMARY KEY(model,
**                    item)) WITHOUT ROWID
**   item2vec_context(model, item, vector BLOB, PRIMARY KEY(model, item))
**                    WITHOUT ROWID, for models trained with save_context=1
**                    (the default)
**   item2vec_pairs(model, item, other, weight, PRIMARY KEY(model, item,
**                  other)) WITHOUT ROWID: the pair evidence recommend_items
**                  blends with the embedding (core/rank.h), at most
**                  I2V_RANK_PAIRS_CAP rows per item
** The vector BLOB is dim little-endian float32 values (sqlite-vec's layout).
**
** How it works.  A write runs inside SAVEPOINT item2vec_write: delete the old
** model of that name, insert the new rows, release; any failure rolls back to
** the savepoint, so the old model stays whole (the undo statements are
** prepared first: see i2v_undo_prepare).  A load reads the model's rows
** into unit-length aligned rows and a vocabulary.  The cache keeps loaded
** models per connection and trusts them while the pager's data version
** (commits by any connection) and sqlite3_total_changes64 (this connection's
** own writes) stay the same; any change and the cache is dropped, so no answer mixes vectors
** of two versions of a model.  The check and the load run in one read
** transaction (see i2v_conn_model), so both see the same commit.
*/
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/hnsw.h"
#include "core/rank.h"
#include "core/vec.h"
#include "sql/store.h"

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS main.item2vec_models("
    "name TEXT PRIMARY KEY, dim INTEGER NOT NULL, items INTEGER NOT NULL, "
    "source TEXT, params TEXT, stats TEXT, created_at TEXT);"
    "CREATE TABLE IF NOT EXISTS main.item2vec_vectors("
    "model TEXT NOT NULL, item, frequency INTEGER NOT NULL, "
    "vector BLOB NOT NULL, PRIMARY KEY (model, item)) WITHOUT ROWID;";

static const char context_schema_sql[] =
    "CREATE TABLE IF NOT EXISTS main.item2vec_context("
    "model TEXT NOT NULL, item, vector BLOB NOT NULL, "
    "PRIMARY KEY (model, item)) WITHOUT ROWID;";

static const char pairs_schema_sql[] =
    "CREATE TABLE IF NOT EXISTS main.item2vec_pairs("
    "model TEXT NOT NULL, item, other, weight REAL NOT NULL, "
    "PRIMARY KEY (model, item, other)) WITHOUT ROWID;";

/* The pairs of every item (pairs->other indexes items).  With merge, a pair
** already stored adds its weight, and each item keeps its cap heaviest
** partners afterwards. */
static int insert_pairs(sqlite3 *db, const char *model, const i2v_vocab *items,
                        const i2v_pairs *pairs, int merge) {
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(db,
                              merge ? "INSERT INTO main.item2vec_pairs(model, item, other, weight) "
                                      "VALUES (?1, ?2, ?3, ?4) ON CONFLICT(model, item, other) "
                                      "DO UPDATE SET weight = weight + excluded.weight"
                                    : "INSERT INTO main.item2vec_pairs(model, item, other, weight) "
                                      "VALUES (?1, ?2, ?3, ?4)",
                              -1, &st, NULL);
  if (rc != SQLITE_OK) return rc;
  sqlite3_bind_text(st, 1, model, -1, SQLITE_STATIC);
  for (uint32_t i = 0; i < pairs->nitems && i < items->n && rc == SQLITE_OK; i++) {
    for (uint64_t e = pairs->start[i]; e < pairs->start[i + 1]; e++) {
      uint32_t o = pairs->other[e];
      if (o >= items->n) continue;
      rc = i2v_bind_item(st, 2, items, &items->entries[i]);
      if (rc == SQLITE_OK) rc = i2v_bind_item(st, 3, items, &items->entries[o]);
      if (rc != SQLITE_OK) break;
      sqlite3_bind_double(st, 4, (double)pairs->weight[e]);
      rc = sqlite3_step(st);
      sqlite3_reset(st);
      if (rc != SQLITE_DONE) break;
      rc = SQLITE_OK;
    }
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_OK || !merge) return rc;
  char *cut = sqlite3_mprintf(
      "DELETE FROM main.item2vec_pairs WHERE model = ?1 AND (item, other) IN ("
      "SELECT item, other FROM (SELECT item, other, row_number() OVER ("
      "PARTITION BY item ORDER BY weight DESC) AS r FROM main.item2vec_pairs "
      "WHERE model = ?1) WHERE r > %d)",
      I2V_RANK_PAIRS_CAP);
  if (!cut) return SQLITE_NOMEM;
  rc = sqlite3_prepare_v2(db, cut, -1, &st, NULL);
  sqlite3_free(cut);
  if (rc != SQLITE_OK) return rc;
  sqlite3_bind_text(st, 1, model, -1, SQLITE_STATIC);
  rc = sqlite3_step(st);
  sqlite3_finalize(st);
  return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Run one statement with the model name bound to ?1. */
static int exec_model(sqlite3 *db, const char *sql, const char *model) {
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
  if (rc == SQLITE_OK) {
    sqlite3_bind_text(st, 1, model, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
  }
  sqlite3_finalize(st);
  return rc;
}

/* Insert one table's rows: (model, item[, frequency], vector). */
static int insert_vectors(sqlite3 *db, const char *sql, int with_freq, const char *model,
                          const i2v_vocab *items, const uint64_t *counts, const float *vectors,
                          size_t stride, int dim, unsigned char *blob) {
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
  if (rc != SQLITE_OK) return rc;
  sqlite3_bind_text(st, 1, model, -1, SQLITE_STATIC);
  for (size_t i = 0; i < items->n; i++) {
    const float *row = vectors + i * stride;
    int col = 3;
    for (int d = 0; d < dim; d++) i2v_put_lef32(blob + 4 * d, row[d]);
    /* Binding an integer key as text copies it, which can run out of memory. */
    rc = i2v_bind_item(st, 2, items, &items->entries[i]);
    if (rc != SQLITE_OK) break;
    if (with_freq)
      sqlite3_bind_int64(st, col++,
                         counts[i] > (uint64_t)INT64_MAX ? INT64_MAX : (sqlite3_int64)counts[i]);
    sqlite3_bind_blob(st, col, blob, dim * 4, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) break;
    rc = SQLITE_OK;
  }
  sqlite3_finalize(st);
  return rc;
}

/* The statements that undo a failed write, prepared before the write starts
** (declared in sql/sqlite.h).  After an interrupt, or an out-of-memory error
** inside SQLite (which raises the same flag), SQLite refuses to prepare or run
** anything new until the calling statement ends; a statement prepared earlier
** still starts, and when it fails that way SQLite rolls back the whole
** transaction (for SQLITE_NOMEM always, for SQLITE_INTERRUPT when it is a
** write statement, hence `force`, a write that changes nothing). */
/* The same with any write that changes nothing as `force`. */
static int undo_prepare_force(sqlite3 *db, const char *savepoint, const char *force, i2v_undo *u) {
  memset(u, 0, sizeof(*u));
  u->began = sqlite3_get_autocommit(db);
  char *to = sqlite3_mprintf("ROLLBACK TO \"%w\"", savepoint);
  char *release = sqlite3_mprintf("RELEASE \"%w\"", savepoint);
  int rc = to && release && force ? SQLITE_OK : SQLITE_NOMEM;
  if (rc == SQLITE_OK) rc = sqlite3_prepare_v2(db, "ROLLBACK", -1, &u->rollback, NULL);
  if (rc == SQLITE_OK) rc = sqlite3_prepare_v2(db, to, -1, &u->to, NULL);
  if (rc == SQLITE_OK) rc = sqlite3_prepare_v2(db, release, -1, &u->release, NULL);
  if (rc == SQLITE_OK) rc = sqlite3_prepare_v2(db, force, -1, &u->force, NULL);
  sqlite3_free(to);
  sqlite3_free(release);
  return rc;
}

int i2v_undo_prepare(sqlite3 *db, const char *savepoint, const char *table, i2v_undo *u) {
  char *force = sqlite3_mprintf("DELETE FROM main.\"%w\" WHERE 0", table);
  int rc = undo_prepare_force(db, savepoint, force, u);
  sqlite3_free(force);
  return rc;
}

static int step_once(sqlite3_stmt *st) {
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

int i2v_undo_release(sqlite3 *db, i2v_undo *u) {
  int rc = step_once(u->release); /* commits when the savepoint began the transaction */
  /* Interrupted after it committed (the interrupt comes at the statement's
  ** end, and SQLite rolls nothing back for an interrupted read-only
  ** statement): the write is stored, and the caller's statement reports the
  ** interrupt itself. */
  if (rc == SQLITE_INTERRUPT && u->began && sqlite3_get_autocommit(db)) rc = SQLITE_OK;
  return rc;
}

int i2v_undo_run(sqlite3 *db, i2v_undo *u) {
  int ok;
  if (!u->rollback) return 1; /* nothing was prepared, nothing begun */
  if (u->began)
    ok = step_once(u->rollback) == SQLITE_OK;
  else
    ok = step_once(u->to) == SQLITE_OK && step_once(u->release) == SQLITE_OK;
  if (ok || sqlite3_get_autocommit(db)) return 1;
  step_once(u->force);
  return sqlite3_get_autocommit(db) || !u->began;
}

void i2v_undo_finalize(i2v_undo *u) {
  sqlite3_finalize(u->rollback);
  sqlite3_finalize(u->to);
  sqlite3_finalize(u->release);
  sqlite3_finalize(u->force);
  memset(u, 0, sizeof(*u));
}

/* 1 when a statement of this connection that writes is running: SQLite
** refuses a savepoint then (it counts the same statements). */
static int writing_statement_running(sqlite3 *db) {
  for (sqlite3_stmt *s = sqlite3_next_stmt(db, NULL); s; s = sqlite3_next_stmt(db, s))
    if (sqlite3_stmt_busy(s) && !sqlite3_stmt_readonly(s)) return 1;
  return 0;
}

/* The integer a one-row PRAGMA returns, or -1 when it cannot be read. */
static int64_t pragma_int(sqlite3 *db, const char *sql) {
  sqlite3_stmt *st = NULL;
  int64_t v = -1;
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
    v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return v;
}

/*
** Can a model be stored now?  Asked before anything is read, so a model that
** could not be stored costs no training: not from inside a statement that
** writes (SQLite refuses the savepoint), not on a read-only database, not
** under PRAGMA query_only, and not while another connection holds the write
** lock.  The lock is taken the way the write will take it: in a savepoint, a
** write that changes nothing (the header's user_version set to itself),
** rolled back at once; SQLite waits for the busy timeout (PRAGMA
** busy_timeout, sqlite3_busy_timeout) as it would for the write.  The lock
** is not kept: another connection may take it during training, and the
** write then waits for the busy timeout again.
*/
int i2v_store_check_writable(sqlite3 *db, const char *fname, char **pzErr) {
  if (writing_statement_running(db)) {
    *pzErr = sqlite3_mprintf(
        "%s: cannot write the model from inside a statement that "
        "writes (cannot open savepoint - SQL statements in "
        "progress); call it from a SELECT",
        fname);
    return SQLITE_ERROR;
  }
  if (sqlite3_db_readonly(db, "main") == 1) {
    *pzErr = sqlite3_mprintf(
        "%s: the database is read-only (opened read-only, or its file cannot be written), "
        "so no model can be stored in it; nothing was read",
        fname);
    return SQLITE_READONLY;
  }
  if (pragma_int(db, "PRAGMA query_only") == 1) {
    *pzErr = sqlite3_mprintf(
        "%s: PRAGMA query_only is on, so no model can be stored; nothing was read", fname);
    return SQLITE_READONLY;
  }
  int64_t busy = pragma_int(db, "PRAGMA busy_timeout");
  int64_t version = pragma_int(db, "PRAGMA main.user_version");
  char *set =
      version >= 0 ? sqlite3_mprintf("PRAGMA main.user_version = %lld", (long long)version) : NULL;
  sqlite3_stmt *begin = NULL, *write = NULL;
  i2v_undo undo;
  /* Every statement is prepared first: after an interrupt or an
  ** out-of-memory error SQLite prepares nothing new (see i2v_undo_prepare). */
  int rc = set ? undo_prepare_force(db, "item2vec_probe", set, &undo)
           : version < 0 && sqlite3_errcode(db) == SQLITE_INTERRUPT ? SQLITE_INTERRUPT
                                                                    : SQLITE_NOMEM;
  if (rc == SQLITE_OK) rc = sqlite3_prepare_v2(db, "SAVEPOINT item2vec_probe", -1, &begin, NULL);
  if (rc == SQLITE_OK) rc = sqlite3_prepare_v2(db, set, -1, &write, NULL);
  int stepped = rc == SQLITE_OK;
  if (stepped) {
    rc = step_once(begin);
    if (rc == SQLITE_OK) rc = step_once(write); /* waits for the lock */
  }
  int code = sqlite3_extended_errcode(db);
  char *why = rc != SQLITE_OK ? sqlite3_mprintf("%s", sqlite3_errmsg(db)) : NULL;
  /* The probe never stays, whatever happened. */
  int left_open = stepped && !i2v_undo_run(db, &undo);
  if (set) i2v_undo_finalize(&undo);
  sqlite3_finalize(begin);
  sqlite3_finalize(write);
  sqlite3_free(set);
  if (rc == SQLITE_OK && !left_open) {
    sqlite3_free(why);
    return SQLITE_OK;
  }
  if (rc == SQLITE_INTERRUPT)
    *pzErr = sqlite3_mprintf("%s: interrupted", fname);
  else if ((code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED)
    *pzErr = sqlite3_mprintf(
        "%s: the database is locked: another connection is writing to it, and it stayed "
        "locked for the busy timeout (%lld ms); try again, or raise PRAGMA busy_timeout; "
        "nothing was read",
        fname, (long long)busy);
  else if (rc != SQLITE_NOMEM)
    *pzErr = sqlite3_mprintf("%s: no model can be stored in this database (%s)%s", fname,
                             why ? why : sqlite3_errstr(rc),
                             left_open ? " (its transaction is still open: ROLLBACK it)" : "");
  sqlite3_free(why);
  return rc == SQLITE_OK ? SQLITE_ERROR : rc;
}

int i2v_store_write(sqlite3 *db, const char *fname, const char *model, const i2v_vocab *items,
                    const uint64_t *counts, const float *vectors, const float *context,
                    const i2v_pairs *pairs, int merge_pairs, size_t stride, int dim,
                    const char *source, const char *params_json, const char *stats_json,
                    char **pzErr) {
  sqlite3_stmt *ins_model = NULL;
  unsigned char *blob = NULL;
  i2v_undo undo;
  int rc, left_open = 0;
  char *err = NULL;

  /* The tables first, outside the savepoint: creating them changes the
  ** schema, which would make the undo statements stale. */
  memset(&undo, 0, sizeof(undo));
  rc = sqlite3_exec(db, schema_sql, NULL, NULL, &err);
  if (rc == SQLITE_OK && context) rc = sqlite3_exec(db, context_schema_sql, NULL, NULL, &err);
  if (rc == SQLITE_OK && pairs) rc = sqlite3_exec(db, pairs_schema_sql, NULL, NULL, &err);
  if (rc == SQLITE_OK) rc = i2v_undo_prepare(db, "item2vec_write", "item2vec_models", &undo);
  if (rc != SQLITE_OK) goto fail;
  rc = sqlite3_exec(db, "SAVEPOINT item2vec_write", NULL, NULL, &err);
  if (rc != SQLITE_OK) goto rollback; /* it may have opened before failing */

  rc = exec_model(db, "DELETE FROM main.item2vec_vectors WHERE model = ?1", model);
  /* The old context vectors, approximate index and pairs go with the old
  ** vectors (the pairs stay, to be added to, when merged). */
  static const char *const dependents[3][2] = {
      {"item2vec_context", "DELETE FROM main.item2vec_context WHERE model = ?1"},
      {"item2vec_index", "DELETE FROM main.item2vec_index WHERE model = ?1"},
      {"item2vec_pairs", "DELETE FROM main.item2vec_pairs WHERE model = ?1"}};
  for (int t = 0; t < (pairs && merge_pairs ? 2 : 3) && rc == SQLITE_OK; t++) {
    int has = i2v_table_exists(db, dependents[t][0]);
    if (has < 0) rc = sqlite3_errcode(db) ? sqlite3_errcode(db) : SQLITE_ERROR;
    if (has > 0) rc = exec_model(db, dependents[t][1], model);
  }
  if (rc == SQLITE_OK && context) rc = sqlite3_exec(db, context_schema_sql, NULL, NULL, NULL);
  if (rc == SQLITE_OK)
    rc =
        sqlite3_prepare_v2(db,
                           "INSERT OR REPLACE INTO main.item2vec_models"
                           "(name, dim, items, source, params, stats, created_at) "
                           "VALUES (?1, ?2, ?3, ?4, ?5, ?6, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
                           -1, &ins_model, NULL);
  if (rc == SQLITE_OK) {
    sqlite3_bind_text(ins_model, 1, model, -1, SQLITE_STATIC);
    sqlite3_bind_int(ins_model, 2, dim);
    sqlite3_bind_int64(ins_model, 3, (sqlite3_int64)items->n);
    sqlite3_bind_text(ins_model, 4, source, -1, SQLITE_STATIC);
    sqlite3_bind_text(ins_model, 5, params_json, -1, SQLITE_STATIC);
    sqlite3_bind_text(ins_model, 6, stats_json, -1, SQLITE_STATIC);
    rc = sqlite3_step(ins_model);
    rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
  }
  if (rc != SQLITE_OK) goto sqlfail;
  blob = sqlite3_malloc64((size_t)dim * 4);
  if (!blob) {
    rc = SQLITE_NOMEM;
    goto rollback;
  }
  rc = insert_vectors(db,
                      "INSERT INTO main.item2vec_vectors(model, item, frequency, vector) "
                      "VALUES (?1, ?2, ?3, ?4)",
                      1, model, items, counts, vectors, stride, dim, blob);
  if (rc == SQLITE_OK && context)
    rc = insert_vectors(db,
                        "INSERT INTO main.item2vec_context(model, item, vector) "
                        "VALUES (?1, ?2, ?3)",
                        0, model, items, counts, context, stride, dim, blob);
  if (rc == SQLITE_OK && pairs) rc = insert_pairs(db, model, items, pairs, merge_pairs);
  if (rc != SQLITE_OK) goto sqlfail;
  sqlite3_finalize(ins_model);
  ins_model = NULL;
  sqlite3_free(blob);
  blob = NULL;
  rc = i2v_undo_release(db, &undo);
  if (rc != SQLITE_OK) goto sqlfail;
  i2v_undo_finalize(&undo);
  return SQLITE_OK;

sqlfail:
  err = sqlite3_mprintf("%s", sqlite3_errmsg(db));
rollback:
  sqlite3_finalize(ins_model);
  /* Not undone (no test reaches this): say so, the caller must roll back. */
  left_open = !i2v_undo_run(db, &undo);
fail:
  i2v_undo_finalize(&undo);
  sqlite3_free(blob);
  *pzErr = sqlite3_mprintf("%s: could not store model '%s': %s%s", fname, model,
                           err ? err : sqlite3_errstr(rc),
                           left_open ? " (its transaction is still open: ROLLBACK it)" : "");
  sqlite3_free(err);
  return rc == SQLITE_OK ? SQLITE_ERROR : rc;
}

i2v_attachment *i2v_model_attachment(const i2v_model *m, const i2v_attachment_type *type) {
  for (i2v_attachment *a = m->attached; a; a = a->next)
    if (a->type == type) return a;
  return NULL;
}

void *i2v_model_attach(i2v_model *m, const i2v_attachment_type *type, size_t size) {
  i2v_attachment *a = sqlite3_malloc64(size);
  if (!a) return NULL;
  memset(a, 0, size);
  a->type = type;
  a->next = m->attached;
  m->attached = a;
  return a;
}

void i2v_model_release(i2v_model *m) {
  if (!m || --m->refs > 0) return;
  while (m->attached) {
    i2v_attachment *a = m->attached;
    m->attached = a->next;
    a->type->xFree(a);
  }
  i2v_vocab_free(&m->items);
  sqlite3_free(m->raw);
  sqlite3_free(m->name);
  sqlite3_free(m);
}

/* Most bytes of rows allocated up front on the word of a model's header
** (the fuzz build lowers it to exercise the growth path). */
#ifndef I2V_LOAD_PREALLOC_BYTES
#define I2V_LOAD_PREALLOC_BYTES ((uint64_t)256 << 20)
#endif

/* Rows to allocate before reading a model whose header claims nitems: the
** claim, but never more than I2V_LOAD_PREALLOC_BYTES worth (anyone can write
** these tables), and at least min_rows; more rows grow the buffer. */
static size_t hinted_rows(int64_t nitems, size_t row_bytes, size_t min_rows) {
  size_t cap = (size_t)(I2V_LOAD_PREALLOC_BYTES / row_bytes);
  if (nitems > 0 && (uint64_t)nitems < (uint64_t)cap) cap = (size_t)nitems;
  return cap < min_rows ? min_rows : cap;
}

/* Room for n rows of m->stride floats, 64-byte aligned, in m->raw/m->unit. */
static int alloc_rows(i2v_model *m, size_t n) {
  int ovf = 0;
  size_t bytes = i2v_mul_size(n ? n : 1, m->stride * sizeof(float), &ovf);
  if (ovf || bytes > SIZE_MAX - 64) return SQLITE_NOMEM;
  m->raw = sqlite3_malloc64(bytes + 64);
  if (!m->raw) return SQLITE_NOMEM;
  m->unit = (float *)(((uintptr_t)m->raw + 63) & ~(uintptr_t)63);
  return SQLITE_OK;
}

/* Decode the stored vector in column col (i2v_column_floats) into its row
** and scale it to unit length (i2v_vec_unit_row): the largest |value| of the
** scaled row, -1 when a value is not finite, -2 when the column is not a
** BLOB of dim float32 values (why says what it is). */
static float load_row(float *row, sqlite3_stmt *st, int col, int dim, size_t stride, char *why,
                      size_t n) {
  int got = i2v_column_floats(st, col, dim, row, why, n);
  if (got != I2V_BLOB_OK) return got == I2V_BLOB_LENGTH ? -2.0f : -1.0f;
  return i2v_vec_unit_row(row, dim, stride);
}

typedef struct load_state {
  i2v_model *m;
  sqlite3_stmt *ping;
  const char *fname;
  char *dup; /* the message about an item stored twice */
} load_state;

/* An item stored twice: an error (i2v_duplicate_error), never a choice. */
static int load_duplicate(void *ctx, size_t r, size_t first) {
  load_state *ls = ctx;
  const i2v_vocab *v = &ls->m->items;
  char *a = i2v_item_literal(v, &v->entries[first]), *b = i2v_item_literal(v, &v->entries[r]);
  ls->dup = i2v_duplicate_error(ls->fname, ls->m->name, "item2vec_vectors", a, b);
  sqlite3_free(a);
  sqlite3_free(b);
  return 1;
}
static int load_cancel(void *ctx) {
  return i2v_ping_interrupted(((load_state *)ctx)->ping);
}

/* Index the items read (see i2v_store_load).  SQLITE_NOMEM; SQLITE_INTERRUPT
** when ping says so; SQLITE_CORRUPT with *pzErr for an item stored twice. */
static int index_items(i2v_model *m, sqlite3_stmt *ping, const char *fname, char **pzErr) {
  load_state ls = {m, ping, fname, NULL};
  i2v_vocab_hooks hooks = {&ls, NULL, load_duplicate, load_cancel};
  int irc = i2v_vocab_index(&m->items, &hooks);
  if (irc == I2V_OK) return SQLITE_OK;
  if (irc == I2V_ERROR) {
    *pzErr = ls.dup;
    return ls.dup ? SQLITE_CORRUPT : SQLITE_NOMEM;
  }
  *pzErr = irc == I2V_CANCELLED
               ? sqlite3_mprintf("%s: interrupted", fname)
               : sqlite3_mprintf("%s: out of memory loading model '%s'", fname, m->name);
  return irc == I2V_CANCELLED ? SQLITE_INTERRUPT : SQLITE_NOMEM;
}

/*
** Load model `name` into unit-length rows and a vocabulary.  The header row
** gives the item count, so the rows and the vocabulary's hash table are
** sized once; each stored row is appended to the vocabulary without a
** lookup, copied and scaled, and the vocabulary is indexed at the end in one
** batched pass (i2v_vocab_index: inserts one by one spent most of their time
** waiting for hash slots, a cache miss each).  Rows beyond the header's count
** (a hand-edited table) grow the buffer.  A bad row is an error naming its
** item, and so is an item stored twice by hand ('1' and 1 are one item):
** the one rule every reader of the model tables follows
** (i2v_duplicate_error).  The caller
** runs this inside one read transaction (see i2v_conn_model), so the header
** and the rows come from the same version of the database.
*/
/* "fname: cannot read model 'name': why" with the code to return. */
static int cannot_read(sqlite3 *db, const char *fname, const char *name, int rc, char **pzErr) {
  *pzErr = sqlite3_mprintf("%s: cannot read model '%s': %s", fname, name, sqlite3_errmsg(db));
  return rc == SQLITE_OK || rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_ERROR : rc;
}

/* The model's header row: its dimension and (a hint of) its item count. */
static int read_header(sqlite3 *db, const char *fname, const char *name, int *dim, int64_t *nitems,
                       char **pzErr) {
  sqlite3_stmt *st = NULL;
  int has = i2v_model_tables(db);
  if (has < 0) return cannot_read(db, fname, name, sqlite3_errcode(db), pzErr);
  if (!has) {
    *pzErr = sqlite3_mprintf(
        "%s: no such model '%s': no model has been trained in this database "
        "(run item2vec_train first)",
        fname, name);
    return SQLITE_ERROR;
  }
  int rc = sqlite3_prepare_v2(db, "SELECT dim, items FROM main.item2vec_models WHERE name = ?1", -1,
                              &st, NULL);
  if (rc != SQLITE_OK) return cannot_read(db, fname, name, rc, pzErr);
  sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
  rc = sqlite3_step(st);
  if (rc == SQLITE_DONE) {
    sqlite3_finalize(st);
    return i2v_no_such_model(db, fname, name, pzErr);
  }
  if (rc != SQLITE_ROW) {
    rc = cannot_read(db, fname, name, rc, pzErr);
    sqlite3_finalize(st);
    return rc;
  }
  char shown[32];
  *dim = i2v_header_dim(st, 0, shown, sizeof(shown));
  *nitems = sqlite3_column_int64(st, 1);
  if (*dim < 1 || *nitems < 0 || *nitems > 0xfffffffe) {
    *pzErr = sqlite3_mprintf("%s: model '%s' has an invalid header (dim %s, items %lld)", fname,
                             name, shown, (long long)*nitems);
    rc = SQLITE_CORRUPT;
  } else {
    rc = SQLITE_OK;
  }
  sqlite3_finalize(st);
  return rc;
}

/* Room for twice *cap rows, the rows so far copied (more rows than the
** header said). */
static int grow_rows(i2v_model *m, size_t *cap) {
  void *old_raw = m->raw;
  float *old_unit = m->unit;
  if (alloc_rows(m, *cap * 2) != SQLITE_OK) {
    m->raw = old_raw;
    m->unit = old_unit;
    return SQLITE_NOMEM;
  }
  memcpy(m->unit, old_unit, *cap * m->stride * sizeof(float));
  sqlite3_free(old_raw);
  *cap *= 2;
  return SQLITE_OK;
}

/* The model's rows into m (its dimension set), unit length, items appended
** unindexed.  The header's item count sizes the rows, but it is only a hint
** (anyone can write these tables): at most I2V_LOAD_PREALLOC_BYTES are taken
** on its word; more rows grow the array as they arrive.  Rows (and items)
** are faulted in 4 MiB of rows ahead of the writes, so a header that claims
** more items than there are costs no memory.  Stepping the rows stops at an
** interrupt. */
static int read_rows(sqlite3 *db, i2v_model *m, int64_t nitems, const char *fname, char **pzErr) {
  sqlite3_stmt *st = NULL;
  const char *name = m->name;
  const int dim = m->dim;
  int rc = sqlite3_prepare_v2(db,
                              "SELECT item, frequency, vector FROM main.item2vec_vectors "
                              "WHERE model = ?1",
                              -1, &st, NULL);
  if (rc != SQLITE_OK) return cannot_read(db, fname, name, rc, pzErr);
  sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
  size_t row_bytes = m->stride * sizeof(float);
  size_t cap = hinted_rows(nitems, row_bytes, 1);
  size_t ahead = 0, chunk = ((size_t)4 << 20) / row_bytes + 1;
  if (alloc_rows(m, cap) != SQLITE_OK) goto nomem;
  if (i2v_vocab_reserve(&m->items, cap) != I2V_OK) goto nomem;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    i2v_value v;
    int got = i2v_value_from_column(st, 0, &v);
    if (got < 0) goto nomem;
    if (!got) {
      *pzErr = sqlite3_mprintf("%s: model '%s' has a NULL item", fname, name);
      rc = SQLITE_CORRUPT;
      goto fail;
    }
    int64_t idx = i2v_vocab_append(&m->items, &v);
    if (idx < 0) goto nomem;
    if ((size_t)idx >= cap && grow_rows(m, &cap) != SQLITE_OK) goto nomem;
    if ((size_t)idx >= ahead) {
      ahead = (size_t)idx + chunk < cap ? (size_t)idx + chunk : cap;
      i2v_prefault(m->unit + (size_t)idx * m->stride, (ahead - (size_t)idx) * row_bytes);
      size_t in_items = ahead < m->items.cap ? ahead : m->items.cap;
      i2v_prefault(m->items.entries + idx, (in_items - (size_t)idx) * sizeof(i2v_vocab_entry));
    }
    char why[96];
    float top =
        load_row(m->unit + (size_t)idx * m->stride, st, 2, dim, m->stride, why, sizeof(why));
    if (top < 0) {
      if (top < -1.0f)
        *pzErr = sqlite3_mprintf("%s: model '%s' stores the vector of item '%s' as %s", fname, name,
                                 (const char *)sqlite3_column_text(st, 0), why);
      else
        *pzErr = sqlite3_mprintf("%s: model '%s' has a non-finite value in the vector of item '%s'",
                                 fname, name, (const char *)sqlite3_column_text(st, 0));
      rc = SQLITE_CORRUPT;
      goto fail;
    }
    if (top > m->unit_max) m->unit_max = top;
    m->items.entries[idx].count = (uint64_t)sqlite3_column_int64(st, 1);
  }
  if (rc != SQLITE_DONE) {
    rc = cannot_read(db, fname, name, rc, pzErr);
    goto fail;
  }
  sqlite3_finalize(st);
  return SQLITE_OK;
nomem:
  rc = SQLITE_NOMEM;
fail:
  sqlite3_finalize(st);
  return rc;
}

int i2v_store_load(sqlite3 *db, const char *fname, const char *name, i2v_model **out,
                   char **pzErr) {
  sqlite3_stmt *ping = NULL;
  i2v_model *m = NULL;
  int dim = 0;
  int64_t nitems = 0;
  *out = NULL;
  int rc = read_header(db, fname, name, &dim, &nitems, pzErr);
  if (rc != SQLITE_OK) return rc;

  m = sqlite3_malloc64(sizeof(*m));
  if (!m) return SQLITE_NOMEM;
  memset(m, 0, sizeof(*m));
  m->refs = 1;
  m->dim = dim;
  m->stride = i2v_row_stride(dim);
  i2v_vocab_init(&m->items, &i2v_sqlite_alloc);
  m->name = sqlite3_mprintf("%s", name);
  /* The indexing asks ping whether to stop. */
  rc = !m->name ? SQLITE_NOMEM : i2v_ping_open(db, &ping);
  if (rc != SQLITE_OK && rc != SQLITE_NOMEM) rc = cannot_read(db, fname, name, rc, pzErr);
  if (rc == SQLITE_OK) rc = read_rows(db, m, nitems, fname, pzErr);
  if (rc == SQLITE_OK) rc = index_items(m, ping, fname, pzErr);
  sqlite3_finalize(ping);
  if (rc != SQLITE_OK) {
    if (rc == SQLITE_NOMEM && !*pzErr)
      *pzErr = sqlite3_mprintf("%s: out of memory loading model '%s'", fname, name);
    i2v_model_release(m);
    return rc;
  }
  m->n = (uint32_t)m->items.n;
  *out = m;
  return SQLITE_OK;
}

void i2v_conn_clear(i2v_conn *c) {
  while (c->cache) {
    i2v_model *m = c->cache;
    c->cache = m->next;
    i2v_model_release(m);
  }
}

void i2v_conn_release(void *p) {
  i2v_conn *c = p;
  if (!c || --c->refs > 0) return;
  i2v_conn_clear(c);
  sqlite3_free(c);
}

/*
** Whether the cached models can answer.  The pager's data version moves on
** every commit, by any connection, this one included: a new version drops
** the cache.  Outside a write transaction that is all: nothing uncommitted
** of this connection can be in the tables.  Inside one, the connection's own
** writes may be, and SQLite gives no sign of a ROLLBACK TO (neither the data
** version nor sqlite3_total_changes64 goes back), so the cache is trusted
** only while the transaction is clean: nothing written since the connection
** was last looked at outside a write transaction (same data version, same
** total changes, same schema cookie; DROP and ALTER move only the cookie).
** A dirty transaction gets models loaded for the one call (*fresh), never
** cached, since a later ROLLBACK TO could take their rows back.  Reading the
** data version and the change count needs no statement; the schema cookie
** is read once per data version outside write transactions, and per call
** inside one.  The data version is current only inside a read transaction:
** i2v_conn_model makes sure there is one.
*/
static int read_schema_cookie(sqlite3 *db, sqlite3_stmt *st, int *cookie) {
  sqlite3_stmt *own = NULL;
  int rc = SQLITE_OK;
  if (!st) {
    rc = sqlite3_prepare_v2(db, "PRAGMA main.schema_version", -1, &own, NULL);
    if (rc == SQLITE_OK && sqlite3_step(own) != SQLITE_ROW) rc = sqlite3_errcode(db);
    st = own;
  }
  if (rc == SQLITE_OK) *cookie = sqlite3_column_int(st, 0);
  sqlite3_finalize(own);
  return rc == SQLITE_OK ? SQLITE_OK : rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_ERROR : rc;
}

/* *dirty: the cache may not answer now (see above).  hold: a stepped
** PRAGMA main.schema_version, or NULL. */
static int check_stamp(i2v_conn *c, int state, sqlite3_stmt *hold, int *dirty) {
  unsigned int version = 0;
  int64_t changes = sqlite3_total_changes64(c->db);
  int cookie = 0;
  int rc = sqlite3_file_control(c->db, "main", SQLITE_FCNTL_DATA_VERSION, &version);
  *dirty = 0;
  if (rc != SQLITE_OK) return rc;
  if ((int64_t)version != c->stamp_version) {
    i2v_conn_clear(c);
    c->stamp_version = (int64_t)version;
  }
  if (state != SQLITE_TXN_WRITE) {
    if (hold || !c->base_known || c->base_version != (int64_t)version) {
      if ((rc = read_schema_cookie(c->db, hold, &cookie)) != SQLITE_OK) return rc;
      c->base_schema = cookie;
      c->base_version = (int64_t)version;
      c->base_known = 1;
    }
    c->base_changes = changes;
    return SQLITE_OK;
  }
  if ((rc = read_schema_cookie(c->db, NULL, &cookie)) != SQLITE_OK) return rc;
  *dirty = !c->base_known || c->base_version != (int64_t)version || c->base_changes != changes ||
           c->base_schema != cookie;
  return SQLITE_OK;
}

/*
** The model called name, from the cache or loaded.  The check and the load
** must see one version of the database: a statement that reads a table of
** main (every similar_items query, a scalar function over a table) already
** holds a read transaction; a bare SELECT item2vec_similarity(1, 2) does
** not, so one is opened here by stepping PRAGMA schema_version (which reads
** main) and held until the model is in hand.
*/
int i2v_conn_model(i2v_conn *c, const char *fname, const char *name, i2v_model **out,
                   char **pzErr) {
  sqlite3_stmt *hold = NULL;
  i2v_model *m = NULL;
  int state = sqlite3_txn_state(c->db, "main");
  int rc = SQLITE_OK, dirty = 0;
  *out = NULL;
  if (state == SQLITE_TXN_NONE) {
    rc = sqlite3_prepare_v2(c->db, "PRAGMA main.schema_version", -1, &hold, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_step(hold) == SQLITE_ROW ? SQLITE_OK : sqlite3_errcode(c->db);
    if (rc != SQLITE_OK) {
      *pzErr = sqlite3_mprintf("%s: cannot read the database: %s", fname, sqlite3_errmsg(c->db));
      sqlite3_finalize(hold);
      return rc;
    }
  }
  rc = check_stamp(c, state, hold, &dirty);
  if (rc != SQLITE_OK) {
    *pzErr =
        sqlite3_mprintf("%s: cannot read the database's version (%s)", fname, sqlite3_errstr(rc));
    sqlite3_finalize(hold);
    return rc;
  }
  for (m = dirty ? NULL : c->cache; m; m = m->next) {
    if (strcmp(m->name, name) == 0) {
      m->refs++;
      c->last_fresh = 0;
      *out = m;
      sqlite3_finalize(hold);
      return SQLITE_OK;
    }
  }
  rc = i2v_store_load(c->db, fname, name, &m, pzErr);
  sqlite3_finalize(hold);
  if (rc != SQLITE_OK) return rc;
  c->last_fresh = dirty;
  if (!dirty) {
    m->next = c->cache;
    c->cache = m;
    m->refs++; /* one for the cache, one for the caller */
  }
  *out = m;
  return SQLITE_OK;
}

/* ---- The training state of a stored model, for update=1 ---------------- */

void i2v_stored_model_free(i2v_stored_model *s) {
  i2v_vocab_free(&s->items);
  sqlite3_free(s->params);
  sqlite3_free(s->input);
  sqlite3_free(s->output);
  memset(s, 0, sizeof(*s));
}

/* An item of `items` stored twice in item2vec_context: the error of
** i2v_duplicate_error, as the loader of context vectors reports it. */
static int check_context_twice(sqlite3 *db, const char *fname, const char *name,
                               const i2v_vocab *items, char **pzErr) {
  sqlite3_stmt *st = NULL;
  unsigned char *seen = sqlite3_malloc64(items->n ? items->n : 1);
  int rc = seen ? sqlite3_prepare_v2(db, "SELECT item FROM main.item2vec_context WHERE model = ?1",
                                     -1, &st, NULL)
                : SQLITE_NOMEM;
  if (rc == SQLITE_OK) {
    memset(seen, 0, items->n ? items->n : 1);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
  }
  while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
    i2v_value v;
    int got = i2v_value_from_column(st, 0, &v);
    if (got < 0) {
      rc = SQLITE_NOMEM;
      break;
    }
    int64_t idx = got ? i2v_vocab_find(items, &v) : -1;
    rc = SQLITE_OK;
    if (idx < 0) continue;
    if (seen[idx]) {
      i2v_vocab_entry first = items->entries[idx];
      first.type = seen[idx];
      char *a = i2v_item_literal(items, &first), *b = i2v_value_literal(&v);
      *pzErr = i2v_duplicate_error(fname, name, "item2vec_context", a, b);
      sqlite3_free(a);
      sqlite3_free(b);
      rc = *pzErr ? SQLITE_CORRUPT : SQLITE_NOMEM;
      break;
    }
    seen[idx] = (unsigned char)v.type;
  }
  if (rc == SQLITE_DONE) rc = SQLITE_OK;
  if (rc != SQLITE_OK && !*pzErr)
    *pzErr =
        rc == SQLITE_NOMEM
            ? sqlite3_mprintf("%s: out of memory reading model '%s'", fname, name)
            : sqlite3_mprintf("%s: cannot read model '%s': %s", fname, name, sqlite3_errmsg(db));
  sqlite3_finalize(st);
  sqlite3_free(seen);
  return rc;
}

/* Grow the packed n x dim matrices of s to hold cap rows. */
static int stored_grow(i2v_stored_model *s, size_t cap) {
  int ovf = 0;
  size_t bytes = i2v_mul_size(i2v_mul_size(cap, (size_t)s->dim, &ovf), sizeof(float), &ovf);
  if (ovf) return SQLITE_NOMEM;
  float *in = sqlite3_realloc64(s->input, bytes);
  if (!in) return SQLITE_NOMEM;
  s->input = in;
  float *out = sqlite3_realloc64(s->output, bytes);
  if (!out) return SQLITE_NOMEM;
  s->output = out;
  return SQLITE_OK;
}

/* update=1's model header: dimension, (a hint of) the item count and the
** params it was trained with. */
static int state_header(sqlite3 *db, const char *fname, const char *name, i2v_stored_model *out,
                        int64_t *nitems, char **pzErr) {
  sqlite3_stmt *st = NULL;
  int has = i2v_model_tables(db);
  if (has < 0) return cannot_read(db, fname, name, sqlite3_errcode(db), pzErr);
  if (!has) {
    *pzErr = sqlite3_mprintf(
        "%s: update=1 continues a stored model, but no model has been trained in "
        "this database; train model '%s' first without update=1",
        fname, name);
    return SQLITE_ERROR;
  }
  int rc = sqlite3_prepare_v2(db,
                              "SELECT dim, items, params FROM main.item2vec_models "
                              "WHERE name = ?1",
                              -1, &st, NULL);
  if (rc != SQLITE_OK) return cannot_read(db, fname, name, rc, pzErr);
  sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
  rc = sqlite3_step(st);
  if (rc == SQLITE_DONE) {
    char *list = NULL;
    sqlite3_finalize(st);
    rc = i2v_model_list(db, &list);
    if (rc != SQLITE_OK) return cannot_read(db, fname, name, rc, pzErr);
    *pzErr = sqlite3_mprintf(
        "%s: update=1 continues a stored model, but there is no model '%s' "
        "(models in this database: %s); train it first without update=1",
        fname, name, list);
    sqlite3_free(list);
    return SQLITE_ERROR;
  }
  if (rc != SQLITE_ROW) {
    rc = cannot_read(db, fname, name, rc, pzErr);
    sqlite3_finalize(st);
    return rc;
  }
  char shown[32];
  out->dim = i2v_header_dim(st, 0, shown, sizeof(shown));
  *nitems = sqlite3_column_int64(st, 1);
  rc = SQLITE_OK;
  if (sqlite3_column_type(st, 2) == SQLITE_TEXT) {
    out->params = sqlite3_mprintf("%s", (const char *)sqlite3_column_text(st, 2));
    if (!out->params) rc = SQLITE_NOMEM;
  }
  if (rc == SQLITE_OK && (out->dim < 1 || *nitems < 0 || *nitems > 0xfffffffe)) {
    *pzErr = sqlite3_mprintf("%s: model '%s' has an invalid header (dim %s, items %lld)", fname,
                             name, shown, (long long)*nitems);
    rc = SQLITE_CORRUPT;
  }
  sqlite3_finalize(st);
  return rc;
}

/* The model has stored context vectors, the half of what training
** continues from that a model trained without save_context=1 lacks. */
static int state_has_context(sqlite3 *db, const char *fname, const char *name, char **pzErr) {
  sqlite3_stmt *st = NULL;
  int64_t ncontext = 0;
  int has = i2v_table_exists(db, "item2vec_context");
  if (has < 0) return cannot_read(db, fname, name, sqlite3_errcode(db), pzErr);
  if (has) {
    int rc = sqlite3_prepare_v2(db, "SELECT count(*) FROM main.item2vec_context WHERE model = ?1",
                                -1, &st, NULL);
    if (rc != SQLITE_OK) return cannot_read(db, fname, name, rc, pzErr);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
      rc = cannot_read(db, fname, name, rc, pzErr);
      sqlite3_finalize(st);
      return rc;
    }
    ncontext = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
  }
  if (ncontext == 0) {
    *pzErr = sqlite3_mprintf(
        "%s: model '%s' has no stored context vectors, which update=1 continues "
        "from (it was trained without save_context=1, or imported); retrain it "
        "once with 'save_context=1' and later updates keep them",
        fname, name);
    return SQLITE_ERROR;
  }
  return SQLITE_OK;
}

/* Both vectors of the item of row st (item, frequency, vector, context)
** into row idx of out. */
static int state_row(sqlite3_stmt *st, i2v_stored_model *out, int64_t idx, const char *fname,
                     const char *name, char **pzErr) {
  float *in = out->input + (size_t)idx * (size_t)out->dim;
  float *ctx = out->output + (size_t)idx * (size_t)out->dim;
  const char *which = "vector";
  char why[96];
  int bad = i2v_column_floats(st, 2, out->dim, in, why, sizeof(why));
  if (!bad) {
    which = "context vector";
    if (sqlite3_column_type(st, 3) == SQLITE_NULL) {
      *pzErr = sqlite3_mprintf(
          "%s: model '%s' has no context vector for item '%s'; retrain it with "
          "'save_context=1'",
          fname, name, (const char *)sqlite3_column_text(st, 0));
      return SQLITE_CORRUPT;
    }
    bad = i2v_column_floats(st, 3, out->dim, ctx, why, sizeof(why));
  }
  if (bad) {
    if (bad == I2V_BLOB_LENGTH)
      *pzErr = sqlite3_mprintf("%s: model '%s' stores the %s of item '%s' as %s", fname, name,
                               which, (const char *)sqlite3_column_text(st, 0), why);
    else
      *pzErr = sqlite3_mprintf("%s: model '%s' has a non-finite value in the %s of item '%s'",
                               fname, name, which, (const char *)sqlite3_column_text(st, 0));
    return SQLITE_CORRUPT;
  }
  sqlite3_int64 freq = sqlite3_column_int64(st, 1);
  out->items.entries[idx].count = freq > 0 ? (uint64_t)freq : 0;
  return SQLITE_OK;
}

/* Both vectors of every item, in the table's key order.  The header's
** count is a hint only, as in i2v_store_load. */
static int state_rows(sqlite3 *db, const char *fname, const char *name, i2v_stored_model *out,
                      int64_t nitems, char **pzErr) {
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(
      db,
      "SELECT v.item, v.frequency, v.vector, c.vector "
      "FROM main.item2vec_vectors AS v LEFT JOIN main.item2vec_context AS c "
      "ON c.model = v.model AND c.item = v.item WHERE v.model = ?1 ORDER BY v.item",
      -1, &st, NULL);
  if (rc != SQLITE_OK) return cannot_read(db, fname, name, rc, pzErr);
  sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
  size_t cap = hinted_rows(nitems, (size_t)out->dim * sizeof(float), 16);
  if (stored_grow(out, cap) != SQLITE_OK) goto nomem;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    i2v_value v;
    int added = 0;
    int got = i2v_value_from_column(st, 0, &v);
    if (got < 0) goto nomem;
    if (!got) {
      *pzErr = sqlite3_mprintf("%s: model '%s' has a NULL item", fname, name);
      rc = SQLITE_CORRUPT;
      goto fail;
    }
    int64_t idx = i2v_vocab_add(&out->items, &v, &added);
    if (idx < 0) goto nomem;
    if (!added) { /* '1' and 1 stored twice by hand: the one rule */
      char *a = i2v_item_literal(&out->items, &out->items.entries[idx]), *b = i2v_value_literal(&v);
      *pzErr = i2v_duplicate_error(fname, name, "item2vec_vectors", a, b);
      sqlite3_free(a);
      sqlite3_free(b);
      rc = *pzErr ? SQLITE_CORRUPT : SQLITE_NOMEM;
      goto fail;
    }
    if ((size_t)idx >= cap) {
      cap *= 2;
      if (stored_grow(out, cap) != SQLITE_OK) goto nomem;
    }
    if ((rc = state_row(st, out, idx, fname, name, pzErr)) != SQLITE_OK) goto fail;
  }
  if (rc != SQLITE_DONE) {
    rc = cannot_read(db, fname, name, rc, pzErr);
    goto fail;
  }
  sqlite3_finalize(st);
  return SQLITE_OK;
nomem:
  rc = SQLITE_NOMEM;
fail:
  sqlite3_finalize(st);
  return rc;
}

int i2v_store_read_state(sqlite3 *db, const char *fname, const char *name, i2v_stored_model *out,
                         char **pzErr) {
  int64_t nitems = 0;
  memset(out, 0, sizeof(*out));
  i2v_vocab_init(&out->items, &i2v_sqlite_alloc);
  int rc = state_header(db, fname, name, out, &nitems, pzErr);
  if (rc == SQLITE_OK) rc = state_has_context(db, fname, name, pzErr);
  if (rc == SQLITE_OK) rc = state_rows(db, fname, name, out, nitems, pzErr);
  out->n = (uint32_t)out->items.n;
  if (rc == SQLITE_OK && out->n == 0) {
    *pzErr = sqlite3_mprintf("%s: model '%s' has no vectors", fname, name);
    rc = SQLITE_CORRUPT;
  }
  /* The join above pairs each vector with the context row of the same SQL
  ** value; a second spelling of an item in item2vec_context is found here. */
  if (rc == SQLITE_OK) rc = check_context_twice(db, fname, name, &out->items, pzErr);
  if (rc != SQLITE_OK) {
    if (rc == SQLITE_NOMEM && !*pzErr)
      *pzErr = sqlite3_mprintf("%s: out of memory reading model '%s'", fname, name);
    i2v_stored_model_free(out);
  }
  return rc;
}

/* Context vectors of a loaded model, for similar_items' score='context':
** the stored rows as they are (not scaled), in the model's row order; items
** without a stored context row keep zeros.  Kept on the model as an
** attachment. */
typedef struct context_rows {
  i2v_attachment base;
  float *rows;
  void *raw;
} context_rows;

static void context_rows_free(i2v_attachment *a) {
  sqlite3_free(((context_rows *)a)->raw);
  sqlite3_free(a);
}
static const i2v_attachment_type context_type = {"context vectors", context_rows_free};

int i2v_model_context(sqlite3 *db, i2v_model *m, const char *fname, const float **out,
                      char **pzErr) {
  sqlite3_stmt *st = NULL;
  void *raw = NULL;
  unsigned char *seen = NULL;
  int rc = SQLITE_OK, found = 0;
  context_rows *cr = (context_rows *)i2v_model_attachment(m, &context_type);
  if (cr) {
    *out = cr->rows;
    return SQLITE_OK;
  }
  int has = i2v_table_exists(db, "item2vec_context");
  if (has < 0) {
    *pzErr = sqlite3_mprintf("%s: %s", fname, sqlite3_errmsg(db));
    return sqlite3_errcode(db) ? sqlite3_errcode(db) : SQLITE_ERROR;
  }
  int ovf = 0;
  size_t bytes = i2v_mul_size(m->n ? m->n : 1, m->stride * sizeof(float), &ovf);
  if (ovf || bytes > SIZE_MAX - 64) goto nomem;
  raw = sqlite3_malloc64(bytes + 64);
  /* Per item, the SQL type of its context row once one was read: an item
  ** stored twice is an error, as in the vectors (i2v_duplicate_error). */
  seen = sqlite3_malloc64(m->n ? m->n : 1);
  if (!raw || !seen) goto nomem;
  float *rows = (float *)(((uintptr_t)raw + 63) & ~(uintptr_t)63);
  memset(rows, 0, bytes);
  memset(seen, 0, m->n ? m->n : 1);
  if (has > 0) {
    rc = sqlite3_prepare_v2(db, "SELECT item, vector FROM main.item2vec_context WHERE model = ?1",
                            -1, &st, NULL);
    if (rc != SQLITE_OK) goto sqlerr;
    sqlite3_bind_text(st, 1, m->name, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      i2v_value v;
      int got = i2v_value_from_column(st, 0, &v);
      if (got < 0) goto nomem;
      int64_t idx = got ? i2v_vocab_find(&m->items, &v) : -1;
      if (idx < 0) continue; /* not an item of the model: ignored */
      if (seen[idx]) {
        i2v_vocab_entry first = m->items.entries[idx];
        first.type = seen[idx];
        char *a = i2v_item_literal(&m->items, &first), *b = i2v_value_literal(&v);
        *pzErr = i2v_duplicate_error(fname, m->name, "item2vec_context", a, b);
        sqlite3_free(a);
        sqlite3_free(b);
        rc = *pzErr ? SQLITE_CORRUPT : SQLITE_NOMEM;
        goto fail;
      }
      seen[idx] = (unsigned char)v.type;
      char why[96];
      int bad = i2v_column_floats(st, 1, m->dim, rows + (size_t)idx * m->stride, why, sizeof(why));
      if (bad != I2V_BLOB_OK) {
        *pzErr =
            bad == I2V_BLOB_LENGTH
                ? sqlite3_mprintf("%s: model '%s' stores the context vector of item '%s' as %s",
                                  fname, m->name, (const char *)sqlite3_column_text(st, 0), why)
                : sqlite3_mprintf("%s: model '%s' has a non-finite context vector", fname, m->name);
        rc = SQLITE_CORRUPT;
        goto fail;
      }
      found++;
    }
    if (rc != SQLITE_DONE) goto sqlerr;
    sqlite3_finalize(st);
    st = NULL;
  }
  if (!found) {
    *pzErr = sqlite3_mprintf(
        "%s: model '%s' has no context vectors; score='context' needs a model "
        "trained with 'save_context=1'",
        fname, m->name);
    rc = SQLITE_ERROR;
    goto fail;
  }
  cr = i2v_model_attach(m, &context_type, sizeof(*cr));
  if (!cr) goto nomem;
  sqlite3_free(seen);
  cr->rows = rows;
  cr->raw = raw;
  *out = rows;
  return SQLITE_OK;

sqlerr:
  *pzErr = sqlite3_mprintf("%s: cannot read the context vectors of '%s': %s", fname, m->name,
                           sqlite3_errmsg(db));
  rc = sqlite3_errcode(db) ? sqlite3_errcode(db) : SQLITE_ERROR;
  goto fail;
nomem:
  *pzErr = sqlite3_mprintf("%s: out of memory", fname);
  rc = SQLITE_NOMEM;
fail:
  sqlite3_finalize(st);
  sqlite3_free(raw);
  sqlite3_free(seen);
  return rc;
}
