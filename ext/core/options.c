/*
** core/options.c: the 'name=value' option parser of item2vec_train.
**
** How it works: one table row per option gives its name, its kind (integer,
** real, flag or text), where it lives in i2v_options, and its accepted range.
** Parsing is strict: the whole value must be a number of the right kind, in
** range and finite, or the caller gets a message naming the option and the
** range.  Names match without regard to ASCII case; a value in matching
** quotes ('model="x"') loses them.  An unknown name gets a message listing
** every valid one, after a hint where one helps: the nearest name for a
** typo, the gensim 4 name for a gensim 3 one (size, iter), what hs=1 would
** need.  A value holding a second 'name=value' ('epochs=1, window=3') is
** told to give one option per argument.
*/
#include "core/options.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { KIND_INT, KIND_INT64, KIND_REAL, KIND_TEXT };

typedef struct option_spec {
  const char *name;
  int kind;
  size_t offset;
  double min, max; /* inclusive range for numbers */
} option_spec;

#define OPT(name, kind, field, lo, hi) \
  { name, kind, offsetof(i2v_options, field), lo, hi }

static const option_spec option_table[] = {
    OPT("model", KIND_TEXT, model, 0, 0),
    OPT("order_by", KIND_TEXT, order_by, 0, 0),
    OPT("vector_size", KIND_INT, vector_size, 1, 4096),
    OPT("window", KIND_INT, window, 1, 1000),
    OPT("negative", KIND_INT, negative, 1, 1000),
    OPT("ns_exponent", KIND_REAL, ns_exponent, -10, 10),
    OPT("sample", KIND_REAL, sample, 0, 1),
    OPT("min_count", KIND_INT64, min_count, 1, 9.2e18),
    OPT("max_final_vocab", KIND_INT64, max_final_vocab, 0, 4294967295.0),
    OPT("sg", KIND_INT, sg, 0, 1),
    OPT("epochs", KIND_INT, epochs, 1, 10000),
    OPT("alpha", KIND_REAL, alpha, 1e-9, 1),
    OPT("min_alpha", KIND_REAL, min_alpha, 0, 1),
    OPT("shrink_windows", KIND_INT, shrink_windows, 0, 1),
    OPT("shuffle", KIND_INT, shuffle, 0, 1),
    OPT("workers", KIND_INT, workers, 1, 256),
    OPT("seed", KIND_INT64, seed, 0, 9.2e18),
    OPT("verbose", KIND_INT, verbose, 0, 1),
    OPT("save_context", KIND_INT, save_context, 0, 1),
    OPT("update", KIND_INT, update, 0, 1),
    OPT("stored_rate", KIND_REAL, stored_rate, 0, 1),
    OPT("shared_negatives", KIND_INT, shared_negatives, 0, 1),
};
#define N_OPTIONS ((int)(sizeof(option_table) / sizeof(option_table[0])))

void i2v_options_init(i2v_options *o, int ncpu, int verbose) {
  memset(o, 0, sizeof(*o));
  /* vector_size and epochs were chosen by measurement
  ** (scripts/eval_grid.py; docs/quality.md, "How the defaults were chosen"). */
  o->vector_size = 32;
  o->window = 5;
  o->negative = 5;
  o->ns_exponent = 0.75;
  o->sample = 1e-3;
  o->min_count = 1;
  o->max_final_vocab = 0;
  o->sg = 1;
  o->epochs = 10;
  o->alpha = 0.025;
  o->min_alpha = 0.0001;
  o->shrink_windows = 1;
  o->shuffle = 0;
  o->workers = ncpu < 1 ? 1 : (ncpu > 256 ? 256 : ncpu);
  o->seed = 1;
  o->verbose = verbose ? 1 : 0;
  o->stored_rate = 0.1;
  o->shared_negatives = 1;
  o->save_context = 1; /* recommend_items and update=1 need them */
  o->isa = I2V_ISA_AUTO;
}

static void set_err(char *err, size_t n, const char *fmt, ...) {
  va_list ap;
  if (!err || n == 0) return;
  va_start(ap, fmt);
  vsnprintf(err, n, fmt, ap);
  va_end(ap);
}

static char *dup_text(const i2v_alloc *a, const char *s, size_t n) {
  char *p = i2v_malloc(a, n + 1);
  if (!p) return NULL;
  memcpy(p, s, n);
  p[n] = 0;
  return p;
}

/* Edit distance (insertions, deletions, substitutions, ASCII case ignored)
** between a[0..n) and b, or max + 1 once it is certainly above max. */
static int edit_distance(const char *a, size_t n, const char *b, int max) {
  size_t m = strlen(b);
  int row[64];
  if (n >= 64 || m >= 64) return max + 1;
  for (size_t j = 0; j <= m; j++) row[j] = (int)j;
  for (size_t i = 1; i <= n; i++) {
    int diag = row[0], best = row[0] = (int)i;
    for (size_t j = 1; j <= m; j++) {
      int up = row[j];
      int cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
      int v = diag + cost;
      if (up + 1 < v) v = up + 1;
      if (row[j - 1] + 1 < v) v = row[j - 1] + 1;
      row[j] = v;
      diag = up;
      if (v < best) best = v;
    }
    if (best > max) return max + 1;
  }
  return row[m];
}

