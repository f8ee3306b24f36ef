/*
** i2v_similar.c: the similar_items table-valued function.
**
** SQL served:
**   SELECT rank, item, similarity FROM similar_items('1', 5);
**   SELECT * FROM similar_items('[1, 260]', 10, 'mymodel');
**   SELECT * FROM similar_items('{"positive":[1,2],"negative":[3]}');
**   SELECT m.title, s.item FROM movies m, similar_items(m.movieId, 3) s;
**
** How it works.  similar_items is an eponymous virtual table whose hidden
** columns id, k and model are its arguments.  xFilter takes the model from the
** connection's cache (loading it when the database changed), builds the query
** vector as gensim's most_similar does (the mean of the query items' unit
** vectors, weighted +1 or -1, scaled to unit length), scores every item by
** dot product in blocks with the dispatched kernel, skips the query items and
** keeps the k best in a bounded heap.  Query items the model does not know
** are ignored; when none is known there are no rows.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "i2v_json.h"
#include "i2v_sqlite.h"
#include "i2v_topk.h"
#include "i2v_vec.h"

/* Column numbers, in the order of the CREATE TABLE below. */
#define SIM_RANK 0
#define SIM_ITEM 1
#define SIM_SIMILARITY 2
#define SIM_ID 3
#define SIM_K 4
#define SIM_MODEL 5

static const char sim_schema[] =
    "CREATE TABLE x(rank INTEGER, item, similarity REAL, "
    "id HIDDEN, k HIDDEN, model HIDDEN)";

#define SIM_DEFAULT_K 10
#define SIM_BLOCK 512

typedef struct sim_vtab {
  sqlite3_vtab base;
  i2v_conn *conn;
} sim_vtab;

typedef struct sim_cursor {
  sqlite3_vtab_cursor base;
  i2v_model *model;
  i2v_scored *results;
  size_t n, pos;
  sqlite3_value *args[3]; /* id, k, model as given, read back by xColumn */
} sim_cursor;

/* The one error helper of this table: replaces any earlier message.  A
** message that could not be allocated (msg NULL) means memory ran out. */
static int sim_error(sqlite3_vtab *vt, int rc, char *msg) {
  sqlite3_free(vt->zErrMsg);
  vt->zErrMsg = msg;
  return msg ? rc : SQLITE_NOMEM;
}

static int sim_connect(sqlite3 *db, void *aux, int argc, const char *const *argv,
                       sqlite3_vtab **ppVtab, char **pzErr) {
  (void)argc;
  (void)argv;
  int rc = sqlite3_declare_vtab(db, sim_schema);
  if (rc != SQLITE_OK) return rc;
  sim_vtab *vt = sqlite3_malloc64(sizeof(*vt));
  if (!vt) {
    *pzErr = sqlite3_mprintf("similar_items: out of memory");
    return SQLITE_NOMEM;
  }
  memset(vt, 0, sizeof(*vt));
  vt->conn = aux;
  sqlite3_vtab_config(db, SQLITE_VTAB_INNOCUOUS);
  *ppVtab = &vt->base;
  return SQLITE_OK;
}

static int sim_disconnect(sqlite3_vtab *vt) {
  sqlite3_free(vt);
  return SQLITE_OK;
}

static int sim_open(sqlite3_vtab *vt, sqlite3_vtab_cursor **ppCur) {
  (void)vt;
  sim_cursor *c = sqlite3_malloc64(sizeof(*c));
  if (!c) return SQLITE_NOMEM;
  memset(c, 0, sizeof(*c));
  *ppCur = &c->base;
  return SQLITE_OK;
}

static void sim_reset(sim_cursor *c) {
  i2v_model_release(c->model);
  c->model = NULL;
  sqlite3_free(c->results);
  c->results = NULL;
  c->n = c->pos = 0;
  for (int i = 0; i < 3; i++) {
    sqlite3_value_free(c->args[i]);
    c->args[i] = NULL;
  }
}

static int sim_close(sqlite3_vtab_cursor *cur) {
  sim_reset((sim_cursor *)cur);
  sqlite3_free(cur);
  return SQLITE_OK;
}

