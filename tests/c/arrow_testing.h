/*
 * arrow_testing.h: a tiny hand-written Arrow C Stream producer and consumer for the C tests
 * (header-only). Producer: one record batch from column specs (utf8, float64, boolean, int64),
 * plus deliberately broken streams. Consumer: reads the findings stream medaudit returns.
 */
#ifndef ARROW_TESTING_H
#define ARROW_TESTING_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "medaudit.h"

typedef enum { AT_UTF8, AT_F64, AT_BOOL, AT_I64, AT_TS } at_type; /* AT_TS: timestamp[s], values in i64 */

typedef struct {
  const char *name;
  at_type type;
  const char *const *strs; /* AT_UTF8: NULL entry = null value */
  const double *f64;       /* AT_F64 */
  const int *bools;        /* AT_BOOL */
  const int64_t *i64;      /* AT_I64 */
} at_col;

typedef enum {
  AT_OK,              /* a valid stream of one batch */
  AT_FAIL_SCHEMA,     /* get_schema returns EIO with a message */
  AT_FAIL_NEXT,       /* get_next returns EIO with a message */
  AT_NOT_STRUCT,      /* the schema is a plain utf8 array, not a struct */
  AT_BAD_OFFSETS,     /* the first utf8 column's offsets run past its data */
  AT_BAD_UTF8         /* the first utf8 column's data is not UTF-8 */
} at_mode;

typedef struct {
  int n_cols;
  int64_t n_rows;
  at_col cols[24];
  at_mode mode;
  int emitted;
  int *released_flag; /* set to 1 when the stream is released (ownership checks) */
} at_stream_data;

/* ---- schema ---- */

static inline void at_schema_release(struct ArrowSchema *s) {
  for (int64_t i = 0; i < s->n_children; i++) {
    if (s->children[i]->release) s->children[i]->release(s->children[i]);
    free(s->children[i]);
  }
  free(s->children);
  s->release = NULL;
}

static inline const char *at_format(at_type t) {
  switch (t) {
    case AT_UTF8: return "u";
    case AT_F64: return "g";
    case AT_BOOL: return "b";
    case AT_TS: return "tss:";
    default: return "l";
  }
}

static inline void at_leaf_schema(struct ArrowSchema *s, const char *format, const char *name) {
  memset(s, 0, sizeof *s);
  s->format = format;
  s->name = name;
  s->flags = ARROW_FLAG_NULLABLE;
  s->release = at_schema_release;
}

/* ---- arrays ---- */

typedef struct { void *bufs[3]; } at_array_private;

static inline void at_array_release(struct ArrowArray *a) {
  for (int64_t i = 0; i < a->n_children; i++) {
    if (a->children[i]->release) a->children[i]->release(a->children[i]);
    free(a->children[i]);
  }
  free(a->children);
  at_array_private *p = a->private_data;
  if (p) {
    for (int i = 0; i < 3; i++) free(p->bufs[i]);
    free(p);
  }
  free((void *)a->buffers);
  a->release = NULL;
}

