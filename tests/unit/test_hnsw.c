/*
** test_hnsw.c: unit tests of the approximate index (i2v_hnsw), linked
** without SQLite: options, build and search against brute force, the
** serialised form read back, every check of the loader on damaged buffers
** (each re-checksummed, so the check itself is what must catch it), and
** allocation failures.
**
** Run: make build/test_hnsw && build/test_hnsw   (tests/sh/test_hnsw_unit.sh)
** Prints "ok - name" or "not ok - name: why" per test; exits non-zero when
** any failed.
*/
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hnsw.h"
#include "core/vec.h"

static char why[1024];
static int failed_tests;

static void fail_at(int line, const char *fmt, ...) {
  va_list ap;
  int n = snprintf(why, sizeof(why), "line %d: ", line);
  va_start(ap, fmt);
  vsnprintf(why + n, sizeof(why) - (size_t)n, fmt, ap);
  va_end(ap);
}

#define EXPECT(cond, ...)             \
  do {                                \
    if (!(cond)) {                    \
      fail_at(__LINE__, __VA_ARGS__); \
      return;                         \
    }                                 \
  } while (0)

static void run(const char *name, void (*fn)(void)) {
  why[0] = 0;
  fn();
  if (why[0]) {
    printf("not ok - %s: %s\n", name, why);
    failed_tests++;
  } else {
    printf("ok - %s\n", name);
  }
}

/* ---- data ------------------------------------------------------------- */

static uint64_t rng_state;
static uint64_t next_u64(void) {
  uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
static double gauss(void) {
  double u1 = ((double)(next_u64() >> 11) + 0.5) * 0x1p-53;
  double u2 = ((double)(next_u64() >> 11) + 0.5) * 0x1p-53;
  return sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2);
}

typedef struct data {
  float *rows;
  size_t stride;
  int dim;
  uint32_t n;
} data;

/* n unit rows; clustered = around 20 centres. */
static data make_data(uint32_t n, int dim, int clustered, uint64_t seed) {
  data d;
  rng_state = seed;
  d.n = n;
  d.dim = dim;
  d.stride = i2v_row_stride(dim);
  d.rows = calloc((size_t)n * d.stride + 16, sizeof(float));
  float centres[20][64];
  for (int c = 0; c < 20; c++)
    for (int j = 0; j < dim; j++) centres[c][j] = (float)gauss();
  for (uint32_t i = 0; i < n; i++) {
    float *r = d.rows + (size_t)i * d.stride;
    int c = (int)(next_u64() % 20);
    for (int j = 0; j < dim; j++)
      r[j] = (float)(clustered ? centres[c][j] + 0.3 * gauss() : gauss());
    i2v_vec_normalize(r, dim);
  }
  return d;
}

/* The exact 10 best rows for row q (q itself left out), best first. */
static void exact10(const data *d, uint32_t q, uint32_t *best) {
  float bs[10];
  int nb = 0;
  for (uint32_t i = 0; i < d->n; i++) {
    if (i == q) continue;
    float s = i2v_dot(d->rows + (size_t)i * d->stride, d->rows + (size_t)q * d->stride, d->dim);
    if (nb == 10 && !(s > bs[9])) continue;
    int j = nb < 10 ? nb++ : 9;
    while (j > 0 && bs[j - 1] < s) {
      bs[j] = bs[j - 1];
      best[j] = best[j - 1];
      j--;
    }
    bs[j] = s;
    best[j] = i;
  }
}

/* Recall of one-row queries; from_self: the walk starts at the query's row. */
static double recall_at_10_from(i2v_hnsw *h, const data *d, size_t ef, int queries,
                                int from_self) {
  int hit = 0;
  for (int t = 0; t < queries; t++) {
    uint32_t q = (uint32_t)((t * 2654435761u) % d->n), best[10];
    exact10(d, q, best);
    i2v_scored *f;
    size_t nf;
    if (i2v_hnsw_search_from(h, d->rows, d->stride, d->dim, d->rows + (size_t)q * d->stride, &q,
                             from_self ? 1 : 0, ef, &f, &nf) != I2V_OK)
      return -1;
    int k = 0;
    for (size_t j = 0; j < nf && k < 10; j++) {
      if (f[j].index == q) continue;
      for (int b = 0; b < 10; b++) hit += f[j].index == best[b];
      k++;
    }
  }
  return hit / (10.0 * queries);
}