/*
** The plan: idxNum bit 1 = id is given, bit 2 = k, bit 4 = model; the
** arguments come in that order.  An id constraint that is not usable yet
** (a lateral join's outer column) refuses the plan with SQLITE_CONSTRAINT so
** SQLite orders the join; no id at all gets idxNum 0, which xFilter turns
** into an error saying the id is required.
*/
static int sim_best_index(sqlite3_vtab *vt, sqlite3_index_info *info) {
  int at[3] = {-1, -1, -1};
  int unusable_id = 0;
  (void)vt;
  for (int i = 0; i < info->nConstraint; i++) {
    const struct sqlite3_index_constraint *c = &info->aConstraint[i];
    if (c->iColumn < SIM_ID || c->op != SQLITE_INDEX_CONSTRAINT_EQ) continue;
    if (!c->usable) {
      if (c->iColumn == SIM_ID) unusable_id = 1;
      continue;
    }
    at[c->iColumn - SIM_ID] = i;
  }
  if (at[0] < 0) {
    if (unusable_id) return SQLITE_CONSTRAINT;
    /* No id at all: a plan whose xFilter explains what is missing. */
    info->idxNum = 0;
    info->estimatedCost = 1e12;
    return SQLITE_OK;
  }
  int argi = 1, mask = 0;
  for (int k = 0; k < 3; k++) {
    if (at[k] < 0) continue;
    info->aConstraintUsage[at[k]].argvIndex = argi++;
    info->aConstraintUsage[at[k]].omit = 1;
    mask |= 1 << k;
  }
  info->idxNum = mask;
  info->estimatedCost = 1000;
  info->estimatedRows = 10;
  return SQLITE_OK;
}

/* Parse k: a positive integer (an integral real or integer text will do). */
static int read_k(sqlite3_value *v, int64_t *k) {
  i2v_value iv;
  if (i2v_value_from_sql(v, &iv) <= 0) return 0;
  if (iv.type == I2V_INTEGER) {
    *k = iv.i;
  } else if (iv.type == I2V_FLOAT && iv.r == (double)(int64_t)iv.r) {
    *k = (int64_t)iv.r;
  } else if (iv.type == I2V_TEXT &&
             i2v_parse_canonical_int(iv.bytes, iv.n, k)) {
  } else {
    return 0;
  }
  return *k >= 1;
}

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : (x > y);
}

/* See sim_best_index for the meaning of idxNum. */
static int sim_filter(sqlite3_vtab_cursor *cur, int idxNum, const char *idxStr,
                      int argc, sqlite3_value **argv) {
  sim_cursor *c = (sim_cursor *)cur;
  sqlite3_vtab *vt = cur->pVtab;
  i2v_conn *conn = ((sim_vtab *)vt)->conn;
  sqlite3_value *id = NULL, *kv = NULL, *mv = NULL;
  int64_t k = SIM_DEFAULT_K;
  const char *model_name = "default";
  char *err = NULL;
  char jerr[200];
  i2v_query q;
  uint32_t *query_idx = NULL;
  float *qvec = NULL;
  int rc = SQLITE_OK, ai = 0;
  (void)idxStr;
  (void)argc;

  memset(&q, 0, sizeof(q));
  sim_reset(c);
  if (!(idxNum & 1))
    return sim_error(vt, SQLITE_ERROR,
                     sqlite3_mprintf("similar_items: an item id is required, as in "
                                     "SELECT * FROM similar_items('1', 5)"));
  id = argv[ai++];
  if (idxNum & 2) kv = argv[ai++];
  if (idxNum & 4) mv = argv[ai++];
  if (kv && !read_k(kv, &k))
    return sim_error(vt, SQLITE_ERROR,
                     sqlite3_mprintf("similar_items: k must be a positive integer, got '%s'",
                                     sqlite3_value_text(kv) ? (const char *)sqlite3_value_text(kv)
                                                            : "NULL"));
  {
    sqlite3_value *given[3] = {id, kv, mv};
    for (int i = 0; i < 3; i++)
      if (given[i] && !(c->args[i] = sqlite3_value_dup(given[i])))
        return SQLITE_NOMEM;
  }
  if (mv) {
    if (sqlite3_value_type(mv) != SQLITE_TEXT)
      return sim_error(vt, SQLITE_ERROR,
                       sqlite3_mprintf("similar_items: model must be a model name (text)"));
    model_name = (const char *)sqlite3_value_text(mv);
  }
  rc = i2v_conn_model(conn, "similar_items", model_name, &c->model, &err);
  if (rc != SQLITE_OK) return sim_error(vt, rc, err);
  i2v_model *m = c->model;

  /* The query items. */
  i2v_value idv;
  int got = i2v_value_from_sql(id, &idv);
  if (got < 0) return sim_error(vt, SQLITE_NOMEM, sqlite3_mprintf("similar_items: out of memory"));
  if (!got) return SQLITE_OK; /* NULL id: no rows */
  if (idv.type == I2V_TEXT && i2v_json_looks_like(idv.bytes, idv.n)) {
    rc = i2v_json_parse_query(idv.bytes, idv.n, &i2v_sqlite_alloc, &q, jerr,
                              sizeof(jerr));
    if (rc != I2V_OK) {
      i2v_query_free(&q);
      if (rc == I2V_NOMEM) return SQLITE_NOMEM;
      return sim_error(vt, SQLITE_ERROR, sqlite3_mprintf("similar_items: %s", jerr));
    }
  } else {
    q.items = sqlite3_malloc64(sizeof(i2v_query_item));
    if (!q.items) return SQLITE_NOMEM;
    q.alloc = &i2v_sqlite_alloc;
    q.n = q.cap = 1;
    q.items[0].value = idv;
    q.items[0].weight = 1.0f;
  }

  size_t nq = 0;
  query_idx = sqlite3_malloc64((q.n ? q.n : 1) * sizeof(uint32_t));
  qvec = sqlite3_malloc64(m->stride * sizeof(float));
  if (!query_idx || !qvec) {
    rc = SQLITE_NOMEM;
    goto done;
  }
  memset(qvec, 0, m->stride * sizeof(float));
  for (size_t i = 0; i < q.n; i++) {
    int64_t idx = i2v_vocab_find(&m->items, &q.items[i].value);
    if (idx < 0) continue;
    i2v_axpy(q.items[i].weight, m->unit + (size_t)idx * m->stride, qvec, m->dim);
    query_idx[nq++] = (uint32_t)idx;
  }
  if (nq == 0) goto done; /* no known item: no rows */
  i2v_vec_normalize(qvec, m->dim);
  qsort(query_idx, nq, sizeof(uint32_t), cmp_u32);

  {
    size_t want = (size_t)(k < (int64_t)m->n ? k : (int64_t)m->n);
    c->results = sqlite3_malloc64((want ? want : 1) * sizeof(i2v_scored));
    if (!c->results) {
      rc = SQLITE_NOMEM;
      goto done;
    }
    i2v_topk top;
    i2v_topk_init(&top, c->results, want);
    float scores[SIM_BLOCK];
    size_t qi = 0;
    for (size_t start = 0; start < m->n; start += SIM_BLOCK) {
      size_t len = m->n - start < SIM_BLOCK ? m->n - start : SIM_BLOCK;
      i2v_vec_scores(m->unit + start * m->stride, m->stride, len, qvec, m->dim,
                     scores);
      for (size_t r = 0; r < len; r++) {
        uint32_t idx = (uint32_t)(start + r);
        while (qi < nq && query_idx[qi] < idx) qi++;
        if (qi < nq && query_idx[qi] == idx) continue;
        if (i2v_topk_wants(&top, scores[r])) i2v_topk_push(&top, scores[r], idx);
      }
    }
    c->n = i2v_topk_finish(&top);
  }

done:
  i2v_query_free(&q);
  sqlite3_free(query_idx);
  sqlite3_free(qvec);
  if (rc == SQLITE_NOMEM) return sim_error(vt, rc, sqlite3_mprintf("similar_items: out of memory"));
  return rc;
}

