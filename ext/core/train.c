/*
** core/train.c: skip-gram and CBOW with negative sampling.
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
** shrink_windows=1.  Negatives come from an alias table over counts^ns_exponent;
** skip-gram draws one set per centre item for all its context items
** (shared_negatives=1, the default) or one per pair (0, as gensim).
**
** One update (an input vector against the positive and the negatives) is one
** kernel call: AVX2+FMA at the avx2 and avx512 levels, else the portable
** kernel on GCC/Clang vector extensions.  (AVX-512 kernels, 16 floats per
** register, one pass per pair that also scored the next context, were
** written and measured slower than AVX2 here: docs/performance.md.)  The epoch loop is compiled once per
** level (core/vec.h), each with its kernel; the run takes the level
** i2v_isa_pick(o->isa) gives (the CPU's best unless a test asks for a lower
** one) and reports it in i2v_trained.isa.  The kernel scores eight targets at a time, takes
** sigmoid and loss from one polynomial exp and one division (no table), then moves the output
** rows and sums the input's gradient in one pass.  Random numbers come from a
** counter-based generator; negatives are drawn one update ahead and their
** rows prefetched, with the next centre's and the next context's rows.
**
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
#include "core/train.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/vec.h"

#if I2V_ISA_X86
#include <immintrin.h>
#define I2V_AVX2 __attribute__((target("avx2,fma")))
#endif

typedef struct worker worker;

/* One update: l1 against w->targets[0] (label 1) and the nt - 1 negatives
** after it (label 0): the targets' output rows move, dst (l1 itself for
** skip-gram, a zeroed buffer for CBOW) gets dst_rate x the input's gradient;
** returns the loss. */

typedef struct shared_state {
  const i2v_options *o;
  const i2v_corpus *c;
  float *input, *output;
  size_t stride;
  int dim;
  i2v_alias negatives;
  uint32_t *keep;         /* subsampling: keep when rand32 < keep[w] (or max) */
  void (*run)(worker *w); /* the epoch loop of the level chosen */
  uint32_t n_stored;      /* rows [0, n_stored) came from i2v_start and */
  const float *rate;      /* learn at alpha x rate[row] */
  int epoch;
  /* Workers count themselves finished under lock and signal done, so the
  ** calling thread wakes when an epoch ends, not at its next poll. */
  pthread_mutex_t lock;
  pthread_cond_t done_cond;
  int n_finished;
  int cancel;    /* read and written with __atomic */
  uint64_t done; /* tokens done, all epochs, __atomic */
} shared_state;

struct worker {
  shared_state *s;
  uint64_t seq_begin, seq_end;
  uint64_t chunk_tokens;
  uint64_t rng;
  double loss;
  double published_loss; /* loss so far, for progress (__atomic) */
  uint64_t kept;
  uint64_t updates; /* kernel calls this epoch (the loss is summed over them) */
  float *hidden;    /* CBOW mean of the context */
  float *grad;      /* accumulated gradient for the input side */
  uint32_t *sentence;
  uint32_t *targets; /* the positive, then the negatives; padded to 8 */
  uint32_t *ahead;   /* the negatives of the next update, being prefetched */
  float *gains;      /* per target: alpha * (label - sigmoid) */
  float *out_gains;  /* the same times the target's rate (update=1) */
  float **rows;      /* per target: its output row */
  pthread_t thread;
  int started;
  char pad[64]; /* keeps workers' fields off each other's cache lines */
};

/* A counter-based generator (the wyrand construction): the state only
** advances by a constant, so successive draws do not wait on each other. */
static inline uint64_t rng_next(uint64_t *s) {
  uint64_t x = (*s += 0xA0761D6478BD642FULL);
  __uint128_t m = (__uint128_t)x * (x ^ 0xE7037ED1A0B428DBULL);
  return (uint64_t)(m >> 64) ^ (uint64_t)m;
}

static uint64_t rng_seed(uint64_t seed, uint64_t stream) {
  uint64_t z =
      seed * 0x9E3779B97F4A7C15ULL + stream * 0xD1B54A32D192ED03ULL + 0x632BE59BD9B4E019ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  z ^= z >> 31;
  return z;
}

static inline void prefetch_row(const float *row, size_t stride) {
  for (size_t b = 0; b < stride; b += 16) __builtin_prefetch(row + b, 1, 3);
}

/* Fill targets[1..negative] with negatives drawn one update ahead: hand over
** the set drawn last time, draw the next set and start loading its output
** rows into the cache, so they are there when the update after this one
** needs them. */
static inline void draw_negatives(const shared_state *s, worker *w, uint32_t *targets, int negative,
                                  uint64_t *rng) {
  uint32_t *ahead = w->ahead;
  for (int d = 1; d <= negative; d++) {
    targets[d] = ahead[d];
    uint32_t t = i2v_alias_draw(&s->negatives, rng_next(rng));
    ahead[d] = t;
    prefetch_row(s->output + (size_t)t * s->stride, s->stride);
  }
}

