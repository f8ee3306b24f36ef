/*
** test_core.c: unit tests of item2vec's core modules, linked without SQLite:
** options (i2v_options), vocabulary (i2v_vocab), the corpus built from a
** scan's rows (i2v_corpus), the negative-sampling alias table and the trainer
** (i2v_train), top-k selection (i2v_topk), the query filter (i2v_filter), the
** JSON id parser (i2v_json) and the vector kernels (i2v_vec).
**
** Run: make build/test_core && build/test_core
** Prints one line per test, "ok - name" or "not ok - name: why", and exits
** non-zero when any test failed (the protocol of tests/run.sh).
**
** How it works.  Each test is a function that returns on the first failed
** expectation after writing why into a buffer; run() prints the verdict.
** Randomised tests draw from a seeded splitmix64 so every run sees the same
** data.  A counting allocator checks that nothing leaks, and a failing one
** (fails the n-th allocation, for every n until the call succeeds) checks that
** every error path gives back what it took and reports I2V_NOMEM.
*/
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/corpus.h"
#include "core/filter.h"
#include "core/json.h"
#include "core/options.h"
#include "core/topk.h"
#include "core/train.h"
#include "core/vec.h"
#include "core/vocab.h"

/* ---- harness ---------------------------------------------------------- */

static char why[1024];
static int failed_tests;

static void fail_at(int line, const char *fmt, ...) {
  va_list ap;
  int n = snprintf(why, sizeof(why), "line %d: ", line);
  va_start(ap, fmt);
  vsnprintf(why + n, sizeof(why) - (size_t)n, fmt, ap);
  va_end(ap);
}

/* Fail the running test (and return from it) unless cond holds. */
#define EXPECT(cond, ...)          \
  do {                             \
    if (!(cond)) {                 \
      fail_at(__LINE__, __VA_ARGS__); \
      return;                      \
    }                              \
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
  fflush(stdout);
}

static uint64_t splitmix(uint64_t *s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

static double uniform(uint64_t *s) {
  return (double)(splitmix(s) >> 11) * (1.0 / 9007199254740992.0);
}

/* An allocator that counts live blocks and can fail the n-th request. */
typedef struct counting {
  long live;
  long calls;
  long fail_at; /* 1-based call number to fail, 0 = never */
} counting;

static void *counting_malloc(void *ctx, size_t n) {
  counting *c = ctx;
  c->calls++;
  if (c->fail_at && c->calls == c->fail_at) return NULL;
  void *p = malloc(n);
  if (p) c->live++;
  return p;
}
static void counting_free(void *ctx, void *p) {
  counting *c = ctx;
  c->live--;
  free(p);
}
static i2v_alloc counting_alloc(counting *c) {
  memset(c, 0, sizeof(*c));
  i2v_alloc a = {counting_malloc, counting_free, c};
  return a;
}

/* ---- options ---------------------------------------------------------- */

static const char *FN = "item2vec_train";

static void test_options_defaults(void) {
  i2v_options o;
  i2v_options_init(&o, 4, 0);
  EXPECT(o.model == NULL && o.order_by == NULL, "text options not NULL");
  EXPECT(strcmp(i2v_options_model(&o), "default") == 0, "model name '%s'",
         i2v_options_model(&o));
  EXPECT(o.vector_size == 32 && o.window == 5 && o.negative == 5,
         "vector_size %d window %d negative %d", o.vector_size, o.window,
         o.negative);
  EXPECT(o.ns_exponent == 0.75 && o.sample == 1e-3, "ns_exponent %g sample %g",
         o.ns_exponent, o.sample);
  EXPECT(o.min_count == 1 && o.max_final_vocab == 0, "min_count %lld",
         (long long)o.min_count);
  EXPECT(o.sg == 1 && o.epochs == 10, "sg %d epochs %d", o.sg, o.epochs);
  EXPECT(o.alpha == 0.025 && o.min_alpha == 0.0001, "alpha %g min_alpha %g",
         o.alpha, o.min_alpha);
  EXPECT(o.shrink_windows == 1 && o.shuffle == 0, "shrink %d shuffle %d",
         o.shrink_windows, o.shuffle);
  EXPECT(o.workers == 4 && o.seed == 1 && o.verbose == 0 && o.given == 0,
         "workers %d seed %lld verbose %d given %llx", o.workers,
         (long long)o.seed, o.verbose, (unsigned long long)o.given);
  i2v_options_init(&o, 0, 1);
  EXPECT(o.workers == 1 && o.verbose == 1, "ncpu 0 -> workers %d", o.workers);
  i2v_options_init(&o, 100000, 0);
  EXPECT(o.workers == 256, "ncpu 100000 -> workers %d", o.workers);
  char err[256] = "";
  EXPECT(i2v_options_check(&o, FN, err, sizeof(err)) == I2V_OK,
         "defaults fail the check: %s", err);
}

/* Set one option expecting success. */
static int set_ok(i2v_options *o, const i2v_alloc *a, const char *arg) {
  char err[512] = "";
  int rc = i2v_options_set(o, arg, FN, a, err, sizeof(err));
  if (rc != I2V_OK) snprintf(why, sizeof(why), "'%.100s' rejected: %.500s", arg, err);
  return rc == I2V_OK;
}

static int index_of_option(const char *name) {
  for (int i = 0; i < i2v_options_count(); i++)
    if (strcmp(i2v_options_name(i), name) == 0) return i;
  return -1;
}

static void test_options_kinds(void) {
  counting cnt;
  i2v_alloc a = counting_alloc(&cnt);
  i2v_options o;
  i2v_options_init(&o, 2, 0);
  /* text, int, int64, real and 0/1 flags, with blanks around name and value */
  if (!set_ok(&o, &a, "model=mine") || !set_ok(&o, &a, " order_by = ts ") ||
      !set_ok(&o, &a, "window=7") || !set_ok(&o, &a, "min_count=3") ||
      !set_ok(&o, &a, "seed=12345678901") || !set_ok(&o, &a, "alpha=0.05") ||
      !set_ok(&o, &a, "sample=0") || !set_ok(&o, &a, "ns_exponent=-0.5") ||
      !set_ok(&o, &a, "sg=0") || !set_ok(&o, &a, "max_final_vocab=4294967295") ||
      !set_ok(&o, &a, "vector_size=4096") || !set_ok(&o, &a, "min_alpha=1e-5") ||
      !set_ok(&o, &a, "model=\tother\t"))
    return;
  EXPECT(strcmp(o.model, "other") == 0, "model '%s'", o.model);
  EXPECT(strcmp(o.order_by, "ts") == 0, "order_by '%s'", o.order_by);
  EXPECT(o.window == 7 && o.min_count == 3 && o.seed == 12345678901LL,
         "window %d min_count %lld seed %lld", o.window, (long long)o.min_count,
         (long long)o.seed);
  EXPECT(o.alpha == 0.05 && o.sample == 0 && o.ns_exponent == -0.5 &&
             o.min_alpha == 1e-5,
         "alpha %g sample %g ns %g", o.alpha, o.sample, o.ns_exponent);
  EXPECT(o.sg == 0 && o.max_final_vocab == 4294967295LL && o.vector_size == 4096,
         "sg %d max_final_vocab %lld", o.sg, (long long)o.max_final_vocab);
  int iw = index_of_option("window"), ineg = index_of_option("negative");
  EXPECT(iw >= 0 && (o.given >> iw & 1) && ineg >= 0 && !(o.given >> ineg & 1),
         "given bits %llx", (unsigned long long)o.given);
  char buf[64];
  EXPECT(strcmp(i2v_options_value_json(&o, iw, buf, sizeof(buf)), "7") == 0,
         "window as JSON '%s'", buf);
  EXPECT(i2v_options_is_text(index_of_option("model")) && !i2v_options_is_text(iw),
         "is_text wrong");
  EXPECT(i2v_options_name(i2v_options_count()) == NULL, "name past the end");
  EXPECT(strcmp(i2v_options_model(&o), "other") == 0, "model()");
  i2v_options_free(&o, &a);
  EXPECT(cnt.live == 0, "%ld blocks leaked", cnt.live);
}

/* Set one option expecting failure with a message containing each needle. */
static int set_bad(i2v_options *o, const char *arg, const char *n1,
                   const char *n2) {
  char err[1024] = "";
  int rc = i2v_options_set(o, arg, FN, &i2v_libc_alloc, err, sizeof(err));
  if (rc != I2V_ERROR) {
    snprintf(why, sizeof(why), "'%.100s' accepted (rc %d)", arg ? arg : "NULL", rc);
    return 0;
  }
  if (strncmp(err, "item2vec_train: ", 16) != 0 || (n1 && !strstr(err, n1)) ||
      (n2 && !strstr(err, n2))) {
    snprintf(why, sizeof(why), "'%.100s': message '%.600s' lacks '%.100s' / '%.100s'",
             arg ? arg : "NULL", err, n1 ? n1 : "", n2 ? n2 : "");
    return 0;
  }
  return 1;
}

static void test_options_unknown(void) {
  i2v_options o;
  char err[1024] = "";
  i2v_options_init(&o, 1, 0);
  int rc = i2v_options_set(&o, "windw=5", FN, &i2v_libc_alloc, err, sizeof(err));
  EXPECT(rc == I2V_ERROR, "accepted windw");
  EXPECT(strstr(err, "unknown option 'windw'") && strstr(err, "valid options are"),
         "message '%s'", err);
  for (int i = 0; i < i2v_options_count(); i++)
    EXPECT(strstr(err, i2v_options_name(i)), "message '%s' does not list %s",
           err, i2v_options_name(i));
  if (!set_bad(&o, "=5", "unknown option ''", NULL)) return;
  if (!set_bad(&o, "window", "not of the form 'name=value'", NULL)) return;
  if (!set_bad(&o, NULL, "got NULL", NULL)) return;
  if (!set_bad(&o, "model=", "'model' needs a non-empty value", NULL)) return;
  if (!set_bad(&o, "order_by=  ", "'order_by' needs a non-empty value", NULL))
    return;
  EXPECT(o.given == 0 && o.window == 5, "a rejected option changed the options");
}

/* Names in any case; quoted values; hints for near misses, gensim 3 names
** and hs; a second option inside a value. */
static void test_options_forgiving(void) {
  counting cnt;
  i2v_alloc a = counting_alloc(&cnt);
  i2v_options o;
  i2v_options_init(&o, 1, 0);
  if (!set_ok(&o, &a, "Window=7") || !set_ok(&o, &a, "VECTOR_SIZE=8") ||
      !set_ok(&o, &a, "model=\"x\"") || !set_ok(&o, &a, "order_by='ts'") ||
      !set_ok(&o, &a, "epochs=\"3\""))
    return;
  EXPECT(o.window == 7 && o.vector_size == 8 && o.epochs == 3, "window %d vector_size %d epochs %d",
         o.window, o.vector_size, o.epochs);
  EXPECT(strcmp(o.model, "x") == 0 && strcmp(o.order_by, "ts") == 0, "model '%s' order_by '%s'",
         o.model, o.order_by);
  EXPECT(i2v_options_find("Sample", 6) == index_of_option("sample") &&
             i2v_options_find("samples", 7) == -1,
         "find");
  i2v_options_free(&o, &a);
  EXPECT(cnt.live == 0, "%ld blocks leaked", cnt.live);
  i2v_options_init(&o, 1, 0);
  if (!set_bad(&o, "windw=5", "unknown option 'windw'; did you mean 'window'? valid options",
               NULL) ||
      !set_bad(&o, "vectorsize=5", "did you mean 'vector_size'?", NULL) ||
      !set_bad(&o, "Negatives=5", "did you mean 'negative'?", NULL) ||
      !set_bad(&o, "size=64", "gensim 3", "'vector_size'") ||
      !set_bad(&o, "ITER=5", "gensim 3", "'epochs'") ||
      !set_bad(&o, "hs=1", "hierarchical softmax", "negative sampling") ||
      !set_bad(&o, "epochs=1, window=3", "one option per argument",
               "as in 'epochs=1', 'window=3'") ||
      !set_bad(&o, "model=m; window=3", "one option per argument", NULL))
    return;
  /* A lone quote is a value like any other: accepted as it is. */
  if (!set_ok(&o, &i2v_libc_alloc, "model=\"")) return;
  EXPECT(strcmp(o.model, "\"") == 0, "model '%s'", o.model);
  char err[1024];
  i2v_options_set(&o, "zz=1", FN, &i2v_libc_alloc, err, sizeof(err));
  EXPECT(!strstr(err, "did you mean"), "a far name got a suggestion: %s", err);
  char hint[128];
  static const char *const extra[] = {"holdout", NULL};
  i2v_options_hint("holdot", 6, extra, hint, sizeof(hint));
  EXPECT(strcmp(hint, "did you mean 'holdout'? ") == 0, "extra names: '%s'", hint);
  i2v_options_free(&o, &i2v_libc_alloc);
}

static void test_options_range(void) {
  i2v_options o;
  i2v_options_init(&o, 1, 0);
  if (!set_bad(&o, "window=0", "'window' must be an integer from 1 to 1000",
               "got '0'") ||
      !set_bad(&o, "window=1001", "from 1 to 1000", "got '1001'") ||
      !set_bad(&o, "vector_size=4097", "'vector_size'", "from 1 to 4096") ||
      !set_bad(&o, "vector_size=-1", "'vector_size'", "got '-1'") ||
      !set_bad(&o, "negative=0", "'negative'", NULL) ||
      !set_bad(&o, "sg=2", "'sg' must be 0 or 1", NULL) ||
      !set_bad(&o, "shuffle=-1", "'shuffle' must be 0 or 1", NULL) ||
      !set_bad(&o, "epochs=0", "'epochs'", "from 1 to 10000") ||
      !set_bad(&o, "workers=0", "'workers'", "from 1 to 256") ||
      !set_bad(&o, "workers=257", "'workers'", NULL) ||
      !set_bad(&o, "min_count=0", "'min_count' must be an integer of at least 1",
               NULL) ||
      !set_bad(&o, "seed=-1", "'seed' must be an integer of at least 0", NULL) ||
      !set_bad(&o, "max_final_vocab=4294967296", "'max_final_vocab'", NULL) ||
      !set_bad(&o, "sample=1.5", "'sample' must be a number from 0 to 1", NULL) ||
      !set_bad(&o, "sample=-0.1", "'sample'", NULL) ||
      !set_bad(&o, "alpha=0", "'alpha' must be a number from 1e-09 to 1", NULL) ||
      !set_bad(&o, "alpha=1.5", "'alpha' must be a number from 1e-09 to 1,", NULL) ||
      !set_bad(&o, "min_alpha=2", "'min_alpha' must be a number from 0 to 1,", NULL) ||
      !set_bad(&o, "ns_exponent=11", "'ns_exponent'", "from -10 to 10"))
    return;
  EXPECT(o.given == 0, "a rejected option changed the options");
}

static void test_options_not_numbers(void) {
  i2v_options o;
  i2v_options_init(&o, 1, 0);
  if (!set_bad(&o, "window=abc", "'window' must be an integer", "got 'abc'") ||
      !set_bad(&o, "window=", "'window' must be an integer", "got ''") ||
      !set_bad(&o, "window=5x", "got '5x'", NULL) ||
      !set_bad(&o, "window=5.0", "got '5.0'", NULL) ||
      !set_bad(&o, "window=0x10", "got '0x10'", NULL) ||
      !set_bad(&o, "window=5 5", "got '5 5'", NULL) ||
      !set_bad(&o, "window=1e3", "got '1e3'", NULL) ||
      !set_bad(&o, "min_count=99999999999999999999", "'min_count'", NULL) ||
      !set_bad(&o, "alpha=fast", "'alpha' must be a number", "got 'fast'") ||
      !set_bad(&o, "alpha=0.1x", "got '0.1x'", NULL) ||
      !set_bad(&o, "alpha=nan", "'alpha'", NULL) ||
      !set_bad(&o, "alpha=inf", "'alpha'", NULL) ||
      !set_bad(&o, "sample=", "'sample'", NULL))
    return;
  /* A value too long to echo in full is cut, not overflowed. */
  char longv[300];
  memset(longv, '9', sizeof(longv));
  memcpy(longv, "window=", 7);
  longv[sizeof(longv) - 1] = 0;
  if (!set_bad(&o, longv, "'window'", NULL)) return;
  EXPECT(o.given == 0 && o.window == 5 && o.alpha == 0.025,
         "a rejected option changed the options");
}

static void test_options_min_alpha(void) {
  i2v_options o;
  char err[512] = "";
  i2v_options_init(&o, 1, 0);
  if (!set_ok(&o, &i2v_libc_alloc, "alpha=0.01") ||
      !set_ok(&o, &i2v_libc_alloc, "min_alpha=0.02"))
    return;
  EXPECT(i2v_options_check(&o, FN, err, sizeof(err)) == I2V_ERROR,
         "min_alpha > alpha passed the check");
  EXPECT(strncmp(err, "item2vec_train: ", 16) == 0 && strstr(err, "'min_alpha'") &&
             strstr(err, "'alpha'") && strstr(err, "0.02") && strstr(err, "0.01"),
         "message '%s'", err);
  if (!set_ok(&o, &i2v_libc_alloc, "min_alpha=0.01")) return;
  EXPECT(i2v_options_check(&o, FN, err, sizeof(err)) == I2V_OK,
         "min_alpha == alpha rejected");
}

/* JSON the extension writes never holds Inf or NaN: null instead. */
static void test_json_numbers(void) {
  char buf[40];
  EXPECT(strcmp(i2v_json_number(buf, sizeof(buf), "%.6g", 0.25), "0.25") == 0, "'%s'", buf);
  EXPECT(strcmp(i2v_json_number(buf, sizeof(buf), "%.6g", INFINITY), "null") == 0, "inf: '%s'",
         buf);
  EXPECT(strcmp(i2v_json_number(buf, sizeof(buf), "%.3f", -INFINITY), "null") == 0, "-inf: '%s'",
         buf);
  EXPECT(strcmp(i2v_json_number(buf, sizeof(buf), "%.6g", NAN), "null") == 0, "nan: '%s'", buf);
  i2v_options o;
  i2v_options_init(&o, 1, 0);
  o.alpha = NAN; /* past the parser, which refuses it */
  EXPECT(strcmp(i2v_options_value_json(&o, index_of_option("alpha"), buf, sizeof(buf)), "null") ==
             0,
         "alpha NaN as JSON: '%s'", buf);
}

/* Text options under an allocator that fails: NOMEM, nothing leaked, the
** old value kept. */
static void test_options_nomem(void) {
  counting cnt;
  i2v_alloc a = counting_alloc(&cnt);
  i2v_options o;
  char err[128];
  i2v_options_init(&o, 1, 0);
  if (!set_ok(&o, &a, "model=first")) return;
  cnt.calls = 0;
  cnt.fail_at = 1;
  EXPECT(i2v_options_set(&o, "model=second", FN, &a, err, sizeof(err)) == I2V_NOMEM,
         "no NOMEM");
  EXPECT(strcmp(o.model, "first") == 0, "model '%s' after a failed set", o.model);
  i2v_options_free(&o, &a);
  EXPECT(cnt.live == 0, "%ld blocks leaked", cnt.live);
}

/* ---- vocabulary ------------------------------------------------------- */

static i2v_value v_int(int64_t i) {
  i2v_value v = {I2V_INTEGER, i, 0, NULL, 0};
  return v;
}
static i2v_value v_real(double r, const char *text) {
  i2v_value v = {I2V_FLOAT, 0, r, text, strlen(text)};
  return v;
}
static i2v_value v_text(const char *s) {
  i2v_value v = {I2V_TEXT, 0, 0, s, strlen(s)};
  return v;
}
static i2v_value v_blob(const void *p, size_t n) {
  i2v_value v = {I2V_BLOB, 0, 0, p, n};
  return v;
}

static void test_vocab_keys(void) {
  counting cnt;
  i2v_alloc a = counting_alloc(&cnt);
  i2v_vocab v;
  int added;
  i2v_vocab_init(&v, &a);
  i2v_value one_t = v_text("1"), one_i = v_int(1), one_r = v_real(1.0, "1.0");
  int64_t i1 = i2v_vocab_add(&v, &one_t, &added);
  EXPECT(i1 == 0 && added == 1, "first add: %lld added %d", (long long)i1, added);
  EXPECT(i2v_vocab_add(&v, &one_i, &added) == 0 && added == 0, "1 is not '1'");
  EXPECT(i2v_vocab_add(&v, &one_r, &added) == 0 && added == 0, "1.0 is not '1'");
  EXPECT(v.entries[0].type == I2V_TEXT && v.entries[0].key_is_int &&
             v.entries[0].v.i == 1,
         "entry keeps type %d", v.entries[0].type);
  /* Distinct keys: not canonical integers, non-integral reals. */
  const char *texts[] = {"01", "1.5", "+1", " 1", "1 ", "-0", "", "abc", "1e0"};
  for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
    i2v_value t = v_text(texts[i]);
    int64_t idx = i2v_vocab_add(&v, &t, &added);
    EXPECT(idx == (int64_t)i + 1 && added, "'%s' got index %lld", texts[i],
           (long long)idx);
  }
  /* A non-integral real keys by its text; 1.5 and '1.5' are one item. */
  i2v_value r15 = v_real(1.5, "1.5");
  EXPECT(i2v_vocab_find(&v, &r15) == 2, "1.5 not found as '1.5'");
  /* -1 and '-1' are one; 2^63-1 and its text are one. */
  i2v_value m1 = v_int(-1), m1t = v_text("-1");
  int64_t im1 = i2v_vocab_add(&v, &m1, &added);
  EXPECT(i2v_vocab_find(&v, &m1t) == im1, "'-1' is not -1");
  i2v_value big = v_int(INT64_MAX), bigt = v_text("9223372036854775807");
  int64_t ibig = i2v_vocab_add(&v, &big, &added);
  EXPECT(i2v_vocab_find(&v, &bigt) == ibig, "max int64 text mismatch");
  /* A real too large for int64 keys by its text. */
  i2v_value huge = v_real(1e20, "1.0e+20");
  int64_t ihuge = i2v_vocab_add(&v, &huge, &added);
  EXPECT(ihuge >= 0 && added, "1e20 not added");
  EXPECT(v.entries[ihuge].type == I2V_FLOAT && !v.entries[ihuge].key_is_int &&
             v.entries[ihuge].v.r == 1e20,
         "1e20 entry wrong");
  /* Absent keys. */
  i2v_value two = v_int(2), twot = v_text("2");
  EXPECT(i2v_vocab_find(&v, &two) < 0 && i2v_vocab_find(&v, &twot) < 0,
         "2 found in a vocabulary without it");
  /* Text keys keep their bytes. */
  i2v_value abc = v_text("abc");
  int64_t iabc = i2v_vocab_find(&v, &abc);
  EXPECT(iabc >= 0 && v.entries[iabc].len == 3 &&
             memcmp(i2v_vocab_bytes(&v, &v.entries[iabc]), "abc", 3) == 0,
         "bytes of 'abc'");
  i2v_vocab_free(&v);
  EXPECT(cnt.live == 0, "%ld blocks leaked", cnt.live);
}

