/*
** core/pca.c: principal component analysis by orthogonal iteration.
**
** How it works.  The rows are centred on their mean.  For dimensions up to
** 512 the covariance matrix is formed once (n x dim^2 work); above that it is
** applied implicitly, C v = X^T (X v) / n, so memory stays O(n + dim).
** Orthogonal iteration multiplies ncomp vectors by C and re-orthonormalises
** them (modified Gram-Schmidt) until the subspace stops moving (or 500
** rounds); with a deterministic start the result depends only on the rows.
** The components come out sorted by the variance along them, and each is
** flipped so its largest coordinate is positive, which keeps pictures from
** mirroring between runs.
*/
#include "core/pca.h"

#include <math.h>
#include <string.h>

#define PCA_DENSE_MAX 512
#define PCA_MAX_ROUNDS 500

void i2v_pca_free(i2v_pca_result *r, const i2v_alloc *a) {
  i2v_free(a, r->mean);
  i2v_free(a, r->components);
  i2v_free(a, r->variance);
  memset(r, 0, sizeof(*r));
}

typedef struct pca_ctx {
  const float *rows;
  size_t stride, n;
  int dim;
  const double *mean;
  const double *cov; /* dim x dim, or NULL */
  double *tmp;       /* n, for the implicit product */
} pca_ctx;

/* w = C v */
static void cov_apply(const pca_ctx *p, const double *v, double *w) {
  const int d = p->dim;
  if (p->cov) {
    for (int i = 0; i < d; i++) {
      double s = 0;
      for (int j = 0; j < d; j++) s += p->cov[(size_t)i * d + j] * v[j];
      w[i] = s;
    }
    return;
  }
  double shift = 0;
  for (int j = 0; j < d; j++) shift += p->mean[j] * v[j];
  for (size_t r = 0; r < p->n; r++) {
    const float *x = p->rows + r * p->stride;
    double s = 0;
    for (int j = 0; j < d; j++) s += (double)x[j] * v[j];
    p->tmp[r] = s - shift;
  }
  memset(w, 0, sizeof(double) * (size_t)d);
  for (size_t r = 0; r < p->n; r++) {
    const float *x = p->rows + r * p->stride;
    for (int j = 0; j < d; j++) w[j] += p->tmp[r] * ((double)x[j] - p->mean[j]);
  }
  for (int j = 0; j < d; j++) w[j] /= (double)p->n;
}

/* Orthonormalise the k rows of v (dim each); a row that vanishes is
** replaced by a unit vector orthogonal to the others. */
static void orthonormalise(double *v, int k, int d) {
  for (int i = 0; i < k; i++) {
    double *vi = v + (size_t)i * d;
    for (int attempt = 0; attempt <= d; attempt++) {
      for (int j = 0; j < i; j++) {
        const double *vj = v + (size_t)j * d;
        double dot = 0;
        for (int t = 0; t < d; t++) dot += vi[t] * vj[t];
        for (int t = 0; t < d; t++) vi[t] -= dot * vj[t];
      }
      double norm = 0;
      for (int t = 0; t < d; t++) norm += vi[t] * vi[t];
      norm = sqrt(norm);
      if (norm > 1e-12) {
        for (int t = 0; t < d; t++) vi[t] /= norm;
        break;
      }
      memset(vi, 0, sizeof(double) * (size_t)d);
      vi[(i + attempt) % d] = 1.0;
    }
  }
}

