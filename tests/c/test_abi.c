/*
 * test_abi.c: every function of medaudit.h, with good input and with abuse: NULL pointers
 * everywhere, wrong lengths, invalid UTF-8, garbage and truncated JSON, huge and deeply nested
 * input, wrong Arrow types, broken Arrow producers, double frees. Built with
 * -fsanitize=address,undefined: any invalid access or leak fails the run.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arrow_testing.h"
#include "fixtures.h"
#include "minijson.h"
#include "testing.h"

static const char *nz_mj(const mj_value *v) { return nz(mj_str(v)); }

static MedauditEngine *sample_engine(void) {
  size_t len = 0;
  const char *pack = medaudit_sample_pack_json(&len);
  MedauditEngine *e = NULL;
  EXPECT_STATUS(medaudit_engine_new(pack, len, &e), MEDAUDIT_OK);
  return e;
}

static char *rx_request(const char *trig_scen) {
  size_t cap = strlen(RX_REQUEST_FMT) + 64;
  char *s = malloc(cap);
  snprintf(s, cap, RX_REQUEST_FMT, trig_scen);
  return s;
}

/* Rule ids of a 3101 response, comma-joined, in order. */
static void rule_ids_of(const char *response, size_t len, char *out, size_t cap) {
  out[0] = 0;
  mj_value *doc = mj_parse(response, len);
  mj_value *result = mj_get(doc, "result");
  for (size_t i = 0; i < mj_len(result); i++) {
    const char *id = mj_str(mj_get(mj_at(result, i), "rule_id"));
    if (i) strncat(out, ",", cap - strlen(out) - 1);
    strncat(out, id ? id : "?", cap - strlen(out) - 1);
  }
  mj_free(doc);
}

static void test_versions_and_errors(void) {
  CHECK(medaudit_abi_version() == MEDAUDIT_ABI_VERSION, "abi %u", medaudit_abi_version());
  const char *v = medaudit_version();
  CHECK(v && strlen(v) >= 5 && strchr(v, '.'), "version %s", v ? v : "(null)");
  CHECK(medaudit_last_error() && medaudit_last_error()[0] == 0, "%s", "initial last error not empty");
  CHECK(medaudit_last_error_kind() && medaudit_last_error_kind()[0] == 0, "%s", "initial kind not empty");
  CHECK(!strcmp(medaudit_status_str(MEDAUDIT_OK), "ok"), "%s", medaudit_status_str(0));
  for (int s = 0; s <= MEDAUDIT_INTERNAL; s++)
    CHECK(strcmp(medaudit_status_str(s), "unknown status") != 0, "status %d undescribed", s);
  CHECK(!strcmp(medaudit_status_str(-1), "unknown status"), "%s", "negative status");
  CHECK(!strcmp(medaudit_status_str(12345), "unknown status"), "%s", "large status");

  size_t len = 0;
  const char *pack = medaudit_sample_pack_json(&len);
  CHECK(pack && len == strlen(pack) && len > 1000, "sample pack length %zu", len);
  CHECK(medaudit_sample_pack_json(NULL) == pack, "%s", "sample pack pointer unstable or NULL-len rejected");
  CHECK(strstr(pack, "medaudit-pack/1") != NULL, "%s", "sample pack format");
}

static void test_engine_new(void) {
  size_t len = 0;
  const char *pack = medaudit_sample_pack_json(&len);
  MedauditEngine *e = (MedauditEngine *)(uintptr_t)1; /* must be overwritten with NULL on failure */

  EXPECT_STATUS(medaudit_engine_new(NULL, len, &e), MEDAUDIT_NULL_POINTER);
  CHECK(e == NULL, "%s", "out not cleared on failure");
  LAST_KIND_IS("null_pointer");
  LAST_ERROR_HAS("pack_json");
  EXPECT_STATUS(medaudit_engine_new(pack, len, NULL), MEDAUDIT_NULL_POINTER);
  EXPECT_STATUS(medaudit_engine_new(NULL, 0, NULL), MEDAUDIT_NULL_POINTER);
  EXPECT_STATUS(medaudit_engine_new(pack, SIZE_MAX - 1, &e), MEDAUDIT_INVALID_ARGUMENT);
  LAST_ERROR_HAS("length");
  EXPECT_STATUS(medaudit_engine_new(pack, (size_t)PTRDIFF_MAX + 1, &e), MEDAUDIT_INVALID_ARGUMENT);

  /* success, with explicit length and NUL-terminated */
  EXPECT_STATUS(medaudit_engine_new(pack, len, &e), MEDAUDIT_OK);
  CHECK(e != NULL, "%s", "no engine");
  EXPECT_STATUS(medaudit_engine_free(e), MEDAUDIT_OK);
  EXPECT_STATUS(medaudit_engine_new(pack, MEDAUDIT_NUL_TERMINATED, &e), MEDAUDIT_OK);
  EXPECT_STATUS(medaudit_engine_free(e), MEDAUDIT_OK);

  /* truncated pack: every tenth prefix length is invalid JSON */
  for (size_t cut = 0; cut < len; cut += len / 10 + 1) {
    e = NULL;
    MedauditStatus st = medaudit_engine_new(pack, cut, &e);
    /* a cut inside a multi-byte character is invalid UTF-8 first */
    CHECK((st == MEDAUDIT_PACK_ERROR || st == MEDAUDIT_INVALID_UTF8) && e == NULL, "prefix %zu gave %d", cut, (int)st);
  }
  EXPECT_STATUS(medaudit_engine_new(pack, 40, &e), MEDAUDIT_PACK_ERROR);
  LAST_KIND_IS("pack_json");
  /* a length one byte too long reads the NUL terminator: not JSON */
  EXPECT_STATUS(medaudit_engine_new(pack, len + 1, &e), MEDAUDIT_PACK_ERROR);

  /* invalid UTF-8 */
  const char bad_utf8[] = "{\"format\": \"medaudit-pack/1\", \"id\": \"\xff\xfe\"}";
  EXPECT_STATUS(medaudit_engine_new(bad_utf8, sizeof bad_utf8 - 1, &e), MEDAUDIT_INVALID_UTF8);
  LAST_ERROR_HAS("byte offset 37");
  LAST_KIND_IS("invalid_utf8");

  /* garbage */
  const char *garbage[] = {"", "null", "[]", "42", "{", "{\"format\": 1}", "\x01\x02\x03", "{\"format\":\"medaudit-pack/1\"}"};
  for (size_t i = 0; i < sizeof garbage / sizeof *garbage; i++) {
    MedauditStatus st = medaudit_engine_new(garbage[i], strlen(garbage[i]), &e);
    CHECK(st == MEDAUDIT_PACK_ERROR && e == NULL, "garbage %zu gave %d", i, (int)st);
  }

  /* a rule error names the rule and the field */
  const char bad_rule[] =
      "{\"format\":\"medaudit-pack/1\",\"id\":\"p\",\"rules\":[{\"id\":\"R1\",\"name\":\"x\",\"template\":\"nope\",\"severity\":\"可疑\"}]}";
  EXPECT_STATUS(medaudit_engine_new(bad_rule, sizeof bad_rule - 1, &e), MEDAUDIT_PACK_ERROR);
  LAST_KIND_IS("rule");
  LAST_ERROR_HAS("rule \"R1\": template: unknown template \"nope\"");

  /* a declared table without rows must be given by the caller */
  const char no_rows[] =
      "{\"format\":\"medaudit-pack/1\",\"id\":\"p\",\"knowledge\":{\"big\":{\"match\":\"exact\"}},"
      "\"rules\":[{\"id\":\"R1\",\"name\":\"x\",\"template\":\"sex\",\"knowledge\":\"big\",\"severity\":\"明确违规\"}]}";
  MedauditStatus st = medaudit_engine_new(no_rows, sizeof no_rows - 1, &e);
  CHECK(st == MEDAUDIT_OK || st == MEDAUDIT_KNOWLEDGE_ERROR, "no_rows gave %d", (int)st);
  if (st == MEDAUDIT_OK) medaudit_engine_free(e);

  /* inline knowledge error names table, column, row */
  const char bad_kp[] =
      "{\"format\":\"medaudit-pack/1\",\"id\":\"p\",\"knowledge\":{\"t\":{\"rows\":[{\"code\":\"A\",\"sex\":\"2\"},{\"sex\":\"1\"}]}},"
      "\"rules\":[{\"id\":\"R1\",\"name\":\"x\",\"template\":\"sex\",\"knowledge\":\"t\",\"severity\":\"明确违规\"}]}";
  st = medaudit_engine_new(bad_kp, sizeof bad_kp - 1, &e);
  CHECK(st == MEDAUDIT_KNOWLEDGE_ERROR, "bad_kp gave %d", (int)st);
  LAST_ERROR_HAS("knowledge table \"t\"");
  LAST_ERROR_HAS("row 1");
}

