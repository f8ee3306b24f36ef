/*
** sql/similar.c: the similar_items table-valued function.
**
** SQL served:
**   SELECT rank, item, similarity FROM similar_items('1', 5);
**   SELECT * FROM similar_items('[1, 260]', 10, 'mymodel');
**   SELECT * FROM similar_items('{"positive":[1,2],"negative":[3]}');
**   SELECT m.title, s.item FROM movies m, similar_items(m.movieId, 3) s;
**   SELECT * FROM similar_items(1, 10, 'default', '[2, 3]');    -- exclude
**   SELECT * FROM similar_items(1, 10) WHERE only = '[5, 6, 7]'; -- candidates
**   SELECT * FROM similar_items(1, 10) WHERE exact = 1;          -- no index
**
** How it works.  similar_items is an eponymous virtual table whose hidden
** columns id, k, model, exclude, only, exact and ef are its arguments, by
** position or as WHERE column = value.  xFilter takes the model from the
** connection's cache (loading it when the database changed) once per
** statement: a lateral join over many rows calls xFilter once per row on the
** same cursor, which keeps the model, so one statement answers from one
** version of the model.  The query vector is built as gensim's most_similar
** builds it (the mean of the query items' unit vectors, weighted +1 or -1,
** scaled to unit length; one item is its own unit row).  Then one of three
** searches keeps the k best in a bounded heap:
**   - only: the candidates listed, scored one by one;
**   - the approximate index (item2vec_index), when the model has one and
**     exact is not set: a graph search wide enough for k plus the items
**     left out, re-scored exactly;
**   - otherwise the exact scan: every row scored with the dispatched kernel
**     in blocks, the left-out items' scores set to -inf before the block is
**     offered to the heap.
** The query items themselves and the exclude list are left out of every
** search, before the top k is taken.  Query items the model does not know
** are ignored; when none is known there are no rows.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hnsw.h"
#include "core/json.h"
#include "core/topk.h"
#include "core/vec.h"
#include "sql/hnsw.h"
#include "sql/similar.h"
#include "sql/store.h"

/* Column numbers, in the order of the CREATE TABLE below. */
#define SIM_RANK 0
#define SIM_ITEM 1
#define SIM_SIMILARITY 2
#define SIM_ID 3
#define SIM_K 4
#define SIM_MODEL 5
#define SIM_EXCLUDE 6
#define SIM_ONLY 7
#define SIM_EXACT 8
#define SIM_EF 9
#define SIM_SCORE 10
#define SIM_NARGS 8 /* hidden columns, id .. score */

static const char sim_schema[] =
    "CREATE TABLE x(rank INTEGER, item, similarity REAL, "
    "id HIDDEN, k HIDDEN, model HIDDEN, exclude HIDDEN, only HIDDEN, "
    "exact HIDDEN, ef HIDDEN, score HIDDEN)";

#define SIM_DEFAULT_K 10
#define SIM_BLOCK 512
/* The two-pass exact scan (scan_two_pass) from this many rows, up to this k. */
#define SIM_TWO_PASS_MIN_ROWS 8192
#define SIM_TWO_PASS_MAX_K 1024
/* Beyond this many left-out items the graph search would have to widen so
** far that the exact scan is as fast; it is used instead. */
#define SIM_ANN_MAX_SKIP 2048
/* How many of a query's items the graph search starts from. */
#define SIM_ANN_MAX_FROM 64
/* How much wider the default search is for a query of several items. */
#define SIM_ANN_WIDER 4

typedef i2v_vtab sim_vtab;

typedef struct sim_cursor {
  sqlite3_vtab_cursor base;
  i2v_model *model; /* kept across the xFilter calls of one statement */
  i2v_scored *results;
  size_t results_cap;
  size_t n, pos;
  float *qbuf; /* query vector: stride floats, zero padded, aligned */
  void *qbuf_raw;
  size_t qbuf_cap;
  uint32_t *skip; /* sorted indices left out: query items and exclude */
  size_t skip_cap;
  uint32_t *cand; /* sorted candidate indices of `only` */
  size_t cand_cap;
  float *qp; /* the query for the int8 first pass */
  size_t qp_cap;
  i2v_scored *pass; /* first-pass heap (k) */
  size_t pass_cap;
  i2v_scored *maybe; /* first-pass candidates */
  size_t maybe_cap;
  sqlite3_value *args[SIM_NARGS]; /* hidden columns as given, for xColumn */
} sim_cursor;

