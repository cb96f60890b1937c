#include "addon.h"
napi_status frame_io_register(napi_env env, napi_value exports) { return napi_ok; }