static void test_vocab_text_blob(void) {
  i2v_vocab v;
  int added;
  i2v_vocab_init(&v, &i2v_libc_alloc);
  /* Bytes with NULs, UTF-8, and a BLOB spelling the same bytes as a text. */
  static const char nul[] = {'a', 0, 'b'}, nul2[] = {'a', 0, 'c'};
  i2v_value t1 = v_text("caf\xc3\xa9"), b1 = v_blob(nul, 3), b2 = v_blob(nul2, 3);
  i2v_value tabc = v_text("abc"), babc = v_blob("abc", 3), b1byte = v_blob("1", 1);
  i2v_value one = v_int(1);
  int64_t it1 = i2v_vocab_add(&v, &t1, &added);
  int64_t ib1 = i2v_vocab_add(&v, &b1, &added);
  int64_t ib2 = i2v_vocab_add(&v, &b2, &added);
  EXPECT(it1 == 0 && ib1 == 1 && ib2 == 2, "indices %lld %lld %lld",
         (long long)it1, (long long)ib1, (long long)ib2);
  EXPECT(i2v_vocab_find(&v, &b1) == 1 && i2v_vocab_find(&v, &b2) == 2,
         "blobs with NUL bytes not told apart");
  EXPECT(v.entries[1].type == I2V_BLOB && v.entries[1].len == 3,
         "blob entry type %d len %u", v.entries[1].type, v.entries[1].len);
  int64_t itabc = i2v_vocab_add(&v, &tabc, &added);
  int64_t ibabc = i2v_vocab_add(&v, &babc, &added);
  EXPECT(itabc != ibabc && added,
         "text 'abc' and blob x'616263' are one item (SQL says 'abc' <> x'616263')");
  int64_t ione = i2v_vocab_add(&v, &one, &added);
  int64_t iblob1 = i2v_vocab_add(&v, &b1byte, &added);
  EXPECT(ione != iblob1 && added, "blob x'31' is the integer 1");
  EXPECT(i2v_vocab_find(&v, &tabc) == itabc && i2v_vocab_find(&v, &babc) == ibabc,
         "lookups after adding");
  i2v_vocab_free(&v);
}

static void test_vocab_growth(void) {
  counting cnt;
  i2v_alloc a = counting_alloc(&cnt);
  i2v_vocab v;
  int added;
  char buf[32];
  const int N = 100000;
  i2v_vocab_init(&v, &a);
  for (int i = 0; i < N; i++) {
    i2v_value x = v_int((int64_t)i * 7919 - 50000);
    snprintf(buf, sizeof(buf), "item-%d", i);
    i2v_value t = v_text(buf);
    int64_t ix = i2v_vocab_add(&v, &x, &added);
    EXPECT(ix == 2 * i && added, "integer %d got %lld", i, (long long)ix);
    int64_t it = i2v_vocab_add(&v, &t, &added);
    EXPECT(it == 2 * i + 1 && added, "text %d got %lld", i, (long long)it);
  }
  EXPECT(v.n == (size_t)(2 * N), "n = %zu", v.n);
  EXPECT(v.nslots >= 2 * v.n, "load factor above 1/2: %zu slots", v.nslots);
  for (int i = 0; i < N; i++) {
    i2v_value x = v_int((int64_t)i * 7919 - 50000);
    snprintf(buf, sizeof(buf), "item-%d", i);
    i2v_value t = v_text(buf);
    EXPECT(i2v_vocab_find(&v, &x) == 2 * i, "integer %d lost", i);
    EXPECT(i2v_vocab_find(&v, &t) == 2 * i + 1, "text %d lost", i);
    EXPECT(i2v_vocab_add(&v, &t, &added) == 2 * i + 1 && !added,
           "text %d added twice", i);
  }
  i2v_value absent = v_text("item-100000");
  EXPECT(i2v_vocab_find(&v, &absent) < 0, "absent key found");
  i2v_vocab_free(&v);
  EXPECT(cnt.live == 0, "%ld blocks leaked", cnt.live);
  EXPECT(v.n == 0 && v.entries == NULL, "free left entries");
}