/* Names gensim uses that are not ours, with what to say about each. */
static const struct {
  const char *name, *hint;
} foreign_names[] = {
    {"size", "'size' is gensim 3's name: gensim 4 and item2vec call it 'vector_size'"},
    {"iter", "'iter' is gensim 3's name: gensim 4 and item2vec call it 'epochs'"},
    {"hs",
     "item2vec trains with negative sampling only ('negative', 5 by default): "
     "hierarchical softmax (hs=1) is not supported, drop the option"},
    {"cbow_mean", "CBOW always averages the context (cbow_mean=1)"},
};

int i2v_options_find(const char *name, size_t n) {
  for (int i = 0; i < N_OPTIONS; i++)
    if (strlen(option_table[i].name) == n && strncasecmp(option_table[i].name, name, n) == 0)
      return i;
  return -1;
}

void i2v_options_hint(const char *name, size_t n, const char *const *extra, char *buf, size_t len) {
  const char *best = NULL;
  int best_d = 3;
  buf[0] = 0;
  for (size_t i = 0; i < sizeof(foreign_names) / sizeof(foreign_names[0]); i++)
    if (strlen(foreign_names[i].name) == n && strncasecmp(foreign_names[i].name, name, n) == 0) {
      snprintf(buf, len, "%s; ", foreign_names[i].hint);
      return;
    }
  for (int i = 0; i < N_OPTIONS; i++) {
    int d = edit_distance(name, n, option_table[i].name, best_d - 1);
    if (d < best_d) best_d = d, best = option_table[i].name;
  }
  for (int i = 0; extra && extra[i]; i++) {
    int d = edit_distance(name, n, extra[i], best_d - 1);
    if (d < best_d) best_d = d, best = extra[i];
  }
  /* A near miss only when most of the name survives. */
  if (best && (size_t)best_d * 3 <= n) snprintf(buf, len, "did you mean '%s'? ", best);
}

/* Where a value holds what looks like a second option: the position of
** the comma or semicolon followed by a name and '=' ('1, window=3'), or -1. */
static long second_option_at(const char *v, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (v[i] != ',' && v[i] != ';') continue;
    size_t j = i + 1;
    while (j < n && (v[j] == ' ' || v[j] == '\t')) j++;
    size_t k = j;
    while (k < n && (isalnum((unsigned char)v[k]) || v[k] == '_')) k++;
    while (k < n && (v[k] == ' ' || v[k] == '\t')) k++;
    if (k > j && k < n && v[k] == '=') return (long)i;
  }
  return -1;
}

static void list_names(char *buf, size_t n) {
  size_t used = 0;
  buf[0] = 0;
  for (int i = 0; i < N_OPTIONS && used + 1 < n; i++) {
    int w = snprintf(buf + used, n - used, "%s%s", i ? ", " : "", option_table[i].name);
    if (w < 0) break;
    used += (size_t)w;
  }
}

static void range_text(const option_spec *s, char *buf, size_t n) {
  if (s->kind == KIND_REAL) {
    snprintf(buf, n, "a number from %g to %g", s->min, s->max);
  } else if (s->min == 0 && s->max == 1) {
    snprintf(buf, n, "0 or 1");
  } else if (s->max > 9e18) {
    snprintf(buf, n, "an integer of at least %.0f", s->min);
  } else {
    snprintf(buf, n, "an integer from %.0f to %.0f", s->min, s->max);
  }
}