static void test_engine_knowledge_json(void) {
  size_t len = 0;
  const char *pack = medaudit_sample_pack_json(&len);
  MedauditEngine *e = NULL;
  const char k[] = "{\"sex_items\": [{\"code\": \"XTESTMALE\", \"sex\": \"1\", \"kp_id\": \"KP-T\", \"item_name\": \"测试药\"}]}";
  EXPECT_STATUS(medaudit_engine_new_with_knowledge_json(pack, len, k, sizeof k - 1, &e), MEDAUDIT_OK);
  /* the given table replaced the inline one: a female patient with the test code is flagged */
  const char claims[] =
      "{\"mdtrt\": [{\"mdtrt_id\": \"M1\", \"gend\": \"2\"}],"
      " \"fee_details\": [{\"feedetl_sn\": \"L1\", \"mdtrt_id\": \"M1\", \"hilist_code\": \"XTESTMALE01\", \"det_item_fee_sumamt\": 5}]}";
  char *out = NULL;
  size_t out_len = 0;
  EXPECT_STATUS(medaudit_check_claims_json(e, claims, sizeof claims - 1, "{\"rule_ids\": [\"sex\"]}", &out, &out_len), MEDAUDIT_OK);
  CHECK(out && strstr(out, "\"kp_id\":\"KP-T\""), "findings %s", out ? out : "(null)");
  medaudit_string_free(out);
  EXPECT_STATUS(medaudit_engine_free(e), MEDAUDIT_OK);

  EXPECT_STATUS(medaudit_engine_new_with_knowledge_json(pack, len, NULL, 0, &e), MEDAUDIT_NULL_POINTER);
  EXPECT_STATUS(medaudit_engine_new_with_knowledge_json(NULL, len, k, sizeof k - 1, &e), MEDAUDIT_NULL_POINTER);
  EXPECT_STATUS(medaudit_engine_new_with_knowledge_json(pack, len, k, sizeof k - 1, NULL), MEDAUDIT_NULL_POINTER);
  EXPECT_STATUS(medaudit_engine_new_with_knowledge_json(pack, len, k, 10, &e), MEDAUDIT_INVALID_JSON);
  LAST_KIND_IS("json");
  EXPECT_STATUS(medaudit_engine_new_with_knowledge_json(pack, len, "[1,2]", 5, &e), MEDAUDIT_INVALID_JSON);
  EXPECT_STATUS(medaudit_engine_new_with_knowledge_json(pack, len, "{\"sex_items\": [{\"sex\": \"1\"}]}", MEDAUDIT_NUL_TERMINATED, &e),
                MEDAUDIT_KNOWLEDGE_ERROR);
  LAST_ERROR_HAS("column \"code\"");
  EXPECT_STATUS(medaudit_engine_new_with_knowledge_json(pack, len, "{\"sex_items\": 5}", MEDAUDIT_NUL_TERMINATED, &e),
                MEDAUDIT_KNOWLEDGE_ERROR);
  MedauditStatus st = medaudit_engine_new_with_knowledge_json(pack, len, "{\"no_such_table\": []}", MEDAUDIT_NUL_TERMINATED, &e);
  CHECK(st == MEDAUDIT_KNOWLEDGE_ERROR || st == MEDAUDIT_PACK_ERROR || st == MEDAUDIT_INVALID_ARGUMENT, "undeclared table gave %d", (int)st);
  LAST_ERROR_HAS("no_such_table");
  CHECK(e == NULL, "%s", "engine left after failure");
  const char bad_utf8[] = "{\"sex_items\": [{\"code\": \"\xc3\"}]}";
  EXPECT_STATUS(medaudit_engine_new_with_knowledge_json(pack, len, bad_utf8, sizeof bad_utf8 - 1, &e), MEDAUDIT_INVALID_UTF8);
}

static const char *const K_CODES[] = {"XTESTMALE", "XTESTFEMALE"};
static const char *const K_SEX[] = {"1", "2"};
static const char *const K_IDS[] = {"KP-A1", "KP-A2"};
static const int K_BOOL[] = {1, 0};

