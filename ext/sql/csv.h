/* sql/csv.h: the item2vec_csv table (sql/csv.c), for the registration table. */
#ifndef I2V_SQL_CSV_H
#define I2V_SQL_CSV_H

#include "sql/common.h"

extern const sqlite3_module i2v_csv_module;

#endif