/* The coefficients of 2^r on [-1/2, 1/2] (degree 6) and of log1p(e)/e on
** [0, 1] (degree 7, Chebyshev fit, relative error 2e-7). */
#define I2V_EXP2_C1 6.9314718055994531e-1f
#define I2V_EXP2_C2 2.4022650695910071e-1f
#define I2V_EXP2_C3 5.5504108664821580e-2f
#define I2V_EXP2_C4 9.6181291076284772e-3f
#define I2V_EXP2_C5 1.3333558146428443e-3f
#define I2V_EXP2_C6 1.5403530393381609e-4f
#define I2V_LOG1P_C1 -0.49997452f
#define I2V_LOG1P_C2 0.33276197f
#define I2V_LOG1P_C3 -0.24499701f
#define I2V_LOG1P_C4 0.1775721f
#define I2V_LOG1P_C5 -0.1078557f
#define I2V_LOG1P_C6 0.044215254f
#define I2V_LOG1P_C7 -0.008574884f

/* sigmoid_loss_avx2's arithmetic on one score (see there). */
static inline void sigmoid_loss(float x, float *one_minus, float *loss) {
  float ax = fabsf(x) < 87.0f ? fabsf(x) : 87.0f;
  float t = ax * -1.44269504088896f;
  /* Round to nearest by adding 1.5 * 2^23 (|t| < 126), no libm call. */
  float n = (t + 12582912.0f) - 12582912.0f, r = t - n;
  float r2 = r * r, r4 = r2 * r2;
  float p = ((I2V_EXP2_C1 * r + 1.0f) + (I2V_EXP2_C3 * r + I2V_EXP2_C2) * r2) +
            ((I2V_EXP2_C5 * r + I2V_EXP2_C4) + I2V_EXP2_C6 * r2) * r4;
  int32_t bits = ((int32_t)n + 127) * (1 << 23); /* 2^n, n in [-126, 0] */
  float scale;
  memcpy(&scale, &bits, sizeof(scale));
  float e = p * scale;
  float d = 1.0f / (1.0f + e);
  *one_minus = x >= 0 ? e * d : d;
  float q = I2V_LOG1P_C7;
  q = q * e + I2V_LOG1P_C6;
  q = q * e + I2V_LOG1P_C5;
  q = q * e + I2V_LOG1P_C4;
  q = q * e + I2V_LOG1P_C3;
  q = q * e + I2V_LOG1P_C2;
  q = q * e + I2V_LOG1P_C1;
  q = q * e + 1.0f;
  *loss = e * q + (x < 0 ? -x : 0.0f);
}

/* Point rows[] at the targets' output rows; pad both to a multiple of 8
** with the positive (the kernels mask the padding out). */
static inline void set_rows(worker *w, int nt) {
  const shared_state *s = w->s;
  uint32_t *tg = w->targets;
  float **rows = w->rows;
  for (int d = 0; d < nt; d++) rows[d] = s->output + (size_t)tg[d] * s->stride;
  for (int d = nt; d < ((nt + 7) & ~7); d++) {
    rows[d] = rows[0];
    tg[d] = tg[0];
  }
}

/* The learning-rate factor of a row (update=1 gives stored rows one). */
static inline float rate_of(const shared_state *s, uint32_t row) {
  return row < s->n_stored ? s->rate[row] : 1.0f;
}

/* The gains the output rows move by: the gains themselves, or with
** update=1 each times its row's rate. */
static inline const float *out_gains(worker *w, int nt) {
  const shared_state *s = w->s;
  if (!s->rate) return w->gains;
  for (int d = 0; d < nt; d++) w->out_gains[d] = w->gains[d] * rate_of(s, w->targets[d]);
  return w->out_gains;
}

/* The portable kernel.  For target d with score f = l1 . out[t_d] and x = f
** for the positive, -f for a negative: gain g_d = +-alpha * (1 - sigmoid(x)),
** loss -log sigmoid(x).  A negative equal to the positive is skipped.  Then
** out[t_d] += g_d * rate(t_d) * l1 and dst += dst_rate * sum_d g_d * out[t_d]
** (the rows as they were), block by block so dst may be l1 itself
** (skip-gram). */
/* Four floats as one value (GCC and Clang vector extensions): the portable
** kernel's unit, one SSE or NEON register.  (A 32-byte vector is lowered
** through memory where the registers are 16 bytes, several times slower.) */
typedef float v4f __attribute__((vector_size(16)));
/* Loads and stores by memcpy (any alignment); macros, since a function
** returning a vector by value would change the ABI between the clones. */
#define V4F_LOAD(v, p) memcpy(&(v), (p), sizeof(v4f))
#define V4F_STORE(p, v) memcpy((p), &(v), sizeof(v4f))

static inline double scores_portable(const float *l1, float *const *rows, const uint32_t *tg,
                                     int nt, size_t stride, float alpha, float *gains) {
  float loss = 0;
  for (int d = 0; d < nt; d++) {
    v4f a0 = {0}, a1 = {0}, x, r;
    for (size_t b = 0; b < stride; b += 8) {
      V4F_LOAD(x, l1 + b);
      V4F_LOAD(r, rows[d] + b);
      a0 += x * r;
      V4F_LOAD(x, l1 + b + 4);
      V4F_LOAD(r, rows[d] + b + 4);
      a1 += x * r;
    }
    gains[d] = ((a0[0] + a1[0]) + (a0[1] + a1[1])) + ((a0[2] + a1[2]) + (a0[3] + a1[3]));
  }
  /* Written without branches so the compiler can vectorise across targets. */
#pragma omp simd reduction(+ : loss)
  for (int d = 0; d < nt; d++) {
    float sign = d == 0 ? 1.0f : -1.0f;
    float valid = (d == 0 || tg[d] != tg[0]) ? 1.0f : 0.0f;
    float om, ls;
    sigmoid_loss(sign * gains[d], &om, &ls);
    gains[d] = valid * sign * alpha * om;
    loss += valid * ls;
  }
  return loss;
}

