/*
** core/vec.c: the dispatched vector kernels of similar_items' exact scan, of
** the approximate index's walk (scattered rows, int8 codes) and the helpers
** that normalise rows and make int8 codes of them, and the choice of the
** instruction set (see core/vec.h).  Each kernel is an always-inline body
** compiled once per level by the wrappers at the end of the file, and
** scores eight rows per step with GCC/Clang vector types (below).
*/
#include "core/vec.h"

#include <math.h>
#include <string.h>

/* ---- instruction sets ---- */

static int isa_detect(void) {
#if I2V_ISA_X86
  __builtin_cpu_init();
#if defined(__clang__) || __GNUC__ < 12
  int v3 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
           __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2") &&
           __builtin_cpu_supports("f16c") && __builtin_cpu_supports("popcnt");
  int v4 = v3 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512vl");
#else
  int v3 = __builtin_cpu_supports("x86-64-v3"), v4 = __builtin_cpu_supports("x86-64-v4");
#endif
  return v4 ? I2V_ISA_AVX512 : v3 ? I2V_ISA_AVX2 : I2V_ISA_BASE;
#else
  return I2V_ISA_BASE;
#endif
}

/* The CPU does not change under a process: found once, kept (a race only
** finds the same answer twice). */
int i2v_isa_best(void) {
  static int best = -1;
  int b = __atomic_load_n(&best, __ATOMIC_RELAXED);
  if (b < 0) {
    b = isa_detect();
    __atomic_store_n(&best, b, __ATOMIC_RELAXED);
  }
  return b;
}

int i2v_isa_pick(int want) {
  int best = i2v_isa_best();
  return want < 0 || want > best ? best : want;
}

const char *i2v_isa_name(int level) {
  switch (level) {
    case I2V_ISA_AVX512:
      return "avx512";
    case I2V_ISA_AVX2:
      return "avx2";
    default:
#if I2V_ISA_X86
      return "sse2";
#elif defined(__aarch64__)
      return "neon";
#else
      return "portable";
#endif
  }
}

/*
** The exact scan.  A row-at-a-time dot product ends every row with a
** horizontal sum whose serial adds cost more than the multiplications when
** rows are short (32 or 64 floats).  So, where GCC's or Clang's vector types
** are available, eight rows are scored together: eight 8-lane accumulators,
** then one transposing reduction (three rounds of shuffles and adds) that
** leaves the eight sums in one vector.  Rows and the query are padded with
** zeros to a multiple of I2V_ROW_ALIGN floats and start 64-byte aligned,
** so the loop runs over whole vectors.  The portable loop handles the last
** rows and compilers without vector types.
*/
#if defined(__GNUC__) && (defined(__clang__) || __GNUC__ >= 12)
#define I2V_HAVE_V8 1
typedef float i2v_v8 __attribute__((vector_size(32)));
/* The same, for loads from any float pointer. */
typedef float i2v_v8u __attribute__((vector_size(32), aligned(4), may_alias));
#define load_v8(p) (*(const i2v_v8u *)(const void *)(p))
#define SHUF(a, b, ...) __builtin_shufflevector(a, b, __VA_ARGS__)