static int sim_connect(sqlite3 *db, void *aux, int argc, const char *const *argv,
                       sqlite3_vtab **ppVtab, char **pzErr) {
  (void)argc;
  (void)argv;
  return i2v_vtab_connect(db, aux, sim_schema, "similar_items", ppVtab, pzErr);
}

static int sim_open(sqlite3_vtab *vt, sqlite3_vtab_cursor **ppCur) {
  (void)vt;
  return i2v_vtab_open(sizeof(sim_cursor), ppCur);
}

static int sim_close(sqlite3_vtab_cursor *cur) {
  sim_cursor *c = (sim_cursor *)cur;
  i2v_model_release(c->model);
  sqlite3_free(c->results);
  sqlite3_free(c->qbuf_raw);
  sqlite3_free(c->skip);
  sqlite3_free(c->cand);
  sqlite3_free(c->qp);
  sqlite3_free(c->pass);
  sqlite3_free(c->maybe);
  for (int i = 0; i < SIM_NARGS; i++) sqlite3_value_free(c->args[i]);
  sqlite3_free(c);
  return SQLITE_OK;
}

/*
** The plan.  idxNum bit (1 << j) means hidden column SIM_ID + j has an
** equality constraint: bit 1 id, 2 k, 4 model, 8 exclude, 16 only, 32 exact,
** 64 ef; the values come in argv in that order.  A constraint on any of them
** that is not usable yet (a lateral join's outer column) refuses the plan
** with SQLITE_CONSTRAINT so SQLite orders the join; no id at all gets idxNum 0,
** which xFilter turns into an error saying the id is required.  Rows come
** out best first, so ORDER BY rank or ORDER BY similarity DESC is consumed.
*/
static int sim_best_index(sqlite3_vtab *vt, sqlite3_index_info *info) {
  int at[SIM_NARGS];
  int unusable = 0;
  (void)vt;
  for (int j = 0; j < SIM_NARGS; j++) at[j] = -1;
  for (int i = 0; i < info->nConstraint; i++) {
    const struct sqlite3_index_constraint *c = &info->aConstraint[i];
    if (c->iColumn < SIM_ID || c->op != SQLITE_INDEX_CONSTRAINT_EQ) continue;
    if (!c->usable) {
      unusable = 1;
      continue;
    }
    at[c->iColumn - SIM_ID] = i;
  }
  /* An argument that is not known yet (another table's column in a lateral
  ** join): not this plan, so that table is read first. */
  if (unusable) return SQLITE_CONSTRAINT;
  if (at[0] < 0) {
    /* No id at all: a plan whose xFilter explains what is missing. */
    info->idxNum = 0;
    info->estimatedCost = 1e12;
    return SQLITE_OK;
  }
  int argi = 1, mask = 0;
  for (int j = 0; j < SIM_NARGS; j++) {
    if (at[j] < 0) continue;
    info->aConstraintUsage[at[j]].argvIndex = argi++;
    info->aConstraintUsage[at[j]].omit = 1;
    mask |= 1 << j;
  }
  info->idxNum = mask;
  info->estimatedCost = 1000;
  info->estimatedRows = 10;
  if (info->nOrderBy == 1) {
    const struct sqlite3_index_orderby *o = &info->aOrderBy[0];
    if ((o->iColumn == SIM_RANK && !o->desc) || (o->iColumn == SIM_SIMILARITY && o->desc))
      info->orderByConsumed = 1;
  }
  return SQLITE_OK;
}

