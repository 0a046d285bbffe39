/*
 * conformance_runner.c: runs one conformance vector's pieces through the C ABI, both ways:
 *   "json":  medaudit_check_claims_json (findings and unjudged as the engine's records);
 *   "arrow": each table through medaudit_claims_json_to_arrow, then medaudit_check_arrow, and
 *            the findings stream read back column by column.
 * Prints one JSON object; tests/c/conformance.py compares it with the vector's expectation using
 * the rules of tests/conformance/README.md (the same as core/tests/conformance.rs).
 *
 * Usage: conformance_runner PACK|sample KNOWLEDGE|- OPTIONS|- ARROW_OPTIONS|- CLAIMS
 *   each a file path; "-" for none.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arrow_testing.h"
#include "medaudit.h"

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap);
  size_t got;
  while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
    n += got;
    if (cap - n - 1 == 0) {
      cap *= 2;
      buf = realloc(buf, cap);
    }
  }
  fclose(f);
  buf[n] = 0;
  *len = n;
  return buf;
}

static void json_str(const char *s) {
  if (!s) {
    fputs("null", stdout);
    return;
  }
  putchar('"');
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\') printf("\\%c", *p);
    else if (*p < 0x20) printf("\\u%04x", *p);
    else putchar(*p);
  }
  putchar('"');
}

static void print_error(MedauditStatus st) {
  printf("{\"ok\": false, \"status\": %d, \"kind\": ", (int)st);
  json_str(medaudit_last_error_kind());
  fputs(", \"message\": ", stdout);
  json_str(medaudit_last_error());
  putchar('}');
}

static const char *const STR_COLS[] = {"finding_id", "rule_id", "rule_code", "rule_name", "template", "severity",
                                       "psn_no", "mdtrt_id", "fixmedins_code", "feedetl_sn", "item_code", "item_name",
                                       "bilg_dept_codg", "related_feedetl_sn", "message", "kp_id", "basis"};

static void print_arrow_findings(at_findings *f) {
  static char buf[1 << 16];
  fputs("{\"ok\": true, \"findings\": [", stdout);
  for (int64_t r = 0; r < f->rows; r++) {
    if (r) putchar(',');
    putchar('{');
    for (size_t c = 0; c < sizeof STR_COLS / sizeof *STR_COLS; c++) {
      printf("%s\"%s\": ", c ? ", " : "", STR_COLS[c]);
      json_str(at_str(f, STR_COLS[c], r, buf, sizeof buf));
    }
    printf(", \"warn_level\": %d, \"amount\": ", at_u8(f, "warn_level", r));
    int is_null;
    double amount = at_f64(f, "amount", r, &is_null);
    if (is_null) fputs("null", stdout);
    else printf("%.17g", amount);
    putchar('}');
  }
  /* the unjudged report rides in the schema metadata as JSON text: printed as it is */
  int32_t len = 0;
  const char *unjudged = at_metadata_value(f->schema.metadata, "medaudit.unjudged", &len);
  fputs("], \"unjudged\": ", stdout);
  if (unjudged) fwrite(unjudged, 1, (size_t)len, stdout);
  else fputs("null", stdout);
  putchar('}');
}

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: %s PACK|sample KNOWLEDGE|- OPTIONS|- ARROW_OPTIONS|- CLAIMS\n", argv[0]);
    return 2;
  }
  size_t pack_len = 0, k_len = 0, o_len = 0, ao_len = 0, c_len = 0;
  char *pack = NULL;
  const char *pack_text;
  if (!strcmp(argv[1], "sample")) {
    pack_text = medaudit_sample_pack_json(&pack_len);
  } else {
    pack = slurp(argv[1], &pack_len);
    pack_text = pack;
  }
  char *knowledge = strcmp(argv[2], "-") ? slurp(argv[2], &k_len) : NULL;
  char *options = strcmp(argv[3], "-") ? slurp(argv[3], &o_len) : NULL;
  char *arrow_options = strcmp(argv[4], "-") ? slurp(argv[4], &ao_len) : NULL;
  char *claims = slurp(argv[5], &c_len);
  if (!pack_text || !claims || (strcmp(argv[2], "-") && !knowledge)) {
    fprintf(stderr, "cannot read the inputs\n");
    return 2;
  }

  MedauditEngine *engine = NULL;
  MedauditStatus st = knowledge ? medaudit_engine_new_with_knowledge_json(pack_text, pack_len, knowledge, k_len, &engine)
                                : medaudit_engine_new(pack_text, pack_len, &engine);
  if (st != MEDAUDIT_OK) {
    fputs("{\"json\": ", stdout);
    print_error(st);
    fputs(", \"arrow\": ", stdout);
    print_error(st);
    puts("}");
  } else {
    /* the JSON way */
    char *out = NULL;
    size_t out_len = 0;
    fputs("{\"json\": ", stdout);
    st = medaudit_check_claims_json(engine, claims, c_len, options, &out, &out_len);
    if (st == MEDAUDIT_OK) {
      printf("{\"ok\": true, \"result\": %s}", out);
      medaudit_string_free(out);
    } else {
      print_error(st);
    }

    /* the Arrow way */
    fputs(", \"arrow\": ", stdout);
    const char *tables[] = {"mdtrt", "diagnoses", "operations", "fee_details"};
    struct ArrowArrayStream in[4];
    memset(in, 0, sizeof in);
    st = MEDAUDIT_OK;
    for (int i = 0; i < 4 && st == MEDAUDIT_OK; i++) st = medaudit_claims_json_to_arrow(claims, c_len, tables[i], &in[i]);
    if (st == MEDAUDIT_OK) {
      struct ArrowArrayStream res;
      /* a table the claims do not have is a NULL stream, as the JSON call sees no such table */
#define OR_NULL(s) ((s).release ? &(s) : NULL)
      st = medaudit_check_arrow(engine, OR_NULL(in[3]), OR_NULL(in[0]), OR_NULL(in[1]), OR_NULL(in[2]), arrow_options, &res);
      if (st == MEDAUDIT_OK) {
        at_findings f;
        if (at_read_findings(&res, &f) == 0) print_arrow_findings(&f);
        else fputs("{\"ok\": false, \"status\": -1, \"kind\": \"stream\", \"message\": \"cannot read the findings stream\"}", stdout);
        at_findings_free(&f);
      } else {
        print_error(st);
      }
    } else {
      print_error(st);
    }
    for (int i = 0; i < 4; i++)
      if (in[i].release) in[i].release(&in[i]);
    puts("}");
    medaudit_engine_free(engine);
  }
  free(pack);
  free(knowledge);
  free(options);
  free(arrow_options);
  free(claims);
  return 0;
}