/* Eight dot products over len (a multiple of 8) lanes, each row read with
** LOAD(pointer) as 8 floats; the sums go to out[0..7]. */
#define SCORES8(LOAD, r, len, q, out)                                                          \
  do {                                                                                         \
    i2v_v8 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0}, a4 = {0}, a5 = {0}, a6 = {0}, a7 = {0};     \
    for (size_t d = 0; d < (len); d += 8) {                                                    \
      i2v_v8 x = load_v8((q) + d);                                                             \
      a0 += LOAD((r)[0] + d) * x;                                                              \
      a1 += LOAD((r)[1] + d) * x;                                                              \
      a2 += LOAD((r)[2] + d) * x;                                                              \
      a3 += LOAD((r)[3] + d) * x;                                                              \
      a4 += LOAD((r)[4] + d) * x;                                                              \
      a5 += LOAD((r)[5] + d) * x;                                                              \
      a6 += LOAD((r)[6] + d) * x;                                                              \
      a7 += LOAD((r)[7] + d) * x;                                                              \
    }                                                                                          \
    /* Round 1: pairs; row j's partial sums land in two lanes of each half. */                 \
    i2v_v8 p01 =                                                                               \
        SHUF(a0, a1, 0, 1, 8, 9, 4, 5, 12, 13) + SHUF(a0, a1, 2, 3, 10, 11, 6, 7, 14, 15);     \
    i2v_v8 p23 =                                                                               \
        SHUF(a2, a3, 0, 1, 8, 9, 4, 5, 12, 13) + SHUF(a2, a3, 2, 3, 10, 11, 6, 7, 14, 15);     \
    i2v_v8 p45 =                                                                               \
        SHUF(a4, a5, 0, 1, 8, 9, 4, 5, 12, 13) + SHUF(a4, a5, 2, 3, 10, 11, 6, 7, 14, 15);     \
    i2v_v8 p67 =                                                                               \
        SHUF(a6, a7, 0, 1, 8, 9, 4, 5, 12, 13) + SHUF(a6, a7, 2, 3, 10, 11, 6, 7, 14, 15);     \
    /* Round 2: lanes 0-3 hold rows 0-3 (low half), lanes 4-7 the high half. */                \
    i2v_v8 q03 =                                                                               \
        SHUF(p01, p23, 0, 2, 8, 10, 4, 6, 12, 14) + SHUF(p01, p23, 1, 3, 9, 11, 5, 7, 13, 15); \
    i2v_v8 q47 =                                                                               \
        SHUF(p45, p67, 0, 2, 8, 10, 4, 6, 12, 14) + SHUF(p45, p67, 1, 3, 9, 11, 5, 7, 13, 15); \
    /* Round 3: add the halves. */                                                             \
    i2v_v8 sum =                                                                               \
        SHUF(q03, q47, 0, 1, 2, 3, 8, 9, 10, 11) + SHUF(q03, q47, 4, 5, 6, 7, 12, 13, 14, 15); \
    memcpy((out), &sum, sizeof(sum));                                                          \
  } while (0)

static inline __attribute__((always_inline)) void scores8(const float *const *r, size_t len,
                                                          const float *q, float *out) {
  SCORES8(load_v8, r, len, q, out);
}

/* Int8 codes, 32 per step: one 32-byte load seen as 8 int32 lanes holding 4
** codes each; byte k of every lane is moved to the top and shifted back down
** with its sign (so lane j holds code 4j + k), converted to float and
** multiplied by the query rearranged to match (i2v_vec_i8_query).  Plain
** vector C: no compiler widens int8 vectors to float well on its own. */
typedef int i2v_v8i __attribute__((vector_size(32)));
typedef int i2v_v8iu __attribute__((vector_size(32), aligned(1), may_alias));
#define LANE(v, k) __builtin_convertvector(((v) << (24 - 8 * (k))) >> 24, i2v_v8)

static inline __attribute__((always_inline)) void scores8_i8(const signed char *const *r,
                                                             size_t len, const float *qp,
                                                             float *out) {
  i2v_v8 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0}, a4 = {0}, a5 = {0}, a6 = {0}, a7 = {0};
  for (size_t c = 0; c < len; c += 32, qp += 32) {
    i2v_v8 q0 = load_v8(qp), q1 = load_v8(qp + 8), q2 = load_v8(qp + 16), q3 = load_v8(qp + 24);
#define I8_ROW(acc, j)                                                            \
  do {                                                                            \
    i2v_v8i v = *(const i2v_v8iu *)(const void *)(r[j] + c);                      \
    acc += LANE(v, 0) * q0 + LANE(v, 1) * q1 + LANE(v, 2) * q2 + LANE(v, 3) * q3; \
  } while (0)
    I8_ROW(a0, 0);
    I8_ROW(a1, 1);
    I8_ROW(a2, 2);
    I8_ROW(a3, 3);
    I8_ROW(a4, 4);
    I8_ROW(a5, 5);
    I8_ROW(a6, 6);
    I8_ROW(a7, 7);
#undef I8_ROW
  }
  i2v_v8 p01 = SHUF(a0, a1, 0, 1, 8, 9, 4, 5, 12, 13) + SHUF(a0, a1, 2, 3, 10, 11, 6, 7, 14, 15);
  i2v_v8 p23 = SHUF(a2, a3, 0, 1, 8, 9, 4, 5, 12, 13) + SHUF(a2, a3, 2, 3, 10, 11, 6, 7, 14, 15);
  i2v_v8 p45 = SHUF(a4, a5, 0, 1, 8, 9, 4, 5, 12, 13) + SHUF(a4, a5, 2, 3, 10, 11, 6, 7, 14, 15);
  i2v_v8 p67 = SHUF(a6, a7, 0, 1, 8, 9, 4, 5, 12, 13) + SHUF(a6, a7, 2, 3, 10, 11, 6, 7, 14, 15);
  i2v_v8 q03 =
      SHUF(p01, p23, 0, 2, 8, 10, 4, 6, 12, 14) + SHUF(p01, p23, 1, 3, 9, 11, 5, 7, 13, 15);
  i2v_v8 q47 =
      SHUF(p45, p67, 0, 2, 8, 10, 4, 6, 12, 14) + SHUF(p45, p67, 1, 3, 9, 11, 5, 7, 13, 15);
  i2v_v8 sum =
      SHUF(q03, q47, 0, 1, 2, 3, 8, 9, 10, 11) + SHUF(q03, q47, 4, 5, 6, 7, 12, 13, 14, 15);
  memcpy(out, &sum, sizeof(sum));
}
#endif