/* Parse a positive integer (an integral real or integer text will do). */
static int read_positive(sqlite3_value *v, int64_t *k) {
  i2v_value iv;
  if (i2v_value_from_sql(v, &iv) <= 0) return 0;
  if (iv.type == I2V_INTEGER) {
    *k = iv.i;
  } else if (iv.type == I2V_FLOAT && iv.r >= 1 && iv.r < 9e18 && iv.r == (double)(int64_t)iv.r) {
    *k = (int64_t)iv.r;
  } else if (iv.type == I2V_TEXT && i2v_parse_canonical_int(iv.bytes, iv.n, k)) {
  } else {
    return 0;
  }
  return *k >= 1;
}

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : (x > y);
}

/* Sort and drop duplicates; returns the new length. */
static size_t sort_unique(uint32_t *a, size_t n) {
  if (n < 2) return n;
  qsort(a, n, sizeof(uint32_t), cmp_u32);
  size_t w = 1;
  for (size_t r = 1; r < n; r++)
    if (a[r] != a[w - 1]) a[w++] = a[r];
  return w;
}

/* Grow *buf to hold n elements of size bytes (contents kept). */
static int reserve(void **buf, size_t *cap, size_t n, size_t size) {
  if (n <= *cap) return SQLITE_OK;
  size_t nc = *cap ? *cap : 16;
  while (nc < n) nc *= 2;
  void *p = sqlite3_realloc64(*buf, (sqlite3_uint64)nc * size);
  if (!p) return SQLITE_NOMEM;
  *buf = p;
  *cap = nc;
  return SQLITE_OK;
}

/* Append the model indices of the items in v (a JSON array, or one item)
** to (*out)[*n..].  Unknown items are ignored.  Returns SQLITE_OK, or an
** error with *msg set. */
static int collect_items(const i2v_model *m, sqlite3_value *v, const char *what, uint32_t **out,
                         size_t *cap, size_t *n, char **msg) {
  i2v_value iv;
  int got = i2v_value_from_sql(v, &iv);
  if (got < 0) {
    *msg = sqlite3_mprintf("similar_items: out of memory");
    return SQLITE_NOMEM;
  }
  if (!got) return SQLITE_OK; /* NULL: nothing */
  if (iv.type == I2V_TEXT && i2v_json_looks_like(iv.bytes, iv.n)) {
    const char *s = iv.bytes;
    size_t i = 0;
    while (i < iv.n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) i++;
    if (s[i] != '[') {
      *msg = sqlite3_mprintf(
          "similar_items: %s must be a JSON array of items, "
          "as in '[1, 2, 3]'",
          what);
      return SQLITE_ERROR;
    }
    i2v_query q;
    char jerr[200];
    memset(&q, 0, sizeof(q));
    int rc = i2v_json_parse_query(iv.bytes, iv.n, &i2v_sqlite_alloc, &q, jerr, sizeof(jerr));
    if (rc == I2V_OK && reserve((void **)out, cap, *n + q.n, sizeof(uint32_t)) != SQLITE_OK)
      rc = I2V_NOMEM;
    if (rc == I2V_OK) {
      for (size_t j = 0; j < q.n; j++) {
        int64_t idx = i2v_vocab_find(&m->items, &q.items[j].value);
        if (idx >= 0) (*out)[(*n)++] = (uint32_t)idx;
      }
    }
    i2v_query_free(&q);
    if (rc == I2V_NOMEM) return SQLITE_NOMEM;
    if (rc != I2V_OK) {
      *msg = sqlite3_mprintf("similar_items: %s: %s", what, jerr);
      return SQLITE_ERROR;
    }
    return SQLITE_OK;
  }
  int64_t idx = i2v_vocab_find(&m->items, &iv);
  if (idx < 0) return SQLITE_OK;
  if (reserve((void **)out, cap, *n + 1, sizeof(uint32_t)) != SQLITE_OK) return SQLITE_NOMEM;
  (*out)[(*n)++] = (uint32_t)idx;
  return SQLITE_OK;
}

