/*
** i2v_train.c: skip-gram and CBOW with negative sampling.
**
** How it works.  The sequences are split into one contiguous chunk per worker
** with about the same number of tokens.  For each epoch the calling thread
** starts the workers and then polls: every 50 ms it reports progress through
** the caller's callback, which may ask to cancel (the workers check a flag
** between sequences and every few thousand tokens).  Workers update the shared
** input and output matrices without locks, as word2vec does (Hogwild).
**
** Per worker and sequence: frequent items are dropped with word2vec's
** subsampling rule (kept with probability (sqrt(c/t)+1)*t/c, t = sample x
** total), the rest may be shuffled (shuffle=1), and each position is trained
** against a window of neighbours whose radius is drawn in [1, window] when
** shrink_windows=1.  Negatives come from an alias table over counts^ns_exponent.
** The learning rate falls linearly from alpha to min_alpha over all epochs,
** computed from each worker's own progress through its chunk, so a run with
** workers=1 and a fixed seed is bit-identical every time.  Rows given as
** a starting point (i2v_start, for update=1) may each have a factor on the
** learning rate, applied to their input and output vectors: a small factor
** keeps a stored model's geometry while fresh rows find their place in it.
** The loss, -log sigmoid(+-x), is summed per worker in double precision.
**
** Names: input vectors are the item embeddings users get (word2vec's syn0);
** output vectors are the context vectors (syn1neg).
*/
#include "i2v_train.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "i2v_vec.h"

#define SIGMOID_BOUND 6.0f
#define SIGMOID_SIZE 2048

typedef struct shared_state {
  const i2v_options *o;
  const i2v_corpus *c;
  float *input, *output;
  size_t stride;
  int dim;
  i2v_alias negatives;
  uint32_t *keep;         /* subsampling: keep when rand32 < keep[w] (or max) */
  uint32_t n_stored;      /* rows [0, n_stored) came from i2v_start and */
  const float *rate;      /* learn at alpha x rate[row] */
  float sigmoid[SIGMOID_SIZE + 1];
  float logsig[SIGMOID_SIZE + 1]; /* -log(sigmoid(x)) */
  int epoch;
  int cancel;             /* read and written with __atomic */
  uint64_t done;          /* tokens done, all epochs, __atomic */
} shared_state;

typedef struct worker {
  shared_state *s;
  uint64_t seq_begin, seq_end;
  uint64_t chunk_tokens;
  uint64_t rng;
  double loss;
  double published_loss; /* loss so far, for progress (__atomic) */
  uint64_t kept;
  float *hidden;  /* CBOW mean of the context */
  float *grad;    /* accumulated gradient for the input side */
  uint32_t *sentence;
  int finished;   /* __atomic */
  pthread_t thread;
  int started;
} worker;

static inline uint64_t rng_next(uint64_t *s) {
  /* xorshift64* */
  uint64_t x = *s;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *s = x;
  return x * 0x2545F4914F6CDD1DULL;
}

static uint64_t rng_seed(uint64_t seed, uint64_t stream) {
  uint64_t z = seed * 0x9E3779B97F4A7C15ULL + stream * 0xD1B54A32D192ED03ULL +
               0x632BE59BD9B4E019ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  z ^= z >> 31;
  return z ? z : 0x853C49E6748FEA9BULL;
}

/* Look up sigmoid(f) and the loss term; f outside the table saturates. */
static inline float sigmoid_of(const shared_state *s, float f) {
  if (f >= SIGMOID_BOUND) return 1.0f;
  if (f <= -SIGMOID_BOUND) return 0.0f;
  int i = (int)((f + SIGMOID_BOUND) * (SIGMOID_SIZE / (2 * SIGMOID_BOUND)));
  return s->sigmoid[i];
}

/* -log(sigmoid(f)) */
static inline double loss_of(const shared_state *s, float f) {
  if (f >= SIGMOID_BOUND) return 0.0;
  if (f <= -SIGMOID_BOUND) return -(double)f;
  int i = (int)((f + SIGMOID_BOUND) * (SIGMOID_SIZE / (2 * SIGMOID_BOUND)));
  return s->logsig[i];
}