static void test_engine_arrow(void) {
  size_t len = 0;
  const char *pack = medaudit_sample_pack_json(&len);
  MedauditEngine *e = NULL;
  int released = 0;

  at_col cols[] = {{"code", AT_UTF8, K_CODES, NULL, NULL, NULL},
                   {"sex", AT_UTF8, K_SEX, NULL, NULL, NULL},
                   {"kp_id", AT_UTF8, K_IDS, NULL, NULL, NULL}};
  struct ArrowArrayStream s;
  at_make_stream(&s, cols, 3, 2, AT_OK, &released);
  const char *names[] = {"sex_items"};
  struct ArrowArrayStream *tables[] = {&s};
  EXPECT_STATUS(medaudit_engine_new_arrow(pack, len, names, tables, 1, &e), MEDAUDIT_OK);
  CHECK(released == 1 && s.release == NULL, "stream released %d times, release %p", released, (void *)s.release);
  const char claims[] =
      "{\"mdtrt\": [{\"mdtrt_id\": \"M1\", \"gend\": \"2\"}],"
      " \"fee_details\": [{\"feedetl_sn\": \"L1\", \"mdtrt_id\": \"M1\", \"hilist_code\": \"XTESTMALE01\", \"det_item_fee_sumamt\": 5}]}";
  char *out = NULL;
  size_t out_len = 0;
  EXPECT_STATUS(medaudit_check_claims_json(e, claims, sizeof claims - 1, "{\"rule_ids\": [\"sex\"]}", &out, &out_len), MEDAUDIT_OK);
  CHECK(out && strstr(out, "\"kp_id\":\"KP-A1\""), "findings %s", out ? out : "(null)");
  medaudit_string_free(out);
  medaudit_engine_free(e);

  /* no tables at all */
  EXPECT_STATUS(medaudit_engine_new_arrow(pack, len, NULL, NULL, 0, &e), MEDAUDIT_OK);
  medaudit_engine_free(e);

  /* NULL arrays with n > 0; NULL out, NULL pack: the stream is still taken and released */
  EXPECT_STATUS(medaudit_engine_new_arrow(pack, len, names, NULL, 1, &e), MEDAUDIT_NULL_POINTER);
  released = 0;
  at_make_stream(&s, cols, 3, 2, AT_OK, &released);
  EXPECT_STATUS(medaudit_engine_new_arrow(pack, len, NULL, tables, 1, &e), MEDAUDIT_NULL_POINTER);
  CHECK(released == 1 && s.release == NULL, "NULL names: released %d", released);
  released = 0;
  at_make_stream(&s, cols, 3, 2, AT_OK, &released);
  EXPECT_STATUS(medaudit_engine_new_arrow(pack, len, names, tables, 1, NULL), MEDAUDIT_NULL_POINTER);
  CHECK(released == 1, "NULL out: released %d", released);
  released = 0;
  at_make_stream(&s, cols, 3, 2, AT_OK, &released);
  EXPECT_STATUS(medaudit_engine_new_arrow(NULL, len, names, tables, 1, &e), MEDAUDIT_NULL_POINTER);
  CHECK(released == 1, "NULL pack: released %d", released);
  const char *null_name[] = {NULL};
  released = 0;
  at_make_stream(&s, cols, 3, 2, AT_OK, &released);
  EXPECT_STATUS(medaudit_engine_new_arrow(pack, len, null_name, tables, 1, &e), MEDAUDIT_NULL_POINTER);
  CHECK(released == 1, "NULL name: released %d", released);
  struct ArrowArrayStream *null_table[] = {NULL};
  EXPECT_STATUS(medaudit_engine_new_arrow(pack, len, names, null_table, 1, &e), MEDAUDIT_NULL_POINTER);
  EXPECT_STATUS(medaudit_engine_new_arrow(pack, len, names, tables, SIZE_MAX, &e), MEDAUDIT_INVALID_ARGUMENT);

  /* an already released stream */
  EXPECT_STATUS(medaudit_engine_new_arrow(pack, len, names, tables, 1, &e), MEDAUDIT_ARROW_ERROR);
  LAST_ERROR_HAS("already released");

  /* producer failures carry the producer's message */
  at_mode modes[] = {AT_FAIL_SCHEMA, AT_FAIL_NEXT, AT_NOT_STRUCT, AT_BAD_OFFSETS, AT_BAD_UTF8};
  for (size_t i = 0; i < sizeof modes / sizeof *modes; i++) {
    released = 0;
    at_make_stream(&s, cols, 3, 2, modes[i], &released);
    e = NULL;
    MedauditStatus st = medaudit_engine_new_arrow(pack, len, names, tables, 1, &e);
    CHECK(st == MEDAUDIT_ARROW_ERROR && e == NULL, "mode %d gave %d", (int)modes[i], (int)st);
    CHECK(released == 1, "mode %d: released %d", (int)modes[i], released);
    LAST_ERROR_HAS("knowledge table \"sex_items\"");
    if (modes[i] == AT_FAIL_SCHEMA || modes[i] == AT_FAIL_NEXT) LAST_ERROR_HAS("simulated I/O failure");
  }

  /* a knowledge column of a type knowledge tables cannot hold */
  at_col bool_cols[] = {{"code", AT_UTF8, K_CODES, NULL, NULL, NULL}, {"sex", AT_BOOL, NULL, NULL, K_BOOL, NULL}};
  released = 0;
  at_make_stream(&s, bool_cols, 2, 2, AT_OK, &released);
  EXPECT_STATUS(medaudit_engine_new_arrow(pack, len, names, tables, 1, &e), MEDAUDIT_KNOWLEDGE_ERROR);
  LAST_ERROR_HAS("sex");
  CHECK(released == 1, "bool column: released %d", released);

  /* a table the pack does not declare */
  const char *bad_names[] = {"not_declared"};
  released = 0;
  at_make_stream(&s, cols, 3, 2, AT_OK, &released);
  MedauditStatus st = medaudit_engine_new_arrow(pack, len, bad_names, tables, 1, &e);
  CHECK(st != MEDAUDIT_OK && e == NULL, "undeclared table gave %d", (int)st);
  LAST_ERROR_HAS("not_declared");

  /* a name that is not UTF-8 */
  const char *utf8_names[] = {"\xff"};
  released = 0;
  at_make_stream(&s, cols, 3, 2, AT_OK, &released);
  EXPECT_STATUS(medaudit_engine_new_arrow(pack, len, utf8_names, tables, 1, &e), MEDAUDIT_INVALID_UTF8);
  CHECK(released == 1, "utf8 name: released %d", released);
}

static void test_engine_free_and_info(void) {
  EXPECT_STATUS(medaudit_engine_free(NULL), MEDAUDIT_OK);
  MedauditEngine *e = sample_engine();
  char *info = NULL;
  size_t info_len = 0;
  EXPECT_STATUS(medaudit_engine_info(e, &info, &info_len), MEDAUDIT_OK);
  CHECK(info && info_len == strlen(info) && strstr(info, "\"id\":\"medaudit-sample\"") && strstr(info, "\"rx_drug_count\""),
        "info %s", info ? info : "(null)");
  mj_value *doc = mj_parse(info, info_len);
  CHECK(doc && mj_len(mj_get(doc, "rules")) >= 19, "%s", "info rules");
  mj_free(doc);
  EXPECT_STATUS(medaudit_string_free(info), MEDAUDIT_OK);
  EXPECT_STATUS(medaudit_string_free(info), MEDAUDIT_INVALID_HANDLE); /* double free guarded */
  EXPECT_STATUS(medaudit_string_free(NULL), MEDAUDIT_OK);
  char local[8] = "x";
  EXPECT_STATUS(medaudit_string_free(local), MEDAUDIT_INVALID_HANDLE);

  EXPECT_STATUS(medaudit_engine_info(NULL, &info, &info_len), MEDAUDIT_NULL_POINTER);
  CHECK(info == NULL && info_len == 0, "%s", "outputs not cleared");
  EXPECT_STATUS(medaudit_engine_info(e, NULL, &info_len), MEDAUDIT_NULL_POINTER);
  EXPECT_STATUS(medaudit_engine_info(e, &info, NULL), MEDAUDIT_NULL_POINTER);

  EXPECT_STATUS(medaudit_engine_free(e), MEDAUDIT_OK);
  EXPECT_STATUS(medaudit_engine_free(e), MEDAUDIT_INVALID_HANDLE); /* double free guarded */
  LAST_KIND_IS("invalid_handle");
  EXPECT_STATUS(medaudit_engine_info(e, &info, &info_len), MEDAUDIT_INVALID_HANDLE); /* use after free */
  EXPECT_STATUS(medaudit_engine_free((MedauditEngine *)local), MEDAUDIT_INVALID_HANDLE);
  EXPECT_STATUS(medaudit_engine_info((MedauditEngine *)local, &info, &info_len), MEDAUDIT_INVALID_HANDLE);
}

