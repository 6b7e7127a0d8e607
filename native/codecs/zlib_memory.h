/*
 * Memory for zlib states (zalloc/zfree).
 *
 * A deflate state is about 256 KiB in a handful of blocks, allocated at a
 * stream's first step and freed at its close. For short-lived streams and
 * one-shot calls, fresh pages for every state (page faults on first touch,
 * the allocator handing pages back to the kernel on free) cost more than
 * compressing a few KiB. Freed blocks are kept here, by size, and handed to
 * the next state that asks for that size; zlib initialises what it relies on
 * itself (node allocates these blocks with plain malloc too), so output is
 * unchanged.
 *
 * Threads: allocation happens on device threads, freeing on the JavaScript
 * thread; one mutex guards the cache, which is bounded in bytes.
 */
#ifndef UACCEL_CODECS_ZLIB_MEMORY_H
#define UACCEL_CODECS_ZLIB_MEMORY_H

namespace uaccel {

void* zlib_memory_alloc(void* opaque, unsigned items, unsigned size);
void zlib_memory_free(void* opaque, void* address);

}  // namespace uaccel

#endif
