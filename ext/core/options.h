/*
** core/options.h: training options given to item2vec_train as 'name=value'
** strings, under gensim's names.  No SQLite in here: the parser takes plain
** strings and writes its complaint into a caller's buffer.
*/
#ifndef I2V_OPTIONS_H
#define I2V_OPTIONS_H

#include "core/common.h"

typedef struct i2v_options {
  char *model;             /* model name, 'default' */
  char *order_by;          /* column ordering each user's rows, or NULL */
  int vector_size;         /* 32 */
  int window;              /* 5 */
  int negative;            /* 5 */
  double ns_exponent;      /* 0.75 */
  double sample;           /* 1e-3 */
  int64_t min_count;       /* 1 */
  int64_t max_final_vocab; /* 0 = no limit */
  int sg;                  /* 1 = skip-gram, 0 = CBOW */
  int epochs;              /* 10 */
  double alpha;            /* 0.025 */
  double min_alpha;        /* 0.0001 */
  int shrink_windows;      /* 1 */
  int shuffle;             /* 0 */
  int workers;             /* number of cores */
  int64_t seed;            /* 1 */
  int verbose;             /* 1 when stderr is a terminal */
  int save_context;        /* 0; 1 stores the output (context) vectors too */
  int update;              /* 0; 1 continues training the stored model */
  double stored_rate;      /* 0.1; with update=1, stored items learn at alpha x this */
  int shared_negatives;    /* 1: skip-gram draws one set of negatives per
                              centre item for all its context items */
  uint64_t given;          /* bit i set when option i of the table was given */
  int isa;                 /* not an SQL option: the trainer's instruction-set
                              level, I2V_ISA_AUTO (the CPU's best) or a lower
                              one for tests and benchmarks (core/vec.h) */
} i2v_options;

/* Fill in the defaults. */
void i2v_options_init(i2v_options *o, int ncpu, int verbose);

/* Apply one "name=value" string.  On failure returns I2V_ERROR (or
** I2V_NOMEM) and writes "<fname>: <what is wrong>" into err. */
int i2v_options_set(i2v_options *o, const char *arg, const char *fname, const i2v_alloc *a,
                    char *err, size_t errlen);

/* Checks that need all options at once (min_alpha <= alpha). */
int i2v_options_check(const i2v_options *o, const char *fname, char *err, size_t errlen);

/* Release the strings the options own. */
void i2v_options_free(i2v_options *o, const i2v_alloc *a);

/* The number of the option called name[0..n) (ASCII case ignored), or -1. */
int i2v_options_find(const char *name, size_t n);

/* For an unknown option name[0..n): a hint ending in a blank to put before
** the list of valid names ("did you mean 'window'? ", "'size' is gensim
** 3's name for 'vector_size'; "), or "".  extra: more names a caller
** accepts (NULL-terminated), or NULL. */
void i2v_options_hint(const char *name, size_t n, const char *const *extra, char *buf, size_t len);

/* Describe option number i for reports: its name and its value as text
** (JSON: numbers bare, strings quoted).  Returns NULL past the last one. */
const char *i2v_options_name(int i);
int i2v_options_count(void);
/* 1 when option i takes text (the caller quotes it for JSON). */
int i2v_options_is_text(int i);
/* The model name, 'default' when none was given. */
const char *i2v_options_model(const i2v_options *o);
/* Write option i's value into buf (numbers as JSON, text raw); returns buf. */
char *i2v_options_value_json(const i2v_options *o, int i, char *buf, size_t n);
/* 1 when the option called name was given (not left at its default). */
int i2v_options_given(const i2v_options *o, const char *name);

#endif