static void test_check_json(void) {
  MedauditEngine *e = sample_engine();
  char *req = rx_request("\"2\"");
  size_t req_len = strlen(req);
  char *resp = (char *)(uintptr_t)1;
  size_t resp_len = 99;
  char ids[512];

  EXPECT_STATUS(medaudit_check_json(e, req, req_len, &resp, &resp_len), MEDAUDIT_OK);
  CHECK(resp && resp_len == strlen(resp), "%s", "response length");
  rule_ids_of(resp, resp_len, ids, sizeof ids);
  /* 事前 (trig_scen 2): amount_mismatch is 事中/事后 only */
  CHECK(!strcmp(ids, "sex,age,contraindication,indication,not_payable"), "pre-alert rules %s", ids);
  mj_value *doc = mj_parse(resp, resp_len);
  mj_value *r0 = mj_at(mj_get(doc, "result"), 0);
  CHECK(r0 && nz_mj(mj_get(r0, "jr_id")) && strlen(nz_mj(mj_get(r0, "jr_id"))) == 16, "%s", "jr_id");
  CHECK(r0 && !strcmp(nz_mj(mj_get(r0, "sev_deg")), "明确违规"), "%s", "sev_deg");
  CHECK(r0 && !strcmp(nz_mj(mj_get(r0, "patn_id")), "P1") && !strcmp(nz_mj(mj_get(r0, "mdtrt_id")), "M1"), "%s", "ids");
  CHECK(r0 && mj_num(mj_get(r0, "vola_amt")) == 77.0, "vola_amt %f", mj_num(mj_get(r0, "vola_amt")));
  CHECK(r0 && strstr(nz_mj(mj_get(r0, "vola_cont")), "限男性使用"), "%s", "vola_cont");
  CHECK(r0 && mj_str(mj_get(r0, "vola_evid")) && !strcmp(nz_mj(mj_get(r0, "vola_bhvr_type")), "sex"), "%s", "evid/bhvr");
  CHECK(r0 && !strcmp(nz_mj(mj_get(r0, "task_id")), "T-1") && !strcmp(nz_mj(mj_get(r0, "rule_code")), "GZ10000301004000"),
        "%s", "task_id / rule_code");
  mj_value *d0 = mj_at(mj_get(r0, "judge_result_detail_dtos"), 0);
  CHECK(d0 && !strcmp(nz_mj(mj_get(d0, "vola_item_type")), "违规项") && !strcmp(nz_mj(mj_get(d0, "feedetl_sn")), "RX1-1") &&
            !strcmp(nz_mj(mj_get(d0, "hilist_name")), "爱普列特片") && !strcmp(nz_mj(mj_get(d0, "rxno")), "RX1") &&
            !strcmp(nz_mj(mj_get(d0, "bilg_dept_codg")), "A03"),
        "%s", "detail");
  CHECK(mj_get(doc, "unjudged") && mj_get(doc, "unjudged")->type == MJ_ARR, "%s", "unjudged");
  mj_free(doc);
  EXPECT_STATUS(medaudit_string_free(resp), MEDAUDIT_OK);

  /* the same call gives the same bytes (determinism) */
  char *again = NULL;
  size_t again_len = 0;
  EXPECT_STATUS(medaudit_check_json(e, req, MEDAUDIT_NUL_TERMINATED, &again, &again_len), MEDAUDIT_OK);
  char *first = NULL;
  size_t first_len = 0;
  medaudit_check_json(e, req, req_len, &first, &first_len);
  CHECK(again_len == first_len && !memcmp(again, first, first_len), "%s", "responses differ");
  medaudit_string_free(again);
  medaudit_string_free(first);

  /* 事中 (trig_scen 6 门诊结算, as a number): amount_mismatch joins */
  char *req6 = rx_request("6");
  EXPECT_STATUS(medaudit_check_json(e, req6, strlen(req6), &resp, &resp_len), MEDAUDIT_OK);
  rule_ids_of(resp, resp_len, ids, sizeof ids);
  CHECK(strstr(ids, "amount_mismatch") != NULL, "settlement rules %s", ids);
  medaudit_string_free(resp);
  free(req6);

  /* rule_ids filter, and the national envelope */
  const char *env_fmt = "{\"input\": %s}";
  char *env = malloc(req_len + 32);
  snprintf(env, req_len + 32, env_fmt, req);
  EXPECT_STATUS(medaudit_check_json(e, env, strlen(env), &resp, &resp_len), MEDAUDIT_OK);
  rule_ids_of(resp, resp_len, ids, sizeof ids);
  CHECK(!strcmp(ids, "sex,age,contraindication,indication,not_payable"), "envelope rules %s", ids);
  medaudit_string_free(resp);
  free(env);
  const char filtered[] =
      "{\"trig_scen\": \"5\", \"rule_ids\": [\"age\"], \"patient_dtos\": [{\"psn_no\": \"P\", \"gend\": \"1\", \"brdy\": \"1950-01-01\","
      " \"encounters\": [{\"mdtrt_id\": \"M\", \"med_type\": \"21\", \"begntime\": \"2026-01-01\","
      " \"fee_details\": [{\"feedetl_sn\": \"F1\", \"hilist_code\": \"ZA04CAE0023\", \"det_item_fee_sumamt\": 3, \"fee_ocur_time\": \"2026-01-01\"},"
      "                   {\"feedetl_sn\": \"F2\", \"hilist_code\": \"ZD03AAA0043\", \"det_item_fee_sumamt\": 4}]}]}]}";
  EXPECT_STATUS(medaudit_check_json(e, filtered, sizeof filtered - 1, &resp, &resp_len), MEDAUDIT_OK);
  rule_ids_of(resp, resp_len, ids, sizeof ids);
  CHECK(!strcmp(ids, "age"), "filtered rules %s (aliases, bare data): %s", ids, resp);
  CHECK(strstr(resp, "\"task_id\"") == NULL, "%s", "task_id echoed without being given");
  medaudit_string_free(resp);
  const char empty[] = "{\"data\": {\"trig_scen\": \"1\"}}";
  EXPECT_STATUS(medaudit_check_json(e, empty, sizeof empty - 1, &resp, &resp_len), MEDAUDIT_OK);
  CHECK(!strcmp(resp, "{\"result\":[],\"unjudged\":[]}"), "empty request: %s", resp);
  medaudit_string_free(resp);

  /* NULLs everywhere */
  EXPECT_STATUS(medaudit_check_json(NULL, req, req_len, &resp, &resp_len), MEDAUDIT_NULL_POINTER);
  CHECK(resp == NULL && resp_len == 0, "%s", "outputs not cleared");
  EXPECT_STATUS(medaudit_check_json(e, NULL, req_len, &resp, &resp_len), MEDAUDIT_NULL_POINTER);
  EXPECT_STATUS(medaudit_check_json(e, req, req_len, NULL, &resp_len), MEDAUDIT_NULL_POINTER);
  EXPECT_STATUS(medaudit_check_json(e, req, req_len, &resp, NULL), MEDAUDIT_NULL_POINTER);
  EXPECT_STATUS(medaudit_check_json(NULL, NULL, 0, NULL, NULL), MEDAUDIT_NULL_POINTER);
  EXPECT_STATUS(medaudit_check_json(e, req, SIZE_MAX - 7, &resp, &resp_len), MEDAUDIT_INVALID_ARGUMENT);

  /* truncated requests: every prefix is invalid JSON, never a crash */
  int bad = 0;
  for (size_t cut = 0; cut < req_len; cut++) {
    MedauditStatus st = medaudit_check_json(e, req, cut, &resp, &resp_len);
    if ((st != MEDAUDIT_INVALID_JSON && st != MEDAUDIT_INVALID_UTF8) || resp != NULL) bad++;
    if (st == MEDAUDIT_OK) medaudit_string_free(resp);
  }
  CHECK(bad == 0, "%d of %zu prefixes were not INVALID_JSON", bad, req_len);
  LAST_KIND_IS("json");

  /* invalid UTF-8 inside a string value */
  char *bad_utf8 = strdup(req);
  char *p = strstr(bad_utf8, "爱普列特片");
  p[1] = (char)0x41; /* break a 3-byte sequence */
  EXPECT_STATUS(medaudit_check_json(e, bad_utf8, req_len, &resp, &resp_len), MEDAUDIT_INVALID_UTF8);
  LAST_ERROR_HAS("byte offset");
  free(bad_utf8);
  /* an embedded NUL within the given length */
  char *nul = strdup(req);
  nul[req_len / 2] = 0;
  EXPECT_STATUS(medaudit_check_json(e, nul, req_len, &resp, &resp_len), MEDAUDIT_INVALID_JSON);
  free(nul);

  /* garbage: random bytes (seeded), random ASCII, and JSON of the wrong shape */
  uint32_t seed = 12345;
  char buf[256];
  for (int round = 0; round < 300; round++) {
    size_t n = (size_t)(round % 200) + 1;
    for (size_t i = 0; i < n; i++) {
      seed = seed * 1103515245u + 12345u;
      buf[i] = round % 2 ? (char)((seed >> 16) & 0xff) : "{}[]\":,0123456789.etrufalsn \\"[(seed >> 16) % 27];
    }
    MedauditStatus st = medaudit_check_json(e, buf, n, &resp, &resp_len);
    CHECK(st == MEDAUDIT_INVALID_JSON || st == MEDAUDIT_INVALID_UTF8, "garbage round %d gave %d", round, (int)st);
    if (st == MEDAUDIT_OK) medaudit_string_free(resp);
  }
  struct { const char *json; const char *path; MedauditStatus want; } shapes[] = {
      {"[]", "$", MEDAUDIT_INVALID_JSON},
      {"{\"data\": 5}", "$.data", MEDAUDIT_INVALID_JSON},
      {"{\"data\": {}}", "$.data.trig_scen", MEDAUDIT_INVALID_JSON},
      {"{\"data\": {\"trig_scen\": \"99\"}}", "unknown trigger scene", MEDAUDIT_INVALID_JSON},
      {"{\"data\": {\"trig_scen\": true}}", "$.data.trig_scen", MEDAUDIT_INVALID_JSON},
      {"{\"data\": {\"trig_scen\": \"1\", \"rule_ids\": [\"nope\"]}}", "nope", MEDAUDIT_INVALID_ARGUMENT},
      {"{\"data\": {\"trig_scen\": \"1\", \"rule_ids\": \"sex\"}}", "$.data.rule_ids", MEDAUDIT_INVALID_JSON},
      {"{\"data\": {\"trig_scen\": \"1\", \"patient_dtos\": {}}}", "$.data.patient_dtos", MEDAUDIT_INVALID_JSON},
      {"{\"data\": {\"trig_scen\": \"1\", \"patient_dtos\": [{\"gend\": 2}]}}", "$.data.patient_dtos[0].gend", MEDAUDIT_INVALID_JSON},
      {"{\"data\": {\"trig_scen\": \"1\", \"patient_dtos\": [{\"fsi_encounter_dtos\": [{}]}]}}",
       "$.data.patient_dtos[0].fsi_encounter_dtos[0].mdtrt_id", MEDAUDIT_INVALID_JSON},
      {"{\"data\": {\"trig_scen\": \"1\", \"patient_dtos\": [{\"brdy\": \"1990-02-30\"}]}}", "$.data.patient_dtos[0].brdy",
       MEDAUDIT_INVALID_JSON},
      {"{\"data\": {\"trig_scen\": \"1\", \"patient_dtos\": [{\"fsi_encounter_dtos\": [{\"mdtrt_id\": \"M\", \"fsi_order_dtos\": "
       "[{\"rx_id\": \"1\", \"hilist_code\": \"X\", \"cnt\": true}]}]}]}}",
       "$.data.patient_dtos[0].fsi_encounter_dtos[0].fsi_order_dtos[0].cnt", MEDAUDIT_INVALID_JSON},
      {"{\"data\": {\"trig_scen\": \"1\", \"patient_dtos\": [{\"fsi_encounter_dtos\": [{\"mdtrt_id\": \"M\", \"fsi_order_dtos\": "
       "[{\"rx_id\": \"1\", \"hilist_code\": \"X\", \"cnt\": \"two\"}]}]}]}}",
       "expected a number, found \"two\"", MEDAUDIT_INVALID_JSON},
      {"{\"data\": {\"trig_scen\": \"1\", \"patient_dtos\": [{\"fsi_encounter_dtos\": [{\"mdtrt_id\": \"M\", \"fsi_order_dtos\": "
       "[{\"rx_id\": \"1\", \"feedetl_sn\": \"2\", \"hilist_code\": \"X\"}]}]}]}}",
       "disagree", MEDAUDIT_INVALID_JSON},
      {"{\"data\": {\"trig_scen\": \"1\", \"patient_dtos\": [{\"fsi_encounter_dtos\": [{\"mdtrt_id\": \"M\"}, {\"mdtrt_id\": \"M\"}]}]}}",
       "duplicate encounter", MEDAUDIT_INVALID_JSON},
  };
  for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) {
    MedauditStatus st = medaudit_check_json(e, shapes[i].json, strlen(shapes[i].json), &resp, &resp_len);
    CHECK(st == shapes[i].want, "shape %zu (%s) gave %d", i, shapes[i].json, (int)st);
    CHECK(strstr(medaudit_last_error(), shapes[i].path) != NULL, "shape %zu: message lacks %s", i, shapes[i].path);
    if (st == MEDAUDIT_OK) medaudit_string_free(resp);
  }

  /* deeply nested input is refused, not a stack overflow */
  size_t depth = 200000;
  char *deep = malloc(depth * 2 + 1);
  memset(deep, '[', depth);
  memset(deep + depth, ']', depth);
  EXPECT_STATUS(medaudit_check_json(e, deep, depth * 2, &resp, &resp_len), MEDAUDIT_INVALID_JSON);
  LAST_ERROR_HAS("recursion limit");
  free(deep);

  /* a huge request: 20,000 order lines in one encounter */
  size_t lines = 20000, cap = lines * 200 + 1024, n = 0;
  char *huge = malloc(cap);
  n += (size_t)snprintf(huge + n, cap - n,
                        "{\"data\": {\"trig_scen\": \"2\", \"patient_dtos\": [{\"patn_id\": \"P\", \"gend\": \"2\", \"brdy\": \"1970-01-01\","
                        " \"fsi_encounter_dtos\": [{\"mdtrt_id\": \"M\", \"med_type\": \"11\", \"fsi_order_dtos\": [");
  for (size_t i = 0; i < lines; i++)
    n += (size_t)snprintf(huge + n, cap - n,
                          "%s{\"rx_id\": \"L%zu\", \"hilist_code\": \"%s\", \"cnt\": 1, \"pric\": 2, \"sumamt\": 2,"
                          " \"drord_begn_date\": \"2026-01-01 10:00:00\"}",
                          i ? "," : "", i, i % 100 == 0 ? "XG04CBA088A001010101234" : "XC08CAA001A001010101234");
  n += (size_t)snprintf(huge + n, cap - n, "]}]}]}}");
  EXPECT_STATUS(medaudit_check_json(e, huge, n, &resp, &resp_len), MEDAUDIT_OK);
  doc = mj_parse(resp, resp_len);
  size_t sex_hits = 0;
  for (size_t i = 0; i < mj_len(mj_get(doc, "result")); i++)
    if (!strcmp(nz_mj(mj_get(mj_at(mj_get(doc, "result"), i), "rule_id")), "sex")) sex_hits++;
  CHECK(sex_hits == lines / 100, "huge request: %zu sex findings", sex_hits);
  mj_free(doc);
  medaudit_string_free(resp);
  free(huge);

  free(req);
  medaudit_engine_free(e);
}