/* The kernels are called, not inlined, in the epoch loop: the shape the
** figures in docs/performance.md ("What makes it fast") were measured with. */
__attribute__((noinline)) static double update_portable(worker *w, const float *l1, float *dst,
                                                        float dst_rate, int nt, float alpha) {
  const size_t stride = w->s->stride;
  float *gains = w->gains;
  float **rows = w->rows;
  set_rows(w, nt);
  double loss = scores_portable(l1, rows, w->targets, nt, stride, alpha, gains);
  const float *og = out_gains(w, nt);
  for (size_t b = 0; b < stride; b += 4) {
    v4f x, acc = {0}, t;
    V4F_LOAD(x, l1 + b);
    for (int d = 0; d < nt; d++) {
      V4F_LOAD(t, rows[d] + b);
      acc += gains[d] * t;
      t += og[d] * x;
      V4F_STORE(rows[d] + b, t);
    }
    V4F_LOAD(t, dst + b);
    t += dst_rate * acc;
    V4F_STORE(dst + b, t);
  }
  return loss;
}

#if I2V_ISA_X86
/* Eight dot-product accumulators to one vector of their eight sums. */
I2V_AVX2 static inline __m256 hsum8(__m256 a0, __m256 a1, __m256 a2, __m256 a3, __m256 a4,
                                    __m256 a5, __m256 a6, __m256 a7) {
  __m256 s01 = _mm256_hadd_ps(a0, a1), s23 = _mm256_hadd_ps(a2, a3);
  __m256 s45 = _mm256_hadd_ps(a4, a5), s67 = _mm256_hadd_ps(a6, a7);
  __m256 s0123 = _mm256_hadd_ps(s01, s23), s4567 = _mm256_hadd_ps(s45, s67);
  return _mm256_add_ps(_mm256_permute2f128_ps(s0123, s4567, 0x20),
                       _mm256_permute2f128_ps(s0123, s4567, 0x31));
}

/* For eight scores x: 1 - sigmoid(x) and the loss -log sigmoid(x), from
** e = exp(-|x|) (Cody-Waite reduction, degree-6 polynomial for 2^r in
** Estrin's form, three multiply-adds deep, since the next update waits on
** it): 1 - sigmoid(x) = e/(1+e) for x >= 0, 1/(1+e) below; -log sigmoid(x) =
** max(-x, 0) + log1p(e), log1p(e) = e x (a degree-7 polynomial in e), so
** one division in all.  Relative error about 1e-7 (sigmoid), 3e-7 (loss). */
I2V_AVX2 static inline void sigmoid_loss_avx2(__m256 x, __m256 *one_minus, __m256 *loss) {
  const __m256 signbit = _mm256_set1_ps(-0.0f), one = _mm256_set1_ps(1.0f);
  __m256 ax = _mm256_min_ps(_mm256_andnot_ps(signbit, x), _mm256_set1_ps(87.0f));
  __m256 t = _mm256_mul_ps(ax, _mm256_set1_ps(-1.44269504088896f));
  __m256 n = _mm256_round_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_sub_ps(t, n);
  __m256 r2 = _mm256_mul_ps(r, r), r4 = _mm256_mul_ps(r2, r2);
  __m256 p01 = _mm256_fmadd_ps(_mm256_set1_ps(I2V_EXP2_C1), r, one);
  __m256 p23 = _mm256_fmadd_ps(_mm256_set1_ps(I2V_EXP2_C3), r, _mm256_set1_ps(I2V_EXP2_C2));
  __m256 p45 = _mm256_fmadd_ps(_mm256_set1_ps(I2V_EXP2_C5), r, _mm256_set1_ps(I2V_EXP2_C4));
  __m256 p03 = _mm256_fmadd_ps(p23, r2, p01);
  __m256 p46 = _mm256_fmadd_ps(_mm256_set1_ps(I2V_EXP2_C6), r2, p45);
  __m256 p = _mm256_fmadd_ps(p46, r4, p03);
  __m256i bits =
      _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  __m256 e = _mm256_mul_ps(p, _mm256_castsi256_ps(bits));
  __m256 d = _mm256_div_ps(one, _mm256_add_ps(one, e)); /* sigmoid(|x|) */
  __m256 pos = _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GE_OQ);
  *one_minus = _mm256_blendv_ps(d, _mm256_mul_ps(e, d), pos);
  __m256 q = _mm256_set1_ps(I2V_LOG1P_C7);
  q = _mm256_fmadd_ps(q, e, _mm256_set1_ps(I2V_LOG1P_C6));
  q = _mm256_fmadd_ps(q, e, _mm256_set1_ps(I2V_LOG1P_C5));
  q = _mm256_fmadd_ps(q, e, _mm256_set1_ps(I2V_LOG1P_C4));
  q = _mm256_fmadd_ps(q, e, _mm256_set1_ps(I2V_LOG1P_C3));
  q = _mm256_fmadd_ps(q, e, _mm256_set1_ps(I2V_LOG1P_C2));
  q = _mm256_fmadd_ps(q, e, _mm256_set1_ps(I2V_LOG1P_C1));
  q = _mm256_fmadd_ps(q, e, one);
  *loss = _mm256_fmadd_ps(e, q, _mm256_max_ps(_mm256_xor_ps(x, signbit), _mm256_setzero_ps()));
}

