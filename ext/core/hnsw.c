/*
** core/hnsw.c: build, check, load and search the approximate index of
** similar_items (see core/hnsw.h).  No SQLite in here.
**
** How it works.  Each item gets a level drawn from a geometric law
** (P(level >= l) = M^-l), so level 0 holds every item and each level above
** holds about 1/M of the one below.  Items are inserted one by one: a greedy
** walk from the entry point (the item on the top level) down to the item's
** own level, then on each level a best-first search of width
** ef_construction whose results are pruned by the neighbour heuristic (keep
** a candidate only when it is closer to the new item than to every
** neighbour kept so far, which keeps links pointing in different
** directions), linked both ways; a neighbour whose list is full is re-pruned
** by the same heuristic.  Several threads insert at once: each node's lists
** are guarded by a spin lock from a striped table, the entry point by a
** mutex held for the whole insertion of an item that raises the top level.
** A query walks down the same way and runs one best-first search of width
** ef on level 0.  Scores are dot products of unit rows (cosine similarity),
** higher is closer; ties go to the smaller row number.
**
** Memory layout = stored layout (little-endian):
**   header (64 bytes): magic "I2VHNSW\0", version, header size, n, dim, M,
**     M0 = 2M, ef_construction, ef_search, top level, entry point (u32 each),
**     hash of the item keys (u64), checksum of all other bytes (u64)
**   levels: n bytes, zero-padded to a multiple of 4
**   level 0: n lists of M0 + 1 u32 (count, then neighbour row numbers)
**   upper levels: for each item in row order, one list of M + 1 u32 for
**     each of its levels 1..level
** Loading checks the header against the model, the checksum, every level
** and count against its bound and every neighbour against n, and works on
** the buffer in place.
*/
#include "core/hnsw.h"

#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/vec.h"

#define MAX_LEVEL 24
#define HNSW_MAX_FROM 64
#define LOCK_STRIPES (1u << 16)

struct i2v_hnsw {
  const i2v_alloc *alloc;
  unsigned char *blob; /* header + payload */
  size_t len;
  uint32_t n;
  int dim, M, M0, ef_construction, ef_search, max_level;
  uint32_t entry;
  uint64_t items_hash;
  uint8_t *levels;
  uint32_t *links0;      /* n * (M0 + 1) */
  uint32_t *upper;       /* nupper * (M + 1) */
  uint32_t *upper_first; /* n: first upper list of each item (not stored) */
  size_t nupper;
  struct scratch *qs; /* the query search's scratch, made on first use */
  signed char *codes; /* int8 codes of the rows the walk reads (not stored) */
  size_t cstride;
  float unit; /* the codes' unit (i2v_vec_quantize_i8) */
};

/* ---- options ---------------------------------------------------------- */

void i2v_hnsw_params_init(i2v_hnsw_params *p, int ncpu, int verbose) {
  p->M = 48;
  p->ef_construction = 400;
  p->ef_search = 64;
  p->threads = ncpu > 0 ? ncpu : 1;
  p->seed = 1;
  p->verbose = verbose;
}

typedef struct hnsw_option {
  const char *name;
  int64_t lo, hi;
  size_t offset;
  int is64;
  const char *about;
} hnsw_option;

static const hnsw_option hnsw_options[] = {
    {"M", 2, 64, offsetof(i2v_hnsw_params, M), 0, "links per item on upper levels"},
    {"ef_construction", 8, 4096, offsetof(i2v_hnsw_params, ef_construction), 0,
     "search width while building"},
    {"ef_search", 1, 100000, offsetof(i2v_hnsw_params, ef_search), 0,
     "default search width of queries"},
    {"threads", 1, 256, offsetof(i2v_hnsw_params, threads), 0, "build threads"},
    {"seed", 0, INT64_MAX, offsetof(i2v_hnsw_params, seed), 1, "random seed"},
    {"verbose", 0, 1, offsetof(i2v_hnsw_params, verbose), 0, "progress on stderr"},
};
#define NOPTIONS (sizeof(hnsw_options) / sizeof(hnsw_options[0]))

int i2v_hnsw_params_set(i2v_hnsw_params *p, const char *arg, const char *fname, char *err,
                        size_t errlen) {
  const char *eq = strchr(arg, '=');
  size_t nlen = eq ? (size_t)(eq - arg) : strlen(arg);
  for (size_t i = 0; i < NOPTIONS; i++) {
    const hnsw_option *o = &hnsw_options[i];
    if (strlen(o->name) != nlen || strncmp(o->name, arg, nlen) != 0) continue;
    if (!eq) {
      snprintf(err, errlen, "%s: option '%s' needs a value: '%s=N' with N from %lld to %lld", fname,
               o->name, o->name, (long long)o->lo, (long long)o->hi);
      return I2V_ERROR;
    }
    const char *v = eq + 1;
    char *end = NULL;
    long long x = strtoll(v, &end, 10);
    if (!*v || *end || end == v || x < o->lo || x > o->hi) {
      snprintf(err, errlen, "%s: option %s (%s) must be an integer from %lld to %lld, got '%s'",
               fname, o->name, o->about, (long long)o->lo, (long long)o->hi, v);
      return I2V_ERROR;
    }
    if (o->is64)
      *(int64_t *)((char *)p + o->offset) = (int64_t)x;
    else
      *(int *)((char *)p + o->offset) = (int)x;
    return I2V_OK;
  }
  size_t at = (size_t)snprintf(err, errlen, "%s: unknown option '%.*s'; valid options are", fname,
                               (int)(nlen > 60 ? 60 : nlen), arg);
  for (size_t i = 0; i < NOPTIONS && at < errlen; i++)
    at += (size_t)snprintf(err + at, errlen - at, "%s %s", i ? "," : "", hnsw_options[i].name);
  return I2V_ERROR;
}

