/*
** sql/pca.c: the item2vec_project table-valued function: a model's items
** placed on a plane (or in a few dimensions) for pictures.
**
** SQL served:
**   SELECT item, x, y FROM item2vec_project('default', 2);
**   SELECT m.title, p.x, p.y FROM item2vec_project() AS p
**     JOIN movies AS m ON m.movieId = p.item;
**   SELECT item, coords FROM item2vec_project('mymodel', 5);  -- '[x,y,z,..]'
**
** How it works.  item2vec_project is an eponymous virtual table whose hidden
** columns model (default 'default') and dims (default 2) are its arguments.
** xFilter takes the model from the connection's cache (unit-length vectors),
** computes its leading principal components (core/pca.c) and the coordinates
** of every item along them; x, y and z are the first three (NULL past dims),
** coords all of them as a JSON array, and variance the share of the total
** variance the dims components explain (the same on every row).  The
** projection is deterministic: the same model gives the same picture.
*/
#include <stdio.h>
#include <string.h>

#include "core/json.h"
#include "core/pca.h"
#include "sql/pca.h"
#include "sql/store.h"

/* Column numbers, in the order of the CREATE TABLE below. */
#define PRJ_ITEM 0
#define PRJ_X 1
#define PRJ_Y 2
#define PRJ_Z 3
#define PRJ_COORDS 4
#define PRJ_FREQUENCY 5
#define PRJ_VARIANCE 6
#define PRJ_MODEL 7
#define PRJ_DIMS 8

static const char prj_schema[] =
    "CREATE TABLE x(item, x REAL, y REAL, z REAL, coords TEXT, "
    "frequency INTEGER, variance REAL, model HIDDEN, dims HIDDEN)";

#define PRJ_DEFAULT_DIMS 2

typedef i2v_vtab prj_vtab;

typedef struct prj_cursor {
  sqlite3_vtab_cursor base;
  i2v_model *model;
  double *coords; /* n x dims */
  int dims;
  double explained;
  size_t n, pos;
  sqlite3_value *args[2]; /* model, dims as given */
} prj_cursor;

static int prj_connect(sqlite3 *db, void *aux, int argc, const char *const *argv,
                       sqlite3_vtab **ppVtab, char **pzErr) {
  (void)argc;
  (void)argv;
  return i2v_vtab_connect(db, aux, prj_schema, "item2vec_project", ppVtab, pzErr);
}

static int prj_open(sqlite3_vtab *vt, sqlite3_vtab_cursor **ppCur) {
  (void)vt;
  return i2v_vtab_open(sizeof(prj_cursor), ppCur);
}

static void prj_reset(prj_cursor *c) {
  i2v_model_release(c->model);
  c->model = NULL;
  sqlite3_free(c->coords);
  c->coords = NULL;
  c->n = c->pos = 0;
  for (int i = 0; i < 2; i++) {
    sqlite3_value_free(c->args[i]);
    c->args[i] = NULL;
  }
}

static int prj_close(sqlite3_vtab_cursor *cur) {
  prj_reset((prj_cursor *)cur);
  sqlite3_free(cur);
  return SQLITE_OK;
}

/*
** The plan: idxNum bit 1 = model is given, bit 2 = dims; the arguments come
** in that order.  Both are optional; a constraint that is not usable yet (a
** lateral join's outer column) refuses the plan with SQLITE_CONSTRAINT.
*/
static int prj_best_index(sqlite3_vtab *vt, sqlite3_index_info *info) {
  static const i2v_plan plan = {PRJ_MODEL, 2, 0, 1e6, 10000, -1, -1};
  (void)vt;
  return i2v_vtab_plan(info, &plan);
}

