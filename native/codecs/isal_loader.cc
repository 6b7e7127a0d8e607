#include "isal_loader.h"

#include <dlfcn.h>

#include <mutex>

namespace uaccel {

namespace {

std::once_flag g_once;
const IsalApi* g_api = nullptr;
const char* g_status = "not built with ISA-L headers (install libisal-dev and rebuild)";

#if UACCEL_HAVE_ISAL
IsalApi g_table;

template <typename Fn>
bool bind(void* lib, const char* name, Fn* out) {
  *out = reinterpret_cast<Fn>(dlsym(lib, name));
  return *out != nullptr;
}

void load() {
  // RTLD_LOCAL: ISA-L's symbols must not interpose on anything else in the
  // process (node included).
  void* lib = dlopen("libisal.so.2", RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) {
    g_status = "libisal.so.2 not found (Debian: apt-get install libisal2)";
    return;
  }
  bool ok = bind(lib, "isal_deflate_init", &g_table.deflate_init) &&
            bind(lib, "isal_deflate", &g_table.deflate) &&
            bind(lib, "isal_deflate_set_dict", &g_table.deflate_set_dict) &&
            bind(lib, "isal_inflate_init", &g_table.inflate_init) &&
            bind(lib, "isal_inflate_reset", &g_table.inflate_reset) &&
            bind(lib, "isal_inflate", &g_table.inflate) &&
            bind(lib, "isal_inflate_set_dict", &g_table.inflate_set_dict);
  if (!ok) {
    g_status = "libisal.so.2 lacks the igzip entry points";
    dlclose(lib);
    return;
  }
  g_status = "libisal.so.2";
  g_api = &g_table;
}
#else
void load() {}
#endif

}  // namespace

const IsalApi* isal_api() {
  std::call_once(g_once, load);
  return g_api;
}

const char* isal_status() {
  std::call_once(g_once, load);
  return g_status;
}

}  // namespace uaccel
