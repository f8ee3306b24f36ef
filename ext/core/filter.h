/*
** core/filter.h: which items a query may return.  similar_items (and
** recommend_items) leave items out by three rules, all given as model rows:
**   - skip: rows never returned (the query's own items, `exclude`, a
**     user's history);
**   - only: when given, the only rows that may be returned;
**   - min_frequency: rows seen fewer times in training (the stored
**     frequency, the vocabulary entry's count) are never returned.
** A scorer asks about one row (i2v_filter_passes) or marks a block of scores
** (i2v_filter_scores) before offering them to its top k.  No SQLite here.
*/
#ifndef I2V_FILTER_H
#define I2V_FILTER_H

#include "core/common.h"
#include "core/vocab.h"

typedef struct i2v_filter {
  const uint32_t *skip; /* sorted, unique (i2v_rows_sort_unique) */
  size_t nskip;
  const uint32_t *only; /* sorted, unique; used when has_only */
  size_t nonly;
  int has_only;
  const i2v_vocab_entry *entries; /* the model's items; needed when min_frequency > 1 */
  uint64_t min_frequency;         /* 0 or 1: every frequency passes */
} i2v_filter;

/* 1 when row may be returned. */
int i2v_filter_passes(const i2v_filter *f, uint32_t row);

/* Set to -INFINITY the scores of the rows [start, start + len) that may not
** be returned (scores[r] is row start + r).  A top k that only takes scores
** above -INFINITY then never keeps them. */
void i2v_filter_scores(const i2v_filter *f, size_t start, size_t len, float *scores);

/* 1 when the filter has a min_frequency rule (some rows may fail it). */
static inline int i2v_filter_by_frequency(const i2v_filter *f) {
  return f->min_frequency > 1;
}

/* Sort rows[0..n) and drop duplicates; returns the new count. */
size_t i2v_rows_sort_unique(uint32_t *rows, size_t n);

/* 1 when row is in rows[0..n) (sorted). */
int i2v_rows_contain(const uint32_t *rows, size_t n, uint32_t row);

#endif