/* The lanes of targets d0..d0+7: neg has the sign bit for a negative;
** valid is all ones but for a negative equal to the positive and for the
** padding past nt, whose gains and losses are zero. */
I2V_AVX2 static inline void lanes8_avx2(int d0, int nt, const uint32_t *tg, __m256 *valid,
                                        __m256 *neg) {
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  __m256i idx = _mm256_add_epi32(lane, _mm256_set1_epi32(d0));
  __m256i is_pos = _mm256_cmpeq_epi32(idx, _mm256_setzero_si256());
  __m256i dup =
      _mm256_andnot_si256(is_pos, _mm256_cmpeq_epi32(_mm256_loadu_si256((const __m256i *)(tg + d0)),
                                                     _mm256_set1_epi32((int)tg[0])));
  __m256i past = _mm256_cmpgt_epi32(idx, _mm256_set1_epi32(nt - 1));
  *valid =
      _mm256_castsi256_ps(_mm256_xor_si256(_mm256_or_si256(dup, past), _mm256_set1_epi32(-1)));
  *neg = _mm256_andnot_ps(_mm256_castsi256_ps(is_pos), _mm256_set1_ps(-0.0f));
}

/* Eight scores f turned into gains (alpha * (label - sigmoid)) stored at
** gains; returns the loss of each lane.  valid and neg from lanes8_avx2. */
I2V_AVX2 static inline __m256 gains8m_avx2(__m256 f, __m256 valid, __m256 neg, float alpha,
                                           float *gains) {
  __m256 g, ls;
  sigmoid_loss_avx2(_mm256_xor_ps(f, neg), &g, &ls);
  g = _mm256_and_ps(_mm256_xor_ps(_mm256_mul_ps(_mm256_set1_ps(alpha), g), neg), valid);
  _mm256_storeu_ps(gains, g);
  return _mm256_and_ps(ls, valid);
}

/* The same for targets d0..d0+7, stored at gains + d0. */
I2V_AVX2 static inline __m256 gains8_avx2(__m256 f, int d0, int nt, const uint32_t *tg,
                                          float alpha, float *gains) {
  __m256 valid, neg;
  lanes8_avx2(d0, nt, tg, &valid, &neg);
  return gains8m_avx2(f, valid, neg, alpha, gains + d0);
}

/* Scores of l1 against the nt target rows, eight at a time, turned into
** gains (alpha * (label - sigmoid), zero for a negative equal to the
** positive and for the padding up to a multiple of 8); returns the loss of
** each lane.  rows and tg hold nt entries padded to a multiple of 8. */
I2V_AVX2 static inline __m256 scores_avx2(const float *l1, float *const *rows, const uint32_t *tg,
                                          int nt, size_t stride, float alpha, float *gains) {
  __m256 lossv = _mm256_setzero_ps();
  for (int d0 = 0; d0 < nt; d0 += 8) {
    const float *r0 = rows[d0], *r1 = rows[d0 + 1], *r2 = rows[d0 + 2], *r3 = rows[d0 + 3],
                *r4 = rows[d0 + 4], *r5 = rows[d0 + 5], *r6 = rows[d0 + 6], *r7 = rows[d0 + 7];
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    for (size_t b = 0; b < stride; b += 8) {
      __m256 x = _mm256_loadu_ps(l1 + b);
      a0 = _mm256_fmadd_ps(x, _mm256_load_ps(r0 + b), a0);
      a1 = _mm256_fmadd_ps(x, _mm256_load_ps(r1 + b), a1);
      a2 = _mm256_fmadd_ps(x, _mm256_load_ps(r2 + b), a2);
      a3 = _mm256_fmadd_ps(x, _mm256_load_ps(r3 + b), a3);
      a4 = _mm256_fmadd_ps(x, _mm256_load_ps(r4 + b), a4);
      a5 = _mm256_fmadd_ps(x, _mm256_load_ps(r5 + b), a5);
      a6 = _mm256_fmadd_ps(x, _mm256_load_ps(r6 + b), a6);
      a7 = _mm256_fmadd_ps(x, _mm256_load_ps(r7 + b), a7);
    }
    lossv = _mm256_add_ps(lossv, gains8_avx2(hsum8(a0, a1, a2, a3, a4, a5, a6, a7), d0, nt, tg,
                                             alpha, gains));
  }
  return lossv;
}

I2V_AVX2 static inline double sum_loss_avx2(__m256 lossv) {
  __m128 l4 = _mm_add_ps(_mm256_castps256_ps128(lossv), _mm256_extractf128_ps(lossv, 1));
  __m128d l2 = _mm_add_pd(_mm_cvtps_pd(l4), _mm_cvtps_pd(_mm_movehl_ps(l4, l4)));
  return _mm_cvtsd_f64(_mm_add_sd(l2, _mm_unpackhi_pd(l2, l2)));
}

