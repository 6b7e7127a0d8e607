#include "pinned_region.h"

#include <sys/mman.h>

#include <cerrno>

namespace uaccel {

PinnedRegion::~PinnedRegion() {
  if (base == nullptr) return;
  if (locked) munlock(base, size);
  munmap(base, size);
}

std::shared_ptr<PinnedRegion> pinned_region_create(size_t size) {
  // MAP_POPULATE pre-faults every page: a device must never take a page fault
  // on its own buffers (each one costs microseconds on real IOMMUs).
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
                 -1, 0);
  if (p == MAP_FAILED) return nullptr;
  auto region = std::make_shared<PinnedRegion>();
  region->base = static_cast<uint8_t*>(p);
  region->size = size;
  if (mlock(p, size) == 0) {
    region->locked = true;
  } else {
    region->lock_error = errno;
  }
  return region;
}

}  // namespace uaccel
