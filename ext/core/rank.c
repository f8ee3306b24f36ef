/*
** core/rank.c: the recommendation ranking (see rank.h): pair evidence counted
** from the training sequences, and the blend of it with the embedding.
**
** How the pairs are counted.  A counting sort groups token positions by item;
** for each item in turn, a dense accumulator sums the weights of the items
** around each of its positions (touched entries remembered in a list, so
** clearing costs what filling did), then the cap heaviest partners are kept.
** Memory is one float and one index per item plus the kept rows, whatever the
** corpus size; time is about 2 x window per token.
*/
#include "core/rank.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/vec.h"

void i2v_pairs_free(i2v_pairs *p, const i2v_alloc *a) {
  i2v_free(a, p->start);
  i2v_free(a, p->other);
  i2v_free(a, p->weight);
  memset(p, 0, sizeof(*p));
}

typedef struct partner {
  float weight;
  uint32_t index;
} partner;

/* Heaviest first, ties to the smaller index. */
static int partner_cmp(const void *x, const void *y) {
  const partner *a = x, *b = y;
  if (a->weight != b->weight) return a->weight > b->weight ? -1 : 1;
  return a->index < b->index ? -1 : (a->index > b->index);
}

/* Move the k first partners in partner_cmp's order to p[0..k), in any
** order (quickselect: a popular item has thousands of partners and keeps
** a hundred, so sorting them all cost most of the counting). */
static void select_first(partner *p, size_t n, size_t k) {
  size_t lo = 0, hi = n; /* the k-th lies in [lo, hi) */
  while (hi - lo > 1) {
    size_t mid = lo + (hi - lo) / 2;
    /* Median of three as the pivot, moved to hi - 1. */
    if (partner_cmp(&p[mid], &p[lo]) < 0) { partner t = p[mid]; p[mid] = p[lo]; p[lo] = t; }
    if (partner_cmp(&p[hi - 1], &p[lo]) < 0) { partner t = p[hi - 1]; p[hi - 1] = p[lo]; p[lo] = t; }
    if (partner_cmp(&p[mid], &p[hi - 1]) < 0) { partner t = p[mid]; p[mid] = p[hi - 1]; p[hi - 1] = t; }
    partner pivot = p[hi - 1];
    size_t store = lo;
    for (size_t i = lo; i + 1 < hi; i++)
      if (partner_cmp(&p[i], &pivot) < 0) {
        partner t = p[i];
        p[i] = p[store];
        p[store++] = t;
      }
    p[hi - 1] = p[store];
    p[store] = pivot;
    /* p[lo..store) come before the pivot, p(store..hi) after it. */
    if (store == k - 1 || store == k) return;
    if (store > k) hi = store;
    else lo = store + 1;
  }
}

/* Positions of each item's tokens: where[where_start[i] .. where_start[i+1])
** and the sequence of each position. */
static int group_positions(const i2v_corpus *c, uint32_t nitems, const i2v_alloc *a,
                           uint64_t **pstart, uint64_t **pwhere, uint64_t **pseq) {
  int ovf = 0;
  uint64_t ntok = c->starts[c->nseq];
  uint64_t *start = i2v_malloc(a, i2v_mul_size((size_t)nitems + 1, sizeof(uint64_t), &ovf));
  uint64_t *where = i2v_malloc(a, i2v_mul_size(ntok, sizeof(uint64_t), &ovf));
  uint64_t *seq = i2v_malloc(a, i2v_mul_size(ntok, sizeof(uint64_t), &ovf));
  if (ovf || !start || !where || !seq) {
    i2v_free(a, start);
    i2v_free(a, where);
    i2v_free(a, seq);
    return I2V_NOMEM;
  }
  memset(start, 0, ((size_t)nitems + 1) * sizeof(uint64_t));
  for (uint64_t p = 0; p < ntok; p++) start[c->tokens[p] + 1]++;
  for (uint32_t i = 0; i < nitems; i++) start[i + 1] += start[i];
  for (uint64_t s = 0; s < c->nseq; s++)
    for (uint64_t p = c->starts[s]; p < c->starts[s + 1]; p++) {
      seq[p] = s;
      where[start[c->tokens[p]]++] = p;
    }
  for (uint32_t i = nitems; i > 0; i--) start[i] = start[i - 1];
  start[0] = 0;
  *pstart = start;
  *pwhere = where;
  *pseq = seq;
  return I2V_OK;
}

/* The weights around every position of item i, into acc (touched listed). */
static uint32_t gather(const i2v_corpus *c, const uint64_t *where, const uint64_t *seq,
                       uint64_t from, uint64_t to, uint32_t item, uint64_t window, float backward,
                       float *acc, uint32_t *touched) {
  uint32_t nt = 0;
  for (uint64_t e = from; e < to; e++) {
    uint64_t p = where[e], s = seq[p];
    uint64_t lo = p - c->starts[s] > window ? p - window : c->starts[s];
    uint64_t hi = c->starts[s + 1] - p > window + 1 ? p + window + 1 : c->starts[s + 1];
    for (uint64_t j = lo; j < hi; j++) {
      uint32_t o = c->tokens[j];
      if (j == p || o == item || (j < p && backward == 0.0f)) continue;
      if (acc[o] == 0.0f) touched[nt++] = o;
      acc[o] += j > p ? 1.0f : backward;
    }
  }
  return nt;
}

