/*
** sql/hnsw.h: item2vec_index, and the stored approximate index of a loaded
** model for similar_items (sql/hnsw.c).
*/
#ifndef I2V_SQL_HNSW_H
#define I2V_SQL_HNSW_H

#include "sql/store.h"

struct i2v_hnsw;

/* Model m's stored approximate index into *out, loaded once per loaded
** model and kept on it (*out NULL when there is none, or when it was built
** for other items).  A damaged index is an error, every time. */
int i2v_index_attach(sqlite3 *db, i2v_model *m, const char *fname, struct i2v_hnsw **out,
                     char **pzErr);

/* item2vec_index(model, 'option=value', ...) */
void i2v_index_func(sqlite3_context *ctx, int argc, sqlite3_value **argv);

#endif