void i2v_hnsw_params_json(const i2v_hnsw_params *p, char *buf, size_t n) {
  snprintf(buf, n,
           "{\"M\":%d,\"ef_construction\":%d,\"ef_search\":%d,\"threads\":%d,\"seed\":%lld}", p->M,
           p->ef_construction, p->ef_search, p->threads, (long long)p->seed);
}

/* ---- little-endian fields and the checksum ---------------------------- */

static void put32(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static void put64(unsigned char *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static uint32_t get32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t get64(const unsigned char *p) {
  return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static inline uint64_t mix64(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  return h ^ (h >> 33);
}

/* Four independent multiply-xor lanes over 8-byte words (so the loop is not
** one long dependency chain), the tail byte by byte, then mixed. */
static uint64_t hash_bytes(const unsigned char *p, size_t n, uint64_t seed) {
  uint64_t h[4] = {seed, seed ^ 0x9e3779b97f4a7c15ULL, seed ^ 0xc2b2ae3d27d4eb4fULL,
                   seed ^ 0x165667b19e3779f9ULL};
  size_t i = 0;
  for (; i + 32 <= n; i += 32)
    for (int l = 0; l < 4; l++) {
      uint64_t w = get64(p + i + 8 * (size_t)l);
      h[l] = (h[l] ^ w) * 0x9e3779b97f4a7c15ULL;
      h[l] ^= h[l] >> 29;
    }
  uint64_t t = n;
  for (; i < n; i++) t = (t ^ p[i]) * 0x100000001b3ULL;
  return mix64(h[0] ^ mix64(h[1] ^ mix64(h[2] ^ mix64(h[3] ^ t))));
}

uint64_t i2v_hnsw_checksum(const unsigned char *blob, size_t len) {
  if (len < I2V_HNSW_HEADER) return 0;
  uint64_t a = hash_bytes(blob, 56, 1);
  return hash_bytes(blob + I2V_HNSW_HEADER, len - I2V_HNSW_HEADER, a);
}

static int host_is_le(void) {
  const uint16_t one = 1;
  unsigned char b;
  memcpy(&b, &one, 1);
  return b == 1;
}

static void swap_u32s(uint32_t *p, size_t n) {
  for (size_t i = 0; i < n; i++) p[i] = __builtin_bswap32(p[i]);
}

void i2v_hnsw_to_le(i2v_hnsw *h) {
  if (host_is_le()) return;
  swap_u32s(h->links0, (size_t)h->n * (size_t)(h->M0 + 1));
  swap_u32s(h->upper, h->nupper * (size_t)(h->M + 1));
}

void i2v_hnsw_from_le(i2v_hnsw *h) {
  i2v_hnsw_to_le(h);
}

/* ---- layout ----------------------------------------------------------- */

static uint32_t *list_at(const i2v_hnsw *h, uint32_t i, int level) {
  if (level == 0) return h->links0 + (size_t)i * (size_t)(h->M0 + 1);
  return h->upper + ((size_t)h->upper_first[i] + (size_t)level - 1) * (size_t)(h->M + 1);
}

/* Sizes of the payload parts for n items with nupper upper lists; 0 when
** the total does not fit in size_t. */
static size_t layout(uint32_t n, int M, size_t nupper, size_t *off_links0, size_t *off_upper) {
  int ovf = 0;
  size_t lv = ((size_t)n + 3) & ~(size_t)3;
  size_t l0 = i2v_mul_size(i2v_mul_size(n, (size_t)(2 * M + 1), &ovf), 4, &ovf);
  size_t up = i2v_mul_size(i2v_mul_size(nupper, (size_t)(M + 1), &ovf), 4, &ovf);
  if (ovf) return 0;
  *off_links0 = I2V_HNSW_HEADER + lv;
  *off_upper = *off_links0 + l0;
  if (*off_upper < l0 || *off_upper + up < up) return 0;
  return *off_upper + up;
}

/* Point the arrays into the blob and compute upper_first from the levels. */
static int attach_arrays(i2v_hnsw *h) {
  size_t off0 = 0, offu = 0;
  size_t nup = 0;
  h->levels = h->blob + I2V_HNSW_HEADER;
  for (uint32_t i = 0; i < h->n; i++) nup += h->levels[i];
  h->nupper = nup;
  if (layout(h->n, h->M, nup, &off0, &offu) != h->len) return I2V_ERROR;
  h->links0 = (uint32_t *)(void *)(h->blob + off0);
  h->upper = (uint32_t *)(void *)(h->blob + offu);
  int ovf = 0;
  h->upper_first = i2v_malloc(h->alloc, i2v_mul_size(h->n, sizeof(uint32_t), &ovf));
  if (!h->upper_first) return I2V_NOMEM;
  uint32_t at = 0;
  for (uint32_t i = 0; i < h->n; i++) {
    h->upper_first[i] = at;
    at += h->levels[i];
  }
  return I2V_OK;
}

static void write_header(i2v_hnsw *h) {
  unsigned char *b = h->blob;
  memset(b, 0, I2V_HNSW_HEADER);
  memcpy(b, I2V_HNSW_MAGIC, 8); /* 7 letters and the terminating zero */
  put32(b + 8, I2V_HNSW_VERSION);
  put32(b + 12, I2V_HNSW_HEADER);
  put32(b + 16, h->n);
  put32(b + 20, (uint32_t)h->dim);
  put32(b + 24, (uint32_t)h->M);
  put32(b + 28, (uint32_t)h->M0);
  put32(b + 32, (uint32_t)h->ef_construction);
  put32(b + 36, (uint32_t)h->ef_search);
  put32(b + 40, (uint32_t)h->max_level);
  put32(b + 44, h->entry);
  put64(b + 48, h->items_hash);
}

void i2v_hnsw_free(i2v_hnsw *h);

/* ---- search ----------------------------------------------------------- */

/* The rows a graph is searched over: the model's float rows, and their int8
** codes (i2v_vec_quantize_i8: a value is about code x unit), which the walk
** reads instead: a code row of a 64-float row is one cache line instead of
** four.  Approximate scores of the walk are dot(code, q * unit); the results
** are scored again exactly before anyone sees them. */
typedef struct rowset {
  const float *rows;
  size_t stride;
  int dim;
  const signed char *codes;
  size_t cstride; /* dim rounded up to 32 */
  float unit;
} rowset;

#define ROW(rs, i) ((rs)->rows + (size_t)(i) * (rs)->stride)

/* What one searching thread needs: a visited bit per item (and the list of
** those set, to clear them), the two heaps of a best-first search, room
** for one neighbour list, and scaled query vectors. */
typedef struct scratch {
  uint64_t *seen;    /* (n + 63) / 64 words */
  uint32_t *touched; /* items whose bit is set; grows */
  size_t ntouched, touched_cap;
  i2v_scored *res;     /* the beam: the best found so far, best first; ef + 1 */
  unsigned char *done; /* done[j]: res[j] has been expanded; ef + 1 */
  size_t nres, cap;
  const i2v_alloc *alloc;
  int nomem;            /* a heap or list could not grow */
  uint32_t *nbr, *todo; /* M0 + 1 each */
  float *nbr_score;
  uint32_t *sel;     /* selected neighbours, M0 + 1 */
  i2v_scored *prune; /* M0 + 1 */
  float *q1, *q2;    /* cstride floats each: scaled query vectors */
} scratch;

static void scratch_free(const i2v_alloc *a, scratch *s) {
  if (!s) return;
  i2v_free(a, s->seen);
  i2v_free(a, s->touched);
  i2v_free(a, s->done);
  i2v_free(a, s->res);
  i2v_free(a, s->nbr);
  i2v_free(a, s->todo);
  i2v_free(a, s->nbr_score);
  i2v_free(a, s->sel);
  i2v_free(a, s->prune);
  i2v_free(a, s->q1);
  i2v_free(a, s->q2);
  memset(s, 0, sizeof(*s));
}

static int scratch_init(const i2v_alloc *a, scratch *s, uint32_t n, int M0, size_t cstride) {
  size_t words = ((size_t)n + 63) / 64;
  memset(s, 0, sizeof(*s));
  s->alloc = a;
  s->seen = i2v_malloc(a, words * sizeof(uint64_t));
  s->touched_cap = 1024;
  s->touched = i2v_malloc(a, s->touched_cap * sizeof(uint32_t));
  s->nbr = i2v_malloc(a, (size_t)(M0 + 1) * sizeof(uint32_t));
  s->todo = i2v_malloc(a, (size_t)(M0 + 1) * sizeof(uint32_t));
  s->nbr_score = i2v_malloc(a, (size_t)(M0 + 8) * sizeof(float));
  s->sel = i2v_malloc(a, (size_t)(M0 + 1) * sizeof(uint32_t));
  s->prune = i2v_malloc(a, (size_t)(M0 + 1) * sizeof(i2v_scored));
  s->q1 = i2v_malloc(a, cstride * sizeof(float));
  s->q2 = i2v_malloc(a, cstride * sizeof(float));
  if (!s->seen || !s->touched || !s->nbr || !s->todo || !s->nbr_score || !s->sel || !s->prune ||
      !s->q1 || !s->q2) {
    scratch_free(a, s);
    return I2V_NOMEM;
  }
  memset(s->seen, 0, words * sizeof(uint64_t));
  return I2V_OK;
}

/* Room for a beam of ef + 1 entries. */
static int scratch_heaps(const i2v_alloc *a, scratch *s, size_t ef) {
  if (ef + 1 <= s->cap) return I2V_OK;
  int ovf = 0;
  size_t bytes = i2v_mul_size(ef + 1, sizeof(i2v_scored), &ovf);
  if (ovf) return I2V_NOMEM;
  i2v_scored *r = i2v_malloc(a, bytes);
  unsigned char *d = i2v_malloc(a, ef + 1);
  if (!r || !d) {
    i2v_free(a, r);
    i2v_free(a, d);
    return I2V_NOMEM;
  }
  i2v_free(a, s->res);
  i2v_free(a, s->done);
  s->res = r;
  s->done = d;
  s->cap = ef + 1;
  return I2V_OK;
}

/* Mark item e visited; 0 when it already was. */
static inline int visit(scratch *s, uint32_t e) {
  uint64_t bit = (uint64_t)1 << (e & 63);
  if (s->seen[e >> 6] & bit) return 0;
  if (s->ntouched == s->touched_cap) {
    uint32_t *t = i2v_malloc(s->alloc, 2 * s->touched_cap * sizeof(uint32_t));
    if (!t) {
      s->nomem = 1;
      return 0;
    }
    memcpy(t, s->touched, s->ntouched * sizeof(uint32_t));
    i2v_free(s->alloc, s->touched);
    s->touched = t;
    s->touched_cap *= 2;
  }
  s->seen[e >> 6] |= bit;
  s->touched[s->ntouched++] = e;
  return 1;
}

static void unvisit_all(scratch *s) {
  for (size_t i = 0; i < s->ntouched; i++) s->seen[s->touched[i] >> 6] = 0;
  s->ntouched = 0;
}

static inline int better(const i2v_scored *a, const i2v_scored *b) {
  return i2v_topk_better(a->score, a->index, b->score, b->index);
}

/* A binary heap whose top is the entry for which top_first(top, other)
** holds: better for the candidates, worse for the results. */
#define HEAP_FNS(NAME, TOP_FIRST)                                   \
  static void NAME##_push(i2v_scored *h, size_t *n, i2v_scored v) { \
    size_t i = (*n)++;                                              \
    while (i > 0) {                                                 \
      size_t p = (i - 1) / 2;                                       \
      if (!TOP_FIRST(&v, &h[p])) break;                             \
      h[i] = h[p];                                                  \
      i = p;                                                        \
    }                                                               \
    h[i] = v;                                                       \
  }                                                                 \
  static i2v_scored NAME##_pop(i2v_scored *h, size_t *n) {          \
    i2v_scored top = h[0], last = h[--(*n)];                        \
    size_t i = 0, m = *n;                                           \
    for (;;) {                                                      \
      size_t l = 2 * i + 1, r = l + 1, c = i;                       \
      const i2v_scored *best = &last;                               \
      if (l < m && TOP_FIRST(&h[l], best)) c = l, best = &h[l];     \
      if (r < m && TOP_FIRST(&h[r], best)) c = r;                   \
      if (c == i) break;                                            \
      h[i] = h[c];                                                  \
      i = c;                                                        \
    }                                                               \
    if (m) h[i] = last;                                             \
    return top;                                                     \
  }

#define WORSE(a, b) better(b, a)
HEAP_FNS(res, WORSE)

/* Sort a result heap of n entries best first, in place. */
static void sort_results(i2v_scored *r, size_t n) {
  for (size_t m = n; m > 1;) {
    i2v_scored worst = res_pop(r, &m);
    r[m] = worst;
  }
}

/* Spin locks on a striped table, for the lists of a graph being built by
** several threads; lock == NULL when one thread builds. */
static inline void lock_node(unsigned char *locks, uint32_t i) {
  if (!locks) return;
  unsigned char *l = &locks[i & (LOCK_STRIPES - 1)];
  int spins = 0;
  while (__atomic_test_and_set(l, __ATOMIC_ACQUIRE)) {
    while (__atomic_load_n(l, __ATOMIC_RELAXED)) {
      if (++spins > 256) {
        sched_yield();
        spins = 0;
      }
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
    }
  }
}
static inline void unlock_node(unsigned char *locks, uint32_t i) {
  if (locks) __atomic_clear(&locks[i & (LOCK_STRIPES - 1)], __ATOMIC_RELEASE);
}

/* Copy the list of item i on a level into s->nbr; returns its length. */
static size_t read_list(const i2v_hnsw *h, unsigned char *locks, scratch *s, uint32_t i,
                        int level) {
  const uint32_t *l = list_at(h, i, level);
  lock_node(locks, i);
  size_t cnt = l[0];
  memcpy(s->nbr, l + 1, cnt * sizeof(uint32_t));
  unlock_node(locks, i);
  return cnt;
}

/* q as the scoring below wants it: rearranged and scaled for the int8
** kernel (cstride floats), or as it is when the rowset has no codes. */
static const float *scale_query(const rowset *rs, const float *q, float *qs) {
  if (!rs->codes) return q;
  i2v_vec_i8_query(q, rs->dim, rs->unit, rs->cstride, qs);
  return qs;
}

/* Scores of rows idx[0..n): from the codes (the build) or exact (queries). */
static inline void approx_scores(const rowset *rs, const uint32_t *idx, size_t n, const float *qs,
                                 float *out) {
  if (rs->codes)
    i2v_vec_scores_i8(rs->codes, rs->cstride, idx, n, qs, out);
  else
    i2v_vec_scores_idx(rs->rows, rs->stride, idx, n, qs, rs->dim, out);
}

/* Greedy walk on one level from *cur to a local best (approximate scores). */
static void greedy(const i2v_hnsw *h, unsigned char *locks, scratch *s, const rowset *rs,
                   const float *qs, i2v_scored *cur, int level) {
  int moved = 1;
  while (moved) {
    moved = 0;
    size_t cnt = read_list(h, locks, s, cur->index, level);
    approx_scores(rs, s->nbr, cnt, qs, s->nbr_score);
    for (size_t j = 0; j < cnt; j++) {
      i2v_scored e = {s->nbr_score[j], s->nbr[j]};
      if (better(&e, cur)) {
        *cur = e;
        moved = 1;
      }
    }
  }
}

/* Best-first search of width ef on one level from the entry ep
** (approximate scores).  The beam s->res holds the best ef items found so
** far, best first, each marked once its list has been read; the search
** reads the list of the best unread one until every one is read.  (The
** usual queue of candidates and heap of results, as one sorted array: a
** newcomer worse than the worst kept is dropped, as it would never have been
** expanded.)  Leaves the results in s->res, best first; returns how many. */
static size_t search_level_from(const i2v_hnsw *h, unsigned char *locks, scratch *s,
                                const rowset *rs, const float *qs, const i2v_scored *eps,
                                size_t neps, size_t ef, int level) {
  i2v_scored *beam = s->res;
  unsigned char *done = s->done;
  size_t nb = 0, next = 0;
  /* The entries, best first (the few there are: insertion). */
  for (size_t t = 0; t < neps; t++) {
    if (!visit(s, eps[t].index)) continue;
    size_t at;
    if (nb < ef) {
      at = nb++;
    } else {
      if (!better(&eps[t], &beam[ef - 1])) continue;
      at = ef - 1;
    }
    while (at > 0 && better(&eps[t], &beam[at - 1])) {
      beam[at] = beam[at - 1];
      done[at] = done[at - 1];
      at--;
    }
    beam[at] = eps[t];
    done[at] = 0;
  }
  while (next < nb && !s->nomem) {
    uint32_t c = beam[next].index;
    done[next] = 1;
    size_t cnt = read_list(h, locks, s, c, level), nt = 0;
    for (size_t j = 0; j < cnt; j++)
      if (visit(s, s->nbr[j])) s->todo[nt++] = s->nbr[j];
    approx_scores(rs, s->todo, nt, qs, s->nbr_score);
    for (size_t j = 0; j < nt; j++) {
      i2v_scored e = {s->nbr_score[j], s->todo[j]};
      if (nb == ef && !better(&e, &beam[nb - 1])) continue;
      /* Its place: after every entry better than it. */
      size_t lo = 0, hi = nb;
      while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (better(&beam[mid], &e))
          lo = mid + 1;
        else
          hi = mid;
      }
      size_t move = (nb == ef ? nb - 1 : nb) - lo;
      memmove(beam + lo + 1, beam + lo, move * sizeof(i2v_scored));
      memmove(done + lo + 1, done + lo, move);
      beam[lo] = e;
      done[lo] = 0;
      if (nb < ef) nb++;
      if (lo < next) next = lo;
    }
    while (next < nb && done[next]) next++;
    /* The next list to read: start fetching it. */
    if (next < nb) __builtin_prefetch(list_at(h, beam[next].index, level));
  }
  unvisit_all(s);
  s->nres = nb;
  return nb;
}

