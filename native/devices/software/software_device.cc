/*
 * The software device: native worker threads consume the SQ and run the
 * codecs, exactly where a hardware engine would sit.
 *
 * Threads: open/submit/poll/close and the ctx_* ops run on the JavaScript
 * thread; worker_main runs on each worker. Workers take entries one at a time
 * under the doorbell mutex (the SQ has one logical consumer), run them
 * without any lock held, and post completions lock-free.
 */
#include <pthread.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "../../codecs/stateless_deflate.h"
#include "../device.h"

namespace uaccel {

namespace {

struct Sleeper {
  std::condition_variable wake;
  bool signalled = false;
};

struct SoftwareQueue {
  Ring* ring = nullptr;
  bool sva = true;
  std::shared_ptr<PinnedRegion> region;
  int efd = -1;
  std::mutex doorbell;  // guards the SQ consumer side, `idle` and `stopping`
  // Idle workers, most recently idle last. The doorbell wakes from the back:
  // the worker that just finished still has the stream's codec state and the
  // buffers in its core's cache, and a serial stream then stays on one core
  // instead of hopping between workers at every step.
  std::vector<Sleeper*> idle;
  bool stopping = false;
  std::atomic<bool> stop_flag{false};
  std::atomic<int> spinning{0};
  std::vector<std::thread> workers;
};

// How long a worker that just completed a descriptor watches the SQ before
// it sleeps. A serial stream (an inflate stream, say) submits its next step
// a few tens of microseconds after its completion is reaped; catching it
// awake saves a futex wake-up and a scheduling delay per step, which on an
// otherwise idle machine (cores in deep idle states) cost a third of a
// gunzip stream's time. Bounded, so an idle queue costs nothing after it.
constexpr int kSpinMicros = 50;

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// Wakes up to `count` idle workers, most recently idle first. Called with the
// doorbell mutex held.
void wake_idle(SoftwareQueue* q, uint32_t count) {
  while (count-- > 0 && !q->idle.empty()) {
    Sleeper* s = q->idle.back();
    q->idle.pop_back();
    s->signalled = true;
    s->wake.notify_one();
  }
}

uint8_t g_empty_byte;  // zlib rejects a null next_out even when avail_out is 0

// Translate one descriptor address the way an IOMMU would: pinned entries are
// offsets that must fall inside the region; raw addresses are only legal when
// the queue shares the process address space.
int resolve(const SoftwareQueue* q, const ua_sqe* sqe, uint64_t addr, uint32_t len, uint8_t** out) {
  if (sqe->flags & UA_SQE_PINNED) {
    if (!q->region) return -EINVAL;
    if (!q->region->contains(addr, len)) return -EFAULT;
    *out = q->region->base + addr;
  } else {
    if (!q->sva) return -EFAULT;
    if (addr == 0 && len != 0) return -EFAULT;
    *out = reinterpret_cast<uint8_t*>(static_cast<uintptr_t>(addr));
  }
  if (len == 0 || *out == nullptr) *out = &g_empty_byte;
  return 0;
}

bool reads_hist(const ua_sqe* sqe) {
  return sqe->opcode == UA_OP_DEFLATE_BLOCK ||
         (sqe->opcode == UA_OP_INFLATE && (sqe->flags & UA_SQE_WRITES));
}

void execute(const ua_sqe* sqe, uint8_t* src, uint8_t* dst, uint8_t* hist, ua_cqe* cqe) {
  switch (sqe->opcode) {
    case UA_OP_DEFLATE_BLOCK:
      stateless_deflate_block(sqe, src, hist, dst, cqe);
      return;
    case UA_OP_INFLATE_ONESHOT:
      stateless_inflate_oneshot(sqe, src, dst, cqe);
      return;
    case UA_OP_NOP:
      cqe->status = 0;
      return;
    case UA_OP_DEFLATE:
    case UA_OP_INFLATE:
      if (sqe->ctx == 0) {
        cqe->status = -EINVAL;
        return;
      }
      if (sqe->opcode == UA_OP_INFLATE && (sqe->flags & UA_SQE_WRITES)) {
        if (sqe->hist_len % 4 != 0) {
          cqe->status = -EINVAL;
          return;
        }
        zlib_stream_step_writes(reinterpret_cast<ZlibStream*>(static_cast<uintptr_t>(sqe->ctx)),
                                sqe->flush, src, sqe->src_len, uint32_t(sqe->arg), hist,
                                sqe->hist_len / 4, dst, sqe->dst_len, cqe);
        return;
      }
      zlib_stream_step(reinterpret_cast<ZlibStream*>(static_cast<uintptr_t>(sqe->ctx)), sqe->opcode,
                       sqe->flush, src, sqe->src_len, dst, sqe->dst_len, cqe);
      return;
    case UA_OP_CRC32:
      cqe->check = static_cast<uint32_t>(
          crc32_z(static_cast<uLong>(sqe->arg & 0xffffffffu), src, sqe->src_len));
      cqe->consumed = sqe->src_len;
      cqe->status = 0;
      return;
    default:
      cqe->status = -EOPNOTSUPP;
      return;
  }
}

void process(const SoftwareQueue* q, const ua_sqe* sqe, ua_cqe* cqe) {
  cqe->tag = sqe->tag;
  if (sqe->version != UA_DESC_VERSION) {
    cqe->status = -EINVAL;
    return;
  }
  uint8_t* src;
  uint8_t* dst;
  uint8_t* hist;
  int rc = resolve(q, sqe, sqe->src, sqe->src_len, &src);
  if (rc == 0) rc = resolve(q, sqe, sqe->dst, sqe->dst_len, &dst);
  // Only block compression (its history window) and an inflate step over
  // several writes (their lengths) read the third range; other opcodes
  // ignore the field, whatever it holds.
  hist = &g_empty_byte;
  if (rc == 0 && reads_hist(sqe)) rc = resolve(q, sqe, sqe->hist, sqe->hist_len, &hist);
  if (rc != 0) {
    cqe->status = rc;
    return;
  }
  execute(sqe, src, dst, hist, cqe);
}

void worker_main(SoftwareQueue* q) {
#if defined(SCHED_BATCH) && !defined(UACCEL_NO_BATCH_SCHED)
  // Codec work is throughput work: as a batch thread a worker woken by the
  // doorbell does not preempt the JavaScript thread that rang it (on a
  // 2-core machine that preemption otherwise costs the event loop
  // milliseconds now and then).
  sched_param param{};
  pthread_setschedparam(pthread_self(), SCHED_BATCH, &param);
#endif
  Sleeper self;
  bool worked = false;
  for (;;) {
    ua_sqe sqe;
    if (worked) {
      // Watch for the next entry briefly (kSpinMicros) before sleeping; the
      // doorbell does not wake another worker for an entry a spinner takes.
      q->spinning.fetch_add(1, std::memory_order_relaxed);
      auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(kSpinMicros);
      while (ring_sq_pending(q->ring) == 0 && !q->stop_flag.load(std::memory_order_relaxed) &&
             std::chrono::steady_clock::now() < until) {
        cpu_relax();
      }
      q->spinning.fetch_sub(1, std::memory_order_relaxed);
    }
    {
      std::unique_lock<std::mutex> lk(q->doorbell);
      while (!q->stopping && !ring_sq_pop(q->ring, &sqe)) {
        self.signalled = false;
        q->idle.push_back(&self);
        self.wake.wait(lk, [&self] { return self.signalled; });
      }
      if (q->stopping) return;
    }
    worked = true;
    ua_cqe cqe{};
    process(q, &sqe, &cqe);
    if (ring_cq_post(q->ring, &cqe)) {
      uint64_t one = 1;
      // The counter coalesces: however many workers write before the loop
      // polls, the JavaScript thread wakes once.
      ssize_t ignored = write(q->efd, &one, sizeof(one));
      (void)ignored;
    }
  }
}

int sw_probe(void) { return 0; }

void sw_close(void* queue);

int sw_open(const DeviceConfig* cfg, void** out, int* completion_fd) {
  if (!cfg->sva && !cfg->region) return -EINVAL;
  auto* q = new SoftwareQueue();
  q->ring = cfg->ring;
  q->sva = cfg->sva;
  q->region = cfg->region;
  q->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (q->efd < 0) {
    int err = errno;
    delete q;
    return -err;
  }
  uint32_t n = cfg->workers == 0 ? 1 : cfg->workers;
  try {
    for (uint32_t i = 0; i < n; i++) q->workers.emplace_back(worker_main, q);
  } catch (...) {
    sw_close(q);
    return -EAGAIN;
  }
  *out = q;
  *completion_fd = q->efd;
  return 0;
}

int sw_submit(void* queue) {
  auto* q = static_cast<SoftwareQueue*>(queue);
  std::lock_guard<std::mutex> guard(q->doorbell);
  // One worker per waiting entry, not all of them: on a small machine a
  // worker woken for nothing takes the core from the JavaScript thread.
  // Workers still watching the SQ take entries without a wake-up.
  uint32_t pending = ring_sq_pending(q->ring);
  uint32_t spinning = uint32_t(q->spinning.load(std::memory_order_relaxed));
  wake_idle(q, pending > spinning ? pending - spinning : 0);
  return 0;
}

int sw_poll(void* queue) {
  auto* q = static_cast<SoftwareQueue*>(queue);
  uint64_t count;
  while (read(q->efd, &count, sizeof(count)) == sizeof(count)) {
  }
  return 0;
}

void sw_close(void* queue) {
  auto* q = static_cast<SoftwareQueue*>(queue);
  {
    std::lock_guard<std::mutex> guard(q->doorbell);
    q->stopping = true;
    q->stop_flag.store(true, std::memory_order_relaxed);
    wake_idle(q, UINT32_MAX);
  }
  for (auto& t : q->workers) t.join();
  close(q->efd);
  delete q;
}

int sw_ctx_open(void*, const ContextParams* params, uint64_t* handle) {
  if (params->kind != CTX_ZLIB) return -EOPNOTSUPP;
  ZlibStream* zs = zlib_stream_create(&params->zlib);
  *handle = reinterpret_cast<uintptr_t>(zs);
  return 0;
}

ZlibStream* as_zlib(uint64_t handle) {
  return reinterpret_cast<ZlibStream*>(static_cast<uintptr_t>(handle));
}

int sw_ctx_reset(void*, uint64_t handle) { return zlib_stream_reset(as_zlib(handle)); }

int sw_ctx_params(void*, uint64_t handle, int level, int strategy) {
  return zlib_stream_params(as_zlib(handle), level, strategy);
}

const char* sw_ctx_message(void*, uint64_t handle) { return zlib_stream_message(as_zlib(handle)); }

void sw_ctx_close(void*, uint64_t handle) { zlib_stream_destroy(as_zlib(handle)); }

void sw_run_inline(void*, const ua_sqe* sqe, ua_cqe* cqe) {
  cqe->tag = sqe->tag;
  auto* src = reinterpret_cast<uint8_t*>(static_cast<uintptr_t>(sqe->src));
  auto* dst = reinterpret_cast<uint8_t*>(static_cast<uintptr_t>(sqe->dst));
  auto* hist =
      reads_hist(sqe) ? reinterpret_cast<uint8_t*>(static_cast<uintptr_t>(sqe->hist)) : nullptr;
  if (sqe->src_len == 0 || src == nullptr) src = &g_empty_byte;
  if (sqe->dst_len == 0 || dst == nullptr) dst = &g_empty_byte;
  if (sqe->hist_len == 0 || hist == nullptr) hist = &g_empty_byte;
  execute(sqe, src, dst, hist, cqe);
}

}  // namespace

const DeviceOps software_device_ops = {
    "software",
    /*priority=*/0,
    (1ull << UA_OP_NOP) | (1ull << UA_OP_DEFLATE) | (1ull << UA_OP_INFLATE) |
        (1ull << UA_OP_CRC32) | (1ull << UA_OP_DEFLATE_BLOCK) | (1ull << UA_OP_INFLATE_ONESHOT),
    /*supports_sva=*/true,
    /*supports_pinned=*/true,
    sw_probe,
    sw_open,
    sw_submit,
    sw_poll,
    sw_close,
    sw_ctx_open,
    sw_ctx_reset,
    sw_ctx_params,
    sw_ctx_message,
    sw_ctx_close,
    sw_run_inline,
};

}  // namespace uaccel
