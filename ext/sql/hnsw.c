/*
** sql/hnsw.c: the item2vec_index SQL function, and loading a stored index
** for similar_items.
**
** SQL served:
**   SELECT item2vec_index('default');                        -- build, store
**   SELECT item2vec_index();                                 -- the same
**   SELECT item2vec_index('big', 'M=24', 'ef_construction=300', 'ef_search=128');
**   SELECT * FROM similar_items(1, 10, 'big');               -- uses it
**   SELECT * FROM similar_items(1, 10, 'big') WHERE exact = 1; -- ignores it
**   DELETE FROM item2vec_index WHERE model = 'big';          -- drops it
** returns a JSON summary: {"model":"big","items":...,"bytes":...,"seconds":...}
**
** Storage (created when missing):
**   item2vec_index(model TEXT NOT NULL, chunk INTEGER NOT NULL, params TEXT,
**                  data BLOB NOT NULL, PRIMARY KEY (model, chunk))
** The serialised index (layout in core/hnsw.c) is cut into chunks of at most
** 8 MiB (less when SQLITE_LIMIT_LENGTH is lower), numbered from 0; params (JSON, on every chunk)
*records how it was
** built.  Training a model of the same name deletes its index
** (sql/store.c), in the same savepoint as the new vectors.
**
** How it works.  item2vec_index loads the model through the connection's
** cache, builds the graph on worker threads (core/hnsw.c) while this, the
** calling thread, polls for sqlite3_interrupt and prints progress when
** verbose (i2v_poller, sql/driver.c), then replaces the model's chunks in one
** savepoint.  similar_items calls i2v_index_attach once per loaded model:
** it reads the chunks with incremental blob I/O straight into one buffer and
** hands it to i2v_hnsw_load, which checks it against the model (item count,
** dimension, hash of the item keys) and checks every field and neighbour.
** An index for other items (the model was changed by hand) is ignored and
** the exact scan answers; a damaged one is an error naming the fix.
*/
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/hnsw.h"
#include "sql/driver.h"
#include "sql/hnsw.h"

#define INDEX_CHUNK ((size_t)8 << 20)

static const char index_schema[] =
    "CREATE TABLE IF NOT EXISTS main.item2vec_index("
    "model TEXT NOT NULL, chunk INTEGER NOT NULL, params TEXT, "
    "data BLOB NOT NULL, PRIMARY KEY (model, chunk))";

/* What a loaded model knows of its stored index, once looked for: kept on
** the model as an attachment.  A read error is not remembered (the next
** query looks again), a damaged index is (its message, every time). */
typedef struct index_state {
  i2v_attachment base;
  i2v_hnsw *index; /* NULL: none, or built for other rows */
  char *error;     /* why it is unusable: damaged */
} index_state;

static void index_state_free(i2v_attachment *a) {
  index_state *st = (index_state *)a;
  i2v_hnsw_free(st->index);
  sqlite3_free(st->error);
  sqlite3_free(st);
}
static const i2v_attachment_type index_type = {"approximate index", index_state_free};

/* Remember what was found: index h (or NULL), or error (a damaged index).
** Takes both.  SQLITE_OK, or SQLITE_NOMEM with nothing kept. */
static int remember_index(i2v_model *m, i2v_hnsw *h, char *error) {
  index_state *st = i2v_model_attach(m, &index_type, sizeof(*st));
  if (!st) {
    i2v_hnsw_free(h);
    sqlite3_free(error);
    return SQLITE_NOMEM;
  }
  st->index = h;
  st->error = error;
  return SQLITE_OK;
}

/* A hash of the model's item keys in row order: ties an index to the rows
** it was built over. */
static uint64_t model_items_hash(const i2v_model *m) {
  uint64_t h = 0x243f6a8885a308d3ULL ^ m->n;
  for (uint32_t i = 0; i < m->n; i++) {
    const i2v_vocab_entry *e = &m->items.entries[i];
    uint64_t k;
    if (e->key_is_int) {
      k = (uint64_t)e->v.i;
    } else {
      const unsigned char *p = (const unsigned char *)i2v_vocab_bytes(&m->items, e);
      k = 0xcbf29ce484222325ULL ^ e->type;
      for (uint32_t j = 0; j < e->len; j++) k = (k ^ p[j]) * 0x100000001b3ULL;
    }
    h = i2v_hnsw_hash_add(h, k);
  }
  return h;
}

