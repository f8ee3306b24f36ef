/*
** core/rank.h: the recommendation ranking ("what next?") that recommend_items
** returns and item2vec_evaluate measures as "hybrid".  No SQLite in here.
**
** The ranking blends two estimates of P(next item | the user's recent items):
**   - the embedding's: softmax over every item of
**       sharpness x dot(mean unit input vector of the query items,
**                       the item's output vector)
**       + prior x log(frequency)
**     (word2vec's predict_output_word with the negative-sampling prior put
**     back), and
**   - the pair evidence's: how often the item followed (weight 1) or preceded
**     (weight 1/2) each query item within `window` positions in training,
**     averaged over the query items and normalised to sum to 1.
** score = (1 - share) x embedding + share x pairs, where the pair evidence's
** share grows with how much of it the query has: share = blend x m / (m +
** evidence), m the query items' mean pair-row total (few counts, as on sparse
** catalogues, lean on the embedding).  The weights (blend, evidence,
** sharpness, prior, backward, the number of recent items, the cap) were
** chosen on validation splits cut from the training part of MovieLens and of
** generated data (docs/quality.md, "How recommend_items was chosen": the
** protocol, the figures and what lost).
*/
#ifndef I2V_RANK_H
#define I2V_RANK_H

#include "core/common.h"
#include "core/train.h"

/* The defaults of the ranking (docs/quality.md, "How recommend_items was chosen"). */
#define I2V_RANK_QUERY_ITEMS 3   /* the most recent items make the query */
#define I2V_RANK_BLEND 0.6f      /* most the pair evidence's share can reach */
#define I2V_RANK_EVIDENCE 66.7f  /* mean pair weight per query item at half of it */
#define I2V_RANK_PRIOR 0.75f     /* weight of log(frequency) in the embedding's */
#define I2V_RANK_SHARPNESS 4.0f  /* scale of the dot products (unit input rows) */
#define I2V_RANK_BACKWARD 0.5f   /* weight of a pair seen in the other order */
#define I2V_RANK_PAIRS_CAP 100   /* partners kept per item */
#define I2V_RANK_MIN_FREQUENCY 2 /* rarer items are not recommended */

/* Pair evidence over nitems items, one row per item: its partners (at most
** the cap, the heaviest first, ties to the smaller index) and their weights. */
typedef struct i2v_pairs {
  uint32_t nitems;
  uint64_t *start; /* nitems + 1 */
  uint32_t *other;
  float *weight;
} i2v_pairs;

/* Count the pairs of corpus c (sequences over nitems items) within window
** positions: a partner after the item adds 1, one before it adds backward.
** Keeps the cap heaviest partners of each item.  Returns I2V_OK or
** I2V_NOMEM (out left empty). */
int i2v_pairs_build(const i2v_corpus *c, uint32_t nitems, int window, float backward, int cap,
                    const i2v_alloc *a, i2v_pairs *out);
void i2v_pairs_free(i2v_pairs *p, const i2v_alloc *a);

/* One query item's partners, wherever they are kept (an i2v_pairs row, or
** rows read from the item2vec_pairs table). */
typedef struct i2v_pair_row {
  const uint32_t *other;
  const float *weight;
  uint64_t n;
} i2v_pair_row;

static inline i2v_pair_row i2v_pairs_row(const i2v_pairs *p, uint32_t item) {
  i2v_pair_row r = {p->other + p->start[item], p->weight + p->start[item],
                    p->start[item + 1] - p->start[item]};
  return r;
}

/* What the ranking reads: unit-length input vectors and output vectors
** (nitems rows of stride floats, zero padded), log(frequency) per item, and
** the weights. */
typedef struct i2v_ranker {
  const float *input, *output;
  const float *log_count;
  size_t stride;
  int dim;
  uint32_t nitems;
  float prior, blend, evidence, sharpness;
  float *query; /* scratch: stride floats, from i2v_ranker_init */
  const i2v_alloc *alloc;
} i2v_ranker;

int i2v_ranker_init(i2v_ranker *r, const float *input, const float *output, const float *log_count,
                    size_t stride, int dim, uint32_t nitems, const i2v_alloc *a);
void i2v_ranker_free(i2v_ranker *r);

/* scores[0..nitems) for the query items q[0..nq) (nq >= 1) with their pair
** rows (rows[i] for q[i]; a row may be empty).  Every score is finite and in
** [0, 1]. */
void i2v_rank_scores(i2v_ranker *r, const uint32_t *q, const i2v_pair_row *rows, size_t nq,
                     float *scores);

/* Epochs when the caller did not choose them: enough passes that the item
** behind a typical token gets about 500 updates, between 10 and 100.  With
** counts[0..n) the training occurrences of each item. */
int i2v_auto_epochs(const uint64_t *counts, uint32_t n);

#endif
