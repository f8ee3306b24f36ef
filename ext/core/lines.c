/*
** core/lines.c: the playlist tokenizer behind item2vec_lines (layout in
** core/lines.h).
**
** How it works.  Bytes come one at a time from the reader's decoded buffer
** (an inlined pointer compare in the common case).  Blanks, line ends and
** the header's comment lines are skipped; the bytes of the next item are
** appended to one buffer, reused from item to item and capped at max_item
** bytes, so a file that is not a playlist file (no whitespace for a
** gigabyte) ends in an error, not in exhausting memory.  The byte that ends
** an item is consumed with it; when it is a line end, the next item starts
** a new line.  Errors carry the line number.
*/
#include "core/lines.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void i2v_lines_init(i2v_lines *l, const i2v_alloc *a, i2v_reader *src, size_t max_item) {
  memset(l, 0, sizeof(*l));
  l->alloc = a;
  l->src = src;
  l->max_item = max_item ? max_item : 1;
  l->at_line = 1;
}

void i2v_lines_free(i2v_lines *l) {
  i2v_free(l->alloc, l->text);
  l->text = NULL;
  l->len = l->cap = 0;
}

static int lines_fail(i2v_lines *l, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int lines_fail(i2v_lines *l, int rc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(l->err, sizeof(l->err), fmt, ap);
  va_end(ap);
  l->len = 0;
  return rc;
}

static int source_error(i2v_lines *l) {
  if (i2v_reader_cancelled(l->src)) return lines_fail(l, I2V_CANCELLED, "interrupted");
  return lines_fail(l, I2V_ERROR, "line %llu: %s", (unsigned long long)l->at_line,
                    i2v_reader_errmsg(l->src));
}

static inline int is_blank(int ch) {
  return ch == ' ' || ch == '\t' || ch == '\v' || ch == '\f';
}

/* Past a line end (ch is '\n' or '\r'; the LF of a CRLF is consumed). */
static int end_line(i2v_lines *l, int ch) {
  if (ch == '\r') {
    i2v_reader *r = l->src;
    if (r->pos == r->end) {
      int f = i2v_reader_fill(r);
      if (f < 0) return source_error(l);
      if (f > 0 && *r->pos == '\n') r->pos++;
    } else if (*r->pos == '\n') {
      r->pos++;
    }
  }
  l->at_line++;
  l->in_line = 0;
  return I2V_OK;
}

/* Skip the rest of a comment line, its line end included. */
static int skip_comment(i2v_lines *l) {
  for (;;) {
    int ch = i2v_reader_getc(l->src);
    if (ch == -2) return source_error(l);
    if (ch == -1) {
      l->at_end = 1;
      return I2V_OK;
    }
    if (ch == '\n' || ch == '\r') return end_line(l, ch);
  }
}

/* Append ch to the item, growing the buffer up to max_item bytes. */
static int put(i2v_lines *l, int ch) {
  if (l->len + 1 >= l->cap) { /* room for ch and the closing NUL */
    if (l->len >= l->max_item)
      return lines_fail(l, I2V_ERROR,
                        "line %llu: item %llu is longer than %zu bytes (items are separated "
                        "by whitespace: is this a playlist file?)",
                        (unsigned long long)l->line, (unsigned long long)l->position, l->max_item);
    size_t cap = l->cap ? l->cap * 2 : 64;
    if (cap > l->max_item + 1) cap = l->max_item + 1;
    char *t = i2v_malloc(l->alloc, cap);
    if (!t) return lines_fail(l, I2V_NOMEM, "out of memory");
    if (l->len) memcpy(t, l->text, l->len);
    i2v_free(l->alloc, l->text);
    l->text = t;
    l->cap = cap;
  }
  l->text[l->len++] = (char)ch;
  return I2V_OK;
}

int i2v_lines_next(i2v_lines *l) {
  i2v_reader *r = l->src;
  int ch, rc;
  l->len = 0;
  if (l->at_end) return I2V_OK;
  if (!l->started) {
    l->started = 1;
    if (r->pos == r->end && i2v_reader_fill(r) < 0) return source_error(l);
    if (r->end - r->pos >= 3 && r->pos[0] == 0xef && r->pos[1] == 0xbb && r->pos[2] == 0xbf)
      r->pos += 3;
  }

  /* Blanks, line ends and the header's comments. */
  for (;;) {
    ch = i2v_reader_getc(r);
    if (ch == -2) return source_error(l);
    if (ch == -1) {
      l->at_end = 1;
      return I2V_OK;
    }
    if (ch == '\n' || ch == '\r') {
      if ((rc = end_line(l, ch)) != I2V_OK) return rc;
    } else if (ch == '#' && !l->header_done && !l->in_line) {
      if ((rc = skip_comment(l)) != I2V_OK) return rc;
      if (l->at_end) return I2V_OK;
    } else if (!is_blank(ch)) {
      break;
    }
  }

  /* The item: ch is its first byte. */
  if (!l->in_line) {
    l->in_line = 1;
    l->position = 0;
  }
  l->line = l->at_line;
  l->position++;
  for (;;) {
    if (ch == 0)
      return lines_fail(l, I2V_ERROR,
                        "line %llu: a NUL byte in item %llu; a playlist file is text (a "
                        "compressed file must be gzip or zip)",
                        (unsigned long long)l->line, (unsigned long long)l->position);
    if ((rc = put(l, ch)) != I2V_OK) return rc;
    ch = i2v_reader_getc(r);
    if (ch == -2) return source_error(l);
    if (ch == -1) {
      l->at_end = 1;
      break;
    }
    if (ch == '\n' || ch == '\r') {
      if ((rc = end_line(l, ch)) != I2V_OK) return rc;
      break;
    }
    if (is_blank(ch)) break;
  }
  l->text[l->len] = 0;
  l->header_done = 1;
  return I2V_OK;
}
