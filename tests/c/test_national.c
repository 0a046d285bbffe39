/*
 * test_national.c: the national-knowledge wrappers of medaudit.h (medaudit_national_import_file,
 * medaudit_engine_new_national_file): success on a small records file and, when given as argv[1],
 * on the published records; NULL pointers; a missing file; malformed records; bad options.
 * Built with -fsanitize=address,undefined: any invalid access or leak fails the run.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testing.h"

static const char *RECORDS =
    "[{\"kp_id\": \"KP-1\", \"rule_class\": \"药品区分性别使用\", \"gz_code\": \"GZ10000301004000\","
    "  \"med_codes\": [\"ZD03AAA0043010100166\"], \"item_name\": \"艾附暖宫丸\","
    "  \"constraint\": \"理气补血，暖宫调经。用于子宫虚寒，月经量少。\", \"batch\": 1},"
    " {\"kp_id\": \"KP-2\", \"rule_class\": \"药品限支付疗程\", \"med_codes\": [\"XB01\"],"
    "  \"constraint\": \"支付不超过14天。\", \"batch\": 6}]";

static const char *CLAIMS =
    "{\"mdtrt\": [{\"mdtrt_id\": \"M1\", \"gend\": \"1\"}],"
    " \"fee_details\": [{\"feedetl_sn\": \"L1\", \"mdtrt_id\": \"M1\", \"hilist_code\": \"ZD03AAA0043010100166\","
    "  \"fee_ocur_time\": \"2026-03-01 09:00:00\", \"det_item_fee_sumamt\": 30.5}]}";

/* The whole national pack reads every column its templates need. */
static const char *CLAIMS_FULL =
    "{\"mdtrt\": [{\"mdtrt_id\": \"M1\", \"gend\": \"1\", \"brdy\": \"1980-01-01\", \"insutype\": \"310\","
    "  \"med_type\": \"11\", \"hosp_lv\": \"01\", \"begntime\": \"2026-03-01 08:00:00\","
    "  \"endtime\": \"2026-03-01 12:00:00\"}],"
    " \"diagnoses\": [{\"mdtrt_id\": \"M1\", \"diag_code\": \"I10.x00\"}],"
    " \"fee_details\": [{\"feedetl_sn\": \"L1\", \"mdtrt_id\": \"M1\", \"hilist_code\": \"ZD03AAA0043010100166\","
    "  \"fee_ocur_time\": \"2026-03-01 09:00:00\", \"cnt\": 1, \"pric\": 30.5, \"det_item_fee_sumamt\": 30.5,"
    "  \"rxno\": \"R1\"}]}";

static char tmpdir[] = "/tmp/medaudit_national_XXXXXX";

static char *write_file(const char *name, const char *text) {
  size_t cap = strlen(tmpdir) + strlen(name) + 2;
  char *path = malloc(cap);
  snprintf(path, cap, "%s/%s", tmpdir, name);
  FILE *f = fopen(path, "w");
  if (f) {
    fputs(text, f);
    fclose(f);
  }
  return path;
}