/* Train one (input row, target item) against `negative` sampled items:
** updates the output rows and accumulates the input gradient in grad. */
static inline void train_pair(const shared_state *s, worker *w,
                              const float *restrict l1, uint32_t target,
                              float alpha, float *restrict grad) {
  const int dim = s->dim;
  const int negative = s->o->negative;
  double loss = 0.0;
  for (int d = 0; d <= negative; d++) {
    uint32_t t;
    float label;
    if (d == 0) {
      t = target;
      label = 1.0f;
    } else {
      t = i2v_alias_draw(&s->negatives, rng_next(&w->rng));
      if (t == target) continue;
      label = 0.0f;
    }
    float *restrict l2 = s->output + (size_t)t * s->stride;
    float f = i2v_dot(l1, l2, dim);
    float g = (label - sigmoid_of(s, f)) * alpha;
    loss += loss_of(s, label > 0 ? f : -f);
    i2v_axpy(g, l2, grad, dim);
    i2v_axpy(t < s->n_stored ? g * s->rate[t] : g, l1, l2, dim);
  }
  w->loss += loss;
}

/* One epoch over the worker's chunk.  Compiled once per instruction set. */
I2V_CLONES
static void run_chunk(worker *w) {
  shared_state *s = w->s;
  const i2v_options *o = s->o;
  const i2v_corpus *c = s->c;
  const int dim = s->dim;
  const int window = o->window;
  const int epochs = o->epochs;
  const double span = (double)w->chunk_tokens * epochs;
  const double alpha0 = o->alpha, alpha1 = o->min_alpha;
  uint64_t local_done = 0, unreported = 0;
  float *restrict grad = w->grad;
  float *restrict hidden = w->hidden;

  for (uint64_t q = w->seq_begin; q < w->seq_end; q++) {
    const uint32_t *seq = c->tokens + c->starts[q];
    const uint64_t len = c->starts[q + 1] - c->starts[q];
    uint64_t n = 0;
    for (uint64_t i = 0; i < len; i++) {
      uint32_t tok = seq[i];
      if (s->keep[tok] != UINT32_MAX &&
          (uint32_t)(rng_next(&w->rng) >> 32) >= s->keep[tok])
        continue;
      w->sentence[n++] = tok;
    }
    if (o->shuffle && n > 1) {
      for (uint64_t i = n - 1; i > 0; i--) {
        uint64_t j = (uint64_t)(((rng_next(&w->rng) >> 32) * (i + 1)) >> 32);
        uint32_t tmp = w->sentence[i];
        w->sentence[i] = w->sentence[j];
        w->sentence[j] = tmp;
      }
    }
    w->kept += n;
    float alpha = 0;
    for (uint64_t i = 0; i < n; i++) {
      if ((i & 255) == 0) {
        /* Progress through this chunk decides the learning rate. */
        double frac = span > 0
            ? ((double)s->epoch * (double)w->chunk_tokens +
               (double)local_done + (double)i * len / (double)n) / span
            : 0.0;
        if (frac > 1.0) frac = 1.0;
        alpha = (float)(alpha0 - (alpha0 - alpha1) * frac);
        if (alpha < (float)alpha1) alpha = (float)alpha1;
        if (i && __atomic_load_n(&s->cancel, __ATOMIC_RELAXED)) return;
      }
      int b = o->shrink_windows ? (int)(((rng_next(&w->rng) >> 32) *
                                         (uint64_t)window) >> 32)
                                : 0;
      int radius = window - b;
      uint64_t lo = i >= (uint64_t)radius ? i - (uint64_t)radius : 0;
      uint64_t hi = i + (uint64_t)radius + 1 < n ? i + (uint64_t)radius + 1 : n;
      uint32_t center = w->sentence[i];
      if (o->sg) {
        for (uint64_t j = lo; j < hi; j++) {
          if (j == i) continue;
          float *l1 = s->input + (size_t)w->sentence[j] * s->stride;
          memset(grad, 0, sizeof(float) * (size_t)dim);
          train_pair(s, w, l1, center, alpha, grad);
          uint32_t in = w->sentence[j];
          i2v_axpy(in < s->n_stored ? s->rate[in] : 1.0f, grad, l1, dim);
        }
      } else {
        int count = 0;
        memset(hidden, 0, sizeof(float) * (size_t)dim);
        for (uint64_t j = lo; j < hi; j++) {
          if (j == i) continue;
          i2v_axpy(1.0f, s->input + (size_t)w->sentence[j] * s->stride,
                   hidden, dim);
          count++;
        }
        if (count == 0) continue;
        i2v_scale(1.0f / (float)count, hidden, dim);
        memset(grad, 0, sizeof(float) * (size_t)dim);
        train_pair(s, w, hidden, center, alpha, grad);
        for (uint64_t j = lo; j < hi; j++) {
          if (j == i) continue;
          uint32_t in = w->sentence[j];
          i2v_axpy(in < s->n_stored ? s->rate[in] : 1.0f, grad,
                   s->input + (size_t)in * s->stride, dim);
        }
      }
    }
    local_done += len;
    unreported += len;
    if (unreported >= 4096 || q + 1 == w->seq_end) {
      __atomic_add_fetch(&s->done, unreported, __ATOMIC_RELAXED);
      __atomic_store(&w->published_loss, &w->loss, __ATOMIC_RELAXED);
      unreported = 0;
      if (__atomic_load_n(&s->cancel, __ATOMIC_RELAXED)) return;
    }
  }
}

