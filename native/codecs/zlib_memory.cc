#include "zlib_memory.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

namespace uaccel {

namespace {

// At most this much freed memory waits for reuse (about 30 default deflate
// states); beyond it blocks go back to the system allocator.
constexpr size_t kMaxCachedBytes = 8u << 20;

// Each block carries its size in front of it, since zfree is not told.
struct alignas(16) Header {
  size_t size;
};

struct Cache {
  std::mutex lock;
  std::unordered_map<size_t, std::vector<Header*>> free_by_size;
  size_t cached_bytes = 0;
};

// Never destroyed: device threads may still free blocks while the process exits.
Cache* const g_cache = new Cache();

}  // namespace

void* zlib_memory_alloc(void*, unsigned items, unsigned size) {
  size_t bytes = size_t(items) * size_t(size);
  {
    std::lock_guard<std::mutex> guard(g_cache->lock);
    auto it = g_cache->free_by_size.find(bytes);
    if (it != g_cache->free_by_size.end() && !it->second.empty()) {
      Header* h = it->second.back();
      it->second.pop_back();
      g_cache->cached_bytes -= bytes;
      return h + 1;
    }
  }
  auto* h = static_cast<Header*>(std::malloc(sizeof(Header) + bytes));
  if (h == nullptr) return nullptr;  // zlib reports Z_MEM_ERROR
  h->size = bytes;
  return h + 1;
}

void zlib_memory_free(void*, void* address) {
  if (address == nullptr) return;
  Header* h = static_cast<Header*>(address) - 1;
  {
    std::lock_guard<std::mutex> guard(g_cache->lock);
    if (g_cache->cached_bytes + h->size <= kMaxCachedBytes) {
      try {
        g_cache->free_by_size[h->size].push_back(h);
        g_cache->cached_bytes += h->size;
        return;
      } catch (const std::bad_alloc&) {
        // fall through: free it instead of caching
      }
    }
  }
  std::free(h);
}

}  // namespace uaccel
