/*
** core/corpus.c: building the training corpus from the rows of a scan; no
** SQLite.
**
** How it works.  The cut sorts the items that occur by count (descending,
** ties by first appearance, which is index order) and keeps a prefix: the
** new index of an item is its rank.  Grouping is a stable counting sort by
** user: one pass counts each user's kept rows, a prefix sum over the users
** with two or more gives each one its place, a second pass drops every row
** in.  With sort keys each history is then sorted by key, ties in scan order
** (a history already in order, the common case, is only checked).
** Renumbering in place compacts the tokens towards the front, which is
** safe because a sequence only ever moves down.
*/
#include "core/corpus.h"

#include <stdlib.h>
#include <string.h>

void i2v_corpus_free(i2v_corpus *c, const i2v_alloc *a) {
  i2v_free(a, c->tokens);
  i2v_free(a, c->starts);
  memset(c, 0, sizeof(*c));
}

/* ---- the vocabulary cut ---- */

typedef struct counted {
  uint64_t count;
  uint32_t index;
} counted;

static int by_count_desc(const void *a, const void *b) {
  const counted *x = a, *y = b;
  if (x->count != y->count) return x->count > y->count ? -1 : 1;
  return x->index < y->index ? -1 : (x->index > y->index);
}

void i2v_corpus_cut_free(i2v_corpus_cut *cut, const i2v_alloc *a) {
  i2v_free(a, cut->order);
  i2v_free(a, cut->remap);
  memset(cut, 0, sizeof(*cut));
}

int i2v_corpus_cut_build(i2v_corpus_cut *cut, const uint64_t *counts, uint32_t nitems,
                         int64_t min_count, int64_t max_final_vocab, const i2v_alloc *a) {
  int ovf = 0;
  memset(cut, 0, sizeof(*cut));
  counted *byc = i2v_malloc(a, i2v_mul_size(nitems, sizeof(counted), &ovf));
  cut->order = i2v_malloc(a, i2v_mul_size(nitems, sizeof(uint32_t), &ovf));
  cut->remap = i2v_malloc(a, i2v_mul_size(nitems, sizeof(uint32_t), &ovf));
  if (ovf || !byc || !cut->order || !cut->remap) {
    i2v_free(a, byc);
    i2v_corpus_cut_free(cut, a);
    return I2V_NOMEM;
  }
  uint32_t n = 0;
  for (uint32_t i = 0; i < nitems; i++) {
    cut->remap[i] = I2V_CORPUS_NONE;
    if (counts[i] > 0) {
      byc[n].count = counts[i];
      byc[n].index = i;
      n++;
    }
  }
  qsort(byc, n, sizeof(counted), by_count_desc);
  for (uint32_t i = 0; i < n; i++) cut->order[i] = byc[i].index;
  uint64_t floor = min_count > 1 ? (uint64_t)min_count : 1;
  if (max_final_vocab > 0 && (uint64_t)n > (uint64_t)max_final_vocab) {
    uint64_t limit = byc[max_final_vocab].count + 1;
    if (limit > floor) floor = limit;
  }
  uint32_t kept = 0;
  while (kept < n && byc[kept].count >= floor) kept++;
  for (uint32_t k = 0; k < kept; k++) cut->remap[byc[k].index] = k;
  i2v_free(a, byc);
  cut->n = n;
  cut->kept = kept;
  cut->floor = floor;
  return I2V_OK;
}

/* ---- grouping by user ---- */

int i2v_corpus_count(const i2v_corpus_rows *rows, uint32_t nitems, const i2v_alloc *a,
                     uint64_t **counts) {
  int ovf = 0;
  uint64_t *c = i2v_malloc(a, i2v_mul_size(nitems, sizeof(uint64_t), &ovf));
  *counts = NULL;
  if (ovf || !c) {
    i2v_free(a, c);
    return I2V_NOMEM;
  }
  memset(c, 0, (size_t)nitems * sizeof(uint64_t));
  for (size_t r = 0; r < rows->n; r++) c[rows->pairs[2 * r + 1]]++;
  *counts = c;
  return I2V_OK;
}

/* One row of a history while it is sorted: key, then scan order. */
typedef struct keyed_token {
  uint64_t key;
  uint32_t pos, token;
} keyed_token;

static int by_key_then_pos(const void *a, const void *b) {
  const keyed_token *x = a, *y = b;
  if (x->key != y->key) return x->key < y->key ? -1 : 1;
  return x->pos < y->pos ? -1 : (x->pos > y->pos);
}