/* Read the chunks of model m's index into one buffer.  *blob is NULL when
** there is none.  Chunks must be numbered 0, 1, 2, ... */
static int read_chunks(sqlite3 *db, const char *model, unsigned char **blob, size_t *len,
                       char **why) {
  sqlite3_stmt *st = NULL;
  sqlite3_blob *b = NULL;
  unsigned char *buf = NULL;
  sqlite3_int64 total = 0, count = 0;
  int rc;
  *blob = NULL;
  *len = 0;
  rc = sqlite3_prepare_v2(db,
                          "SELECT sum(length(data)), count(*) FROM main.item2vec_index "
                          "WHERE model = ?1",
                          -1, &st, NULL);
  if (rc != SQLITE_OK) goto sqlerr;
  sqlite3_bind_text(st, 1, model, -1, SQLITE_STATIC);
  if ((rc = sqlite3_step(st)) != SQLITE_ROW) goto sqlerr;
  total = sqlite3_column_int64(st, 0);
  count = sqlite3_column_int64(st, 1);
  sqlite3_finalize(st);
  st = NULL;
  if (count == 0) return SQLITE_OK;
  if (total <= 0 || (sqlite3_uint64)total > SIZE_MAX - 64) {
    *why = sqlite3_mprintf("its chunks are empty");
    return SQLITE_CORRUPT;
  }
  buf = sqlite3_malloc64((sqlite3_uint64)total);
  if (!buf) return SQLITE_NOMEM;
  rc = sqlite3_prepare_v2(db,
                          "SELECT rowid, chunk, length(data), typeof(data) FROM "
                          "main.item2vec_index WHERE model = ?1 ORDER BY chunk",
                          -1, &st, NULL);
  if (rc != SQLITE_OK) goto sqlerr;
  sqlite3_bind_text(st, 1, model, -1, SQLITE_STATIC);
  size_t at = 0;
  sqlite3_int64 want = 0;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    sqlite3_int64 rowid = sqlite3_column_int64(st, 0);
    sqlite3_int64 chunk = sqlite3_column_int64(st, 1);
    sqlite3_int64 n = sqlite3_column_int64(st, 2);
    const char *type = (const char *)sqlite3_column_text(st, 3);
    if (sqlite3_column_type(st, 1) != SQLITE_INTEGER || chunk != want++ || !type ||
        strcmp(type, "blob") != 0 || n < 0 || (sqlite3_uint64)n > (sqlite3_uint64)total - at) {
      *why = sqlite3_mprintf("its chunks are not numbered 0, 1, 2, ... or are not BLOBs");
      rc = SQLITE_CORRUPT;
      goto fail;
    }
    if (n > 0) {
      rc = sqlite3_blob_open(db, "main", "item2vec_index", "data", rowid, 0, &b);
      if (rc == SQLITE_OK) rc = sqlite3_blob_read(b, buf + at, (int)n, 0);
      sqlite3_blob_close(b);
      b = NULL;
      if (rc != SQLITE_OK) goto sqlerr;
    }
    at += (size_t)n;
  }
  if (rc != SQLITE_DONE) goto sqlerr;
  sqlite3_finalize(st);
  if (at != (size_t)total) {
    sqlite3_free(buf);
    *why = sqlite3_mprintf("its chunks changed while being read");
    return SQLITE_CORRUPT;
  }
  *blob = buf;
  *len = at;
  return SQLITE_OK;

sqlerr:
  *why = sqlite3_mprintf("%s", sqlite3_errmsg(db));
  if (rc == SQLITE_OK || rc == SQLITE_ROW || rc == SQLITE_DONE) rc = SQLITE_ERROR;
