/*
** core/eval.c: next-item evaluation (split, scorers, metrics); no SQLite.
**
** How it works.  The split keeps each user's sequence whole and cuts it: the
** first len - holdout items train, the last holdout items are test cases
** (users with no more than holdout items train with all of theirs).  Training
** counts decide a training vocabulary (min_count, max_final_vocab), numbered
** most frequent first, and the training sequences are rewritten over it.
**
** A run walks the test users.  For the held-out item at position p the query
** is the last N items before p that training knows (all of them for N = 0),
** the user's items before p are marked seen and cannot be recommended, the
** scorer fills one score per training item, and a bounded heap keeps the k
** best unseen items.  A hit at rank r adds 1 to the hit rate, 1/r to the
** reciprocal rank and 1/log2(r+1) to the discounted gain (one relevant item
** per case, so that is NDCG).  Coverage is the share of the training items
** that appear in at least one top k.  A case whose query has no known item
** still counts: every scorer then gives equal scores and the ties go to the
** most popular items.  A held-out item that training never saw is a miss.
*/
#include "core/eval.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/topk.h"
#include "core/vec.h"

static void set_err(char *err, size_t n, const char *fmt, ...) {
  va_list ap;
  if (!err || n == 0) return;
  va_start(ap, fmt);
  vsnprintf(err, n, fmt, ap);
  va_end(ap);
}

void i2v_eval_options_init(i2v_eval_options *e) {
  e->holdout = 1;
  e->k = 10;
  e->query_items = I2V_EVAL_QUERY_RECOMMEND;
  e->score = I2V_SCORE_HYBRID;
  e->min_frequency = I2V_RANK_MIN_FREQUENCY;
}

const char *i2v_eval_option_names(void) {
  return "holdout, k, query, score, min_frequency";
}

void i2v_eval_query_text(const i2v_eval_options *e, char *buf, size_t n) {
  if (e->query_items < 0)
    snprintf(buf, n, "recommend");
  else if (e->query_items == 1)
    snprintf(buf, n, "last");
  else if (e->query_items == 0)
    snprintf(buf, n, "mean");
  else
    snprintf(buf, n, "mean:%d", e->query_items);
}

/* A whole decimal integer in [lo, hi]. */
static int parse_int(const char *s, size_t n, long lo, long hi, long *out) {
  char buf[32];
  char *end;
  if (n == 0 || n >= sizeof(buf)) return 0;
  memcpy(buf, s, n);
  buf[n] = 0;
  long v = strtol(buf, &end, 10);
  if (*end || end == buf || v < lo || v > hi) return 0;
  *out = v;
  return 1;
}