static void test_check_claims_json(void) {
  MedauditEngine *e = sample_engine();
  char *out = NULL;
  size_t out_len = 0;
  EXPECT_STATUS(medaudit_check_claims_json(e, CLAIMS_JSON, strlen(CLAIMS_JSON), NULL, &out, &out_len), MEDAUDIT_OK);
  mj_value *doc = mj_parse(out, out_len);
  mj_value *f = mj_get(doc, "findings");
  CHECK(mj_len(f) == 3, "%zu findings: %s", mj_len(f), nz(out));
  CHECK(!strcmp(nz_mj(mj_get(mj_at(f, 0), "rule_id")), "sex") && !strcmp(nz_mj(mj_get(mj_at(f, 0), "feedetl_sn")), "L1") &&
            !strcmp(nz_mj(mj_get(mj_at(f, 2), "rule_id")), "amount_mismatch"),
        "%s", out);
  mj_free(doc);
  medaudit_string_free(out);

  EXPECT_STATUS(medaudit_check_claims_json(e, CLAIMS_JSON, strlen(CLAIMS_JSON), "{\"stage\": \"事前\"}", &out, &out_len), MEDAUDIT_OK);
  doc = mj_parse(out, out_len);
  CHECK(mj_len(mj_get(doc, "findings")) == 2, "pre-alert: %s", out);
  mj_free(doc);
  medaudit_string_free(out);
  EXPECT_STATUS(medaudit_check_claims_json(e, CLAIMS_JSON, strlen(CLAIMS_JSON), "{\"rule_ids\": [\"age\"], \"stage\": null}", &out, &out_len),
                MEDAUDIT_OK);
  CHECK(strstr(out, "\"rule_id\":\"age\"") && !strstr(out, "\"rule_id\":\"sex\""), "filter: %s", out);
  medaudit_string_free(out);
  EXPECT_STATUS(medaudit_check_claims_json(e, CLAIMS_JSON, strlen(CLAIMS_JSON), "", &out, &out_len), MEDAUDIT_OK);
  medaudit_string_free(out);

  /* options abuse */
  EXPECT_STATUS(medaudit_check_claims_json(e, CLAIMS_JSON, strlen(CLAIMS_JSON), "{\"stage\": \"later\"}", &out, &out_len),
                MEDAUDIT_INVALID_ARGUMENT);
  CHECK(out == NULL && out_len == 0, "%s", "outputs not cleared");
  EXPECT_STATUS(medaudit_check_claims_json(e, CLAIMS_JSON, strlen(CLAIMS_JSON), "{\"stage\": 1}", &out, &out_len), MEDAUDIT_INVALID_JSON);
  EXPECT_STATUS(medaudit_check_claims_json(e, CLAIMS_JSON, strlen(CLAIMS_JSON), "{\"stag\": \"事前\"}", &out, &out_len),
                MEDAUDIT_INVALID_ARGUMENT);
  EXPECT_STATUS(medaudit_check_claims_json(e, CLAIMS_JSON, strlen(CLAIMS_JSON), "{\"rule_ids\": [\"nope\"]}", &out, &out_len),
                MEDAUDIT_INVALID_ARGUMENT);
  LAST_KIND_IS("argument");
  LAST_ERROR_HAS("nope");
  EXPECT_STATUS(medaudit_check_claims_json(e, CLAIMS_JSON, strlen(CLAIMS_JSON), "{\"rule_ids\": [1]}", &out, &out_len), MEDAUDIT_INVALID_JSON);
  EXPECT_STATUS(medaudit_check_claims_json(e, CLAIMS_JSON, strlen(CLAIMS_JSON), "{oops", &out, &out_len), MEDAUDIT_INVALID_JSON);
  EXPECT_STATUS(medaudit_check_claims_json(e, CLAIMS_JSON, strlen(CLAIMS_JSON), "\xff", &out, &out_len), MEDAUDIT_INVALID_UTF8);
  EXPECT_STATUS(medaudit_check_claims_json(e, CLAIMS_JSON, strlen(CLAIMS_JSON), "{\"column_map\": {\"fee_details\": {\"nope\": \"x\"}}}",
                                           &out, &out_len),
                MEDAUDIT_INVALID_ARGUMENT);

  /* NULLs */
  EXPECT_STATUS(medaudit_check_claims_json(NULL, CLAIMS_JSON, strlen(CLAIMS_JSON), NULL, &out, &out_len), MEDAUDIT_NULL_POINTER);
  EXPECT_STATUS(medaudit_check_claims_json(e, NULL, 5, NULL, &out, &out_len), MEDAUDIT_NULL_POINTER);
  EXPECT_STATUS(medaudit_check_claims_json(e, CLAIMS_JSON, strlen(CLAIMS_JSON), NULL, NULL, &out_len), MEDAUDIT_NULL_POINTER);
  EXPECT_STATUS(medaudit_check_claims_json(e, CLAIMS_JSON, strlen(CLAIMS_JSON), NULL, &out, NULL), MEDAUDIT_NULL_POINTER);

  /* wrong types: a boolean cnt is a column error naming the column */
  const char bool_cnt[] =
      "{\"mdtrt\": [{\"mdtrt_id\": \"M1\"}], \"fee_details\": [{\"feedetl_sn\": \"L1\", \"mdtrt_id\": \"M1\", \"hilist_code\": \"X\", \"cnt\": true}],"
      " \"types\": {\"fee_details\": {\"cnt\": \"boolean\"}}}";
  EXPECT_STATUS(medaudit_check_claims_json(e, bool_cnt, sizeof bool_cnt - 1, NULL, &out, &out_len), MEDAUDIT_COLUMN_ERROR);
  LAST_KIND_IS("column");
  LAST_ERROR_HAS("column \"cnt\"");
  /* a value the rule needs is null */
  const char null_cnt[] =
      "{\"mdtrt\": [{\"mdtrt_id\": \"M1\"}], \"fee_details\": [{\"feedetl_sn\": \"L1\", \"mdtrt_id\": \"M1\", \"hilist_code\": \"X\", \"cnt\": null,"
      " \"pric\": 2, \"det_item_fee_sumamt\": 3}]}";
  EXPECT_STATUS(medaudit_check_claims_json(e, null_cnt, sizeof null_cnt - 1, "{\"rule_ids\": [\"amount_mismatch\"]}", &out, &out_len),
                MEDAUDIT_VALUE_ERROR);
  LAST_KIND_IS("value");
  LAST_ERROR_HAS("amount_mismatch");
  /* claims JSON of the wrong shape names the path */
  EXPECT_STATUS(medaudit_check_claims_json(e, "{\"fee_details\": [{\"cnt\": \"x\"}]}", MEDAUDIT_NUL_TERMINATED, NULL, &out, &out_len),
                MEDAUDIT_INVALID_JSON);
  LAST_KIND_IS("argument");
  LAST_ERROR_HAS("$.claims.fee_details[0].cnt");
  EXPECT_STATUS(medaudit_check_claims_json(e, "{\"bogus\": []}", MEDAUDIT_NUL_TERMINATED, NULL, &out, &out_len), MEDAUDIT_INVALID_JSON);
  EXPECT_STATUS(medaudit_check_claims_json(e, "{\"fee_details\": [", MEDAUDIT_NUL_TERMINATED, NULL, &out, &out_len), MEDAUDIT_INVALID_JSON);
  medaudit_engine_free(e);
  EXPECT_STATUS(medaudit_check_claims_json(e, CLAIMS_JSON, strlen(CLAIMS_JSON), NULL, &out, &out_len), MEDAUDIT_INVALID_HANDLE);
}