fail:
  sqlite3_finalize(st);
  sqlite3_free(buf);
  return rc;
}

int i2v_index_attach(sqlite3 *db, i2v_model *m, const char *fname, i2v_hnsw **out, char **pzErr) {
  unsigned char *blob = NULL;
  size_t len = 0;
  char *why = NULL;
  char err[256];
  index_state *known = (index_state *)i2v_model_attachment(m, &index_type);
  *out = NULL;
  if (known && known->error) {
    *pzErr = sqlite3_mprintf("%s: %s", fname, known->error);
    return SQLITE_ERROR;
  }
  if (known) {
    *out = known->index;
    return SQLITE_OK;
  }
  int exists = i2v_table_exists(db, "item2vec_index");
  if (exists < 0) { /* not remembered: the next query asks again */
    int code = sqlite3_errcode(db);
    *pzErr = sqlite3_mprintf("%s: cannot read the index of model '%s': %s", fname, m->name,
                             sqlite3_errmsg(db));
    return code != SQLITE_OK ? code : SQLITE_ERROR;
  }
  if (!exists) return remember_index(m, NULL, NULL);
  int rc = read_chunks(db, m->name, &blob, &len, &why);
  if (rc == SQLITE_NOMEM) {
    sqlite3_free(why);
    *pzErr = sqlite3_mprintf("%s: out of memory loading the index of model '%s'", fname, m->name);
    return rc;
  }
  if (rc == SQLITE_OK && !blob) return remember_index(m, NULL, NULL);
  if (rc == SQLITE_OK) {
    i2v_hnsw *h = NULL;
    int lrc = i2v_hnsw_load(blob, len, m->n, m->dim, model_items_hash(m), &i2v_sqlite_alloc, &h,
                            err, sizeof(err));
    if (lrc == I2V_OK) {
      if ((rc = remember_index(m, h, NULL)) == SQLITE_OK) *out = h;
      return rc;
    }
    /* Built for other rows (the model was edited by hand): not used. */
    if (lrc == I2V_HNSW_STALE) return remember_index(m, NULL, NULL);
    if (lrc == I2V_NOMEM) {
      *pzErr = sqlite3_mprintf("%s: out of memory loading the index of model '%s'", fname, m->name);
      return SQLITE_NOMEM;
    }
    why = sqlite3_mprintf("%s", err);
    rc = SQLITE_CORRUPT;
  }
  if (rc != SQLITE_CORRUPT) {
    /* A read error (busy, I/O): not remembered, the next query retries. */
    *pzErr = sqlite3_mprintf("%s: cannot read the index of model '%s': %s", fname, m->name,
                             why ? why : sqlite3_errstr(rc));
    sqlite3_free(why);
    return rc;
  }
  char *error = sqlite3_mprintf(
      "the stored index of model '%s' is damaged: %s; rebuild it with "
      "SELECT item2vec_index('%s'), drop it with DELETE FROM item2vec_index "
      "WHERE model = '%s', or query with exact = 1",
      m->name, why ? why : "unreadable", m->name, m->name);
  sqlite3_free(why);
  if (!error || remember_index(m, NULL, error) != SQLITE_OK) return SQLITE_NOMEM;
  *pzErr = sqlite3_mprintf("%s: %s", fname, error);
  return SQLITE_ERROR;
}

/* ---- item2vec_index(model, opt, ...) --------------------------------- */