static double recall_at_10(i2v_hnsw *h, const data *d, size_t ef, int queries) {
  return recall_at_10_from(h, d, ef, queries, 0);
}

static i2v_hnsw *build(const data *d, const char *const *opts, uint64_t hash) {
  i2v_hnsw_params p;
  char err[256];
  i2v_hnsw *h = NULL;
  i2v_hnsw_params_init(&p, 2, 0);
  for (; opts && *opts; opts++)
    if (i2v_hnsw_params_set(&p, *opts, "test", err, sizeof(err)) != I2V_OK) return NULL;
  if (i2v_hnsw_build(&p, d->rows, d->stride, d->dim, d->n, hash, &i2v_libc_alloc, NULL, NULL, &h,
                     err, sizeof(err)) != I2V_OK)
    return NULL;
  return h;
}

/* A copy of the index's bytes (malloc'd, as i2v_hnsw_load takes it). */
static unsigned char *copy_bytes(const i2v_hnsw *h, size_t *len) {
  const unsigned char *b = i2v_hnsw_bytes(h, len);
  unsigned char *c = malloc(*len);
  memcpy(c, b, *len);
  return c;
}

static void put32(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static void reseal(unsigned char *b, size_t len) {
  uint64_t c = i2v_hnsw_checksum(b, len);
  for (int i = 0; i < 8; i++) b[56 + i] = (unsigned char)(c >> (8 * i));
}

/* ---- tests ------------------------------------------------------------ */

static void test_options(void) {
  i2v_hnsw_params p;
  char err[256];
  i2v_hnsw_params_init(&p, 4, 0);
  EXPECT(p.M == 48 && p.threads == 4 && p.ef_construction == 400 && p.ef_search == 64,
         "defaults M=%d threads=%d ef_construction=%d ef_search=%d", p.M, p.threads,
         p.ef_construction, p.ef_search);
  EXPECT(i2v_hnsw_params_set(&p, "M=24", "f", err, sizeof(err)) == I2V_OK && p.M == 24, "M=24");
  EXPECT(i2v_hnsw_params_set(&p, "seed=123456789012", "f", err, sizeof(err)) == I2V_OK &&
             p.seed == 123456789012LL,
         "seed");
  EXPECT(i2v_hnsw_params_set(&p, "M=1", "f", err, sizeof(err)) == I2V_ERROR &&
             strstr(err, "f: option M") && strstr(err, "from 2 to 64"),
         "M=1: %s", err);
  EXPECT(i2v_hnsw_params_set(&p, "ef_search=12x", "f", err, sizeof(err)) == I2V_ERROR, "12x");
  EXPECT(i2v_hnsw_params_set(&p, "ef_search=", "f", err, sizeof(err)) == I2V_ERROR, "empty");
  EXPECT(i2v_hnsw_params_set(&p, "efsearch=5", "f", err, sizeof(err)) == I2V_ERROR &&
             strstr(err, "unknown option 'efsearch'") && strstr(err, "ef_search"),
         "unknown: %s", err);
  EXPECT(p.M == 24, "a failed option changed M to %d", p.M);
}

static void test_recall_random(void) {
  data d = make_data(3000, 24, 0, 7);
  const char *opts[] = {"threads=1", NULL};
  i2v_hnsw *h = build(&d, opts, 1);
  EXPECT(h, "build failed");
  double r = recall_at_10(h, &d, 64, 100);
  double from_self = recall_at_10_from(h, &d, 64, 100, 1);
  double narrow = recall_at_10_from(h, &d, 12, 100, 1);
  double all = recall_at_10(h, &d, 3000, 20);
  i2v_hnsw_free(h);
  free(d.rows);
  EXPECT(r >= 0.9, "recall@10 with ef=64 is %.3f", r);
  EXPECT(from_self >= 0.9, "recall@10 with ef=64 from the query's row is %.3f", from_self);
  EXPECT(narrow >= 0.5, "recall@10 with ef=12 from the query's row is %.3f", narrow);
  EXPECT(all == 1.0, "recall@10 with ef=n is %.3f (the graph is not connected)", all);
}

static void test_recall_clustered_threads(void) {
  data d = make_data(6000, 32, 1, 9);
  const char *opts[] = {"threads=2", "M=12", NULL};
  i2v_hnsw *h = build(&d, opts, 1);
  EXPECT(h, "build failed");
  double r = recall_at_10(h, &d, 64, 100);
  i2v_hnsw_free(h);
  free(d.rows);
  EXPECT(r >= 0.9, "recall@10 with ef=64 is %.3f", r);
}

/* Results best first, no duplicates, scores equal to the exact dot. */
static void test_search_output(void) {
  data d = make_data(500, 8, 0, 3);
  const char *opts[] = {"threads=1", NULL};
  i2v_hnsw *h = build(&d, opts, 1);
  EXPECT(h, "build failed");
  i2v_scored *f;
  size_t nf;
  const float *q = d.rows + 17 * d.stride;
  int bad = 0;
  EXPECT(i2v_hnsw_search_from(h, d.rows, d.stride, d.dim, q, NULL, 0, 40, &f, &nf) == I2V_OK, "search");
  EXPECT(nf == 40, "found %zu of 40", nf);
  EXPECT(f[0].index == 17, "the query row itself is not first (%u)", f[0].index);
  for (size_t j = 0; j < nf; j++) {
    if (j && (f[j].score > f[j - 1].score)) bad = 1;
    for (size_t k = 0; k < j; k++) bad |= f[k].index == f[j].index;
    bad |= fabsf(f[j].score - i2v_dot(d.rows + (size_t)f[j].index * d.stride, q, d.dim)) > 1e-6f;
  }
  /* The same from the query's own row, and from a row that is not it. */
  /* From the row itself, from another row, from both and rows past the end. */
  const uint32_t starts[][3] = {{17, 0, 0}, {300, 0, 0}, {300, 17, 4000000000u}};
  const size_t nstarts[] = {1, 1, 3};
  for (int t = 0; t < 3 && !bad; t++) {
    EXPECT(i2v_hnsw_search_from(h, d.rows, d.stride, d.dim, q, starts[t], nstarts[t], 40, &f,
                                &nf) == I2V_OK,
           "search from start %d", t);
    bad |= nf != 40 || f[0].index != 17;
    for (size_t j = 0; j < nf; j++) {
      if (j && (f[j].score > f[j - 1].score)) bad = 1;
      for (size_t k = 0; k < j; k++) bad |= f[k].index == f[j].index;
    }
  }
  i2v_hnsw_free(h);
  free(d.rows);
  EXPECT(!bad, "results out of order, duplicated or mis-scored");
}

/* One thread and a seed: the same bytes every time; reloaded, the same
** answers. */
static void test_roundtrip(void) {
  data d = make_data(800, 16, 1, 5);
  const char *opts[] = {"threads=1", "seed=3", "M=8", NULL};
  i2v_hnsw *a = build(&d, opts, 42), *b = build(&d, opts, 42), *c = NULL;
  size_t la, lb;
  char err[256];
  EXPECT(a && b, "build failed");
  const unsigned char *ba = i2v_hnsw_bytes(a, &la), *bb = i2v_hnsw_bytes(b, &lb);
  EXPECT(la == lb && memcmp(ba, bb, la) == 0, "two builds with threads=1 differ");
  EXPECT(memcmp(ba, I2V_HNSW_MAGIC, 8) == 0, "magic");
  unsigned char *copy = copy_bytes(a, &la);
  EXPECT(i2v_hnsw_load(copy, la, d.n, d.dim, 42, &i2v_libc_alloc, &c, err, sizeof(err)) == I2V_OK,
         "load: %s", err);
  EXPECT(i2v_hnsw_ef_search(c) == i2v_hnsw_ef_search(a), "ef_search");
  for (int t = 0; t < 20; t++) {
    i2v_scored *fa, *fc;
    size_t na, nc;
    const float *q = d.rows + (size_t)(t * 37) * d.stride;
    i2v_hnsw_search_from(a, d.rows, d.stride, d.dim, q, NULL, 0, 30, &fa, &na);
    i2v_scored keep[30];
    memcpy(keep, fa, na * sizeof(*fa));
    i2v_hnsw_search_from(c, d.rows, d.stride, d.dim, q, NULL, 0, 30, &fc, &nc);
    EXPECT(na == nc && memcmp(keep, fc, na * sizeof(*fa)) == 0, "query %d differs after reload", t);
  }
  i2v_hnsw_free(a);
  i2v_hnsw_free(b);
  i2v_hnsw_free(c);
  free(d.rows);
}

/* Each damage, re-checksummed, must be caught by its own check. */
static void test_damaged(void) {
  data d = make_data(300, 8, 0, 11);
  const char *opts[] = {"threads=1", "M=4", NULL};
  i2v_hnsw *h = build(&d, opts, 99), *out = NULL;
  char err[256];
  size_t len;
  EXPECT(h, "build failed");
  const unsigned char *orig = i2v_hnsw_bytes(h, &len);
  size_t off0 = I2V_HNSW_HEADER + ((d.n + 3) & ~3u);
  uint32_t top = orig[40], entry = orig[44] | (uint32_t)orig[45] << 8;
  struct {
    const char *name;
    size_t at;
    uint32_t value;
    int size; /* 4 = u32, 1 = byte, 0 = truncate by value bytes */
    int reseal;
    int rc;
    const char *says;
  } cases[] = {
      {"magic", 0, 0x21, 1, 1, I2V_ERROR, "magic"},
      {"version", 8, 2, 4, 1, I2V_ERROR, "version 2"},
      {"checksum", off0 + 4, 0x7fffffff, 4, 0, I2V_ERROR, "checksum"},
      {"item count", 16, 301, 4, 1, I2V_HNSW_STALE, "301 items"},
      {"dimension", 20, 9, 4, 1, I2V_HNSW_STALE, "dimension 9"},
      {"items hash", 48, 98, 1, 1, I2V_HNSW_STALE, "other items"},
      {"M", 24, 1, 4, 1, I2V_ERROR, "header"},
      {"M0", 28, 9, 4, 1, I2V_ERROR, "header"},
      {"entry out of range", 44, 300, 4, 1, I2V_ERROR, "header"},
      {"top level", 40, 30, 4, 1, I2V_ERROR, "header"},
      {"level above top", I2V_HNSW_HEADER + 5, top + 1, 1, 1, I2V_ERROR, "level"},
      {"entry not on top", I2V_HNSW_HEADER + entry, top ? top - 1 : 1, 1, 1, I2V_ERROR, top ? "entry point" : "length"},
      {"list too long", off0, 9, 4, 1, I2V_ERROR, "longer"},
      {"neighbour out of range", off0 + 4, 300, 4, 1, I2V_ERROR, "neighbour"},
      {"neighbour id huge", off0 + 4, 0xffffffffu, 4, 1, I2V_ERROR, "neighbour"},
      {"truncated", 0, 4, 0, 1, I2V_ERROR, "length"},
      {"header only", 0, 0, 2, 1, I2V_ERROR, "header"},
  };
  for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
    size_t n = len;
    unsigned char *b = copy_bytes(h, &n);
    if (cases[c].size == 4) put32(b + cases[c].at, cases[c].value);
    if (cases[c].size == 1) b[cases[c].at] = (unsigned char)cases[c].value;
    if (cases[c].size == 0) n -= cases[c].value;
    if (cases[c].size == 2) n = I2V_HNSW_HEADER;
    if (cases[c].reseal) reseal(b, n);
    err[0] = 0;
    int rc = i2v_hnsw_load(b, n, d.n, d.dim, 99, &i2v_libc_alloc, &out, err, sizeof(err));
    EXPECT(rc == cases[c].rc && !out, "%s: rc %d (wanted %d): %s", cases[c].name, rc, cases[c].rc, err);
    EXPECT(strstr(err, cases[c].says), "%s: message '%s' does not say '%s'", cases[c].name, err,
           cases[c].says);
  }
  /* Too short for a header, and a load for another model's counts. */
  unsigned char *tiny = malloc(10);
  memset(tiny, 0, 10);
  EXPECT(i2v_hnsw_load(tiny, 10, d.n, d.dim, 99, &i2v_libc_alloc, &out, err, sizeof(err)) == I2V_ERROR,
         "10 bytes loaded");
  size_t n = len;
  unsigned char *b = copy_bytes(h, &n);
  EXPECT(i2v_hnsw_load(b, n, d.n + 1, d.dim, 99, &i2v_libc_alloc, &out, err, sizeof(err)) ==
             I2V_HNSW_STALE,
         "an index of 300 items loaded for 301");
  i2v_hnsw_free(h);
  free(d.rows);
}