int i2v_eval_option(i2v_eval_options *e, const char *arg, const char *fname, char *err,
                    size_t errlen) {
  const char *eq = arg ? strchr(arg, '=') : NULL;
  if (!eq) return -1;
  const char *name = arg;
  size_t nlen = (size_t)(eq - arg);
  while (nlen && (*name == ' ' || *name == '\t')) name++, nlen--;
  while (nlen && (name[nlen - 1] == ' ' || name[nlen - 1] == '\t')) nlen--;
  const char *val = eq + 1;
  while (*val == ' ' || *val == '\t') val++;
  size_t vlen = strlen(val);
  while (vlen && (val[vlen - 1] == ' ' || val[vlen - 1] == '\t')) vlen--;
  long v;
#define IS(lit) (nlen == sizeof(lit) - 1 && strncasecmp(name, lit, nlen) == 0)
#define VAL_IS(lit) (vlen == sizeof(lit) - 1 && memcmp(val, lit, vlen) == 0)
  if (IS("holdout")) {
    if (!parse_int(val, vlen, 1, 1000000, &v)) {
      set_err(err, errlen,
              "%s: option 'holdout' must be an integer from 1 to 1000000 "
              "(items held out at the end of each user's sequence), got '%.*s'",
              fname, (int)(vlen > 40 ? 40 : vlen), val);
      return I2V_ERROR;
    }
    e->holdout = (int)v;
  } else if (IS("k")) {
    if (!parse_int(val, vlen, 1, 100000, &v)) {
      set_err(err, errlen, "%s: option 'k' must be an integer from 1 to 100000, got '%.*s'", fname,
              (int)(vlen > 40 ? 40 : vlen), val);
      return I2V_ERROR;
    }
    e->k = (int)v;
  } else if (IS("query")) {
    if (VAL_IS("recommend")) {
      e->query_items = I2V_EVAL_QUERY_RECOMMEND;
    } else if (VAL_IS("last")) {
      e->query_items = 1;
    } else if (VAL_IS("mean")) {
      e->query_items = 0;
    } else if (vlen > 5 && memcmp(val, "mean:", 5) == 0 &&
               parse_int(val + 5, vlen - 5, 1, 1000000, &v)) {
      e->query_items = (int)v;
    } else {
      set_err(err, errlen,
              "%s: option 'query' must be 'recommend' (what recommend_items "
              "queries with: the last %d items), 'last' (the item before the "
              "held-out one), 'mean:N' (mean of the last N items) or 'mean' (all "
              "items seen so far), got '%.*s'",
              fname, I2V_RANK_QUERY_ITEMS, (int)(vlen > 40 ? 40 : vlen), val);
      return I2V_ERROR;
    }
  } else if (IS("min_frequency")) {
    if (!parse_int(val, vlen, 0, 2000000000L, &v)) {
      set_err(err, errlen,
              "%s: option 'min_frequency' must be an integer from 0 to 2000000000 (items "
              "seen fewer times in training are not recommended), got '%.*s'",
              fname, (int)(vlen > 40 ? 40 : vlen), val);
      return I2V_ERROR;
    }
    e->min_frequency = v;
  } else if (IS("score")) {
    if (VAL_IS("hybrid")) {
      e->score = I2V_SCORE_HYBRID;
    } else if (VAL_IS("cosine")) {
      e->score = I2V_SCORE_COSINE;
    } else if (VAL_IS("context")) {
      e->score = I2V_SCORE_CONTEXT;
    } else if (VAL_IS("context_prior")) {
      e->score = I2V_SCORE_CONTEXT_PRIOR;
    } else {
      set_err(err, errlen,
              "%s: option 'score' must be 'hybrid', 'cosine', 'context' or "
              "'context_prior', "
              "got '%.*s'",
              fname, (int)(vlen > 40 ? 40 : vlen), val);
      return I2V_ERROR;
    }
  } else {
    return -1;
  }
#undef IS
#undef VAL_IS
  return I2V_OK;
}

/* ---- split ---- */

void i2v_eval_split_free(i2v_eval_split *sp, const i2v_alloc *a) {
  i2v_free(a, sp->item_of);
  i2v_free(a, sp->train_of);
  i2v_free(a, sp->counts);
  i2v_corpus_free(&sp->train, a);
  i2v_free(a, sp->test_seq);
  memset(sp, 0, sizeof(*sp));
}

static uint64_t train_len(const i2v_corpus *c, uint64_t s, int holdout) {
  uint64_t len = c->starts[s + 1] - c->starts[s];
  return len > (uint64_t)holdout ? len - (uint64_t)holdout : len;
}