/* Replace the stored index of `model` with h, in one savepoint. */
static int write_index(sqlite3 *db, const char *model, i2v_hnsw *h, const char *params,
                       int *nchunks, char **why) {
  sqlite3_stmt *st = NULL;
  size_t len = 0;
  int rc;
  const unsigned char *bytes = i2v_hnsw_bytes(h, &len);
  /* A chunk is one row: with the model's name, the params and the record's
  ** own bytes it must stay within SQLITE_LIMIT_LENGTH. */
  size_t chunk = INDEX_CHUNK;
  size_t overhead = strlen(model) + strlen(params) + 64;
  int limit = sqlite3_limit(db, SQLITE_LIMIT_LENGTH, -1);
  i2v_undo undo;
  *nchunks = 0;
  if (limit > 0 && (size_t)limit < chunk + overhead) {
    if ((size_t)limit < overhead + 4096) {
      *why = sqlite3_mprintf(
          "SQLITE_LIMIT_LENGTH (%d bytes) leaves no room for a chunk of the "
          "index; raise it",
          limit);
      return SQLITE_TOOBIG;
    }
    chunk = (size_t)limit - overhead;
  }
  /* The table first, then the undo statements, then the savepoint (see
  ** i2v_undo_prepare: a failed write must be undone even when SQLite
  ** refuses new statements). */
  memset(&undo, 0, sizeof(undo));
  rc = sqlite3_exec(db, index_schema, NULL, NULL, NULL);
  if (rc == SQLITE_OK) rc = i2v_undo_prepare(db, "item2vec_index", "item2vec_index", &undo);
  if (rc != SQLITE_OK) goto sqlerr_nosp;
  rc = sqlite3_exec(db, "SAVEPOINT item2vec_index", NULL, NULL, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_prepare_v2(db, "DELETE FROM main.item2vec_index WHERE model = ?1", -1, &st, NULL);
  if (rc == SQLITE_OK) {
    sqlite3_bind_text(st, 1, model, -1, SQLITE_STATIC);
    rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);
  }
  sqlite3_finalize(st);
  st = NULL;
  if (rc == SQLITE_OK)
    rc = sqlite3_prepare_v2(db,
                            "INSERT INTO main.item2vec_index(model, chunk, params, data) "
                            "VALUES (?1, ?2, ?3, ?4)",
                            -1, &st, NULL);
  if (rc != SQLITE_OK) goto sqlerr;
  i2v_hnsw_to_le(h);
  sqlite3_bind_text(st, 1, model, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 3, params, -1, SQLITE_STATIC);
  for (size_t at = 0; at < len && rc == SQLITE_OK; at += chunk) {
    size_t n = len - at < chunk ? len - at : chunk;
    sqlite3_bind_int(st, 2, (*nchunks)++);
    sqlite3_bind_blob64(st, 4, bytes + at, n, SQLITE_STATIC);
    rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);
    sqlite3_reset(st);
  }
  i2v_hnsw_from_le(h);
  if (rc != SQLITE_OK) goto sqlerr;
  sqlite3_finalize(st);
  st = NULL;
  rc = i2v_undo_release(db, &undo);
  if (rc != SQLITE_OK) goto sqlerr;
  i2v_undo_finalize(&undo);
  return SQLITE_OK;

sqlerr:
  *why = sqlite3_mprintf("%s", sqlite3_errmsg(db));
  sqlite3_finalize(st);
  i2v_undo_run(db, &undo);
  i2v_undo_finalize(&undo);
  return rc;
sqlerr_nosp:
  *why = sqlite3_mprintf("%s", sqlite3_errmsg(db));
  i2v_undo_finalize(&undo);
  return rc;
}

