/*
 * bench_latency.c: latency of the pre-alert call as a HIS sees it: one 20-line prescription
 * through medaudit_check_json (parse the 3101 request, check, render the 3101 response, free it),
 * with the whole sample pack loaded and its sex_items knowledge table grown to --knowledge-points
 * points (default 100,000). Reports p50 / p90 / p99 / p99.9 / max over --iterations calls.
 *
 * Build against the release library for real numbers:
 *   cargo build --release -p medaudit-ffi
 *   gcc -std=c11 -O2 -Iinclude examples/c/bench_latency.c -Ltarget/release -Wl,-rpath,$PWD/target/release \
 *       -lmedaudit -lm -o bench_latency
 *   ./bench_latency [--iterations 100000] [--knowledge-points 100000] [--warmup 2000]
 */
#define _POSIX_C_SOURCE 200809L
#include <medaudit.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* A growable string. */
typedef struct { char *p; size_t n, cap; } buf_t;
static void put(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(buf_t *b, const char *fmt, ...) {
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
    va_end(ap);
    if (k >= 0 && (size_t)k < b->cap - b->n) {
      b->n += (size_t)k;
      return;
    }
    b->cap = b->cap * 2 + (size_t)(k > 0 ? k : 64);
    b->p = realloc(b->p, b->cap);
  }
}

static double pct(const double *sorted, size_t n, double p) {
  size_t i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
  return sorted[i < n ? i : n - 1];
}

