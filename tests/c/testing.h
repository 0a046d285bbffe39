/* testing.h: the few macros the C tests of medaudit share. Ends with "N passed, N failed". */
#ifndef MEDAUDIT_TESTING_H
#define MEDAUDIT_TESTING_H

#include <stdio.h>
#include <string.h>

#include "medaudit.h"

static int t_pass, t_fail;

#define CHECK(cond, ...)                                                                        \
  do {                                                                                          \
    if (cond) {                                                                                 \
      t_pass++;                                                                                 \
    } else {                                                                                    \
      t_fail++;                                                                                 \
      fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                           \
      fprintf(stderr, __VA_ARGS__);                                                             \
      fprintf(stderr, "\n    last error [%s]: %s\n", medaudit_last_error_kind(), medaudit_last_error()); \
    }                                                                                           \
  } while (0)

/* Runs `call`, which must return `want`; on error statuses the last error must be non-empty. */
#define EXPECT_STATUS(call, want)                                                                  \
  do {                                                                                             \
    MedauditStatus st_ = (call);                                                                   \
    CHECK(st_ == (want), "%s returned %d (%s), expected %d (%s)", #call, (int)st_,                 \
          medaudit_status_str(st_), (int)(want), medaudit_status_str(want));                       \
    if ((want) != MEDAUDIT_OK && st_ == (want))                                                    \
      CHECK(medaudit_last_error()[0] != 0 && medaudit_last_error_kind()[0] != 0, "%s", "empty error message"); \
    if ((want) == MEDAUDIT_OK && st_ == MEDAUDIT_OK)                                               \
      CHECK(medaudit_last_error()[0] == 0, "%s", "error message left after success");            \
  } while (0)

#define LAST_ERROR_HAS(text) \
  CHECK(strstr(medaudit_last_error(), (text)) != NULL, "last error lacks \"%s\"", (text))

#define LAST_KIND_IS(kind) \
  CHECK(strcmp(medaudit_last_error_kind(), (kind)) == 0, "kind is \"%s\", expected \"%s\"", medaudit_last_error_kind(), (kind))

/* A printable stand-in for NULL strings in comparisons. */
static inline const char *nz(const char *s) { return s ? s : "(null)"; }

static inline int t_summary(const char *suite) {
  printf("%s: %d passed, %d failed\n", suite, t_pass, t_fail);
  return t_fail ? 1 : 0;
}

#endif