/* Random damage anywhere, resealed or not: never a crash, and a load that
** passes yields only row numbers below n. */
static void test_fuzz(void) {
  data d = make_data(200, 8, 0, 13);
  const char *opts[] = {"threads=1", "M=4", NULL};
  i2v_hnsw *h = build(&d, opts, 5);
  char err[256];
  size_t len;
  int loaded = 0;
  EXPECT(h, "build failed");
  i2v_hnsw_bytes(h, &len);
  rng_state = 77;
  for (int t = 0; t < 3000; t++) {
    size_t n = len;
    unsigned char *b = copy_bytes(h, &n);
    int flips = 1 + (int)(next_u64() % 4);
    for (int f = 0; f < flips; f++) b[next_u64() % n] ^= (unsigned char)(1 + next_u64() % 255);
    if (t % 2) reseal(b, n);
    i2v_hnsw *out = NULL;
    if (i2v_hnsw_load(b, n, d.n, d.dim, 5, &i2v_libc_alloc, &out, err, sizeof(err)) == I2V_OK) {
      loaded++;
      i2v_scored *f;
      size_t nf;
      i2v_hnsw_search_from(out, d.rows, d.stride, d.dim, d.rows, NULL, 0, 50, &f, &nf);
      for (size_t j = 0; j < nf; j++) EXPECT(f[j].index < d.n, "row %u of 200", f[j].index);
      i2v_hnsw_free(out);
    }
  }
  i2v_hnsw_free(h);
  free(d.rows);
  EXPECT(loaded > 0, "no damaged-but-valid index was ever loaded (the fuzz is too strict)");
}