/* ---- Arrow ---- */

static const char *const F_SN[] = {"L1", "L2", "L3"};
static const char *const F_MDTRT[] = {"M1", "M1", "M1"};
static const char *const F_CODE[] = {"XG04CBA088A001010101234", "ZA04CAE0023010100000", "XC08CAA001A001010101234"};
static const char *const F_NAME[] = {"爱普列特片", NULL, "氨氯地平片"};
static const double F_CNT[] = {2, 1, 2};
static const double F_PRIC[] = {38.5, 26, 15};
static const double F_SUM[] = {77, 26, 99};
static const int F_BOOL[] = {1, 0, 1};
static const char *const F_DEPT[] = {"A03", "A03", "A03"};
static const char *const F_RXNO[] = {"RX1", "RX1", "RX1"};
static const int64_t F_TIME[] = {1773566400, 1773566400, 1773566400};
static const int64_t F_I64[] = {2, 1, 2};
static const char *const M_ID[] = {"M1"};
static const char *const M_GEND[] = {"2"};
static const char *const M_AGE_STR[] = {"57"};
static const double M_AGE[] = {57};
static const char *const M_MED[] = {"11"};
static const char *const M_INSU[] = {"310"};
static const char *const M_LV[] = {"01"};
static const int64_t M_BEGN[] = {1773565320}; /* 2026-03-15 09:02:00 wall clock */
static const int64_t M_NULL_TS[] = {INT64_MIN};

