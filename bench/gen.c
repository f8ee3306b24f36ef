/*
** bench/gen.c: writes a synthetic interaction table with planted clusters
** straight into a SQLite database, for `make bench`.
**
** Usage:
**   build/bench_gen DB EVENTS ITEMS USERS [options]
**     --cluster-size N  items per planted cluster (100)
**     --noise P         share of events drawn from global popularity (0.4)
**     --switch P        chance per event that a user moves to another cluster (0.1)
**     --zipf S          popularity exponent (1.0)
**     --min-length N    shortest user history (5)
**     --seed N          (1)
** Tables written (replaced when present):
**   events(user INTEGER, item INTEGER, ts INTEGER)   one row per event
**   clusters(item INTEGER PRIMARY KEY, cluster INTEGER)
**
** How it works.  Items are numbered 1..ITEMS; item i belongs to cluster
** (i-1)/cluster_size.  Each item gets a popularity weight 1/(r+10)^S for a
** random rank r, so popularity is Zipf-like and unrelated to the clusters.
** History lengths are min_length plus a share of the remaining events
** proportional to a Pareto(1.2) draw, so a few users are very active, as in
** MovieLens.  A user starts in a cluster picked by popularity; each event
** either switches cluster, or is noise (an item by global popularity), or is
** an item of the current cluster by popularity: the sequences carry the
** clusters in their windows, and purity at k measures how much of that a
** model recovers.  Draws use alias tables and a splitmix64 stream, so the
** output depends only on the arguments.  Rows are written in user order with
** increasing timestamps within a user, in one transaction with the journal
** off (this is scratch data).
*/
#include <math.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct gen_rng {
  uint64_t s;
} gen_rng;

