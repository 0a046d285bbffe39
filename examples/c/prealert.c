/*
 * prealert.c: what a HIS does at the moment a doctor signs a prescription (事前提醒).
 *
 * 1. At start-up: build one engine from the rule pack (here the sample pack shipped inside the
 *    library; a real HIS reads its region's pack and knowledge) and keep it for all threads.
 * 2. Per prescription: send a 3101-shaped request (trig_scen 2 = 门诊收费登记) through
 *    medaudit_check_json and show the alerts before the prescription is saved.
 * 3. At shut-down (or after swapping in a new engine for a new knowledge batch): free it.
 *
 * Build:  gcc -std=c11 prealert.c $(pkg-config --cflags --libs medaudit) -o prealert
 *         (with PKG_CONFIG_PATH=target/debug or target/release after `cargo build -p medaudit-ffi`)
 * Run:    ./prealert            (prints the alerts)
 *         ./prealert --json     (prints the raw 3101-shaped response)
 *         ./prealert --request  (prints the request it sends)
 */
#include <medaudit.h>
#include <stdio.h>
#include <string.h>

#include "minijson.h"

/* A 58-year-old woman at an outpatient visit (med_type 11) in a tertiary hospital (medins_lv 01),
 * diagnosed with chronic kidney disease stage 4; her doctor puts six drugs and one herb on one
 * prescription. */
static const char REQUEST[] =
    "{\"data\": {"
    "  \"trig_scen\": \"2\","
    "  \"task_id\": \"HIS-20260315-000123\","
    "  \"patient_dtos\": [{"
    "    \"patn_id\": \"P4401000000001\", \"patn_name\": \"张某\", \"gend\": \"2\", \"brdy\": \"1968-04-12\","
    "    \"insutype\": \"310\","
    "    \"fsi_encounter_dtos\": [{"
    "      \"mdtrt_id\": \"MZ20260315000123\", \"med_type\": \"11\", \"medins_id\": \"H44010600001\","
    "      \"medins_lv\": \"01\", \"adm_date\": \"2026-03-15 09:02:00\","
    "      \"fsi_diagnose_dtos\": ["
    "        {\"dise_codg\": \"N18.400\", \"dise_name\": \"慢性肾脏病4期\", \"maindise_flag\": \"1\"}"
    "      ],"
    "      \"fsi_order_dtos\": ["
    "        {\"rx_id\": \"RX1-1\", \"rxno\": \"RX1\", \"hilist_code\": \"XG04CBA088A001010101234\", \"hilist_name\": \"爱普列特片\","
    "         \"cnt\": 2, \"pric\": 38.5, \"sumamt\": 77.0, \"drord_begn_date\": \"2026-03-15 09:20:00\", \"drord_dept_codg\": \"A03\"},"
    "        {\"rx_id\": \"RX1-2\", \"rxno\": \"RX1\", \"hilist_code\": \"ZA04CAE0023010100000\", \"hilist_name\": \"儿童清肺口服液\","
    "         \"cnt\": 1, \"pric\": 26.0, \"sumamt\": 26.0, \"drord_begn_date\": \"2026-03-15 09:20:00\", \"drord_dept_codg\": \"A03\"},"
    "        {\"rx_id\": \"RX1-3\", \"rxno\": \"RX1\", \"hilist_code\": \"XA10BAE055A001010101234\", \"hilist_name\": \"二甲双胍片\","
    "         \"cnt\": 3, \"pric\": 12.0, \"sumamt\": 36.0, \"drord_begn_date\": \"2026-03-15 09:20:00\", \"drord_dept_codg\": \"A03\"},"
    "        {\"rx_id\": \"RX1-4\", \"rxno\": \"RX1\", \"hilist_code\": \"XA04ADA285B001010101234\", \"hilist_name\": \"阿瑞匹坦注射液\","
    "         \"cnt\": 1, \"pric\": 180.0, \"sumamt\": 180.0, \"drord_begn_date\": \"2026-03-15 09:20:00\", \"drord_dept_codg\": \"A03\"},"
    "        {\"rx_id\": \"RX1-5\", \"rxno\": \"RX1\", \"hilist_code\": \"XC08CAA001A001010101234\", \"hilist_name\": \"氨氯地平片\","
    "         \"cnt\": 1, \"pric\": 15.0, \"sumamt\": 15.0, \"drord_begn_date\": \"2026-03-15 09:20:00\", \"drord_dept_codg\": \"A03\"},"
    "        {\"rx_id\": \"RX1-6\", \"rxno\": \"RX1\", \"hilist_code\": \"T001700233\", \"hilist_name\": \"阿胶\","
    "         \"cnt\": 10, \"pric\": 6.0, \"sumamt\": 60.0, \"drord_begn_date\": \"2026-03-15 09:20:00\", \"drord_dept_codg\": \"A03\"},"
    "        {\"rx_id\": \"RX1-7\", \"rxno\": \"RX1\", \"hilist_code\": \"XN02BEA011A001010101234\", \"hilist_name\": \"对乙酰氨基酚片\","
    "         \"cnt\": 1, \"pric\": 8.0, \"sumamt\": 8.0, \"drord_begn_date\": \"2026-03-15 09:21:00\", \"drord_dept_codg\": \"A03\"}"
    "      ]"
    "    }]"
    "  }]"
    "}}";

