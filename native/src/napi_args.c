/* N-API argument readers and error throwers shared by the addon's layers (see napi_args.h). */
#include "napi_args.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef napi_status (*napi_thrower)(napi_env env, const char *code, const char *msg);

static void throw_formatted(napi_env env, napi_thrower thrower, const char *code, const char *fmt, va_list ap) {
  char msg[512];
  vsnprintf(msg, sizeof msg, fmt, ap);
  thrower(env, code, msg);
}

void throw_error(napi_env env, const char *code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  throw_formatted(env, napi_throw_error, code, fmt, ap);
  va_end(ap);
}

void throw_type_error(napi_env env, const char *code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  throw_formatted(env, napi_throw_type_error, code, fmt, ap);
  va_end(ap);
}

void throw_range_error(napi_env env, const char *code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  throw_formatted(env, napi_throw_range_error, code, fmt, ap);
  va_end(ap);
}

void throw_failed_call(napi_env env, const char *code, const char *call) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) throw_error(env, code, "N-API call %s failed", call);
}

static const char *typed_array_name(napi_typedarray_type type) {
  switch (type) {
    case napi_uint8_array: return "a Uint8Array";
    case napi_uint16_array: return "a Uint16Array";
    case napi_int32_array: return "an Int32Array";
    case napi_float64_array: return "a Float64Array";
    default: return "a typed array";
  }
}

bool get_typed_array(napi_env env, napi_value v, napi_typedarray_type want, const char *code, const char *what,
                     void **data, size_t *length) {
  napi_typedarray_type type;
  /* napi_get_typedarray_info fails on anything but a typed array. */
  if (napi_get_typedarray_info(env, v, &type, length, data, NULL, NULL) == napi_ok && type == want) return true;
  throw_type_error(env, code, "%s must be %s", what, typed_array_name(want));
  return false;
}

bool get_integer(napi_env env, napi_value v, const char *code, const char *what, int64_t min, int64_t max,
                 int64_t *out) {
  double d;
  /* napi_get_value_double fails on anything but a number; floor(NaN) != NaN. */
  if (napi_get_value_double(env, v, &d) != napi_ok || floor(d) != d) {
    throw_type_error(env, code, "%s must be an integer from %lld to %lld", what, (long long)min, (long long)max);
    return false;
  }
  if (d < (double)min || d > (double)max) {
    throw_range_error(env, code, "%s must be an integer from %lld to %lld", what, (long long)min, (long long)max);
    return false;
  }
  *out = (int64_t)d;
  return true;
}

bool get_bool(napi_env env, napi_value v, const char *code, const char *what, bool *out) {
  if (napi_get_value_bool(env, v, out) == napi_ok) return true;
  throw_type_error(env, code, "%s must be a boolean", what);
  return false;
}

bool get_choice(napi_env env, napi_value v, const char *code, const char *what, const char *const *choices,
                size_t count, size_t *out) {
  char value[64], list[256] = "";
  for (size_t i = 0; i < count; i++) {
    snprintf(list + strlen(list), sizeof list - strlen(list), "%s'%s'", i == 0 ? "" : i + 1 < count ? ", " : " or ",
             choices[i]);
  }
  /* napi_get_value_string_utf8 fails on anything but a string. */
  if (napi_get_value_string_utf8(env, v, value, sizeof value, NULL) != napi_ok) {
    throw_type_error(env, code, "%s must be %s", what, list);
    return false;
  }
  for (size_t i = 0; i < count; i++) {
    if (strcmp(value, choices[i]) == 0) {
      *out = i;
      return true;
    }
  }
  throw_range_error(env, code, "%s must be %s, got '%s'", what, list, value);
  return false;
}