static size_t search_level(const i2v_hnsw *h, unsigned char *locks, scratch *s, const rowset *rs,
                           const float *qs, i2v_scored ep, size_t ef, int level) {
  return search_level_from(h, locks, s, rs, qs, &ep, 1, ef, level);
}

/* The int8 codes of the rows (core/vec.h's quantiser: one scale for all,
** the largest |value| maps to 127). */
static int make_codes(i2v_hnsw *h, const float *rows, size_t stride) {
  int ovf = 0;
  size_t cstride = i2v_code_stride(h->dim);
  signed char *codes = i2v_malloc(h->alloc, i2v_mul_size(h->n, cstride, &ovf));
  if (!codes || ovf) {
    i2v_free(h->alloc, codes);
    return I2V_NOMEM;
  }
  float max = i2v_vec_max_abs(rows, stride, h->n, h->dim);
  h->unit = i2v_vec_quantize_i8(rows, stride, h->n, h->dim, max, codes, cstride);
  h->codes = codes;
  h->cstride = cstride;
  return I2V_OK;
}

static rowset rows_of(const i2v_hnsw *h, const float *rows, size_t stride, int dim) {
  rowset rs = {rows, stride, dim, h->codes, h->cstride, h->unit};
  return rs;
}

int i2v_hnsw_search_from(i2v_hnsw *h, const float *rows, size_t stride, int dim, const float *q,
                         const uint32_t *from, size_t nfrom, size_t ef, i2v_scored **found,
                         size_t *nfound) {
  *found = NULL;
  *nfound = 0;
  if (h->n == 0) return I2V_OK;
  if (!h->qs) {
    scratch *s = i2v_malloc(h->alloc, sizeof(*s));
    if (!s) return I2V_NOMEM;
    if (scratch_init(h->alloc, s, h->n, h->M0, 32) != I2V_OK) {
      i2v_free(h->alloc, s);
      return I2V_NOMEM;
    }
    h->qs = s;
  }
  if (ef < 1) ef = 1;
  if (scratch_heaps(h->alloc, h->qs, ef) != I2V_OK) return I2V_NOMEM;
  scratch *s = h->qs;
  /* Queries walk the float rows: on 1M x 64 the int8 codes the build walks
  ** saved no measurable query time. */
  rowset rs = {rows, stride, dim, NULL, 0, 1.0f};
  const float *qs = q;
  /* The entries: the rows given (at most HNSW_MAX_FROM), and unless there
  ** is just one, where the greedy walk down from the top ends.  One row is
  ** a one-item query, whose neighbourhood is where that walk would end. */
  i2v_scored eps[HNSW_MAX_FROM + 1];
  uint32_t ids[HNSW_MAX_FROM + 1];
  size_t neps = 0;
  for (size_t t = 0; t < nfrom && neps < HNSW_MAX_FROM; t++)
    if (from[t] < h->n) ids[neps++] = from[t];
  if (neps != 1) {
    i2v_scored cur = {0.0f, h->entry};
    approx_scores(&rs, &cur.index, 1, qs, &cur.score);
    for (int l = h->max_level; l > 0; l--) greedy(h, NULL, s, &rs, qs, &cur, l);
    ids[neps++] = cur.index;
  }
  float sc[HNSW_MAX_FROM + 1];
  approx_scores(&rs, ids, neps, qs, sc);
  for (size_t t = 0; t < neps; t++) {
    eps[t].index = ids[t];
    eps[t].score = sc[t];
  }
  size_t nf = search_level_from(h, NULL, s, &rs, qs, eps, neps, ef, 0);
  if (s->nomem) {
    s->nomem = 0;
    return I2V_NOMEM;
  }
  *found = s->res;
  *nfound = nf;
  return I2V_OK;
}