int i2v_eval_split_build(const i2v_corpus *all, uint32_t nitems, int holdout, int64_t min_count,
                         int64_t max_final_vocab, const i2v_alloc *a, i2v_eval_split *sp,
                         const char *fname, char *err, size_t errlen) {
  uint64_t *full_counts = NULL;
  i2v_corpus_cut cut;
  int rc = I2V_NOMEM, ovf = 0;

  memset(sp, 0, sizeof(*sp));
  memset(&cut, 0, sizeof(cut));
  sp->all = all;
  sp->nitems = nitems;
  sp->holdout = holdout;
  if (holdout < 1) holdout = sp->holdout = 1;

  for (uint64_t s = 0; s < all->nseq; s++) {
    uint64_t len = all->starts[s + 1] - all->starts[s];
    if (len > (uint64_t)holdout) sp->nusers++;
  }
  if (sp->nusers == 0) {
    set_err(err, errlen,
            "%s: no user has more than %d item%s, so there is nothing to "
            "evaluate with holdout=%d: each user evaluated needs the held-out "
            "item%s and at least one item before them to query with",
            fname, holdout, holdout == 1 ? "" : "s", holdout, holdout == 1 ? "" : "s");
    return I2V_ERROR;
  }

  full_counts = i2v_malloc(a, i2v_mul_size(nitems, sizeof(uint64_t), &ovf));
  sp->test_seq = i2v_malloc(a, i2v_mul_size(sp->nusers, sizeof(uint64_t), &ovf));
  if (ovf || !full_counts || !sp->test_seq) goto fail;
  memset(full_counts, 0, (size_t)nitems * sizeof(uint64_t));

  /* Training prefixes and test users; the prefixes' total length. */
  uint64_t u = 0, prefix_tokens = 0;
  for (uint64_t s = 0; s < all->nseq; s++) {
    const uint32_t *seq = all->tokens + all->starts[s];
    uint64_t len = all->starts[s + 1] - all->starts[s];
    uint64_t cut_at = train_len(all, s, holdout);
    for (uint64_t i = 0; i < cut_at; i++) full_counts[seq[i]]++;
    prefix_tokens += cut_at;
    if (len > (uint64_t)holdout) {
      sp->test_seq[u++] = s;
      sp->ncases += (uint64_t)holdout;
    }
  }

  /* The training vocabulary: by training count, then by full index. */
  if (i2v_corpus_cut_build(&cut, full_counts, nitems, min_count, max_final_vocab, a) != I2V_OK)
    goto fail;
  sp->nvocab = cut.kept;
  sp->item_of = cut.order;
  sp->train_of = cut.remap;
  cut.order = cut.remap = NULL;
  sp->counts = i2v_malloc(a, (size_t)(sp->nvocab ? sp->nvocab : 1) * sizeof(uint64_t));
  if (!sp->counts) goto fail;
  for (uint32_t t = 0; t < sp->nvocab; t++) sp->counts[t] = full_counts[sp->item_of[t]];
  for (uint64_t s = 0; s < all->nseq; s++) {
    const uint32_t *seq = all->tokens + all->starts[s];
    uint64_t len = all->starts[s + 1] - all->starts[s];
    if (len > (uint64_t)holdout)
      for (uint64_t i = train_len(all, s, holdout); i < len; i++)
        sp->unknown_targets += sp->train_of[seq[i]] == I2V_EVAL_NONE;
  }

  /* Training sequences: the prefixes over the training vocabulary, those
  ** of at least two known items. */
  i2v_corpus *tc = &sp->train;
  tc->tokens = i2v_malloc(a, i2v_mul_size(prefix_tokens, sizeof(uint32_t), &ovf));
  tc->starts = i2v_malloc(a, i2v_mul_size(all->nseq + 1, sizeof(uint64_t), &ovf));
  if (ovf || !tc->tokens || !tc->starts) goto fail;
  uint64_t pos = 0;
  for (uint64_t s = 0; s < all->nseq; s++) {
    uint64_t cut_at = train_len(all, s, holdout);
    tc->starts[s] = pos;
    memcpy(tc->tokens + pos, all->tokens + all->starts[s], cut_at * sizeof(uint32_t));
    pos += cut_at;
  }
  tc->starts[all->nseq] = pos;
  tc->nseq = all->nseq;
  tc->ntokens = pos;
  uint64_t dropped;
  i2v_corpus_renumber(tc, sp->train_of, &dropped);
  if (tc->nseq == 0) {
    set_err(err, errlen,
            "%s: after holding out the last %d item%s of each user, no user has "
            "two or more items left to train on; lower holdout",
            fname, holdout, holdout == 1 ? "" : "s");
    rc = I2V_ERROR;
    goto fail;
  }
  rc = I2V_OK;
  goto done;

fail:
  if (rc == I2V_NOMEM) set_err(err, errlen, "%s: out of memory", fname);
  i2v_eval_split_free(sp, a);
done:
  i2v_corpus_cut_free(&cut, a);
  i2v_free(a, full_counts);
  return rc;
}

/* ---- scorers ---- */

int i2v_eval_score_popularity(void *ctx, const uint32_t *query, size_t nq, float *scores) {
  const i2v_eval_split *sp = ctx;
  (void)query;
  (void)nq;
  for (uint32_t i = 0; i < sp->nvocab; i++) scores[i] = (float)sp->counts[i];
  return I2V_OK;
}

void i2v_eval_cooc_free(i2v_eval_cooc *c) {
  if (c->alloc) {
    i2v_free(c->alloc, c->where_start);
    i2v_free(c->alloc, c->where);
    i2v_free(c->alloc, c->seq_of);
  }
  memset(c, 0, sizeof(*c));
}

