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
        "native/codecs/stateless_deflate.cc",
        "native/codecs/isal_loader.cc",
        "native/codecs/isal_inflate_stream.cc",
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
        # ISA-L is optional at build time too: without libisal-dev's headers
        # the addon is built without the ISA-L codec.
        "UACCEL_HAVE_ISAL=<!(test -f /usr/include/isa-l/igzip_lib.h && echo 1 || echo 0)",
        "UACCEL_SOURCE_HASH=\"<!(node native/source-hash.js)\""
      ],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags": ["-fvisibility=hidden", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-fvisibility=hidden", "-fvisibility-inlines-hidden"],
      # libdeflate (Debian's libdeflate-dev) is linked statically and, like
      # every other symbol, kept private to the addon.
      "libraries": ["-l:libdeflate.a", "-ldl"],
      "ldflags": ["-Wl,--exclude-libs,ALL"]
    }
  ]
}
