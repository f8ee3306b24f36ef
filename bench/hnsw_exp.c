/*
** hnsw_exp.c: the approximate index (ext/core/hnsw.c) measured alone, without
** SQLite or Python in the way: build over n random or clustered unit
** vectors, then recall at 10 against brute force and the mean time per
** query, for several search widths.  A tool for tuning the index; `make bench` measures it end to end
** through similar_items (scripts/bench_query.py).
**
**   make build/hnsw_exp
**   build/hnsw_exp N DIM random|clustered CACHE_FILE [option=value ...] [ef=A,B,C]
**
** Options are item2vec_index's (M=, ef_construction=, threads=, seed=).  A
** built index is saved to CACHE_FILE and read back when the file exists, so
** search changes can be measured without building again.  Queries are 200
** random items, as similar_items(id, 10) asks (the walk starts from the
** item); QUERY=mean asks for the mean of two random items instead, which is
** not an item of the graph (the walk starts from both items and from the
** end of the walk down from the top, as similar_items('[a, b]', 10) does;
** FROMTOP=1: from the top only).
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/hnsw.h"
#include "core/vec.h"

static uint64_t rng = 42;
static uint64_t next_u64(void) {
  uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
static double gauss(void) {
  double u = ((double)(next_u64() >> 11) + 0.5) * 0x1p-53;
  double v = ((double)(next_u64() >> 11) + 0.5) * 0x1p-53;
  return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}
static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void *must(void *p) {
  if (!p) {
    fprintf(stderr, "hnsw_exp: out of memory\n");
    exit(1);
  }
  return p;
}

/* The index from cache when it is there, else built and saved. */
static i2v_hnsw *get_index(const char *cache, const i2v_hnsw_params *p, const float *rows,
                           size_t stride, int dim, uint32_t n) {
  i2v_hnsw *h = NULL;
  char err[512];
  FILE *f = fopen(cache, "rb");
  if (f) {
    fseek(f, 0, SEEK_END);
    size_t len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = must(malloc(len));
    if (fread(b, 1, len, f) != len) {
      fprintf(stderr, "hnsw_exp: cannot read %s\n", cache);
      exit(1);
    }
    fclose(f);
    if (i2v_hnsw_load(b, len, n, dim, 7, &i2v_libc_alloc, &h, err, sizeof(err)) != I2V_OK) {
      fprintf(stderr, "hnsw_exp: %s: %s\n", cache, err);
      exit(1);
    }
    printf("read %s (%.1f MB)\n", cache, (double)len / 1e6);
    return h;
  }
  double t0 = now();
  if (i2v_hnsw_build(p, rows, stride, dim, n, 7, &i2v_libc_alloc, NULL, NULL, &h, err,
                     sizeof(err)) != I2V_OK) {
    fprintf(stderr, "hnsw_exp: build: %s\n", err);
    exit(1);
  }
  size_t len;
  const unsigned char *b = i2v_hnsw_bytes(h, &len);
  printf("built in %.1f s, %.1f MB\n", now() - t0, (double)len / 1e6);
  f = fopen(cache, "wb");
  if (!f || fwrite(b, 1, len, f) != len || fclose(f) != 0)
    fprintf(stderr, "hnsw_exp: could not save %s\n", cache);
  return h;
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: %s N DIM random|clustered CACHE [option=value ...] [ef=A,B]\n",
            argv[0]);
    return 2;
  }
  uint32_t n = (uint32_t)atol(argv[1]);
  int dim = atoi(argv[2]);
  int clustered = strcmp(argv[3], "clustered") == 0;
  size_t stride = i2v_row_stride(dim);
  float *rows = must(aligned_alloc(64, (size_t)n * stride * sizeof(float) + 64));
  memset(rows, 0, (size_t)n * stride * sizeof(float));
  int ncl = 1000;
  float *cent = must(malloc((size_t)ncl * (size_t)dim * sizeof(float)));
  for (int c = 0; c < ncl * dim; c++) cent[c] = (float)gauss();
  for (uint32_t i = 0; i < n; i++) {
    float *r = rows + (size_t)i * stride;
    int c = (int)(next_u64() % (uint64_t)ncl);
    for (int d = 0; d < dim; d++)
      r[d] = clustered ? cent[c * dim + d] + 0.5f * (float)gauss() : (float)gauss();
    i2v_vec_normalize(r, dim);
  }
  i2v_hnsw_params p;
  i2v_hnsw_params_init(&p, 2, 0);
  char err[512], efs[256] = "16,32,64,128,256";
  for (int a = 5; a < argc; a++) {
    if (strncmp(argv[a], "ef=", 3) == 0) {
      snprintf(efs, sizeof(efs), "%s", argv[a] + 3);
    } else if (i2v_hnsw_params_set(&p, argv[a], "hnsw_exp", err, sizeof(err)) != I2V_OK) {
      fprintf(stderr, "%s\n", err);
      return 2;
    }
  }
  i2v_hnsw *h = get_index(argv[4], &p, rows, stride, dim, n);

  enum { NQ = 200 };
  int mean = getenv("QUERY") && strcmp(getenv("QUERY"), "mean") == 0;
  int64_t self[NQ];
  uint32_t from[NQ][2];
  uint32_t truth[NQ][10];
  float *qvs = must(aligned_alloc(64, (size_t)NQ * stride * sizeof(float)));
  float *sc = must(malloc((size_t)n * sizeof(float)));
  memset(qvs, 0, (size_t)NQ * stride * sizeof(float));
  double tscan = 0;
  for (int q = 0; q < NQ; q++) {
    uint32_t a = (uint32_t)(next_u64() % n), b = (uint32_t)(next_u64() % n);
    float *qv = qvs + (size_t)q * stride;
    for (int d = 0; d < dim; d++)
      qv[d] = rows[(size_t)a * stride + d] + (mean ? rows[(size_t)b * stride + d] : 0.0f);
    i2v_vec_normalize(qv, dim);
    self[q] = mean ? -1 : (int64_t)a;
    from[q][0] = a;
    from[q][1] = b;
    double t0 = now();
    i2v_vec_scores(rows, stride, n, qv, dim, sc);
    tscan += now() - t0;
    if (!mean) sc[a] = -10;
    for (int k = 0; k < 10; k++) {
      uint32_t best = 0;
      for (uint32_t i = 1; i < n; i++)
        if (sc[i] > sc[best]) best = i;
      truth[q][k] = best;
      sc[best] = -10;
    }
  }
  printf("float scan: %.0f us/query; queries: %s\n", 1e6 * tscan / NQ,
         mean ? "mean of two items" : "items");
  for (char *tok = strtok(efs, ","); tok; tok = strtok(NULL, ",")) {
      size_t ef = (size_t)atol(tok);
      double t = 0;
      long hits = 0;
      for (int q = 0; q < NQ; q++) {
        i2v_scored *found;
        size_t nf;
        double t0 = now();
        if (i2v_hnsw_search_from(h, rows, stride, dim, qvs + (size_t)q * stride, from[q],
                                 getenv("FROMTOP") ? 0 : mean ? 2 : 1, ef, &found, &nf) != I2V_OK) {
          fprintf(stderr, "hnsw_exp: search failed\n");
          return 1;
        }
        t += now() - t0;
        int got = 0;
        for (size_t j = 0; j < nf && got < 10; j++) {
          if ((int64_t)found[j].index == self[q]) continue;
          for (int k = 0; k < 10; k++) hits += found[j].index == truth[q][k];
          got++;
        }
      }
      printf("ef=%-5zu recall@10 %.4f  mean %.0f us\n", ef,
             (double)hits / (10.0 * NQ), 1e6 * t / NQ);
      fflush(stdout);
    }
  i2v_hnsw_free(h);
  free(rows);
  free(cent);
  free(qvs);
  free(sc);
  return 0;
}