static void *worker_main(void *arg) {
  worker *w = arg;
  run_chunk(w);
  __atomic_store_n(&w->finished, 1, __ATOMIC_RELEASE);
  return NULL;
}

int i2v_alias_build(i2v_alias *t, const uint64_t *counts, uint32_t n,
                    double power, const i2v_alloc *a) {
  int ovf = 0;
  memset(t, 0, sizeof(*t));
  if (n == 0) return I2V_ERROR;
  size_t bytes = i2v_mul_size(n, sizeof(uint32_t), &ovf);
  size_t pbytes = i2v_mul_size(n, sizeof(double), &ovf);
  if (ovf) return I2V_NOMEM;
  double *p = i2v_malloc(a, pbytes);
  uint32_t *small = i2v_malloc(a, bytes), *large = i2v_malloc(a, bytes);
  t->alias = i2v_malloc(a, bytes);
  t->threshold = i2v_malloc(a, bytes);
  int rc = I2V_NOMEM;
  if (!p || !small || !large || !t->alias || !t->threshold) goto done;
  double total = 0;
  for (uint32_t i = 0; i < n; i++) {
    p[i] = pow((double)(counts[i] ? counts[i] : 1), power);
    total += p[i];
  }
  size_t ns = 0, nl = 0;
  for (uint32_t i = 0; i < n; i++) {
    p[i] = p[i] * n / total; /* mean 1 */
    t->alias[i] = i;
    if (p[i] < 1.0)
      small[ns++] = i;
    else
      large[nl++] = i;
  }
  while (ns && nl) {
    uint32_t sm = small[--ns], lg = large[nl - 1];
    t->threshold[sm] = (uint32_t)(p[sm] * 4294967296.0);
    t->alias[sm] = lg;
    p[lg] -= 1.0 - p[sm];
    if (p[lg] < 1.0) {
      nl--;
      small[ns++] = lg;
    }
  }
  /* What is left is full (rounding leaves some at ~1). */
  while (nl) t->threshold[large[--nl]] = UINT32_MAX, t->alias[large[nl]] = large[nl];
  while (ns) t->threshold[small[--ns]] = UINT32_MAX, t->alias[small[ns]] = small[ns];
  t->n = n;
  rc = I2V_OK;
done:
  i2v_free(a, p);
  i2v_free(a, small);
  i2v_free(a, large);
  if (rc != I2V_OK) i2v_alias_free(t, a);
  return rc;
}

void i2v_alias_free(i2v_alias *t, const i2v_alloc *a) {
  i2v_free(a, t->alias);
  i2v_free(a, t->threshold);
  memset(t, 0, sizeof(*t));
}

void i2v_trained_free(i2v_trained *t, const i2v_alloc *a) {
  i2v_free(a, t->raw_input);
  i2v_free(a, t->raw_output);
  i2v_free(a, t->epoch_loss);
  memset(t, 0, sizeof(*t));
}

static float *alloc_matrix(const i2v_alloc *a, uint32_t rows, size_t stride,
                           void **raw) {
  int ovf = 0;
  size_t bytes = i2v_mul_size(i2v_mul_size(rows, stride, &ovf), sizeof(float),
                              &ovf);
  if (ovf || bytes > SIZE_MAX - 64) return NULL;
  char *p = i2v_malloc(a, bytes + 64);
  if (!p) return NULL;
  *raw = p;
  uintptr_t al = ((uintptr_t)p + 63) & ~(uintptr_t)63;
  memset((void *)al, 0, bytes);
  return (float *)al;
}

static void sleep_ms(int ms) {
  struct timespec ts = {0, ms * 1000000L};
  nanosleep(&ts, NULL);
}

/* Sleep up to ms milliseconds, returning as soon as every started worker has
** finished, so a short run does not wait out a whole poll period. */
static void wait_workers(worker *workers, int started, int ms) {
  for (int t = 0; t < ms; t++) {
    int all = 1;
    for (int k = 0; k < started && all; k++)
      if (!__atomic_load_n(&workers[k].finished, __ATOMIC_ACQUIRE)) all = 0;
    if (all) return;
    sleep_ms(1);
  }
}

