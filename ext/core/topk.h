/*
** core/topk.h: the k best (score, index) pairs of a stream, with a bounded
** min-heap: O(n log k) time, O(k) memory.  Ties go to the smaller index, so
** answers do not depend on the order rows were scanned in.  No SQLite here.
*/
#ifndef I2V_TOPK_H
#define I2V_TOPK_H

#include "core/common.h"

typedef struct i2v_scored {
  float score;
  uint32_t index;
} i2v_scored;

typedef struct i2v_topk {
  i2v_scored *heap; /* heap[0] is the worst of the kept ones */
  size_t n, k;
} i2v_topk;

/* heap must hold k entries. */
void i2v_topk_init(i2v_topk *t, i2v_scored *heap, size_t k);

/* 1 when (score,index) would enter the current top k. */
static inline int i2v_topk_better(float sa, uint32_t ia, float sb, uint32_t ib) {
  return sa > sb || (sa == sb && ia < ib);
}

void i2v_topk_push(i2v_topk *t, float score, uint32_t index);

/* The threshold a score must beat once the heap is full. */
static inline int i2v_topk_wants(const i2v_topk *t, float score) {
  return t->n < t->k || score >= t->heap[0].score;
}

/* Sort the kept entries best first (in place); returns how many. */
size_t i2v_topk_finish(i2v_topk *t);

#endif