static void fee_stream(struct ArrowArrayStream *s, at_type cnt_type, const char *code_name, at_mode mode, int *rel) {
  at_col cols[] = {{"feedetl_sn", AT_UTF8, F_SN, NULL, NULL, NULL},
                   {"mdtrt_id", AT_UTF8, F_MDTRT, NULL, NULL, NULL},
                   {code_name, AT_UTF8, F_CODE, NULL, NULL, NULL},
                   {"hilist_name", AT_UTF8, F_NAME, NULL, NULL, NULL},
                   {"cnt", cnt_type, NULL, F_CNT, F_BOOL, F_I64},
                   {"pric", AT_F64, NULL, F_PRIC, NULL, NULL},
                   {"det_item_fee_sumamt", AT_F64, NULL, F_SUM, NULL, NULL},
                   {"bilg_dept_codg", AT_UTF8, F_DEPT, NULL, NULL, NULL},
                   {"rxno", AT_UTF8, F_RXNO, NULL, NULL, NULL},
                   {"fee_ocur_time", AT_TS, NULL, NULL, NULL, F_TIME}};
  at_make_stream(s, cols, 10, 3, mode, rel);
}

static void mdtrt_stream(struct ArrowArrayStream *s, int *rel) {
  at_col cols[] = {{"mdtrt_id", AT_UTF8, M_ID, NULL, NULL, NULL},
                   {"gend", AT_UTF8, M_GEND, NULL, NULL, NULL},
                   {"age", AT_F64, NULL, M_AGE, NULL, NULL},
                   {"med_type", AT_UTF8, M_MED, NULL, NULL, NULL},
                   {"insutype", AT_UTF8, M_INSU, NULL, NULL, NULL},
                   {"hosp_lv", AT_UTF8, M_LV, NULL, NULL, NULL},
                   {"begntime", AT_TS, NULL, NULL, NULL, M_BEGN},
                   {"endtime", AT_TS, NULL, NULL, NULL, M_NULL_TS},
                   {"die_date", AT_TS, NULL, NULL, NULL, M_NULL_TS}};
  at_make_stream(s, cols, 9, 1, AT_OK, rel);
}