int i2v_pairs_build(const i2v_corpus *c, uint32_t nitems, int window, float backward, int cap,
                    const i2v_alloc *a, i2v_pairs *out) {
  uint64_t *start = NULL, *where = NULL, *seq = NULL;
  float *acc = NULL;
  uint32_t *touched = NULL;
  partner *cand = NULL;
  int ovf = 0, rc = I2V_NOMEM;
  size_t ucap = cap > 0 ? (size_t)cap : 1;

  memset(out, 0, sizeof(*out));
  out->nitems = nitems;
  if (backward <= 0.0f) backward = 0.0f;
  if (group_positions(c, nitems, a, &start, &where, &seq) != I2V_OK) return I2V_NOMEM;
  acc = i2v_malloc(a, i2v_mul_size(nitems, sizeof(float), &ovf));
  touched = i2v_malloc(a, i2v_mul_size(nitems, sizeof(uint32_t), &ovf));
  cand = i2v_malloc(a, i2v_mul_size(nitems, sizeof(partner), &ovf));
  out->start = i2v_malloc(a, i2v_mul_size((size_t)nitems + 1, sizeof(uint64_t), &ovf));
  out->other =
      i2v_malloc(a, i2v_mul_size(i2v_mul_size(nitems, ucap, &ovf), sizeof(uint32_t), &ovf));
  out->weight = i2v_malloc(a, i2v_mul_size(i2v_mul_size(nitems, ucap, &ovf), sizeof(float), &ovf));
  if (ovf || !acc || !touched || !cand || !out->start || !out->other || !out->weight) goto done;
  memset(acc, 0, (size_t)nitems * sizeof(float));

  uint64_t kept = 0;
  for (uint32_t i = 0; i < nitems; i++) {
    out->start[i] = kept;
    uint32_t nt =
        gather(c, where, seq, start[i], start[i + 1], i, (uint64_t)window, backward, acc, touched);
    size_t nc = 0;
    for (uint32_t t = 0; t < nt; t++) {
      uint32_t o = touched[t];
      if (acc[o] > 0.0f) cand[nc++] = (partner){acc[o], o};
      acc[o] = 0.0f;
    }
    if (nc > ucap) {
      select_first(cand, nc, ucap);
      nc = ucap;
    }
    if (nc > 1) qsort(cand, nc, sizeof(partner), partner_cmp);
    for (size_t k = 0; k < nc; k++) {
      out->other[kept] = cand[k].index;
      out->weight[kept] = cand[k].weight;
      kept++;
    }
  }
  out->start[nitems] = kept;
  rc = I2V_OK;

done:
  i2v_free(a, start);
  i2v_free(a, where);
  i2v_free(a, seq);
  i2v_free(a, acc);
  i2v_free(a, touched);
  i2v_free(a, cand);
  if (rc != I2V_OK) i2v_pairs_free(out, a);
  return rc;
}

int i2v_ranker_init(i2v_ranker *r, const float *input, const float *output, const float *log_count,
                    size_t stride, int dim, uint32_t nitems, const i2v_alloc *a) {
  memset(r, 0, sizeof(*r));
  r->input = input;
  r->output = output;
  r->log_count = log_count;
  r->stride = stride;
  r->dim = dim;
  r->nitems = nitems;
  r->prior = I2V_RANK_PRIOR;
  r->blend = I2V_RANK_BLEND;
  r->evidence = I2V_RANK_EVIDENCE;
  r->sharpness = I2V_RANK_SHARPNESS;
  r->alloc = a;
  r->query = i2v_malloc(a, stride * sizeof(float));
  return r->query ? I2V_OK : I2V_NOMEM;
}

void i2v_ranker_free(i2v_ranker *r) {
  if (r->alloc) i2v_free(r->alloc, r->query);
  memset(r, 0, sizeof(*r));
}

void i2v_rank_scores(i2v_ranker *r, const uint32_t *q, const i2v_pair_row *rows, size_t nq,
                     float *scores) {
  const uint32_t n = r->nitems;
  if (n == 0) return;
  if (nq == 0) {
    memset(scores, 0, (size_t)n * sizeof(float));
    return;
  }
  /* How much pair evidence the query has: its items' mean row total. */
  double total = 0.0;
  for (size_t i = 0; i < nq; i++)
    for (uint64_t e = 0; e < rows[i].n; e++) total += rows[i].weight[e];
  double mean = total / (double)nq;
  double share = total > 0.0 ? (double)r->blend * mean / (mean + (double)r->evidence) : 0.0;

  /* The embedding's estimate: a softmax over every item. */
  memset(r->query, 0, r->stride * sizeof(float));
  for (size_t i = 0; i < nq; i++)
    i2v_axpy(r->sharpness / (float)nq, r->input + (size_t)q[i] * r->stride, r->query, r->dim);
  i2v_vec_scores(r->output, r->stride, n, r->query, r->dim, scores);
  float top = -INFINITY;
  for (uint32_t j = 0; j < n; j++) {
    scores[j] += r->prior * r->log_count[j];
    if (scores[j] > top) top = scores[j];
  }
  double z = 0.0;
  for (uint32_t j = 0; j < n; j++) {
    scores[j] = expf(scores[j] - top);
    z += scores[j];
  }
  float emb = (float)((1.0 - share) / z);
  for (uint32_t j = 0; j < n; j++) scores[j] *= emb;

  /* The pair evidence, the query items' rows normalised by their total. */
  if (share > 0.0) {
    float w = (float)(share / total);
    for (size_t i = 0; i < nq; i++)
      for (uint64_t e = 0; e < rows[i].n; e++)
        if (rows[i].other[e] < n) scores[rows[i].other[e]] += w * rows[i].weight[e];
  }
}

int i2v_auto_epochs(const uint64_t *counts, uint32_t n) {
  double sum = 0.0, sq = 0.0;
  for (uint32_t i = 0; i < n; i++) {
    sum += (double)counts[i];
    sq += (double)counts[i] * (double)counts[i];
  }
  if (sum <= 0.0) return 10;
  double typical = sq / sum, e = ceil(500.0 / typical);
  return e < 10.0 ? 10 : e > 100.0 ? 100 : (int)e;
}
