/*
** core/vec.h: vector kernels (dot product, axpy, scaling) on float32 rows.
**
** The inline loops below are written so the compiler vectorises them (the
** reductions carry an OpenMP simd pragma, honoured with -fopenmp-simd, no
** fast-math needed).  No SQLite in here.
**
** Instruction sets: one scheme for every kernel, here and in the trainer.
** A kernel's body is an always-inline function; one wrapper per level
** (I2V_ISA_BASE, _AVX2 = x86-64-v3, _AVX512 = x86-64-v4) compiles it with
** that level's target attribute, and callers take the wrapper of a level
** from a table.  The level is the best this CPU runs (i2v_isa_best, found
** once) unless a test or a benchmark asks for a lower one (i2v_isa_pick).
** Other than x86-64 with GCC or Clang, every level is the portable build.
*/
#ifndef I2V_VEC_H
#define I2V_VEC_H

#include <stddef.h>
#include <stdint.h>

#include "core/common.h"

#if defined(__x86_64__) && defined(__GNUC__)
#define I2V_ISA_X86 1
#if defined(__clang__) || __GNUC__ < 12
/* The features GCC 12's x86-64-v3 and -v4 checks stand for, as lists. */
#define I2V_TARGET_AVX2 __attribute__((target("avx2,fma,bmi,bmi2,f16c,popcnt")))
#define I2V_TARGET_AVX512                                               \
  __attribute__((                                                       \
      target("avx2,fma,bmi,bmi2,f16c,popcnt,avx512f,avx512bw,avx512cd," \
             "avx512dq,avx512vl")))
#else
#define I2V_TARGET_AVX2 __attribute__((target("arch=x86-64-v3")))
#define I2V_TARGET_AVX512 __attribute__((target("arch=x86-64-v4")))
#endif
#else
#define I2V_ISA_X86 0
#define I2V_TARGET_AVX2
#define I2V_TARGET_AVX512
#endif
#define I2V_ALWAYS_INLINE inline __attribute__((always_inline))

/* The best level this CPU runs (I2V_ISA_BASE off x86-64). */
int i2v_isa_best(void);
/* The level to run when `want` is asked for: the best for I2V_ISA_AUTO,
** else want, lowered to the best this CPU runs. */
int i2v_isa_pick(int want);
/* The level's name for reports: "avx512", "avx2", and for the base level
** "sse2" on x86-64, "neon" on ARM64, "portable" elsewhere. */
const char *i2v_isa_name(int level);

/* Rows are padded to this many floats (64 bytes) so each starts aligned. */
#define I2V_ROW_ALIGN 16

static inline size_t i2v_row_stride(int dim) {
  return ((size_t)dim + I2V_ROW_ALIGN - 1) / I2V_ROW_ALIGN * I2V_ROW_ALIGN;
}

static inline float i2v_dot(const float *restrict a, const float *restrict b, int n) {
  float s = 0.0f;
#pragma omp simd reduction(+ : s)
  for (int i = 0; i < n; i++) s += a[i] * b[i];
  return s;
}

/* y += alpha * x */
static inline void i2v_axpy(float alpha, const float *restrict x, float *restrict y, int n) {
#pragma omp simd
  for (int i = 0; i < n; i++) y[i] += alpha * x[i];
}

static inline void i2v_scale(float alpha, float *x, int n) {
#pragma omp simd
  for (int i = 0; i < n; i++) x[i] *= alpha;
}

/* out[r] = dot(rows + r*stride, q) for r in [0, nrows): the exact scan.
** Rows and q are zero-padded to stride floats (i2v_row_stride), which lets
** the kernel run over whole vectors. */
void i2v_vec_scores(const float *rows, size_t stride, size_t nrows, const float *q, int dim,
                    float *out);

/* out[i] = dot(rows + idx[i]*stride, q) for i in [0, n): scores of scattered
** rows (a graph search's neighbours), prefetched first.  Same padding. */
void i2v_vec_scores_idx(const float *rows, size_t stride, const uint32_t *idx, size_t n,
                        const float *q, int dim, float *out);

/* Int8 codes: one quantiser for the exact scan's first pass and the
** approximate index's walk.  Rows of codes are i2v_code_stride(dim) bytes
** (a multiple of 32, zero padded). */
static inline size_t i2v_code_stride(int dim) {
  return ((size_t)dim + 31) & ~(size_t)31;
}

/* The largest |value| of rows [0, nrows) (dim values each). */
float i2v_vec_max_abs(const float *rows, size_t stride, size_t nrows, int dim);

/* The codes of rows [0, nrows): codes[r * cstride + d] = round(rows[r *
** stride + d] * 127 / max) (ties to even, as lrintf) for d < dim, and 0 up
** to cstride; max is the largest |value| of the rows (i2v_vec_max_abs; 1
** when it is 0 or less), so every code is within [-127, 127].  Returns the
** unit u = max / 127: a value is within u/2 of its code times u. */
float i2v_vec_quantize_i8(const float *rows, size_t stride, size_t nrows, int dim, float max,
                          signed char *codes, size_t cstride);

/* Approximate scores over int8 codes, for the approximate index's walk:
** out[i] = dot(codes + idx[i]*cstride, q) * unit, with qp the query
** rearranged for the kernel by i2v_vec_i8_query (cstride floats) and unit
** the quantiser's. */
void i2v_vec_i8_query(const float *q, int dim, float unit, size_t cstride, float *qp);
void i2v_vec_scores_i8(const signed char *codes, size_t cstride, const uint32_t *idx, size_t n,
                       const float *qp, float *out);
/* The same over consecutive rows [0, nrows): the first pass of the exact scan. */
void i2v_vec_scores_i8_rows(const signed char *codes, size_t cstride, size_t nrows, const float *qp,
                            float *out);

/* Scale row (dim floats) to unit length, computing in double, and zero its
** padding up to stride.  Returns the largest |value| of the scaled row, or
** -1 (the row left as it was) when a value is not finite: the squares of
** finite floats cannot overflow a double, so a sum that is not finite means
** an infinity or a NaN was among them. */
float i2v_vec_unit_row(float *row, int dim, size_t stride);

/* Scale x to unit length (left as it is when its norm is 0). Returns the
** norm it had. */
double i2v_vec_normalize(float *x, int dim);

/* The kernels above compiled for one level, for tests that run each level
** the CPU has; the functions above call those of i2v_isa_best(). */
typedef struct i2v_vec_kernels {
  void (*scores)(const float *rows, size_t stride, size_t nrows, const float *q, int dim,
                 float *out);
  void (*scores_idx)(const float *rows, size_t stride, const uint32_t *idx, size_t n,
                     const float *q, int dim, float *out);
  void (*scores_i8)(const signed char *codes, size_t cstride, const uint32_t *idx, size_t n,
                    const float *qp, float *out);
  void (*scores_i8_rows)(const signed char *codes, size_t cstride, size_t nrows, const float *qp,
                         float *out);
  void (*quantize_i8)(const float *rows, size_t stride, size_t nrows, int dim, float scale,
                      signed char *codes, size_t cstride);
  float (*unit_row)(float *row, int dim, size_t stride);
} i2v_vec_kernels;
const i2v_vec_kernels *i2v_vec_kernels_at(int level);

#endif
