/*
** core/eval.h: next-item evaluation of recommendations, with no SQLite in it.
**
** The pieces item2vec_evaluate is built from, each testable alone:
**   - i2v_eval_split: hold out the last `holdout` items of each user, build
**     the training corpus (prefixes, over a training vocabulary of the items
**     seen in training, most frequent first) and remember the test cases;
**   - scorers: each fills scores[] over the training vocabulary for a query
**     (a list of training indices): popularity, co-occurrence within a
**     window, embedding cosine (input x input) and embedding context
**     (input x output, word2vec's predict_output_word ranking);
**   - i2v_eval_run: for every held-out item, the query from the items before
**     it, the items the user already saw left out, the top k, and hit rate,
**     MRR and NDCG at k, plus catalogue coverage.
*/
#ifndef I2V_EVAL_H
#define I2V_EVAL_H

#include "core/common.h"
#include "core/corpus.h"
#include "core/rank.h"
#include "core/train.h"

#define I2V_EVAL_NONE I2V_CORPUS_NONE

/* cosine: input x input; context: input x output (word2vec's
** predict_output_word); context_prior: context + ns_exponent x log(count),
** the negative-sampling prior put back;
** hybrid: recommend_items' ranking (core/rank.h), the default. */
enum {
  I2V_SCORE_COSINE = 0,
  I2V_SCORE_CONTEXT = 1,
  I2V_SCORE_CONTEXT_PRIOR = 2,
  I2V_SCORE_HYBRID = 3
};

/* query_items for query=recommend: the query recommend_items makes, the
** last I2V_RANK_QUERY_ITEMS known items (their mean). */
#define I2V_EVAL_QUERY_RECOMMEND (-1)

/* Evaluation-only options ('name=value', parsed by i2v_eval_option). */
typedef struct i2v_eval_options {
  int holdout;           /* 1: last items of each user held out */
  int k;                 /* 10 */
  int query_items;       /* -1 = recommend (default); 1 = the last item; N = mean of
                            the last N; 0 = all seen */
  int score;             /* I2V_SCORE_HYBRID (default), _COSINE, _CONTEXT or _CONTEXT_PRIOR */
  int64_t min_frequency; /* items with fewer training occurrences are never
                            recommended, by any scorer (recommend_items' rule) */
} i2v_eval_options;

void i2v_eval_options_init(i2v_eval_options *e);

/* Apply "name=value" when name is an evaluation option: returns I2V_OK,
** I2V_ERROR with "<fname>: ..." in err for a bad value, or -1 when the name
** is not an evaluation option (the caller tries the training options). */
int i2v_eval_option(i2v_eval_options *e, const char *arg, const char *fname, char *err,
                    size_t errlen);

/* Names of the evaluation options, for messages: "holdout, k, query, score". */
const char *i2v_eval_option_names(void);

/* "last", "mean" or "mean:N", for reports. */
void i2v_eval_query_text(const i2v_eval_options *e, char *buf, size_t n);

typedef struct i2v_eval_split {
  /* Training side, over the training vocabulary. */
  uint32_t nvocab;    /* items that occur in training (>= min_count) */
  uint32_t *item_of;  /* training index -> index in the full vocabulary */
  uint32_t *train_of; /* full index -> training index or I2V_EVAL_NONE */
  uint64_t *counts;   /* training occurrences per training index */
  i2v_corpus train;   /* training sequences, training indices */
  /* Test side: users with more than `holdout` items. */
  uint64_t *test_seq; /* index of each test user's sequence in the input */
  uint64_t nusers, ncases;
  uint64_t unknown_targets; /* held-out items never seen in training */
  /* The input corpus (not owned) in full-vocabulary indices. */
  const i2v_corpus *all;
  uint32_t nitems; /* size of the full vocabulary */
  int holdout;
} i2v_eval_split;

/* Split `all` (sequences over nitems items) as described above; items with
** fewer than min_count training occurrences, or past the max_final_vocab most
** frequent (0 = no limit), are left out of training.  Errors (with a message
** in err that starts with fname): no user has more than holdout items; no
** training sequence of two items remains. */
int i2v_eval_split_build(const i2v_corpus *all, uint32_t nitems, int holdout, int64_t min_count,
                         int64_t max_final_vocab, const i2v_alloc *a, i2v_eval_split *sp,
                         const char *fname, char *err, size_t errlen);
