/* redblack native addon: shared declarations. Each module registers its exports. */
#ifndef REDBLACK_ADDON_H
#define REDBLACK_ADDON_H
#ifndef NAPI_VERSION
#define NAPI_VERSION 8
#endif
#include <node_api.h>

napi_status aead_register(napi_env env, napi_value exports);
napi_status frame_io_register(napi_env env, napi_value exports);

#endif
