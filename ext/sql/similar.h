/* sql/similar.h: the similar_items table (sql/similar.c). */
#ifndef I2V_SQL_SIMILAR_H
#define I2V_SQL_SIMILAR_H
#include "sql/store.h"
int i2v_register_similar(sqlite3 *db, i2v_conn *c);
#endif