static int fail(const char *what, MedauditStatus st) {
  fprintf(stderr, "%s failed: %s (%d, %s): %s\n", what, medaudit_status_str(st), (int)st,
          medaudit_last_error_kind(), medaudit_last_error());
  return 1;
}

int main(int argc, char **argv) {
  int raw = argc > 1 && !strcmp(argv[1], "--json");
  if (argc > 1 && !strcmp(argv[1], "--request")) {
    puts(REQUEST);
    return 0;
  }
  if (medaudit_abi_version() != MEDAUDIT_ABI_VERSION) {
    fprintf(stderr, "libmedaudit ABI %u, header ABI %u\n", medaudit_abi_version(), (unsigned)MEDAUDIT_ABI_VERSION);
    return 1;
  }
  if (!raw) printf("libmedaudit %s (ABI %u)\n", medaudit_version(), medaudit_abi_version());

  /* 1. One engine for the whole process. */
  size_t pack_len = 0;
  const char *pack = medaudit_sample_pack_json(&pack_len);
  MedauditEngine *engine = NULL;
  MedauditStatus st = medaudit_engine_new(pack, pack_len, &engine);
  if (st != MEDAUDIT_OK) return fail("medaudit_engine_new", st);

  /* 2. The pre-alert call. */
  char *response = NULL;
  size_t response_len = 0;
  st = medaudit_check_json(engine, REQUEST, sizeof REQUEST - 1, &response, &response_len);
  if (st != MEDAUDIT_OK) {
    medaudit_engine_free(engine);
    return fail("medaudit_check_json", st);
  }

  if (raw) {
    puts(response);
    medaudit_string_free(response);
    medaudit_engine_free(engine);
    return 0;
  }
  mj_value *doc = mj_parse(response, response_len);
  mj_value *result = mj_get(doc, "result");
  printf("处方 RX1: %zu 条提醒\n", mj_len(result));
  for (size_t i = 0; i < mj_len(result); i++) {
    mj_value *r = mj_at(result, i);
    mj_value *amt = mj_get(r, "vola_amt");
    printf("\n[%zu] %s  %s (%s)\n", i + 1, mj_str(mj_get(r, "sev_deg")), mj_str(mj_get(r, "rule_name")),
           mj_str(mj_get(r, "rule_id")));
    printf("    %s\n", mj_str(mj_get(r, "vola_cont")));
    if (mj_is_num(amt)) printf("    涉及金额: %.2f 元\n", mj_num(amt));
    const char *evid = mj_str(mj_get(r, "vola_evid"));
    if (evid) printf("    依据: %s\n", evid);
    mj_value *details = mj_get(r, "judge_result_detail_dtos");
    for (size_t j = 0; j < mj_len(details); j++) {
      mj_value *d = mj_at(details, j);
      printf("    %s: %s %s (%s)\n", mj_str(mj_get(d, "vola_item_type")), mj_str(mj_get(d, "feedetl_sn")),
             mj_str(mj_get(d, "hilist_name")) ? mj_str(mj_get(d, "hilist_name")) : "",
             mj_str(mj_get(d, "hilist_code")) ? mj_str(mj_get(d, "hilist_code")) : "");
    }
  }
  mj_value *unjudged = mj_get(doc, "unjudged");
  for (size_t i = 0; i < mj_len(unjudged); i++) {
    mj_value *u = mj_at(unjudged, i);
    printf("\n(未能判断) %s: %s ×%.0f\n", mj_str(mj_get(u, "rule_id")), mj_str(mj_get(u, "reason")),
           mj_num(mj_get(u, "count")));
  }
  int ok = doc != NULL;
  mj_free(doc);
  medaudit_string_free(response);

  /* 3. Shut-down. */
  medaudit_engine_free(engine);
  return ok ? 0 : 1;
}
