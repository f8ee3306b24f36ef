/*
** core/csv.c: the CSV tokenizer behind item2vec_csv.
**
** How it works.  Bytes come one at a time from the reader's decoded buffer
** (an inlined pointer compare in the common case).  A small state machine
** appends each field's bytes to one growing row buffer, NUL-terminates it
** and records where it starts, its length and whether it was quoted.  The
** row buffer is reused from row to row and capped at max_row bytes, so an
** unterminated quote in a huge file ends in an error, not in exhausting
** memory.  Errors carry the line number where the row (or the quoted field)
** started.
*/
#include "core/csv.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/vocab.h"

void i2v_csv_init(i2v_csv *c, const i2v_alloc *a, i2v_reader *src, int delim, size_t max_row,
                  size_t max_fields) {
  memset(c, 0, sizeof(*c));
  c->alloc = a;
  c->src = src;
  c->delim = delim;
  c->max_row = max_row;
  c->max_fields = max_fields ? max_fields : 1;
  c->line = 1;
}

void i2v_csv_free(i2v_csv *c) {
  i2v_free(c->alloc, c->text);
  i2v_free(c->alloc, c->fields);
  c->text = NULL;
  c->fields = NULL;
  c->text_cap = c->fields_cap = 0;
}

static int csv_fail(i2v_csv *c, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int csv_fail(i2v_csv *c, int rc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->err, sizeof(c->err), fmt, ap);
  va_end(ap);
  c->nfields = 0;
  return rc;
}

static int grow_text(i2v_csv *c) {
  if (c->text_cap >= c->max_row)
    return csv_fail(c, I2V_ERROR,
                    "line %llu: the row is longer than %zu bytes (an unterminated "
                    "quote? max_row_bytes raises the limit)",
                    (unsigned long long)c->row_line, c->max_row);
  size_t cap = c->text_cap ? c->text_cap * 2 : 256;
  if (cap > c->max_row) cap = c->max_row;
  char *t = i2v_malloc(c->alloc, cap);
  if (!t) return csv_fail(c, I2V_NOMEM, "out of memory");
  if (c->text_len) memcpy(t, c->text, c->text_len);
  i2v_free(c->alloc, c->text);
  c->text = t;
  c->text_cap = cap;
  return I2V_OK;
}

static inline int put(i2v_csv *c, int ch) {
  if (c->text_len == c->text_cap) {
    int rc = grow_text(c);
    if (rc != I2V_OK) return rc;
  }
  c->text[c->text_len++] = (char)ch;
  return I2V_OK;
}

/* Close the field that started at text offset start. */
static int end_field(i2v_csv *c, size_t start, int quoted) {
  int rc = put(c, 0);
  if (rc != I2V_OK) return rc;
  if (c->nfields == c->fields_cap) {
    if (c->fields_cap >= c->max_fields)
      return csv_fail(c, I2V_ERROR, "line %llu: more than %zu fields in a row",
                      (unsigned long long)c->row_line, c->max_fields);
    size_t cap = c->fields_cap ? c->fields_cap * 2 : 16;
    if (cap > c->max_fields) cap = c->max_fields;
    i2v_csv_field *f = i2v_malloc(c->alloc, cap * sizeof(*f));
    if (!f) return csv_fail(c, I2V_NOMEM, "out of memory");
    if (c->nfields) memcpy(f, c->fields, c->nfields * sizeof(*f));
    i2v_free(c->alloc, c->fields);
    c->fields = f;
    c->fields_cap = cap;
  }
  i2v_csv_field *f = &c->fields[c->nfields++];
  f->off = start;
  f->len = c->text_len - 1 - start;
  f->quoted = quoted;
  return I2V_OK;
}

static int source_error(i2v_csv *c) {
  if (i2v_reader_cancelled(c->src)) return csv_fail(c, I2V_CANCELLED, "interrupted");
  return csv_fail(c, I2V_ERROR, "%s", i2v_reader_errmsg(c->src));
}

/* Consume the LF of a CRLF. */
static int eat_lf(i2v_csv *c) {
  i2v_reader *r = c->src;
  if (r->pos == r->end) {
    int f = i2v_reader_fill(r);
    if (f < 0) return source_error(c);
    if (f == 0) return I2V_OK;
  }
  if (*r->pos == '\n') r->pos++;
  return I2V_OK;
}