int i2v_pca(const float *rows, size_t stride, size_t n, int dim, int ncomp, const i2v_alloc *a,
            i2v_pca_result *out) {
  int ovf = 0, rc = I2V_NOMEM;
  double *cov = NULL, *tmp = NULL, *next = NULL;
  memset(out, 0, sizeof(*out));
  if (n == 0 || dim < 1 || ncomp < 1 || ncomp > dim) return I2V_ERROR;
  out->dim = dim;
  out->ncomp = ncomp;
  size_t kd = i2v_mul_size((size_t)ncomp, (size_t)dim, &ovf);
  out->mean = i2v_malloc(a, sizeof(double) * (size_t)dim);
  out->components = i2v_malloc(a, i2v_mul_size(kd, sizeof(double), &ovf));
  out->variance = i2v_malloc(a, sizeof(double) * (size_t)ncomp);
  next = i2v_malloc(a, i2v_mul_size(kd, sizeof(double), &ovf));
  if (ovf || !out->mean || !out->components || !out->variance || !next) goto done;

  memset(out->mean, 0, sizeof(double) * (size_t)dim);
  for (size_t r = 0; r < n; r++)
    for (int j = 0; j < dim; j++) out->mean[j] += rows[r * stride + j];
  for (int j = 0; j < dim; j++) out->mean[j] /= (double)n;
  out->total_variance = 0;
  for (size_t r = 0; r < n; r++)
    for (int j = 0; j < dim; j++) {
      double x = rows[r * stride + j] - out->mean[j];
      out->total_variance += x * x;
    }
  out->total_variance /= (double)n;

  pca_ctx p = {rows, stride, n, dim, out->mean, NULL, NULL};
  if (dim <= PCA_DENSE_MAX) {
    cov = i2v_malloc(a, sizeof(double) * (size_t)dim * (size_t)dim);
    if (!cov) goto done;
    memset(cov, 0, sizeof(double) * (size_t)dim * (size_t)dim);
    double *x = next; /* dim doubles of scratch (kd >= dim) */
    for (size_t r = 0; r < n; r++) {
      for (int j = 0; j < dim; j++) x[j] = rows[r * stride + j] - out->mean[j];
      for (int i = 0; i < dim; i++)
        for (int j = i; j < dim; j++) cov[(size_t)i * dim + j] += x[i] * x[j];
    }
    for (int i = 0; i < dim; i++)
      for (int j = i; j < dim; j++)
        cov[(size_t)j * dim + i] = cov[(size_t)i * dim + j] /= (double)n;
    p.cov = cov;
  } else {
    tmp = i2v_malloc(a, i2v_mul_size(n, sizeof(double), &ovf));
    if (ovf || !tmp) goto done;
    p.tmp = tmp;
  }

  /* A deterministic start that is unlikely to be orthogonal to anything. */
  double *v = out->components;
  for (int i = 0; i < ncomp; i++)
    for (int j = 0; j < dim; j++)
      v[(size_t)i * dim + j] = (i == j % ncomp ? 1.0 : 0.0) + 0.01 * sin(1.0 + 7.0 * i + 13.0 * j);
  orthonormalise(v, ncomp, dim);
  for (int round = 0; round < PCA_MAX_ROUNDS; round++) {
    for (int i = 0; i < ncomp; i++) cov_apply(&p, v + (size_t)i * dim, next + (size_t)i * dim);
    orthonormalise(next, ncomp, dim);
    double moved = 0;
    for (int i = 0; i < ncomp; i++) {
      double dot = 0;
      for (int j = 0; j < dim; j++) dot += next[(size_t)i * dim + j] * v[(size_t)i * dim + j];
      moved = fmax(moved, 1.0 - fabs(dot));
    }
    memcpy(v, next, sizeof(double) * kd);
    if (moved < 1e-12) break;
  }

  /* Variance along each component; sort (selection: ncomp is small); sign. */
  for (int i = 0; i < ncomp; i++) {
    cov_apply(&p, v + (size_t)i * dim, next);
    double s = 0;
    for (int j = 0; j < dim; j++) s += next[j] * v[(size_t)i * dim + j];
    out->variance[i] = s;
  }
  for (int i = 0; i < ncomp; i++) {
    int best = i;
    for (int j = i + 1; j < ncomp; j++)
      if (out->variance[j] > out->variance[best]) best = j;
    if (best != i) {
      double t = out->variance[i];
      out->variance[i] = out->variance[best];
      out->variance[best] = t;
      for (int j = 0; j < dim; j++) {
        double u = v[(size_t)i * dim + j];
        v[(size_t)i * dim + j] = v[(size_t)best * dim + j];
        v[(size_t)best * dim + j] = u;
      }
    }
    int big = 0;
    for (int j = 1; j < dim; j++)
      if (fabs(v[(size_t)i * dim + j]) > fabs(v[(size_t)i * dim + big])) big = j;
    if (v[(size_t)i * dim + big] < 0)
      for (int j = 0; j < dim; j++) v[(size_t)i * dim + j] = -v[(size_t)i * dim + j];
  }
  rc = I2V_OK;

done:
  i2v_free(a, cov);
  i2v_free(a, tmp);
  i2v_free(a, next);
  if (rc != I2V_OK) i2v_pca_free(out, a);
  return rc;
}

void i2v_pca_project(const i2v_pca_result *r, const float *row, double *out) {
  for (int i = 0; i < r->ncomp; i++) {
    const double *c = r->components + (size_t)i * r->dim;
    double s = 0;
    for (int j = 0; j < r->dim; j++) s += ((double)row[j] - r->mean[j]) * c[j];
    out[i] = s;
  }
}