int main(int argc, char **argv) {
  long iterations = 100000, points = 100000, warmup = 2000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--iterations")) iterations = atol(argv[i + 1]);
    else if (!strcmp(argv[i], "--knowledge-points")) points = atol(argv[i + 1]);
    else if (!strcmp(argv[i], "--warmup")) warmup = atol(argv[i + 1]);
  }
  if (iterations < 1) iterations = 1;
  if (warmup > iterations) warmup = iterations;

  /* Knowledge: the sample's four sex points plus `points` synthetic drug codes (prefix match). */
  buf_t k = {malloc(1 << 20), 0, 1 << 20};
  put(&k, "{\"sex_items\": ["
          "{\"kp_id\": \"KP-S-001\", \"code\": \"ZD03AAA0043\", \"item_name\": \"艾附暖宫丸\", \"sex\": \"2\"},"
          "{\"kp_id\": \"KP-S-002\", \"code\": \"XG04CBA088A\", \"item_name\": \"爱普列特片\", \"sex\": \"1\"},"
          "{\"kp_id\": \"KP-S-003\", \"code\": \"002101030300000\", \"item_name\": \"子宫造影\", \"sex\": \"2\"},"
          "{\"kp_id\": \"KP-S-004\", \"code\": \"002101030290000\", \"item_name\": \"输精管造影\", \"sex\": \"1\"}");
  for (long i = 0; i < points; i++)
    put(&k, ",{\"kp_id\": \"KP-B-%ld\", \"code\": \"XB%09ld\", \"item_name\": \"合成药品%ld\", \"sex\": \"%c\"}", i, i * 7, i,
        i % 2 ? '1' : '2');
  put(&k, "]}");

  size_t pack_len = 0;
  const char *pack = medaudit_sample_pack_json(&pack_len);
  MedauditEngine *engine = NULL;
  double t0 = now_us();
  MedauditStatus st = medaudit_engine_new_with_knowledge_json(pack, pack_len, k.p, k.n, &engine);
  double build_ms = (now_us() - t0) / 1000.0;
  free(k.p);
  if (st != MEDAUDIT_OK) {
    fprintf(stderr, "engine: %s: %s\n", medaudit_status_str(st), medaudit_last_error());
    return 1;
  }

  /* A 20-line outpatient prescription: mostly ordinary drugs, some that hit rules. */
  static const char *const codes[] = {
      "XC08CAA001A001010101234", "XA10BAE055A001010101234", "XB000000700001010101234", "XB000001400001010101234",
      "XG04CBA088A001010101234", "ZA04CAE0023010100000",    "XJ01CAA040A001010101234", "XN02BEA011A001010101234",
      "T001700233",              "T000700200",              "001102000050000",         "XC10AAA080A001010101234",
      "XR05CBA018A001010101234", "XA02BCA012A001010101234", "XB01ACA001A001010101234", "XC09CAA011A001010101234",
      "XH03AAA001A001010101234", "XM01AEA010A001010101234", "XR06AEA013A001010101234", "XA06ADA048A001010101234"};
  buf_t r = {malloc(16384), 0, 16384};
  put(&r, "{\"data\": {\"trig_scen\": \"2\", \"patient_dtos\": [{\"patn_id\": \"P1\", \"gend\": \"2\", \"brdy\": \"1968-04-12\","
          " \"insutype\": \"310\", \"fsi_encounter_dtos\": [{\"mdtrt_id\": \"M1\", \"med_type\": \"11\", \"medins_id\": \"H1\","
          " \"medins_lv\": \"01\", \"adm_date\": \"2026-03-15 09:02:00\","
          " \"fsi_diagnose_dtos\": [{\"dise_codg\": \"I10.x00\", \"maindise_flag\": \"1\"}, {\"dise_codg\": \"E11.900\"}],"
          " \"fsi_order_dtos\": [");
  for (int i = 0; i < 20; i++)
    put(&r,
        "%s{\"rx_id\": \"RX1-%d\", \"rxno\": \"RX%d\", \"hilist_code\": \"%s\", \"hilist_name\": \"药品%d\", \"cnt\": 2,"
        " \"pric\": 12.5, \"sumamt\": 25.0, \"drord_begn_date\": \"2026-03-15 09:20:00\", \"drord_dept_codg\": \"A03\"}",
        i ? "," : "", i + 1, 1 + i / 5, codes[i], i + 1);
  put(&r, "]}]}]}}");

  double *lat = malloc(sizeof(double) * (size_t)iterations);
  size_t alerts = 0, bytes = 0;
  for (long i = -warmup; i < iterations; i++) {
    char *resp = NULL;
    size_t len = 0;
    double a = now_us();
    st = medaudit_check_json(engine, r.p, r.n, &resp, &len);
    medaudit_string_free(resp);
    double b = now_us();
    if (st != MEDAUDIT_OK) {
      fprintf(stderr, "check: %s: %s\n", medaudit_status_str(st), medaudit_last_error());
      return 1;
    }
    if (i >= 0) lat[i] = b - a;
    if (i == 0) {
      char *again = NULL;
      medaudit_check_json(engine, r.p, r.n, &again, &len);
      bytes = len;
      for (const char *p = again; (p = strstr(p, "\"jr_id\"")) != NULL; p++) alerts++;
      medaudit_string_free(again);
    }
  }
  qsort(lat, (size_t)iterations, sizeof *lat, cmp_double);
  double sum = 0;
  for (long i = 0; i < iterations; i++) sum += lat[i];
  printf("medaudit %s pre-alert latency (medaudit_check_json, 20-line prescription, %zu alerts, %zu-byte response)\n",
         medaudit_version(), alerts, bytes);
  printf("engine: sample pack + %ld knowledge points, built in %.1f ms\n", points + 4, build_ms);
  printf("calls: %ld (after %ld warm-up)\n", iterations, warmup);
  printf("mean %.1f us  p50 %.1f us  p90 %.1f us  p99 %.1f us  p99.9 %.1f us  max %.1f us\n", sum / (double)iterations,
         pct(lat, (size_t)iterations, 50), pct(lat, (size_t)iterations, 90), pct(lat, (size_t)iterations, 99),
         pct(lat, (size_t)iterations, 99.9), lat[iterations - 1]);
  free(lat);
  free(r.p);
  medaudit_engine_free(engine);
  return 0;
}