/* See prj_best_index for the meaning of idxNum. */
static int prj_filter(sqlite3_vtab_cursor *cur, int idxNum, const char *idxStr, int argc,
                      sqlite3_value **argv) {
  prj_cursor *c = (prj_cursor *)cur;
  sqlite3_vtab *vt = cur->pVtab;
  i2v_conn *conn = ((prj_vtab *)vt)->conn;
  sqlite3_value *mv = NULL, *dv = NULL;
  const char *model_name = "default";
  char *err = NULL;
  int ai = 0, dims = PRJ_DEFAULT_DIMS;
  i2v_pca_result pca;
  (void)idxStr;
  (void)argc;

  prj_reset(c);
  if (idxNum & 1) mv = argv[ai++];
  if (idxNum & 2) dv = argv[ai++];
  if (mv) {
    if (sqlite3_value_type(mv) != SQLITE_TEXT)
      return i2v_vtab_error(vt, SQLITE_ERROR,
                            sqlite3_mprintf("item2vec_project: model must be a model name "
                                            "(text), as in item2vec_project('default', 2)"));
    model_name = (const char *)sqlite3_value_text(mv);
  }
  if (dv) {
    int t = sqlite3_value_numeric_type(dv);
    sqlite3_int64 d = sqlite3_value_int64(dv);
    if (t != SQLITE_INTEGER || d < 1 || d > 4096)
      return i2v_vtab_error(
          vt, SQLITE_ERROR,
          sqlite3_mprintf("item2vec_project: dims must be a positive "
                          "integer, got '%s'",
                          sqlite3_value_text(dv) ? (const char *)sqlite3_value_text(dv) : "NULL"));
    dims = (int)d;
  }
  {
    sqlite3_value *given[2] = {mv, dv};
    for (int i = 0; i < 2; i++)
      if (given[i] && !(c->args[i] = sqlite3_value_dup(given[i]))) return SQLITE_NOMEM;
  }
  int rc = i2v_conn_model(conn, "item2vec_project", model_name, &c->model, &err);
  if (rc != SQLITE_OK) return i2v_vtab_error(vt, rc, err);
  i2v_model *m = c->model;
  if (dims > m->dim)
    return i2v_vtab_error(vt, SQLITE_ERROR,
                          sqlite3_mprintf("item2vec_project: dims %d is more than the "
                                          "model's %d dimensions",
                                          dims, m->dim));
  if (m->n == 0) return SQLITE_OK;
  rc = i2v_pca(m->unit, m->stride, m->n, m->dim, dims, &i2v_sqlite_alloc, &pca);
  if (rc != I2V_OK)
    return i2v_vtab_error(vt, SQLITE_NOMEM, sqlite3_mprintf("item2vec_project: out of memory"));
  c->coords = sqlite3_malloc64((size_t)m->n * (size_t)dims * sizeof(double));
  if (!c->coords) {
    i2v_pca_free(&pca, &i2v_sqlite_alloc);
    return i2v_vtab_error(vt, SQLITE_NOMEM, sqlite3_mprintf("item2vec_project: out of memory"));
  }
  for (size_t i = 0; i < m->n; i++)
    i2v_pca_project(&pca, m->unit + i * m->stride, c->coords + i * (size_t)dims);
  double explained = 0;
  for (int i = 0; i < dims; i++) explained += pca.variance[i];
  c->explained = pca.total_variance > 0 ? explained / pca.total_variance : 0;
  i2v_pca_free(&pca, &i2v_sqlite_alloc);
  c->dims = dims;
  c->n = m->n;
  return SQLITE_OK;
}

static int prj_next(sqlite3_vtab_cursor *cur) {
  ((prj_cursor *)cur)->pos++;
  return SQLITE_OK;
}

static int prj_eof(sqlite3_vtab_cursor *cur) {
  prj_cursor *c = (prj_cursor *)cur;
  return c->pos >= c->n;
}

static int prj_column(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int col) {
  prj_cursor *c = (prj_cursor *)cur;
  const double *xs = c->coords + c->pos * (size_t)c->dims;
  switch (col) {
    case PRJ_ITEM:
      i2v_result_item(ctx, &c->model->items, &c->model->items.entries[c->pos]);
      break;
    case PRJ_X:
    case PRJ_Y:
    case PRJ_Z:
      if (col - PRJ_X < c->dims) sqlite3_result_double(ctx, xs[col - PRJ_X]);
      break;
    case PRJ_COORDS: {
      sqlite3_str *s = sqlite3_str_new(NULL);
      sqlite3_str_appendchar(s, 1, '[');
      for (int i = 0; i < c->dims; i++) {
        char b[40];
        sqlite3_str_appendf(s, "%s%s", i ? "," : "", i2v_json_number(b, sizeof(b), "%.9g", xs[i]));
      }
      sqlite3_str_appendchar(s, 1, ']');
      char *t = sqlite3_str_finish(s);
      if (!t) return SQLITE_NOMEM;
      sqlite3_result_text(ctx, t, -1, sqlite3_free);
      break;
    }
    case PRJ_FREQUENCY:
      sqlite3_result_int64(ctx, (sqlite3_int64)c->model->items.entries[c->pos].count);
      break;
    case PRJ_VARIANCE:
      sqlite3_result_double(ctx, c->explained);
      break;
    case PRJ_MODEL:
      if (c->args[0])
        sqlite3_result_value(ctx, c->args[0]);
      else
        sqlite3_result_text(ctx, "default", -1, SQLITE_STATIC);
      break;
    case PRJ_DIMS:
      if (c->args[1])
        sqlite3_result_value(ctx, c->args[1]);
      else
        sqlite3_result_int(ctx, PRJ_DEFAULT_DIMS);
      break;
  }
  return SQLITE_OK;
}

static int prj_rowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *rowid) {
  *rowid = (sqlite3_int64)((prj_cursor *)cur)->pos + 1;
  return SQLITE_OK;
}

const sqlite3_module i2v_project_module = {
    .iVersion = 0,
    .xCreate = NULL, /* eponymous only */
    .xConnect = prj_connect,
    .xBestIndex = prj_best_index,
    .xDisconnect = i2v_vtab_disconnect,
    .xDestroy = i2v_vtab_disconnect,
    .xOpen = prj_open,
    .xClose = prj_close,
    .xFilter = prj_filter,
    .xNext = prj_next,
    .xEof = prj_eof,
    .xColumn = prj_column,
    .xRowid = prj_rowid,
};
