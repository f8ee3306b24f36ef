/* sql/drop.h: item2vec_drop (sql/drop.c), for the registration table. */
#ifndef I2V_SQL_DROP_H
#define I2V_SQL_DROP_H

#include "sql/common.h"

/* item2vec_drop(model); user data: the connection state */
void i2v_drop_func(sqlite3_context *ctx, int argc, sqlite3_value **argv);

#endif
