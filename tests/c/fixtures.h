/* fixtures.h: requests and claims shared by the C tests. */
#ifndef MEDAUDIT_FIXTURES_H
#define MEDAUDIT_FIXTURES_H

/* A 3101 request: a woman (gend 2, born 1968) at an outpatient visit; one prescription whose
 * lines break the sample pack's sex, age, contraindication, indication and not_payable rules;
 * line RX1-7 has sumamt != cnt * pric (amount_mismatch, a 事中-only rule). trig_scen is
 * written as %s so tests can vary it. */
#define RX_REQUEST_FMT                                                                                       \
  "{\"data\": {\"trig_scen\": %s, \"task_id\": \"T-1\", \"patient_dtos\": [{"                               \
  "\"patn_id\": \"P1\", \"gend\": \"2\", \"brdy\": \"1968-04-12\", \"insutype\": \"310\","                     \
  "\"fsi_encounter_dtos\": [{\"mdtrt_id\": \"M1\", \"med_type\": \"11\", \"medins_id\": \"H1\","                \
  "\"medins_lv\": \"01\", \"adm_date\": \"2026-03-15 09:02:00\","                                             \
  "\"fsi_diagnose_dtos\": [{\"dise_codg\": \"N18.400\", \"maindise_flag\": \"1\"}],"                          \
  "\"fsi_order_dtos\": ["                                                                                     \
  "{\"rx_id\": \"RX1-1\", \"rxno\": \"RX1\", \"hilist_code\": \"XG04CBA088A001010101234\", \"hilist_name\": \"爱普列特片\"," \
  " \"cnt\": 2, \"pric\": 38.5, \"sumamt\": 77.0, \"drord_begn_date\": \"2026-03-15 09:20:00\", \"drord_dept_codg\": \"A03\"}," \
  "{\"rx_id\": \"RX1-2\", \"rxno\": \"RX1\", \"hilist_code\": \"ZA04CAE0023010100000\", \"hilist_name\": \"儿童清肺口服液\"," \
  " \"cnt\": \"1\", \"pric\": \"26.00\", \"sumamt\": 26.0, \"drord_begn_date\": \"2026-03-15 09:20:00\"},"      \
  "{\"rx_id\": \"RX1-3\", \"rxno\": \"RX1\", \"hilist_code\": \"XA10BAE055A001010101234\", \"hilist_name\": \"二甲双胍片\"," \
  " \"cnt\": 3, \"pric\": 12.0, \"sumamt\": 36.0, \"drord_begn_date\": \"2026-03-15 09:20:00\"},"               \
  "{\"rx_id\": \"RX1-4\", \"rxno\": \"RX1\", \"hilist_code\": \"XA04ADA285B001010101234\", \"hilist_name\": \"阿瑞匹坦注射液\"," \
  " \"cnt\": 1, \"pric\": 180.0, \"sumamt\": 180.0, \"drord_begn_date\": \"2026-03-15 09:20:00\"},"             \
  "{\"rx_id\": \"RX1-6\", \"rxno\": \"RX1\", \"hilist_code\": \"T001700233\", \"hilist_name\": \"阿胶\","          \
  " \"cnt\": 10, \"pric\": 6.0, \"sumamt\": 60.0, \"drord_begn_date\": \"2026-03-15 09:20:00\"},"               \
  "{\"rx_id\": \"RX1-7\", \"rxno\": \"RX2\", \"hilist_code\": \"XC08CAA001A001010101234\", \"hilist_name\": \"氨氯地平片\"," \
  " \"cnt\": 2, \"pric\": 15.0, \"sumamt\": 99.0, \"drord_begn_date\": \"2026-03-15 09:20:00\"}"                \
  "]}]}]}}"

/* The same encounter as claims JSON (core/src/claims/json.rs), for the claims-JSON and Arrow
 * calls: sex (L1), age (L2) and amount_mismatch (L3). */
#define CLAIMS_JSON                                                                                   \
  "{\"mdtrt\": [{\"mdtrt_id\": \"M1\", \"psn_no\": \"P1\", \"gend\": \"2\", \"brdy\": \"1968-04-12\","   \
  "  \"insutype\": \"310\", \"med_type\": \"11\", \"hosp_lv\": \"01\", \"begntime\": \"2026-03-15 09:02:00\"," \
  "  \"endtime\": null, \"die_date\": null}],"                 \
  " \"fee_details\": ["                                                                               \
  "  {\"feedetl_sn\": \"L1\", \"mdtrt_id\": \"M1\", \"hilist_code\": \"XG04CBA088A001010101234\","       \
  "   \"cnt\": 2, \"pric\": 38.5, \"det_item_fee_sumamt\": 77.0, \"fee_ocur_time\": \"2026-03-15 09:20:00\", \"rxno\": \"RX1\", \"bilg_dept_codg\": \"A03\"}," \
  "  {\"feedetl_sn\": \"L2\", \"mdtrt_id\": \"M1\", \"hilist_code\": \"ZA04CAE0023010100000\","          \
  "   \"cnt\": 1, \"pric\": 26.0, \"det_item_fee_sumamt\": 26.0, \"fee_ocur_time\": \"2026-03-15 09:20:00\", \"rxno\": \"RX1\", \"bilg_dept_codg\": \"A03\"}," \
  "  {\"feedetl_sn\": \"L3\", \"mdtrt_id\": \"M1\", \"hilist_code\": \"XC08CAA001A001010101234\","       \
  "   \"cnt\": 2, \"pric\": 15.0, \"det_item_fee_sumamt\": 99.0, \"fee_ocur_time\": \"2026-03-15 09:20:00\", \"rxno\": \"RX1\", \"bilg_dept_codg\": \"A03\"}" \
  " ]}"

#endif
