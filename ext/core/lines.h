/*
** core/lines.h: a tokenizer of playlist files over an i2v_reader: one
** sequence per line, items separated by whitespace, as gensim's
** LineSentence, word2vec.c and fastText read their input.  It hands out one
** item at a time with its line number and its position in the line, so
** memory stays at one item however long a line is.
**
** The layout: items are runs of bytes other than ASCII whitespace (space,
** tab, vertical tab, form feed) and line ends (LF, CRLF or a lone CR);
** blank lines are skipped; lines whose first non-blank byte is '#' are
** comments while they come before the first item (a header), and a '#'
** after that is part of an item; a UTF-8 byte order mark at the start is
** skipped; a NUL byte is an error (the file is not text).  Items are typed
** by i2v_csv_classify (core/csv.h).  No SQLite in here.
*/
#ifndef I2V_LINES_H
#define I2V_LINES_H

#include "core/common.h"
#include "core/reader.h"

typedef struct i2v_lines {
  const i2v_alloc *alloc;
  i2v_reader *src;
  size_t max_item;   /* most bytes an item may hold */
  char *text;        /* the current item, NUL-terminated */
  size_t len, cap;   /* its length (0 at the end) and the buffer's size */
  uint64_t line;     /* line of the current item (1-based) */
  uint64_t position; /* its position in the line (1-based) */
  uint64_t at_line;  /* line of the next byte */
  int in_line;       /* an item of the line at_line was handed out */
  int started;       /* the byte order mark was looked for */
  int header_done;   /* an item was handed out: '#' starts no more comments */
  int at_end;
  char err[512];
} i2v_lines;

/* Start reading items from src (which stays the caller's). */
void i2v_lines_init(i2v_lines *l, const i2v_alloc *a, i2v_reader *src, size_t max_item);

/* Read the next item.  I2V_OK with len > 0 for an item (text, line,
** position set), I2V_OK with len == 0 at the end, I2V_ERROR or I2V_NOMEM
** with l->err saying what (with the line number), I2V_CANCELLED ("interrupted")
** when the reader's cancel callback stopped it. */
int i2v_lines_next(i2v_lines *l);

void i2v_lines_free(i2v_lines *l);

#endif
