/* sql/pca.h: the item2vec_project table (sql/pca.c), for the registration table. */
#ifndef I2V_SQL_PCA_H
#define I2V_SQL_PCA_H

#include "sql/common.h"

extern const sqlite3_module i2v_project_module;

#endif