/* ---- build ------------------------------------------------------------ */

typedef struct builder {
  i2v_hnsw *h;
  rowset rs;
  unsigned char *locks;     /* NULL with one thread */
  pthread_mutex_t top_lock; /* entry point and top level */
  uint32_t next;            /* next row to insert (atomic) */
  int cancel;               /* atomic */
  int nomem;                /* atomic */
  i2v_hnsw_poll poll;
  void *poll_ctx;
} builder;

typedef struct worker {
  builder *b;
  scratch s;
  int id;
  pthread_t thread;
  int started;
} worker;

/* The heuristic: from cand[0..nc) (best first, scored against the item the
** list belongs to) keep up to m, each only when it is closer to that item
** than to every one kept before.  Returns how many, in s->sel. */
static size_t select_neighbours(const rowset *rs, scratch *s, const i2v_scored *cand, size_t nc,
                                size_t m) {
  size_t kept = 0;
  float sims[136];
  for (size_t c = 0; c < nc && kept < m; c++) {
    int good = 1;
    if (kept) {
      /* Exact dots: the kept rows stay in cache from one candidate to the
      ** next, and the candidate's row needs no rearranging. */
      i2v_vec_scores_idx(rs->rows, rs->stride, s->sel, kept, ROW(rs, cand[c].index), rs->dim, sims);
      for (size_t r = 0; r < kept; r++)
        if (sims[r] > cand[c].score) {
          good = 0;
          break;
        }
    }
    if (good) s->sel[kept++] = cand[c].index;
  }
  return kept;
}

