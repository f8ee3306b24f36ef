/*
** core/w2v.c: reading and writing word2vec text and binary files (see
** core/w2v.h for the formats).  item2vec_import and item2vec_export
** (sql/w2v.c) are built on it.
**
** How it works.  Reading streams the file through an i2v_reader (so .gz
** files are read the same way), keeps the names in an i2v_vocab (which
** finds duplicates) and the vectors in one array that grows as rows arrive,
** never trusting the header's count for an allocation.  Text lines are read
** into one reused buffer capped at a size the dimension justifies; numbers
** are parsed with strtof and must be finite float32 values.  Binary rows are
** a name up to the first space and 4 * dimension bytes, converted from
** little-endian whatever the host.  Writing formats one row at a time into a
** caller's buffer; text values get the fewest significant digits (6 to 9)
** that read back as the same float32, so text files round-trip exactly.
*/
#include "core/w2v.h"

#include "core/csv.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct w2v_parse {
  i2v_reader *r;
  const i2v_alloc *a;
  i2v_w2v *m;
  uint64_t expect; /* items the header announces */
  char *line;      /* text: the current line, NUL-terminated */
  size_t len, cap, max;
  uint64_t lineno;
  char *err;
  size_t errlen;
} w2v_parse;

static int perr(w2v_parse *p, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int perr(w2v_parse *p, int rc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(p->err, p->errlen, fmt, ap);
  va_end(ap);
  return rc;
}

static int reader_error(w2v_parse *p) {
  if (i2v_reader_cancelled(p->r)) return perr(p, I2V_CANCELLED, "interrupted");
  return perr(p, I2V_ERROR, "%s", i2v_reader_errmsg(p->r));
}

/* A name for an error message: at most 40 bytes, control bytes as '?',
** bytes of invalid UTF-8 as '?'. */
static const char *shown(const char *s, size_t n, int utf8_ok, char *buf) {
  size_t k = n > 40 ? 40 : n, j = 0;
  for (size_t i = 0; i < k; i++) {
    unsigned char c = (unsigned char)s[i];
    buf[j++] = (c < 0x20 || c == 0x7f || (!utf8_ok && c >= 0x80)) ? '?' : (char)c;
  }
  if (k < n) {
    /* Do not cut a UTF-8 sequence in two. */
    while (j > 0 && ((unsigned char)buf[j - 1] & 0xc0) == 0x80) j--;
    if (j > 0 && (unsigned char)buf[j - 1] >= 0xc0) j--;
    memcpy(buf + j, "...", 3);
    j += 3;
  }
  buf[j] = 0;
  return buf;
}

static int utf8_valid(const unsigned char *s, size_t n) {
  for (size_t i = 0; i < n;) {
    int k = i2v_utf8_seq(s + i, n - i);
    if (k == 0 || s[i] == 0) return 0;
    i += (size_t)k;
  }
  return 1;
}

const char *i2v_w2v_name_problem(const char *name, size_t len) {
  if (len == 0) return "is empty";
  if (len > I2V_W2V_MAX_NAME) return "is longer than 65535 bytes";
  for (size_t i = 0; i < len; i++)
    if ((unsigned char)name[i] <= 0x20 || name[i] == 0x7f)
      return "contains a space or a control character";
  if (!utf8_valid((const unsigned char *)name, len)) return "is not valid UTF-8";
  return NULL;
}

void i2v_w2v_free(i2v_w2v *m) {
  i2v_vocab_free(&m->items);
  if (m->items.alloc) i2v_free(m->items.alloc, m->vectors);
  m->vectors = NULL;
  m->n = m->cap = 0;
}

/* Room for one more row; its index is m->n. */
static int reserve_row(w2v_parse *p) {
  i2v_w2v *m = p->m;
  if (m->n < m->cap) return I2V_OK;
  size_t cap = m->cap ? m->cap * 2 : 1024;
  if (cap > p->expect) cap = (size_t)p->expect;
  int ovf = 0;
  size_t bytes = i2v_mul_size(i2v_mul_size(cap, (size_t)m->dim, &ovf), sizeof(float), &ovf);
  if (ovf) return perr(p, I2V_NOMEM, "out of memory (%zu vectors of %d values)", cap, m->dim);
  float *v = i2v_malloc(p->a, bytes);
  if (!v) return perr(p, I2V_NOMEM, "out of memory (%zu vectors of %d values)", cap, m->dim);
  if (m->n) memcpy(v, m->vectors, m->n * (size_t)m->dim * sizeof(float));
  i2v_free(p->a, m->vectors);
  m->vectors = v;
  m->cap = cap;
  return I2V_OK;
}

/* Add a name; where says where it came from ("line 3", "item 3"). */
static int add_name(w2v_parse *p, const char *name, size_t len, const char *where) {
  char buf[64];
  /* The one rule for names, as export checks it (i2v_w2v_name_problem). */
  const char *problem = i2v_w2v_name_problem(name, len);
  if (problem && len == 0) return perr(p, I2V_ERROR, "%s: an empty item name", where);
  if (problem)
    return perr(p, I2V_ERROR, "%s: item name '%s' %s", where,
                shown(name, len, utf8_valid((const unsigned char *)name, len), buf), problem);
  i2v_value v = {I2V_TEXT, 0, 0, name, len};
  int added = 0;
  int64_t idx = i2v_vocab_add(&p->m->items, &v, &added);
  if (idx < 0) return perr(p, I2V_NOMEM, "out of memory (or more than 2^32-2 items)");
  if (!added)
    return perr(p, I2V_ERROR, "%s: duplicate item '%s' (also item %lld)", where,
                shown(name, len, 1, buf), (long long)idx + 1);
  if (!p->m->items.entries[idx].key_is_int) p->m->all_int = 0;
  return I2V_OK;
}

/* ---------------------------------------------------------------- text */

/* The next line without its line end: 1, 0 at the end of input, or an
** error code (negated). */
static int read_line(w2v_parse *p) {
  p->len = 0;
  int c, any = 0;
  while ((c = i2v_reader_getc(p->r)) >= 0) {
    any = 1;
    if (c == '\n') break;
    if (p->len + 1 >= p->cap) {
      if (p->cap >= p->max)
        return -perr(p, I2V_ERROR, "line %llu is longer than %zu bytes",
                     (unsigned long long)p->lineno + 1, p->max);
      size_t cap = p->cap ? p->cap * 2 : 4096;
      if (cap > p->max) cap = p->max;
      char *b = i2v_malloc(p->a, cap);
      if (!b) return -perr(p, I2V_NOMEM, "out of memory");
      if (p->len) memcpy(b, p->line, p->len);
      i2v_free(p->a, p->line);
      p->line = b;
      p->cap = cap;
    }
    p->line[p->len++] = (char)c;
  }
  if (c == -2) return -reader_error(p);
  if (!any) return 0;
  p->lineno++;
  if (p->len && p->line[p->len - 1] == '\r') p->len--;
  if (!p->line) { /* an empty first line */
    p->line = i2v_malloc(p->a, 1);
    if (!p->line) return -perr(p, I2V_NOMEM, "out of memory");
    p->cap = 1;
  }
  p->line[p->len] = 0;
  return 1;
}

static int is_blank(const char *s) {
  while (*s == ' ' || *s == '\t') s++;
  return *s == 0;
}

static int parse_count(const char **s, uint64_t *out) {
  const char *p = *s;
  uint64_t v = 0;
  while (*p == ' ' || *p == '\t') p++;
  if (*p < '0' || *p > '9') return 0;
  while (*p >= '0' && *p <= '9') {
    if (v > (UINT64_MAX - 9) / 10) return 0;
    v = v * 10 + (uint64_t)(*p++ - '0');
  }
  *s = p;
  *out = v;
  return 1;
}

static int read_header(w2v_parse *p) {
  uint64_t n = 0, d = 0;
  char buf[64];
  int rc;
  /* The header is one short line in both formats. */
  p->max = 4096;
  rc = read_line(p);
  if (rc < 0) return -rc;
  if (rc == 0) return perr(p, I2V_ERROR, "the file is empty (no header line)");
  const char *s = p->line;
  if (memchr(p->line, 0, p->len) || !parse_count(&s, &n) || !parse_count(&s, &d) || !is_blank(s))
    return perr(p, I2V_ERROR,
                "line 1: expected the header '<count> <dimension>' (as in '9724 32'), "
                "got '%s'",
                shown(p->line, p->len, 0, buf));
  if (d < 1 || d > I2V_W2V_MAX_DIM)
    return perr(p, I2V_ERROR, "line 1: the header's dimension %llu is outside 1..%d",
                (unsigned long long)d, I2V_W2V_MAX_DIM);
  if (n < 1) return perr(p, I2V_ERROR, "line 1: the header says the file has no vectors");
  if (n > 0xfffffffeu)
    return perr(p, I2V_ERROR, "line 1: the header's count %llu is more than 2^32-2",
                (unsigned long long)n);
  p->expect = n;
  p->m->dim = (int)d;
  return I2V_OK;
}

static int read_text_rows(w2v_parse *p) {
  i2v_w2v *m = p->m;
  char where[48], buf[64], buf2[64];
  int rc;
  p->max = (size_t)m->dim * 64 + I2V_W2V_MAX_NAME + 64;
  while (m->n < p->expect) {
    rc = read_line(p);
    if (rc < 0) return -rc;
    if (rc == 0)
      return perr(p, I2V_ERROR,
                  "the file is truncated: it ends after %zu vectors, the header says "
                  "%llu",
                  m->n, (unsigned long long)p->expect);
    snprintf(where, sizeof(where), "line %llu", (unsigned long long)p->lineno);
    if (memchr(p->line, 0, p->len))
      return perr(p, I2V_ERROR,
                  "%s: a NUL byte (is this a binary file? name it .bin or pass "
                  "'binary=1')",
                  where);
    char *s = p->line;
    while (*s == ' ' || *s == '\t') s++;
    if (!*s)
      return perr(p, I2V_ERROR, "%s: an empty line where vector %zu of %llu should be", where,
                  m->n + 1, (unsigned long long)p->expect);
    char *name = s;
    while (*s && *s != ' ' && *s != '\t') s++;
    size_t nlen = (size_t)(s - name);
    if ((rc = reserve_row(p)) != I2V_OK) return rc;
    float *row = m->vectors + m->n * (size_t)m->dim;
    int k = 0;
    for (;;) {
      while (*s == ' ' || *s == '\t') s++;
      if (!*s) break;
      char *end = NULL;
      if (k >= m->dim) {
        /* Count the rest for the message. */
        while (*s) {
          while (*s && *s != ' ' && *s != '\t') s++;
          k++;
          while (*s == ' ' || *s == '\t') s++;
        }
        break;
      }
      errno = 0;
      float f = strtof(s, &end);
      if (end == s || (*end && *end != ' ' && *end != '\t')) {
        char *tok_end = s;
        while (*tok_end && *tok_end != ' ' && *tok_end != '\t') tok_end++;
        return perr(p, I2V_ERROR, "%s: value %d of item '%s' is not a number: '%s'", where, k + 1,
                    shown(name, nlen, 0, buf), shown(s, (size_t)(tok_end - s), 0, buf2));
      }
      if (!isfinite(f))
        return perr(p, I2V_ERROR,
                    "%s: value %d of item '%s' is not a finite float32 (NaN, infinity "
                    "or out of range)",
                    where, k + 1, shown(name, nlen, 0, buf));
      row[k++] = f;
      s = end;
    }
    if (k != m->dim)
      return perr(p, I2V_ERROR, "%s: item '%s' has %d values; the header says %d", where,
                  shown(name, nlen, 0, buf), k, m->dim);
    if ((rc = add_name(p, name, nlen, where)) != I2V_OK) return rc;
    m->n++;
  }
  /* Only blank lines may follow. */
  while ((rc = read_line(p)) == 1) {
    if (!is_blank(p->line) || memchr(p->line, 0, p->len))
      return perr(p, I2V_ERROR, "line %llu: more vectors than the %llu the header announces",
                  (unsigned long long)p->lineno, (unsigned long long)p->expect);
  }
  return rc < 0 ? -rc : I2V_OK;
}

/* -------------------------------------------------------------- binary */

static int read_binary_rows(w2v_parse *p) {
  i2v_w2v *m = p->m;
  char where[48], buf[64];
  size_t vbytes = (size_t)m->dim * 4;
  int rc, c;
  p->max = I2V_W2V_MAX_NAME + 1; /* the name and its NUL */
  if (p->cap < 256) {
    char *b = i2v_malloc(p->a, 256);
    if (!b) return perr(p, I2V_NOMEM, "out of memory");
    i2v_free(p->a, p->line);
    p->line = b;
    p->cap = 256;
  }
  while (m->n < p->expect) {
    snprintf(where, sizeof(where), "item %zu", m->n + 1);
    do c = i2v_reader_getc(p->r);
    while (c == ' ' || c == '\n' || c == '\r' || c == '\t');
    p->len = 0;
    while (c >= 0 && c != ' ') {
      if (c == '\n')
        return perr(p, I2V_ERROR,
                    "%s: a line break inside the name '%s' (is this a text file? binary "
                    "files are named .bin)",
                    where, shown(p->line, p->len, 0, buf));
      if (p->len + 1 >= p->cap) {
        if (p->cap >= p->max)
          return perr(p, I2V_ERROR, "%s: a name longer than %d bytes", where, I2V_W2V_MAX_NAME);
        size_t cap = p->cap * 2 > p->max ? p->max : p->cap * 2;
        char *b = i2v_malloc(p->a, cap);
        if (!b) return perr(p, I2V_NOMEM, "out of memory");
        memcpy(b, p->line, p->len);
        i2v_free(p->a, p->line);
        p->line = b;
        p->cap = cap;
      }
      p->line[p->len++] = (char)c;
      c = i2v_reader_getc(p->r);
    }
    if (c == -2) return reader_error(p);
    if (c == -1)
      return perr(p, I2V_ERROR, "the file is truncated: it ends %s vector %zu of %llu",
                  p->len ? "inside the name of" : "before", m->n + 1,
                  (unsigned long long)p->expect);
    if ((rc = reserve_row(p)) != I2V_OK) return rc;
    float *row = m->vectors + m->n * (size_t)m->dim;
    unsigned char *bytes = (unsigned char *)row;
    long got = i2v_reader_read(p->r, bytes, vbytes);
    if (got < 0) return reader_error(p);
    if ((size_t)got < vbytes)
      return perr(p, I2V_ERROR,
                  "the file is truncated: it ends inside the vector of item '%s' (%zu "
                  "of %llu)",
                  shown(p->line, p->len, 0, buf), m->n + 1, (unsigned long long)p->expect);
    for (int d = 0; d < m->dim; d++) {
      float f = i2v_get_lef32(bytes + 4 * (size_t)d);
      if (!isfinite(f))
        return perr(p, I2V_ERROR,
                    "%s: value %d of item '%s' is not a finite number (NaN or "
                    "infinity)",
                    where, d + 1, shown(p->line, p->len, 0, buf));
      row[d] = f;
    }
    if ((rc = add_name(p, p->line, p->len, where)) != I2V_OK) return rc;
    m->n++;
  }
  /* Only whitespace may follow. */
  while ((c = i2v_reader_getc(p->r)) == ' ' || c == '\n' || c == '\r' || c == '\t') {
  }
  if (c == -2) return reader_error(p);
  if (c != -1)
    return perr(p, I2V_ERROR,
                "more data after the %llu vectors the header announces (is the header's "
                "count or dimension wrong?)",
                (unsigned long long)p->expect);
  return I2V_OK;
}

int i2v_w2v_read(i2v_reader *r, int binary, const i2v_alloc *a, i2v_w2v *out, char *err,
                 size_t errlen) {
  w2v_parse p;
  memset(out, 0, sizeof(*out));
  i2v_vocab_init(&out->items, a);
  out->all_int = 1;
  memset(&p, 0, sizeof(p));
  p.r = r;
  p.a = a;
  p.m = out;
  p.err = err;
  p.errlen = errlen;
  int rc = read_header(&p);
  if (rc == I2V_OK) rc = binary ? read_binary_rows(&p) : read_text_rows(&p);
  i2v_free(a, p.line);
  if (rc != I2V_OK) i2v_w2v_free(out);
  return rc;
}

/* -------------------------------------------------------------- writing */

size_t i2v_w2v_row_bound(size_t name_len, int dim, int binary) {
  return name_len + 2 + (size_t)dim * (binary ? 4 : 20);
}

size_t i2v_w2v_format_row(char *buf, const char *name, size_t len, const float *v, int dim,
                          int binary) {
  size_t at = len;
  memcpy(buf, name, len);
  buf[at++] = ' ';
  for (int d = 0; d < dim; d++) {
    if (binary) {
      i2v_put_lef32((unsigned char *)buf + at, v[d]);
      at += 4;
    } else {
      char num[32];
      int k = 0;
      for (int prec = 6; prec <= 9; prec++) {
        k = snprintf(num, sizeof(num), "%.*g", prec, (double)v[d]);
        if (strtof(num, NULL) == v[d]) break;
      }
      if (d) buf[at++] = ' ';
      memcpy(buf + at, num, (size_t)k);
      at += (size_t)k;
    }
  }
  buf[at++] = '\n';
  return at;
}
