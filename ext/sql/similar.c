/*
** sql/similar.c: the similar_items table-valued function.
**
** SQL served:
**   SELECT rank, item, similarity FROM similar_items('1', 5);
**   SELECT * FROM similar_items('[1, 260]', 10, 'mymodel');
**   SELECT * FROM similar_items('{"positive":[1,2],"negative":[3]}');
**   SELECT * FROM similar_items(item2vec_vector(1), 10);         -- a vector
**   SELECT m.title, s.item FROM movies m, similar_items(m.movieId, 3) s;
**   SELECT * FROM similar_items(1, 10, 'default', '[2, 3]');    -- exclude
**   SELECT * FROM similar_items(1, 10) WHERE only = '[5, 6, 7]'; -- candidates
**   SELECT * FROM similar_items(1, 10) WHERE exact = 1;          -- no index
**   SELECT * FROM similar_items(1, 10) WHERE score = 'context';  -- output vectors
**   SELECT * FROM similar_items(1, 10) WHERE min_frequency = 5;  -- no rare items
**
** How it works.  similar_items is an eponymous virtual table whose hidden
** columns id, k, model, exclude, only, exact, ef, score and min_frequency
** are its arguments, by position or as WHERE column = value.  xFilter takes
** the model from the connection's cache (loading it when the database
** changed) once per statement: a lateral join over many rows calls xFilter
** once per row on the same cursor, which keeps the model, so one statement
** answers from one version of the model.  The id names items by the rule of
** i2v_item_rows_add (sql/common.h): a known item is that item, whatever it
** looks like; otherwise a text starting with '[' or '{' is JSON.  A BLOB that
** is not a known item is a query vector (dim little-endian float32s).  The
** query vector is built as gensim's most_similar builds it (the mean of the
** query items' unit vectors, weighted +1 or -1, scaled to unit length; one
** item is its own unit row; a given vector is scaled to unit length).  What
** may be returned is an i2v_filter (core/filter.h): the query's items and
** `exclude` left out, `only` the candidates, `min_frequency` the rare items
** left out.  Then one of three searches keeps the k best in a bounded heap:
**   - only: the candidates listed, scored one by one;
**   - the approximate index (item2vec_index), when the model has one and
**     exact is not set: a graph search wide enough for k plus the items
**     left out, filtered after, and searched again wider while it yields
**     fewer than k (or the exact scan, past a width);
**   - otherwise the exact scan: every row scored with the dispatched kernel
**     in blocks (two passes, int8 first, on big models), the scores of the
**     rows the filter refuses set to -inf before the block is offered to the
**     heap.
** score = 'context' scores the output vectors instead, always exactly.
** Query items the model does not know are ignored; when none is known there
** are no rows.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/filter.h"
#include "core/hnsw.h"
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
#define SIM_MIN_FREQUENCY 11
#define SIM_NARGS 9 /* hidden columns, id .. min_frequency */

static const char sim_schema[] =
    "CREATE TABLE x(rank INTEGER, item, similarity REAL, "
    "id HIDDEN, k HIDDEN, model HIDDEN, exclude HIDDEN, only HIDDEN, "
    "exact HIDDEN, ef HIDDEN, score HIDDEN, min_frequency HIDDEN)";

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
/* How much wider the default search is for a query of several items (or a
** vector). */
#define SIM_ANN_WIDER 4
/* The widest graph search a filtered query widens to before the exact scan
** answers instead (about as wide as SIM_ANN_MAX_SKIP lets exclude make it). */
#define SIM_ANN_MAX_WIDTH 4096

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
  i2v_item_rows query; /* the id's items, with their weights */
  i2v_item_rows skip;  /* left out: exclude, then the query's items; sorted */
  i2v_item_rows only;  /* the candidates of `only`; sorted */
  float *qp;           /* the query for the int8 first pass */
  size_t qp_cap;
  i2v_scored *pass; /* first-pass heap (k) */
  size_t pass_cap;
  i2v_scored *maybe; /* first-pass candidates */
  size_t maybe_cap;
  sqlite3_value *args[SIM_NARGS]; /* hidden columns as given, for xColumn */
} sim_cursor;