static void test_import_file(const char *good) {
  char *pack = (char *)(uintptr_t)1, *cov = (char *)(uintptr_t)1;
  size_t pack_len = 7, cov_len = 7;
  EXPECT_STATUS(medaudit_national_import_file(good, NULL, &pack, &pack_len, &cov, &cov_len), MEDAUDIT_OK);
  CHECK(pack && pack_len == strlen(pack) && strstr(pack, "\"medaudit-pack/1\""), "pack %s", nz(pack));
  CHECK(pack && strstr(pack, "\"drug_sex\"") && strstr(pack, "KP-1"), "%s", "pack lacks the sex rule or its point");
  CHECK(cov && cov_len == strlen(cov) && strstr(cov, "\"total\":2") && strstr(cov, "\"interpreted\":2"), "coverage %s",
        nz(cov));
  /* The payment-course point becomes a rule of the history template `course`. */
  CHECK(pack && strstr(pack, "\"drug_course\"") && strstr(pack, "\"course\"") && strstr(pack, "KP-2"), "%s",
        "pack lacks the course rule or its point");
  EXPECT_STATUS(medaudit_string_free(pack), MEDAUDIT_OK);
  EXPECT_STATUS(medaudit_string_free(cov), MEDAUDIT_OK);

  /* The pack JSON builds an engine like any other pack. */
  EXPECT_STATUS(medaudit_national_import_file(good, "{\"internet_med_types\": [\"9901\"]}", &pack, &pack_len, &cov,
                                              &cov_len),
                MEDAUDIT_OK);
  MedauditEngine *e = NULL;
  EXPECT_STATUS(medaudit_engine_new(pack, pack_len, &e), MEDAUDIT_OK);
  EXPECT_STATUS(medaudit_engine_free(e), MEDAUDIT_OK);
  medaudit_string_free(pack);
  medaudit_string_free(cov);

  /* NULL pointers: every out pointer is required, and cleared on failure. */
  pack = (char *)(uintptr_t)1;
  EXPECT_STATUS(medaudit_national_import_file(NULL, NULL, &pack, &pack_len, &cov, &cov_len), MEDAUDIT_NULL_POINTER);
  LAST_ERROR_HAS("path");
  CHECK(pack == NULL && pack_len == 0 && cov == NULL && cov_len == 0, "%s", "outputs not cleared on failure");
  EXPECT_STATUS(medaudit_national_import_file(good, NULL, NULL, &pack_len, &cov, &cov_len), MEDAUDIT_NULL_POINTER);
  LAST_ERROR_HAS("out_pack");
  EXPECT_STATUS(medaudit_national_import_file(good, NULL, &pack, NULL, &cov, &cov_len), MEDAUDIT_NULL_POINTER);
  EXPECT_STATUS(medaudit_national_import_file(good, NULL, &pack, &pack_len, NULL, &cov_len), MEDAUDIT_NULL_POINTER);
  EXPECT_STATUS(medaudit_national_import_file(good, NULL, &pack, &pack_len, &cov, NULL), MEDAUDIT_NULL_POINTER);
  EXPECT_STATUS(medaudit_national_import_file(NULL, NULL, NULL, NULL, NULL, NULL), MEDAUDIT_NULL_POINTER);

  /* Bad options. */
  EXPECT_STATUS(medaudit_national_import_file(good, "{\"nope\": 1}", &pack, &pack_len, &cov, &cov_len),
                MEDAUDIT_INVALID_JSON);
  LAST_ERROR_HAS("$.nope: unknown option");
  EXPECT_STATUS(medaudit_national_import_file(good, "[", &pack, &pack_len, &cov, &cov_len), MEDAUDIT_INVALID_JSON);
  EXPECT_STATUS(medaudit_national_import_file(good, "{\"indications_tsv\": \"限X\"}", &pack, &pack_len, &cov, &cov_len),
                MEDAUDIT_INVALID_JSON);
  LAST_ERROR_HAS("line 1");
  CHECK(pack == NULL && cov == NULL, "%s", "outputs not cleared on failure");
}

static void test_engine_from_file(const char *good) {
  MedauditEngine *e = NULL;
  char *cov = NULL;
  size_t cov_len = 0;
  EXPECT_STATUS(medaudit_engine_new_national_file(good, NULL, &e, &cov, &cov_len), MEDAUDIT_OK);
  CHECK(e != NULL && cov && strstr(cov, "\"rule_class\":\"药品区分性别使用\""), "coverage %s", nz(cov));
  medaudit_string_free(cov);
  char *findings = NULL;
  size_t flen = 0;
  EXPECT_STATUS(medaudit_check_claims_json(e, CLAIMS, MEDAUDIT_NUL_TERMINATED, NULL, &findings, &flen), MEDAUDIT_OK);
  CHECK(findings && strstr(findings, "\"kp_id\":\"KP-1\"") && strstr(findings, "\"rule_name\":\"药品区分性别使用\""),
        "findings %s", nz(findings));
  CHECK(findings && strstr(findings, "【第1批】理气补血"), "findings %s", nz(findings));
  medaudit_string_free(findings);
  EXPECT_STATUS(medaudit_engine_free(e), MEDAUDIT_OK);

  /* The coverage report is optional. */
  e = NULL;
  EXPECT_STATUS(medaudit_engine_new_national_file(good, NULL, &e, NULL, NULL), MEDAUDIT_OK);
  CHECK(e != NULL, "%s", "no engine");
  EXPECT_STATUS(medaudit_engine_free(e), MEDAUDIT_OK);

  e = (MedauditEngine *)(uintptr_t)1;
  EXPECT_STATUS(medaudit_engine_new_national_file(good, NULL, NULL, NULL, NULL), MEDAUDIT_NULL_POINTER);
  EXPECT_STATUS(medaudit_engine_new_national_file(NULL, NULL, &e, NULL, NULL), MEDAUDIT_NULL_POINTER);
  CHECK(e == NULL, "%s", "engine not cleared on failure");
  EXPECT_STATUS(medaudit_engine_new_national_file(good, NULL, &e, &cov, NULL), MEDAUDIT_NULL_POINTER);
  LAST_ERROR_HAS("out_coverage_len");
}

