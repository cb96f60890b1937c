/* Module entry: each layer (AEAD, frame I/O) registers its own functions. */
#include "addon.h"

static napi_value init(napi_env env, napi_value exports) {
  if (aead_register(env, exports) != napi_ok) return NULL;
  if (frame_io_register(env, exports) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