static void test_vocab_select(void) {
  i2v_vocab src, dst;
  int added;
  i2v_vocab_init(&src, &i2v_libc_alloc);
  i2v_vocab_init(&dst, &i2v_libc_alloc);
  i2v_value vals[6] = {v_int(10), v_text("ten"), v_real(2.5, "2.5"),
                       v_text("20"), v_blob("\x01\x02", 2), v_int(-3)};
  for (int i = 0; i < 6; i++) {
    i2v_vocab_add(&src, &vals[i], &added);
    src.entries[i].count = (uint64_t)(100 + i);
  }
  uint32_t order[4] = {4, 2, 0, 3}; /* drop 1 and 5, reorder */
  EXPECT(i2v_vocab_select(&src, order, 4, &dst) == I2V_OK, "select failed");
  EXPECT(dst.n == 4, "dst has %zu entries", dst.n);
  for (int k = 0; k < 4; k++) {
    const i2v_vocab_entry *e = &dst.entries[k];
    EXPECT(i2v_vocab_find(&dst, &vals[order[k]]) == k, "entry %d not at %d",
           (int)order[k], k);
    EXPECT(e->count == 100 + order[k] && e->type == src.entries[order[k]].type,
           "entry %d: count %llu type %d", k, (unsigned long long)e->count, e->type);
  }
  EXPECT(i2v_vocab_find(&dst, &vals[1]) < 0 && i2v_vocab_find(&dst, &vals[5]) < 0,
         "dropped entries still found");
  /* '20' was text holding an integer: it stays text, keyed as 20. */
  i2v_value twenty = v_int(20);
  EXPECT(i2v_vocab_find(&dst, &twenty) == 3 && dst.entries[3].type == I2V_TEXT,
         "'20' lost its key or type");
  EXPECT(dst.entries[0].len == 2 &&
             memcmp(i2v_vocab_bytes(&dst, &dst.entries[0]), "\x01\x02", 2) == 0,
         "blob bytes not copied");
  EXPECT(dst.entries[1].v.r == 2.5, "real value not copied");
  i2v_vocab_free(&src);
  i2v_vocab_free(&dst);
}

static void test_vocab_canonical_int(void) {
  static const struct {
    const char *s;
    int ok;
    int64_t v;
  } cases[] = {
      {"0", 1, 0},
      {"7", 1, 7},
      {"-12", 1, -12},
      {"9223372036854775807", 1, INT64_MAX},
      {"-9223372036854775808", 1, INT64_MIN},
      {"9223372036854775808", 0, 0},
      {"-9223372036854775809", 0, 0},
      {"99999999999999999999", 0, 0},
      {"", 0, 0},
      {"-", 0, 0},
      {"-0", 0, 0},
      {"00", 0, 0},
      {"01", 0, 0},
      {"+1", 0, 0},
      {"1a", 0, 0},
      {" 1", 0, 0},
      {"1.0", 0, 0},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    int64_t out = 12345;
    int ok = i2v_parse_canonical_int(cases[i].s, strlen(cases[i].s), &out);
    EXPECT(ok == cases[i].ok, "'%s' -> %d", cases[i].s, ok);
    EXPECT(!ok || out == cases[i].v, "'%s' -> %lld", cases[i].s, (long long)out);
  }
}

/* Every allocation failure while filling a vocabulary: -1, no leak. */
static void test_vocab_nomem(void) {
  counting cnt;
  i2v_alloc a = counting_alloc(&cnt);
  char buf[32];
  for (long f = 1;; f++) {
    i2v_vocab v;
    int failed = 0;
    cnt.calls = 0;
    cnt.fail_at = f;
    i2v_vocab_init(&v, &a);
    for (int i = 0; i < 300 && !failed; i++) {
      snprintf(buf, sizeof(buf), "k%d", i);
      i2v_value t = v_text(buf), x = v_int(i);
      if (i2v_vocab_add(&v, &t, NULL) < 0 || i2v_vocab_add(&v, &x, NULL) < 0)
        failed = 1;
    }
    if (!failed) {
      EXPECT(v.n == 600, "n %zu", v.n);
      i2v_vocab_free(&v);
      EXPECT(cnt.live == 0, "%ld leaked", cnt.live);
      EXPECT(f > 3, "never failed");
      break;
    }
    /* What was added before the failure is still there. */
    for (size_t i = 0; i < v.n / 2; i++) {
      i2v_value x = v_int((int64_t)i);
      EXPECT(i2v_vocab_find(&v, &x) == (int64_t)(2 * i + 1),
             "entry %zu lost after failure at allocation %ld", i, f);
    }
    i2v_vocab_free(&v);
    EXPECT(cnt.live == 0, "%ld leaked after failing allocation %ld", cnt.live, f);
  }
}

/* The integer hash item2vec used before it was keyed (MurmurHash3's
** finaliser), and its inverse: ids whose old hashes all end in 20 zero bits
** went to one slot, so each insert probed past all the others. */
static uint64_t old_hash(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}
static uint64_t mul_inverse(uint64_t c) {
  uint64_t inv = c; /* Newton's iteration doubles the correct bits */
  for (int i = 0; i < 6; i++) inv *= 2 - c * inv;
  return inv;
}
static uint64_t old_hash_inverse(uint64_t x) {
  x ^= x >> 33;
  x *= mul_inverse(0xc4ceb9fe1a85ec53ULL);
  x ^= x >> 33;
  x *= mul_inverse(0xff51afd7ed558ccdULL);
  x ^= x >> 33;
  return x;
}

/* Ids chosen to collide under the old hash spread under the keyed one:
** the longest run of occupied slots (what a lookup may probe) stays short,
** whether the ids come one at a time or in bulk. */
static void test_vocab_adversarial_ids(void) {
  const size_t N = 100000;
  i2v_vocab one, bulk;
  i2v_vocab_init(&one, &i2v_libc_alloc);
  i2v_vocab_init(&bulk, &i2v_libc_alloc);
  size_t same_slot = 0;
  for (size_t i = 1; i <= N; i++) {
    uint64_t id = old_hash_inverse((uint64_t)i << 20);
    if ((old_hash(id) & 0xfffff) == 0) same_slot++;
    i2v_value x = v_int((int64_t)id);
    int added;
    EXPECT(i2v_vocab_add(&one, &x, &added) == (int64_t)(i - 1) && added, "add %zu", i);
    EXPECT(i2v_vocab_append(&bulk, &x) == (int64_t)(i - 1), "append %zu", i);
  }
  EXPECT(i2v_vocab_index(&bulk, NULL) == I2V_OK && bulk.n == N, "index: %zu entries", bulk.n);
  size_t run_one = i2v_vocab_longest_run(&one), run_bulk = i2v_vocab_longest_run(&bulk);
  int found = 1;
  for (size_t i = 1; i <= N && found; i += 997) {
    i2v_value x = v_int((int64_t)old_hash_inverse((uint64_t)i << 20));
    found = i2v_vocab_find(&one, &x) == (int64_t)(i - 1) && i2v_vocab_find(&bulk, &x) == (int64_t)(i - 1);
  }
  i2v_vocab_free(&one);
  i2v_vocab_free(&bulk);
  EXPECT(same_slot == N, "only %zu of %zu ids collide under the old hash", same_slot, N);
  EXPECT(found, "lookups fail");
  /* Random keys at a load of at most 1/2 give runs of a few dozen. */
  EXPECT(run_one < 400 && run_bulk < 400,
         "longest runs of occupied slots: %zu (add), %zu (bulk) of %zu entries", run_one,
         run_bulk, N);
}

/* The hooks of i2v_vocab_index: a duplicate reported with the entry it
** repeats, and stopping on it; cancelling. */
typedef struct hook_log {
  size_t dup_r, dup_first, dups, cancels;
  int stop_on_dup, cancel_at;
} hook_log;
static int log_dup(void *ctx, size_t r, size_t first) {
  hook_log *l = ctx;
  if (l->dups++ == 0) l->dup_r = r, l->dup_first = first;
  return l->stop_on_dup;
}
static int log_cancel(void *ctx) {
  hook_log *l = ctx;
  return ++l->cancels >= (size_t)l->cancel_at;
}
static void test_vocab_index_hooks(void) {
  counting cnt;
  i2v_alloc a = counting_alloc(&cnt);
  i2v_vocab v;
  hook_log log;
  i2v_vocab_init(&v, &a);
  for (int i = 0; i < 200000; i++) {
    i2v_value x = i == 150000 ? v_text("7") : v_int(i);
    EXPECT(i2v_vocab_append(&v, &x) == i, "append %d", i);
  }
  memset(&log, 0, sizeof(log));
  log.stop_on_dup = 1;
  i2v_vocab_hooks hk = {&log, NULL, log_dup, NULL};
  int rc = i2v_vocab_index(&v, &hk);
  EXPECT(rc == I2V_ERROR && log.dups == 1 && log.dup_r == 150000 && log.dup_first == 7,
         "duplicate: rc %d, %zu reported, r %zu first %zu", rc, log.dups, log.dup_r,
         log.dup_first);
  EXPECT(v.n == 150000 && v.nindexed == v.n, "after a stop: %zu entries", v.n);
  i2v_vocab_free(&v);
  i2v_vocab_init(&v, &a);
  for (int i = 0; i < 200000; i++) {
    i2v_value x = v_int(i);
    i2v_vocab_append(&v, &x);
  }
  memset(&log, 0, sizeof(log));
  log.cancel_at = 2;
  hk = (i2v_vocab_hooks){&log, NULL, log_dup, log_cancel};
  rc = i2v_vocab_index(&v, &hk);
  EXPECT(rc == I2V_CANCELLED && log.cancels == 2 && v.n < 200000,
         "cancel: rc %d after %zu polls, %zu entries", rc, log.cancels, v.n);
  i2v_vocab_free(&v);
  EXPECT(cnt.live == 0, "%ld blocks leaked", cnt.live);
}

/* Bulk loading (i2v_vocab_append, then i2v_vocab_index) ends where one
** i2v_vocab_add per value ends: same entries in the same order, the first
** of two equal keys kept, and what the caller keeps per entry (here its
** position in the input) moved along with it. */
typedef struct moves {
  uint32_t *payload; /* per entry: the input position it came from */
  size_t calls;
  size_t last_from;
  int out_of_order;
} moves;

static void record_move(void *ctx, size_t from, size_t to) {
  moves *m = ctx;
  if (from <= to || (m->calls && from <= m->last_from)) m->out_of_order = 1;
  m->payload[to] = m->payload[from];
  m->last_from = from;
  m->calls++;
}

/* Input value i: mostly new integers and texts; every 7th repeats an
** earlier integer as its text, every 11th as an integral real, every 13th
** an earlier text as is. */
static i2v_value bulk_value(int i, char *buf, size_t cap) {
  if (i % 7 == 6) {
    snprintf(buf, cap, "%d", i / 3 * 2);
    return v_text(buf);
  }
  if (i % 11 == 10) return v_real((double)(i / 5 * 2), "0");
  if (i % 13 == 12) {
    snprintf(buf, cap, "t%d", i / 4 * 2 + 1);
    return v_text(buf);
  }
  if (i % 2 == 0) return v_int(i);
  snprintf(buf, cap, "t%d", i);
  return v_text(buf);
}

static void test_vocab_bulk(void) {
  counting cnt;
  i2v_alloc a = counting_alloc(&cnt);
  i2v_vocab ref, v;
  const int N = 60000;
  char buf[32];
  moves mv = {calloc((size_t)N, sizeof(uint32_t)), 0, 0, 0};
  uint32_t *first = calloc((size_t)N, sizeof(uint32_t));
  EXPECT(mv.payload && first, "test out of memory");
  i2v_vocab_init(&ref, &i2v_libc_alloc);
  i2v_vocab_init(&v, &a);
  for (int i = 0; i < N; i++) {
    i2v_value x = bulk_value(i, buf, sizeof(buf));
    int added;
    int64_t r = i2v_vocab_add(&ref, &x, &added);
    EXPECT(r >= 0, "add %d failed", i);
    if (added) first[r] = (uint32_t)i;
    int64_t b = i2v_vocab_append(&v, &x);
    EXPECT(b >= 0 && (size_t)b == v.n - 1, "append %d gave %lld", i, (long long)b);
    mv.payload[b] = (uint32_t)i;
    /* Index now and then: later appends go on from there. */
    if (i == 999 || i == 30001) {
      size_t calls = mv.calls;
      EXPECT(i2v_vocab_index(&v, &(i2v_vocab_hooks){&mv, record_move, NULL, NULL}) == I2V_OK, "index at %d", i);
      EXPECT(v.n == ref.n && v.nindexed == v.n, "at %d: %zu entries, %zu expected", i, v.n,
             ref.n);
      EXPECT(mv.calls > calls, "nothing moved by %d", i);
      mv.last_from = 0;
      mv.calls = 0;
    }
  }
  EXPECT(i2v_vocab_index(&v, &(i2v_vocab_hooks){&mv, record_move, NULL, NULL}) == I2V_OK, "index failed");
  EXPECT(!mv.out_of_order, "moves not downwards and in order");
  EXPECT(v.n == ref.n && v.n < (size_t)N, "%zu entries, %zu expected", v.n, ref.n);
  EXPECT(v.nslots >= 2 * v.n, "load factor above 1/2: %zu slots", v.nslots);
  EXPECT(i2v_vocab_index(&v, &(i2v_vocab_hooks){&mv, record_move, NULL, NULL}) == I2V_OK && v.n == ref.n,
         "indexing again changed something");
  for (size_t k = 0; k < v.n; k++) {
    const i2v_vocab_entry *e = &v.entries[k], *r = &ref.entries[k];
    EXPECT(e->key_is_int == r->key_is_int && e->type == r->type && e->len == r->len &&
               (e->key_is_int ? e->v.i == r->v.i
                              : memcmp(i2v_vocab_bytes(&v, e), i2v_vocab_bytes(&ref, r),
                                       e->len) == 0),
           "entry %zu differs", k);
    EXPECT(mv.payload[k] == first[k], "entry %zu carries input %u, not %u", k, mv.payload[k],
           first[k]);
  }
  for (int i = 0; i < N; i++) {
    i2v_value x = bulk_value(i, buf, sizeof(buf));
    EXPECT(i2v_vocab_find(&v, &x) == i2v_vocab_find(&ref, &x), "find %d", i);
  }
  /* Adding one by one works again after indexing. */
  i2v_value fresh = v_text("fresh"), seven = v_text("0");
  int added;
  EXPECT(i2v_vocab_add(&v, &fresh, &added) == (int64_t)ref.n && added, "add after index");
  EXPECT(i2v_vocab_add(&v, &seven, &added) == 0 && !added, "'0' is not 0");
  i2v_vocab_free(&v);
  i2v_vocab_free(&ref);
  free(mv.payload);
  free(first);
  EXPECT(cnt.live == 0, "%ld blocks leaked", cnt.live);
}