static void test_bad_files(void) {
  char *pack = NULL, *cov = NULL;
  size_t pack_len = 0, cov_len = 0;
  MedauditEngine *e = NULL;
  char *missing = write_file("gone/records.json", "");
  EXPECT_STATUS(medaudit_national_import_file(missing, NULL, &pack, &pack_len, &cov, &cov_len),
                MEDAUDIT_INVALID_ARGUMENT);
  LAST_ERROR_HAS("cannot read the records file");
  LAST_ERROR_HAS("gone/records.json");
  EXPECT_STATUS(medaudit_engine_new_national_file(missing, NULL, &e, NULL, NULL), MEDAUDIT_INVALID_ARGUMENT);
  CHECK(e == NULL, "%s", "engine on a missing file");
  free(missing);

  struct {
    const char *text, *want;
  } bad[] = {
      {"[{\"kp_id\": \"A\", \"rule_class\": \"x\", \"med_codes\": [\"X1\", 2]}]", "$[0].med_codes[1]: expected a string"},
      {"[{\"kp_id\": \"A\", \"rule_class\": \"x\"}, {\"rule_class\": \"x\"}]", "$[1].kp_id: missing required field"},
      {"[{\"kp_id\": \"A\", \"rule_class\": \"x\", \"batch\": \"one\"}]", "$[0].batch"},
      {"{\"records\": 3}", "expected an array of records"},
      {"[{", "invalid JSON"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char *path = write_file("bad.json", bad[i].text);
    EXPECT_STATUS(medaudit_national_import_file(path, NULL, &pack, &pack_len, &cov, &cov_len),
                  MEDAUDIT_KNOWLEDGE_ERROR);
    LAST_KIND_IS("knowledge");
    LAST_ERROR_HAS(bad[i].want);
    CHECK(pack == NULL && cov == NULL, "%s", "outputs not cleared on failure");
    EXPECT_STATUS(medaudit_engine_new_national_file(path, NULL, &e, NULL, NULL), MEDAUDIT_KNOWLEDGE_ERROR);
    unlink(path);
    free(path);
  }
}

static void test_published_records(const char *path) {
  char *pack = NULL, *cov = NULL;
  size_t pack_len = 0, cov_len = 0;
  EXPECT_STATUS(medaudit_national_import_file(path, NULL, &pack, &pack_len, &cov, &cov_len), MEDAUDIT_OK);
  CHECK(cov && strstr(cov, "\"total\":3899"), "coverage %.200s", nz(cov));
  CHECK(pack && pack_len > 1000000, "pack length %zu", pack_len);
  medaudit_string_free(pack);
  medaudit_string_free(cov);
  MedauditEngine *e = NULL;
  EXPECT_STATUS(medaudit_engine_new_national_file(path, NULL, &e, NULL, NULL), MEDAUDIT_OK);
  char *findings = NULL;
  size_t flen = 0;
  EXPECT_STATUS(medaudit_check_claims_json(e, CLAIMS_FULL, MEDAUDIT_NUL_TERMINATED, NULL, &findings, &flen),
                MEDAUDIT_OK);
  /* After the 2026-01-28 revision, 艾附暖宫丸 is restricted by its revised point. */
  CHECK(findings && strstr(findings, "药品区分性别使用") && strstr(findings, "KP-8f3fb0c6c5f6fe1b"), "findings %s",
        nz(findings));
  medaudit_string_free(findings);
  medaudit_engine_free(e);
}

int main(int argc, char **argv) {
  if (!mkdtemp(tmpdir)) {
    perror("mkdtemp");
    return 2;
  }
  char *good = write_file("records.json", RECORDS);
  test_import_file(good);
  test_engine_from_file(good);
  test_bad_files();
  if (argc > 1) test_published_records(argv[1]);
  unlink(good);
  free(good);
  rmdir(tmpdir);
  return t_summary("test_national");
}
