/*
** core/topk.c: bounded min-heap for the top k of similar_items.
*/
#include "core/topk.h"

#include <stdlib.h>

void i2v_topk_init(i2v_topk *t, i2v_scored *heap, size_t k) {
  t->heap = heap;
  t->n = 0;
  t->k = k;
}

/* "a is worse than b": the heap keeps the worst on top. */
static int worse(const i2v_scored *a, const i2v_scored *b) {
  return i2v_topk_better(b->score, b->index, a->score, a->index);
}

static void sift_down(i2v_scored *h, size_t n, size_t i) {
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < n && worse(&h[l], &h[m])) m = l;
    if (r < n && worse(&h[r], &h[m])) m = r;
    if (m == i) return;
    i2v_scored tmp = h[i];
    h[i] = h[m];
    h[m] = tmp;
    i = m;
  }
}

void i2v_topk_push(i2v_topk *t, float score, uint32_t index) {
  if (t->k == 0) return;
  if (t->n < t->k) {
    size_t i = t->n++;
    t->heap[i].score = score;
    t->heap[i].index = index;
    while (i > 0) {
      size_t p = (i - 1) / 2;
      if (!worse(&t->heap[i], &t->heap[p])) break;
      i2v_scored tmp = t->heap[i];
      t->heap[i] = t->heap[p];
      t->heap[p] = tmp;
      i = p;
    }
    return;
  }
  if (!i2v_topk_better(score, index, t->heap[0].score, t->heap[0].index)) return;
  t->heap[0].score = score;
  t->heap[0].index = index;
  sift_down(t->heap, t->n, 0);
}

size_t i2v_topk_finish(i2v_topk *t) {
  /* Heap sort: repeatedly move the worst to the end. */
  size_t n = t->n;
  for (size_t end = n; end > 1; end--) {
    i2v_scored tmp = t->heap[0];
    t->heap[0] = t->heap[end - 1];
    t->heap[end - 1] = tmp;
    sift_down(t->heap, end - 1, 0);
  }
  return n;
}