/* Every allocation failure while appending and indexing: -1 or I2V_NOMEM,
** nothing leaked; a failed index leaves the entries as they were. */
static void test_vocab_bulk_nomem(void) {
  counting cnt;
  i2v_alloc a = counting_alloc(&cnt);
  char buf[32];
  for (long f = 1;; f++) {
    i2v_vocab v;
    int failed = 0;
    cnt.calls = 0;
    cnt.fail_at = f;
    i2v_vocab_init(&v, &a);
    for (int i = 0; i < 400 && !failed; i++) {
      i2v_value x = bulk_value(i, buf, sizeof(buf));
      if (i2v_vocab_append(&v, &x) < 0) failed = 1;
    }
    if (!failed) {
      size_t n = v.n;
      if (i2v_vocab_index(&v, NULL) != I2V_OK) {
        EXPECT(v.n == n && v.nindexed == 0, "a failed index changed the entries");
        failed = 1;
      }
    }
    i2v_vocab_free(&v);
    EXPECT(cnt.live == 0, "%ld leaked after failing allocation %ld", cnt.live, f);
    if (!failed) {
      EXPECT(f > 3, "never failed");
      break;
    }
  }
}


/* ---- corpus ----------------------------------------------------------- */

static void test_corpus_cut(void) {
  /* Items 0..5 with these counts; item 1 never occurs. */
  static const uint64_t counts[6] = {3, 0, 5, 3, 1, 5};
  static const uint32_t by_count[5] = {2, 5, 0, 3, 4};
  static const struct {
    int64_t min_count, max_final_vocab;
    uint32_t kept;
    uint64_t floor;
  } cases[] = {
      {1, 0, 5, 1}, {0, 0, 5, 1}, {3, 0, 4, 3}, {4, 0, 2, 4}, {6, 0, 0, 6},
      /* max_final_vocab: ties at the limit all go */
      {1, 3, 2, 4}, {1, 2, 2, 4}, {1, 1, 0, 6}, {1, 4, 4, 2}, {1, 5, 5, 1}, {1, 9, 5, 1},
      {4, 4, 2, 4}};
  for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
    i2v_corpus_cut cut;
    EXPECT(i2v_corpus_cut_build(&cut, counts, 6, cases[c].min_count, cases[c].max_final_vocab,
                                &i2v_libc_alloc) == I2V_OK,
           "case %zu failed", c);
    int ok = cut.n == 5 && cut.kept == cases[c].kept && cut.floor == cases[c].floor;
    for (uint32_t i = 0; ok && i < 5; i++) ok = cut.order[i] == by_count[i];
    for (uint32_t i = 0; ok && i < 6; i++) {
      uint32_t want = I2V_CORPUS_NONE;
      for (uint32_t k = 0; k < cases[c].kept; k++)
        if (by_count[k] == i) want = k;
      ok = cut.remap[i] == want;
    }
    uint32_t n = cut.n, kept = cut.kept;
    uint64_t floor = cut.floor;
    i2v_corpus_cut_free(&cut, &i2v_libc_alloc);
    EXPECT(ok, "case %zu (min_count %lld, max_final_vocab %lld): n %u kept %u floor %llu", c,
           (long long)cases[c].min_count, (long long)cases[c].max_final_vocab, n, kept,
           (unsigned long long)floor);
  }
}

/* The grouping as its contract reads, one user at a time: the user's kept
** rows in scan order, stably sorted by key, renumbered, two or more. */
static int naive_group(const i2v_corpus_rows *r, const uint32_t *remap, uint32_t *tokens,
                       uint64_t *starts, uint64_t *dropped) {
  int nseq = 0;
  uint64_t pos = 0;
  *dropped = 0;
  for (size_t i = 0; i < r->n; i++) *dropped += remap[r->pairs[2 * i + 1]] == I2V_CORPUS_NONE;
  for (uint32_t u = 0; u < r->nusers; u++) {
    uint64_t first = pos;
    for (size_t i = 0; i < r->n; i++) {
      if (r->pairs[2 * i] != u || remap[r->pairs[2 * i + 1]] == I2V_CORPUS_NONE) continue;
      /* insertion after every row with a key <= this one: stable */
      uint64_t at = pos;
      while (r->keys && at > first && r->keys[tokens[at - 1] >> 16] > r->keys[i]) {
        tokens[at] = tokens[at - 1];
        at--;
      }
      tokens[at] = (uint32_t)i << 16; /* the row for now; renumbered below */
      pos++;
    }
    if (pos - first < 2) {
      pos = first;
      continue;
    }
    starts[nseq++] = first;
  }
  starts[nseq] = pos;
  for (uint64_t t = 0; t < pos; t++) tokens[t] = remap[r->pairs[2 * (tokens[t] >> 16) + 1]];
  return nseq;
}

static void test_corpus_group(void) {
  uint64_t seed = 77;
  enum { NROWS = 3000, NUSERS = 400, NITEMS = 60 };
  uint32_t *pairs = malloc(2 * NROWS * sizeof(uint32_t)), *tokens = malloc(NROWS * 4);
  uint64_t *keys = malloc(NROWS * 8), *starts = malloc((NUSERS + 1) * 8);
  EXPECT(pairs && tokens && keys && starts, "out of memory");
  for (int round = 0; round < 8; round++) {
    size_t n = round == 0 ? 0 : (size_t)(splitmix(&seed) % NROWS) + 1;
    uint32_t nusers = (uint32_t)(splitmix(&seed) % NUSERS) + 1;
    for (size_t i = 0; i < n; i++) {
      pairs[2 * i] = (uint32_t)(splitmix(&seed) % nusers);
      double u = uniform(&seed);
      pairs[2 * i + 1] = (uint32_t)(u * u * NITEMS); /* skewed counts */
      keys[i] = splitmix(&seed) % 5;                  /* many ties */
    }
    i2v_corpus_rows rows = {pairs, (round & 1) ? keys : NULL, n, nusers};
    uint64_t *counts;
    i2v_corpus_cut cut;
    i2v_corpus c;
    uint64_t dropped, want_dropped;
    EXPECT(i2v_corpus_count(&rows, NITEMS, &i2v_libc_alloc, &counts) == I2V_OK, "count failed");
    uint64_t total = 0;
    for (int i = 0; i < NITEMS; i++) total += counts[i];
    EXPECT(total == n, "counts add up to %llu, not %zu", (unsigned long long)total, n);
    int rc = i2v_corpus_cut_build(&cut, counts, NITEMS, 1 + round % 3, 0, &i2v_libc_alloc);
    free(counts);
    EXPECT(rc == I2V_OK, "cut failed");
    rc = i2v_corpus_group(&rows, cut.remap, &i2v_libc_alloc, &c, &dropped);
    EXPECT(rc == I2V_OK, "group failed");
    int nseq = naive_group(&rows, cut.remap, tokens, starts, &want_dropped);
    i2v_corpus_cut_free(&cut, &i2v_libc_alloc);
    int same = c.nseq == (uint64_t)nseq && dropped == want_dropped &&
               c.ntokens == (nseq ? starts[nseq] : 0);
    uint64_t longest = 0;
    for (int q = 0; same && q < nseq; q++) {
      same = c.starts[q] == starts[q];
      if (starts[q + 1] - starts[q] > longest) longest = starts[q + 1] - starts[q];
    }
    same = same && c.longest == longest && (nseq == 0 || c.starts[nseq] == starts[nseq]);
    for (uint64_t t = 0; same && t < c.ntokens; t++) same = c.tokens[t] == tokens[t];
    uint64_t got_nseq = c.nseq;
    i2v_corpus_free(&c, &i2v_libc_alloc);
    EXPECT(same, "round %d: %llu sequences (want %d), dropped %llu (want %llu), or tokens differ",
           round, (unsigned long long)got_nseq, nseq, (unsigned long long)dropped,
           (unsigned long long)want_dropped);
    EXPECT(nseq > 0 || round == 0, "round %d has no sequence: the test tests nothing", round);
  }
  free(pairs);
  free(tokens);
  free(keys);
  free(starts);
}

static void test_corpus_group_example(void) {
  /* Users 0, 1, 2; item 9 is cut.  User 2 keeps one item: no sequence. */
  static const uint32_t pairs[] = {1, 4, 0, 7, 1, 9, 0, 4, 2, 7, 1, 7, 0, 9, 2, 9};
  static const uint64_t keys[] = {5, 2, 0, 1, 0, 5, 3, 0};
  uint32_t remap[10];
  for (int i = 0; i < 10; i++) remap[i] = I2V_CORPUS_NONE;
  remap[7] = 0;
  remap[4] = 1;
  i2v_corpus_rows rows = {pairs, NULL, 8, 3};
  i2v_corpus c;
  uint64_t dropped;
  EXPECT(i2v_corpus_group(&rows, remap, &i2v_libc_alloc, &c, &dropped) == I2V_OK, "group");
  /* Scan order: user 0 has 7 4, user 1 has 4 7. */
  int ok = c.nseq == 2 && c.ntokens == 4 && c.longest == 2 && dropped == 3 && c.starts[0] == 0 &&
           c.starts[1] == 2 && c.starts[2] == 4 && c.tokens[0] == 0 && c.tokens[1] == 1 &&
           c.tokens[2] == 1 && c.tokens[3] == 0;
  i2v_corpus_free(&c, &i2v_libc_alloc);
  EXPECT(ok, "scan order grouping wrong");
  /* By key: user 0 has 4 (key 1) then 7 (key 2); user 1 has 7 (key 5)
  ** after 4 (key 5): a tie keeps scan order. */
  rows.keys = keys;
  EXPECT(i2v_corpus_group(&rows, remap, &i2v_libc_alloc, &c, &dropped) == I2V_OK, "group");
  ok = c.nseq == 2 && c.tokens[0] == 1 && c.tokens[1] == 0 && c.tokens[2] == 1 &&
       c.tokens[3] == 0;
  i2v_corpus_free(&c, &i2v_libc_alloc);
  EXPECT(ok, "keyed grouping wrong");
  /* Nothing kept: an empty corpus, not an error. */
  for (int i = 0; i < 10; i++) remap[i] = I2V_CORPUS_NONE;
  EXPECT(i2v_corpus_group(&rows, remap, &i2v_libc_alloc, &c, &dropped) == I2V_OK &&
             c.nseq == 0 && c.tokens == NULL && dropped == 8,
         "empty corpus wrong");
}

static void test_corpus_renumber(void) {
  uint32_t tokens[] = {0, 1, 2, /**/ 3, 1, /**/ 2, 2, 0, 3, /**/ 4, 4};
  uint64_t starts[] = {0, 3, 5, 9, 11};
  /* 1 and 4 go, 3 becomes 0, 0 becomes 1, 2 stays 2. */
  uint32_t map[5] = {1, I2V_CORPUS_NONE, 2, 0, I2V_CORPUS_NONE};
  i2v_corpus c = {tokens, starts, 4, 11, 4};
  uint64_t dropped;
  i2v_corpus_renumber(&c, map, &dropped);
  /* 0 1 2 -> 1 2; 3 1 -> 0 (gone); 2 2 0 3 -> 2 2 1 0; 4 4 -> gone. */
  static const uint32_t want[] = {1, 2, 2, 2, 1, 0};
  EXPECT(c.nseq == 2 && c.ntokens == 6 && c.longest == 4 && dropped == 4, "nseq %llu ntokens %llu",
         (unsigned long long)c.nseq, (unsigned long long)c.ntokens);
  EXPECT(c.starts[0] == 0 && c.starts[1] == 2 && c.starts[2] == 6, "starts wrong");
  EXPECT(memcmp(tokens, want, sizeof(want)) == 0, "tokens wrong");
  /* Everything dropped. */
  uint32_t none[3] = {I2V_CORPUS_NONE, I2V_CORPUS_NONE, I2V_CORPUS_NONE};
  i2v_corpus_renumber(&c, none, &dropped);
  EXPECT(c.nseq == 0 && c.ntokens == 0 && dropped == 6, "not emptied");
}

