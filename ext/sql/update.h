/*
** sql/update.h: the update=1 flow of item2vec_train (sql/update.c).
*/
#ifndef I2V_SQL_UPDATE_H
#define I2V_SQL_UPDATE_H

#include "sql/source.h"
#include "sql/store.h"

typedef struct i2v_update_stats {
  uint64_t stored_items; /* items of the stored model */
  uint64_t seen_items;   /* of those, items the new source has */
  uint64_t new_items;    /* items added with fresh vectors */
} i2v_update_stats;

/* Options that only make sense with update=1 given without it: an error. */
int i2v_update_check(const i2v_options *o, const char *fname, char **pzErr);
/* Check the options that cannot change (vector_size, sg) against the stored
** model and take the stored value of every training option not given. */
int i2v_update_options(sqlite3 *db, const char *fname, const i2v_stored_model *sm, i2v_options *o,
                       char **pzErr);
/* Merge the stored vocabulary with the one read from the new source (read
** with min_count=1): stored items first, in their order, then new items with
** at least min_count occurrences (most frequent first, up to max_final_vocab
** items in all); counts add up.  Renumbers ds's sequences to match and takes
** sm's vocabulary over.  *rate (sqlite3_malloc'd, one per stored item) is the
** factor on alpha each stored item trains at. */
int i2v_update_merge(const char *fname, const char *source, i2v_stored_model *sm, i2v_dataset *ds,
                     const i2v_options *o, i2v_update_stats *us, float **rate, char **pzErr);

#endif