int i2v_eval_cooc_init(i2v_eval_cooc *c, const i2v_eval_split *sp, int window, const i2v_alloc *a) {
  int ovf = 0;
  memset(c, 0, sizeof(*c));
  c->sp = sp;
  c->window = window < 1 ? 1 : window;
  c->alloc = a;
  c->where_start = i2v_malloc(a, i2v_mul_size((size_t)sp->nvocab + 1, sizeof(uint64_t), &ovf));
  c->where = i2v_malloc(a, i2v_mul_size(sp->train.ntokens, sizeof(uint64_t), &ovf));
  c->seq_of = i2v_malloc(a, i2v_mul_size(sp->train.ntokens, sizeof(uint64_t), &ovf));
  if (ovf || !c->where_start || !c->where || !c->seq_of) {
    i2v_eval_cooc_free(c);
    return I2V_NOMEM;
  }
  /* Counting sort of token positions by item. */
  memset(c->where_start, 0, ((size_t)sp->nvocab + 1) * sizeof(uint64_t));
  for (uint64_t p = 0; p < sp->train.ntokens; p++) c->where_start[sp->train.tokens[p] + 1]++;
  for (uint32_t i = 0; i < sp->nvocab; i++) c->where_start[i + 1] += c->where_start[i];
  for (uint64_t s = 0; s < sp->train.nseq; s++) {
    for (uint64_t p = sp->train.starts[s]; p < sp->train.starts[s + 1]; p++) {
      c->seq_of[p] = s;
      c->where[c->where_start[sp->train.tokens[p]]++] = p;
    }
  }
  /* where_start[i] now holds the end of item i's run: shift back. */
  for (uint32_t i = sp->nvocab; i > 0; i--) c->where_start[i] = c->where_start[i - 1];
  c->where_start[0] = 0;
  return I2V_OK;
}

int i2v_eval_score_cooc(void *ctx, const uint32_t *query, size_t nq, float *scores) {
  const i2v_eval_cooc *c = ctx;
  const i2v_eval_split *sp = c->sp;
  const uint64_t w = (uint64_t)c->window;
  memset(scores, 0, (size_t)sp->nvocab * sizeof(float));
  for (size_t qi = 0; qi < nq; qi++) {
    uint32_t item = query[qi];
    for (uint64_t e = c->where_start[item]; e < c->where_start[item + 1]; e++) {
      uint64_t p = c->where[e], s = c->seq_of[p];
      uint64_t lo = p - sp->train.starts[s] > w ? p - w : sp->train.starts[s];
      uint64_t hi = sp->train.starts[s + 1] - p > w + 1 ? p + w + 1 : sp->train.starts[s + 1];
      for (uint64_t j = lo; j < hi; j++)
        if (j != p) scores[sp->train.tokens[j]] += 1.0f;
    }
  }
  return I2V_OK;
}

void i2v_eval_embedding_free(i2v_eval_embedding *e) {
  if (e->alloc) {
    i2v_free(e->alloc, e->raw_unit);
    i2v_free(e->alloc, e->query);
  }
  memset(e, 0, sizeof(*e));
}

int i2v_eval_embedding_init(i2v_eval_embedding *e, const float *input, const float *output,
                            size_t stride, int dim, uint32_t nvocab, int score,
                            const i2v_alloc *a) {
  int ovf = 0;
  memset(e, 0, sizeof(*e));
  e->input = input;
  e->output = output;
  e->stride = stride;
  e->dim = dim;
  e->nvocab = nvocab;
  e->score = score;
  e->alloc = a;
  e->query = i2v_malloc(a, stride * sizeof(float));
  if (!e->query) return I2V_NOMEM;
  if (score == I2V_SCORE_COSINE) {
    size_t bytes = i2v_mul_size(i2v_mul_size(nvocab, stride, &ovf), sizeof(float), &ovf);
    if (ovf || bytes > SIZE_MAX - 64 || !(e->raw_unit = i2v_malloc(a, bytes + 64))) {
      i2v_eval_embedding_free(e);
      return I2V_NOMEM;
    }
    e->unit = (float *)(((uintptr_t)e->raw_unit + 63) & ~(uintptr_t)63);
    memcpy(e->unit, input, bytes);
    for (uint32_t i = 0; i < nvocab; i++) i2v_vec_normalize(e->unit + (size_t)i * stride, dim);
  }
  return I2V_OK;
}

