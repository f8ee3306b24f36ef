/*
** i2v_vec.c: the dispatched vector kernels of similar_items' exact scan and
** the helpers that normalise rows.  See i2v_vec.h for how the instruction set
** is chosen.
*/
#include "i2v_vec.h"

#include <math.h>

I2V_CLONES
void i2v_vec_scores(const float *rows, size_t stride, size_t nrows,
                    const float *q, int dim, float *out) {
  for (size_t r = 0; r < nrows; r++) out[r] = i2v_dot(rows + r * stride, q, dim);
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

const char *i2v_vec_isa(void) {
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return "avx512";
  if (__builtin_cpu_supports("avx2")) return "avx2";
  return "sse2";
#elif defined(__aarch64__)
  return "neon";
#else
  return "portable";
#endif
}