/* The query vector into c->qbuf (or *qv pointing at the item's own row when
** there is one positive item), the query items into c->skip[0..*nq).
** *qv is NULL when the model knows none of the items. */
static int build_query(sim_cursor *c, sqlite3_value *id, const float **qv, size_t *nq, char **msg) {
  const i2v_model *m = c->model;
  i2v_value idv;
  *qv = NULL;
  *nq = 0;
  int got = i2v_value_from_sql(id, &idv);
  if (got < 0) {
    *msg = sqlite3_mprintf("similar_items: out of memory");
    return SQLITE_NOMEM;
  }
  if (!got) return SQLITE_OK; /* NULL id: no rows */
  if (!(idv.type == I2V_TEXT && i2v_json_looks_like(idv.bytes, idv.n))) {
    int64_t idx = i2v_vocab_find(&m->items, &idv);
    if (idx < 0) return SQLITE_OK;
    if (reserve((void **)&c->skip, &c->skip_cap, 1, sizeof(uint32_t)) != SQLITE_OK)
      return SQLITE_NOMEM;
    c->skip[0] = (uint32_t)idx;
    *nq = 1;
    *qv = m->unit + (size_t)idx * m->stride;
    return SQLITE_OK;
  }
  i2v_query q;
  char jerr[200];
  int rc;
  memset(&q, 0, sizeof(q));
  rc = i2v_json_parse_query(idv.bytes, idv.n, &i2v_sqlite_alloc, &q, jerr, sizeof(jerr));
  if (rc != I2V_OK) {
    i2v_query_free(&q);
    if (rc == I2V_NOMEM) return SQLITE_NOMEM;
    *msg = sqlite3_mprintf("similar_items: %s", jerr);
    return SQLITE_ERROR;
  }
  if (reserve((void **)&c->skip, &c->skip_cap, q.n ? q.n : 1, sizeof(uint32_t)) != SQLITE_OK) {
    i2v_query_free(&q);
    return SQLITE_NOMEM;
  }
  float *v = c->qbuf;
  memset(v, 0, m->stride * sizeof(float));
  for (size_t i = 0; i < q.n; i++) {
    int64_t idx = i2v_vocab_find(&m->items, &q.items[i].value);
    if (idx < 0) continue;
    i2v_axpy(q.items[i].weight, m->unit + (size_t)idx * m->stride, v, m->dim);
    c->skip[(*nq)++] = (uint32_t)idx;
  }
  i2v_query_free(&q);
  if (*nq == 0) return SQLITE_OK;
  i2v_vec_normalize(v, m->dim);
  *qv = v;
  return SQLITE_OK;
}

/* The exact scan over every row, one pass; skip[0..nskip) sorted. */
static void scan_rows(const i2v_model *m, const float *rows, const float *qv, const uint32_t *skip,
                      size_t nskip, i2v_topk *top) {
  float scores[SIM_BLOCK];
  size_t si = 0;
  float thr = -INFINITY; /* a score must beat this to enter */
  for (size_t start = 0; start < m->n; start += SIM_BLOCK) {
    size_t len = m->n - start < SIM_BLOCK ? m->n - start : SIM_BLOCK;
    i2v_vec_scores(rows + start * m->stride, m->stride, len, qv, m->dim, scores);
    for (; si < nskip && skip[si] < start + len; si++) scores[skip[si] - start] = -INFINITY;
    /* Rows come in index order, so a tie with the worst kept one (which has
    ** a smaller index) does not enter: strictly greater is the test. */
    for (size_t r = 0; r < len; r++) {
      if (scores[r] > thr) {
        i2v_topk_push(top, scores[r], (uint32_t)(start + r));
        if (top->n == top->k) thr = top->heap[0].score;
      }
    }
  }
}

/* The int8 copy of m's unit rows, made on first use: code = round(value *
** 127 / code_max), code_max the largest |value| in the model (which the
** loader found), 1 when all are 0. */
static int model_codes(i2v_model *m) {
  if (m->codes) return SQLITE_OK;
  size_t cstride = ((size_t)m->dim + 31) & ~(size_t)31;
  int ovf = 0;
  size_t bytes = i2v_mul_size(m->n, cstride, &ovf);
  signed char *codes = ovf ? NULL : sqlite3_malloc64(bytes + 1);
  if (!codes) return SQLITE_NOMEM;
  i2v_prefault(codes, bytes);
  if (m->code_max == 0.0f) m->code_max = 1.0f;
  i2v_vec_quantize_i8(m->unit, m->stride, m->n, m->dim, 127.0f / m->code_max, codes, cstride);
  m->codes = codes;
  m->cstride = cstride;
  return SQLITE_OK;
}