void i2v_index_func(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  static const char fname[] = "item2vec_index";
  sqlite3 *db = sqlite3_context_db_handle(ctx);
  i2v_conn *conn = sqlite3_user_data(ctx);
  i2v_hnsw_params p;
  i2v_model *m = NULL;
  i2v_hnsw *h = NULL;
  i2v_poller bp;
  char err[512];
  char params[256];
  char *zErr = NULL, *why = NULL;
  int rc, nchunks = 0;
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

  memset(&bp, 0, sizeof(bp));
  if (argc >= 1 && sqlite3_value_type(argv[0]) != SQLITE_TEXT) {
    sqlite3_result_error(ctx, "item2vec_index: the first argument must be a model name (text)", -1);
    return;
  }
  /* No argument: the model 'default', as elsewhere. */
  const char *model = argc >= 1 ? (const char *)sqlite3_value_text(argv[0]) : "default";
  i2v_hnsw_params_init(&p, ncpu > 0 ? (int)ncpu : 1, isatty(2));
  for (int i = 1; i < argc; i++) {
    const char *arg = (const char *)sqlite3_value_text(argv[i]);
    if (sqlite3_value_type(argv[i]) != SQLITE_TEXT || !arg) {
      sqlite3_result_error(ctx, "item2vec_index: options are 'name=value' strings, as in 'M=16'",
                           -1);
      return;
    }
    if (i2v_hnsw_params_set(&p, arg, fname, err, sizeof(err)) != I2V_OK) {
      sqlite3_result_error(ctx, err, -1);
      return;
    }
  }
  /* An index that could not be stored is refused before it is built. */
  rc = i2v_store_check_writable(db, fname, &zErr);
  if (rc == SQLITE_OK) rc = i2v_conn_model(conn, fname, model, &m, &zErr);
  if (rc != SQLITE_OK) {
    i2v_result_error(ctx, rc, zErr);
    return;
  }
  if (m->n == 0) {
    zErr = sqlite3_mprintf("%s: model '%s' has no items to index", fname, model);
    rc = SQLITE_ERROR;
    goto done;
  }
  rc = i2v_poller_open(&bp, db, fname, "items", p.verbose, &zErr);
  if (rc != SQLITE_OK) goto done;
  int hrc = i2v_hnsw_build(&p, m->unit, m->stride, m->dim, m->n, model_items_hash(m),
                           &i2v_sqlite_alloc, i2v_poller_poll, &bp, &h, err, sizeof(err));
  double seconds = i2v_now() - bp.t0;
  i2v_poller_close(&bp);
  if (hrc != I2V_OK) {
    rc = hrc == I2V_NOMEM ? SQLITE_NOMEM : hrc == I2V_CANCELLED ? SQLITE_INTERRUPT : SQLITE_ERROR;
    zErr = sqlite3_mprintf("%s: cannot index model '%s': %s%s", fname, model, err,
                           hrc == I2V_CANCELLED ? "; the stored index is unchanged" : "");
    goto done;
  }
  i2v_hnsw_params_json(&p, params, sizeof(params));
  {
    /* The summary's buffer comes before the write: once the index is
    ** committed nothing may fail, or the caller would see an error for an
    ** index that was stored. */
    size_t len = 0;
    i2v_hnsw_bytes(h, &len);
    sqlite3_str *js = sqlite3_str_new(db);
    i2v_json_string(js, model);
    char *quoted = sqlite3_str_finish(js);
    size_t cap = quoted ? strlen(quoted) + 320 : 0;
    char *json = quoted ? sqlite3_malloc64(cap) : NULL;
    if (!json) {
      sqlite3_free(quoted);
      rc = SQLITE_NOMEM;
      goto done;
    }
    rc = write_index(db, model, h, params, &nchunks, &why);
    if (rc != SQLITE_OK) {
      sqlite3_free(quoted);
      sqlite3_free(json);
      zErr = sqlite3_mprintf("%s: could not store the index of model '%s': %s", fname, model,
                             why ? why : sqlite3_errstr(rc));
      goto done;
    }
    snprintf(json, cap,
             "{\"model\":%s,\"kind\":\"hnsw\",\"items\":%u,\"dim\":%d,\"M\":%d,"
             "\"ef_construction\":%d,\"ef_search\":%d,\"levels\":%d,\"bytes\":%llu,"
             "\"chunks\":%d,\"threads\":%d,\"seconds\":%.3f}",
             quoted, m->n, m->dim, p.M, p.ef_construction, p.ef_search, i2v_hnsw_max_level(h) + 1,
             (unsigned long long)len, nchunks, p.threads, seconds);
    sqlite3_free(quoted);
    sqlite3_result_text(ctx, json, -1, sqlite3_free);
  }

done:
  i2v_poller_close(&bp);
  i2v_hnsw_free(h);
  i2v_model_release(m);
  sqlite3_free(why);
  if (rc != SQLITE_OK)
    i2v_result_error(ctx, rc, zErr);
  else
    sqlite3_free(zErr);
}