/* Add link j -> i on a level; a full list is pruned again. */
static void link_to(builder *b, scratch *s, uint32_t j, uint32_t i, int level) {
  i2v_hnsw *h = b->h;
  size_t mmax = level ? (size_t)h->M : (size_t)h->M0;
  lock_node(b->locks, j);
  uint32_t *l = list_at(h, j, level);
  size_t cnt = l[0];
  int present = 0;
  for (size_t t = 0; t < cnt; t++) present |= l[1 + t] == i;
  if (!present) {
    if (cnt < mmax) {
      l[1 + cnt] = i;
      l[0] = (uint32_t)(cnt + 1);
    } else {
      for (size_t t = 0; t < cnt; t++) s->todo[t] = l[1 + t];
      s->todo[cnt] = i;
      const float *jq = scale_query(&b->rs, ROW(&b->rs, j), s->q2);
      approx_scores(&b->rs, s->todo, cnt + 1, jq, s->nbr_score);
      for (size_t t = 0; t <= cnt; t++) {
        s->prune[t].score = s->nbr_score[t];
        s->prune[t].index = s->todo[t];
      }
      /* Best first: a heap of what was scored, then sorted. */
      size_t np = 0;
      for (size_t t = 0; t <= cnt; t++) {
        i2v_scored e = s->prune[t];
        res_push(s->prune, &np, e);
      }
      sort_results(s->prune, np);
      size_t kept = select_neighbours(&b->rs, s, s->prune, cnt + 1, mmax);
      memcpy(l + 1, s->sel, kept * sizeof(uint32_t));
      l[0] = (uint32_t)kept;
    }
  }
  unlock_node(b->locks, j);
}