/*
** The exact scan in two passes, for models big enough that reading every
** float row is what a query costs.  Pass 1 reads the int8 codes (a quarter
** of the bytes) and keeps every row whose approximate score could still be
** in the top k; pass 2 scores those rows exactly.  The answer is the same as
** the one-pass scan's, not an approximation: with u = code_max / 127, a
** code is within u/2 of its value, so an approximate score is within
** eps = u/2 * |q|_1 (plus float rounding) of the exact one.  Every row of
** the exact top k then has an approximate score >= T - 2 eps, T the k-th best
** approximate score, and pass 1 keeps all of those (its threshold only rises
** towards T).  Returns 0 when it cannot run (memory), and the caller scans
** in one pass.
*/
static int scan_two_pass(sim_cursor *c, i2v_model *m, const float *qv, const uint32_t *skip,
                         size_t nskip, i2v_topk *top) {
  size_t k = top->k;
  if (model_codes(m) != SQLITE_OK ||
      reserve((void **)&c->qp, &c->qp_cap, m->cstride, sizeof(float)) != SQLITE_OK ||
      reserve((void **)&c->pass, &c->pass_cap, k, sizeof(i2v_scored)) != SQLITE_OK ||
      reserve((void **)&c->maybe, &c->maybe_cap, 4 * k + SIM_BLOCK, sizeof(i2v_scored)) !=
          SQLITE_OK)
    return 0;
  float unit = m->code_max / 127.0f;
  double l1 = 0.0;
  for (int d = 0; d < m->dim; d++) l1 += fabs((double)qv[d]);
  /* Quantisation, then float32 rounding of the dim products and sums. */
  float eps = (float)(0.5 * unit * l1 + 4.0 * m->dim * 0x1p-24 * m->code_max * l1 + 1e-6);
  i2v_vec_i8_query(qv, m->dim, unit, m->cstride, c->qp);

  i2v_topk pass;
  i2v_topk_init(&pass, c->pass, k);
  float scores[SIM_BLOCK];
  float thr = -INFINITY; /* pass 1's k-th best so far */
  size_t si = 0, nmaybe = 0;
  for (size_t start = 0; start < m->n; start += SIM_BLOCK) {
    size_t len = m->n - start < SIM_BLOCK ? m->n - start : SIM_BLOCK;
    i2v_vec_scores_i8_rows(m->codes + start * m->cstride, m->cstride, len, c->qp, scores);
    for (; si < nskip && skip[si] < start + len; si++) scores[skip[si] - start] = -INFINITY;
    float keep = thr - 2 * eps;
    for (size_t r = 0; r < len; r++) {
      if (!(scores[r] >= keep) || scores[r] == -INFINITY) continue; /* or left out */
      if (nmaybe == c->maybe_cap &&
          reserve((void **)&c->maybe, &c->maybe_cap, nmaybe + 1, sizeof(i2v_scored)) != SQLITE_OK)
        return 0;
      c->maybe[nmaybe].score = scores[r];
      c->maybe[nmaybe++].index = (uint32_t)(start + r);
      if (scores[r] > thr || pass.n < k) {
        i2v_topk_push(&pass, scores[r], (uint32_t)(start + r));
        if (pass.n == k) {
          thr = pass.heap[0].score;
          keep = thr - 2 * eps;
        }
      }
    }
  }
  float keep = pass.n == k ? thr - 2 * eps : -INFINITY;
  uint32_t idx[64];
  float exact[64];
  size_t ni = 0;
  for (size_t i = 0; i <= nmaybe; i++) {
    if (i < nmaybe && c->maybe[i].score >= keep) idx[ni++] = c->maybe[i].index;
    if (ni == 64 || (i == nmaybe && ni)) {
      i2v_vec_scores_idx(m->unit, m->stride, idx, ni, qv, m->dim, exact);
      for (size_t j = 0; j < ni; j++)
        if (i2v_topk_wants(top, exact[j])) i2v_topk_push(top, exact[j], idx[j]);
      ni = 0;
    }
  }
  return 1;
}

