/* sql/recommend.h: the recommend_items table (sql/recommend.c), for the registration table. */
#ifndef I2V_SQL_RECOMMEND_H
#define I2V_SQL_RECOMMEND_H

#include "sql/common.h"

extern const sqlite3_module i2v_recommend_module;

#endif