/* ---- kernel bodies ---- */

static I2V_ALWAYS_INLINE void scores_body(const float *rows, size_t stride, size_t nrows,
                                          const float *q, int dim, float *out) {
  size_t r = 0;
#ifdef I2V_HAVE_V8
  if (stride % 8 == 0 && stride >= (size_t)dim) {
    for (; r + 8 <= nrows; r += 8) {
      const float *p[8];
      for (int j = 0; j < 8; j++) p[j] = rows + (r + (size_t)j) * stride;
      scores8(p, stride, q, out + r);
    }
  }
#endif
  for (; r < nrows; r++) out[r] = i2v_dot(rows + r * stride, q, dim);
}

static I2V_ALWAYS_INLINE void scores_idx_body(const float *rows, size_t stride, const uint32_t *idx,
                                              size_t n, const float *q, int dim, float *out) {
  size_t r = 0;
  for (size_t i = 0; i < n; i++)
    for (size_t d = 0; d < (size_t)dim; d += 16)
      __builtin_prefetch(rows + (size_t)idx[i] * stride + d);
#ifdef I2V_HAVE_V8
  if (stride % 8 == 0 && stride >= (size_t)dim) {
    /* Whole groups of eight, then the rest padded with its last row (the
    ** extra sums are computed and dropped: cheaper than single dots). */
    for (; r < n; r += 8) {
      const float *p[8];
      float tmp[8];
      size_t m = n - r < 8 ? n - r : 8;
      for (size_t j = 0; j < 8; j++) p[j] = rows + (size_t)idx[r + (j < m ? j : m - 1)] * stride;
      scores8(p, stride, q, tmp);
      memcpy(out + r, tmp, m * sizeof(float));
    }
  }
#endif
  for (; r < n; r++) out[r] = i2v_dot(rows + (size_t)idx[r] * stride, q, dim);
}

void i2v_vec_i8_query(const float *q, int dim, float unit, size_t cstride, float *qp) {
  size_t whole = (size_t)dim / 32 * 32;
  for (size_t c = 0; c < whole; c += 32)
    for (size_t j = 0; j < 8; j++)
      for (size_t k = 0; k < 4; k++) qp[c + 8 * k + j] = q[c + 4 * j + k] * unit;
  for (size_t c = whole; c < cstride; c += 32)
    for (size_t j = 0; j < 8; j++)
      for (size_t k = 0; k < 4; k++) {
        size_t d = c + 4 * j + k;
        qp[c + 8 * k + j] = d < (size_t)dim ? q[d] * unit : 0.0f;
      }
}

static I2V_ALWAYS_INLINE void scores_i8_body(const signed char *codes, size_t cstride,
                                             const uint32_t *idx, size_t n, const float *qp,
                                             float *out) {
  for (size_t i = 0; i < n; i++) __builtin_prefetch(codes + (size_t)idx[i] * cstride);
  size_t r = 0;
#ifdef I2V_HAVE_V8
  for (; r < n; r += 8) {
    const signed char *p[8];
    float tmp[8];
    size_t m = n - r < 8 ? n - r : 8;
    for (size_t j = 0; j < 8; j++) p[j] = codes + (size_t)idx[r + (j < m ? j : m - 1)] * cstride;
    scores8_i8(p, cstride, qp, tmp);
    memcpy(out + r, tmp, m * sizeof(float));
  }
#endif
  for (; r < n; r++) {
    const signed char *c = codes + (size_t)idx[r] * cstride;
    float s = 0.0f;
    for (size_t b = 0; b < cstride; b += 32)
      for (size_t k = 0; k < 4; k++)
        for (size_t j = 0; j < 8; j++) s += (float)c[b + 4 * j + k] * qp[b + 8 * k + j];
    out[r] = s;
  }
}