/* Allocation failures: every one reported as I2V_NOMEM, nothing leaked. */
static int fail_at_alloc, alloc_count, live;
static void *counting_malloc(void *ctx, size_t n) {
  (void)ctx;
  if (++alloc_count == fail_at_alloc) return NULL;
  void *p = malloc(n);
  if (p) live++;
  return p;
}
static void counting_free(void *ctx, void *p) {
  (void)ctx;
  if (p) live--;
  free(p);
}
static const i2v_alloc counting = {counting_malloc, counting_free, NULL};

static void test_nomem(void) {
  data d = make_data(300, 8, 0, 17);
  i2v_hnsw_params p;
  char err[256];
  i2v_hnsw_params_init(&p, 2, 0);
  p.M = 4;
  for (fail_at_alloc = 1;; fail_at_alloc++) {
    i2v_hnsw *h = NULL;
    alloc_count = live = 0;
    int rc = i2v_hnsw_build(&p, d.rows, d.stride, d.dim, d.n, 1, &counting, NULL, NULL, &h, err,
                            sizeof(err));
    if (rc == I2V_OK) {
      i2v_hnsw_free(h);
      EXPECT(live == 0, "%d blocks leaked after a build", live);
      break;
    }
    EXPECT(rc == I2V_NOMEM && !h, "allocation %d: rc %d", fail_at_alloc, rc);
    EXPECT(live == 0, "allocation %d failed: %d blocks leaked", fail_at_alloc, live);
  }
  free(d.rows);
}