/* Columns [b, b + 8*NV) of the second half of an update: out rows +=
** gain * l1, dst += dst_rate * sum of gain * out row (as it was).  NV is 4
** or 2 so l1 and the sum stay in registers; GO is the gains the rows move
** by (gains itself, or out_gains with update=1). */
#define I2V_UPDATE_COLUMNS(NV, GO)                                                       \
  do {                                                                                   \
    __m256 xv[NV], cv[NV];                                                               \
    for (int v = 0; v < NV; v++) {                                                       \
      xv[v] = _mm256_loadu_ps(l1 + b + 8 * v);                                           \
      cv[v] = _mm256_setzero_ps();                                                       \
    }                                                                                    \
    for (int d = 0; d < nt; d++) {                                                       \
      float *r = rows[d] + b;                                                            \
      __m256 g = _mm256_broadcast_ss(gains + d);                                         \
      __m256 go = _mm256_broadcast_ss(GO + d);                                           \
      for (int v = 0; v < NV; v++) {                                                     \
        __m256 t = _mm256_load_ps(r + 8 * v);                                            \
        cv[v] = _mm256_fmadd_ps(g, t, cv[v]);                                            \
        _mm256_store_ps(r + 8 * v, _mm256_fmadd_ps(go, xv[v], t));                       \
      }                                                                                  \
    }                                                                                    \
    for (int v = 0; v < NV; v++)                                                         \
      _mm256_storeu_ps(dst + b + 8 * v,                                                  \
                       _mm256_fmadd_ps(vrate, cv[v], _mm256_loadu_ps(dst + b + 8 * v))); \
  } while (0)

/* The AVX2 kernel: update_portable's arithmetic, eight targets at a time for
** the scores, then one pass over the rows 32 floats at a time. */
I2V_AVX2 __attribute__((noinline)) static double update_avx2(worker *w, const float *l1, float *dst,
                                                             float dst_rate, int nt, float alpha) {
  const size_t stride = w->s->stride;
  const float *gains = w->gains;
  float **rows = w->rows;
  const __m256 vrate = _mm256_set1_ps(dst_rate);
  set_rows(w, nt);
  __m256 lossv = scores_avx2(l1, rows, w->targets, nt, stride, alpha, w->gains);
  const float *og = out_gains(w, nt);
  size_t b = 0;
  if (og == gains) { /* the compiler folds the second broadcast into the first */
    for (; b + 32 <= stride; b += 32) I2V_UPDATE_COLUMNS(4, gains);
    if (b < stride) I2V_UPDATE_COLUMNS(2, gains); /* strides are multiples of 16 */
  } else {
    for (; b + 32 <= stride; b += 32) I2V_UPDATE_COLUMNS(4, og);
    if (b < stride) I2V_UPDATE_COLUMNS(2, og);
  }
  return sum_loss_avx2(lossv);
}
#endif

/* One epoch over the worker's chunk with the update kernel `update`:
** compiled once per level below. */
static I2V_ALWAYS_INLINE void run_chunk(worker *w,
                                        double (*update)(worker *w, const float *l1, float *dst,
                                                         float dst_rate, int nt, float alpha)) {
  shared_state *s = w->s;
  const i2v_options *o = s->o;
  const i2v_corpus *c = s->c;
  const size_t stride = s->stride;
  const int window = o->window;
  const int epochs = o->epochs;
  const int negative = o->negative;
  const int shared = o->shared_negatives;
  const double span = (double)w->chunk_tokens * epochs;
  const double alpha0 = o->alpha, alpha1 = o->min_alpha;
  uint64_t local_done = 0, unreported = 0, kept = 0, updates = 0;
  uint64_t rng = w->rng;
  double loss = 0;
  float *restrict grad = w->grad;
  float *restrict hidden = w->hidden;
  uint32_t *restrict sentence = w->sentence;
  uint32_t *targets = w->targets;

  for (uint64_t q = w->seq_begin; q < w->seq_end; q++) {
    const uint32_t *seq = c->tokens + c->starts[q];
    const uint64_t len = c->starts[q + 1] - c->starts[q];
    uint64_t n = 0;
    for (uint64_t i = 0; i < len; i++) {
      uint32_t tok = seq[i];
      if (s->keep[tok] != UINT32_MAX && (uint32_t)(rng_next(&rng) >> 32) >= s->keep[tok]) continue;
      sentence[n++] = tok;
    }
    if (o->shuffle && n > 1) {
      for (uint64_t i = n - 1; i > 0; i--) {
        uint64_t j = (uint64_t)(((rng_next(&rng) >> 32) * (i + 1)) >> 32);
        uint32_t tmp = sentence[i];
        sentence[i] = sentence[j];
        sentence[j] = tmp;
      }
    }
    kept += n;
    float alpha = 0;
    for (uint64_t i = 0; i < n; i++) {
      if ((i & 255) == 0) {
        /* Progress through this chunk decides the learning rate. */
        double frac = span > 0 ? ((double)s->epoch * (double)w->chunk_tokens + (double)local_done +
                                  (double)i * len / (double)n) /
                                     span
                               : 0.0;
        if (frac > 1.0) frac = 1.0;
        alpha = (float)(alpha0 - (alpha0 - alpha1) * frac);
        if (alpha < (float)alpha1) alpha = (float)alpha1;
        if (i && __atomic_load_n(&s->cancel, __ATOMIC_RELAXED)) goto out;
      }
      int b = o->shrink_windows ? (int)(((rng_next(&rng) >> 32) * (uint64_t)window) >> 32) : 0;
      int radius = window - b;
      uint64_t lo = i >= (uint64_t)radius ? i - (uint64_t)radius : 0;
      uint64_t hi = i + (uint64_t)radius + 1 < n ? i + (uint64_t)radius + 1 : n;
      targets[0] = sentence[i];
      /* Start loading what the next positions need: the next centre's
      ** output row and the input row about to enter the window. */
      if (i + 1 < n) prefetch_row(s->output + (size_t)sentence[i + 1] * stride, stride);
      if (i + (uint64_t)window + 1 < n)
        prefetch_row(s->input + (size_t)sentence[i + (uint64_t)window + 1] * stride, stride);
      if (o->sg) {
        if (shared) draw_negatives(s, w, targets, negative, &rng);
        for (uint64_t j = lo; j < hi; j++) {
          if (j == i) continue;
          float *l1 = s->input + (size_t)sentence[j] * stride;
          if (!shared) draw_negatives(s, w, targets, negative, &rng);
          targets[0] = sentence[i];
          loss += update(w, l1, l1, rate_of(s, sentence[j]), negative + 1, alpha);
          updates++;
        }
      } else {
        int count = 0;
        memset(hidden, 0, sizeof(float) * stride);
        for (uint64_t j = lo; j < hi; j++) {
          if (j == i) continue;
          i2v_axpy(1.0f, s->input + (size_t)sentence[j] * stride, hidden, (int)stride);
          count++;
        }
        if (count == 0) continue;
        i2v_scale(1.0f / (float)count, hidden, (int)stride);
        memset(grad, 0, sizeof(float) * stride);
        draw_negatives(s, w, targets, negative, &rng);
        loss += update(w, hidden, grad, 1.0f, negative + 1, alpha);
        updates++;
        for (uint64_t j = lo; j < hi; j++) {
          if (j == i) continue;
          i2v_axpy(rate_of(s, sentence[j]), grad, s->input + (size_t)sentence[j] * stride,
                   (int)stride);
        }
      }
    }
    local_done += len;
    unreported += len;
    if (unreported >= 4096 || q + 1 == w->seq_end) {
      __atomic_add_fetch(&s->done, unreported, __ATOMIC_RELAXED);
      __atomic_store(&w->published_loss, &loss, __ATOMIC_RELAXED);
      unreported = 0;
      if (__atomic_load_n(&s->cancel, __ATOMIC_RELAXED)) goto out;
    }
  }
out:
  w->rng = rng;
  w->loss += loss;
  w->kept += kept;
  w->updates += updates;
}