static uint64_t rng_u64(gen_rng *r) {
  uint64_t z = (r->s += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

static double rng_unit(gen_rng *r) { /* [0, 1) */
  return (double)(rng_u64(r) >> 11) * (1.0 / 9007199254740992.0);
}

static uint64_t rng_below(gen_rng *r, uint64_t n) {
  return (uint64_t)(((unsigned __int128)rng_u64(r) * n) >> 64);
}

/* Walker's alias method over n weights. */
typedef struct gen_alias {
  uint32_t n;
  double *prob;
  uint32_t *alias;
} gen_alias;

static int alias_build(gen_alias *t, const double *w, uint32_t n) {
  double total = 0;
  uint32_t *small = malloc(sizeof(uint32_t) * n), *large = malloc(sizeof(uint32_t) * n);
  t->n = n;
  t->prob = malloc(sizeof(double) * n);
  t->alias = malloc(sizeof(uint32_t) * n);
  if (!small || !large || !t->prob || !t->alias) {
    free(small);
    free(large);
    return 1;
  }
  for (uint32_t i = 0; i < n; i++) total += w[i];
  uint32_t ns = 0, nl = 0;
  for (uint32_t i = 0; i < n; i++) {
    t->prob[i] = w[i] * n / total;
    t->alias[i] = i;
    if (t->prob[i] < 1.0)
      small[ns++] = i;
    else
      large[nl++] = i;
  }
  while (ns && nl) {
    uint32_t s = small[--ns], l = large[nl - 1];
    t->alias[s] = l;
    t->prob[l] -= 1.0 - t->prob[s];
    if (t->prob[l] < 1.0) {
      nl--;
      small[ns++] = l;
    }
  }
  while (nl) t->prob[large[--nl]] = 1.0;
  while (ns) t->prob[small[--ns]] = 1.0;
  free(small);
  free(large);
  return 0;
}

static uint32_t alias_draw(const gen_alias *t, gen_rng *r) {
  uint32_t i = (uint32_t)rng_below(r, t->n);
  return rng_unit(r) < t->prob[i] ? i : t->alias[i];
}

static void alias_free(gen_alias *t) {
  free(t->prob);
  free(t->alias);
}

static int exec(sqlite3 *db, const char *sql) {
  char *err = NULL;
  if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
    fprintf(stderr, "bench_gen: %s: %s\n", sql, err ? err : "?");
    sqlite3_free(err);
    return 1;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: %s DB EVENTS ITEMS USERS [--cluster-size N] [--noise P] "
                    "[--switch P] [--zipf S] [--min-length N] [--seed N]\n", argv[0]);
    return 2;
  }
  const char *path = argv[1];
  uint64_t events = strtoull(argv[2], NULL, 10);
  uint32_t items = (uint32_t)strtoul(argv[3], NULL, 10);
  uint32_t users = (uint32_t)strtoul(argv[4], NULL, 10);
  uint32_t csize = 100, min_len = 5;
  double noise = 0.4, sw = 0.1, zipf = 1.0;
  uint64_t seed = 1;
  for (int i = 5; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--cluster-size")) csize = (uint32_t)atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--noise")) noise = atof(argv[i + 1]);
    else if (!strcmp(argv[i], "--switch")) sw = atof(argv[i + 1]);
    else if (!strcmp(argv[i], "--zipf")) zipf = atof(argv[i + 1]);
    else if (!strcmp(argv[i], "--min-length")) min_len = (uint32_t)atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--seed")) seed = strtoull(argv[i + 1], NULL, 10);
    else {
      fprintf(stderr, "bench_gen: unknown option %s\n", argv[i]);
      return 2;
    }
  }
  if (!items || !users || !csize || (uint64_t)users * min_len > events) {
    fprintf(stderr, "bench_gen: need items, users > 0 and users*min_length <= events\n");
    return 2;
  }
  gen_rng r = {seed * 0x2545F4914F6CDD1DULL + 7};
  uint32_t nclusters = (items + csize - 1) / csize;

  /* Popularity: a random rank per item (Fisher-Yates), weight 1/(r+10)^s. */
  double *w = malloc(sizeof(double) * items);
  uint32_t *rank = malloc(sizeof(uint32_t) * items);
  double *cw = calloc(nclusters, sizeof(double));
  double *uw = malloc(sizeof(double) * users);
  gen_alias *per_cluster = calloc(nclusters, sizeof(gen_alias));
  gen_alias global = {0}, clusters = {0};
  if (!w || !rank || !cw || !uw || !per_cluster) {
    fprintf(stderr, "bench_gen: out of memory\n");
    return 1;
  }
  for (uint32_t i = 0; i < items; i++) rank[i] = i;
  for (uint32_t i = items - 1; i > 0; i--) {
    uint32_t j = (uint32_t)rng_below(&r, (uint64_t)i + 1);
    uint32_t t = rank[i];
    rank[i] = rank[j];
    rank[j] = t;
  }
  for (uint32_t i = 0; i < items; i++) {
    w[i] = pow((double)rank[i] + 10.0, -zipf);
    cw[i / csize] += w[i];
  }
  if (alias_build(&global, w, items) || alias_build(&clusters, cw, nclusters)) return 1;
  for (uint32_t c = 0; c < nclusters; c++) {
    uint32_t lo = c * csize, n = lo + csize <= items ? csize : items - lo;
    if (alias_build(&per_cluster[c], w + lo, n)) return 1;
  }

  /* History lengths: min_len + Pareto(1.2) shares of the rest, capped. */
  double total_w = 0;
  for (uint32_t u = 0; u < users; u++) {
    double x = pow(1.0 - rng_unit(&r), -1.0 / 1.2);
    if (x > 1000.0) x = 1000.0;
    uw[u] = x;
    total_w += x;
  }
  uint64_t rest = events - (uint64_t)users * min_len, given = 0;

  sqlite3 *db = NULL;
  sqlite3_stmt *ins = NULL;
  if (sqlite3_open(path, &db) != SQLITE_OK) {
    fprintf(stderr, "bench_gen: cannot open %s\n", path);
    return 1;
  }
  if (exec(db, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; "
               "DROP TABLE IF EXISTS events; DROP TABLE IF EXISTS clusters; "
               "CREATE TABLE events(user INTEGER, item INTEGER, ts INTEGER); "
               "CREATE TABLE clusters(item INTEGER PRIMARY KEY, cluster INTEGER); "
               "BEGIN"))
    return 1;
  if (sqlite3_prepare_v2(db, "INSERT INTO clusters VALUES(?1, ?2)", -1, &ins, NULL))
    return 1;
  for (uint32_t i = 0; i < items; i++) {
    sqlite3_bind_int64(ins, 1, (sqlite3_int64)i + 1);
    sqlite3_bind_int64(ins, 2, (sqlite3_int64)(i / csize));
    sqlite3_step(ins);
    sqlite3_reset(ins);
  }
  sqlite3_finalize(ins);
  if (sqlite3_prepare_v2(db, "INSERT INTO events VALUES(?1, ?2, ?3)", -1, &ins, NULL))
    return 1;
  uint64_t written = 0;
  for (uint32_t u = 0; u < users; u++) {
    uint64_t extra = u + 1 == users ? rest - given
                                    : (uint64_t)((double)rest * uw[u] / total_w);
    if (given + extra > rest) extra = rest - given;
    given += extra;
    uint64_t len = min_len + extra;
    uint32_t c = alias_draw(&clusters, &r);
    int64_t ts = 1000000000 + (int64_t)rng_below(&r, 400000000);
    for (uint64_t k = 0; k < len; k++) {
      uint32_t it;
      if (rng_unit(&r) < sw) c = alias_draw(&clusters, &r);
      if (rng_unit(&r) < noise)
        it = alias_draw(&global, &r);
      else
        it = c * csize + alias_draw(&per_cluster[c], &r);
      ts += 1 + (int64_t)rng_below(&r, 5000);
      sqlite3_bind_int64(ins, 1, (sqlite3_int64)u + 1);
      sqlite3_bind_int64(ins, 2, (sqlite3_int64)it + 1);
      sqlite3_bind_int64(ins, 3, ts);
      if (sqlite3_step(ins) != SQLITE_DONE) {
        fprintf(stderr, "bench_gen: insert failed: %s\n", sqlite3_errmsg(db));
        return 1;
      }
      sqlite3_reset(ins);
      written++;
    }
  }
  sqlite3_finalize(ins);
  if (exec(db, "COMMIT")) return 1;
  sqlite3_close(db);
  printf("{\"events\":%llu,\"items\":%u,\"users\":%u,\"clusters\":%u}\n",
         (unsigned long long)written, items, users, nclusters);
  for (uint32_t c = 0; c < nclusters; c++) alias_free(&per_cluster[c]);
  alias_free(&global);
  alias_free(&clusters);
  free(per_cluster);
  free(w);
  free(rank);
  free(cw);
  free(uw);
  return 0;
}
