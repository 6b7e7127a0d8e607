#include "ring.h"

#include <cerrno>
#include <new>

namespace uaccel {

static uint32_t round_up_pow2(uint32_t v) {
  uint32_t p = 2;
  while (p < v && p < (1u << 30)) p <<= 1;
  return p;
}

int ring_init(Ring* ring, uint32_t entries) {
  uint32_t n = round_up_pow2(entries);
  ring->sqes = new (std::nothrow) ua_sqe[n]();
  ring->cqes = new (std::nothrow) ua_cqe[n]();
  ring->cq_seq = new (std::nothrow) std::atomic<uint32_t>[n];
  if (!ring->sqes || !ring->cqes || !ring->cq_seq) {
    ring_free(ring);
    return -ENOMEM;
  }
  for (uint32_t i = 0; i < n; i++) ring->cq_seq[i].store(i, std::memory_order_relaxed);
  ring->entries = n;
  ring->mask = n - 1;
  ring->sq_head.store(0);
  ring->sq_tail.store(0);
  ring->cq_head.store(0);
  ring->cq_tail.store(0);
  ring->cq_armed.store(1);
  return 0;
}

void ring_free(Ring* ring) {
  delete[] ring->sqes;
  delete[] ring->cqes;
  delete[] ring->cq_seq;
  ring->sqes = nullptr;
  ring->cqes = nullptr;
  ring->cq_seq = nullptr;
  ring->entries = 0;
}

}  // namespace uaccel
