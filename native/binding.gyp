{
  "targets": [
    {
      "target_name": "redblack",
      "sources": ["src/addon.c", "src/napi_args.c", "src/aead.c", "src/frame_io.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-std=gnu11"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
