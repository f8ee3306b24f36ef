/* sql/similar.h: the similar_items table (sql/similar.c), for the registration table. */
#ifndef I2V_SQL_SIMILAR_H
#define I2V_SQL_SIMILAR_H

#include "sql/common.h"

extern const sqlite3_module i2v_similar_module;

#endif