int i2v_train(const i2v_options *o, const i2v_alloc *a, const uint64_t *counts,
              uint32_t nvocab, const i2v_corpus *c, const i2v_start *start,
              i2v_poll_fn poll, void *poll_ctx, i2v_trained *out, char *err,
              size_t errlen) {
  shared_state *s = NULL;
  worker *workers = NULL;
  int nw = o->workers < 1 ? 1 : o->workers;
  int rc = I2V_NOMEM;
  uint64_t total_tokens = 0, max_len = 0;
  const int dim = o->vector_size;

  memset(out, 0, sizeof(*out));
  if (nvocab == 0 || c->nseq == 0) {
    snprintf(err, errlen, "nothing to train on");
    return I2V_ERROR;
  }
  if ((uint64_t)nvocab * (uint64_t)i2v_row_stride(dim) > I2V_MAX_MATRIX_FLOATS) {
    snprintf(err, errlen,
             "%u items x %d dimensions is too large (at most %llu floats)",
             nvocab, dim, (unsigned long long)I2V_MAX_MATRIX_FLOATS);
    return I2V_ERROR;
  }
  for (uint64_t q = 0; q < c->nseq; q++) {
    uint64_t len = c->starts[q + 1] - c->starts[q];
    total_tokens += len;
    if (len > max_len) max_len = len;
  }

  s = i2v_malloc(a, sizeof(*s));
  if (!s) goto fail;
  memset(s, 0, sizeof(*s));
  s->o = o;
  s->c = c;
  s->dim = dim;
  s->stride = i2v_row_stride(dim);
  out->stride = s->stride;
  out->dim = dim;
  out->nvocab = nvocab;
  s->input = alloc_matrix(a, nvocab, s->stride, &out->raw_input);
  s->output = alloc_matrix(a, nvocab, s->stride, &out->raw_output);
  out->input = s->input;
  out->output = s->output;
  out->epoch_loss = i2v_malloc(a, sizeof(double) * (size_t)o->epochs);
  if (!s->input || !s->output || !out->epoch_loss) goto fail;
  memset(out->epoch_loss, 0, sizeof(double) * (size_t)o->epochs);

  /* Initial vectors: uniform in [-0.5, 0.5) / dim, output rows zero. */
  {
    uint64_t r = rng_seed((uint64_t)o->seed, 0x5eed);
    uint32_t first = 0;
    if (start && start->input) {
      first = start->n < nvocab ? start->n : nvocab;
      if (start->rate) {
        s->n_stored = first;
        s->rate = start->rate;
      }
      for (uint32_t i = 0; i < first; i++) {
        memcpy(s->input + (size_t)i * s->stride,
               start->input + (size_t)i * dim, sizeof(float) * (size_t)dim);
        if (start->output)
          memcpy(s->output + (size_t)i * s->stride,
                 start->output + (size_t)i * dim, sizeof(float) * (size_t)dim);
      }
    }
    for (uint32_t i = first; i < nvocab; i++) {
      float *row = s->input + (size_t)i * s->stride;
      for (int d = 0; d < dim; d++) {
        double u = (double)(rng_next(&r) >> 11) * (1.0 / 9007199254740992.0);
        row[d] = (float)((u - 0.5) / dim);
      }
    }
  }

  /* Tables: sigmoid and loss, negatives, subsampling thresholds. */
  for (int i = 0; i <= SIGMOID_SIZE; i++) {
    double x = ((double)i + 0.5) / SIGMOID_SIZE * 2 * SIGMOID_BOUND - SIGMOID_BOUND;
    s->sigmoid[i] = (float)(1.0 / (1.0 + exp(-x)));
    s->logsig[i] = (float)log1p(exp(-x));
  }
  rc = i2v_alias_build(&s->negatives, counts, nvocab, o->ns_exponent, a);
  if (rc != I2V_OK) goto fail;
  rc = I2V_NOMEM;
  s->keep = i2v_malloc(a, sizeof(uint32_t) * (size_t)nvocab);
  if (!s->keep) goto fail;
  {
    double retain = 0;
    for (uint32_t i = 0; i < nvocab; i++) retain += (double)counts[i];
    double t = o->sample * retain;
    for (uint32_t i = 0; i < nvocab; i++) {
      double p = 1.0;
      if (o->sample > 0 && counts[i] > 0) {
        double v = (double)counts[i];
        p = (sqrt(v / t) + 1.0) * (t / v);
      }
      s->keep[i] = p >= 1.0 ? UINT32_MAX : (uint32_t)(p * 4294967296.0);
    }
  }

  /* Workers and their chunks: contiguous runs of about equal token counts. */
  if ((uint64_t)nw > c->nseq) nw = (int)c->nseq;
  workers = i2v_malloc(a, sizeof(worker) * (size_t)nw);
  if (!workers) goto fail;
  memset(workers, 0, sizeof(worker) * (size_t)nw);
  {
    uint64_t q = 0, acc = 0;
    for (int k = 0; k < nw; k++) {
      worker *w = &workers[k];
      w->s = s;
      w->seq_begin = q;
      uint64_t goal = total_tokens * (uint64_t)(k + 1) / (uint64_t)nw;
      while (q < c->nseq && (acc < goal || k == nw - 1)) {
        acc += c->starts[q + 1] - c->starts[q];
        q++;
      }
      w->seq_end = q;
      w->chunk_tokens = c->starts[w->seq_end] - c->starts[w->seq_begin];
      w->hidden = i2v_malloc(a, sizeof(float) * s->stride);
      w->grad = i2v_malloc(a, sizeof(float) * s->stride);
      w->sentence = i2v_malloc(a, sizeof(uint32_t) * (size_t)(max_len ? max_len : 1));
      if (!w->hidden || !w->grad || !w->sentence) goto fail;
    }
  }

  for (int e = 0; e < o->epochs; e++) {
    s->epoch = e;
    int started = 0;
    for (int k = 0; k < nw; k++) {
      worker *w = &workers[k];
      w->rng = rng_seed((uint64_t)o->seed, (uint64_t)e * 1000003u + (uint64_t)k + 1);
      w->loss = 0;
      w->published_loss = 0;
      w->finished = 0;
      if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
        __atomic_store_n(&s->cancel, 1, __ATOMIC_RELAXED);
        break;
      }
      w->started = 1;
      started++;
    }
    int cancelled = started < nw;
    for (;;) {
      int all = 1;
      for (int k = 0; k < started; k++)
        if (!__atomic_load_n(&workers[k].finished, __ATOMIC_ACQUIRE)) all = 0;
      if (all) break;
      wait_workers(workers, started, 50);
      if (poll && !cancelled) {
        i2v_progress p;
        double lsum = 0;
        for (int k = 0; k < started; k++) {
          double l;
          __atomic_load(&workers[k].published_loss, &l, __ATOMIC_RELAXED);
          lsum += l;
        }
        p.epoch = e;
        p.epochs = o->epochs;
        p.done = __atomic_load_n(&s->done, __ATOMIC_RELAXED);
        p.total = total_tokens * (uint64_t)o->epochs;
        p.loss = lsum;
        p.epoch_loss = out->epoch_loss;
        if (poll(poll_ctx, &p)) {
          cancelled = 1;
          __atomic_store_n(&s->cancel, 1, __ATOMIC_RELAXED);
        }
      }
    }
    for (int k = 0; k < started; k++) {
      pthread_join(workers[k].thread, NULL);
      workers[k].started = 0;
      out->epoch_loss[e] += workers[k].loss;
      out->trained += workers[k].kept;
      workers[k].kept = 0;
    }
    if (started < nw) {
      snprintf(err, errlen, "cannot start worker thread %d of %d", started + 1, nw);
      rc = I2V_ERROR;
      goto fail;
    }
    if (cancelled) {
      snprintf(err, errlen, "interrupted");
      rc = I2V_CANCELLED;
      goto fail;
    }
    if (poll) {
      i2v_progress p;
      p.epoch = e;
      p.epochs = o->epochs;
      p.done = __atomic_load_n(&s->done, __ATOMIC_RELAXED);
      p.total = total_tokens * (uint64_t)o->epochs;
      p.loss = out->epoch_loss[e];
      p.epoch_loss = out->epoch_loss;
      if (poll(poll_ctx, &p)) {
        snprintf(err, errlen, "interrupted");
        rc = I2V_CANCELLED;
        goto fail;
      }
    }
  }
  rc = I2V_OK;
  goto done;

fail:
  if (rc == I2V_NOMEM) snprintf(err, errlen, "out of memory");
  i2v_trained_free(out, a);
done:
  if (workers) {
    for (int k = 0; k < nw; k++) {
      i2v_free(a, workers[k].hidden);
      i2v_free(a, workers[k].grad);
      i2v_free(a, workers[k].sentence);
    }
    i2v_free(a, workers);
  }
  if (s) {
    i2v_alias_free(&s->negatives, a);
    i2v_free(a, s->keep);
    i2v_free(a, s);
  }
  return rc;
}
