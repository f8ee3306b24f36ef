/*
** item2vec.c: the extension's entry point and its small scalar functions.
**
** SQL served:
**   .load ./item2vec
**   SELECT item2vec_version();                       -- '0.1.0'
**   SELECT item2vec_similarity('1', '260');          -- cosine, NULL if unknown
**   SELECT item2vec_vector(1, 'default');            -- the stored BLOB
**   SELECT item2vec_to_json(item2vec_vector(1));     -- '[0.12,-0.5,...]'
**
** How it works.  sqlite3_itemvec_init (the name `.load ./item2vec` looks for,
** built from the letters of the file name) and sqlite3_item2vec_init create
** one i2v_conn per connection, the home of the model cache, and register every
** function and module from a table of rows, stopping at the first failure
** with a message naming it.  The functions that need the connection state
** share it; each registration that owns a reference releases it when SQLite
** drops the function or module.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/vec.h"
#include "sql/common.h"
#include "sql/csv.h"
#include "sql/eval.h"
#include "sql/hnsw.h"
#include "sql/pca.h"
#include "sql/similar.h"
#include "sql/store.h"
#include "sql/train.h"
#include "sql/w2v.h"

SQLITE_EXTENSION_INIT1

#define I2V_VERSION "0.1.0"

static const char *model_arg(sqlite3_context *ctx, sqlite3_value *v, const char *fname) {
  if (sqlite3_value_type(v) != SQLITE_TEXT) {
    char *msg = sqlite3_mprintf("%s: the model argument must be a model name (text)", fname);
    sqlite3_result_error(ctx, msg ? msg : "out of memory", -1);
    sqlite3_free(msg);
    return NULL;
  }
  return (const char *)sqlite3_value_text(v);
}

/* item2vec_similarity(a, b [, model]) */
static void similarity_func(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  static const char fname[] = "item2vec_similarity";
  i2v_conn *conn = sqlite3_user_data(ctx);
  const char *name = "default";
  i2v_model *m = NULL;
  char *err = NULL;
  i2v_value a, b;
  if (argc == 3 && !(name = model_arg(ctx, argv[2], fname))) return;
  int rc = i2v_conn_model(conn, fname, name, &m, &err);
  if (rc != SQLITE_OK) {
    i2v_result_error(ctx, rc, err);
    return;
  }
  int got_a = i2v_value_from_sql(argv[0], &a), got_b = i2v_value_from_sql(argv[1], &b);
  if (got_a < 0 || got_b < 0) {
    sqlite3_result_error_nomem(ctx);
  } else if (got_a && got_b) {
    int64_t ia = i2v_vocab_find(&m->items, &a), ib = i2v_vocab_find(&m->items, &b);
    if (ia >= 0 && ib >= 0)
      sqlite3_result_double(ctx, (double)i2v_dot(m->unit + (size_t)ia * m->stride,
                                                 m->unit + (size_t)ib * m->stride, m->dim));
  }
  i2v_model_release(m);
}

/* item2vec_vector(item [, model]): the BLOB as stored. */
static void vector_func(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  static const char fname[] = "item2vec_vector";
  i2v_conn *conn = sqlite3_user_data(ctx);
  const char *name = "default";
  i2v_model *m = NULL;
  char *err = NULL;
  i2v_value a;
  sqlite3_stmt *st = NULL;
  if (argc == 2 && !(name = model_arg(ctx, argv[1], fname))) return;
  int rc = i2v_conn_model(conn, fname, name, &m, &err);
  if (rc != SQLITE_OK) {
    i2v_result_error(ctx, rc, err);
    return;
  }
  int got = i2v_value_from_sql(argv[0], &a);
  if (got < 0) {
    i2v_model_release(m);
    sqlite3_result_error_nomem(ctx);
    return;
  }
  int64_t idx = got ? i2v_vocab_find(&m->items, &a) : -1;
  if (idx >= 0) {
    /* The cache knows the stored value and type of the item; fetch by it. */
    rc = sqlite3_prepare_v2(conn->db,
                            "SELECT vector FROM main.item2vec_vectors "
                            "WHERE model = ?1 AND item = ?2",
                            -1, &st, NULL);
    if (rc == SQLITE_OK) {
      sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
      i2v_bind_item(st, 2, &m->items, &m->items.entries[idx]);
      rc = sqlite3_step(st);
      if (rc == SQLITE_ROW) {
        sqlite3_result_value(ctx, sqlite3_column_value(st, 0));
        rc = SQLITE_OK;
      } else if (rc == SQLITE_DONE) {
        rc = SQLITE_OK;
      }
    }
    if (rc != SQLITE_OK) {
      char *msg = sqlite3_mprintf("%s: %s", fname, sqlite3_errmsg(conn->db));
      i2v_result_error(ctx, rc, msg);
    }
    sqlite3_finalize(st);
  }
  i2v_model_release(m);
}