static void insert_item(builder *b, scratch *s, uint32_t i) {
  i2v_hnsw *h = b->h;
  int level = h->levels[i];
  pthread_mutex_lock(&b->top_lock);
  int top = h->max_level;
  uint32_t entry = h->entry;
  int raises = level > top;
  if (!raises) pthread_mutex_unlock(&b->top_lock);

  const float *q = scale_query(&b->rs, ROW(&b->rs, i), s->q1);
  i2v_scored cur = {0.0f, entry};
  approx_scores(&b->rs, &cur.index, 1, q, &cur.score);
  for (int l = top; l > level; l--) greedy(h, b->locks, s, &b->rs, q, &cur, l);
  for (int l = level < top ? level : top; l >= 0; l--) {
    size_t nf = search_level(h, b->locks, s, &b->rs, q, cur, (size_t)h->ef_construction, l);
    /* Never link an item to itself (another thread may have linked it). */
    size_t w = 0;
    for (size_t t = 0; t < nf; t++)
      if (s->res[t].index != i) s->res[w++] = s->res[t];
    nf = w;
    if (nf == 0) continue;
    cur = s->res[0];
    size_t kept = select_neighbours(&b->rs, s, s->res, nf, (size_t)h->M);
    uint32_t *l0 = list_at(h, i, l);
    lock_node(b->locks, i);
    memcpy(l0 + 1, s->sel, kept * sizeof(uint32_t));
    l0[0] = (uint32_t)kept;
    unlock_node(b->locks, i);
    /* s->sel is reused by link_to's pruning: keep a copy of the list. */
    uint32_t mine[130];
    memcpy(mine, s->sel, kept * sizeof(uint32_t));
    for (size_t t = 0; t < kept; t++) link_to(b, s, mine[t], i, l);
  }
  if (raises) {
    h->max_level = level;
    h->entry = i;
    pthread_mutex_unlock(&b->top_lock);
  }
}