static int stop_after;
static int poll_stop(void *ctx, const i2v_progress *pr) {
  (void)ctx;
  return pr->done >= (uint64_t)stop_after && pr->total == 5000 && pr->epochs == 0;
}

static void test_cancel(void) {
  data d = make_data(5000, 8, 0, 19);
  i2v_hnsw_params p;
  char err[256];
  i2v_hnsw *h = NULL;
  i2v_hnsw_params_init(&p, 2, 0);
  stop_after = 1000;
  int rc = i2v_hnsw_build(&p, d.rows, d.stride, d.dim, d.n, 1, &i2v_libc_alloc, poll_stop, NULL, &h,
                          err, sizeof(err));
  free(d.rows);
  EXPECT(rc == I2V_CANCELLED && !h && strstr(err, "interrupted"), "rc %d: %s", rc, err);
}

int main(void) {
  run("hnsw options: defaults, ranges, unknown names", test_options);
  run("hnsw recall@10 >= 0.9 on random rows, every row reachable", test_recall_random);
  run("hnsw recall@10 >= 0.9 on clustered rows, two threads", test_recall_clustered_threads);
  run("hnsw search: best first, unique, exact scores; also from a given row", test_search_output);
  run("hnsw serialised form: deterministic with one thread, same answers reloaded", test_roundtrip);
  run("hnsw load rejects each kind of damage with its own message", test_damaged);
  run("hnsw load survives random damage and never yields a row >= n", test_fuzz);
  run("hnsw build: every allocation failure is I2V_NOMEM without leaks", test_nomem);
  run("hnsw build stops when the poll callback asks", test_cancel);
  return failed_tests ? 1 : 0;
}
