/*
 * test_threads.c: many threads sharing engines.
 *
 *  1. Eight threads share engine A for JSON, claims-JSON and Arrow calls; every answer must equal
 *     the single-threaded reference byte for byte.
 *  2. Meanwhile engine B serves four threads; the main thread frees B after their last use, while
 *     A's threads are still running.
 *  3. Hot reload: readers call whatever engine a shared atomic pointer holds while a writer builds
 *     new engines, publishes them and frees the old ones (calls in flight on a freed engine finish
 *     normally; a reader that picked up a handle just freed gets MEDAUDIT_INVALID_HANDLE and
 *     retries).
 *  4. The last error is per thread.
 * Built with -fsanitize=address,undefined.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arrow_testing.h"
#include "fixtures.h"
#include "testing.h"

#define A_THREADS 8
#define B_THREADS 4
#define ITERATIONS 40

static MedauditEngine *engine_a, *engine_b;
static char *request, *ref_json, *ref_claims;
static size_t request_len;
static atomic_int failures;
static const char *pack;
static size_t pack_len;

static void fail_thread(const char *what) {
  fprintf(stderr, "thread failure: %s: [%s] %s\n", what, medaudit_last_error_kind(), medaudit_last_error());
  atomic_fetch_add(&failures, 1);
}

static void *worker_a(void *arg) {
  (void)arg;
  for (int i = 0; i < ITERATIONS; i++) {
    char *resp = NULL;
    size_t len = 0;
    if (medaudit_check_json(engine_a, request, request_len, &resp, &len) != MEDAUDIT_OK) fail_thread("check_json");
    else if (strcmp(resp, ref_json) != 0) fail_thread("check_json answer differs");
    medaudit_string_free(resp);

    if (medaudit_check_claims_json(engine_a, CLAIMS_JSON, strlen(CLAIMS_JSON), NULL, &resp, &len) != MEDAUDIT_OK)
      fail_thread("check_claims_json");
    else if (strcmp(resp, ref_claims) != 0) fail_thread("check_claims_json answer differs");
    medaudit_string_free(resp);

    struct ArrowArrayStream fee, enc, out;
    if (medaudit_claims_json_to_arrow(CLAIMS_JSON, strlen(CLAIMS_JSON), "fee_details", &fee) != MEDAUDIT_OK ||
        medaudit_claims_json_to_arrow(CLAIMS_JSON, strlen(CLAIMS_JSON), "mdtrt", &enc) != MEDAUDIT_OK) {
      fail_thread("to_arrow");
      continue;
    }
    if (medaudit_check_arrow(engine_a, &fee, &enc, NULL, NULL, NULL, &out) != MEDAUDIT_OK) {
      fail_thread("check_arrow");
      continue;
    }
    at_findings f;
    if (at_read_findings(&out, &f) != 0 || f.rows != 3) fail_thread("arrow findings");
    at_findings_free(&f);

    /* an error on this thread must not leak into others (checked by the main thread too) */
    if (i % 10 == 0) {
      char *r = NULL;
      if (medaudit_check_json(engine_a, "{", 1, &r, &len) != MEDAUDIT_INVALID_JSON) fail_thread("error expected");
      if (strstr(medaudit_last_error(), "invalid JSON") == NULL) fail_thread("own error message");
    }
  }
  return NULL;
}

static void *worker_b(void *arg) {
  (void)arg;
  for (int i = 0; i < ITERATIONS; i++) {
    char *resp = NULL;
    size_t len = 0;
    if (medaudit_check_json(engine_b, request, request_len, &resp, &len) != MEDAUDIT_OK) fail_thread("B check_json");
    else if (strcmp(resp, ref_json) != 0) fail_thread("B answer differs");
    medaudit_string_free(resp);
  }
  return NULL;
}

/* ---- hot reload ---- */

static _Atomic(MedauditEngine *) current;
static atomic_int stop_readers;
static atomic_int reader_calls, reader_retries;

static void *reader(void *arg) {
  (void)arg;
  while (!atomic_load(&stop_readers)) {
    MedauditEngine *e = atomic_load(&current);
    char *resp = NULL;
    size_t len = 0;
    MedauditStatus st = medaudit_check_json(e, request, request_len, &resp, &len);
    if (st == MEDAUDIT_OK) {
      if (strcmp(resp, ref_json) != 0) fail_thread("reload answer differs");
      medaudit_string_free(resp);
      atomic_fetch_add(&reader_calls, 1);
    } else if (st == MEDAUDIT_INVALID_HANDLE) {
      atomic_fetch_add(&reader_retries, 1); /* freed between load and call: take the new one */
    } else {
      fail_thread("reload check");
    }
  }
  return NULL;
}