/* item2vec_to_json(blob): '[0.125,-0.5,...]' with the shortest digits that
** read back as the same float32. */
static void to_json_func(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  int type = sqlite3_value_type(argv[0]);
  if (type == SQLITE_NULL) return;
  if (type != SQLITE_BLOB) {
    sqlite3_result_error(ctx, "item2vec_to_json: expected a BLOB of float32 values", -1);
    return;
  }
  const unsigned char *b = sqlite3_value_blob(argv[0]);
  int n = sqlite3_value_bytes(argv[0]);
  if (n % 4 != 0) {
    char *msg = sqlite3_mprintf(
        "item2vec_to_json: a BLOB of %d bytes is not a float32 vector (its length "
        "must be a multiple of 4)",
        n);
    sqlite3_result_error(ctx, msg ? msg : "out of memory", -1);
    sqlite3_free(msg);
    return;
  }
  sqlite3_str *s = sqlite3_str_new(sqlite3_context_db_handle(ctx));
  sqlite3_str_appendchar(s, 1, '[');
  for (int i = 0; i < n / 4; i++) {
    uint32_t u = (uint32_t)b[4 * i] | (uint32_t)b[4 * i + 1] << 8 | (uint32_t)b[4 * i + 2] << 16 |
                 (uint32_t)b[4 * i + 3] << 24;
    float f;
    char buf[32];
    memcpy(&f, &u, 4);
    if (!isfinite(f)) {
      char *msg =
          sqlite3_mprintf("item2vec_to_json: value %d of the BLOB is not a finite number", i);
      sqlite3_free(sqlite3_str_finish(s));
      sqlite3_result_error(ctx, msg ? msg : "out of memory", -1);
      sqlite3_free(msg);
      return;
    }
    for (int prec = 6; prec <= 9; prec++) {
      snprintf(buf, sizeof(buf), "%.*g", prec, (double)f);
      if (strtof(buf, NULL) == f) break;
    }
    sqlite3_str_appendf(s, "%s%s", i ? "," : "", buf);
  }
  sqlite3_str_appendchar(s, 1, ']');
  int rc = sqlite3_str_errcode(s);
  char *out = sqlite3_str_finish(s);
  if (rc != SQLITE_OK || !out) {
    sqlite3_free(out);
    if (rc == SQLITE_TOOBIG)
      sqlite3_result_error_toobig(ctx);
    else
      sqlite3_result_error_nomem(ctx);
    return;
  }
  sqlite3_result_text(ctx, out, -1, sqlite3_free);
}

static void version_func(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  (void)argv;
  sqlite3_result_text(ctx, I2V_VERSION, -1, SQLITE_STATIC);
}

typedef struct function_row {
  const char *name;
  int nArg;
  int flags;
  void (*fn)(sqlite3_context *, int, sqlite3_value **);
  int needs_conn;
} function_row;

/* Pure functions are DETERMINISTIC|INNOCUOUS.  The model readers are
** INNOCUOUS but not DETERMINISTIC: they only read item2vec's own tables, but a
** model can be retrained between two statements. */
#define PURE (SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS)
#define READS_MODEL (SQLITE_UTF8 | SQLITE_INNOCUOUS)
static const function_row function_table[] = {
    {"item2vec_version", 0, PURE, version_func, 0},
    {"item2vec_to_json", 1, PURE, to_json_func, 0},
    {"item2vec_similarity", 2, READS_MODEL, similarity_func, 1},
    {"item2vec_similarity", 3, READS_MODEL, similarity_func, 1},
    {"item2vec_vector", 1, READS_MODEL, vector_func, 1},
    {"item2vec_vector", 2, READS_MODEL, vector_func, 1},
};

