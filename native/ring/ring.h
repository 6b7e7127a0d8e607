/*
 * The submission/completion ring.
 *
 * One ring belongs to one queue of one device in one JavaScript environment.
 *
 *   SQ: single producer (the JavaScript thread), single logical consumer (the
 *       device). A device with several engines serialises its consumers itself
 *       (the software device does it under its doorbell mutex).
 *   CQ: many producers (device engines) and a single consumer (the
 *       JavaScript thread).
 *
 * Both queues are power-of-two arrays indexed by free-running 32-bit counters
 * masked on access, so `tail - head` is the occupancy even across wrap-around.
 * The CQ is as large as the SQ and the producer never has more entries in
 * flight than the SQ holds, so a completion always has a free slot.
 *
 * Every memory-ordering decision of the ring is in this header:
 *
 *  - sq_tail is stored with release by the producer after it wrote the
 *    entries, and loaded with acquire by the consumer before it reads them:
 *    the consumer never sees an index ahead of the entry's bytes.
 *  - sq_head is stored with release by the consumer after it copied the entry
 *    out, and loaded with acquire by the producer before reusing the slot: the
 *    producer never overwrites an entry still being read.
 *  - CQ slots carry a sequence number (Vyukov's bounded queue). A producer
 *    claims a position with a relaxed fetch_add on cq_tail (ordering comes from
 *    the slot sequence, not from the counter), writes the entry, then publishes
 *    it by storing seq = pos + 1 (seq_cst rather than release, because it is
 *    also one side of the cq_armed handshake below). The consumer loads seq with
 *    acquire and reads the entry only when it equals pos + 1, then frees the
 *    slot for the next lap by storing seq = pos + size with release.
 *  - cq_armed is a Dekker-style handshake between the consumer going idle and a
 *    producer posting: both sides use seq_cst so that either the consumer sees
 *    the new entry on its re-check or the producer sees armed == 1 and signals.
 *    At worst one wake-up is spurious; none is lost.
 */
#ifndef UACCEL_RING_RING_H
#define UACCEL_RING_RING_H

#include <atomic>
#include <cstdint>
#include <cstring>

#include "descriptor.h"

namespace uaccel {

struct Ring {
  uint32_t entries = 0;  // power of two, both queues
  uint32_t mask = 0;
  ua_sqe* sqes = nullptr;
  ua_cqe* cqes = nullptr;
  std::atomic<uint32_t>* cq_seq = nullptr;

  alignas(64) std::atomic<uint32_t> sq_head{0};
  alignas(64) std::atomic<uint32_t> sq_tail{0};
  alignas(64) std::atomic<uint32_t> cq_head{0};
  alignas(64) std::atomic<uint32_t> cq_tail{0};
  alignas(64) std::atomic<uint32_t> cq_armed{1};
};

/*
 * ring_init - allocate both queues with `entries` slots (rounded up to a power
 * of two, at least 2). Returns 0 or -ENOMEM.
 */
int ring_init(Ring* ring, uint32_t entries);

/* ring_free - release the queues. No device may still be using the ring. */
void ring_free(Ring* ring);

/* --- producer side (JavaScript thread) --------------------------------- */

/* Free SQ slots the producer may fill before publishing. */
inline uint32_t ring_sq_space(const Ring* ring, uint32_t local_tail) {
  return ring->entries - (local_tail - ring->sq_head.load(std::memory_order_acquire));
}

/* The slot at position `pos`; the producer fills it before ring_sq_publish. */
inline ua_sqe* ring_sq_slot(Ring* ring, uint32_t pos) { return &ring->sqes[pos & ring->mask]; }

/* Make every entry before `new_tail` visible to the device. */
inline void ring_sq_publish(Ring* ring, uint32_t new_tail) {
  ring->sq_tail.store(new_tail, std::memory_order_release);
}

/* --- consumer side (device; one consumer at a time) -------------------- */

/*
 * ring_sq_pop - copy the oldest unconsumed entry into *out and release its
 * slot. Returns true when an entry was taken, false when the SQ is empty.
 */
inline bool ring_sq_pop(Ring* ring, ua_sqe* out) {
  uint32_t head = ring->sq_head.load(std::memory_order_relaxed);
  if (head == ring->sq_tail.load(std::memory_order_acquire)) return false;
  std::memcpy(out, &ring->sqes[head & ring->mask], sizeof(*out));
  ring->sq_head.store(head + 1, std::memory_order_release);
  return true;
}

/* Entries published but not yet taken by the device. */
inline uint32_t ring_sq_pending(const Ring* ring) {
  return ring->sq_tail.load(std::memory_order_acquire) -
         ring->sq_head.load(std::memory_order_acquire);
}

/*
 * ring_cq_post - publish one completion; callable from any device thread.
 * Returns true when the consumer had armed the ring and must be signalled
 * (the caller then writes the queue's completion fd).
 */
inline bool ring_cq_post(Ring* ring, const ua_cqe* cqe) {
  uint32_t pos = ring->cq_tail.fetch_add(1, std::memory_order_relaxed);
  std::atomic<uint32_t>& seq = ring->cq_seq[pos & ring->mask];
  // The producer keeps in-flight <= entries, so the slot is free already; the
  // loop only guards against a consumer that is still finishing the last lap.
  while (seq.load(std::memory_order_acquire) != pos) {
  }
  std::memcpy(&ring->cqes[pos & ring->mask], cqe, sizeof(*cqe));
  // seq_cst (not just release): this store and the exchange below are one
  // side of the arm handshake, which needs store-load ordering.
  seq.store(pos + 1, std::memory_order_seq_cst);
  return ring->cq_armed.exchange(0, std::memory_order_seq_cst) != 0;
}

/* --- completion consumer (JavaScript thread) ---------------------------- */

/* ring_cq_reap - take the oldest published completion, if any. */
inline bool ring_cq_reap(Ring* ring, ua_cqe* out) {
  uint32_t pos = ring->cq_head.load(std::memory_order_relaxed);
  std::atomic<uint32_t>& seq = ring->cq_seq[pos & ring->mask];
  if (seq.load(std::memory_order_acquire) != pos + 1) return false;
  std::memcpy(out, &ring->cqes[pos & ring->mask], sizeof(*out));
  seq.store(pos + ring->entries, std::memory_order_release);
  ring->cq_head.store(pos + 1, std::memory_order_relaxed);
  return true;
}

/*
 * ring_cq_arm - the consumer is about to sleep on the completion fd. Returns
 * true when a completion is already waiting (reap again instead of sleeping).
 */
inline bool ring_cq_arm(Ring* ring) {
  ring->cq_armed.store(1, std::memory_order_seq_cst);
  uint32_t pos = ring->cq_head.load(std::memory_order_relaxed);
  return ring->cq_seq[pos & ring->mask].load(std::memory_order_seq_cst) == pos + 1;
}

}  // namespace uaccel

#endif