static inline void at_col_array(struct ArrowArray *a, const at_col *c, int64_t n, int corrupt) {
  memset(a, 0, sizeof *a);
  at_array_private *p = calloc(1, sizeof *p);
  a->length = n;
  a->private_data = p;
  a->release = at_array_release;
  if (c->type == AT_UTF8) {
    int64_t nulls = 0, total = 0;
    for (int64_t i = 0; i < n; i++) {
      if (c->strs[i]) total += (int64_t)strlen(c->strs[i]);
      else nulls++;
    }
    uint8_t *valid = NULL;
    if (nulls) {
      valid = calloc((size_t)(n / 8 + 1), 1);
      for (int64_t i = 0; i < n; i++)
        if (c->strs[i]) valid[i / 8] |= (uint8_t)(1u << (i % 8));
    }
    int32_t *off = malloc(sizeof(int32_t) * (size_t)(n + 1));
    char *data = malloc((size_t)total + 1);
    off[0] = 0;
    for (int64_t i = 0; i < n; i++) {
      size_t l = c->strs[i] ? strlen(c->strs[i]) : 0;
      if (l) memcpy(data + off[i], c->strs[i], l);
      off[i + 1] = off[i] + (int32_t)l;
    }
    if (corrupt == 1) off[n] = off[n] + 4096;             /* past the end of data */
    if (corrupt == 2 && total > 0) data[0] = (char)0xC3;  /* a lone UTF-8 lead byte... */
    if (corrupt == 2 && total > 1) data[1] = 'x';         /* ...followed by ASCII */
    p->bufs[0] = valid;
    p->bufs[1] = off;
    p->bufs[2] = data;
    a->null_count = nulls;
    a->n_buffers = 3;
    const void **b = malloc(3 * sizeof *b);
    b[0] = valid; b[1] = off; b[2] = data;
    a->buffers = b;
  } else if (c->type == AT_BOOL) {
    uint8_t *bits = calloc((size_t)(n / 8 + 1), 1);
    for (int64_t i = 0; i < n; i++)
      if (c->bools[i]) bits[i / 8] |= (uint8_t)(1u << (i % 8));
    p->bufs[1] = bits;
    a->n_buffers = 2;
    const void **b = malloc(2 * sizeof *b);
    b[0] = NULL; b[1] = bits;
    a->buffers = b;
  } else {
    /* nulls: NaN for AT_F64, INT64_MIN for AT_I64 / AT_TS */
    size_t w = 8;
    void *vals = malloc(w * (size_t)(n ? n : 1));
    uint8_t *valid = NULL;
    int64_t nulls = 0;
    if (c->type == AT_F64) memcpy(vals, c->f64, w * (size_t)n);
    else memcpy(vals, c->i64, w * (size_t)n);
    for (int64_t i = 0; i < n; i++) {
      int is_null = c->type == AT_F64 ? c->f64[i] != c->f64[i] : c->i64[i] == INT64_MIN;
      if (is_null && !valid) {
        valid = malloc((size_t)(n / 8 + 1));
        memset(valid, 0xff, (size_t)(n / 8 + 1));
      }
      if (is_null) {
        valid[i / 8] &= (uint8_t)~(1u << (i % 8));
        nulls++;
      }
    }
    p->bufs[0] = valid;
    p->bufs[1] = vals;
    a->null_count = nulls;
    a->n_buffers = 2;
    const void **b = malloc(2 * sizeof *b);
    b[0] = valid; b[1] = vals;
    a->buffers = b;
  }
}

/* ---- stream ---- */

static inline int at_get_schema(struct ArrowArrayStream *st, struct ArrowSchema *out) {
  at_stream_data *d = st->private_data;
  if (d->mode == AT_FAIL_SCHEMA) return EIO;
  if (d->mode == AT_NOT_STRUCT) {
    at_leaf_schema(out, "u", "not_a_struct");
    return 0;
  }
  memset(out, 0, sizeof *out);
  out->format = "+s";
  out->name = "";
  out->n_children = d->n_cols;
  out->children = calloc((size_t)d->n_cols, sizeof(struct ArrowSchema *));
  for (int i = 0; i < d->n_cols; i++) {
    out->children[i] = malloc(sizeof(struct ArrowSchema));
    at_leaf_schema(out->children[i], at_format(d->cols[i].type), d->cols[i].name);
  }
  out->release = at_schema_release;
  return 0;
}

static inline int at_get_next(struct ArrowArrayStream *st, struct ArrowArray *out) {
  at_stream_data *d = st->private_data;
  if (d->mode == AT_FAIL_NEXT) return EIO;
  memset(out, 0, sizeof *out);
  if (d->emitted) return 0; /* end of stream: out->release == NULL */
  d->emitted = 1;
  if (d->mode == AT_NOT_STRUCT) {
    at_col c = {"x", AT_UTF8, d->cols[0].strs, NULL, NULL, NULL};
    at_col_array(out, &c, d->n_rows, 0);
    return 0;
  }
  out->length = d->n_rows;
  out->n_buffers = 1;
  out->buffers = calloc(1, sizeof(void *));
  out->n_children = d->n_cols;
  out->children = calloc((size_t)d->n_cols, sizeof(struct ArrowArray *));
  int corrupt_done = 0;
  for (int i = 0; i < d->n_cols; i++) {
    out->children[i] = malloc(sizeof(struct ArrowArray));
    int corrupt = 0;
    if (!corrupt_done && d->cols[i].type == AT_UTF8 && (d->mode == AT_BAD_OFFSETS || d->mode == AT_BAD_UTF8)) {
      corrupt = d->mode == AT_BAD_OFFSETS ? 1 : 2;
      corrupt_done = 1;
    }
    at_col_array(out->children[i], &d->cols[i], d->n_rows, corrupt);
  }
  out->release = at_array_release;
  return 0;
}

static inline const char *at_get_last_error(struct ArrowArrayStream *st) {
  (void)st;
  return "test producer: simulated I/O failure";
}

static inline void at_stream_release(struct ArrowArrayStream *st) {
  at_stream_data *d = st->private_data;
  if (d->released_flag) *d->released_flag += 1;
  free(d);
  st->release = NULL;
}