static I2V_ALWAYS_INLINE void scores_i8_rows_body(const signed char *codes, size_t cstride,
                                                  size_t nrows, const float *qp, float *out) {
  size_t r = 0;
#ifdef I2V_HAVE_V8
  for (; r + 8 <= nrows; r += 8) {
    const signed char *p[8];
    for (size_t j = 0; j < 8; j++) p[j] = codes + (r + j) * cstride;
    scores8_i8(p, cstride, qp, out + r);
  }
#endif
  for (; r < nrows; r++) {
    const signed char *c = codes + r * cstride;
    float s = 0.0f;
    for (size_t b = 0; b < cstride; b += 32)
      for (size_t k = 0; k < 4; k++)
        for (size_t j = 0; j < 8; j++) s += (float)c[b + 4 * j + k] * qp[b + 8 * k + j];
    out[r] = s;
  }
}

/* rintf rounds as lrintf does (ties to even in the default mode) and,
** unlike lrintf, is inlined and vectorised: vroundps with SSE4.1 and up, an
** add-and-subtract of 2^23 before; either way the code is the same. */
static I2V_ALWAYS_INLINE void quantize_i8_body(const float *rows, size_t stride, size_t nrows,
                                               int dim, float scale, signed char *codes,
                                               size_t cstride) {
  for (size_t r = 0; r < nrows; r++) {
    const float *x = rows + r * stride;
    signed char *c = codes + r * cstride;
#pragma omp simd
    for (int d = 0; d < dim; d++) c[d] = (signed char)(int)rintf(x[d] * scale);
    memset(c + dim, 0, cstride - (size_t)dim);
  }
}

static I2V_ALWAYS_INLINE float unit_row_body(float *row, int dim, size_t stride) {
  /* Four partial sums, d mod 4, the tail into the first, then added in
  ** order: the order GCC gave the loader's earlier loop for SSE2, written
  ** out so a model loads to the same bits as it did, on every instruction
  ** set.  Each square is exact in double, so a fused multiply-add changes
  ** nothing. */
  double s[4] = {0.0, 0.0, 0.0, 0.0};
  int whole = dim & ~3, d;
  for (d = 0; d < whole; d += 4)
    for (int j = 0; j < 4; j++) s[j] += (double)row[d + j] * row[d + j];
  for (; d < dim; d++) s[0] += (double)row[d] * row[d];
  double sum = s[0] + s[1] + s[2] + s[3];
  if (sum - sum != 0.0) return -1.0f;
  /* The largest |value| is found before scaling: rounding x * inv to a
  ** float never reverses an order, so the largest value stays the largest.
  ** Compared as bits: for non-negative floats that is the same order. */
  uint32_t top = 0;
#pragma omp simd reduction(max : top)
  for (int d = 0; d < dim; d++) {
    uint32_t u;
    memcpy(&u, &row[d], sizeof(u));
    u &= 0x7fffffffu;
    top = u > top ? u : top;
  }
  float big;
  memcpy(&big, &top, sizeof(big));
  if (sum > 0) {
    /* In double: 1/norm of a vector of subnormal floats overflows a float,
    ** while each scaled value fits. */
    double inv = 1.0 / sqrt(sum);
#pragma omp simd
    for (int d = 0; d < dim; d++) row[d] = (float)((double)row[d] * inv);
    big = (float)((double)big * inv);
  }
  for (size_t d = (size_t)dim; d < stride; d++) row[d] = 0.0f;
  return big;
}

double i2v_vec_normalize(float *x, int dim) {
  double s = 0.0;
  for (int i = 0; i < dim; i++) s += (double)x[i] * x[i];
  double norm = sqrt(s);
  if (norm > 0) {
    /* In double: 1/norm of a vector of subnormal floats overflows a float. */
    double inv = 1.0 / norm;
    for (int i = 0; i < dim; i++) x[i] = (float)((double)x[i] * inv);
  }
  return norm;
}