/* The exact scan: two passes when the model is big and k small. */
static void scan_all(sim_cursor *c, i2v_model *m, const float *qv, const uint32_t *skip,
                     size_t nskip, i2v_topk *top) {
  if (m->n >= SIM_TWO_PASS_MIN_ROWS && top->k > 0 && top->k <= SIM_TWO_PASS_MAX_K &&
      scan_two_pass(c, m, qv, skip, nskip, top))
    return;
  top->n = 0;
  scan_rows(m, m->unit, qv, skip, nskip, top);
}

/* Score the candidates cand[0..ncand) (sorted, unique), leaving out skip. */
static void scan_only(const i2v_model *m, const float *rows, const float *qv, const uint32_t *cand,
                      size_t ncand, const uint32_t *skip, size_t nskip, i2v_topk *top) {
  size_t si = 0;
  for (size_t i = 0; i < ncand; i++) {
    uint32_t idx = cand[i];
    while (si < nskip && skip[si] < idx) si++;
    if (si < nskip && skip[si] == idx) continue;
    float s = i2v_dot(rows + (size_t)idx * m->stride, qv, m->dim);
    if (i2v_topk_wants(top, s)) i2v_topk_push(top, s, idx);
  }
}

/* The graph search: true when it answered (the model has a usable index). */
static int scan_index(const i2v_model *m, const float *qv, const uint32_t *from, size_t nfrom,
                      const uint32_t *skip, size_t nskip, size_t want, int64_t ef, i2v_topk *top) {
  i2v_hnsw *h = m->index;
  /* By default a query of several items searches SIM_ANN_WIDER times wider:
  ** its neighbours are not linked to any one item, and on unclustered
  ** vectors the default width finds about 0.7 of them (README). */
  size_t width = (size_t)(ef > 0       ? ef
                          : nfrom == 1 ? i2v_hnsw_ef_search(h)
                                       : SIM_ANN_WIDER * (int64_t)i2v_hnsw_ef_search(h));
  if (width < want + nskip) width = want + nskip;
  i2v_scored *found = NULL;
  size_t nfound = 0;
  /* The walk starts from the query's own items: a one-item query from
  ** that item's row, a list also from where the walk down from the top ends. */
  if (i2v_hnsw_search_from(h, m->unit, m->stride, m->dim, qv, from, nfrom, width, &found,
                           &nfound) != I2V_OK)
    return 0;
  for (size_t i = 0; i < nfound; i++) {
    uint32_t idx = found[i].index;
    if (nskip && bsearch(&idx, skip, nskip, sizeof(uint32_t), cmp_u32)) continue;
    if (i2v_topk_wants(top, found[i].score)) i2v_topk_push(top, found[i].score, idx);
  }
  return 1;
}

