/*
 * ISA-L igzip, loaded at run time.
 *
 * Debian ships ISA-L only as a shared library (libisal2); the addon is built
 * against its headers when libisal-dev is present and opens libisal.so.2 with
 * dlopen on first use, so a machine without it simply has no ISA-L codec.
 */
#ifndef UACCEL_CODECS_ISAL_LOADER_H
#define UACCEL_CODECS_ISAL_LOADER_H

#if UACCEL_HAVE_ISAL
#include <isa-l/igzip_lib.h>
#endif

namespace uaccel {

#if UACCEL_HAVE_ISAL
struct IsalApi {
  void (*deflate_init)(isal_zstream*);
  int (*deflate)(isal_zstream*);
  int (*deflate_set_dict)(isal_zstream*, uint8_t*, uint32_t);
  void (*inflate_init)(inflate_state*);
  void (*inflate_reset)(inflate_state*);
  int (*inflate)(inflate_state*);
  int (*inflate_set_dict)(inflate_state*, uint8_t*, uint32_t);
};
#else
struct IsalApi;
#endif

/* The loaded library's entry points, or nullptr when ISA-L is unavailable. */
const IsalApi* isal_api();

/* "libisal.so.2" when loaded, otherwise why not (for info()). */
const char* isal_status();

}  // namespace uaccel

#endif
