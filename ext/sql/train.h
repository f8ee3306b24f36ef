/* sql/train.h: item2vec_train (sql/train.c), for the registration table. */
#ifndef I2V_SQL_TRAIN_H
#define I2V_SQL_TRAIN_H

#include "sql/common.h"

/* item2vec_train(source, user_col, item_col, 'option=value', ...) */
void i2v_train_func(sqlite3_context *ctx, int argc, sqlite3_value **argv);

#endif