static void run_chunk_base(worker *w) {
  run_chunk(w, update_portable);
}
#if I2V_ISA_X86
I2V_TARGET_AVX2 static void run_chunk_avx2(worker *w) {
  run_chunk(w, update_avx2);
}
I2V_TARGET_AVX512 static void run_chunk_avx512(worker *w) {
  run_chunk(w, update_avx2);
}
#else
#define run_chunk_avx2 run_chunk_base
#define run_chunk_avx512 run_chunk_base
#endif
static void (*const run_chunk_at[I2V_ISA_LEVELS])(worker *w) = {run_chunk_base, run_chunk_avx2,
                                                                run_chunk_avx512};

static void *worker_main(void *arg) {
  worker *w = arg;
  w->s->run(w);
  pthread_mutex_lock(&w->s->lock);
  w->s->n_finished++;
  pthread_cond_signal(&w->s->done_cond);
  pthread_mutex_unlock(&w->s->lock);
  return NULL;
}

int i2v_alias_build(i2v_alias *t, const uint64_t *counts, uint32_t n, double power,
                    const i2v_alloc *a) {
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

static float *alloc_matrix(const i2v_alloc *a, uint32_t rows, size_t stride, void **raw) {
  int ovf = 0;
  size_t bytes = i2v_mul_size(i2v_mul_size(rows, stride, &ovf), sizeof(float), &ovf);
  if (ovf || bytes > SIZE_MAX - 64) return NULL;
  char *p = i2v_malloc(a, bytes + 64);
  if (!p) return NULL;
  *raw = p;
  uintptr_t al = ((uintptr_t)p + 63) & ~(uintptr_t)63;
  memset((void *)al, 0, bytes);
  return (float *)al;
}

/* Mean loss per target above which training has diverged. */
#define I2V_DIVERGED_LOSS 20.0

/* 1 when every value of rows [0, n) is finite. */
static int finite_rows(const float *m, uint32_t n, size_t stride, int dim) {
  for (uint32_t i = 0; i < n; i++) {
    const float *row = m + (size_t)i * stride;
    for (int d = 0; d < dim; d++)
      if (!isfinite(row[d])) return 0;
  }
  return 1;
}

/* Training blew up (a learning rate too large for the data): say so and
** what to lower. */
static void diverged_error(const i2v_options *o, int epoch, const char *what, char *err,
                           size_t errlen) {
  snprintf(err, errlen,
           "training diverged in epoch %d of %d (%s); lower alpha (it is %g; the default is "
           "0.025)",
           epoch + 1, o->epochs, what, o->alpha);
}

/* Wait until every started worker has finished or ms milliseconds have
** passed; returns 1 when all have finished.  Called with s->lock held. */
static int wait_workers(shared_state *s, int started, int ms) {
  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_nsec += ms * 1000000L;
  if (deadline.tv_nsec >= 1000000000L) {
    deadline.tv_sec += deadline.tv_nsec / 1000000000L;
    deadline.tv_nsec %= 1000000000L;
  }
  while (s->n_finished < started)
    if (pthread_cond_timedwait(&s->done_cond, &s->lock, &deadline) != 0) break;
  return s->n_finished >= started;
}

/* Initial vectors: uniform in [-1, 1) / dim as gensim 4 draws them (twice
** word2vec.c's range; docs/reference.md, "How results relate to gensim", says what
** it changed), output rows zero; the rows of a starting point copied. */
static void init_vectors(shared_state *s, const i2v_start *start, uint32_t nvocab, int64_t seed) {
  const int dim = s->dim;
  uint64_t r = rng_seed((uint64_t)seed, 0x5eed);
  uint32_t first = 0;
  if (start && start->input) {
    first = start->n < nvocab ? start->n : nvocab;
    if (start->rate) {
      s->n_stored = first;
      s->rate = start->rate;
    }
    for (uint32_t i = 0; i < first; i++) {
      memcpy(s->input + (size_t)i * s->stride, start->input + (size_t)i * dim,
             sizeof(float) * (size_t)dim);
      if (start->output)
        memcpy(s->output + (size_t)i * s->stride, start->output + (size_t)i * dim,
               sizeof(float) * (size_t)dim);
    }
  }
  for (uint32_t i = first; i < nvocab; i++) {
    float *row = s->input + (size_t)i * s->stride;
    for (int d = 0; d < dim; d++) {
      double u = (double)(rng_next(&r) >> 11) * (1.0 / 9007199254740992.0);
      row[d] = (float)((2.0 * u - 1.0) / dim);
    }
  }
}

/* The tables: negatives (alias table over counts^ns_exponent) and the
** subsampling thresholds.  I2V_OK or I2V_NOMEM. */
static int build_tables(shared_state *s, const uint64_t *counts, uint32_t nvocab,
                        const i2v_alloc *a) {
  const i2v_options *o = s->o;
  int rc = i2v_alias_build(&s->negatives, counts, nvocab, o->ns_exponent, a);
  if (rc != I2V_OK) return rc;
  s->keep = i2v_malloc(a, sizeof(uint32_t) * (size_t)nvocab);
  if (!s->keep) return I2V_NOMEM;
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
  return I2V_OK;
}

static void free_workers(worker *workers, int nw, const i2v_alloc *a) {
  if (!workers) return;
  for (int k = 0; k < nw; k++) {
    i2v_free(a, workers[k].hidden);
    i2v_free(a, workers[k].grad);
    i2v_free(a, workers[k].sentence);
    i2v_free(a, workers[k].targets);
    i2v_free(a, workers[k].ahead);
    i2v_free(a, workers[k].gains);
    i2v_free(a, workers[k].out_gains);
    i2v_free(a, workers[k].rows);
  }
  i2v_free(a, workers);
}

/* nw workers and their chunks: contiguous runs of about equal token
** counts, each with its buffers.  NULL when memory ran out. */
static worker *make_workers(shared_state *s, int nw, uint64_t total_tokens, uint64_t max_len,
                            const i2v_alloc *a) {
  const i2v_corpus *c = s->c;
  worker *workers = i2v_malloc(a, sizeof(worker) * (size_t)nw);
  if (!workers) return NULL;
  memset(workers, 0, sizeof(worker) * (size_t)nw);
  uint64_t q = 0, acc = 0;
  size_t nt8 = ((size_t)s->o->negative + 1 + 7) & ~(size_t)7;
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
    w->targets = i2v_malloc(a, sizeof(uint32_t) * nt8);
    w->ahead = i2v_malloc(a, sizeof(uint32_t) * nt8);
    w->gains = i2v_malloc(a, sizeof(float) * nt8);
    w->out_gains = i2v_malloc(a, sizeof(float) * nt8);
    w->rows = i2v_malloc(a, sizeof(float *) * nt8);
    if (!w->hidden || !w->grad || !w->sentence || !w->targets || !w->ahead || !w->gains ||
        !w->out_gains || !w->rows) {
      free_workers(workers, nw, a);
      return NULL;
    }
  }
  return workers;
}

