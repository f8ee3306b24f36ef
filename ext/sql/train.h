/* sql/train.h: item2vec_train (sql/train.c), for the registration table. */
#ifndef I2V_SQL_TRAIN_H
#define I2V_SQL_TRAIN_H

#include "sql/common.h"

/* item2vec_train(source, user_col, item_col, 'option=value', ...) */
void i2v_train_func(sqlite3_context *ctx, int argc, sqlite3_value **argv);

/* Refuse, before allocating it, a model whose training cannot fit in this
** machine's memory or under SQLite's heap limit (item2vec_evaluate too). */
int i2v_train_check_memory(sqlite3 *db, const char *fname, uint64_t items, int dim, char **pzErr);

#endif
