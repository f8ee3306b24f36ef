/* sql/w2v.h: item2vec_export and item2vec_import (sql/w2v.c), for the registration table. */
#ifndef I2V_SQL_W2V_H
#define I2V_SQL_W2V_H

#include "sql/common.h"

/* item2vec_export(model, path [, 'binary=0|1']) */
void i2v_export_func(sqlite3_context *ctx, int argc, sqlite3_value **argv);
/* item2vec_import(path [, model [, 'binary=0|1']]) */
void i2v_import_func(sqlite3_context *ctx, int argc, sqlite3_value **argv);

#endif
