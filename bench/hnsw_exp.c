/*
** hnsw_exp.c: the approximate index (ext/i2v_hnsw.c) measured alone, without
** SQLite: build over n random or clustered unit vectors, then recall at 10
** against brute force and time per query for several search widths.
**
**   build/hnsw_exp N DIM random|clustered CACHE_FILE [opt=value ...] [ef=A,B,C]
**
** A built index is saved to CACHE_FILE and reused when the file exists (so
** search changes can be measured without rebuilding).
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "i2v_hnsw.h"
#include "i2v_vec.h"

extern unsigned long hnsw_stat_dist, hnsw_stat_expand;
static uint64_t st = 42;
static uint64_t nxt(void) {
  uint64_t z = (st += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
static double gauss(void) {
  double u = ((double)(nxt() >> 11) + 0.5) * 0x1p-53, v = ((double)(nxt() >> 11) + 0.5) * 0x1p-53;
  return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}
static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

#ifdef DIAG
static long dmiss, dadj_out, dadj_in, d2hop, drank[10];
static int has(const uint32_t *l, uint32_t x) {
  for (uint32_t t = 0; t < l[0]; t++)
    if (l[1 + t] == x) return 1;
  return 0;
}
static void diag(i2v_hnsw *h, uint32_t q, const uint32_t *truth, i2v_scored *f, size_t nf) {
  for (int k = 0; k < 10; k++) {
    int hit = 0;
    for (size_t j = 0; j < nf && j < 11; j++) hit |= f[j].index == truth[k];
    if (hit) continue;
    dmiss++;
    drank[k]++;
    const uint32_t *lq = list_at(h, q, 0), *lx = list_at(h, truth[k], 0);
    dadj_out += has(lq, truth[k]);
    dadj_in += has(lx, q);
    int two = 0;
    for (uint32_t t = 0; t < lq[0] && !two; t++) two |= has(list_at(h, lq[1 + t], 0), truth[k]);
    d2hop += two;
  }
}
#endif
int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: %s N DIM random|clustered CACHE [opt=v ...] [ef=A,B]\n", argv[0]);
    return 2;
  }
  uint32_t n = (uint32_t)atol(argv[1]);
  int dim = atoi(argv[2]);
  int clustered = strcmp(argv[3], "clustered") == 0;
  const char *cache = argv[4];
  size_t stride = i2v_row_stride(dim);
  float *rows = aligned_alloc(64, (size_t)n * stride * sizeof(float) + 64);
  if (!getenv("NOHUGE")) i2v_advise_huge(rows, (size_t)n * stride * sizeof(float));
  memset(rows, 0, (size_t)n * stride * sizeof(float));
  int ncl = 1000;
  float *cent = malloc((size_t)ncl * dim * sizeof(float));
  for (int c = 0; c < ncl * dim; c++) cent[c] = (float)gauss();
  for (uint32_t i = 0; i < n; i++) {
    float *r = rows + (size_t)i * stride;
    int c = (int)(nxt() % (uint64_t)ncl);
    for (int d = 0; d < dim; d++)
      r[d] = clustered ? cent[c * dim + d] + 0.5f * (float)gauss() : (float)gauss();
    i2v_vec_normalize(r, dim);
  }
  i2v_hnsw_params p;
  i2v_hnsw_params_init(&p, 2, 0);
  char err[512], efs[256] = "64,128,256,512,768";
  for (int a = 5; a < argc; a++) {
    if (strncmp(argv[a], "ef=", 3) == 0) {
      snprintf(efs, sizeof(efs), "%s", argv[a] + 3);
      continue;
    }
    if (i2v_hnsw_params_set(&p, argv[a], "hnsw_exp", err, sizeof(err))) {
      fprintf(stderr, "%s\n", err);
      return 2;
    }
  }
  i2v_hnsw *h = NULL;
  FILE *f = fopen(cache, "rb");
  if (f) {
    fseek(f, 0, SEEK_END);
    size_t len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(len);
    if (fread(b, 1, len, f) != len) return 1;
    fclose(f);
    double t0 = now();
    if (i2v_hnsw_load(b, len, n, dim, 7, &i2v_libc_alloc, &h, err, sizeof(err))) {
      fprintf(stderr, "load: %s\n", err);
      return 1;
    }
    printf("loaded %s (%.1f MB) in %.2f s\n", cache, (double)len / 1e6, now() - t0);
  } else {
    double t0 = now();
    if (i2v_hnsw_build(&p, rows, stride, dim, n, 7, &i2v_libc_alloc, NULL, NULL, &h, err,
                       sizeof(err))) {
      fprintf(stderr, "build: %s\n", err);
      return 1;
    }
    size_t len;
    const unsigned char *b = i2v_hnsw_bytes(h, &len);
    printf("built in %.1f s, %.1f MB\n", now() - t0, (double)len / 1e6);
    fflush(stdout);
    f = fopen(cache, "wb");
    fwrite(b, 1, len, f);
    fclose(f);
  }
  /* Queries: rows of the model (as similar_items asks), top 10 without self. */
  int nq = 200;
  uint32_t *qi = malloc(nq * sizeof(uint32_t));
  uint32_t(*truth)[10] = malloc((size_t)nq * sizeof(*truth));
  float *sc = malloc((size_t)n * sizeof(float));
  double tscan = 0;
  /* QUERY=mean: the normalised mean of two random rows (not a row itself). */
  int mean = getenv("QUERY") && strcmp(getenv("QUERY"), "mean") == 0;
  float *qvs = aligned_alloc(64, (size_t)nq * stride * sizeof(float));
  memset(qvs, 0, (size_t)nq * stride * sizeof(float));
  for (int q = 0; q < nq; q++) {
    qi[q] = (uint32_t)(nxt() % n);
    uint32_t o = (uint32_t)(nxt() % n);
    float *qv = qvs + (size_t)q * stride;
    for (int d = 0; d < dim; d++)
      qv[d] = rows[(size_t)qi[q] * stride + d] + (mean ? rows[(size_t)o * stride + d] : 0);
    i2v_vec_normalize(qv, dim);
    if (mean) qi[q] = UINT32_MAX;
    double t0 = now();
    i2v_vec_scores(rows, stride, n, qv, dim, sc);
    tscan += now() - t0;
    if (qi[q] < n) sc[qi[q]] = -10;
    for (int k = 0; k < 10; k++) {
      uint32_t b = 0;
      for (uint32_t i = 1; i < n; i++)
        if (sc[i] > sc[b]) b = i;
      truth[q][k] = b;
      sc[b] = -10;
    }
  }
  printf("float scan: %.0f us/query\n", 1e6 * tscan / nq);
  size_t cstride = ((size_t)dim + 31) & ~(size_t)31;
  signed char *codes = malloc((size_t)n * cstride);
  if (!getenv("NOHUGE")) i2v_advise_huge(codes, (size_t)n * cstride);
  float maxabs = 0;
  for (size_t i = 0; i < (size_t)n * stride; i++)
    if (fabsf(rows[i]) > maxabs) maxabs = fabsf(rows[i]);
  for (size_t i = 0; i < n; i++)
    for (size_t d = 0; d < cstride; d++)
      codes[i * cstride + d] =
          d < (size_t)dim ? (signed char)lrintf(rows[i * stride + d] * 127.0f / maxabs) : 0;
  for (char *tok = strtok(efs, ","); tok; tok = strtok(NULL, ","))
   for (int use = 0; use < 2; use++) {
    size_t ef = (size_t)atol(tok);
    double t = 0;
    long hits = 0;
    hnsw_stat_dist = hnsw_stat_expand = 0;
    double times[1000];
    for (int q = 0; q < nq; q++) {
      const float *qv = qvs + (size_t)q * stride;
      i2v_scored *found;
      size_t nf;
      double t0 = now();
      i2v_hnsw_search8(h, rows, stride, dim, use ? codes : NULL, cstride, maxabs / 127.0f, qv,
                       ef, &found, &nf);
      times[q] = now() - t0;
      t += times[q];
      int got = 0;
#ifdef DIAG
      if (use == 0) diag(h, qi[q], truth[q], found, nf);
#endif
      for (size_t j = 0; j < nf && got < 10; j++) {
        if (found[j].index == qi[q]) continue;
        for (int k = 0; k < 10; k++) hits += found[j].index == truth[q][k];
        got++;
      }
    }
    printf("%s ef=%-5zu recall@10 %.4f  mean %.0f us  dist %lu expand %lu\n", use ? "int8 " : "float", ef, (double)hits / (10.0 * nq),
           1e6 * t / nq, hnsw_stat_dist / nq, hnsw_stat_expand / nq);
    fflush(stdout);
  }
#ifdef DIAG
  printf("misses %ld: q->x %ld, x->q %ld, 2-hop %ld; by rank:", dmiss, dadj_out, dadj_in, d2hop);
  for (int k = 0; k < 10; k++) printf(" %ld", drank[k]);
  printf("\n");
#endif
  i2v_hnsw_free(h);
  return 0;
}
