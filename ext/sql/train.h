/* sql/train.h: item2vec_train (sql/train.c). */
#ifndef I2V_SQL_TRAIN_H
#define I2V_SQL_TRAIN_H
#include "sql/store.h"
int i2v_register_train(sqlite3 *db, i2v_conn *c);
#endif
