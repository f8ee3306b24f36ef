/*
** core/csv.h: an RFC 4180 CSV tokenizer over an i2v_reader, one row at a
** time, and the rule that types each field as INTEGER, REAL or TEXT.
**
** RFC 4180 and what real files add: fields separated by a delimiter (comma
** by default); a field in double quotes may hold delimiters, newlines and
** doubled quotes ("" is one "); rows end in LF, CRLF or a lone CR; a UTF-8
** byte order mark at the start is skipped; empty lines are skipped; a quote
** inside an unquoted field is kept as an ordinary character.  No SQLite in
** here.
*/
#ifndef I2V_CSVTOK_H
#define I2V_CSVTOK_H

#include "core/common.h"
#include "core/reader.h"

typedef struct i2v_csv_field {
  size_t off; /* into text; the field is NUL-terminated there */
  size_t len;
  int quoted; /* the field was in double quotes */
} i2v_csv_field;

typedef struct i2v_csv {
  const i2v_alloc *alloc;
  i2v_reader *src;
  int delim;
  size_t max_row;    /* most bytes a row may hold */
  size_t max_fields; /* most fields a row may have */
  char *text;        /* the current row's fields, each NUL-terminated */
  size_t text_len, text_cap;
  i2v_csv_field *fields;
  size_t nfields, fields_cap;
  uint64_t line;     /* line number of the next byte (1-based) */
  uint64_t row_line; /* line the current row started on */
  int started;       /* the byte order mark was looked for */
  int at_end;
  char err[512];
} i2v_csv;

/* Start reading rows from src (which stays the caller's). */
void i2v_csv_init(i2v_csv *c, const i2v_alloc *a, i2v_reader *src, int delim, size_t max_row,
                  size_t max_fields);

/* Read the next row.  I2V_OK with nfields > 0 for a row, I2V_OK with
** nfields == 0 at the end, I2V_ERROR or I2V_NOMEM with c->err saying what
** (with the line number), I2V_CANCELLED when the reader's cancel callback
** stopped it. */
int i2v_csv_next(i2v_csv *c);

void i2v_csv_free(i2v_csv *c);

static inline const char *i2v_csv_text(const i2v_csv *c, size_t i) {
  return c->text + c->fields[i].off;
}

/* The type of a field as item2vec_csv reports it: I2V_INTEGER (*iv set) for
** a canonical integer that fits in 64 bits ("0", "-12"; not "007" or "+1"),
** I2V_FLOAT (*rv set) for a finite decimal with a fraction or an exponent
** ("4.0", "-1.5e3", ".5"), I2V_TEXT otherwise (empty included). */
int i2v_csv_classify(const char *s, size_t n, int64_t *iv, double *rv);

/* Length of the valid UTF-8 sequence at s[0..n-1] (1 to 4), or 0 when the
** bytes there are not one (overlong forms and surrogates included). */
int i2v_utf8_seq(const unsigned char *s, size_t n);

/* Replace each byte of s (NUL-terminated) that is not part of valid UTF-8
** with '?', so messages quoting names from damaged files stay text. */
void i2v_utf8_sanitize(char *s);

#endif