static void *work(void *arg) {
  worker *w = arg;
  builder *b = w->b;
  uint32_t n = b->h->n, mine = 0;
  for (;;) {
    if (__atomic_load_n(&b->cancel, __ATOMIC_RELAXED)) break;
    uint32_t i = __atomic_fetch_add(&b->next, 1, __ATOMIC_RELAXED);
    if (i >= n) break;
    insert_item(b, &w->s, i);
    if (w->s.nomem) {
      __atomic_store_n(&b->nomem, 1, __ATOMIC_RELAXED);
      __atomic_store_n(&b->cancel, 1, __ATOMIC_RELAXED);
    }
    if (w->id == 0 && b->poll && (++mine & 255) == 0 && b->poll(b->poll_ctx, i < n ? i : n, n))
      __atomic_store_n(&b->cancel, 1, __ATOMIC_RELAXED);
  }
  return NULL;
}

/* splitmix64: the level draws. */
static uint64_t next_random(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

int i2v_hnsw_build(const i2v_hnsw_params *p, const float *rows, size_t stride, int dim, uint32_t n,
                   uint64_t items_hash, const i2v_alloc *a, i2v_hnsw_poll poll, void *poll_ctx,
                   i2v_hnsw **out, char *err, size_t errlen) {
  i2v_hnsw *h = NULL;
  builder b;
  worker *ws = NULL;
  int rc = I2V_NOMEM, nthreads = p->threads;
  *out = NULL;
  memset(&b, 0, sizeof(b));
  if (n == 0 || p->M < 2 || p->M > 64 || dim < 1) {
    snprintf(err, errlen, "cannot index %u items with M=%d", n, p->M);
    return I2V_ERROR;
  }
  h = i2v_malloc(a, sizeof(*h));
  if (!h) goto nomem;
  memset(h, 0, sizeof(*h));
  h->alloc = a;
  h->n = n;
  h->dim = dim;
  h->M = p->M;
  h->M0 = 2 * p->M;
  h->ef_construction = p->ef_construction;
  h->ef_search = p->ef_search;
  h->items_hash = items_hash;

  /* Levels first, so the whole graph is one allocation. */
  uint8_t *levels = i2v_malloc(a, n);
  if (!levels) goto nomem;
  uint64_t rng = (uint64_t)p->seed * 0x9e3779b97f4a7c15ULL + 1;
  double mult = 1.0 / log((double)p->M);
  size_t nup = 0;
  int top = 0;
  for (uint32_t i = 0; i < n; i++) {
    double u = ((double)(next_random(&rng) >> 11) + 0.5) * 0x1p-53;
    double l = -log(u) * mult;
    int lv = l >= MAX_LEVEL ? MAX_LEVEL : (int)l;
    levels[i] = (uint8_t)lv;
    nup += (size_t)lv;
    if (lv > top) top = lv;
  }
  size_t off0, offu;
  h->len = layout(n, p->M, nup, &off0, &offu);
  if (h->len) h->blob = i2v_malloc(a, h->len);
  if (!h->blob) {
    i2v_free(a, levels);
    goto nomem;
  }
  memset(h->blob, 0, h->len);
  memcpy(h->blob + I2V_HNSW_HEADER, levels, n);
  i2v_free(a, levels);
  if (attach_arrays(h) != I2V_OK) goto nomem;

  /* Item 0 is the first entry point; the others are inserted by the
  ** workers in row order. */
  h->entry = 0;
  h->max_level = h->levels[0];
  if (make_codes(h, rows, stride) != I2V_OK) goto nomem;

  b.h = h;
  b.rs = rows_of(h, rows, stride, dim);
  b.next = 1;
  b.poll = poll;
  b.poll_ctx = poll_ctx;
  if (nthreads > 1 && n < 4096) nthreads = 1; /* not worth the threads */
  if (nthreads > 1) {
    b.locks = i2v_malloc(a, LOCK_STRIPES);
    if (!b.locks) goto nomem;
    memset(b.locks, 0, LOCK_STRIPES);
  }
  pthread_mutex_init(&b.top_lock, NULL);
  ws = i2v_malloc(a, (size_t)nthreads * sizeof(worker));
  if (!ws) goto nomem_mutex;
  memset(ws, 0, (size_t)nthreads * sizeof(worker));
  for (int t = 0; t < nthreads; t++) {
    ws[t].b = &b;
    ws[t].id = t;
    if (scratch_init(a, &ws[t].s, n, h->M0, h->cstride) != I2V_OK ||
        scratch_heaps(a, &ws[t].s, (size_t)h->ef_construction) != I2V_OK) {
      for (int u = 0; u <= t; u++) scratch_free(a, &ws[u].s);
      goto nomem_mutex;
    }
  }
  for (int t = 1; t < nthreads; t++)
    ws[t].started = pthread_create(&ws[t].thread, NULL, work, &ws[t]) == 0;
  work(&ws[0]);
  for (int t = 1; t < nthreads; t++)
    if (ws[t].started) pthread_join(ws[t].thread, NULL);

  for (int t = 0; t < nthreads; t++) scratch_free(a, &ws[t].s);
  i2v_free(a, ws);
  i2v_free(a, h->codes); /* queries walk the float rows */
  h->codes = NULL;
  pthread_mutex_destroy(&b.top_lock);
  i2v_free(a, b.locks);
  if (b.nomem) {
    i2v_hnsw_free(h);
    snprintf(err, errlen, "out of memory");
    return I2V_NOMEM;
  }
  if (b.cancel) {
    i2v_hnsw_free(h);
    snprintf(err, errlen, "interrupted");
    return I2V_CANCELLED;
  }
  write_header(h);
  put64(h->blob + 56, i2v_hnsw_checksum(h->blob, h->len));
  *out = h;
  return I2V_OK;

nomem_mutex:
  pthread_mutex_destroy(&b.top_lock);
nomem:
  i2v_free(a, ws);
  i2v_free(a, b.locks);
  i2v_hnsw_free(h);
  snprintf(err, errlen, "out of memory");
  return rc;
}

/* ---- load ------------------------------------------------------------- */

static int corrupt(char *err, size_t errlen, const char *what) {
  snprintf(err, errlen, "%s", what);
  return I2V_ERROR;
}

int i2v_hnsw_load(unsigned char *blob, size_t len, uint32_t n, int dim, uint64_t items_hash,
                  const i2v_alloc *a, i2v_hnsw **out, char *err, size_t errlen) {
  i2v_hnsw *h = NULL;
  int rc;
  *out = NULL;
  if (len < I2V_HNSW_HEADER || memcmp(blob, I2V_HNSW_MAGIC, 8) != 0) {
    rc = corrupt(err, errlen, "not an item2vec index (bad magic number)");
    goto fail;
  }
  if (get32(blob + 8) != I2V_HNSW_VERSION || get32(blob + 12) != I2V_HNSW_HEADER) {
    snprintf(err, errlen, "index format version %u is not supported (this is version %d)",
             get32(blob + 8), I2V_HNSW_VERSION);
    rc = I2V_ERROR;
    goto fail;
  }
  if (get64(blob + 56) != i2v_hnsw_checksum(blob, len)) {
    rc = corrupt(err, errlen, "checksum mismatch");
    goto fail;
  }
  uint32_t hn = get32(blob + 16), hdim = get32(blob + 20);
  if (hn != n || hdim != (uint32_t)dim || get64(blob + 48) != items_hash) {
    snprintf(err, errlen,
             "the index is for %u items of dimension %u; the model has %u of dimension %d%s", hn,
             hdim, n, dim, hn == n && hdim == (uint32_t)dim ? ", other items" : "");
    rc = I2V_HNSW_STALE;
    goto fail;
  }
  h = i2v_malloc(a, sizeof(*h));
  if (!h) {
    rc = I2V_NOMEM;
    goto fail;
  }
  memset(h, 0, sizeof(*h));
  h->alloc = a;
  h->blob = blob;
  blob = NULL;
  h->len = len;
  h->n = n;
  h->dim = dim;
  h->M = (int)get32(h->blob + 24);
  h->M0 = (int)get32(h->blob + 28);
  h->ef_construction = (int)get32(h->blob + 32);
  h->ef_search = (int)get32(h->blob + 36);
  h->max_level = (int)get32(h->blob + 40);
  h->entry = get32(h->blob + 44);
  h->items_hash = items_hash;
  if (h->M < 2 || h->M > 64 || h->M0 != 2 * h->M || h->ef_search < 1 || h->ef_search > 100000 ||
      h->max_level < 0 || h->max_level > MAX_LEVEL || n == 0 || h->entry >= n ||
      len < I2V_HNSW_HEADER + (size_t)n) {
    rc = corrupt(err, errlen, "invalid header fields");
    goto fail;
  }
  for (uint32_t i = 0; i < n; i++)
    if (h->blob[I2V_HNSW_HEADER + i] > h->max_level) {
      rc = corrupt(err, errlen, "an item's level is above the top level");
      goto fail;
    }
  if (h->blob[I2V_HNSW_HEADER + h->entry] != h->max_level) {
    rc = corrupt(err, errlen, "the entry point is not on the top level");
    goto fail;
  }
  rc = attach_arrays(h);
  if (rc == I2V_ERROR) {
    rc = corrupt(err, errlen, "its length does not match its levels");
    goto fail;
  }
  if (rc != I2V_OK) goto fail;
  i2v_hnsw_from_le(h);
  for (uint32_t i = 0; i < n; i++) {
    for (int l = 0; l <= h->levels[i]; l++) {
      const uint32_t *lst = list_at(h, i, l);
      uint32_t cnt = lst[0];
      if (cnt > (uint32_t)(l ? h->M : h->M0)) {
        rc = corrupt(err, errlen, "a neighbour list is longer than its bound");
        goto fail;
      }
      for (uint32_t t = 0; t < cnt; t++)
        if (lst[1 + t] >= n || h->levels[lst[1 + t]] < l) {
          rc = corrupt(err, errlen, "a neighbour is not an item of the model on that level");
          goto fail;
        }
    }
  }
  *out = h;
  return I2V_OK;

fail:
  if (rc == I2V_NOMEM) snprintf(err, errlen, "out of memory");
  i2v_free(a, blob);
  i2v_hnsw_free(h);
  return rc;
}

/* ---- the rest --------------------------------------------------------- */

const unsigned char *i2v_hnsw_bytes(const i2v_hnsw *h, size_t *len) {
  *len = h->len;
  return h->blob;
}

int i2v_hnsw_ef_search(const i2v_hnsw *h) {
  return h->ef_search;
}
int i2v_hnsw_max_level(const i2v_hnsw *h) {
  return h->max_level;
}

void i2v_hnsw_free(i2v_hnsw *h) {
  if (!h) return;
  if (h->qs) {
    scratch_free(h->alloc, h->qs);
    i2v_free(h->alloc, h->qs);
  }
  i2v_free(h->alloc, h->upper_first);
  i2v_free(h->alloc, h->codes);
  i2v_free(h->alloc, h->blob);
  i2v_free(h->alloc, h);
}