/* Progress so far, for the poll callback: nonzero when it asks to stop. */
static int report(i2v_poll_fn poll, void *poll_ctx, const shared_state *s, int epoch,
                  uint64_t total_tokens, double loss, const double *epoch_loss) {
  i2v_progress p;
  p.epoch = epoch;
  p.epochs = s->o->epochs;
  p.done = __atomic_load_n(&s->done, __ATOMIC_RELAXED);
  p.total = total_tokens * (uint64_t)s->o->epochs;
  p.loss = loss;
  p.epoch_loss = epoch_loss;
  return poll(poll_ctx, &p);
}

/* One epoch: start the workers, poll every 50 ms while they run (the poll
** may cancel), join them and add up their loss.  I2V_OK, I2V_CANCELLED or
** I2V_ERROR (a thread would not start), with err. */
static int run_epoch(shared_state *s, worker *workers, int nw, int e, uint64_t total_tokens,
                     i2v_poll_fn poll, void *poll_ctx, i2v_trained *out, char *err, size_t errlen) {
  const i2v_options *o = s->o;
  s->epoch = e;
  s->n_finished = 0; /* the last epoch's workers are all joined */
  int started = 0, diverged = 0;
  uint64_t epoch_updates = 0;
  for (int k = 0; k < nw; k++) {
    worker *w = &workers[k];
    w->rng = rng_seed((uint64_t)o->seed, (uint64_t)e * 1000003u + (uint64_t)k + 1);
    for (int d = 1; d <= o->negative; d++)
      w->ahead[d] = i2v_alias_draw(&s->negatives, rng_next(&w->rng));
    w->loss = 0;
    w->published_loss = 0;
    if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
      __atomic_store_n(&s->cancel, 1, __ATOMIC_RELAXED);
      break;
    }
    w->started = 1;
    started++;
  }
  int cancelled = started < nw;
  for (;;) {
    pthread_mutex_lock(&s->lock);
    int all = wait_workers(s, started, 50);
    pthread_mutex_unlock(&s->lock);
    if (all) break;
    if (cancelled) continue;
    double lsum = 0;
    for (int k = 0; k < started; k++) {
      double l;
      __atomic_load(&workers[k].published_loss, &l, __ATOMIC_RELAXED);
      lsum += l;
    }
    if (!isfinite(lsum)) {
      /* Diverged: no point in finishing the epoch. */
      diverged = cancelled = 1;
      __atomic_store_n(&s->cancel, 1, __ATOMIC_RELAXED);
      continue;
    }
    if (poll && report(poll, poll_ctx, s, e, total_tokens, lsum, out->epoch_loss)) {
      cancelled = 1;
      __atomic_store_n(&s->cancel, 1, __ATOMIC_RELAXED);
    }
  }
  for (int k = 0; k < started; k++) {
    pthread_join(workers[k].thread, NULL);
    workers[k].started = 0;
    out->epoch_loss[e] += workers[k].loss;
    out->trained += workers[k].kept;
    workers[k].kept = 0;
    epoch_updates += workers[k].updates;
    workers[k].updates = 0;
  }
  if (started < nw) {
    snprintf(err, errlen, "cannot start worker thread %d of %d", started + 1, nw);
    return I2V_ERROR;
  }
  /* Diverged: a loss that is not a number, or one so large that the
  ** average prediction is certain of the wrong answer (an untrained model
  ** loses log 2 per target; I2V_DIVERGED_LOSS is e^-20 confidence). */
  if (diverged || !isfinite(out->epoch_loss[e]) ||
      out->epoch_loss[e] > I2V_DIVERGED_LOSS * (double)(o->negative + 1) * (double)epoch_updates) {
    char what[96];
    if (diverged || !isfinite(out->epoch_loss[e]))
      snprintf(what, sizeof(what), "the loss is no longer a finite number");
    else
      snprintf(what, sizeof(what), "the loss grew to %.3g, more than %g per prediction",
               out->epoch_loss[e], I2V_DIVERGED_LOSS);
    diverged_error(o, e, what, err, errlen);
    return I2V_ERROR;
  }
  if (cancelled ||
      (poll && report(poll, poll_ctx, s, e, total_tokens, out->epoch_loss[e], out->epoch_loss))) {
    snprintf(err, errlen, "interrupted");
    return I2V_CANCELLED;
  }
  return I2V_OK;
}

