/*
 * minijson.h: a tiny JSON reader for the C examples and tests of medaudit (header-only, C11).
 *
 * Parses a whole document into a tree; enough to walk medaudit's responses. Not a general-purpose
 * library: no streaming, \\u escapes other than ASCII and surrogate pairs are decoded to UTF-8,
 * numbers become doubles.
 *
 *   mj_value *doc = mj_parse(text, len);            // NULL on a syntax error
 *   mj_value *result = mj_get(doc, "result");       // object member, NULL if absent
 *   for (size_t i = 0; i < mj_len(result); i++) { mj_value *r = mj_at(result, i); ... }
 *   const char *s = mj_str(mj_get(r, "rule_name")); // NULL unless a string
 *   mj_free(doc);
 */
#ifndef MINIJSON_H
#define MINIJSON_H

#include <stdlib.h>
#include <string.h>
#include <stddef.h>

typedef enum { MJ_NULL, MJ_BOOL, MJ_NUM, MJ_STR, MJ_ARR, MJ_OBJ } mj_type;

typedef struct mj_value {
  mj_type type;
  int boolean;
  double num;
  char *str;               /* MJ_STR: NUL-terminated UTF-8 */
  size_t n;                /* MJ_ARR / MJ_OBJ: number of items */
  char **keys;             /* MJ_OBJ: member names */
  struct mj_value **items; /* MJ_ARR / MJ_OBJ: items / member values */
} mj_value;

typedef struct { const char *p, *end; int depth; } mj_cur;

static inline void mj_free(mj_value *v) {
  if (!v) return;
  for (size_t i = 0; i < v->n; i++) {
    if (v->keys) free(v->keys[i]);
    mj_free(v->items[i]);
  }
  free(v->keys);
  free(v->items);
  free(v->str);
  free(v);
}

static inline void mj_ws(mj_cur *c) {
  while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r')) c->p++;
}

static inline int mj_hex4(mj_cur *c, unsigned *out) {
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    if (c->p >= c->end) return 0;
    char h = *c->p++;
    v <<= 4;
    if (h >= '0' && h <= '9') v |= (unsigned)(h - '0');
    else if (h >= 'a' && h <= 'f') v |= (unsigned)(h - 'a' + 10);
    else if (h >= 'A' && h <= 'F') v |= (unsigned)(h - 'A' + 10);
    else return 0;
  }
  *out = v;
  return 1;
}

