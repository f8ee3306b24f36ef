/* sql/pca.h: the item2vec_project table (sql/pca.c). */
#ifndef I2V_SQL_PCA_H
#define I2V_SQL_PCA_H
#include "sql/store.h"
int i2v_register_project(sqlite3 *db, i2v_conn *c);
#endif