/* The shared state, its lock and condition initialised; NULL when they or
** memory could not be had. */
static shared_state *new_shared(const i2v_alloc *a) {
  shared_state *s = i2v_malloc(a, sizeof(*s));
  if (!s) return NULL;
  memset(s, 0, sizeof(*s));
  if (pthread_mutex_init(&s->lock, NULL) != 0) {
    i2v_free(a, s);
    return NULL;
  }
  if (pthread_cond_init(&s->done_cond, NULL) != 0) {
    pthread_mutex_destroy(&s->lock);
    i2v_free(a, s);
    return NULL;
  }
  return s;
}

static void free_shared(shared_state *s, const i2v_alloc *a) {
  if (!s) return;
  pthread_cond_destroy(&s->done_cond);
  pthread_mutex_destroy(&s->lock);
  i2v_alias_free(&s->negatives, a);
  i2v_free(a, s->keep);
  i2v_free(a, s);
}

int i2v_train(const i2v_options *o, const i2v_alloc *a, const uint64_t *counts, uint32_t nvocab,
              const i2v_corpus *c, const i2v_start *start, i2v_poll_fn poll, void *poll_ctx,
              i2v_trained *out, char *err, size_t errlen) {
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
    snprintf(err, errlen, "%u items x %d dimensions is too large (at most %llu floats)", nvocab,
             dim, (unsigned long long)I2V_MAX_MATRIX_FLOATS);
    return I2V_ERROR;
  }
  for (uint64_t q = 0; q < c->nseq; q++) {
    uint64_t len = c->starts[q + 1] - c->starts[q];
    total_tokens += len;
    if (len > max_len) max_len = len;
  }

  s = new_shared(a);
  if (!s) goto fail;
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
  init_vectors(s, start, nvocab, o->seed);
  /* The epoch loop and kernel of the level this run takes. */
  out->isa = i2v_isa_pick(o->isa);
  s->run = run_chunk_at[out->isa];
  if ((rc = build_tables(s, counts, nvocab, a)) != I2V_OK) goto fail;
  rc = I2V_NOMEM;
  if ((uint64_t)nw > c->nseq) nw = (int)c->nseq;
  workers = make_workers(s, nw, total_tokens, max_len, a);
  if (!workers) goto fail;

  for (int e = 0; e < o->epochs; e++)
    if ((rc = run_epoch(s, workers, nw, e, total_tokens, poll, poll_ctx, out, err, errlen)) !=
        I2V_OK)
      goto fail;
  /* A value can overflow in the last updates without reaching the loss. */
  if (!finite_rows(out->input, nvocab, s->stride, dim) ||
      !finite_rows(out->output, nvocab, s->stride, dim)) {
    diverged_error(o, o->epochs - 1, "a vector value overflowed", err, errlen);
    rc = I2V_ERROR;
    goto fail;
  }
  rc = I2V_OK;
  goto done;

fail:
  if (rc == I2V_NOMEM) snprintf(err, errlen, "out of memory");
  i2v_trained_free(out, a);
done:
  free_workers(workers, nw, a);
  free_shared(s, a);
  return rc;
}