/* Fills `st` with a stream of one batch of `n_rows` rows. */
static inline void at_make_stream(struct ArrowArrayStream *st, const at_col *cols, int n_cols, int64_t n_rows,
                                  at_mode mode, int *released_flag) {
  at_stream_data *d = calloc(1, sizeof *d);
  d->n_cols = n_cols;
  d->n_rows = n_rows;
  memcpy(d->cols, cols, sizeof(at_col) * (size_t)n_cols);
  d->mode = mode;
  d->released_flag = released_flag;
  st->get_schema = at_get_schema;
  st->get_next = at_get_next;
  st->get_last_error = at_get_last_error;
  st->release = at_stream_release;
  st->private_data = d;
}

/* ---- consumer: the findings table ---- */

typedef struct {
  struct ArrowSchema schema;
  struct ArrowArray array; /* the first batch; release == NULL when the stream had none */
  int64_t rows;
} at_findings;

/* Reads the first batch of a findings stream (and releases the stream). 0 on success. */
static inline int at_read_findings(struct ArrowArrayStream *st, at_findings *f) {
  memset(f, 0, sizeof *f);
  if (!st->release) return -1;
  if (st->get_schema(st, &f->schema) != 0) { st->release(st); return -2; }
  if (st->get_next(st, &f->array) != 0) { f->schema.release(&f->schema); st->release(st); return -3; }
  if (f->array.release) {
    f->rows = f->array.length;
    struct ArrowArray extra;
    if (st->get_next(st, &extra) == 0 && extra.release) { extra.release(&extra); } /* only one batch expected */
  }
  st->release(st);
  return 0;
}

/* The value of `key` in Arrow C schema metadata (int32 count, then per pair int32 length + key
 * bytes, int32 length + value bytes, native byte order), or NULL when absent; *len is its length. */
static inline const char *at_metadata_value(const char *metadata, const char *key, int32_t *len) {
  if (!metadata) return NULL;
  int32_t n, kl, vl;
  const char *p = metadata;
  memcpy(&n, p, 4);
  p += 4;
  for (int32_t i = 0; i < n; i++) {
    memcpy(&kl, p, 4);
    p += 4;
    const char *k = p;
    p += kl;
    memcpy(&vl, p, 4);
    p += 4;
    if ((size_t)kl == strlen(key) && memcmp(k, key, (size_t)kl) == 0) {
      *len = vl;
      return p;
    }
    p += vl;
  }
  return NULL;
}

static inline void at_findings_free(at_findings *f) {
  if (f->array.release) f->array.release(&f->array);
  if (f->schema.release) f->schema.release(&f->schema);
}

static inline int at_col_index(const at_findings *f, const char *name) {
  for (int64_t i = 0; i < f->schema.n_children; i++)
    if (!strcmp(f->schema.children[i]->name, name)) return (int)i;
  return -1;
}

static inline int at_is_valid(const struct ArrowArray *c, int64_t row) {
  const uint8_t *v = c->buffers[0];
  int64_t i = c->offset + row;
  return !v || (v[i / 8] >> (i % 8)) & 1;
}

/* The utf8 value at (column, row) copied into buf (NUL-terminated); NULL when null. */
static inline const char *at_str(const at_findings *f, const char *name, int64_t row, char *buf, size_t cap) {
  int ci = at_col_index(f, name);
  if (ci < 0 || strcmp(f->schema.children[ci]->format, "u") != 0) return NULL;
  const struct ArrowArray *c = f->array.children[ci];
  if (!at_is_valid(c, row)) return NULL;
  const int32_t *off = c->buffers[1];
  const char *data = c->buffers[2];
  int64_t i = c->offset + row;
  size_t len = (size_t)(off[i + 1] - off[i]);
  if (len >= cap) len = cap - 1;
  memcpy(buf, data + off[i], len);
  buf[len] = 0;
  return buf;
}

/* The float64 value at (column, row); returns 0 and sets *is_null when null. */
static inline double at_f64(const at_findings *f, const char *name, int64_t row, int *is_null) {
  int ci = at_col_index(f, name);
  *is_null = 1;
  if (ci < 0 || strcmp(f->schema.children[ci]->format, "g") != 0) return 0;
  const struct ArrowArray *c = f->array.children[ci];
  if (!at_is_valid(c, row)) return 0;
  *is_null = 0;
  return ((const double *)c->buffers[1])[c->offset + row];
}

static inline int at_u8(const at_findings *f, const char *name, int64_t row) {
  int ci = at_col_index(f, name);
  if (ci < 0 || strcmp(f->schema.children[ci]->format, "C") != 0) return -1;
  const struct ArrowArray *c = f->array.children[ci];
  return ((const uint8_t *)c->buffers[1])[c->offset + row];
}

#endif /* ARROW_TESTING_H */
