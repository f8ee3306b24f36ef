/*
** core/train.h: the trainer: skip-gram or CBOW with negative sampling over
** sequences of item indices, on POSIX threads with lock-free (Hogwild)
** updates as word2vec does.  It knows nothing of SQLite: the caller hands it
** the options, the item counts, the sequences, an allocator and a poll
** callback that runs on the calling thread (for progress and cancellation).
*/
#ifndef I2V_TRAIN_H
#define I2V_TRAIN_H

#include "core/common.h"
#include "core/corpus.h"
#include "core/options.h"

typedef struct i2v_progress {
  int epoch; /* 0-based, the epoch running */
  int epochs;
  uint64_t done;            /* tokens processed over all epochs so far */
  uint64_t total;           /* tokens to process over all epochs */
  double loss;              /* loss of the running epoch so far */
  const double *epoch_loss; /* losses of the finished epochs */
} i2v_progress;

/* Called on the calling thread about every 50 ms and at each epoch's end;
** a nonzero return cancels training. */
typedef int (*i2v_poll_fn)(void *ctx, const i2v_progress *p);

/* An optional starting point: vectors to continue from (rows of the first
** n items; the rest are initialised fresh).  NULL for a fresh model. */
typedef struct i2v_start {
  const float *input;  /* n x dim, packed */
  const float *output; /* n x dim, packed, or NULL */
  uint32_t n;
  const float *rate; /* n factors: row i learns at alpha x rate[i] (input
                     ** and output vectors); NULL: all 1, as fresh rows */
} i2v_start;

typedef struct i2v_trained {
  float *input;  /* nvocab rows of stride floats, 64-byte aligned */
  float *output; /* the output (context) vectors, same layout */
  size_t stride; /* floats per row, >= dim */
  int dim;
  uint32_t nvocab;
  double *epoch_loss; /* per epoch */
  uint64_t trained;   /* tokens kept after subsampling, all epochs */
  int isa;            /* the level the kernels ran at (i2v_isa_name) */
  void *raw_input, *raw_output;
} i2v_trained;

/* Largest vocabulary x dimension product the trainer accepts. */
#define I2V_MAX_MATRIX_FLOATS ((uint64_t)1 << 33)

int i2v_train(const i2v_options *o, const i2v_alloc *a, const uint64_t *counts, uint32_t nvocab,
              const i2v_corpus *c, const i2v_start *start, i2v_poll_fn poll, void *poll_ctx,
              i2v_trained *out, char *err, size_t errlen);

void i2v_trained_free(i2v_trained *t, const i2v_alloc *a);

/* Negative-sampling table (alias method): exposed for unit tests. */
typedef struct i2v_alias {
  uint32_t *alias;
  uint32_t *threshold; /* keep own index when fraction < threshold */
  uint32_t n;
} i2v_alias;

int i2v_alias_build(i2v_alias *t, const uint64_t *counts, uint32_t n, double power,
                    const i2v_alloc *a);
void i2v_alias_free(i2v_alias *t, const i2v_alloc *a);
/* Draw with 64 random bits: the high half picks a column, the low half
** decides between the column and its alias. */
static inline uint32_t i2v_alias_draw(const i2v_alias *t, uint64_t r) {
  uint32_t idx = (uint32_t)(((r >> 32) * (uint64_t)t->n) >> 32);
  /* Branch-free: the choice is a coin flip no predictor can learn. */
  uint32_t keep = 0u - (uint32_t)((uint32_t)r < t->threshold[idx]);
  return (idx & keep) | (t->alias[idx] & ~keep);
}

#endif
