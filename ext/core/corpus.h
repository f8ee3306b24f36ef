/*
** core/corpus.h: the training corpus (one sequence of item indices per
** user) and the pure steps that build it from the rows of a scan: the
** vocabulary cut (min_count, max_final_vocab) with the items renumbered
** most frequent first, grouping by user with each history sorted by its
** key, and renumbering a corpus in place.  No SQLite in here: sql/source.c
** scans the table and hands over the rows; core/eval.c cuts its training
** vocabulary with the same function; sql/update.c renumbers.
*/
#ifndef I2V_CORPUS_H
#define I2V_CORPUS_H

#include "core/common.h"

/* "No index": an item the cut left out, a token to drop. */
#define I2V_CORPUS_NONE UINT32_MAX

/* Sequences back to back: sequence s is tokens[starts[s] .. starts[s+1]).
** A built corpus owns its arrays (i2v_corpus_free); one that points at
** someone else's arrays is never freed. */
typedef struct i2v_corpus {
  uint32_t *tokens;
  uint64_t *starts; /* nseq + 1 entries */
  uint64_t nseq;
  uint64_t ntokens; /* starts[nseq] - starts[0] */
  uint64_t longest; /* the longest sequence */
} i2v_corpus;

void i2v_corpus_free(i2v_corpus *c, const i2v_alloc *a);

/* The vocabulary cut over items 0..nitems-1 with counts[i] occurrences.
** order lists the items that occur (count > 0), most frequent first, ties by
** index; the first kept of them are kept: those with at least min_count
** occurrences (at least 1) and, when max_final_vocab > 0 and more items than
** that occur, more occurrences than the first item past max_final_vocab has
** (so ties at the limit are all dropped, as gensim does).  floor is the count
** a kept item needed.  remap[i] is item i's new index (its place in order)
** when kept, else I2V_CORPUS_NONE. */
typedef struct i2v_corpus_cut {
  uint32_t *order;  /* n entries */
  uint32_t *remap;  /* nitems entries */
  uint32_t n, kept; /* items that occur, items kept */
  uint64_t floor;
} i2v_corpus_cut;

/* I2V_OK or I2V_NOMEM (nothing left allocated).  kept may be 0. */
int i2v_corpus_cut_build(i2v_corpus_cut *cut, const uint64_t *counts, uint32_t nitems,
                         int64_t min_count, int64_t max_final_vocab, const i2v_alloc *a);
void i2v_corpus_cut_free(i2v_corpus_cut *cut, const i2v_alloc *a);

/* The rows of a scan: (user, item) index pairs in scan order, users in
** [0, nusers), and optionally one sort key per row (unsigned order). */
typedef struct i2v_corpus_rows {
  const uint32_t *pairs; /* 2 x n: user, item */
  const uint64_t *keys;  /* n, or NULL to keep scan order */
  size_t n;
  uint32_t nusers;
} i2v_corpus_rows;

/* Occurrences of each item 0..nitems-1 in the rows, into *counts
** (allocated with a).  I2V_OK or I2V_NOMEM. */
int i2v_corpus_count(const i2v_corpus_rows *rows, uint32_t nitems, const i2v_alloc *a,
                     uint64_t **counts);

/* One sequence per user, in user order, of the user's rows whose item
** remap[] keeps (remap[item] != I2V_CORPUS_NONE), renumbered by remap, in
** scan order or, with keys, by key with ties in scan order.  Users left with
** fewer than two items have no sequence.  *dropped_tokens counts the rows of
** items the cut left out.  I2V_OK (the corpus may be empty: nseq 0, no
** arrays) or I2V_NOMEM (out left empty). */
int i2v_corpus_group(const i2v_corpus_rows *rows, const uint32_t *remap, const i2v_alloc *a,
                     i2v_corpus *out, uint64_t *dropped_tokens);

/* Renumber the tokens of c in place by map (I2V_CORPUS_NONE drops the
** token), then drop the sequences left with fewer than two items; nseq,
** ntokens and longest follow.  *dropped_tokens counts the tokens dropped
** by map.  Cannot fail. */
void i2v_corpus_renumber(i2v_corpus *c, const uint32_t *map, uint64_t *dropped_tokens);

#endif