/* See sim_best_index for the meaning of idxNum. */
static int sim_filter(sqlite3_vtab_cursor *cur, int idxNum, const char *idxStr, int argc,
                      sqlite3_value **argv) {
  sim_cursor *c = (sim_cursor *)cur;
  sqlite3_vtab *vt = cur->pVtab;
  i2v_conn *conn = ((sim_vtab *)vt)->conn;
  sqlite3_value *given[SIM_NARGS] = {0};
  int64_t k = SIM_DEFAULT_K, ef = 0;
  int exact = 0;
  const char *model_name = "default";
  char *err = NULL;
  int rc = SQLITE_OK, ai = 0;
  (void)idxStr;

  c->n = c->pos = 0;
  if (!(idxNum & 1))
    return i2v_vtab_error(vt, SQLITE_ERROR,
                          sqlite3_mprintf("similar_items: an item id is required, as in "
                                          "SELECT * FROM similar_items('1', 5)"));
  for (int j = 0; j < SIM_NARGS && ai < argc; j++)
    if (idxNum & (1 << j)) given[j] = argv[ai++];
  for (int j = 0; j < SIM_NARGS; j++) {
    sqlite3_value_free(c->args[j]);
    c->args[j] = NULL;
    if (given[j] && !(c->args[j] = sqlite3_value_dup(given[j])))
      return i2v_vtab_error(vt, SQLITE_NOMEM, sqlite3_mprintf("similar_items: out of memory"));
  }
  if (given[1] && !read_positive(given[1], &k))
    return i2v_vtab_error(
        vt, SQLITE_ERROR,
        sqlite3_mprintf(
            "similar_items: k must be a positive integer, got '%s'",
            sqlite3_value_text(given[1]) ? (const char *)sqlite3_value_text(given[1]) : "NULL"));
  if (given[2]) {
    if (sqlite3_value_type(given[2]) != SQLITE_TEXT)
      return i2v_vtab_error(vt, SQLITE_ERROR,
                            sqlite3_mprintf("similar_items: model must be a model name (text)"));
    model_name = (const char *)sqlite3_value_text(given[2]);
  }
  if (given[5] && sqlite3_value_type(given[5]) != SQLITE_NULL) {
    int t = sqlite3_value_type(given[5]);
    exact = sqlite3_value_int(given[5]);
    if ((t != SQLITE_INTEGER && t != SQLITE_FLOAT) || (exact != 0 && exact != 1) ||
        sqlite3_value_double(given[5]) != exact)
      return i2v_vtab_error(vt, SQLITE_ERROR,
                            sqlite3_mprintf("similar_items: exact must be 0 or 1, got '%s'",
                                            (const char *)sqlite3_value_text(given[5])));
  }
  if (given[6] && sqlite3_value_type(given[6]) != SQLITE_NULL &&
      (!read_positive(given[6], &ef) || ef > 100000))
    return i2v_vtab_error(
        vt, SQLITE_ERROR,
        sqlite3_mprintf("similar_items: ef must be an integer from 1 to 100000, got '%s'",
                        (const char *)sqlite3_value_text(given[6])));

  int by_context = 0;
  if (given[7] && sqlite3_value_type(given[7]) != SQLITE_NULL) {
    const char *sc = (const char *)sqlite3_value_text(given[7]);
    if (sc && strcmp(sc, "context") == 0)
      by_context = 1;
    else if (!sc || strcmp(sc, "cosine") != 0)
      return i2v_vtab_error(vt, SQLITE_ERROR,
                            sqlite3_mprintf("similar_items: score must be 'cosine' or 'context', "
                                            "got '%s'",
                                            sc ? sc : "?"));
  }

  /* The model: the one this cursor already answers from in this statement,
  ** or the connection's current one. */
  if (!c->model || strcmp(c->model->name, model_name) != 0) {
    i2v_model_release(c->model);
    c->model = NULL;
    rc = i2v_conn_model(conn, "similar_items", model_name, &c->model, &err);
    if (rc != SQLITE_OK) return i2v_vtab_error(vt, rc, err);
  }
  i2v_model *m = c->model;
  if (reserve(&c->qbuf_raw, &c->qbuf_cap, m->stride + 16, sizeof(float)) != SQLITE_OK) goto nomem;
  c->qbuf = (float *)(((uintptr_t)c->qbuf_raw + 63) & ~(uintptr_t)63);

  const float *qv = NULL;
  size_t nq = 0, nskip = 0, ncand = 0;
  rc = build_query(c, given[0], &qv, &nq, &err);
  if (rc != SQLITE_OK) goto fail;
  if (!qv) return SQLITE_OK; /* no known item: no rows */
  /* The query's items (the first of skip, before it is sorted). */
  uint32_t from[SIM_ANN_MAX_FROM];
  size_t nfrom = nq < SIM_ANN_MAX_FROM ? nq : SIM_ANN_MAX_FROM;
  memcpy(from, c->skip, nfrom * sizeof(uint32_t));
  nskip = nq;
  if (given[3]) {
    rc = collect_items(m, given[3], "exclude", &c->skip, &c->skip_cap, &nskip, &err);
    if (rc != SQLITE_OK) goto fail;
  }
  nskip = sort_unique(c->skip, nskip);
  int only = given[4] && sqlite3_value_type(given[4]) != SQLITE_NULL;
  if (only) {
    rc = collect_items(m, given[4], "only", &c->cand, &c->cand_cap, &ncand, &err);
    if (rc != SQLITE_OK) goto fail;
    ncand = sort_unique(c->cand, ncand);
  }

  size_t want = (size_t)(k < (int64_t)m->n ? k : (int64_t)m->n);
  if (only && want > ncand) want = ncand;
  if (reserve((void **)&c->results, &c->results_cap, want ? want : 1, sizeof(i2v_scored)) !=
      SQLITE_OK)
    goto nomem;
  i2v_topk top;
  i2v_topk_init(&top, c->results, want);
  if (by_context) {
    /* score='context': the query against the output vectors, exactly. */
    rc = i2v_model_context(conn->db, m, "similar_items", &err);
    if (rc != SQLITE_OK) goto fail;
    if (only)
      scan_only(m, m->context, qv, c->cand, ncand, c->skip, nskip, &top);
    else
      scan_rows(m, m->context, qv, c->skip, nskip, &top);
  } else if (only) {
    scan_only(m, m->unit, qv, c->cand, ncand, c->skip, nskip, &top);
  } else {
    int answered = 0;
    if (!exact && nskip <= SIM_ANN_MAX_SKIP) {
      rc = i2v_index_attach(conn->db, m, "similar_items", &err);
      if (rc != SQLITE_OK) goto fail;
      if (m->index) answered = scan_index(m, qv, from, nfrom, c->skip, nskip, want, ef, &top);
    }
    if (!answered) scan_all(c, m, qv, c->skip, nskip, &top);
  }
  c->n = i2v_topk_finish(&top);
  return SQLITE_OK;

nomem:
  rc = SQLITE_NOMEM;
  err = sqlite3_mprintf("similar_items: out of memory");
fail:
  return i2v_vtab_error(vt, rc, err);
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
    case SIM_RANK:
      sqlite3_result_int64(ctx, (sqlite3_int64)c->pos + 1);
      break;
    case SIM_ITEM:
      i2v_result_item(ctx, &c->model->items, &c->model->items.entries[r->index]);
      break;
    case SIM_SIMILARITY:
      sqlite3_result_double(ctx, (double)r->score);
      break;
    default:
      if (c->args[col - SIM_ID]) {
        sqlite3_result_value(ctx, c->args[col - SIM_ID]);
      } else if (col == SIM_K) {
        sqlite3_result_int(ctx, SIM_DEFAULT_K);
      } else if (col == SIM_MODEL) {
        sqlite3_result_text(ctx, "default", -1, SQLITE_STATIC);
      } else if (col == SIM_EXACT) {
        sqlite3_result_int(ctx, 0);
      } else if (col == SIM_SCORE) {
        sqlite3_result_text(ctx, "cosine", -1, SQLITE_STATIC);
      }
      break;
  }
  return SQLITE_OK;
}

static int sim_rowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *rowid) {
  *rowid = (sqlite3_int64)((sim_cursor *)cur)->pos + 1;
  return SQLITE_OK;
}

const sqlite3_module i2v_similar_module = {
    .iVersion = 0,
    .xCreate = NULL, /* eponymous only */
    .xConnect = sim_connect,
    .xBestIndex = sim_best_index,
    .xDisconnect = i2v_vtab_disconnect,
    .xDestroy = i2v_vtab_disconnect,
    .xOpen = sim_open,
    .xClose = sim_close,
    .xFilter = sim_filter,
    .xNext = sim_next,
    .xEof = sim_eof,
    .xColumn = sim_column,
    .xRowid = sim_rowid,
};
