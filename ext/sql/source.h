/*
** sql/source.h: reading sequences and the vocabulary from an interaction
** table or view (sql/source.c), for item2vec_train and item2vec_evaluate.
*/
#ifndef I2V_SQL_SOURCE_H
#define I2V_SQL_SOURCE_H

#include "core/corpus.h"
#include "sql/common.h"

/* A source read: the corpus and what the summary reports about the read. */
typedef struct i2v_dataset {
  i2v_corpus corpus; /* one sequence per user with two or more kept items */
  i2v_vocab items;   /* kept items, most frequent first; count = occurrences */
  uint64_t *counts;  /* counts[i] of items entry i */
  uint64_t rows;     /* rows read */
  uint64_t users;    /* distinct users */
  uint64_t null_users, null_items;
  uint64_t dropped_items; /* distinct items under min_count / max_final_vocab */
  uint64_t dropped_tokens;
  char *schema, *table; /* resolved source */
} i2v_dataset;

/* The (source, user_col, item_col) arguments of item2vec_train and
** item2vec_evaluate into names[0..3): SQLITE_ERROR with *pzErr naming the
** argument when one is not a non-empty text. */
int i2v_source_args(sqlite3_value **argv, const char *fname, const char *names[3], char **pzErr);
int i2v_source_read(sqlite3 *db, const char *fname, const char *source, const char *user_col,
                    const char *item_col, const i2v_options *o, i2v_dataset *ds, char **pzErr);
void i2v_dataset_free(i2v_dataset *ds);

#endif
