/*
** core/pca.h: principal components of a set of vectors, for pictures of a
** model (item2vec_project).  No SQLite in here.
*/
#ifndef I2V_PCA_H
#define I2V_PCA_H

#include "core/common.h"

typedef struct i2v_pca_result {
  int dim, ncomp;
  double *mean;       /* dim */
  double *components; /* ncomp x dim, unit length, orthogonal */
  double *variance;   /* ncomp: variance along each component */
  double total_variance;
} i2v_pca_result;

/* The ncomp (1 <= ncomp <= dim) leading principal components of n rows of
** dim floats, stride floats apart.  Deterministic: the same rows give the
** same components, each signed so that its largest coordinate is positive.
** Returns I2V_OK, I2V_NOMEM, or I2V_ERROR for n == 0 or a bad ncomp. */
int i2v_pca(const float *rows, size_t stride, size_t n, int dim, int ncomp, const i2v_alloc *a,
            i2v_pca_result *out);
void i2v_pca_free(i2v_pca_result *r, const i2v_alloc *a);

/* Coordinates of one row along the components: out[ncomp]. */
void i2v_pca_project(const i2v_pca_result *r, const float *row, double *out);

#endif
