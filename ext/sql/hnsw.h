/*
** sql/hnsw.h: item2vec_index, and the stored approximate index of a loaded
** model for similar_items (sql/hnsw.c).
*/
#ifndef I2V_SQL_HNSW_H
#define I2V_SQL_HNSW_H

#include "sql/store.h"

/* Load model m's stored approximate index into m->index, once per loaded
** model (m->index stays NULL when there is none, or when it was built for
** other items).  A damaged index is an error, every time. */
int i2v_index_attach(sqlite3 *db, i2v_model *m, const char *fname, char **pzErr);

/* item2vec_index(model, 'option=value', ...) */
void i2v_index_func(sqlite3_context *ctx, int argc, sqlite3_value **argv);

#endif
