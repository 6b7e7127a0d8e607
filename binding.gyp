{
  "targets": [
    {
      "target_name": "uaccel",
      "sources": [
        "native/addon/addon.cc",
        "native/addon/queue.cc",
        "native/ring/ring.cc",
        "native/devices/registry.cc",
        "native/devices/software/software_device.cc",
        "native/codecs/zlib_stream.cc",
        "native/codecs/zlib_memory.cc",
        "native/memory/pinned_region.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_CPP_EXCEPTIONS",
        # While a worker is being terminated N-API calls fail and cannot
        # throw; without this node-addon-api rethrows them as C++ exceptions
        # through N-API's C frames, which aborts the whole process.
        "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS",
        "UACCEL_SOURCE_HASH=\"<!(node native/source-hash.js)\""
      ],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags": ["-fvisibility=hidden", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-fvisibility=hidden", "-fvisibility-inlines-hidden"],
      "ldflags": ["-Wl,--exclude-libs,ALL"]
    }
  ]
}
