/* sql/eval.h: item2vec_evaluate (sql/eval.c). */
#ifndef I2V_SQL_EVAL_H
#define I2V_SQL_EVAL_H
#include "sql/store.h"
int i2v_register_evaluate(sqlite3 *db, i2v_conn *c);
#endif
