/*
** core/filter.c: which items a query may return (see core/filter.h).
*/
#include "core/filter.h"

#include <math.h>
#include <stdlib.h>

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : (x > y);
}

size_t i2v_rows_sort_unique(uint32_t *rows, size_t n) {
  if (n < 2) return n;
  qsort(rows, n, sizeof(uint32_t), cmp_u32);
  size_t w = 1;
  for (size_t r = 1; r < n; r++)
    if (rows[r] != rows[w - 1]) rows[w++] = rows[r];
  return w;
}

/* The first position of rows[0..n) (sorted) holding a row >= row. */
static size_t lower_bound(const uint32_t *rows, size_t n, size_t row) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (rows[mid] < row)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

int i2v_rows_contain(const uint32_t *rows, size_t n, uint32_t row) {
  size_t at = lower_bound(rows, n, row);
  return at < n && rows[at] == row;
}

int i2v_filter_passes(const i2v_filter *f, uint32_t row) {
  if (i2v_filter_by_frequency(f) && f->entries[row].count < f->min_frequency) return 0;
  if (f->nskip && i2v_rows_contain(f->skip, f->nskip, row)) return 0;
  if (f->has_only && !i2v_rows_contain(f->only, f->nonly, row)) return 0;
  return 1;
}

void i2v_filter_scores(const i2v_filter *f, size_t start, size_t len, float *scores) {
  size_t end = start + len;
  if (f->nskip) {
    for (size_t at = lower_bound(f->skip, f->nskip, start); at < f->nskip && f->skip[at] < end;
         at++)
      scores[f->skip[at] - start] = -INFINITY;
  }
  if (f->has_only) {
    /* Everything between two candidates goes. */
    size_t at = lower_bound(f->only, f->nonly, start), r = start;
    for (; r < end; r++) {
      if (at < f->nonly && f->only[at] == r)
        at++;
      else
        scores[r - start] = -INFINITY;
    }
  }
  if (i2v_filter_by_frequency(f)) {
    const i2v_vocab_entry *e = f->entries + start;
    for (size_t r = 0; r < len; r++)
      if (e[r].count < f->min_frequency) scores[r] = -INFINITY;
  }
}