static void test_corpus_nomem(void) {
  static const uint32_t pairs[] = {0, 1, 0, 2, 1, 2, 1, 0, 1, 1, 2, 2};
  static const uint64_t keys[] = {3, 1, 2, 2, 0, 1};
  i2v_corpus_rows rows = {pairs, keys, 6, 3};
  counting cnt;
  i2v_alloc a = counting_alloc(&cnt);
  int rc = I2V_NOMEM;
  for (long fail = 1; rc != I2V_OK; fail++) {
    EXPECT(fail < 100, "never succeeds");
    cnt.calls = 0;
    cnt.fail_at = fail;
    uint64_t *counts = NULL, dropped;
    i2v_corpus_cut cut;
    i2v_corpus c;
    memset(&cut, 0, sizeof(cut));
    memset(&c, 0, sizeof(c));
    rc = i2v_corpus_count(&rows, 3, &a, &counts);
    if (rc == I2V_OK) rc = i2v_corpus_cut_build(&cut, counts, 3, 1, 0, &a);
    if (rc == I2V_OK) rc = i2v_corpus_group(&rows, cut.remap, &a, &c, &dropped);
    EXPECT(rc == I2V_OK || rc == I2V_NOMEM, "rc %d at failure %ld", rc, fail);
    if (rc == I2V_NOMEM)
      EXPECT(c.tokens == NULL && c.starts == NULL && c.nseq == 0, "failure %ld left a corpus",
             fail);
    else
      EXPECT(c.nseq == 2 && c.ntokens == 5, "wrong corpus after %ld failures", fail);
    i2v_corpus_free(&c, &a);
    i2v_corpus_cut_free(&cut, &a);
    i2v_free(&a, counts);
    EXPECT(cnt.live == 0, "%ld blocks leaked at failure %ld", cnt.live, fail);
  }
}

/* ---- alias table (negative sampling) ---------------------------------- */

/* The probability the table gives item i, computed from its columns. */
static void alias_exact(const i2v_alias *t, double *p) {
  for (uint32_t i = 0; i < t->n; i++) p[i] = 0;
  for (uint32_t c = 0; c < t->n; c++) {
    double keep = t->threshold[c] == UINT32_MAX
                      ? 1.0
                      : (double)t->threshold[c] / 4294967296.0;
    p[c] += keep / t->n;
    p[t->alias[c]] += (1.0 - keep) / t->n;
  }
}

static void check_alias(const uint64_t *counts, uint32_t n, double power,
                        int draws) {
  counting cnt;
  i2v_alloc a = counting_alloc(&cnt);
  i2v_alias t;
  double want[64], exact[64], seen[64];
  EXPECT(n <= 64, "test table too large");
  EXPECT(i2v_alias_build(&t, counts, n, power, &a) == I2V_OK, "build failed");
  double total = 0;
  for (uint32_t i = 0; i < n; i++)
    total += want[i] = pow((double)(counts[i] ? counts[i] : 1), power);
  for (uint32_t i = 0; i < n; i++) want[i] /= total;
  alias_exact(&t, exact);
  for (uint32_t i = 0; i < n; i++)
    EXPECT(fabs(exact[i] - want[i]) < 1e-6,
           "power %g: table gives item %u probability %.8f, expected %.8f", power,
           i, exact[i], want[i]);
  uint64_t rs = 42;
  for (uint32_t i = 0; i < n; i++) seen[i] = 0;
  for (int d = 0; d < draws; d++) {
    uint32_t x = i2v_alias_draw(&t, splitmix(&rs));
    EXPECT(x < n, "draw %u out of range", x);
    seen[x] += 1;
  }
  for (uint32_t i = 0; i < n; i++) {
    double f = seen[i] / draws;
    /* 5 standard deviations of a binomial frequency, plus a little. */
    double tol = 5 * sqrt(want[i] * (1 - want[i]) / draws) + 1e-4;
    EXPECT(fabs(f - want[i]) < tol,
           "power %g: item %u drawn %.5f of the time, expected %.5f (+-%.5f)",
           power, i, f, want[i], tol);
  }
  i2v_alias_free(&t, &a);
  EXPECT(cnt.live == 0, "%ld blocks leaked", cnt.live);
}

static void test_alias_unigram(void) {
  uint64_t counts[] = {1, 2, 4, 8, 100, 1000, 0, 3, 3, 50};
  check_alias(counts, 10, 0.75, 1000000);
  if (why[0]) return;
  uint64_t zipf[40];
  for (int i = 0; i < 40; i++) zipf[i] = (uint64_t)(100000 / (i + 1));
  check_alias(zipf, 40, 0.75, 1000000);
}

static void test_alias_exponents(void) {
  uint64_t counts[] = {1, 2, 4, 8, 100, 1000, 7, 3};
  check_alias(counts, 8, 0.0, 400000); /* uniform */
  if (why[0]) return;
  check_alias(counts, 8, 1.0, 400000);
  if (why[0]) return;
  check_alias(counts, 8, -0.5, 400000); /* rare items favoured */
  if (why[0]) return;
  uint64_t one = 5;
  check_alias(&one, 1, 0.75, 1000);
  if (why[0]) return;
  i2v_alias t;
  EXPECT(i2v_alias_build(&t, &one, 0, 0.75, &i2v_libc_alloc) == I2V_ERROR,
         "an empty table was built");
}

static void test_alias_nomem(void) {
  counting cnt;
  i2v_alloc a = counting_alloc(&cnt);
  uint64_t counts[] = {1, 2, 3, 4};
  i2v_alias t;
  int f;
  for (f = 1; f < 20; f++) {
    cnt.calls = 0;
    cnt.fail_at = f;
    int rc = i2v_alias_build(&t, counts, 4, 0.75, &a);
    if (rc == I2V_OK) {
      i2v_alias_free(&t, &a);
      break;
    }
    EXPECT(rc == I2V_NOMEM, "failing allocation %d gave rc %d", f, rc);
    EXPECT(cnt.live == 0, "%ld leaked after failing allocation %d", cnt.live, f);
  }
  EXPECT(f > 1 && f < 20 && cnt.live == 0, "f %d live %ld", f, cnt.live);
}

/* ---- top-k ------------------------------------------------------------ */

static int by_score_then_index(const void *a, const void *b) {
  const i2v_scored *x = a, *y = b;
  if (i2v_topk_better(x->score, x->index, y->score, y->index)) return -1;
  if (i2v_topk_better(y->score, y->index, x->score, x->index)) return 1;
  return 0;
}

static void test_topk_random(void) {
  uint64_t rs = 7;
  static const size_t sizes[] = {0, 1, 2, 5, 100, 3000};
  static const size_t ks[] = {1, 2, 3, 10, 64};
  for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
    for (size_t ki = 0; ki < sizeof(ks) / sizeof(ks[0]) + 2; ki++) {
      size_t n = sizes[si];
      size_t k = ki < 5 ? ks[ki] : (ki == 5 ? n : n + 5); /* k = n, k > n */
      if (k == 0) continue;
      for (int ties = 0; ties < 2; ties++) {
        i2v_scored *all = malloc((n ? n : 1) * sizeof(*all));
        i2v_scored *heap = malloc(k * sizeof(*heap));
        uint32_t *perm = malloc((n ? n : 1) * sizeof(uint32_t));
        EXPECT(all && heap && perm, "malloc");
        for (size_t i = 0; i < n; i++) {
          all[i].index = (uint32_t)i;
          /* with ties: only 7 distinct scores, so order depends on indices */
          all[i].score = ties ? (float)(splitmix(&rs) % 7) - 3.0f
                              : (float)(uniform(&rs) * 2 - 1);
          perm[i] = (uint32_t)i;
        }
        for (size_t i = n; i > 1; i--) { /* push in a random order */
          size_t j = splitmix(&rs) % i;
          uint32_t tmp = perm[i - 1];
          perm[i - 1] = perm[j];
          perm[j] = tmp;
        }
        i2v_topk t;
        i2v_topk_init(&t, heap, k);
        for (size_t i = 0; i < n; i++) {
          const i2v_scored *s = &all[perm[i]];
          /* as similar_items does: cheap threshold first, then push */
          if (i % 2 == 0 || i2v_topk_wants(&t, s->score))
            i2v_topk_push(&t, s->score, s->index);
        }
        size_t got = i2v_topk_finish(&t);
        qsort(all, n, sizeof(*all), by_score_then_index);
        size_t expect = k < n ? k : n;
        int bad = got != expect;
        for (size_t i = 0; !bad && i < got; i++)
          bad = heap[i].index != all[i].index || heap[i].score != all[i].score;
        free(all);
        free(heap);
        free(perm);
        EXPECT(!bad, "n %zu k %zu ties %d: top-k differs from a full sort", n, k,
               ties);
      }
    }
  }
}

static void test_topk_ties_and_edges(void) {
  i2v_scored heap[4];
  i2v_topk t;
  /* Equal scores: the smaller index wins, whatever the push order. */
  i2v_topk_init(&t, heap, 3);
  uint32_t idx[] = {9, 4, 7, 1, 8, 2};
  for (int i = 0; i < 6; i++) i2v_topk_push(&t, 0.5f, idx[i]);
  EXPECT(i2v_topk_finish(&t) == 3, "count");
  EXPECT(heap[0].index == 1 && heap[1].index == 2 && heap[2].index == 4,
         "ties kept %u %u %u", heap[0].index, heap[1].index, heap[2].index);
  /* k > n: all of them, best first. */
  i2v_topk_init(&t, heap, 4);
  i2v_topk_push(&t, -1.0f, 0);
  i2v_topk_push(&t, 1.0f, 1);
  EXPECT(i2v_topk_finish(&t) == 2 && heap[0].index == 1 && heap[1].index == 0,
         "k > n");
  /* k = 0 keeps nothing. */
  i2v_topk_init(&t, heap, 0);
  i2v_topk_push(&t, 1.0f, 1);
  EXPECT(i2v_topk_finish(&t) == 0, "k = 0 kept something");
  /* wants(): open while not full, then a threshold. */
  i2v_topk_init(&t, heap, 2);
  EXPECT(i2v_topk_wants(&t, -100.0f), "an empty heap refuses");
  i2v_topk_push(&t, 0.3f, 0);
  i2v_topk_push(&t, 0.6f, 1);
  EXPECT(!i2v_topk_wants(&t, 0.2f) && i2v_topk_wants(&t, 0.4f),
         "threshold wrong");
}

/* ---- JSON id parser --------------------------------------------------- */

static int parse(const char *s, i2v_query *q, char *err, size_t errlen) {
  return i2v_json_parse_query(s, strlen(s), &i2v_libc_alloc, q, err, errlen);
}

static int item_is_text(const i2v_query_item *it, const char *s, size_t n,
                        float w) {
  return it->value.type == I2V_TEXT && it->value.n == n &&
         memcmp(it->value.bytes, s, n) == 0 && it->weight == w;
}

/* ---- filter ------------------------------------------------------------ */

/* Random skip and only lists and frequencies over n rows: i2v_filter_passes
** and i2v_filter_scores agree with the rules written out, block by block. */
static void test_filter_random(void) {
  uint64_t rs = 11;
  enum { N = 1500 };
  static i2v_vocab_entry entries[N];
  static uint32_t skip[N], only[N];
  static float scores[N];
  for (int round = 0; round < 40; round++) {
    size_t nskip = splitmix(&rs) % (round % 4 == 0 ? 1 : 300);
    size_t nonly = splitmix(&rs) % 900;
    for (size_t i = 0; i < N; i++) entries[i].count = splitmix(&rs) % 20;
    for (size_t i = 0; i < nskip; i++) skip[i] = (uint32_t)(splitmix(&rs) % N);
    for (size_t i = 0; i < nonly; i++) only[i] = (uint32_t)(splitmix(&rs) % N);
    i2v_filter f = {.skip = skip,
                    .nskip = i2v_rows_sort_unique(skip, nskip),
                    .only = only,
                    .nonly = i2v_rows_sort_unique(only, nonly),
                    .has_only = round % 3 != 0,
                    .entries = entries,
                    .min_frequency = (uint64_t)(round % 5) * 4};
    for (size_t i = 1; i < f.nskip; i++) EXPECT(skip[i - 1] < skip[i], "skip not sorted unique");
    for (size_t i = 1; i < f.nonly; i++) EXPECT(only[i - 1] < only[i], "only not sorted unique");
    size_t block = 1 + splitmix(&rs) % 600;
    for (size_t start = 0; start < N; start += block) {
      size_t len = N - start < block ? N - start : block;
      for (size_t r = 0; r < len; r++) scores[start + r] = 0.5f;
      i2v_filter_scores(&f, start, len, scores + start);
    }
    for (uint32_t row = 0; row < N; row++) {
      int in_skip = 0, in_only = 0;
      for (size_t i = 0; i < f.nskip; i++) in_skip |= skip[i] == row;
      for (size_t i = 0; i < f.nonly; i++) in_only |= only[i] == row;
      int want = !in_skip && (!f.has_only || in_only) &&
                 (f.min_frequency <= 1 || entries[row].count >= f.min_frequency);
      EXPECT(i2v_filter_passes(&f, row) == want, "round %d row %u: passes %d, want %d", round,
             row, i2v_filter_passes(&f, row), want);
      EXPECT((scores[row] == 0.5f) == want, "round %d row %u (block %zu): score %g, want %s",
             round, row, block, scores[row], want ? "kept" : "-inf");
      EXPECT(want || scores[row] == -INFINITY, "round %d row %u: not -inf", round, row);
    }
  }
}

