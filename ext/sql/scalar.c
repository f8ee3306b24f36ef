/*
** sql/scalar.c: the small scalar functions.
**
** SQL served:
**   SELECT item2vec_version();                       -- '0.1.0'
**   SELECT item2vec_similarity('1', '260');          -- cosine, NULL if unknown
**   SELECT item2vec_vector(1, 'default');            -- the stored BLOB
**   SELECT item2vec_to_json(item2vec_vector(1));     -- '[0.12,-0.5,...]'
**
** The model readers (item2vec_similarity, item2vec_vector) answer from the
** connection's cache of loaded models (sql/store.c), given as user data.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/vec.h"
#include "sql/scalar.h"
#include "sql/store.h"

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

/* A model kept for the rest of one statement (sqlite3_set_auxdata): in a
** transaction that has written, i2v_conn_model loads the model for each
** call (a later ROLLBACK TO could take its rows back), so a statement that
** calls these functions row after row keeps what it loaded, as long as
** nothing more was written.  SQLite keeps it while the argument it is tied
** to is a constant, and drops it when the statement ends. */
typedef struct stmt_model {
  i2v_model *m;
  int64_t changes; /* sqlite3_total_changes64 when loaded */
} stmt_model;

static void stmt_model_free(void *p) {
  stmt_model *s = p;
  i2v_model_release(s->m);
  sqlite3_free(s);
}

static int scalar_model(sqlite3_context *ctx, int argc, i2v_conn *conn, const char *fname,
                        const char *name, i2v_model **out, char **pzErr) {
  int64_t changes = sqlite3_total_changes64(conn->db);
  for (int i = 0; i < argc; i++) {
    stmt_model *s = sqlite3_get_auxdata(ctx, i);
    if (s && s->changes == changes && strcmp(s->m->name, name) == 0) {
      s->m->refs++;
      *out = s->m;
      return SQLITE_OK;
    }
  }
  int rc = i2v_conn_model(conn, fname, name, out, pzErr);
  if (rc != SQLITE_OK || !conn->last_fresh) return rc;
  for (int i = 0; i < argc; i++) {
    stmt_model *s = sqlite3_malloc64(sizeof(*s));
    if (!s) break; /* only a lost shortcut */
    s->m = *out;
    s->m->refs++;
    s->changes = changes;
    sqlite3_set_auxdata(ctx, i, s, stmt_model_free);
  }
  return SQLITE_OK;
}

/* item2vec_similarity(a, b [, model]) */
void i2v_similarity_func(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  static const char fname[] = "item2vec_similarity";
  i2v_conn *conn = sqlite3_user_data(ctx);
  const char *name = "default";
  i2v_model *m = NULL;
  char *err = NULL;
  i2v_value a, b;
  if (argc == 3 && !(name = model_arg(ctx, argv[2], fname))) return;
  int rc = scalar_model(ctx, argc, conn, fname, name, &m, &err);
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
void i2v_vector_func(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  static const char fname[] = "item2vec_vector";
  i2v_conn *conn = sqlite3_user_data(ctx);
  const char *name = "default";
  i2v_model *m = NULL;
  char *err = NULL;
  i2v_value a;
  sqlite3_stmt *st = NULL;
  if (argc == 2 && !(name = model_arg(ctx, argv[1], fname))) return;
  int rc = scalar_model(ctx, argc, conn, fname, name, &m, &err);
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
void i2v_to_json_func(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  int type = sqlite3_value_type(argv[0]);
  if (type == SQLITE_NULL) return;
  if (type != SQLITE_BLOB) {
    sqlite3_result_error(ctx, "item2vec_to_json: expected a BLOB of float32 values", -1);
    return;
  }
  const void *b = sqlite3_value_blob(argv[0]);
  int n = sqlite3_value_bytes(argv[0]), bad = 0;
  float *v = sqlite3_malloc64((size_t)n + 4);
  int got = v ? i2v_blob_floats(b, n, 0, v, &bad) : -1;
  if (got != I2V_BLOB_OK) {
    char *msg =
        got == I2V_BLOB_LENGTH
            ? sqlite3_mprintf(
                  "item2vec_to_json: a BLOB of %d bytes is not a float32 vector (its length "
                  "must be a multiple of 4)",
                  n)
        : got == I2V_BLOB_NONFINITE
            ? sqlite3_mprintf("item2vec_to_json: value %d of the BLOB is not a finite number", bad)
            : NULL;
    sqlite3_free(v);
    i2v_result_error(ctx, SQLITE_ERROR, msg);
    return;
  }
  sqlite3_str *s = sqlite3_str_new(sqlite3_context_db_handle(ctx));
  sqlite3_str_appendchar(s, 1, '[');
  for (int i = 0; i < n / 4; i++) {
    char buf[32];
    for (int prec = 6; prec <= 9; prec++) {
      snprintf(buf, sizeof(buf), "%.*g", prec, (double)v[i]);
      if (strtof(buf, NULL) == v[i]) break;
    }
    sqlite3_str_appendf(s, "%s%s", i ? "," : "", buf);
  }
  sqlite3_free(v);
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

void i2v_version_func(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  (void)argv;
  sqlite3_result_text(ctx, I2V_VERSION, -1, SQLITE_STATIC);
}
