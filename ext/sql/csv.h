/* sql/csv.h: the item2vec_csv table (sql/csv.c). */
#ifndef I2V_SQL_CSV_H
#define I2V_SQL_CSV_H
#include "sql/store.h"
int i2v_register_csv(sqlite3 *db, i2v_conn *c);
#endif
