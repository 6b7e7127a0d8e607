/*
 * The pinned region: memory a non-SVA device is allowed to see.
 *
 * Allocated once per queue at open with mmap and locked with mlock so its
 * pages stay resident (a real device would also register it with the IOMMU).
 * When RLIMIT_MEMLOCK forbids the lock, the region is still used, unlocked,
 * and `lock_error` records why so info() can say so.
 *
 * Ownership: shared between the queue (devices read and write it) and the
 * JavaScript Buffer that views it; it is unmapped when the last owner lets go,
 * so a stray view can never outlive the mapping.
 */
#ifndef UACCEL_MEMORY_PINNED_REGION_H
#define UACCEL_MEMORY_PINNED_REGION_H

#include <cstddef>
#include <cstdint>
#include <memory>

namespace uaccel {

struct PinnedRegion {
  uint8_t* base = nullptr;
  size_t size = 0;
  bool locked = false;
  int lock_error = 0;  // errno from mlock when locked == false
  ~PinnedRegion();

  /* True when [offset, offset + len) lies inside the region. */
  bool contains(uint64_t offset, uint64_t len) const {
    return offset <= size && len <= size - offset;
  }
};

/* pinned_region_create - map and lock `size` bytes; nullptr with errno set on failure. */
std::shared_ptr<PinnedRegion> pinned_region_create(size_t size);

}  // namespace uaccel

#endif