/* ---- one wrapper per level, the tables, the calls ---- */

#define PER_LEVEL(ret, name, params, args)            \
  static ret name##_base params {                     \
    return name##_body args;                          \
  }                                                   \
  I2V_TARGET_AVX2 static ret name##_avx2 params {     \
    return name##_body args;                          \
  }                                                   \
  I2V_TARGET_AVX512 static ret name##_avx512 params { \
    return name##_body args;                          \
  }
#define PER_LEVEL_VOID(name, params, args)             \
  static void name##_base params {                     \
    name##_body args;                                  \
  }                                                    \
  I2V_TARGET_AVX2 static void name##_avx2 params {     \
    name##_body args;                                  \
  }                                                    \
  I2V_TARGET_AVX512 static void name##_avx512 params { \
    name##_body args;                                  \
  }

PER_LEVEL_VOID(scores,
               (const float *rows, size_t stride, size_t nrows, const float *q, int dim,
                float *out),
               (rows, stride, nrows, q, dim, out))
PER_LEVEL_VOID(scores_idx,
               (const float *rows, size_t stride, const uint32_t *idx, size_t n, const float *q,
                int dim, float *out),
               (rows, stride, idx, n, q, dim, out))
PER_LEVEL_VOID(scores_i8,
               (const signed char *codes, size_t cstride, const uint32_t *idx, size_t n,
                const float *qp, float *out),
               (codes, cstride, idx, n, qp, out))
PER_LEVEL_VOID(scores_i8_rows,
               (const signed char *codes, size_t cstride, size_t nrows, const float *qp,
                float *out),
               (codes, cstride, nrows, qp, out))
PER_LEVEL_VOID(quantize_i8,
               (const float *rows, size_t stride, size_t nrows, int dim, float scale,
                signed char *codes, size_t cstride),
               (rows, stride, nrows, dim, scale, codes, cstride))
PER_LEVEL(float, unit_row, (float *row, int dim, size_t stride), (row, dim, stride))

#define KERNELS(level)                                                             \
  {                                                                                \
    scores_##level, scores_idx_##level, scores_i8_##level, scores_i8_rows_##level, \
        quantize_i8_##level, unit_row_##level                                      \
  }
static const i2v_vec_kernels kernels[I2V_ISA_LEVELS] = {KERNELS(base), KERNELS(avx2),
                                                        KERNELS(avx512)};

const i2v_vec_kernels *i2v_vec_kernels_at(int level) {
  return &kernels[i2v_isa_pick(level)];
}

void i2v_vec_scores(const float *rows, size_t stride, size_t nrows, const float *q, int dim,
                    float *out) {
  kernels[i2v_isa_best()].scores(rows, stride, nrows, q, dim, out);
}

void i2v_vec_scores_idx(const float *rows, size_t stride, const uint32_t *idx, size_t n,
                        const float *q, int dim, float *out) {
  kernels[i2v_isa_best()].scores_idx(rows, stride, idx, n, q, dim, out);
}

void i2v_vec_scores_i8(const signed char *codes, size_t cstride, const uint32_t *idx, size_t n,
                       const float *qp, float *out) {
  kernels[i2v_isa_best()].scores_i8(codes, cstride, idx, n, qp, out);
}

void i2v_vec_scores_i8_rows(const signed char *codes, size_t cstride, size_t nrows, const float *qp,
                            float *out) {
  kernels[i2v_isa_best()].scores_i8_rows(codes, cstride, nrows, qp, out);
}

float i2v_vec_unit_row(float *row, int dim, size_t stride) {
  return kernels[i2v_isa_best()].unit_row(row, dim, stride);
}

float i2v_vec_max_abs(const float *rows, size_t stride, size_t nrows, int dim) {
  float top = 0.0f;
  for (size_t r = 0; r < nrows; r++)
    for (int d = 0; d < dim; d++) {
      float v = fabsf(rows[r * stride + (size_t)d]);
      if (v > top) top = v;
    }
  return top;
}

float i2v_vec_quantize_i8(const float *rows, size_t stride, size_t nrows, int dim, float max,
                          signed char *codes, size_t cstride) {
  if (!(max > 0.0f)) max = 1.0f;
  kernels[i2v_isa_best()].quantize_i8(rows, stride, nrows, dim, 127.0f / max, codes, cstride);
  return max / 127.0f;
}