/* Frequencies 0 and 1 filter nothing; an empty filter passes everything. */
static void test_filter_edges(void) {
  i2v_vocab_entry entries[3] = {{.count = 0}, {.count = 1}, {.count = 2}};
  i2v_filter f = {.entries = entries, .min_frequency = 0};
  for (uint32_t r = 0; r < 3; r++) EXPECT(i2v_filter_passes(&f, r), "row %u refused", r);
  f.min_frequency = 1;
  EXPECT(!i2v_filter_by_frequency(&f), "min_frequency 1 counts as a rule");
  for (uint32_t r = 0; r < 3; r++) EXPECT(i2v_filter_passes(&f, r), "row %u refused at 1", r);
  f.min_frequency = 2;
  EXPECT(!i2v_filter_passes(&f, 0) && !i2v_filter_passes(&f, 1) && i2v_filter_passes(&f, 2),
         "min_frequency 2");
  f.min_frequency = 0;
  f.has_only = 1; /* an empty candidate list: nothing */
  for (uint32_t r = 0; r < 3; r++) EXPECT(!i2v_filter_passes(&f, r), "row %u passes only=[]", r);
  uint32_t rows[] = {5, 1, 5, 3, 1};
  EXPECT(i2v_rows_sort_unique(rows, 5) == 3 && rows[0] == 1 && rows[1] == 3 && rows[2] == 5,
         "sort_unique");
  EXPECT(i2v_rows_contain(rows, 3, 3) && !i2v_rows_contain(rows, 3, 4) &&
             !i2v_rows_contain(rows, 0, 1),
         "contain");
}

static void test_json_arrays(void) {
  i2v_query q;
  char err[256] = "";
  EXPECT(parse(" [ \"1\" , \"abc\",3 ,-4, 0, 1.5, 2e3 ] ", &q, err, sizeof(err)) ==
             I2V_OK,
         "rejected: %s", err);
  EXPECT(q.n == 7, "%zu items", q.n);
  EXPECT(item_is_text(&q.items[0], "1", 1, 1.0f) &&
             item_is_text(&q.items[1], "abc", 3, 1.0f),
         "string items");
  EXPECT(q.items[2].value.type == I2V_INTEGER && q.items[2].value.i == 3 &&
             q.items[3].value.type == I2V_INTEGER && q.items[3].value.i == -4 &&
             q.items[4].value.type == I2V_INTEGER && q.items[4].value.i == 0,
         "integer items");
  EXPECT(q.items[5].value.type == I2V_FLOAT && q.items[5].value.r == 1.5 &&
             q.items[5].value.n == 3 && memcmp(q.items[5].value.bytes, "1.5", 3) == 0,
         "1.5");
  EXPECT(q.items[6].value.type == I2V_FLOAT && q.items[6].value.r == 2000.0,
         "2e3");
  i2v_query_free(&q);
  /* The ids key as the vocabulary keys them: "1", 1 and 1.0 are one item. */
  i2v_vocab v;
  i2v_vocab_init(&v, &i2v_libc_alloc);
  i2v_value one = v_int(1), k2000 = v_text("2000");
  i2v_vocab_add(&v, &one, NULL);
  i2v_vocab_add(&v, &k2000, NULL);
  EXPECT(parse("[\"1\", 1, 1.0, 2e3]", &q, err, sizeof(err)) == I2V_OK, "%s", err);
  for (size_t i = 0; i < q.n; i++)
    EXPECT(i2v_vocab_find(&v, &q.items[i].value) == (i < 3 ? 0 : 1),
           "item %zu does not find its key", i);
  i2v_query_free(&q);
  i2v_vocab_free(&v);
  EXPECT(parse("[]", &q, err, sizeof(err)) == I2V_OK && q.n == 0, "[]");
  i2v_query_free(&q);
  /* Large arrays grow the item list. */
  char big[4000];
  size_t used = 0;
  big[used++] = '[';
  for (int i = 0; i < 500; i++)
    used += (size_t)snprintf(big + used, sizeof(big) - used, "%s%d", i ? "," : "", i);
  big[used++] = ']';
  big[used] = 0;
  EXPECT(parse(big, &q, err, sizeof(err)) == I2V_OK && q.n == 500 &&
             q.items[499].value.i == 499,
         "500 items: %s", err);
  i2v_query_free(&q);
  EXPECT(i2v_json_looks_like(" \n[1]", 5) && i2v_json_looks_like("{", 1) &&
             !i2v_json_looks_like("1", 1) && !i2v_json_looks_like("", 0) &&
             !i2v_json_looks_like("  ", 2) && !i2v_json_looks_like("a[", 2),
         "looks_like");
}

static void test_json_objects(void) {
  i2v_query q;
  char err[256] = "";
  EXPECT(parse("{\"positive\":[1,\"b\"],\"negative\":[3]}", &q, err, sizeof(err)) ==
             I2V_OK,
         "rejected: %s", err);
  EXPECT(q.n == 3 && q.items[0].weight == 1.0f && q.items[1].weight == 1.0f &&
             q.items[2].weight == -1.0f && q.items[2].value.i == 3,
         "weights/items");
  EXPECT(item_is_text(&q.items[1], "b", 1, 1.0f), "the positive string");
  i2v_query_free(&q);
  /* single scalars instead of arrays, either order, empty object */
  EXPECT(parse(" { \"negative\" : \"x\" , \"positive\" : 7 } ", &q, err,
               sizeof(err)) == I2V_OK,
         "scalars: %s", err);
  EXPECT(q.n == 2 && item_is_text(&q.items[0], "x", 1, -1.0f) &&
             q.items[1].value.i == 7 && q.items[1].weight == 1.0f,
         "scalar members");
  i2v_query_free(&q);
  EXPECT(parse("{}", &q, err, sizeof(err)) == I2V_OK && q.n == 0, "{}");
  i2v_query_free(&q);
  /* member names may use escapes */
  EXPECT(parse("{\"posit\\u0069ve\":[1]}", &q, err, sizeof(err)) == I2V_OK &&
             q.n == 1 && q.items[0].weight == 1.0f,
         "escaped member name: %s", err);
  i2v_query_free(&q);
}

static void test_json_escapes(void) {
  i2v_query q;
  char err[256] = "";
  const char *in =
      "[\"a\\\"b\", \"\\\\\", \"\\/\", \"\\b\\f\\n\\r\\t\", \"\\u00e9\", "
      "\"\\u20AC\", \"\\ud83d\\ude00\", \"\\u0041x\", \"\"]";
  EXPECT(parse(in, &q, err, sizeof(err)) == I2V_OK, "rejected: %s", err);
  EXPECT(q.n == 9, "%zu items", q.n);
  EXPECT(item_is_text(&q.items[0], "a\"b", 3, 1.0f), "\\\"");
  EXPECT(item_is_text(&q.items[1], "\\", 1, 1.0f), "\\\\");
  EXPECT(item_is_text(&q.items[2], "/", 1, 1.0f), "\\/");
  EXPECT(item_is_text(&q.items[3], "\b\f\n\r\t", 5, 1.0f), "control escapes");
  EXPECT(item_is_text(&q.items[4], "\xc3\xa9", 2, 1.0f), "\\u00e9");
  EXPECT(item_is_text(&q.items[5], "\xe2\x82\xac", 3, 1.0f), "\\u20AC");
  EXPECT(item_is_text(&q.items[6], "\xf0\x9f\x98\x80", 4, 1.0f),
         "surrogate pair");
  EXPECT(item_is_text(&q.items[7], "Ax", 2, 1.0f), "\\u0041x");
  EXPECT(item_is_text(&q.items[8], "", 0, 1.0f), "empty string");
  /* Raw UTF-8 passes through. */
  i2v_query_free(&q);
  EXPECT(parse("[\"caf\xc3\xa9\"]", &q, err, sizeof(err)) == I2V_OK &&
             item_is_text(&q.items[0], "caf\xc3\xa9", 5, 1.0f),
         "raw UTF-8");
  i2v_query_free(&q);
}

