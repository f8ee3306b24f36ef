/* sql/scalar.h: the small scalar functions (sql/scalar.c), for the registration table. */
#ifndef I2V_SQL_SCALAR_H
#define I2V_SQL_SCALAR_H

#include "sql/common.h"

/* item2vec_version() */
void i2v_version_func(sqlite3_context *ctx, int argc, sqlite3_value **argv);
/* item2vec_to_json(blob) */
void i2v_to_json_func(sqlite3_context *ctx, int argc, sqlite3_value **argv);
/* item2vec_similarity(a, b [, model]); user data: the connection state */
void i2v_similarity_func(sqlite3_context *ctx, int argc, sqlite3_value **argv);
/* item2vec_vector(item [, model]); user data: the connection state */
void i2v_vector_func(sqlite3_context *ctx, int argc, sqlite3_value **argv);

#endif