int i2v_eval_score_embedding(void *ctx, const uint32_t *query, size_t nq, float *scores) {
  i2v_eval_embedding *e = ctx;
  if (nq == 0) {
    memset(scores, 0, (size_t)e->nvocab * sizeof(float));
    return I2V_OK;
  }
  memset(e->query, 0, e->stride * sizeof(float));
  if (e->score == I2V_SCORE_COSINE) {
    for (size_t i = 0; i < nq; i++)
      i2v_axpy(1.0f, e->unit + (size_t)query[i] * e->stride, e->query, e->dim);
    i2v_vec_normalize(e->query, e->dim);
    i2v_vec_scores(e->unit, e->stride, e->nvocab, e->query, e->dim, scores);
  } else {
    for (size_t i = 0; i < nq; i++)
      i2v_axpy(1.0f / (float)nq, e->input + (size_t)query[i] * e->stride, e->query, e->dim);
    i2v_vec_scores(e->output, e->stride, e->nvocab, e->query, e->dim, scores);
    if (e->prior)
      for (uint32_t i = 0; i < e->nvocab; i++) scores[i] += e->prior[i];
  }
  return I2V_OK;
}

void i2v_eval_hybrid_free(i2v_eval_hybrid *h) {
  if (h->alloc) {
    i2v_ranker_free(&h->ranker);
    i2v_pairs_free(&h->pairs, h->alloc);
    i2v_free(h->alloc, h->log_count);
    i2v_free(h->alloc, h->unit_raw);
    i2v_free(h->alloc, h->rows);
  }
  memset(h, 0, sizeof(*h));
}

int i2v_eval_hybrid_init(i2v_eval_hybrid *h, const i2v_eval_split *sp, const float *input,
                         const float *output, size_t stride, int dim, int window,
                         const i2v_alloc *a) {
  int ovf = 0;
  memset(h, 0, sizeof(*h));
  h->alloc = a;
  h->log_count = i2v_malloc(a, i2v_mul_size(sp->nvocab, sizeof(float), &ovf));
  size_t bytes = i2v_mul_size(i2v_mul_size(sp->nvocab, stride, &ovf), sizeof(float), &ovf);
  if (!ovf && bytes <= SIZE_MAX - 64) h->unit_raw = i2v_malloc(a, bytes + 64);
  if (ovf || !h->log_count || !h->unit_raw ||
      i2v_pairs_build(&sp->train, sp->nvocab, window, I2V_RANK_BACKWARD, I2V_RANK_PAIRS_CAP, a,
                      &h->pairs) != I2V_OK ||
      i2v_ranker_init(&h->ranker, NULL, output, h->log_count, stride, dim, sp->nvocab, a) !=
          I2V_OK) {
    i2v_eval_hybrid_free(h);
    return I2V_NOMEM;
  }
  h->unit = (float *)(((uintptr_t)h->unit_raw + 63) & ~(uintptr_t)63);
  memcpy(h->unit, input, bytes);
  for (uint32_t i = 0; i < sp->nvocab; i++) i2v_vec_normalize(h->unit + (size_t)i * stride, dim);
  h->ranker.input = h->unit;
  for (uint32_t i = 0; i < sp->nvocab; i++) h->log_count[i] = (float)log((double)sp->counts[i]);
  return I2V_OK;
}

int i2v_eval_score_hybrid(void *ctx, const uint32_t *query, size_t nq, float *scores) {
  i2v_eval_hybrid *h = ctx;
  if (nq > h->rows_cap) {
    int ovf = 0;
    i2v_pair_row *rows = i2v_malloc(h->alloc, i2v_mul_size(nq, sizeof(i2v_pair_row), &ovf));
    if (ovf || !rows) return I2V_NOMEM;
    i2v_free(h->alloc, h->rows);
    h->rows = rows;
    h->rows_cap = nq;
  }
  for (size_t i = 0; i < nq; i++) h->rows[i] = i2v_pairs_row(&h->pairs, query[i]);
  i2v_rank_scores(&h->ranker, query, h->rows, nq, scores);
  return I2V_OK;
}

/* ---- the run ---- */

