/* sql/eval.h: item2vec_evaluate (sql/eval.c), for the registration table. */
#ifndef I2V_SQL_EVAL_H
#define I2V_SQL_EVAL_H

#include "sql/common.h"

/* item2vec_evaluate(source, user_col, item_col, 'option=value', ...) */
void i2v_evaluate_func(sqlite3_context *ctx, int argc, sqlite3_value **argv);

#endif
