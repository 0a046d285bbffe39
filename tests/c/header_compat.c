/* header_compat.c: medaudit.h next to another Arrow-aware header. The Arrow C structs are declared
 * here first, under the standard guards, as nanoarrow.h, adbc.h or arrow/c/abi.h would; medaudit.h
 * must then not redeclare them. Including it twice must be harmless. Compiled as C11 and C++17. */
#include <stdint.h>

#ifndef ARROW_C_DATA_INTERFACE
#define ARROW_C_DATA_INTERFACE
#define ARROW_FLAG_DICTIONARY_ORDERED 1
#define ARROW_FLAG_NULLABLE 2
#define ARROW_FLAG_MAP_KEYS_SORTED 4
struct ArrowSchema {
  const char* format;
  const char* name;
  const char* metadata;
  int64_t flags;
  int64_t n_children;
  struct ArrowSchema** children;
  struct ArrowSchema* dictionary;
  void (*release)(struct ArrowSchema*);
  void* private_data;
};
struct ArrowArray {
  int64_t length;
  int64_t null_count;
  int64_t offset;
  int64_t n_buffers;
  int64_t n_children;
  const void** buffers;
  struct ArrowArray** children;
  struct ArrowArray* dictionary;
  void (*release)(struct ArrowArray*);
  void* private_data;
};
#endif
#ifndef ARROW_C_STREAM_INTERFACE
#define ARROW_C_STREAM_INTERFACE
struct ArrowArrayStream {
  int (*get_schema)(struct ArrowArrayStream*, struct ArrowSchema* out);
  int (*get_next)(struct ArrowArrayStream*, struct ArrowArray* out);
  const char* (*get_last_error)(struct ArrowArrayStream*);
  void (*release)(struct ArrowArrayStream*);
  void* private_data;
};
#endif

#include "medaudit.h"
#include "medaudit.h"

int main(void) {
  struct ArrowArrayStream out;
  out.release = 0;
  /* NULL inputs: a status, and the output marked released */
  MedauditStatus st = medaudit_check_arrow(0, 0, 0, 0, 0, 0, &out);
  return (st == MEDAUDIT_NULL_POINTER && out.release == 0 && medaudit_abi_version() == MEDAUDIT_ABI_VERSION) ? 0 : 1;
}
