/*
** core/json.h: the parser of similar_items' id argument when it is JSON:
**   '["1","2",3]'                      several items, weight +1 each
**   '{"positive":[1,2],"negative":[3]}' gensim's most_similar(positive, negative)
** Strings and numbers only; anything else is an error with its offset.
** No SQLite in here.
*/
#ifndef I2V_JSON_H
#define I2V_JSON_H

#include "core/common.h"
#include "core/vocab.h"

typedef struct i2v_query_item {
  i2v_value value; /* bytes point into the query's buffer or the input */
  float weight;    /* +1 positive, -1 negative */
} i2v_query_item;

typedef struct i2v_query {
  i2v_query_item *items;
  size_t n, cap;
  char *buf; /* unescaped strings */
  const i2v_alloc *alloc;
} i2v_query;

/* 1 when text (after leading blanks) starts with '[' or '{'. */
int i2v_json_looks_like(const char *text, size_t n);

/* Parse text into q (which the caller frees with i2v_query_free, also after
** an error).  Errors: I2V_ERROR with a message in err, or I2V_NOMEM. */
int i2v_json_parse_query(const char *text, size_t n, const i2v_alloc *a, i2v_query *q, char *err,
                         size_t errlen);

void i2v_query_free(i2v_query *q);

/* A number for JSON the extension writes: v in printf format fmt (one
** double conversion, as "%.6g"), or null when v is not finite, since JSON
** has no Inf or NaN.  Writes into buf and returns it. */
char *i2v_json_number(char *buf, size_t n, const char *fmt, double v);

#endif