/* The arguments after the id, read and checked. */
typedef struct sim_args {
  int64_t k, ef, min_frequency;
  int exact, by_context;
  const char *model;
} sim_args;

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
  i2v_item_rows_free(&c->query);
  i2v_item_rows_free(&c->skip);
  i2v_item_rows_free(&c->only);
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
** 64 ef, 128 score, 256 min_frequency; the values come in argv in that
** order.  A constraint on any of them that is not usable yet (a lateral
** join's outer column) refuses the plan with SQLITE_CONSTRAINT so SQLite
** orders the join; no id at all gets idxNum 0, which xFilter turns into an
** error saying the id is required.  Rows come out best first, so ORDER BY
** rank or ORDER BY similarity DESC is consumed.
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

/* "similar_items: <column> must be <want>, got '<v>'" (a BLOB is shown as
** its length, NULL as NULL). */
static char *bad_arg(const char *column, const char *want, sqlite3_value *v) {
  if (sqlite3_value_type(v) == SQLITE_BLOB)
    return sqlite3_mprintf("similar_items: %s must be %s, got a BLOB of %d bytes", column, want,
                           sqlite3_value_bytes(v));
  const char *t = (const char *)sqlite3_value_text(v);
  return sqlite3_mprintf("similar_items: %s must be %s, got '%s'", column, want, t ? t : "NULL");
}

/* Read the arguments after the id (given[j]: hidden column SIM_ID + j, or
** NULL) into *a.  Returns SQLITE_OK, or an error with *msg set. */
static int read_args(sqlite3_value **given, sim_args *a, char **msg) {
  a->k = SIM_DEFAULT_K;
  a->ef = 0;
  a->min_frequency = 1;
  a->exact = a->by_context = 0;
  a->model = "default";
  if (given[1] && !i2v_arg_int(given[1], 1, INT64_MAX, &a->k)) {
    *msg = bad_arg("k", "a positive integer", given[1]);
    return SQLITE_ERROR;
  }
  if (given[2]) {
    if (sqlite3_value_type(given[2]) != SQLITE_TEXT) {
      *msg = sqlite3_mprintf("similar_items: model must be a model name (text)");
      return SQLITE_ERROR;
    }
    a->model = (const char *)sqlite3_value_text(given[2]);
  }
  if (given[5] && sqlite3_value_type(given[5]) != SQLITE_NULL) {
    int t = sqlite3_value_type(given[5]);
    a->exact = sqlite3_value_int(given[5]);
    if ((t != SQLITE_INTEGER && t != SQLITE_FLOAT) || (a->exact != 0 && a->exact != 1) ||
        sqlite3_value_double(given[5]) != a->exact) {
      *msg = bad_arg("exact", "0 or 1", given[5]);
      return SQLITE_ERROR;
    }
  }
  if (given[6] && sqlite3_value_type(given[6]) != SQLITE_NULL &&
      !i2v_arg_int(given[6], 1, 100000, &a->ef)) {
    *msg = bad_arg("ef", "an integer from 1 to 100000", given[6]);
    return SQLITE_ERROR;
  }
  if (given[7] && sqlite3_value_type(given[7]) != SQLITE_NULL) {
    const char *sc = (const char *)sqlite3_value_text(given[7]);
    if (sc && strcmp(sc, "context") == 0) {
      a->by_context = 1;
    } else if (!sc || strcmp(sc, "cosine") != 0) {
      *msg = sqlite3_mprintf("similar_items: score must be 'cosine' or 'context', got '%s'",
                             sc ? sc : "?");
      return SQLITE_ERROR;
    }
  }
  if (given[8] && sqlite3_value_type(given[8]) != SQLITE_NULL &&
      !i2v_arg_int(given[8], 0, INT64_MAX, &a->min_frequency)) {
    *msg = bad_arg("min_frequency", "a non-negative integer", given[8]);
    return SQLITE_ERROR;
  }
  return SQLITE_OK;
}

/* A BLOB query that is not an item: a vector of the model's dim
** little-endian float32s, scaled to unit length into c->qbuf. */
static int vector_query(sim_cursor *c, sqlite3_value *id, const float **qv, char **msg) {
  const i2v_model *m = c->model;
  int bytes = sqlite3_value_bytes(id);
  const unsigned char *b = sqlite3_value_blob(id);
  if ((size_t)bytes != (size_t)m->dim * sizeof(float)) {
    *msg = sqlite3_mprintf(
        "similar_items: a query vector for model '%s' must be %d bytes (%d float32 values); "
        "the BLOB has %d bytes",
        m->name, m->dim * 4, m->dim, bytes);
    return SQLITE_ERROR;
  }
  if (!b) return SQLITE_NOMEM;
  int bad = i2v_blob_floats(b, (size_t)m->dim, c->qbuf);
  if (bad >= 0) {
    *msg =
        sqlite3_mprintf("similar_items: value %d of the query vector is not a finite number", bad);
    return SQLITE_ERROR;
  }
  if (i2v_vec_unit_row(c->qbuf, m->dim, m->stride) == 0.0f) {
    *msg = sqlite3_mprintf("similar_items: the query vector is all zeros: it has no direction");
    return SQLITE_ERROR;
  }
  *qv = c->qbuf;
  return SQLITE_OK;
}

/* The query vector into c->qbuf (or *qv pointing at the item's own row when
** there is one positive item), the query's items into c->query.  *qv is
** NULL when the model knows none of the items. */
static int build_query(sim_cursor *c, sqlite3_value *id, const float **qv, char **msg) {
  const i2v_model *m = c->model;
  i2v_item_rows *q = &c->query;
  *qv = NULL;
  q->n = q->unknown = 0;
  int rc = i2v_item_rows_add(&m->items, id, 1, "similar_items", NULL, q, msg);
  if (rc != SQLITE_OK) return rc;
  if (q->n == 0 && q->unknown && sqlite3_value_type(id) == SQLITE_BLOB)
    return vector_query(c, id, qv, msg);
  if (q->n == 0) return SQLITE_OK;
  if (q->n == 1 && q->weights[0] > 0) {
    *qv = m->unit + (size_t)q->rows[0] * m->stride;
    return SQLITE_OK;
  }
  float *v = c->qbuf;
  memset(v, 0, m->stride * sizeof(float));
  for (size_t i = 0; i < q->n; i++)
    i2v_axpy(q->weights[i], m->unit + (size_t)q->rows[i] * m->stride, v, m->dim);
  i2v_vec_normalize(v, m->dim);
  *qv = v;
  return SQLITE_OK;
}

/* The exact scan over every row, one pass. */
static void scan_rows(const i2v_model *m, const float *rows, const float *qv, const i2v_filter *f,
                      i2v_topk *top) {
  float scores[SIM_BLOCK];
  float thr = -INFINITY; /* a score must beat this to enter */
  for (size_t start = 0; start < m->n; start += SIM_BLOCK) {
    size_t len = m->n - start < SIM_BLOCK ? m->n - start : SIM_BLOCK;
    i2v_vec_scores(rows + start * m->stride, m->stride, len, qv, m->dim, scores);
    i2v_filter_scores(f, start, len, scores);
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

/* The int8 copy of m's unit rows, made on first use (core/vec.h's
** quantiser), code_max the largest |value| in the model (which the loader
** found). */
static int model_codes(i2v_model *m) {
  if (m->codes) return SQLITE_OK;
  size_t cstride = i2v_code_stride(m->dim);
  int ovf = 0;
  size_t bytes = i2v_mul_size(m->n, cstride, &ovf);
  signed char *codes = ovf ? NULL : sqlite3_malloc64(bytes + 1);
  if (!codes) return SQLITE_NOMEM;
  i2v_prefault(codes, bytes);
  m->code_unit = i2v_vec_quantize_i8(m->unit, m->stride, m->n, m->dim, m->code_max, codes, cstride);
  m->codes = codes;
  m->cstride = cstride;
  return SQLITE_OK;
}

/*
** The exact scan in two passes, for models big enough that reading every
** float row is what a query costs.  Pass 1 reads the int8 codes (a quarter
** of the bytes) and keeps every row whose approximate score could still be
** in the top k; pass 2 scores those rows exactly.  The answer is the same as
** the one-pass scan's, not an approximation: with u the codes' unit
** (code_max / 127), a code times u is within u/2 of its value, so an
** approximate score is within eps = u/2 * |q|_1 (plus float rounding) of the
** exact one.  Every row of
** the exact top k then has an approximate score >= T - 2 eps, T the k-th best
** approximate score, and pass 1 keeps all of those (its threshold only rises
** towards T).  Rows the filter refuses are -inf in pass 1 and never kept.
** Returns 0 when it cannot run (memory), and the caller scans in one pass.
*/
static int scan_two_pass(sim_cursor *c, i2v_model *m, const float *qv, const i2v_filter *f,
                         i2v_topk *top) {
  size_t k = top->k;
  if (model_codes(m) != SQLITE_OK ||
      reserve((void **)&c->qp, &c->qp_cap, m->cstride, sizeof(float)) != SQLITE_OK ||
      reserve((void **)&c->pass, &c->pass_cap, k, sizeof(i2v_scored)) != SQLITE_OK ||
      reserve((void **)&c->maybe, &c->maybe_cap, 4 * k + SIM_BLOCK, sizeof(i2v_scored)) !=
          SQLITE_OK)
    return 0;
  float unit = m->code_unit;
  double l1 = 0.0;
  for (int d = 0; d < m->dim; d++) l1 += fabs((double)qv[d]);
  /* Quantisation, then float32 rounding of the dim products and sums. */
  float max = m->code_max > 0.0f ? m->code_max : 1.0f;
  float eps = (float)(0.5 * unit * l1 + 4.0 * m->dim * 0x1p-24 * max * l1 + 1e-6);
  i2v_vec_i8_query(qv, m->dim, unit, m->cstride, c->qp);

  i2v_topk pass;
  i2v_topk_init(&pass, c->pass, k);
  float scores[SIM_BLOCK];
  float thr = -INFINITY; /* pass 1's k-th best so far */
  size_t nmaybe = 0;
  for (size_t start = 0; start < m->n; start += SIM_BLOCK) {
    size_t len = m->n - start < SIM_BLOCK ? m->n - start : SIM_BLOCK;
    i2v_vec_scores_i8_rows(m->codes + start * m->cstride, m->cstride, len, c->qp, scores);
    i2v_filter_scores(f, start, len, scores);
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
  top->n = 0;
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
static void scan_all(sim_cursor *c, i2v_model *m, const float *qv, const i2v_filter *f,
                     i2v_topk *top) {
  if (m->n >= SIM_TWO_PASS_MIN_ROWS && top->k > 0 && top->k <= SIM_TWO_PASS_MAX_K &&
      scan_two_pass(c, m, qv, f, top))
    return;
  top->n = 0;
  scan_rows(m, m->unit, qv, f, top);
}

/* Score the candidates f->only, leaving out what the filter refuses. */
static void scan_only(const i2v_model *m, const float *rows, const float *qv, const i2v_filter *f,
                      i2v_topk *top) {
  for (size_t i = 0; i < f->nonly; i++) {
    uint32_t idx = f->only[i];
    if (!i2v_filter_passes(f, idx)) continue;
    float s = i2v_dot(rows + (size_t)idx * m->stride, qv, m->dim);
    if (i2v_topk_wants(top, s)) i2v_topk_push(top, s, idx);
  }
}

/* How many rows a frequency filter's share is estimated from. */
#define SIM_FREQ_SAMPLE 256

/*
** The graph search, filtered after: true when it answered (the model has a
** usable index, and the search found want rows the filter lets through, or
** every row there is).  A search of width w yields about the w best rows;
** the width starts at want plus the rows skip names, divided by the share
** of rows min_frequency lets through (estimated from SIM_FREQ_SAMPLE rows
** spread over the model).  When fewer than want get through, the search
** runs again wider, as wide as the share that got through says it must,
** until SIM_ANN_MAX_WIDTH; then it leaves the answer to the exact scan (top
** emptied), as it does at once when the share is too small to search for.
*/
static int scan_index(const i2v_model *m, const float *qv, const uint32_t *from, size_t nfrom,
                      const i2v_filter *f, size_t want, int64_t ef, i2v_topk *top) {
  i2v_hnsw *h = m->index;
  /* By default a query of several items (or a vector) searches
  ** SIM_ANN_WIDER times wider: its neighbours are not linked to any one
  ** item, and on unclustered vectors the default width finds about 0.7 of
  ** them (docs/performance.md, "The approximate index"). */
  size_t width = (size_t)(ef > 0       ? ef
                          : nfrom == 1 ? i2v_hnsw_ef_search(h)
                                       : SIM_ANN_WIDER * (int64_t)i2v_hnsw_ef_search(h));
  size_t need = want + f->nskip;
  if (i2v_filter_by_frequency(f) && m->n > 0) {
    size_t ns = m->n < SIM_FREQ_SAMPLE ? m->n : SIM_FREQ_SAMPLE, pass = 0;
    for (size_t i = 0; i < ns; i++)
      pass += m->items.entries[i * m->n / ns].count >= f->min_frequency;
    if (pass == 0) return 0;
    need = (size_t)((double)need * (double)ns / (double)pass * 1.25) + 1;
    if (need > SIM_ANN_MAX_WIDTH && need > width) return 0;
  }
  if (width < need) width = need;
  for (;;) {
    i2v_scored *found = NULL;
    size_t nfound = 0, passed = 0;
    /* The walk starts from the query's own items: a one-item query from
    ** that item's row, a list also from where the walk down from the top
    ** ends, a vector from there alone. */
    if (i2v_hnsw_search_from(h, m->unit, m->stride, m->dim, qv, from, nfrom, width, &found,
                             &nfound) != I2V_OK)
      break;
    top->n = 0;
    for (size_t i = 0; i < nfound; i++) {
      if (!i2v_filter_passes(f, found[i].index)) continue;
      passed++;
      if (i2v_topk_wants(top, found[i].score)) i2v_topk_push(top, found[i].score, found[i].index);
    }
    if (top->n >= want || nfound >= m->n) return 1;
    /* Fewer than width found: rows the walk cannot reach; scan them. */
    if (nfound < width || width >= SIM_ANN_MAX_WIDTH) break;
    size_t next =
        passed ? (size_t)((double)width * (double)want / (double)passed * 1.25) + 1 : width * 16;
    width = next < 2 * width ? 2 * width : next;
    if (width > SIM_ANN_MAX_WIDTH) width = SIM_ANN_MAX_WIDTH;
  }
  top->n = 0;
  return 0;
}

/* The search the arguments ask for, into top (of want rows). */
static int search(sim_cursor *c, i2v_model *m, const sim_args *a, const float *qv,
                  const i2v_filter *f, size_t want, i2v_topk *top, char **msg) {
  i2v_conn *conn = ((sim_vtab *)c->base.pVtab)->conn;
  if (a->by_context) {
    /* score='context': the query against the output vectors, exactly. */
    int rc = i2v_model_context(conn->db, m, "similar_items", msg);
    if (rc != SQLITE_OK) return rc;
    if (f->has_only)
      scan_only(m, m->context, qv, f, top);
    else
      scan_rows(m, m->context, qv, f, top);
    return SQLITE_OK;
  }
  if (f->has_only) {
    scan_only(m, m->unit, qv, f, top);
    return SQLITE_OK;
  }
  if (!a->exact && f->nskip <= SIM_ANN_MAX_SKIP) {
    int rc = i2v_index_attach(conn->db, m, "similar_items", msg);
    if (rc != SQLITE_OK) return rc;
    /* The query's items, where the graph search starts. */
    size_t nfrom = c->query.n < SIM_ANN_MAX_FROM ? c->query.n : SIM_ANN_MAX_FROM;
    if (m->index && scan_index(m, qv, c->query.rows, nfrom, f, want, a->ef, top)) return SQLITE_OK;
  }
  scan_all(c, m, qv, f, top);
  return SQLITE_OK;
}

/* See sim_best_index for the meaning of idxNum. */
static int sim_filter(sqlite3_vtab_cursor *cur, int idxNum, const char *idxStr, int argc,
                      sqlite3_value **argv) {
  sim_cursor *c = (sim_cursor *)cur;
  sqlite3_vtab *vt = cur->pVtab;
  i2v_conn *conn = ((sim_vtab *)vt)->conn;
  sqlite3_value *given[SIM_NARGS] = {0};
  sim_args a;
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
  rc = read_args(given, &a, &err);
  if (rc != SQLITE_OK) return i2v_vtab_error(vt, rc, err);

  /* The model: the one this cursor already answers from in this statement,
  ** or the connection's current one. */
  if (!c->model || strcmp(c->model->name, a.model) != 0) {
    i2v_model_release(c->model);
    c->model = NULL;
    rc = i2v_conn_model(conn, "similar_items", a.model, &c->model, &err);
    if (rc != SQLITE_OK) return i2v_vtab_error(vt, rc, err);
  }
  i2v_model *m = c->model;
  if (reserve(&c->qbuf_raw, &c->qbuf_cap, m->stride + 16, sizeof(float)) != SQLITE_OK) goto nomem;
  c->qbuf = (float *)(((uintptr_t)c->qbuf_raw + 63) & ~(uintptr_t)63);

  const float *qv = NULL;
  rc = build_query(c, given[0], &qv, &err);
  if (rc != SQLITE_OK) goto fail;
  if (!qv) return SQLITE_OK; /* no known item: no rows */

  /* What may be returned: not the query's items, not exclude; only the
  ** candidates of only; not the items rarer than min_frequency. */
  i2v_filter f = {.entries = m->items.entries, .min_frequency = (uint64_t)a.min_frequency};
  c->skip.n = c->only.n = 0;
  rc = i2v_item_rows_add(&m->items, given[3], 0, "similar_items", "exclude", &c->skip, &err);
  if (rc != SQLITE_OK) goto fail;
  for (size_t i = 0; i < c->query.n; i++)
    if (i2v_item_rows_push(&c->skip, c->query.rows[i], 1.0f) != SQLITE_OK) goto nomem;
  f.skip = c->skip.rows;
  f.nskip = i2v_rows_sort_unique(c->skip.rows, c->skip.n);
  f.has_only = given[4] && sqlite3_value_type(given[4]) != SQLITE_NULL;
  if (f.has_only) {
    rc = i2v_item_rows_add(&m->items, given[4], 0, "similar_items", "only", &c->only, &err);
    if (rc != SQLITE_OK) goto fail;
    f.only = c->only.rows;
    f.nonly = i2v_rows_sort_unique(c->only.rows, c->only.n);
  }

  size_t want = (size_t)(a.k < (int64_t)m->n ? a.k : (int64_t)m->n);
  if (f.has_only && want > f.nonly) want = f.nonly;
  if (reserve((void **)&c->results, &c->results_cap, want ? want : 1, sizeof(i2v_scored)) !=
      SQLITE_OK)
    goto nomem;
  i2v_topk top;
  i2v_topk_init(&top, c->results, want);
  rc = search(c, m, &a, qv, &f, want, &top, &err);
  if (rc != SQLITE_OK) goto fail;
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
      } else if (col == SIM_MIN_FREQUENCY) {
        sqlite3_result_int(ctx, 1);
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
