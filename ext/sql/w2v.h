/* sql/w2v.h: item2vec_import and item2vec_export (sql/w2v.c). */
#ifndef I2V_SQL_W2V_H
#define I2V_SQL_W2V_H
#include "sql/store.h"
int i2v_register_w2v(sqlite3 *db, i2v_conn *c);
#endif
