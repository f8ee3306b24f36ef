/*
** core/w2v.h: word2vec's two file formats, as word2vec.c and gensim's
** KeyedVectors.load_word2vec_format / save_word2vec_format read and write
** them.  No SQLite in here.
**
** Text:   a header line "<count> <dimension>", then one line per item: its
**         name and <dimension> numbers, separated by spaces.
** Binary: the same header line, then per item its name, one space and
**         <dimension> little-endian float32 values (4 bytes each), usually
**         followed by a newline (word2vec.c writes one, gensim does not;
**         both read either).
** Names cannot contain whitespace in either format.
*/
#ifndef I2V_W2VFILE_H
#define I2V_W2VFILE_H

#include "core/common.h"
#include "core/reader.h"
#include "core/vocab.h"

#define I2V_W2V_MAX_DIM 65536
#define I2V_W2V_MAX_NAME 65535 /* bytes */

/* A file's contents: items in file order (name as I2V_TEXT; a canonical
** integer name keys as that integer) and their vectors, row i at
** vectors + i * dim. */
typedef struct i2v_w2v {
  i2v_vocab items;
  float *vectors;
  size_t n, cap;
  int dim;
  int all_int; /* every name is a canonical integer ("42", not "042") */
} i2v_w2v;

/* Read the whole file from r, text or binary.  Every problem is an error
** with its line (text) or item number (binary): a header that is not two
** counts, a dimension outside 1..I2V_W2V_MAX_DIM, a line with the wrong
** number of values, a value that is not a finite float32, a duplicate or
** empty name, a name that is not UTF-8, fewer or more items than the header
** says.  Returns I2V_OK, I2V_ERROR or I2V_NOMEM (err says what), or
** I2V_CANCELLED when the reader's cancel callback stopped the read. */
int i2v_w2v_read(i2v_reader *r, int binary, const i2v_alloc *a, i2v_w2v *out, char *err,
                 size_t errlen);
void i2v_w2v_free(i2v_w2v *m);

/* The one rule for item names, both ways (import refuses what export would
** not write): 1 to 65535 bytes of valid UTF-8 without a space or an ASCII
** control character.  NULL when name follows it, else what is wrong ("is
** empty", "is not valid UTF-8", ...). */
const char *i2v_w2v_name_problem(const char *name, size_t len);

/* Bytes a row needs in i2v_w2v_format_row's buffer. */
size_t i2v_w2v_row_bound(size_t name_len, int dim, int binary);

/* Format one row (name, values, newline) into buf; returns its length.
** Text values use the fewest digits that read back as the same float32. */
size_t i2v_w2v_format_row(char *buf, const char *name, size_t len, const float *v, int dim,
                          int binary);

#endif
