/*
** sql/drop.c: item2vec_drop, which removes a model and everything stored
** for it, in one savepoint.
**
** SQL served:
**   SELECT item2vec_drop('old');
**   -- {"model":"old","item2vec_models":1,"item2vec_vectors":9724,
**   --  "item2vec_context":9724,"item2vec_index":1,"item2vec_pairs":52311}
**
** The answer counts the rows removed from each stored table (0 for a table
** the database does not have).  An unknown model is an error that lists the
** models.
**
** How it works.  The stored tables that exist are found and the undo
** statements prepared (i2v_undo_prepare) before SAVEPOINT item2vec_drop.
** Inside it, the model's row in item2vec_models is looked for (in the same
** transaction as the deletes, so no other connection can drop or retrain it
** in between), then its rows are deleted from the dependent tables and from
** item2vec_models last.  The JSON answer is built before RELEASE, so nothing
** can fail once the drop is committed; any failure before rolls back to the
** savepoint and the model stays whole.  Cached copies of the model on this
** connection are dropped afterwards.  It writes the model tables, so it is
** DIRECTONLY (see item2vec.c).
*/
#include <string.h>

#include "sql/drop.h"
#include "sql/store.h"

/* The stored tables, dependents first: item2vec_models goes last. */
static const struct {
  const char *table;
  const char *sql;
} stored[] = {
    {"item2vec_vectors", "DELETE FROM main.item2vec_vectors WHERE model = ?1"},
    {"item2vec_context", "DELETE FROM main.item2vec_context WHERE model = ?1"},
    {"item2vec_index", "DELETE FROM main.item2vec_index WHERE model = ?1"},
    {"item2vec_pairs", "DELETE FROM main.item2vec_pairs WHERE model = ?1"},
    {"item2vec_models", "DELETE FROM main.item2vec_models WHERE name = ?1"},
};
#define N_STORED (sizeof(stored) / sizeof(stored[0]))

/* Run sql with the model bound to ?1: SQLITE_OK, with the rows it deleted
** (or the 1 / 0 of a SELECT's first row) in *n. */
static int run_counted(sqlite3 *db, const char *sql, const char *model, sqlite3_int64 *n) {
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
  *n = 0;
  if (rc != SQLITE_OK) return rc;
  sqlite3_bind_text(st, 1, model, -1, SQLITE_STATIC);
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    *n = 1;
    rc = SQLITE_OK;
  } else if (rc == SQLITE_DONE) {
    *n = sqlite3_stmt_readonly(st) ? 0 : sqlite3_changes64(db);
    rc = SQLITE_OK;
  }
  sqlite3_finalize(st);
  return rc;
}

/* The answer: the model and the rows removed from each table. */
static char *summary(sqlite3 *db, const char *model, const sqlite3_int64 *removed) {
  sqlite3_str *s = sqlite3_str_new(db);
  sqlite3_str_appendall(s, "{\"model\":");
  i2v_json_string(s, model);
  for (size_t k = 0; k < N_STORED; k++) { /* item2vec_models first */
    size_t t = (k + N_STORED - 1) % N_STORED;
    sqlite3_str_appendf(s, ",\"%s\":%lld", stored[t].table, (long long)removed[t]);
  }
  sqlite3_str_appendall(s, "}");
  if (sqlite3_str_errcode(s) != SQLITE_OK) {
    sqlite3_free(sqlite3_str_finish(s));
    return NULL;
  }
  return sqlite3_str_finish(s);
}

/* item2vec_drop(model) */
void i2v_drop_func(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  static const char fname[] = "item2vec_drop";
  sqlite3 *db = sqlite3_context_db_handle(ctx);
  i2v_conn *conn = sqlite3_user_data(ctx);
  sqlite3_int64 removed[N_STORED];
  int has[N_STORED];
  char *json = NULL, *zErr = NULL;
  int rc = SQLITE_OK, left_open = 0;
  i2v_undo undo;
  (void)argc;

  memset(&undo, 0, sizeof(undo));
  memset(removed, 0, sizeof(removed));
  if (sqlite3_value_type(argv[0]) != SQLITE_TEXT) {
    sqlite3_result_error(ctx,
                         "item2vec_drop: the argument must be a model name (text), as in "
                         "item2vec_drop('default'); SELECT name FROM item2vec_models lists them",
                         -1);
    return;
  }
  const char *model = (const char *)sqlite3_value_text(argv[0]);
  for (size_t t = 0; t < N_STORED; t++) {
    has[t] = i2v_table_exists(db, stored[t].table);
    if (has[t] < 0) {
      rc = sqlite3_errcode(db) ? sqlite3_errcode(db) : SQLITE_ERROR;
      i2v_result_error(
          ctx, rc, sqlite3_mprintf("%s: cannot read the schema: %s", fname, sqlite3_errmsg(db)));
      return;
    }
  }
  if (!has[N_STORED - 1]) {
    i2v_result_error(ctx, SQLITE_ERROR,
                     sqlite3_mprintf("%s: no such model '%s': no model has been trained in "
                                     "this database",
                                     fname, model));
    return;
  }

  rc = i2v_undo_prepare(db, "item2vec_drop", "item2vec_models", &undo);
  if (rc == SQLITE_OK) rc = sqlite3_exec(db, "SAVEPOINT item2vec_drop", NULL, NULL, NULL);
  if (rc != SQLITE_OK) goto sqlfail;
  sqlite3_int64 found = 0;
  rc = run_counted(db, "SELECT 1 FROM main.item2vec_models WHERE name = ?1", model, &found);
  if (rc != SQLITE_OK) goto sqlfail;
  if (!found) {
    left_open = !i2v_undo_run(db, &undo);
    i2v_undo_finalize(&undo);
    if (left_open) { /* not reached by any test: the savepoint would not go */
      i2v_result_error(ctx, SQLITE_ERROR,
                       sqlite3_mprintf("%s: no such model '%s' (a transaction is still "
                                       "open: ROLLBACK it)",
                                       fname, model));
      return;
    }
    rc = i2v_no_such_model(db, fname, model, &zErr);
    i2v_result_error(ctx, rc, zErr);
    return;
  }
  for (size_t t = 0; t < N_STORED && rc == SQLITE_OK; t++)
    if (has[t]) rc = run_counted(db, stored[t].sql, model, &removed[t]);
  if (rc != SQLITE_OK) goto sqlfail;
  /* The answer before the release: once the drop is committed, nothing may
  ** fail. */
  json = summary(db, model, removed);
  if (!json) {
    rc = SQLITE_NOMEM;
    goto undo;
  }
  rc = i2v_undo_release(db, &undo);
  if (rc != SQLITE_OK) goto sqlfail;
  i2v_undo_finalize(&undo);
  i2v_conn_clear(conn);
  sqlite3_result_text(ctx, json, -1, sqlite3_free);
  return;

sqlfail:
  zErr = sqlite3_mprintf("%s", sqlite3_errmsg(db));
undo:
  left_open = !i2v_undo_run(db, &undo);
  i2v_undo_finalize(&undo);
  sqlite3_free(json);
  i2v_conn_clear(conn);
  i2v_result_error(
      ctx, rc == SQLITE_OK ? SQLITE_ERROR : rc,
      sqlite3_mprintf(
          "%s: could not drop model '%s': %s; %s", fname, model, zErr ? zErr : sqlite3_errstr(rc),
          left_open ? "its transaction is still open: ROLLBACK it" : "nothing was removed"));
  sqlite3_free(zErr);
}