static void test_check_arrow(void) {
  MedauditEngine *e = sample_engine();
  struct ArrowArrayStream fee, enc, out;
  int rf = 0, rm = 0;

  /* a good batch: sex (L1), age (L2), amount_mismatch (L3) */
  fee_stream(&fee, AT_F64, "hilist_code", AT_OK, &rf);
  mdtrt_stream(&enc, &rm);
  EXPECT_STATUS(medaudit_check_arrow(e, &fee, &enc, NULL, NULL, NULL, &out), MEDAUDIT_OK);
  CHECK(rf == 1 && rm == 1 && fee.release == NULL && enc.release == NULL, "inputs released %d/%d", rf, rm);
  at_findings f;
  CHECK(at_read_findings(&out, &f) == 0, "%s", "read findings");
  CHECK(f.rows == 3, "%lld findings", (long long)f.rows);
  CHECK(f.schema.n_children == 19 && !strcmp(f.schema.format, "+s"), "findings schema %lld children", (long long)f.schema.n_children);
  char buf[256];
  int is_null = 0;
  CHECK(f.rows == 3 && !strcmp(nz(at_str(&f, "rule_id", 0, buf, sizeof buf)), "sex"), "%s", "row 0 rule");
  CHECK(f.rows == 3 && !strcmp(nz(at_str(&f, "feedetl_sn", 1, buf, sizeof buf)), "L2"), "%s", "row 1 line");
  CHECK(f.rows == 3 && !strcmp(nz(at_str(&f, "rule_id", 2, buf, sizeof buf)), "amount_mismatch"), "%s", "row 2 rule");
  CHECK(f.rows == 3 && at_f64(&f, "amount", 0, &is_null) == 77.0 && !is_null, "%s", "amount");
  CHECK(f.rows == 3 && at_u8(&f, "warn_level", 0) == 1, "%s", "warn_level");
  CHECK(f.rows == 3 && at_str(&f, "related_feedetl_sn", 0, buf, sizeof buf) == NULL, "%s", "null related line");
  at_findings_free(&f);

  /* options: stage, rule filter, column map, validation off; int64 cnt accepted */
  rf = rm = 0;
  fee_stream(&fee, AT_I64, "med_list_codg", AT_OK, &rf);
  mdtrt_stream(&enc, &rm);
  EXPECT_STATUS(medaudit_check_arrow(e, &fee, &enc, NULL, NULL,
                                     "{\"stage\": \"事前\", \"column_map\": {\"fee_details\": {\"hilist_code\": \"med_list_codg\"}},"
                                     " \"validate\": false}",
                                     &out),
                MEDAUDIT_OK);
  CHECK(at_read_findings(&out, &f) == 0 && f.rows == 2, "pre-alert with column map: %lld", (long long)f.rows);
  at_findings_free(&f);

  /* no mdtrt: rules needing the encounter say so (value error naming the rule), no crash */
  rf = 0;
  fee_stream(&fee, AT_F64, "hilist_code", AT_OK, &rf);
  MedauditStatus st = medaudit_check_arrow(e, &fee, NULL, NULL, NULL, "{\"rule_ids\": [\"amount_mismatch\"]}", &out);
  CHECK(st == MEDAUDIT_OK, "fee only gave %d", (int)st);
  if (st == MEDAUDIT_OK) {
    CHECK(at_read_findings(&out, &f) == 0 && f.rows == 1, "%s", "fee only findings");
    at_findings_free(&f);
  }

  /* wrong Arrow type: a boolean cnt column */
  rf = rm = 0;
  fee_stream(&fee, AT_BOOL, "hilist_code", AT_OK, &rf);
  mdtrt_stream(&enc, &rm);
  EXPECT_STATUS(medaudit_check_arrow(e, &fee, &enc, NULL, NULL, NULL, &out), MEDAUDIT_COLUMN_ERROR);
  LAST_ERROR_HAS("column \"cnt\"");
  LAST_ERROR_HAS("fee_details");
  CHECK(out.release == NULL && rf == 1 && rm == 1, "%s", "failure: output released, inputs released");
  /* wrong type in mdtrt: age as a string */
  at_col bad_enc[] = {{"mdtrt_id", AT_UTF8, M_ID, NULL, NULL, NULL}, {"age", AT_UTF8, M_AGE_STR, NULL, NULL, NULL}};
  rf = rm = 0;
  fee_stream(&fee, AT_F64, "hilist_code", AT_OK, &rf);
  at_make_stream(&enc, bad_enc, 2, 1, AT_OK, &rm);
  EXPECT_STATUS(medaudit_check_arrow(e, &fee, &enc, NULL, NULL, NULL, &out), MEDAUDIT_COLUMN_ERROR);
  LAST_ERROR_HAS("mdtrt");
  LAST_ERROR_HAS("age");
  /* a missing required column */
  rf = 0;
  fee_stream(&fee, AT_F64, "not_the_code", AT_OK, &rf);
  EXPECT_STATUS(medaudit_check_arrow(e, &fee, NULL, NULL, NULL, NULL, &out), MEDAUDIT_COLUMN_ERROR);
  LAST_ERROR_HAS("hilist_code");

  /* broken producers and invalid buffers */
  at_mode modes[] = {AT_FAIL_SCHEMA, AT_FAIL_NEXT, AT_NOT_STRUCT, AT_BAD_OFFSETS, AT_BAD_UTF8};
  for (size_t i = 0; i < sizeof modes / sizeof *modes; i++) {
    rf = rm = 0;
    fee_stream(&fee, AT_F64, "hilist_code", modes[i], &rf);
    mdtrt_stream(&enc, &rm);
    st = medaudit_check_arrow(e, &fee, &enc, NULL, NULL, NULL, &out);
    CHECK(st == MEDAUDIT_ARROW_ERROR, "mode %d gave %d", (int)modes[i], (int)st);
    CHECK(rf == 1 && rm == 1 && out.release == NULL, "mode %d: released %d/%d", (int)modes[i], rf, rm);
    LAST_ERROR_HAS("fee_details");
  }

  /* NULLs and a bad engine: every given stream is still taken and released */
  rf = rm = 0;
  fee_stream(&fee, AT_F64, "hilist_code", AT_OK, &rf);
  mdtrt_stream(&enc, &rm);
  EXPECT_STATUS(medaudit_check_arrow(NULL, &fee, &enc, NULL, NULL, NULL, &out), MEDAUDIT_NULL_POINTER);
  CHECK(rf == 1 && rm == 1, "NULL engine: released %d/%d", rf, rm);
  rf = rm = 0;
  fee_stream(&fee, AT_F64, "hilist_code", AT_OK, &rf);
  mdtrt_stream(&enc, &rm);
  EXPECT_STATUS(medaudit_check_arrow(e, &fee, &enc, NULL, NULL, NULL, NULL), MEDAUDIT_NULL_POINTER);
  CHECK(rf == 1 && rm == 1, "NULL out: released %d/%d", rf, rm);
  rm = 0;
  mdtrt_stream(&enc, &rm);
  /* no fee_details: a table the caller does not have; encounter rules still run */
  EXPECT_STATUS(medaudit_check_arrow(e, NULL, &enc, NULL, NULL, NULL, &out), MEDAUDIT_OK);
  CHECK(rm == 1, "NULL fee_details: released %d", rm);
  CHECK(at_read_findings(&out, &f) == 0 && f.rows == 0, "%s", "NULL fee_details: no line findings");
  at_findings_free(&f);
  rf = 0;
  fee_stream(&fee, AT_F64, "hilist_code", AT_OK, &rf);
  EXPECT_STATUS(medaudit_check_arrow(e, &fee, NULL, NULL, NULL, "{\"stage\": ", &out), MEDAUDIT_INVALID_JSON);
  CHECK(rf == 1, "bad options: released %d", rf);
  /* already released input */
  EXPECT_STATUS(medaudit_check_arrow(e, &fee, NULL, NULL, NULL, NULL, &out), MEDAUDIT_ARROW_ERROR);
  LAST_ERROR_HAS("already released");
  int dummy = 0;
  rf = 0;
  fee_stream(&fee, AT_F64, "hilist_code", AT_OK, &rf);
  EXPECT_STATUS(medaudit_check_arrow((MedauditEngine *)&dummy, &fee, NULL, NULL, NULL, NULL, &out), MEDAUDIT_INVALID_HANDLE);
  CHECK(rf == 1, "bad handle: released %d", rf);

  /* claims JSON -> Arrow -> batch call gives what the JSON call gives */
  const char *tables[] = {"mdtrt", "diagnoses", "operations", "fee_details"};
  struct ArrowArrayStream in[4];
  for (int i = 0; i < 4; i++)
    EXPECT_STATUS(medaudit_claims_json_to_arrow(CLAIMS_JSON, strlen(CLAIMS_JSON), tables[i], &in[i]), MEDAUDIT_OK);
  /* CLAIMS_JSON has no diagnoses or operations: no stream for them (release == NULL) */
  CHECK(in[0].release && !in[1].release && !in[2].release && in[3].release, "%s", "absent tables give released streams");
  EXPECT_STATUS(medaudit_check_arrow(e, &in[3], &in[0], NULL, NULL, NULL, &out), MEDAUDIT_OK);
  CHECK(at_read_findings(&out, &f) == 0 && f.rows == 3, "%s", "json->arrow findings");
  CHECK(f.rows == 3 && !strcmp(nz(at_str(&f, "rule_id", 1, buf, sizeof buf)), "age"), "%s", "json->arrow row 1");
  at_findings_free(&f);
  EXPECT_STATUS(medaudit_claims_json_to_arrow(CLAIMS_JSON, strlen(CLAIMS_JSON), "nope", &out), MEDAUDIT_INVALID_ARGUMENT);
  CHECK(out.release == NULL, "%s", "to_arrow failure leaves a released stream");
  EXPECT_STATUS(medaudit_claims_json_to_arrow(CLAIMS_JSON, strlen(CLAIMS_JSON), NULL, &out), MEDAUDIT_NULL_POINTER);
  EXPECT_STATUS(medaudit_claims_json_to_arrow(NULL, 3, "mdtrt", &out), MEDAUDIT_NULL_POINTER);
  EXPECT_STATUS(medaudit_claims_json_to_arrow(CLAIMS_JSON, strlen(CLAIMS_JSON), "mdtrt", NULL), MEDAUDIT_NULL_POINTER);
  EXPECT_STATUS(medaudit_claims_json_to_arrow(CLAIMS_JSON, 20, "mdtrt", &out), MEDAUDIT_INVALID_JSON);
  EXPECT_STATUS(medaudit_claims_json_to_arrow("{\"mdtrt\": [{\"brdy\": \"x\"}]}", MEDAUDIT_NUL_TERMINATED, "mdtrt", &out), MEDAUDIT_INVALID_JSON);
  LAST_ERROR_HAS("$.claims.mdtrt[0].brdy");
  /* a forced boolean cnt converts, and the batch call rejects it naming the column */
  const char bool_cnt[] =
      "{\"fee_details\": [{\"feedetl_sn\": \"L1\", \"mdtrt_id\": \"M1\", \"hilist_code\": \"X\", \"cnt\": true}],"
      " \"types\": {\"fee_details\": {\"cnt\": \"boolean\"}}}";
  EXPECT_STATUS(medaudit_claims_json_to_arrow(bool_cnt, sizeof bool_cnt - 1, "fee_details", &fee), MEDAUDIT_OK);
  EXPECT_STATUS(medaudit_check_arrow(e, &fee, NULL, NULL, NULL, NULL, &out), MEDAUDIT_COLUMN_ERROR);
  LAST_ERROR_HAS("column \"cnt\"");
  /* an unreleased stream handed back by to_arrow can just be released by the caller */
  EXPECT_STATUS(medaudit_claims_json_to_arrow(CLAIMS_JSON, strlen(CLAIMS_JSON), "fee_details", &fee), MEDAUDIT_OK);
  fee.release(&fee);

  medaudit_engine_free(e);
}

int main(void) {
  test_versions_and_errors();
  test_engine_new();
  test_engine_knowledge_json();
  test_engine_arrow();
  test_engine_free_and_info();
  test_check_json();
  test_check_claims_json();
  test_check_arrow();
  return t_summary("test_abi");
}