static int sim_next(sqlite3_vtab_cursor *cur) {
  ((sim_cursor *)cur)->pos++;
  return SQLITE_OK;
}

static int sim_eof(sqlite3_vtab_cursor *cur) {
  sim_cursor *c = (sim_cursor *)cur;
  return c->pos >= c->n;
}

static int sim_column(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int col) {
  sim_cursor *c = (sim_cursor *)cur;
  const i2v_scored *r = &c->results[c->pos];
  switch (col) {
    case SIM_RANK: sqlite3_result_int64(ctx, (sqlite3_int64)c->pos + 1); break;
    case SIM_ITEM:
      i2v_result_item(ctx, &c->model->items, &c->model->items.entries[r->index]);
      break;
    case SIM_SIMILARITY: sqlite3_result_double(ctx, (double)r->score); break;
    default:
      if (c->args[col - SIM_ID]) {
        sqlite3_result_value(ctx, c->args[col - SIM_ID]);
      } else if (col == SIM_K) {
        sqlite3_result_int(ctx, SIM_DEFAULT_K);
      } else if (col == SIM_MODEL) {
        sqlite3_result_text(ctx, "default", -1, SQLITE_STATIC);
      }
      break;
  }
  return SQLITE_OK;
}

static int sim_rowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *rowid) {
  *rowid = (sqlite3_int64)((sim_cursor *)cur)->pos + 1;
  return SQLITE_OK;
}

static const sqlite3_module similar_module = {
    .iVersion = 0,
    .xCreate = NULL, /* eponymous only */
    .xConnect = sim_connect,
    .xBestIndex = sim_best_index,
    .xDisconnect = sim_disconnect,
    .xDestroy = sim_disconnect,
    .xOpen = sim_open,
    .xClose = sim_close,
    .xFilter = sim_filter,
    .xNext = sim_next,
    .xEof = sim_eof,
    .xColumn = sim_column,
    .xRowid = sim_rowid,
};

int i2v_register_similar(sqlite3 *db, i2v_conn *c) {
  c->refs++;
  return sqlite3_create_module_v2(db, "similar_items", &similar_module, c,
                                  i2v_conn_release);
}