int i2v_options_set(i2v_options *o, const char *arg, const char *fname, const i2v_alloc *a,
                    char *err, size_t errlen) {
  const char *eq;
  size_t nlen;
  const option_spec *spec = NULL;
  int idx = -1;
  if (!arg) {
    set_err(err, errlen, "%s: options must be 'name=value' strings, got NULL", fname);
    return I2V_ERROR;
  }
  eq = strchr(arg, '=');
  if (!eq) {
    set_err(err, errlen, "%s: option '%s' is not of the form 'name=value'", fname, arg);
    return I2V_ERROR;
  }
  nlen = (size_t)(eq - arg);
  while (nlen > 0 && (arg[nlen - 1] == ' ' || arg[nlen - 1] == '\t')) nlen--;
  while (nlen > 0 && (*arg == ' ' || *arg == '\t')) arg++, nlen--;
  idx = i2v_options_find(arg, nlen);
  if (idx < 0) {
    char names[512], hint[192];
    list_names(names, sizeof(names));
    i2v_options_hint(arg, nlen, NULL, hint, sizeof(hint));
    set_err(err, errlen, "%s: unknown option '%.*s'; %svalid options are %s", fname, (int)nlen, arg,
            hint, names);
    return I2V_ERROR;
  }
  spec = &option_table[idx];
  const char *val = eq + 1;
  while (*val == ' ' || *val == '\t') val++;
  size_t vlen = strlen(val);
  while (vlen > 0 && (val[vlen - 1] == ' ' || val[vlen - 1] == '\t')) vlen--;
  /* 'model="x"' means model x: one pair of matching quotes goes. */
  if (vlen >= 2 && (val[0] == '"' || val[0] == '\'') && val[vlen - 1] == val[0]) {
    val++;
    vlen -= 2;
  }
  long sep = second_option_at(val, vlen);
  if (sep >= 0) {
    int first = (int)sep, rest = (int)sep + 1;
    while (first > 0 && (val[first - 1] == ' ' || val[first - 1] == '\t')) first--;
    while ((size_t)rest < vlen && (val[rest] == ' ' || val[rest] == '\t')) rest++;
    set_err(err, errlen,
            "%s: option '%s' was given '%.*s': give one option per argument, as in "
            "'%s=%.*s', '%.*s'",
            fname, spec->name, (int)(vlen > 80 ? 80 : vlen), val, spec->name, first, val,
            (int)(vlen - (size_t)rest > 60 ? 60 : vlen - (size_t)rest), val + rest);
    return I2V_ERROR;
  }
  char *field = (char *)o + spec->offset;

  if (spec->kind == KIND_TEXT) {
    if (vlen == 0) {
      set_err(err, errlen, "%s: option '%s' needs a non-empty value", fname, spec->name);
      return I2V_ERROR;
    }
    char *copy = dup_text(a, val, vlen);
    if (!copy) return I2V_NOMEM;
    char **slot = (char **)field;
    i2v_free(a, *slot);
    *slot = copy;
    o->given |= (uint64_t)1 << idx;
    return I2V_OK;
  }

  char range[96], vbuf[64];
  range_text(spec, range, sizeof(range));
  if (vlen == 0 || vlen >= sizeof(vbuf)) {
    set_err(err, errlen, "%s: option '%s' must be %s, got '%.*s'", fname, spec->name, range,
            (int)(vlen > 40 ? 40 : vlen), val);
    return I2V_ERROR;
  }
  memcpy(vbuf, val, vlen);
  vbuf[vlen] = 0;
  char *end = NULL;
  errno = 0;
  if (spec->kind == KIND_REAL) {
    double d = strtod(vbuf, &end);
    if (*end != 0 || end == vbuf || !isfinite(d) || d < spec->min || d > spec->max) {
      set_err(err, errlen, "%s: option '%s' must be %s, got '%s'", fname, spec->name, range, vbuf);
      return I2V_ERROR;
    }
    memcpy(field, &d, sizeof(d));
  } else {
    long long v = strtoll(vbuf, &end, 10);
    if (*end != 0 || end == vbuf || errno == ERANGE || (double)v < spec->min ||
        (double)v > spec->max) {
      set_err(err, errlen, "%s: option '%s' must be %s, got '%s'", fname, spec->name, range, vbuf);
      return I2V_ERROR;
    }
    if (spec->kind == KIND_INT)
      *(int *)field = (int)v;
    else
      *(int64_t *)field = (int64_t)v;
  }
  o->given |= (uint64_t)1 << idx;
  return I2V_OK;
}

int i2v_options_check(const i2v_options *o, const char *fname, char *err, size_t errlen) {
  if (o->min_alpha > o->alpha) {
    set_err(err, errlen, "%s: option 'min_alpha' (%g) must not be greater than 'alpha' (%g)", fname,
            o->min_alpha, o->alpha);
    return I2V_ERROR;
  }
  return I2V_OK;
}

void i2v_options_free(i2v_options *o, const i2v_alloc *a) {
  i2v_free(a, o->model);
  i2v_free(a, o->order_by);
  o->model = o->order_by = NULL;
}

int i2v_options_count(void) {
  return N_OPTIONS;
}

int i2v_options_is_text(int i) {
  return i >= 0 && i < N_OPTIONS && option_table[i].kind == KIND_TEXT;
}

const char *i2v_options_model(const i2v_options *o) {
  return o->model ? o->model : "default";
}

const char *i2v_options_name(int i) {
  return (i >= 0 && i < N_OPTIONS) ? option_table[i].name : NULL;
}

char *i2v_options_value_json(const i2v_options *o, int i, char *buf, size_t n) {
  const option_spec *s = &option_table[i];
  const char *field = (const char *)o + s->offset;
  switch (s->kind) {
    case KIND_INT:
      snprintf(buf, n, "%d", *(const int *)field);
      break;
    case KIND_INT64:
      snprintf(buf, n, "%lld", (long long)*(const int64_t *)field);
      break;
    case KIND_REAL: {
      double d;
      memcpy(&d, field, sizeof(d));
      snprintf(buf, n, isfinite(d) ? "%.17g" : "null", d); /* JSON has no Inf or NaN */
      break;
    }
    default: {
      /* Text values are quoted by the caller, which can escape them. */
      const char *t = *(char *const *)field;
      snprintf(buf, n, "%s", t ? t : "");
    }
  }
  return buf;
}

int i2v_options_given(const i2v_options *o, const char *name) {
  for (int i = 0; i < N_OPTIONS; i++)
    if (strcmp(option_table[i].name, name) == 0) return (int)(o->given >> i & 1);
  return 0;
}