int i2v_eval_run(const i2v_eval_split *sp, const i2v_eval_options *e, i2v_eval_scorer fn, void *ctx,
                 i2v_eval_poll poll, void *poll_ctx, const i2v_alloc *a, i2v_eval_metrics *out) {
  const i2v_corpus *all = sp->all;
  const uint32_t nv = sp->nvocab;
  size_t k = (size_t)e->k < nv ? (size_t)e->k : nv;
  uint64_t longest = 0, done = 0, covered_n = 0;
  double hr = 0, mrr = 0, ndcg = 0;
  int rc = I2V_NOMEM;

  memset(out, 0, sizeof(*out));
  for (uint64_t u = 0; u < sp->nusers; u++) {
    uint64_t s = sp->test_seq[u], len = all->starts[s + 1] - all->starts[s];
    if (len > longest) longest = len;
  }
  float *scores = i2v_malloc(a, (size_t)(nv ? nv : 1) * sizeof(float));
  unsigned char *seen = i2v_malloc(a, (size_t)(nv ? nv : 1));
  unsigned char *covered = i2v_malloc(a, (size_t)(nv ? nv : 1));
  uint32_t *query = i2v_malloc(a, (size_t)(longest ? longest : 1) * sizeof(uint32_t));
  i2v_scored *heap = i2v_malloc(a, (k ? k : 1) * sizeof(i2v_scored));
  if (!scores || !seen || !covered || !query || !heap) goto done;
  memset(seen, 0, nv ? nv : 1);
  memset(covered, 0, nv ? nv : 1);
  /* Items too rare to recommend stay marked seen for the whole run
  ** (bit 2; the per-user marks are bit 1). */
  for (uint32_t i = 0; i < nv; i++)
    if ((int64_t)sp->counts[i] < e->min_frequency) seen[i] = 2;

  for (uint64_t u = 0; u < sp->nusers; u++) {
    uint64_t s = sp->test_seq[u];
    const uint32_t *seq = all->tokens + all->starts[s];
    uint64_t len = all->starts[s + 1] - all->starts[s];
    uint64_t cut = len - (uint64_t)sp->holdout;
    for (uint64_t i = 0; i < cut; i++) {
      uint32_t t = sp->train_of[seq[i]];
      if (t != I2V_EVAL_NONE) seen[t] |= 1;
    }
    for (uint64_t p = cut; p < len; p++) {
      /* The query: the last query_items known items before p, oldest first. */
      size_t nq = 0;
      size_t want = e->query_items < 0   ? (size_t)I2V_RANK_QUERY_ITEMS
                    : e->query_items > 0 ? (size_t)e->query_items
                                         : (size_t)p;
      for (uint64_t i = p; i > 0 && nq < want; i--) {
        uint32_t t = sp->train_of[seq[i - 1]];
        if (t != I2V_EVAL_NONE) query[nq++] = t;
      }
      for (size_t i = 0; i < nq / 2; i++) {
        uint32_t tmp = query[i];
        query[i] = query[nq - 1 - i];
        query[nq - 1 - i] = tmp;
      }
      if ((rc = fn(ctx, query, nq, scores)) != I2V_OK) goto done;
      i2v_topk top;
      i2v_topk_init(&top, heap, k);
      for (uint32_t i = 0; i < nv; i++)
        if (!seen[i] && i2v_topk_wants(&top, scores[i])) i2v_topk_push(&top, scores[i], i);
      size_t got = i2v_topk_finish(&top);
      uint32_t target = sp->train_of[seq[p]];
      for (size_t r = 0; r < got; r++) {
        if (!covered[heap[r].index]) {
          covered[heap[r].index] = 1;
          covered_n++;
        }
        if (heap[r].index == target) {
          out->hits++;
          hr += 1.0;
          mrr += 1.0 / (double)(r + 1);
          ndcg += 1.0 / log2((double)r + 2.0);
        }
      }
      if (target != I2V_EVAL_NONE) seen[target] |= 1;
      out->cases++;
      if (poll && ++done % 256 == 0 && poll(poll_ctx, done, sp->ncases)) {
        rc = I2V_CANCELLED;
        goto done;
      }
    }
    for (uint64_t i = 0; i < len; i++) {
      uint32_t t = sp->train_of[seq[i]];
      if (t != I2V_EVAL_NONE) seen[t] &= 2;
    }
    out->users++;
  }
  if (out->cases) {
    out->hr = hr / (double)out->cases;
    out->mrr = mrr / (double)out->cases;
    out->ndcg = ndcg / (double)out->cases;
  }
  out->coverage = nv ? (double)covered_n / (double)nv : 0.0;
  rc = I2V_OK;

done:
  i2v_free(a, scores);
  i2v_free(a, seen);
  i2v_free(a, covered);
  i2v_free(a, query);
  i2v_free(a, heap);
  return rc;
}