static inline char *mj_string(mj_cur *c) {
  /* c->p is just past the opening quote */
  size_t cap = 16, n = 0;
  char *s = malloc(cap);
  if (!s) return NULL;
  while (c->p < c->end && *c->p != '"') {
    unsigned char ch = (unsigned char)*c->p++;
    char buf[4];
    size_t k = 0;
    if (ch == '\\') {
      if (c->p >= c->end) { free(s); return NULL; }
      char e = *c->p++;
      unsigned cp = 0;
      switch (e) {
        case '"': buf[k++] = '"'; break;
        case '\\': buf[k++] = '\\'; break;
        case '/': buf[k++] = '/'; break;
        case 'b': buf[k++] = '\b'; break;
        case 'f': buf[k++] = '\f'; break;
        case 'n': buf[k++] = '\n'; break;
        case 'r': buf[k++] = '\r'; break;
        case 't': buf[k++] = '\t'; break;
        case 'u':
          if (!mj_hex4(c, &cp)) { free(s); return NULL; }
          if (cp >= 0xD800 && cp < 0xDC00 && c->end - c->p >= 6 && c->p[0] == '\\' && c->p[1] == 'u') {
            unsigned lo;
            c->p += 2;
            if (!mj_hex4(c, &lo)) { free(s); return NULL; }
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          if (cp < 0x80) buf[k++] = (char)cp;
          else if (cp < 0x800) { buf[k++] = (char)(0xC0 | (cp >> 6)); buf[k++] = (char)(0x80 | (cp & 0x3F)); }
          else if (cp < 0x10000) {
            buf[k++] = (char)(0xE0 | (cp >> 12)); buf[k++] = (char)(0x80 | ((cp >> 6) & 0x3F));
            buf[k++] = (char)(0x80 | (cp & 0x3F));
          } else {
            buf[k++] = (char)(0xF0 | (cp >> 18)); buf[k++] = (char)(0x80 | ((cp >> 12) & 0x3F));
            buf[k++] = (char)(0x80 | ((cp >> 6) & 0x3F)); buf[k++] = (char)(0x80 | (cp & 0x3F));
          }
          break;
        default: free(s); return NULL;
      }
    } else {
      buf[k++] = (char)ch;
    }
    if (n + k + 1 > cap) {
      while (n + k + 1 > cap) cap *= 2;
      char *t = realloc(s, cap);
      if (!t) { free(s); return NULL; }
      s = t;
    }
    memcpy(s + n, buf, k);
    n += k;
  }
  if (c->p >= c->end) { free(s); return NULL; }
  c->p++; /* closing quote */
  s[n] = 0;
  return s;
}

static inline mj_value *mj_value_at(mj_cur *c);

static inline int mj_push(mj_value *v, char *key, mj_value *item) {
  char **keys = v->keys;
  if (v->type == MJ_OBJ) {
    keys = realloc(v->keys, (v->n + 1) * sizeof *keys);
    if (!keys) return 0;
    v->keys = keys;
  }
  mj_value **items = realloc(v->items, (v->n + 1) * sizeof *items);
  if (!items) return 0;
  v->items = items;
  if (v->type == MJ_OBJ) v->keys[v->n] = key;
  v->items[v->n++] = item;
  return 1;
}

static inline mj_value *mj_value_at(mj_cur *c) {
  mj_ws(c);
  if (c->p >= c->end || ++c->depth > 200) return NULL;
  mj_value *v = calloc(1, sizeof *v);
  if (!v) return NULL;
  char ch = *c->p;
  if (ch == '{' || ch == '[') {
    char close = ch == '{' ? '}' : ']';
    v->type = ch == '{' ? MJ_OBJ : MJ_ARR;
    c->p++;
    mj_ws(c);
    if (c->p < c->end && *c->p == close) { c->p++; c->depth--; return v; }
    for (;;) {
      char *key = NULL;
      if (v->type == MJ_OBJ) {
        mj_ws(c);
        if (c->p >= c->end || *c->p != '"') goto fail;
        c->p++;
        key = mj_string(c);
        if (!key) goto fail;
        mj_ws(c);
        if (c->p >= c->end || *c->p != ':') { free(key); goto fail; }
        c->p++;
      }
      mj_value *item = mj_value_at(c);
      if (!item || !mj_push(v, key, item)) { free(key); mj_free(item); goto fail; }
      mj_ws(c);
      if (c->p < c->end && *c->p == ',') { c->p++; continue; }
      if (c->p < c->end && *c->p == close) { c->p++; break; }
      goto fail;
    }
  } else if (ch == '"') {
    v->type = MJ_STR;
    c->p++;
    v->str = mj_string(c);
    if (!v->str) goto fail;
  } else if (c->end - c->p >= 4 && !strncmp(c->p, "null", 4)) {
    v->type = MJ_NULL; c->p += 4;
  } else if (c->end - c->p >= 4 && !strncmp(c->p, "true", 4)) {
    v->type = MJ_BOOL; v->boolean = 1; c->p += 4;
  } else if (c->end - c->p >= 5 && !strncmp(c->p, "false", 5)) {
    v->type = MJ_BOOL; c->p += 5;
  } else {
    char buf[64];
    size_t k = 0;
    while (c->p < c->end && k < sizeof buf - 1 && strchr("+-0123456789.eE", *c->p)) buf[k++] = *c->p++;
    if (k == 0) goto fail;
    buf[k] = 0;
    char *endp;
    v->type = MJ_NUM;
    v->num = strtod(buf, &endp);
    if (*endp) goto fail;
  }
  c->depth--;
  return v;
fail:
  mj_free(v);
  return NULL;
}

/* Parses `len` bytes; NULL on a syntax error or trailing garbage. */
static inline mj_value *mj_parse(const char *text, size_t len) {
  mj_cur c = {text, text + len, 0};
  mj_value *v = mj_value_at(&c);
  mj_ws(&c);
  if (v && c.p != c.end) { mj_free(v); return NULL; }
  return v;
}

static inline mj_value *mj_get(const mj_value *v, const char *key) {
  if (!v || v->type != MJ_OBJ) return NULL;
  for (size_t i = 0; i < v->n; i++)
    if (!strcmp(v->keys[i], key)) return v->items[i];
  return NULL;
}

static inline size_t mj_len(const mj_value *v) { return v && (v->type == MJ_ARR || v->type == MJ_OBJ) ? v->n : 0; }
static inline mj_value *mj_at(const mj_value *v, size_t i) { return v && i < mj_len(v) ? v->items[i] : NULL; }
static inline const char *mj_str(const mj_value *v) { return v && v->type == MJ_STR ? v->str : NULL; }
static inline int mj_is_num(const mj_value *v) { return v && v->type == MJ_NUM; }
static inline double mj_num(const mj_value *v) { return v && v->type == MJ_NUM ? v->num : 0.0; }

#endif /* MINIJSON_H */
