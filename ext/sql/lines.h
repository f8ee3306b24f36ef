/* sql/lines.h: the item2vec_lines table (sql/lines.c), for the registration table. */
#ifndef I2V_SQL_LINES_H
#define I2V_SQL_LINES_H

#include "sql/common.h"

extern const sqlite3_module i2v_lines_module;

#endif