void i2v_eval_split_free(i2v_eval_split *sp, const i2v_alloc *a);

/* A scorer fills scores[0..nvocab) for the query (training indices, most
** recent last; nq >= 1).  Higher is better; ties go to the lower index, the
** more popular item.  Returns I2V_OK or I2V_NOMEM. */
typedef int (*i2v_eval_scorer)(void *ctx, const uint32_t *query, size_t nq, float *scores);

/* Popularity: ctx is the split; scores are training counts. */
int i2v_eval_score_popularity(void *ctx, const uint32_t *query, size_t nq, float *scores);

/* Co-occurrence: how often each item occurs within `window` positions of a
** query item in the training sequences (summed over the query items). */
typedef struct i2v_eval_cooc {
  const i2v_eval_split *sp;
  int window;
  uint64_t *where_start; /* per training item: first entry in where[] */
  uint64_t *where;       /* token positions, grouped by item */
  uint64_t *seq_of;      /* per token position: its sequence */
  const i2v_alloc *alloc;
} i2v_eval_cooc;
int i2v_eval_cooc_init(i2v_eval_cooc *c, const i2v_eval_split *sp, int window, const i2v_alloc *a);
void i2v_eval_cooc_free(i2v_eval_cooc *c);
int i2v_eval_score_cooc(void *ctx, const uint32_t *query, size_t nq, float *scores);

/* Embedding: cosine of the query's mean unit input vector with each unit
** input vector, or (context) the dot product of the query's mean input vector
** with each output vector. */
typedef struct i2v_eval_embedding {
  const float *input, *output; /* nvocab rows of stride floats */
  float *unit;                 /* unit-length copy of input (cosine) */
  void *raw_unit;
  size_t stride;
  int dim;
  uint32_t nvocab;
  int score;
  float *query;       /* stride floats */
  const float *prior; /* context: added per item, or NULL */
  const i2v_alloc *alloc;
} i2v_eval_embedding;
int i2v_eval_embedding_init(i2v_eval_embedding *e, const float *input, const float *output,
                            size_t stride, int dim, uint32_t nvocab, int score, const i2v_alloc *a);
void i2v_eval_embedding_free(i2v_eval_embedding *e);
int i2v_eval_score_embedding(void *ctx, const uint32_t *query, size_t nq, float *scores);

/* Hybrid: recommend_items' ranking, with the pair evidence counted from the
** training sequences exactly as item2vec_train counts and stores it. */
typedef struct i2v_eval_hybrid {
  i2v_ranker ranker;
  i2v_pairs pairs;
  float *log_count;
  float *unit; /* unit-length copy of the input vectors */
  void *unit_raw;
  i2v_pair_row *rows; /* scratch, rows_cap entries */
  size_t rows_cap;
  const i2v_alloc *alloc;
} i2v_eval_hybrid;
int i2v_eval_hybrid_init(i2v_eval_hybrid *h, const i2v_eval_split *sp, const float *input,
                         const float *output, size_t stride, int dim, int window,
                         const i2v_alloc *a);
void i2v_eval_hybrid_free(i2v_eval_hybrid *h);
int i2v_eval_score_hybrid(void *ctx, const uint32_t *query, size_t nq, float *scores);

typedef struct i2v_eval_metrics {
  double hr, mrr, ndcg, coverage;
  uint64_t cases, hits, users;
} i2v_eval_metrics;

/* Called every few hundred cases on the calling thread; nonzero cancels. */
typedef int (*i2v_eval_poll)(void *ctx, uint64_t done, uint64_t total);

/* Evaluate one scorer on every test case of the split.  Returns I2V_OK,
** I2V_NOMEM or I2V_CANCELLED. */
int i2v_eval_run(const i2v_eval_split *sp, const i2v_eval_options *e, i2v_eval_scorer fn, void *ctx,
                 i2v_eval_poll poll, void *poll_ctx, const i2v_alloc *a, i2v_eval_metrics *out);

#endif
