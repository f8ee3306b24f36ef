/*
** core/json.c: a small strict JSON reader for lists of item ids.
**
** How it works: a recursive-descent reader over the bytes with a cursor.  It
** knows two shapes, an array of scalars and an object whose members
** "positive" and "negative" are arrays of scalars (or single scalars).  String
** escapes, \uXXXX with surrogate pairs included, are decoded into one buffer
** no longer than the input, so the whole query costs two allocations.
*/
#include "core/json.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct reader {
  const char *s;
  size_t n, pos;
  i2v_query *q;
  size_t buf_len;
  char *err;
  size_t errlen;
} reader;

static int fail(reader *r, const char *fmt, ...) {
  char msg[160];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  if (r->err && r->errlen)
    snprintf(r->err, r->errlen, "malformed JSON id at offset %zu: %s", r->pos, msg);
  return I2V_ERROR;
}

static void skip_ws(reader *r) {
  while (r->pos < r->n && (r->s[r->pos] == ' ' || r->s[r->pos] == '\t' || r->s[r->pos] == '\n' ||
                           r->s[r->pos] == '\r'))
    r->pos++;
}

int i2v_json_looks_like(const char *text, size_t n) {
  size_t i = 0;
  while (i < n && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r')) i++;
  return i < n && (text[i] == '[' || text[i] == '{');
}

static int push_item(reader *r, const i2v_value *v, float weight) {
  i2v_query *q = r->q;
  if (q->n == q->cap) {
    size_t nc = q->cap ? q->cap * 2 : 8;
    int ovf = 0;
    size_t bytes = i2v_mul_size(nc, sizeof(i2v_query_item), &ovf);
    if (ovf) return I2V_NOMEM;
    i2v_query_item *it = i2v_malloc(q->alloc, bytes);
    if (!it) return I2V_NOMEM;
    if (q->n) memcpy(it, q->items, q->n * sizeof(*it));
    i2v_free(q->alloc, q->items);
    q->items = it;
    q->cap = nc;
  }
  q->items[q->n].value = *v;
  q->items[q->n].weight = weight;
  q->n++;
  return I2V_OK;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static int read_u4(reader *r, unsigned *out) {
  unsigned v = 0;
  if (r->pos + 4 > r->n) return fail(r, "truncated \\u escape");
  for (int i = 0; i < 4; i++) {
    int h = hexval(r->s[r->pos + i]);
    if (h < 0) return fail(r, "bad \\u escape");
    v = v * 16 + (unsigned)h;
  }
  r->pos += 4;
  *out = v;
  return I2V_OK;
}

static size_t put_utf8(char *d, unsigned cp) {
  if (cp < 0x80) {
    d[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800) {
    d[0] = (char)(0xC0 | (cp >> 6));
    d[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    d[0] = (char)(0xE0 | (cp >> 12));
    d[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    d[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
  }
  d[0] = (char)(0xF0 | (cp >> 18));
  d[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
  d[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
  d[3] = (char)(0x80 | (cp & 0x3F));
  return 4;
}

/* At a '"': decode the string into the buffer. */
static int read_string(reader *r, i2v_value *v) {
  char *start = r->q->buf + r->buf_len;
  size_t len = 0;
  r->pos++; /* opening quote */
  for (;;) {
    if (r->pos >= r->n) return fail(r, "unterminated string");
    unsigned char c = (unsigned char)r->s[r->pos];
    if (c == '"') {
      r->pos++;
      break;
    }
    if (c < 0x20) return fail(r, "control character in string");
    if (c != '\\') {
      start[len++] = (char)c;
      r->pos++;
      continue;
    }
    r->pos++;
    if (r->pos >= r->n) return fail(r, "unterminated escape");
    char e = r->s[r->pos++];
    switch (e) {
      case '"':
        start[len++] = '"';
        break;
      case '\\':
        start[len++] = '\\';
        break;
      case '/':
        start[len++] = '/';
        break;
      case 'b':
        start[len++] = '\b';
        break;
      case 'f':
        start[len++] = '\f';
        break;
      case 'n':
        start[len++] = '\n';
        break;
      case 'r':
        start[len++] = '\r';
        break;
      case 't':
        start[len++] = '\t';
        break;
      case 'u': {
        unsigned cp;
        int rc = read_u4(r, &cp);
        if (rc) return rc;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          unsigned lo;
          if (r->pos + 2 > r->n || r->s[r->pos] != '\\' || r->s[r->pos + 1] != 'u')
            return fail(r, "lone surrogate in \\u escape");
          r->pos += 2;
          rc = read_u4(r, &lo);
          if (rc) return rc;
          if (lo < 0xDC00 || lo > 0xDFFF) return fail(r, "bad surrogate pair in \\u escape");
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          return fail(r, "lone surrogate in \\u escape");
        }
        len += put_utf8(start + len, cp);
        break;
      }
      default:
        return fail(r, "unknown escape '\\%c'", e);
    }
  }
  r->buf_len += len;
  memset(v, 0, sizeof(*v));
  v->type = I2V_TEXT;
  v->bytes = start;
  v->n = len;
  return I2V_OK;
}

static int read_number(reader *r, i2v_value *v) {
  size_t st = r->pos, p = r->pos;
  int is_int = 1;
  if (p < r->n && r->s[p] == '-') p++;
  if (p >= r->n || r->s[p] < '0' || r->s[p] > '9') return fail(r, "expected a string or a number");
  if (r->s[p] == '0') {
    p++;
  } else {
    while (p < r->n && r->s[p] >= '0' && r->s[p] <= '9') p++;
  }
  if (p < r->n && r->s[p] == '.') {
    is_int = 0;
    p++;
    if (p >= r->n || r->s[p] < '0' || r->s[p] > '9') return fail(r, "digit expected after '.'");
    while (p < r->n && r->s[p] >= '0' && r->s[p] <= '9') p++;
  }
  if (p < r->n && (r->s[p] == 'e' || r->s[p] == 'E')) {
    is_int = 0;
    p++;
    if (p < r->n && (r->s[p] == '+' || r->s[p] == '-')) p++;
    if (p >= r->n || r->s[p] < '0' || r->s[p] > '9') return fail(r, "digit expected in exponent");
    while (p < r->n && r->s[p] >= '0' && r->s[p] <= '9') p++;
  }
  char tmp[64];
  size_t len = p - st;
  memset(v, 0, sizeof(*v));
  if (len >= sizeof(tmp)) return fail(r, "number too long");
  memcpy(tmp, r->s + st, len);
  tmp[len] = 0;
  int64_t iv;
  if (is_int && i2v_parse_canonical_int(tmp, len, &iv)) {
    v->type = I2V_INTEGER;
    v->i = iv;
  } else {
    v->type = I2V_FLOAT;
    v->r = strtod(tmp, NULL);
    v->bytes = r->s + st;
    v->n = len;
  }
  r->pos = p;
  return I2V_OK;
}

static int read_scalar(reader *r, float weight) {
  i2v_value v;
  int rc;
  skip_ws(r);
  if (r->pos >= r->n) return fail(r, "unexpected end");
  char c = r->s[r->pos];
  if (c == '"')
    rc = read_string(r, &v);
  else if (c == '-' || (c >= '0' && c <= '9'))
    rc = read_number(r, &v);
  else
    return fail(r, "items must be strings or numbers");
  if (rc) return rc;
  return push_item(r, &v, weight);
}

/* An array of scalars, or (when allow_scalar) one scalar. */
static int read_list(reader *r, float weight, int allow_scalar) {
  skip_ws(r);
  if (r->pos >= r->n) return fail(r, "unexpected end");
  if (r->s[r->pos] != '[') {
    if (allow_scalar) return read_scalar(r, weight);
    return fail(r, "expected '['");
  }
  r->pos++;
  skip_ws(r);
  if (r->pos < r->n && r->s[r->pos] == ']') {
    r->pos++;
    return I2V_OK;
  }
  for (;;) {
    int rc = read_scalar(r, weight);
    if (rc) return rc;
    skip_ws(r);
    if (r->pos >= r->n) return fail(r, "unterminated array");
    if (r->s[r->pos] == ',') {
      r->pos++;
      continue;
    }
    if (r->s[r->pos] == ']') {
      r->pos++;
      return I2V_OK;
    }
    return fail(r, "expected ',' or ']'");
  }
}

static int read_object(reader *r) {
  r->pos++; /* '{' */
  skip_ws(r);
  if (r->pos < r->n && r->s[r->pos] == '}') {
    r->pos++;
    return I2V_OK;
  }
  for (;;) {
    i2v_value key;
    float weight;
    skip_ws(r);
    if (r->pos >= r->n || r->s[r->pos] != '"') return fail(r, "expected a member name in quotes");
    size_t keypos = r->pos;
    int rc = read_string(r, &key);
    if (rc) return rc;
    r->buf_len -= key.n; /* the name need not be kept */
    if (key.n == 8 && memcmp(key.bytes, "positive", 8) == 0) {
      weight = 1.0f;
    } else if (key.n == 8 && memcmp(key.bytes, "negative", 8) == 0) {
      weight = -1.0f;
    } else {
      r->pos = keypos;
      return fail(r, "unknown member; expected \"positive\" or \"negative\"");
    }
    skip_ws(r);
    if (r->pos >= r->n || r->s[r->pos] != ':') return fail(r, "expected ':'");
    r->pos++;
    rc = read_list(r, weight, 1);
    if (rc) return rc;
    skip_ws(r);
    if (r->pos >= r->n) return fail(r, "unterminated object");
    if (r->s[r->pos] == ',') {
      r->pos++;
      continue;
    }
    if (r->s[r->pos] == '}') {
      r->pos++;
      return I2V_OK;
    }
    return fail(r, "expected ',' or '}'");
  }
}

int i2v_json_parse_query(const char *text, size_t n, const i2v_alloc *a, i2v_query *q, char *err,
                         size_t errlen) {
  reader r;
  memset(q, 0, sizeof(*q));
  q->alloc = a;
  q->buf = i2v_malloc(a, n + 1);
  if (!q->buf) return I2V_NOMEM;
  memset(&r, 0, sizeof(r));
  r.s = text;
  r.n = n;
  r.q = q;
  r.err = err;
  r.errlen = errlen;
  skip_ws(&r);
  int rc;
  if (r.pos < n && text[r.pos] == '{') {
    rc = read_object(&r);
  } else {
    rc = read_list(&r, 1.0f, 0);
  }
  if (rc) return rc;
  skip_ws(&r);
  if (r.pos != n) return fail(&r, "unexpected text after the end");
  return I2V_OK;
}

void i2v_query_free(i2v_query *q) {
  if (!q->alloc) return;
  i2v_free(q->alloc, q->items);
  i2v_free(q->alloc, q->buf);
  q->items = NULL;
  q->buf = NULL;
  q->n = q->cap = 0;
}

char *i2v_json_number(char *buf, size_t n, const char *fmt, double v) {
  if (!isfinite(v))
    snprintf(buf, n, "null");
  else
    snprintf(buf, n, fmt, v);
  return buf;
}