/* After a failed registration: remove what was registered, since SQLite
** unloads the library when its entry point fails and nothing may keep
** pointing into it.  Removing a function or module drops its reference to
** the connection state.  Every registration below must be undone here
** (tests/oom/i2v_oom.c's "load" scenario crashes otherwise). */
static void unregister_all(sqlite3 *db) {
  static const struct {
    const char *name;
    int nArg;
  } directonly[] = {{"item2vec_train", -1},    {"item2vec_export", 2}, {"item2vec_export", 3},
                    {"item2vec_import", 1},    {"item2vec_import", 2}, {"item2vec_import", 3},
                    {"item2vec_evaluate", -1}, {"item2vec_index", -1}};
  static const char *const modules[] = {"similar_items", "item2vec_csv", "item2vec_project"};
  for (size_t i = 0; i < sizeof(function_table) / sizeof(function_table[0]); i++) {
    const function_row *r = &function_table[i];
    sqlite3_create_function_v2(db, r->name, r->nArg, r->flags, NULL, NULL, NULL, NULL, NULL);
  }
  for (size_t i = 0; i < sizeof(directonly) / sizeof(directonly[0]); i++)
    sqlite3_create_function_v2(db, directonly[i].name, directonly[i].nArg,
                               SQLITE_UTF8 | SQLITE_DIRECTONLY, NULL, NULL, NULL, NULL, NULL);
  for (size_t i = 0; i < sizeof(modules) / sizeof(modules[0]); i++)
    sqlite3_create_module_v2(db, modules[i], NULL, NULL, NULL);
}

static int register_all(sqlite3 *db, char **pzErrMsg) {
  i2v_conn *c = sqlite3_malloc64(sizeof(*c));
  int rc = SQLITE_OK;
  const char *failed = NULL;
  if (!c) {
    if (pzErrMsg) *pzErrMsg = sqlite3_mprintf("item2vec: out of memory");
    return SQLITE_NOMEM;
  }
  memset(c, 0, sizeof(*c));
  c->db = db;
  c->refs = 1; /* ours until registration ends */
  c->stamp_version = -1;
  for (size_t i = 0; i < sizeof(function_table) / sizeof(function_table[0]); i++) {
    const function_row *r = &function_table[i];
    if (r->needs_conn) c->refs++;
    rc = sqlite3_create_function_v2(db, r->name, r->nArg, r->flags, r->needs_conn ? c : NULL, r->fn,
                                    NULL, NULL, r->needs_conn ? i2v_conn_release : NULL);
    if (rc != SQLITE_OK) {
      failed = r->name;
      break;
    }
  }
  if (rc == SQLITE_OK && (rc = i2v_register_train(db, c)) != SQLITE_OK) failed = "item2vec_train";
  if (rc == SQLITE_OK && (rc = i2v_register_similar(db, c)) != SQLITE_OK) failed = "similar_items";
  if (rc == SQLITE_OK && (rc = i2v_register_csv(db, c)) != SQLITE_OK) failed = "item2vec_csv";
  if (rc == SQLITE_OK && (rc = i2v_register_w2v(db, c)) != SQLITE_OK)
    failed = "item2vec_import/item2vec_export";
  if (rc == SQLITE_OK && (rc = i2v_register_index(db, c)) != SQLITE_OK) failed = "item2vec_index";
  if (rc == SQLITE_OK && (rc = i2v_register_evaluate(db, c)) != SQLITE_OK)
    failed = "item2vec_evaluate";
  if (rc == SQLITE_OK && (rc = i2v_register_project(db, c)) != SQLITE_OK)
    failed = "item2vec_project";
  if (failed && pzErrMsg)
    *pzErrMsg = sqlite3_mprintf("item2vec: could not register %s: %s", failed, sqlite3_errstr(rc));
  if (failed) unregister_all(db);
  i2v_conn_release(c);
  return rc;
}

#ifdef _WIN32
__declspec(dllexport)
#else
__attribute__((visibility("default")))
#endif
    int sqlite3_itemvec_init(sqlite3 *db, char **pzErrMsg, const sqlite3_api_routines *pApi) {
  SQLITE_EXTENSION_INIT2(pApi);
  return register_all(db, pzErrMsg);
}

#ifdef _WIN32
__declspec(dllexport)
#else
__attribute__((visibility("default")))
#endif
    int sqlite3_item2vec_init(sqlite3 *db, char **pzErrMsg, const sqlite3_api_routines *pApi) {
  SQLITE_EXTENSION_INIT2(pApi);
  return register_all(db, pzErrMsg);
}
