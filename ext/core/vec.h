/*
** core/vec.h: vector kernels (dot product, axpy, scaling) on float32 rows.
**
** The inline loops below are written so the compiler vectorises them (the
** reductions carry an OpenMP simd pragma, honoured with -fopenmp-simd, no
** fast-math needed).  Hot callers, the trainer's inner loop and the scan of
** similar_items, are compiled once per instruction set with I2V_CLONES and the
** loader picks the best clone for the CPU it runs on (GCC's target_clones on
** x86-64); elsewhere the portable build is used.  No SQLite in here.
*/
#ifndef I2V_VEC_H
#define I2V_VEC_H

#include <stddef.h>
#include <stdint.h>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(I2V_NO_CLONES)
#define I2V_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define I2V_CLONES
#endif

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

/* Approximate scores over int8 codes, for the approximate index's walk:
** out[i] = dot(codes + idx[i]*cstride, q) * scale, with cstride a multiple of
** 32 (codes zero padded) and qp the query rearranged for the kernel by
** i2v_vec_i8_query (cstride floats). */
void i2v_vec_i8_query(const float *q, int dim, float scale, size_t cstride, float *qp);
void i2v_vec_scores_i8(const signed char *codes, size_t cstride, const uint32_t *idx, size_t n,
                       const float *qp, float *out);
/* The same over consecutive rows [0, nrows): the first pass of the exact scan. */
void i2v_vec_scores_i8_rows(const signed char *codes, size_t cstride, size_t nrows, const float *qp,
                            float *out);

/* The int8 codes of rows [0, nrows): codes[r * cstride + d] =
** round(rows[r * stride + d] * scale) (ties to even, as lrintf), for d < dim,
** and 0 up to cstride.  The values times scale must be within [-127, 127]. */
void i2v_vec_quantize_i8(const float *rows, size_t stride, size_t nrows, int dim, float scale,
                         signed char *codes, size_t cstride);

/* Scale row (dim floats) to unit length, computing in double, and zero its
** padding up to stride.  Returns the largest |value| of the scaled row, or
** -1 (the row left as it was) when a value is not finite: the squares of
** finite floats cannot overflow a double, so a sum that is not finite means
** an infinity or a NaN was among them. */
float i2v_vec_unit_row(float *row, int dim, size_t stride);

/* Scale x to unit length (left as it is when its norm is 0). Returns the
** norm it had. */
double i2v_vec_normalize(float *x, int dim);

/* The instruction set the dispatched kernels run with, for reports. */
const char *i2v_vec_isa(void);

#endif