static void *writer(void *arg) {
  (void)arg;
  for (int i = 0; i < 6; i++) {
    MedauditEngine *fresh = NULL;
    if (medaudit_engine_new(pack, pack_len, &fresh) != MEDAUDIT_OK) {
      fail_thread("reload build");
      break;
    }
    MedauditEngine *old = atomic_exchange(&current, fresh);
    if (medaudit_engine_free(old) != MEDAUDIT_OK) fail_thread("reload free");
  }
  return NULL;
}

int main(void) {
  pack = medaudit_sample_pack_json(&pack_len);
  size_t cap = strlen(RX_REQUEST_FMT) + 16;
  request = malloc(cap);
  snprintf(request, cap, RX_REQUEST_FMT, "\"2\"");
  request_len = strlen(request);

  EXPECT_STATUS(medaudit_engine_new(pack, pack_len, &engine_a), MEDAUDIT_OK);
  EXPECT_STATUS(medaudit_engine_new(pack, pack_len, &engine_b), MEDAUDIT_OK);
  size_t len;
  EXPECT_STATUS(medaudit_check_json(engine_a, request, request_len, &ref_json, &len), MEDAUDIT_OK);
  EXPECT_STATUS(medaudit_check_claims_json(engine_a, CLAIMS_JSON, strlen(CLAIMS_JSON), NULL, &ref_claims, &len), MEDAUDIT_OK);

  pthread_t a[A_THREADS], b[B_THREADS];
  for (int i = 0; i < A_THREADS; i++) pthread_create(&a[i], NULL, worker_a, NULL);
  for (int i = 0; i < B_THREADS; i++) pthread_create(&b[i], NULL, worker_b, NULL);
  for (int i = 0; i < B_THREADS; i++) pthread_join(b[i], NULL);
  /* B's last use is over; A's threads are still running */
  EXPECT_STATUS(medaudit_engine_free(engine_b), MEDAUDIT_OK);
  /* a failure on the main thread ... */
  char *r = NULL;
  EXPECT_STATUS(medaudit_check_json(engine_b, request, request_len, &r, &len), MEDAUDIT_INVALID_HANDLE);
  for (int i = 0; i < A_THREADS; i++) pthread_join(a[i], NULL);
  /* ... is still the main thread's last error, whatever the workers did meanwhile */
  LAST_KIND_IS("invalid_handle");
  CHECK(atomic_load(&failures) == 0, "%d failures in shared-engine threads", atomic_load(&failures));

  /* hot reload */
  MedauditEngine *first = NULL;
  EXPECT_STATUS(medaudit_engine_new(pack, pack_len, &first), MEDAUDIT_OK);
  atomic_store(&current, first);
  pthread_t readers[4], w;
  for (int i = 0; i < 4; i++) pthread_create(&readers[i], NULL, reader, NULL);
  pthread_create(&w, NULL, writer, NULL);
  pthread_join(w, NULL);
  atomic_store(&stop_readers, 1);
  for (int i = 0; i < 4; i++) pthread_join(readers[i], NULL);
  EXPECT_STATUS(medaudit_engine_free(atomic_load(&current)), MEDAUDIT_OK);
  CHECK(atomic_load(&failures) == 0, "%d failures during reload", atomic_load(&failures));
  CHECK(atomic_load(&reader_calls) > 0, "%s", "readers made no call");
  printf("reload: %d calls, %d retries on a just-freed handle\n", atomic_load(&reader_calls), atomic_load(&reader_retries));

  /* freeing while calls are in flight: workers on C keep going until C is freed under them */
  EXPECT_STATUS(medaudit_engine_new(pack, pack_len, &engine_b), MEDAUDIT_OK);
  atomic_store(&current, engine_b);
  atomic_store(&stop_readers, 0);
  for (int i = 0; i < 4; i++) pthread_create(&readers[i], NULL, reader, NULL);
  int base = atomic_load(&reader_calls);
  while (atomic_load(&reader_calls) < base + 20 && atomic_load(&failures) == 0) sched_yield(); /* let calls run */
  EXPECT_STATUS(medaudit_engine_free(engine_b), MEDAUDIT_OK);
  atomic_store(&stop_readers, 1);
  for (int i = 0; i < 4; i++) pthread_join(readers[i], NULL);
  CHECK(atomic_load(&failures) == 0, "%d failures freeing under load", atomic_load(&failures));

  medaudit_string_free(ref_json);
  medaudit_string_free(ref_claims);
  EXPECT_STATUS(medaudit_engine_free(engine_a), MEDAUDIT_OK);
  free(request);
  return t_summary("test_threads");
}