static void test_json_errors(void) {
  static const struct {
    const char *in;
    const char *msg;
  } cases[] = {
      {"", "at offset 0: unexpected end"},
      {"[", "at offset 1: unexpected end"},
      {"[1,", "at offset 3: unexpected end"},
      {"[1", "at offset 2: unterminated array"},
      {"[1 2]", "at offset 3: expected ',' or ']'"},
      {"[1,]", "at offset 3: items must be strings or numbers"},
      {"[true]", "at offset 1: items must be strings or numbers"},
      {"[null]", "at offset 1: items must be strings or numbers"},
      {"[[1]]", "at offset 1: items must be strings or numbers"},
      {"[{\"positive\":1}]", "at offset 1: items must be strings or numbers"},
      {"[01]", "at offset 2: expected ',' or ']'"},
      {"[-]", "at offset 1: expected a string or a number"},
      {"[1.]", "at offset 1: digit expected after '.'"},
      {"[1e]", "at offset 1: digit expected in exponent"},
      {"[\"abc", "at offset 5: unterminated string"},
      {"[\"a\\", "at offset 4: unterminated escape"},
      {"[\"\\x\"]", "unknown escape '\\x'"},
      {"[\"a\tb\"]", "at offset 3: control character in string"},
      {"[\"\\u12\"]", "bad \\u escape"},
      {"[\"\\u12", "truncated \\u escape"},
      {"[\"\\ud83d\"]", "lone surrogate"},
      {"[\"\\ud83dx\"]", "lone surrogate"},
      {"[\"\\ude00\"]", "lone surrogate"},
      {"[\"\\ud83d\\u0041\"]", "bad surrogate pair"},
      {"[1] x", "at offset 4: unexpected text after the end"},
      {"[1]]", "at offset 3: unexpected text after the end"},
      {"{\"pos\":[1]}", "at offset 1: unknown member; expected \"positive\" or "
                        "\"negative\""},
      {"{\"positive\" [1]}", "at offset 12: expected ':'"},
      {"{positive:[1]}", "at offset 1: expected a member name in quotes"},
      {"{\"positive\":[1]", "at offset 15: unterminated object"},
      {"{\"positive\":[1];", "at offset 15: expected ',' or '}'"},
      {"{\"positive\":}", "at offset 12: items must be strings or numbers"},
      {"1", "at offset 0: expected '['"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    counting cnt;
    i2v_alloc a = counting_alloc(&cnt);
    i2v_query q;
    char err[256] = "";
    int rc = i2v_json_parse_query(cases[i].in, strlen(cases[i].in), &a, &q, err,
                                  sizeof(err));
    i2v_query_free(&q);
    EXPECT(rc == I2V_ERROR, "'%s' accepted (rc %d)", cases[i].in, rc);
    EXPECT(strncmp(err, "malformed JSON id at offset ", 28) == 0 &&
               strstr(err, cases[i].msg),
           "'%s': message '%s', expected '%s'", cases[i].in, err, cases[i].msg);
    EXPECT(cnt.live == 0, "'%s': %ld leaked", cases[i].in, cnt.live);
  }
}

static void test_json_nomem(void) {
  counting cnt;
  i2v_alloc a = counting_alloc(&cnt);
  const char *in = "{\"positive\":[1,2,3,4,5,6,7,8,9,10,\"x\"],\"negative\":[\"y\"]}";
  long f;
  for (f = 1; f < 50; f++) {
    i2v_query q;
    char err[128];
    cnt.calls = 0;
    cnt.fail_at = f;
    int rc = i2v_json_parse_query(in, strlen(in), &a, &q, err, sizeof(err));
    int n = (int)q.n;
    i2v_query_free(&q);
    EXPECT(cnt.live == 0, "%ld leaked failing allocation %ld", cnt.live, f);
    if (rc == I2V_OK) {
      EXPECT(n == 12, "%d items", n);
      break;
    }
    EXPECT(rc == I2V_NOMEM, "failing allocation %ld: rc %d", f, rc);
  }
  EXPECT(f > 2 && f < 50, "f = %ld", f);
}

/* ---- vector kernels --------------------------------------------------- */

static void test_vec_kernels(void) {
  uint64_t rs = 3;
  for (int dim = 1; dim <= 70; dim += 23) {
    size_t stride = i2v_row_stride(dim);
    EXPECT(stride >= (size_t)dim && stride % I2V_ROW_ALIGN == 0, "stride");
    float rows[5 * 80], q[80], out[5];
    for (size_t i = 0; i < 5 * stride; i++) rows[i] = (float)(uniform(&rs) - 0.5);
    for (int i = 0; i < dim; i++) q[i] = (float)(uniform(&rs) - 0.5);
    i2v_vec_scores(rows, stride, 5, q, dim, out);
    for (int r = 0; r < 5; r++) {
      double s = 0;
      for (int d = 0; d < dim; d++) s += (double)rows[r * stride + d] * q[d];
      EXPECT(fabs(s - out[r]) < 1e-5, "dim %d row %d: %g vs %g", dim, r, out[r], s);
    }
    double norm = i2v_vec_normalize(q, dim);
    EXPECT(norm > 0 && fabs(i2v_dot(q, q, dim) - 1.0f) < 1e-5, "normalize");
  }
  float zero[4] = {0, 0, 0, 0};
  EXPECT(i2v_vec_normalize(zero, 4) == 0 && zero[0] == 0, "zero vector");
  /* The loader's row: unit length, summed in four lanes (d mod 4), the
  ** largest |value| returned, padding zeroed; codes rounded as lrintf. */
  for (int dim = 1; dim <= 70; dim += 3) {
    size_t stride = i2v_row_stride(dim), cstride = ((size_t)dim + 31) & ~(size_t)31;
    float row[80], want[80];
    signed char codes[96];
    double lane[4] = {0, 0, 0, 0};
    for (size_t d = 0; d < stride; d++) row[d] = d < (size_t)dim ? (float)(uniform(&rs) - 0.5) * 1e3f : 7.0f;
    int whole = dim & ~3;
    for (int d = 0; d < dim; d++) lane[d < whole ? d % 4 : 0] += (double)row[d] * row[d];
    double inv = 1.0 / sqrt(lane[0] + lane[1] + lane[2] + lane[3]);
    float top = 0;
    for (int d = 0; d < dim; d++) {
      want[d] = (float)((double)row[d] * inv);
      top = fabsf(want[d]) > top ? fabsf(want[d]) : top;
    }
    float got = i2v_vec_unit_row(row, dim, stride);
    EXPECT(got == top, "dim %d: largest %g, not %g", dim, got, top);
    EXPECT(memcmp(row, want, (size_t)dim * sizeof(float)) == 0, "dim %d: row differs", dim);
    for (size_t d = (size_t)dim; d < stride; d++) EXPECT(row[d] == 0, "dim %d: padding", dim);
    float scale = 127.0f / top;
    memset(codes, 99, sizeof(codes));
    float unit = i2v_vec_quantize_i8(row, stride, 1, dim, top, codes, cstride);
    EXPECT(unit == top / 127.0f, "dim %d: unit %g", dim, unit);
    for (size_t d = 0; d < cstride; d++)
      EXPECT(codes[d] == (d < (size_t)dim ? (signed char)lrintf(row[d] * scale) : 0),
             "dim %d: code %zu is %d", dim, d, codes[d]);
  }
  float halves[8] = {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, 126.5f, -126.5f, 0.0f};
  signed char hc[32];
  i2v_vec_quantize_i8(halves, 8, 1, 8, 127.0f, hc, 32);
  EXPECT(hc[0] == 0 && hc[1] == 2 && hc[2] == 2 && hc[3] == 0 && hc[4] == -2 && hc[5] == 126 &&
             hc[6] == -126,
         "ties not to even: %d %d %d %d %d %d %d", hc[0], hc[1], hc[2], hc[3], hc[4], hc[5],
         hc[6]);
  float bad[16] = {1, 2, INFINITY, 3}, nan_row[16] = {1, NAN};
  EXPECT(i2v_vec_unit_row(bad, 4, 16) < 0 && bad[0] == 1, "an infinity passed");
  EXPECT(i2v_vec_unit_row(nan_row, 2, 16) < 0, "a NaN passed");
  float z[16] = {0, 0, 0};
  z[5] = 9;
  EXPECT(i2v_vec_unit_row(z, 3, 16) == 0 && z[5] == 0, "zero row");
  /* All zero: codes of 0, and a unit that is not 0. */
  EXPECT(i2v_vec_max_abs(z, 16, 1, 3) == 0 && i2v_vec_quantize_i8(z, 16, 1, 3, 0, hc, 32) > 0 &&
             hc[0] == 0 && hc[2] == 0,
         "zero rows' codes");
}

/* Every level this CPU runs gives the portable level's answers: the same
** bits for the loader's row and the codes, scores within float rounding. */
static void test_vec_levels(void) {
  const i2v_vec_kernels *base = i2v_vec_kernels_at(I2V_ISA_BASE);
  uint64_t rs = 5;
  EXPECT(i2v_isa_pick(I2V_ISA_AUTO) == i2v_isa_best() && i2v_isa_pick(I2V_ISA_BASE) == 0 &&
             i2v_isa_pick(I2V_ISA_AVX512) == i2v_isa_best(),
         "i2v_isa_pick");
  EXPECT(strlen(i2v_isa_name(i2v_isa_best())) > 0 &&
             strcmp(i2v_isa_name(I2V_ISA_AVX2), "avx2") == 0,
         "level names");
  enum { N = 21, DIM = 70 };
  size_t stride = i2v_row_stride(DIM), cstride = i2v_code_stride(DIM);
  float *rows = malloc(N * stride * sizeof(float)), *rows2 = malloc(N * stride * sizeof(float));
  float *orig = malloc(N * stride * sizeof(float));
  signed char *c1 = malloc(N * cstride), *c2 = malloc(N * cstride);
  float q[96] = {0}, qp[96], want[N], got[N], big1[N], big2[N];
  uint32_t idx[N];
  EXPECT(rows && rows2 && orig && c1 && c2, "out of memory");
  for (size_t i = 0; i < N * stride; i++) rows[i] = (float)(uniform(&rs) - 0.5) * 30.0f;
  for (int d = 0; d < DIM; d++) q[d] = (float)(uniform(&rs) - 0.5);
  for (int i = 0; i < N; i++) idx[i] = (uint32_t)((i * 7) % N);
  memcpy(orig, rows, N * stride * sizeof(float));
  for (int r = 0; r < N; r++) big1[r] = base->unit_row(rows + r * stride, DIM, stride);
  base->quantize_i8(rows, stride, N, DIM, 100.0f, c1, cstride);
  for (int level = I2V_ISA_BASE + 1; level <= i2v_isa_best(); level++) {
    const i2v_vec_kernels *k = i2v_vec_kernels_at(level);
    memcpy(rows2, orig, N * stride * sizeof(float));
    for (int r = 0; r < N; r++) big2[r] = k->unit_row(rows2 + r * stride, DIM, stride);
    EXPECT(memcmp(big1, big2, sizeof(big1)) == 0 && memcmp(rows, rows2, N * stride * 4) == 0,
           "%s: unit rows differ", i2v_isa_name(level));
    k->quantize_i8(rows, stride, N, DIM, 100.0f, c2, cstride);
    EXPECT(memcmp(c1, c2, N * cstride) == 0, "%s: codes differ", i2v_isa_name(level));
  }
  for (int level = I2V_ISA_BASE; level <= i2v_isa_best(); level++) {
    const i2v_vec_kernels *k = i2v_vec_kernels_at(level);
    const char *name = i2v_isa_name(level);
    base->scores(rows, stride, N, q, DIM, want);
    k->scores(rows, stride, N, q, DIM, got);
    for (int r = 0; r < N; r++) EXPECT(fabsf(got[r] - want[r]) < 1e-5f, "%s: scores", name);
    k->scores_idx(rows, stride, idx, N, q, DIM, got);
    for (int r = 0; r < N; r++)
      EXPECT(fabsf(got[r] - want[idx[r]]) < 1e-5f, "%s: scores_idx row %d", name, r);
    i2v_vec_i8_query(q, DIM, 1.0f / 100.0f, cstride, qp);
    k->scores_i8_rows(c1, cstride, N, qp, got);
    for (int r = 0; r < N; r++) {
      double s = 0;
      for (int d = 0; d < DIM; d++) s += (double)c1[r * cstride + d] * q[d] / 100.0;
      EXPECT(fabs(got[r] - s) < 1e-4, "%s: int8 row %d: %g, not %g", name, r, got[r], s);
      want[r] = got[r];
    }
    k->scores_i8(c1, cstride, idx, N, qp, got);
    for (int r = 0; r < N; r++)
      EXPECT(fabsf(got[r] - want[idx[r]]) < 1e-5f, "%s: scores_i8 row %d", name, r);
  }
  free(rows);
  free(rows2);
  free(orig);
  free(c1);
  free(c2);
}

/* ---- trainer ---------------------------------------------------------- */

/* A corpus of `nseq` sequences of `len` items; items form `nclusters` groups
** of `per` items and each sequence draws from one group only. */
typedef struct tiny_corpus {
  uint32_t *tokens;
  uint64_t *starts;
  uint64_t *counts;
  uint32_t nvocab;
  i2v_corpus c;
} tiny_corpus;

static void tiny_make(tiny_corpus *t, int nclusters, int per, int nseq, int len,
                      uint64_t seed) {
  t->nvocab = (uint32_t)(nclusters * per);
  t->tokens = malloc(sizeof(uint32_t) * (size_t)nseq * (size_t)len);
  t->starts = malloc(sizeof(uint64_t) * ((size_t)nseq + 1));
  t->counts = calloc(t->nvocab, sizeof(uint64_t));
  for (int s = 0; s < nseq; s++) {
    int cl = (int)(splitmix(&seed) % (uint64_t)nclusters);
    t->starts[s] = (uint64_t)s * (uint64_t)len;
    for (int i = 0; i < len; i++) {
      /* skewed within the cluster so counts differ */
      double u = uniform(&seed);
      uint32_t item = (uint32_t)(cl * per + (int)(u * u * per));
      t->tokens[(size_t)s * (size_t)len + (size_t)i] = item;
      t->counts[item]++;
    }
  }
  t->starts[nseq] = (uint64_t)nseq * (uint64_t)len;
  t->c.tokens = t->tokens;
  t->c.starts = t->starts;
  t->c.nseq = (uint64_t)nseq;
  t->c.ntokens = t->starts[nseq];
  t->c.longest = (uint64_t)len;
}

static void tiny_free(tiny_corpus *t) {
  free(t->tokens);
  free(t->starts);
  free(t->counts);
}

static void train_options(i2v_options *o, int sg, int workers) {
  i2v_options_init(o, workers, 0);
  o->sg = sg;
  o->vector_size = 16;
  o->window = 3;
  o->negative = 5;
  o->epochs = 5;
  o->sample = 0;
  o->seed = 11;
}

static double cosine(const i2v_trained *t, uint32_t a, uint32_t b) {
  const float *x = t->input + (size_t)a * t->stride, *y = t->input + (size_t)b * t->stride;
  double xy = 0, xx = 0, yy = 0;
  for (int d = 0; d < t->dim; d++) {
    xy += (double)x[d] * y[d];
    xx += (double)x[d] * x[d];
    yy += (double)y[d] * y[d];
  }
  return xy / sqrt(xx * yy + 1e-30);
}

/* Mean cosine within clusters minus mean cosine across them. */
static double cluster_margin(const i2v_trained *t, int per) {
  double in = 0, out = 0;
  long nin = 0, nout = 0;
  for (uint32_t a = 0; a < t->nvocab; a++)
    for (uint32_t b = a + 1; b < t->nvocab; b++) {
      double c = cosine(t, a, b);
      if ((int)a / per == (int)b / per)
        in += c, nin++;
      else
        out += c, nout++;
    }
  return in / (double)nin - out / (double)nout;
}

typedef struct poll_log {
  int calls, epoch_ends, cancel_after;
  uint64_t last_done, total;
  int went_back;
} poll_log;

static int log_poll(void *ctx, const i2v_progress *p) {
  poll_log *l = ctx;
  l->calls++;
  if (p->done < l->last_done) l->went_back = 1;
  l->last_done = p->done;
  l->total = p->total;
  if (p->done * (uint64_t)p->epochs >= p->total * (uint64_t)(p->epoch + 1))
    l->epoch_ends++;
  return l->cancel_after && l->calls >= l->cancel_after;
}

static void check_training(int sg) {
  tiny_corpus tc;
  i2v_options o;
  i2v_trained tr;
  char err[256] = "";
  poll_log log;
  memset(&log, 0, sizeof(log));
  tiny_make(&tc, 4, 10, 400, 12, 99);
  train_options(&o, sg, 1);
  int rc = i2v_train(&o, &i2v_libc_alloc, tc.counts, tc.nvocab, &tc.c, NULL,
                     log_poll, &log, &tr, err, sizeof(err));
  if (rc != I2V_OK) {
    tiny_free(&tc);
    EXPECT(0, "train failed: %d %s", rc, err);
  }
  double first = tr.epoch_loss[0], last = tr.epoch_loss[o.epochs - 1];
  double margin = cluster_margin(&tr, 10);
  uint64_t trained = tr.trained;
  int finite = 1;
  for (size_t i = 0; i < tr.nvocab * tr.stride; i++)
    if (!isfinite(tr.input[i])) finite = 0;
  i2v_trained_free(&tr, &i2v_libc_alloc);
  tiny_free(&tc);
  EXPECT(finite, "non-finite vector values");
  EXPECT(isfinite(first) && first > 0, "first epoch loss %g", first);
  EXPECT(last < first, "loss went from %g to %g", first, last);
  EXPECT(margin > 0.2, "clusters not learnt: within - across cosine = %.3f", margin);
  EXPECT(trained == 400u * 12u * 5u, "sample=0 kept %llu tokens of %u",
         (unsigned long long)trained, 400u * 12u * 5u);
  EXPECT(log.epoch_ends >= o.epochs && !log.went_back &&
             log.last_done == log.total && log.total == 400u * 12u * 5u,
         "progress: %d epoch ends, done %llu of %llu", log.epoch_ends,
         (unsigned long long)log.last_done, (unsigned long long)log.total);
}

static void test_train_sg(void) { check_training(1); }
static void test_train_cbow(void) { check_training(0); }

/* Train and return a copy of the input vectors (dim x nvocab, packed). */
static float *train_copy(const i2v_options *o, tiny_corpus *tc, char *err,
                         size_t errlen) {
  i2v_trained tr;
  if (i2v_train(o, &i2v_libc_alloc, tc->counts, tc->nvocab, &tc->c, NULL, NULL,
                NULL, &tr, err, errlen) != I2V_OK)
    return NULL;
  float *copy = malloc(sizeof(float) * tr.nvocab * (size_t)tr.dim);
  for (uint32_t i = 0; i < tr.nvocab; i++)
    memcpy(copy + (size_t)i * tr.dim, tr.input + (size_t)i * tr.stride,
           sizeof(float) * (size_t)tr.dim);
  i2v_trained_free(&tr, &i2v_libc_alloc);
  return copy;
}

static void test_train_deterministic(void) {
  tiny_corpus tc;
  i2v_options o;
  char err[256] = "";
  tiny_make(&tc, 3, 8, 200, 10, 5);
  for (int sg = 0; sg <= 1; sg++) {
    train_options(&o, sg, 1);
    o.sample = 1e-2; /* subsampling and shrinking windows draw random numbers */
    o.shuffle = sg;
    float *a = train_copy(&o, &tc, err, sizeof(err));
    float *b = train_copy(&o, &tc, err, sizeof(err));
    o.seed = 12;
    float *c = train_copy(&o, &tc, err, sizeof(err));
    size_t bytes = sizeof(float) * tc.nvocab * 16;
    int same = a && b && memcmp(a, b, bytes) == 0;
    int differs = a && c && memcmp(a, c, bytes) != 0;
    free(a);
    free(b);
    free(c);
    if (!same || !differs) tiny_free(&tc);
    EXPECT(same, "sg=%d workers=1: two runs with one seed differ (%s)", sg, err);
    EXPECT(differs, "sg=%d: seeds 11 and 12 gave the same vectors", sg);
  }
  tiny_free(&tc);
}

/* The trainer's kernels: every level this CPU runs computes the portable
** level's model (workers=1, one seed): each item's vector points the same
** way (cosine above 0.9999) and the losses agree to 1e-4, for skip-gram with
** and without shared negatives and for CBOW; i2v_trained.isa is the level
** that ran. */
static void test_train_levels(void) {
  tiny_corpus tc;
  char err[256] = "";
  tiny_make(&tc, 6, 12, 400, 10, 4);
  for (int mode = 0; mode < 3; mode++) {
    i2v_options o;
    i2v_trained base, t;
    train_options(&o, mode < 2, 1);
    o.vector_size = 24;
    o.window = 4;
    o.epochs = 3;
    o.shared_negatives = mode == 0;
    o.isa = I2V_ISA_BASE;
    int rc = i2v_train(&o, &i2v_libc_alloc, tc.counts, tc.nvocab, &tc.c, NULL, NULL, NULL, &base,
                       err, sizeof(err));
    if (rc != I2V_OK) tiny_free(&tc);
    EXPECT(rc == I2V_OK && base.isa == I2V_ISA_BASE, "mode %d: portable run: %d %s", mode, rc,
           err);
    for (int level = I2V_ISA_BASE + 1; level <= i2v_isa_best(); level++) {
      o.isa = level;
      rc = i2v_train(&o, &i2v_libc_alloc, tc.counts, tc.nvocab, &tc.c, NULL, NULL, NULL, &t, err,
                     sizeof(err));
      if (rc != I2V_OK) {
        i2v_trained_free(&base, &i2v_libc_alloc);
        tiny_free(&tc);
        EXPECT(0, "mode %d %s: %d %s", mode, i2v_isa_name(level), rc, err);
      }
      double worst = 1, rel = 0;
      for (uint32_t i = 0; i < tc.nvocab; i++) {
        const float *x = base.input + (size_t)i * base.stride, *y = t.input + (size_t)i * t.stride;
        double xy = 0, xx = 0, yy = 0;
        for (int d = 0; d < t.dim; d++) {
          xy += (double)x[d] * y[d];
          xx += (double)x[d] * x[d];
          yy += (double)y[d] * y[d];
        }
        double c = xy / sqrt(xx * yy + 1e-30);
        if (c < worst) worst = c;
      }
      for (int e = 0; e < o.epochs; e++) {
        double r = fabs(base.epoch_loss[e] - t.epoch_loss[e]) / fabs(base.epoch_loss[e]);
        if (r > rel) rel = r;
      }
      int isa = t.isa;
      i2v_trained_free(&t, &i2v_libc_alloc);
      if (worst <= 0.9999 || rel >= 1e-4 || isa != level) {
        i2v_trained_free(&base, &i2v_libc_alloc);
        tiny_free(&tc);
      }
      EXPECT(isa == level, "asked for %s, ran %s", i2v_isa_name(level), i2v_isa_name(isa));
      EXPECT(worst > 0.9999, "mode %d: %s and portable vectors: lowest cosine %.6f", mode,
             i2v_isa_name(level), worst);
      EXPECT(rel < 1e-4, "mode %d: %s and portable losses differ by %.2g", mode,
             i2v_isa_name(level), rel);
    }
    i2v_trained_free(&base, &i2v_libc_alloc);
  }
  tiny_free(&tc);
}

static void test_train_workers(void) {
  tiny_corpus tc;
  i2v_options o;
  i2v_trained tr;
  char err[256] = "";
  tiny_make(&tc, 4, 10, 400, 12, 17);
  train_options(&o, 1, 3);
  o.shrink_windows = 0;
  int rc = i2v_train(&o, &i2v_libc_alloc, tc.counts, tc.nvocab, &tc.c, NULL, NULL,
                     NULL, &tr, err, sizeof(err));
  tiny_free(&tc);
  EXPECT(rc == I2V_OK, "3 workers: %s", err);
  double first = tr.epoch_loss[0], last = tr.epoch_loss[o.epochs - 1];
  double margin = cluster_margin(&tr, 10);
  i2v_trained_free(&tr, &i2v_libc_alloc);
  EXPECT(last < first, "3 workers: loss went from %g to %g", first, last);
  EXPECT(margin > 0.2, "3 workers: clusters not learnt (%.3f)", margin);
}

static void test_train_cancel(void) {
  tiny_corpus tc;
  i2v_options o;
  i2v_trained tr;
  char err[256] = "";
  poll_log log;
  memset(&log, 0, sizeof(log));
  log.cancel_after = 1;
  tiny_make(&tc, 2, 5, 50, 6, 1);
  train_options(&o, 1, 1);
  counting cnt;
  i2v_alloc a = counting_alloc(&cnt);
  int rc = i2v_train(&o, &a, tc.counts, tc.nvocab, &tc.c, NULL, log_poll, &log,
                     &tr, err, sizeof(err));
  tiny_free(&tc);
  EXPECT(rc == I2V_CANCELLED, "rc %d (%s)", rc, err);
  EXPECT(strcmp(err, "interrupted") == 0, "message '%s'", err);
  EXPECT(tr.input == NULL && tr.epoch_loss == NULL, "results left after cancel");
  EXPECT(cnt.live == 0, "%ld blocks leaked", cnt.live);
}

static void test_train_errors(void) {
  tiny_corpus tc;
  i2v_options o;
  i2v_trained tr;
  char err[256] = "";
  counting cnt;
  i2v_alloc a = counting_alloc(&cnt);
  tiny_make(&tc, 2, 5, 50, 6, 1);
  train_options(&o, 1, 1);
  int rc = i2v_train(&o, &a, tc.counts, 0, &tc.c, NULL, NULL, NULL, &tr, err,
                     sizeof(err));
  EXPECT(rc == I2V_ERROR && strstr(err, "nothing to train on"), "empty: %d %s", rc,
         err);
  /* A matrix past the limit is refused before anything is allocated. */
  o.vector_size = 4096;
  cnt.calls = 0;
  rc = i2v_train(&o, &a, tc.counts, 3000000, &tc.c, NULL, NULL, NULL, &tr, err,
                 sizeof(err));
  EXPECT(rc == I2V_ERROR && strstr(err, "too large") && cnt.calls == 0,
         "huge: rc %d '%s', %ld allocations", rc, err, cnt.calls);
  /* Every failing allocation: NOMEM and nothing leaked. */
  train_options(&o, 0, 2);
  o.epochs = 1;
  long f;
  for (f = 1; f < 200; f++) {
    cnt.calls = 0;
    cnt.fail_at = f;
    rc = i2v_train(&o, &a, tc.counts, tc.nvocab, &tc.c, NULL, NULL, NULL, &tr,
                   err, sizeof(err));
    if (rc == I2V_OK) {
      i2v_trained_free(&tr, &a);
      break;
    }
    if (rc != I2V_NOMEM || cnt.live != 0) break;
  }
  tiny_free(&tc);
  EXPECT(rc == I2V_OK, "failing allocation %ld: rc %d '%s', %ld leaked", f, rc,
         err, cnt.live);
  EXPECT(f > 5 && cnt.live == 0, "f %ld live %ld", f, cnt.live);
}

/* A learning rate far too large: an error that says so, nothing returned,
** nothing leaked; the same data trains at the default rate. */
static void test_train_diverges(void) {
  tiny_corpus tc;
  i2v_options o;
  i2v_trained tr;
  char err[256] = "";
  counting cnt;
  i2v_alloc a = counting_alloc(&cnt);
  tiny_make(&tc, 4, 10, 400, 12, 7);
  for (int sg = 0; sg <= 1; sg++) {
    train_options(&o, sg, 1 + sg);
    o.alpha = 10; /* beyond what the parser accepts */
    o.min_alpha = 10;
    int rc = i2v_train(&o, &a, tc.counts, tc.nvocab, &tc.c, NULL, NULL, NULL, &tr, err,
                       sizeof(err));
    if (rc != I2V_ERROR) tiny_free(&tc);
    EXPECT(rc == I2V_ERROR, "sg=%d alpha=10: rc %d", sg, rc);
    EXPECT(strstr(err, "training diverged in epoch") && strstr(err, "lower alpha (it is 10;"),
           "sg=%d: message '%s'", sg, err);
    EXPECT(tr.input == NULL && tr.epoch_loss == NULL && cnt.live == 0,
           "sg=%d: results or %ld blocks left", sg, cnt.live);
  }
  train_options(&o, 1, 1);
  int rc = i2v_train(&o, &a, tc.counts, tc.nvocab, &tc.c, NULL, NULL, NULL, &tr, err, sizeof(err));
  tiny_free(&tc);
  EXPECT(rc == I2V_OK, "default alpha: %s", err);
  i2v_trained_free(&tr, &a);
}

/* With a starting point and a learning rate of ~0, vectors stay put. */
static void test_train_start(void) {
  tiny_corpus tc;
  i2v_options o;
  i2v_trained tr;
  char err[256] = "";
  tiny_make(&tc, 2, 5, 50, 6, 3);
  train_options(&o, 1, 1);
  o.alpha = 1e-9;
  o.min_alpha = 0;
  float init[10 * 16];
  for (int i = 0; i < 10 * 16; i++) init[i] = (float)(i % 7) - 3.0f;
  i2v_start st = {.input = init, .output = NULL, .n = 6}; /* items 6..9 start fresh */
  int rc = i2v_train(&o, &i2v_libc_alloc, tc.counts, tc.nvocab, &tc.c, &st, NULL,
                     NULL, &tr, err, sizeof(err));
  tiny_free(&tc);
  EXPECT(rc == I2V_OK, "%s", err);
  double maxdiff = 0, fresh_max = 0;
  for (int i = 0; i < 10; i++)
    for (int d = 0; d < 16; d++) {
      double x = tr.input[(size_t)i * tr.stride + (size_t)d];
      if (i < 6)
        maxdiff = fmax(maxdiff, fabs(x - init[i * 16 + d]));
      else
        fresh_max = fmax(fresh_max, fabs(x));
    }
  i2v_trained_free(&tr, &i2v_libc_alloc);
  EXPECT(maxdiff < 1e-4, "start vectors moved by %g", maxdiff);
  EXPECT(fresh_max > 0 && fresh_max <= 1.0 / 16 + 1e-6, /* gensim 4: [-1, 1) / dim */
         "fresh rows out of the initial range: %g", fresh_max);
}

int main(void) {
  run("options: defaults", test_options_defaults);
  run("options: every kind of value", test_options_kinds);
  run("options: unknown names list the valid ones", test_options_unknown);
  run("options: out of range", test_options_range);
  run("options: not numbers, trailing junk", test_options_not_numbers);
  run("options: min_alpha > alpha", test_options_min_alpha);
  run("options: any case, quoted values, hints, one option per argument", test_options_forgiving);
  run("options: out of memory", test_options_nomem);
  run("json: numbers are null when not finite", test_json_numbers);
  run("vocab: '1', 1 and 1.0 one key; '01', '1.5' distinct", test_vocab_keys);
  run("vocab: text and blob keys", test_vocab_text_blob);
  run("vocab: growth to 200k entries", test_vocab_growth);
  run("vocab: select and reorder", test_vocab_select);
  run("vocab: canonical integers", test_vocab_canonical_int);
  run("vocab: every allocation failure", test_vocab_nomem);
  run("vocab: bulk append and index match one add per value", test_vocab_bulk);
  run("vocab: bulk append and index, every allocation failure", test_vocab_bulk_nomem);
  run("vocab: ids colliding under the old hash spread out", test_vocab_adversarial_ids);
  run("vocab: index hooks report duplicates and cancel", test_vocab_index_hooks);
  run("corpus: min_count and max_final_vocab cut", test_corpus_cut);
  run("corpus: grouping matches a one-user-at-a-time reading", test_corpus_group);
  run("corpus: grouping in scan order and by key, ties stable", test_corpus_group_example);
  run("corpus: renumbering in place", test_corpus_renumber);
  run("corpus: every allocation failure", test_corpus_nomem);
  run("alias: unigram^0.75 draw frequencies", test_alias_unigram);
  run("alias: ns_exponent 0, 1, negative; one item", test_alias_exponents);
  run("alias: every allocation failure", test_alias_nomem);
  run("topk: random streams match a full sort", test_topk_random);
  run("topk: ties by index, k > n, k = 0", test_topk_ties_and_edges);
  run("filter: skip, only and min_frequency, row by row and by blocks", test_filter_random);
  run("filter: frequencies 0 and 1, empty lists", test_filter_edges);
  run("json: arrays", test_json_arrays);
  run("json: positive/negative objects", test_json_objects);
  run("json: escapes and surrogates", test_json_escapes);
  run("json: errors with offsets", test_json_errors);
  run("json: every allocation failure", test_json_nomem);
  run("vec: scores and normalisation", test_vec_kernels);
  run("vec: every instruction-set level this CPU runs agrees", test_vec_levels);
  run("train: skip-gram loss falls, clusters learnt", test_train_sg);
  run("train: CBOW loss falls, clusters learnt", test_train_cbow);
  run("train: workers=1 and a seed are bit-identical", test_train_deterministic);
  run("train: every instruction-set level gives the portable model", test_train_levels);
  run("train: 3 workers", test_train_workers);
  run("train: poll callback cancels", test_train_cancel);
  run("train: errors and every allocation failure", test_train_errors);
  run("train: starting vectors", test_train_start);
  run("train: divergence is an error naming alpha", test_train_diverges);
  return failed_tests ? 1 : 0;
}