/* Sort each sequence of c by seq_keys (parallel to c->tokens), ties in
** their current order; sorting has room for the longest sequence. */
static void sort_histories(i2v_corpus *c, const uint64_t *seq_keys, keyed_token *sorting) {
  for (uint64_t q = 0; q < c->nseq; q++) {
    uint64_t lo = c->starts[q], len = c->starts[q + 1] - lo, k;
    for (k = 1; k < len && seq_keys[lo + k - 1] <= seq_keys[lo + k]; k++) {
    }
    if (k == len) continue; /* already in order */
    for (k = 0; k < len; k++) {
      sorting[k].key = seq_keys[lo + k];
      sorting[k].pos = (uint32_t)k;
      sorting[k].token = c->tokens[lo + k];
    }
    qsort(sorting, len, sizeof(keyed_token), by_key_then_pos);
    for (k = 0; k < len; k++) c->tokens[lo + k] = sorting[k].token;
  }
}

int i2v_corpus_group(const i2v_corpus_rows *rows, const uint32_t *remap, const i2v_alloc *a,
                     i2v_corpus *out, uint64_t *dropped_tokens) {
  size_t nu = rows->nusers;
  const uint32_t *pairs = rows->pairs;
  uint64_t *place = NULL, *seq_keys = NULL;
  keyed_token *sorting = NULL;
  int ovf = 0, rc = I2V_NOMEM;

  memset(out, 0, sizeof(*out));
  *dropped_tokens = 0;
  /* place[u]: first the user's kept rows, then where the next one goes
  ** (UINT64_MAX: the user has no sequence). */
  place = i2v_malloc(a, i2v_mul_size(nu + 1, sizeof(uint64_t), &ovf));
  if (ovf || !place) goto done;
  memset(place, 0, (nu + 1) * sizeof(uint64_t));
  for (size_t r = 0; r < rows->n; r++) {
    if (remap[pairs[2 * r + 1]] == I2V_CORPUS_NONE)
      (*dropped_tokens)++;
    else
      place[pairs[2 * r]]++;
  }
  uint64_t nseq = 0, ntok = 0, longest = 0;
  for (size_t u = 0; u < nu; u++) {
    if (place[u] >= 2) {
      nseq++;
      ntok += place[u];
      if (place[u] > longest) longest = place[u];
    }
  }
  if (nseq == 0) {
    rc = I2V_OK;
    goto done;
  }
  out->tokens = i2v_malloc(a, i2v_mul_size(ntok, sizeof(uint32_t), &ovf));
  out->starts = i2v_malloc(a, i2v_mul_size(nseq + 1, sizeof(uint64_t), &ovf));
  if (rows->keys) {
    seq_keys = i2v_malloc(a, i2v_mul_size(ntok, sizeof(uint64_t), &ovf));
    sorting = i2v_malloc(a, i2v_mul_size(longest, sizeof(keyed_token), &ovf));
  }
  if (ovf || !out->tokens || !out->starts || (rows->keys && (!seq_keys || !sorting))) goto done;
  uint64_t pos = 0, s = 0;
  for (size_t u = 0; u < nu; u++) {
    if (place[u] >= 2) {
      out->starts[s++] = pos;
      uint64_t c = place[u];
      place[u] = pos;
      pos += c;
    } else {
      place[u] = UINT64_MAX;
    }
  }
  out->starts[s] = pos;
  for (size_t r = 0; r < rows->n; r++) {
    uint32_t u = pairs[2 * r], it = remap[pairs[2 * r + 1]];
    if (it == I2V_CORPUS_NONE || place[u] == UINT64_MAX) continue;
    if (rows->keys) seq_keys[place[u]] = rows->keys[r];
    out->tokens[place[u]++] = it;
  }
  out->nseq = nseq;
  out->ntokens = ntok;
  out->longest = longest;
  if (rows->keys) sort_histories(out, seq_keys, sorting);
  rc = I2V_OK;

done:
  if (rc != I2V_OK) i2v_corpus_free(out, a);
  i2v_free(a, place);
  i2v_free(a, seq_keys);
  i2v_free(a, sorting);
  return rc;
}

/* ---- renumbering ---- */

void i2v_corpus_renumber(i2v_corpus *c, const uint32_t *map, uint64_t *dropped_tokens) {
  uint64_t out = 0, kept = 0, longest = 0, dropped = 0;
  if (c->nseq == 0) {
    *dropped_tokens = 0;
    return;
  }
  uint64_t begin = c->starts[0];
  for (uint64_t q = 0; q < c->nseq; q++) {
    uint64_t end = c->starts[q + 1], first = out;
    for (uint64_t t = begin; t < end; t++) {
      uint32_t m = map[c->tokens[t]];
      if (m == I2V_CORPUS_NONE) {
        dropped++;
        continue;
      }
      c->tokens[out++] = m;
    }
    begin = end;
    if (out - first < 2) {
      out = first;
      continue;
    }
    c->starts[kept++] = first;
    if (out - first > longest) longest = out - first;
  }
  c->starts[kept] = out;
  c->nseq = kept;
  c->ntokens = out;
  c->longest = longest;
  *dropped_tokens = dropped;
}