int i2v_csv_next(i2v_csv *c) {
  i2v_reader *r = c->src;
  int ch, rc;
  c->nfields = 0;
  c->text_len = 0;
  if (c->at_end) return I2V_OK;
  if (!c->started) {
    c->started = 1;
    if (r->pos == r->end && i2v_reader_fill(r) < 0) return source_error(c);
    if (r->end - r->pos >= 3 && r->pos[0] == 0xef && r->pos[1] == 0xbb && r->pos[2] == 0xbf)
      r->pos += 3;
  }

  /* Skip empty lines. */
  for (;;) {
    ch = i2v_reader_getc(r);
    if (ch == -2) return source_error(c);
    if (ch == -1) {
      c->at_end = 1;
      return I2V_OK;
    }
    if (ch == '\n') {
      c->line++;
    } else if (ch == '\r') {
      if ((rc = eat_lf(c)) != I2V_OK) return rc;
      c->line++;
    } else {
      break;
    }
  }
  c->row_line = c->line;

  for (;;) { /* one field per turn; ch is its first byte */
    size_t start = c->text_len;
    if (ch == '"') {
      uint64_t quote_line = c->line;
      for (;;) {
        ch = i2v_reader_getc(r);
        if (ch == -2) return source_error(c);
        if (ch == -1)
          return csv_fail(c, I2V_ERROR,
                          "line %llu: the quoted field %zu that starts there is never "
                          "closed",
                          (unsigned long long)quote_line, c->nfields + 1);
        if (ch == '"') {
          ch = i2v_reader_getc(r);
          if (ch != '"') break; /* the closing quote */
        } else if (ch == '\n') {
          c->line++;
        }
        if ((rc = put(c, ch)) != I2V_OK) return rc;
      }
      if (ch == -2) return source_error(c);
      if (ch != c->delim && ch != '\n' && ch != '\r' && ch != -1) {
        if (ch >= 0x20 && ch < 0x7f)
          return csv_fail(c, I2V_ERROR,
                          "line %llu: unexpected '%c' after the closing quote of "
                          "field %zu (a quote inside a quoted field is written \"\")",
                          (unsigned long long)c->line, ch, c->nfields + 1);
        return csv_fail(c, I2V_ERROR,
                        "line %llu: unexpected byte 0x%02x after the closing quote of "
                        "field %zu",
                        (unsigned long long)c->line, ch, c->nfields + 1);
      }
      if ((rc = end_field(c, start, 1)) != I2V_OK) return rc;
    } else {
      while (ch != c->delim && ch != '\n' && ch != '\r' && ch >= 0) {
        if ((rc = put(c, ch)) != I2V_OK) return rc;
        ch = i2v_reader_getc(r);
      }
      if (ch == -2) return source_error(c);
      if ((rc = end_field(c, start, 0)) != I2V_OK) return rc;
    }
    /* ch ends the field: the delimiter, a line end or the end of input. */
    if (ch == c->delim) {
      ch = i2v_reader_getc(r);
      if (ch == -2) return source_error(c);
      if (ch == '\n' || ch == '\r' || ch == -1) {
        /* A trailing delimiter: one more, empty field ends the row. */
        size_t s = c->text_len;
        if ((rc = end_field(c, s, 0)) != I2V_OK) return rc;
      } else {
        continue;
      }
    }
    if (ch == '\r' && (rc = eat_lf(c)) != I2V_OK) return rc;
    if (ch == '\n' || ch == '\r') c->line++;
    if (ch == -1) c->at_end = 1;
    return I2V_OK;
  }
}

int i2v_csv_classify(const char *s, size_t n, int64_t *iv, double *rv) {
  size_t i = 0;
  if (n == 0) return I2V_TEXT;
  if (i2v_parse_canonical_int(s, n, iv)) return I2V_INTEGER;
  if (n > 400) return I2V_TEXT;
  /* -?(0|[1-9][0-9]*)?(\.[0-9]*)?([eE][+-]?[0-9]+)? with a fraction or an
  ** exponent, and at least one digit before the exponent. */
  if (s[i] == '-') i++;
  size_t int_start = i;
  while (i < n && s[i] >= '0' && s[i] <= '9') i++;
  size_t int_digits = i - int_start;
  if (int_digits > 1 && s[int_start] == '0') return I2V_TEXT; /* 007.5 */
  size_t frac_digits = 0;
  int has_point = 0, has_exp = 0;
  if (i < n && s[i] == '.') {
    has_point = 1;
    i++;
    size_t fs = i;
    while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    frac_digits = i - fs;
  }
  if (int_digits + frac_digits == 0) return I2V_TEXT;
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    has_exp = 1;
    i++;
    if (i < n && (s[i] == '+' || s[i] == '-')) i++;
    size_t es = i;
    while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    if (i == es) return I2V_TEXT;
  }
  if (i != n || (!has_point && !has_exp)) return I2V_TEXT;
  char buf[401];
  char *end = NULL;
  memcpy(buf, s, n);
  buf[n] = 0;
  double d = strtod(buf, &end);
  if (end != buf + n || !isfinite(d)) return I2V_TEXT;
  *rv = d;
  return I2V_FLOAT;
}

int i2v_utf8_seq(const unsigned char *s, size_t n) {
  unsigned c = s[0];
  int k;
  uint32_t cp;
  if (n == 0) return 0;
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf)
    k = 1, cp = c & 0x1f;
  else if (c >= 0xe0 && c <= 0xef)
    k = 2, cp = c & 0x0f;
  else if (c >= 0xf0 && c <= 0xf4)
    k = 3, cp = c & 0x07;
  else
    return 0;
  if ((size_t)k >= n) return 0;
  for (int j = 1; j <= k; j++) {
    if ((s[j] & 0xc0) != 0x80) return 0;
    cp = cp << 6 | (s[j] & 0x3f);
  }
  if ((k == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
      (k == 3 && (cp < 0x10000 || cp > 0x10ffff)))
    return 0;
  return k + 1;
}

void i2v_utf8_sanitize(char *s) {
  unsigned char *u = (unsigned char *)s;
  size_t n = s ? strlen(s) : 0;
  for (size_t k = 0; k < n;) {
    int len = i2v_utf8_seq(u + k, n - k);
    if (len == 0) u[k] = '?', len = 1;
    k += (size_t)len;
  }
}
