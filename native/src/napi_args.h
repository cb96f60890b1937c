/*
 * N-API argument readers and error throwers shared by the addon's layers. Each layer passes its own error codes
 * (aead.c: ERR_AEAD_*, frame_io.c: the FramePortErrorCode names). Readers throw a JS error naming the argument and
 * return false on misuse: a value of the wrong type (a non-integer number included) is a TypeError, an integer
 * outside its range a RangeError.
 */
#ifndef REDBLACK_NAPI_ARGS_H
#define REDBLACK_NAPI_ARGS_H
#include <stdbool.h>
#include <stdint.h>

#include "addon.h"

#define PRINTF_LIKE(fmt_index) __attribute__((format(printf, fmt_index, fmt_index + 1)))

void throw_error(napi_env env, const char *code, const char *fmt, ...) PRINTF_LIKE(3);
void throw_type_error(napi_env env, const char *code, const char *fmt, ...) PRINTF_LIKE(3);
void throw_range_error(napi_env env, const char *code, const char *fmt, ...) PRINTF_LIKE(3);

/* Throws "N-API call <call> failed" unless a JS exception is already pending (the call threw it). */
void throw_failed_call(napi_env env, const char *code, const char *call);

/* Returns NULL from the calling function, with a JS error pending, when an N-API call fails. */
#define CHECK_NAPI(env, code, call)                     \
  do {                                                  \
    if ((call) != napi_ok) {                            \
      throw_failed_call((env), (code), #call);          \
      return NULL;                                      \
    }                                                   \
  } while (0)

/* A typed array of element type `want`: its data and element count. */
bool get_typed_array(napi_env env, napi_value v, napi_typedarray_type want, const char *code, const char *what,
                     void **data, size_t *length);

/* A number that is an integer from min to max (NaN, 1.5 and non-numbers are TypeErrors). */
bool get_integer(napi_env env, napi_value v, const char *code, const char *what, int64_t min, int64_t max,
                 int64_t *out);

bool get_bool(napi_env env, napi_value v, const char *code, const char *what, bool *out);

/* A string equal to one of choices[0..count): *out is its index (a non-string is a TypeError, another string a
   RangeError). */
bool get_choice(napi_env env, napi_value v, const char *code, const char *what, const char *const *choices,
                size_t count, size_t *out);

#endif
