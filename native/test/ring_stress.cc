/*
 * ring_stress - stress test of the SQ/CQ ring and its wake-up handshake.
 *
 * A standalone program (one small program per feature, as liburing does it),
 * meant to be built with -fsanitize=thread. It drives the ring the way the
 * addon does:
 *
 *   producer  one thread publishes SQEs in random batch sizes and never has
 *             more than `entries` descriptors in flight (submitted, not reaped)
 *   engines   K threads take SQEs one at a time under a doorbell mutex and
 *             post completions lock-free, writing an eventfd when the
 *             consumer armed the ring (the software device's worker loop)
 *   consumer  one thread reaps in bounded rounds, arms with ring_cq_arm and
 *             sleeps on the eventfd when idle (native/addon/queue.cc's Drain)
 *
 * Phase 1 runs that model with harness engines (with scheduling jitter), in
 * two shapes: producer and consumer on separate threads, and on one thread
 * (as the JavaScript thread is both). Phase 2 replaces the harness engines by
 * the real software device (software_device_ops) running NOP and CRC32
 * descriptors in SVA and pinned mode, whose results are checked.
 *
 * Checked: every tag completes exactly once, entries arrive untorn (fields
 * derived from the tag), the SQ always has room for the in-flight budget, no
 * wake-up is lost (the consumer never sleeps past a published completion) and
 * nothing hangs (per-wait and whole-run time limits).
 *
 * Usage: ring_stress [-n descriptors-per-config] [-s seed] [-t total-seconds]
 *                    [-w wait-ms] [-p model|device|all]
 * Exit status 0 on success; 1 with a message on the first violation; 3 when
 * the whole run exceeds its time limit.
 */
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "../devices/device.h"
#include "../ring/ring.h"

using namespace uaccel;

namespace {

uint64_t g_per_config = 20000;
uint64_t g_seed = 1;
unsigned g_total_seconds = 50;
int g_wait_ms = 5000;
bool g_model = true, g_device = true;

[[noreturn]] void fail(const char* fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  fprintf(stderr, "ring_stress: FAIL: %s\n", buf);
  fflush(stderr);
  _exit(1);
}

void on_alarm(int) {
  static const char msg[] = "ring_stress: FAIL: whole run exceeded its time limit (hang)\n";
  ssize_t ignored = write(2, msg, sizeof(msg) - 1);
  (void)ignored;
  _exit(3);
}

uint64_t splitmix(uint64_t* s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t mix(uint64_t tag) {
  uint64_t s = tag * 0x2545f4914f6cdd1dull + 0x1234567;
  return splitmix(&s);
}

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

/* ---------------------------------------------------------------------- */
/* The consumer side, as native/addon/queue.cc's Drain does it.            */

struct Reaper {
  Ring* ring;
  int efd;
  uint64_t total;                   // descriptors in this run
  std::vector<uint8_t> seen;        // completions per tag
  uint64_t reaped_local = 0;        // consumer-private count
  std::atomic<uint64_t> reaped{0};  // published to the producer
  std::mutex space_mu;              // producer waits here when in-flight == entries
  std::condition_variable space_cv;
  uint64_t sleeps = 0, wakeups = 0, arm_rechecks = 0;
  uint64_t seed;
  // Validates one completion; set per run.
  void (*check)(void* arg, const ua_cqe& cqe) = nullptr;
  void* check_arg = nullptr;
  // Called instead of reading the eventfd directly (the device's poll op).
  void (*poll_op)(void* arg) = nullptr;
  void* poll_arg = nullptr;
};

void clear_efd(Reaper* r) {
  if (r->poll_op != nullptr) {
    r->poll_op(r->poll_arg);
    return;
  }
  uint64_t count;
  while (read(r->efd, &count, sizeof(count)) == sizeof(count)) {
  }
}

// One Drain: poll op, then rounds of at most `capacity` reaps, arm when the
// CQ looks empty. Returns true when the consumer should sleep (it armed and
// the re-check found nothing), false when it stopped early (round limit).
bool drain(Reaper* r, uint32_t capacity) {
  clear_efd(r);
  constexpr int kMaxRounds = 16;
  for (int round = 0;; round++) {
    uint32_t n = 0;
    ua_cqe cqe;
    while (n < capacity && ring_cq_reap(r->ring, &cqe)) {
      uint64_t tag = cqe.tag;
      if (tag >= r->total)
        fail("completion with unknown tag %llu (torn entry?)", (unsigned long long)tag);
      if (r->seen[tag]++ != 0) fail("tag %llu completed twice", (unsigned long long)tag);
      r->check(r->check_arg, cqe);
      n++;
    }
    if (n > 0) {
      r->reaped_local += n;
      r->reaped.store(r->reaped_local, std::memory_order_release);
      { std::lock_guard<std::mutex> g(r->space_mu); }
      r->space_cv.notify_one();
      if (n == capacity) {
        if (round + 1 >= kMaxRounds) return false;
        continue;
      }
    }
    if (r->reaped_local == r->total) return false;
    if (!ring_cq_arm(r->ring)) return true;
    r->arm_rechecks++;
    if (round + 1 >= kMaxRounds) return false;
  }
}

// Sleep on the eventfd after drain() armed the ring. A completion published
// while armed must wake us; if the wait times out with one reap-able, a
// wake-up was lost.
void sleep_on_efd(Reaper* r, uint64_t inflight_hint) {
  r->sleeps++;
  struct pollfd p = {r->efd, POLLIN, 0};
  int rc;
  do {
    rc = poll(&p, 1, g_wait_ms);
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) fail("poll: %s", strerror(errno));
  if (rc == 0) {
    uint32_t pos = r->ring->cq_head.load(std::memory_order_relaxed);
    bool published =
        r->ring->cq_seq[pos & r->ring->mask].load(std::memory_order_acquire) == pos + 1;
    if (published) {
      fail(
          "lost wake-up: a completion was published while the consumer slept armed, "
          "and the eventfd stayed silent for %d ms",
          g_wait_ms);
    }
    fail("hang: %llu descriptors in flight and no completion for %d ms",
         (unsigned long long)inflight_hint, g_wait_ms);
  }
  r->wakeups++;
}

/* ---------------------------------------------------------------------- */
/* Phase 1: harness engines modelling the software device's worker loop.   */

struct Model {
  Ring ring;
  int efd = -1;
  std::mutex doorbell;
  std::condition_variable wake;
  bool stopping = false;
  std::vector<std::thread> engines;
  std::atomic<uint64_t> engine_ops{0};
  // Plain memory handed across the ring, as descriptor buffers are: the
  // producer writes in[tag] before publishing the SQE and the engine reads it
  // after taking the entry; the engine writes out[tag] before posting and the
  // consumer reads it after reaping. (The ring's own 64/32-byte entry copies
  // are not reliably instrumented by gcc's TSan; these 8-byte accesses are.)
  std::vector<uint64_t> in, out;
};

void fill_sqe(ua_sqe* sqe, uint64_t tag) {
  uint64_t h = mix(tag);
  std::memset(sqe, 0, sizeof(*sqe));
  sqe->opcode = UA_OP_NOP;
  sqe->version = UA_DESC_VERSION;
  sqe->flush = uint8_t(h);
  sqe->flags = uint8_t(h >> 8) & 7;
  sqe->src_len = uint32_t(h >> 16);
  sqe->src = h;
  sqe->dst = ~h;
  sqe->dst_len = uint32_t(h >> 32);
  sqe->tag = tag;
  sqe->arg = h ^ 0x5555555555555555ull;
}

void check_sqe(const ua_sqe& sqe) {
  ua_sqe want;
  fill_sqe(&want, sqe.tag);
  if (std::memcmp(&want, &sqe, sizeof(want)) != 0) {
    fail("engine read a torn SQE for tag %llu", (unsigned long long)sqe.tag);
  }
}

void model_cqe(ua_cqe* cqe, uint64_t tag) {
  uint64_t h = mix(tag);
  cqe->tag = tag;
  cqe->status = int32_t(uint32_t(h) & 0x7fffffff);
  cqe->flags = uint32_t(h >> 8);
  cqe->produced = uint32_t(h >> 16);
  cqe->consumed = uint32_t(h >> 24);
  cqe->check = uint32_t(h >> 32);
  cqe->detail = int32_t(h >> 40);
}

void model_check(void* arg, const ua_cqe& cqe) {
  auto* m = static_cast<Model*>(arg);
  if (m->out[cqe.tag] != ~mix(cqe.tag))
    fail("consumer saw stale output for tag %llu", (unsigned long long)cqe.tag);
  ua_cqe want{};
  model_cqe(&want, cqe.tag);
  if (std::memcmp(&want, &cqe, sizeof(want)) != 0) {
    fail("consumer read a torn CQE for tag %llu", (unsigned long long)cqe.tag);
  }
}

void engine_main(Model* m, uint64_t seed, bool jitter) {
  uint64_t rng = seed;
  for (;;) {
    ua_sqe sqe;
    {
      std::unique_lock<std::mutex> lk(m->doorbell);
      m->wake.wait(lk, [m] { return m->stopping || ring_sq_pending(&m->ring) > 0; });
      if (m->stopping) return;
      if (!ring_sq_pop(&m->ring, &sqe)) continue;
    }
    check_sqe(sqe);
    if (m->in[sqe.tag] != mix(sqe.tag))
      fail("engine saw stale input for tag %llu", (unsigned long long)sqe.tag);
    m->out[sqe.tag] = ~mix(sqe.tag);
    if (jitter) {
      uint64_t r = splitmix(&rng) & 63;
      if (r == 0) {
        std::this_thread::sleep_for(std::chrono::microseconds(50));
      } else if (r < 8) {
        std::this_thread::yield();
      }
    }
    ua_cqe cqe{};
    model_cqe(&cqe, sqe.tag);
    m->engine_ops.fetch_add(1, std::memory_order_relaxed);
    if (ring_cq_post(&m->ring, &cqe)) {
      uint64_t one = 1;
      ssize_t ignored = write(m->efd, &one, sizeof(one));
      (void)ignored;
    }
  }
}

struct Submitter {
  Ring* ring;
  uint32_t tail = 0;
  uint64_t next = 0;
  uint64_t max_inflight = 0;
  uint64_t batches = 0;
  void (*fill)(void* arg, ua_sqe* sqe, uint64_t tag) = nullptr;
  void* fill_arg = nullptr;
  void (*doorbell)(void* arg) = nullptr;
  void* doorbell_arg = nullptr;
};

// Publishes one batch of 1..room descriptors (room = the in-flight budget).
void submit_batch(Submitter* s, uint64_t reaped, uint64_t total, uint64_t* rng) {
  uint64_t inflight = s->next - reaped;
  uint32_t entries = s->ring->entries;
  if (inflight > entries)
    fail("producer exceeded the ring: %llu in flight", (unsigned long long)inflight);
  uint32_t room = entries - uint32_t(inflight);
  if (room == 0 || s->next == total) return;
  // The SQ frees a slot before its completion is posted, so it always has at
  // least the in-flight budget free.
  uint32_t space = ring_sq_space(s->ring, s->tail);
  if (space < room)
    fail("SQ has %u free slots but only %llu are in flight", space, (unsigned long long)inflight);
  uint64_t left = total - s->next;
  uint32_t max_batch = room < left ? room : uint32_t(left);
  // Skewed sizes: mostly small batches, sometimes a full one.
  uint64_t r = splitmix(rng);
  uint32_t batch = (r & 3) == 0 ? max_batch : 1 + uint32_t((r >> 2) % max_batch);
  for (uint32_t i = 0; i < batch; i++) {
    s->fill(s->fill_arg, ring_sq_slot(s->ring, s->tail + i), s->next + i);
  }
  s->tail += batch;
  s->next += batch;
  ring_sq_publish(s->ring, s->tail);
  s->doorbell(s->doorbell_arg);
  s->batches++;
  if (s->next - reaped > s->max_inflight) s->max_inflight = s->next - reaped;
}

// Producer on its own thread: waits on the consumer when the budget is spent.
void producer_main(Submitter* s, Reaper* r, uint64_t seed) {
  uint64_t rng = seed;
  while (s->next < r->total) {
    uint64_t reaped = r->reaped.load(std::memory_order_acquire);
    if (s->next - reaped == s->ring->entries) {
      std::unique_lock<std::mutex> lk(r->space_mu);
      bool ok = r->space_cv.wait_for(lk, std::chrono::milliseconds(g_wait_ms), [&] {
        return s->next - r->reaped.load(std::memory_order_acquire) < s->ring->entries;
      });
      if (!ok) fail("hang: producer waited %d ms for a free ring slot", g_wait_ms);
      continue;
    }
    submit_batch(s, reaped, r->total, &rng);
    if ((splitmix(&rng) & 15) == 0) std::this_thread::yield();
  }
}

// Consumer on its own thread.
void consumer_main(Reaper* r, uint32_t entries) {
  uint64_t rng = r->seed;
  while (r->reaped_local < r->total) {
    uint32_t capacity = 1 + uint32_t(splitmix(&rng) % entries);
    if (drain(r, capacity)) sleep_on_efd(r, r->total - r->reaped_local);
  }
}

// Producer and consumer on one thread, as the JavaScript thread is.
void combined_main(Submitter* s, Reaper* r, uint32_t entries) {
  uint64_t rng = r->seed ^ 0xabcdef;
  while (r->reaped_local < r->total) {
    submit_batch(s, r->reaped_local, r->total, &rng);
    uint32_t capacity = 1 + uint32_t(splitmix(&rng) % entries);
    bool idle = drain(r, capacity);
    if (!idle) continue;
    // Armed and nothing to reap: sleep only if there is nothing to submit.
    if (s->next < r->total && s->next - r->reaped_local < entries) continue;
    sleep_on_efd(r, s->next - r->reaped_local);
  }
}

void model_fill(void* arg, ua_sqe* sqe, uint64_t tag) {
  static_cast<Model*>(arg)->in[tag] = mix(tag);
  fill_sqe(sqe, tag);
}

void model_doorbell(void* arg) {
  auto* m = static_cast<Model*>(arg);
  { std::lock_guard<std::mutex> g(m->doorbell); }
  m->wake.notify_all();
}

void finish_checks(const char* what, Reaper* r, Submitter* s) {
  for (uint64_t t = 0; t < r->total; t++) {
    if (r->seen[t] != 1)
      fail("%s: tag %llu completed %u times", what, (unsigned long long)t, r->seen[t]);
  }
  if (s->max_inflight > s->ring->entries)
    fail("%s: in flight reached %llu", what, (unsigned long long)s->max_inflight);
  if (r->ring->cq_tail.load() != r->ring->cq_head.load()) fail("%s: CQ not empty at the end", what);
}

void run_model(uint32_t entries, uint32_t engines, bool combined, bool jitter, uint64_t n) {
  double t0 = now_s();
  Model m;
  if (ring_init(&m.ring, entries) != 0) fail("ring_init");
  if (m.ring.entries != entries) fail("ring_init rounded %u to %u", entries, m.ring.entries);
  m.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (m.efd < 0) fail("eventfd: %s", strerror(errno));
  m.in.assign(n, 0);
  m.out.assign(n, 0);
  for (uint32_t i = 0; i < engines; i++) {
    m.engines.emplace_back(engine_main, &m, g_seed * 1000 + i, jitter);
  }

  Reaper r;
  r.ring = &m.ring;
  r.efd = m.efd;
  r.total = n;
  r.seen.assign(n, 0);
  r.seed = g_seed ^ (uint64_t(entries) << 8) ^ engines;
  r.check = model_check;
  r.check_arg = &m;

  Submitter s;
  s.ring = &m.ring;
  s.fill = model_fill;
  s.fill_arg = &m;
  s.doorbell = model_doorbell;
  s.doorbell_arg = &m;

  if (combined) {
    combined_main(&s, &r, entries);
  } else {
    std::thread producer(producer_main, &s, &r, r.seed + 7);
    consumer_main(&r, entries);
    producer.join();
  }
  {
    std::lock_guard<std::mutex> g(m.doorbell);
    m.stopping = true;
  }
  m.wake.notify_all();
  for (auto& t : m.engines) t.join();
  char what[96];
  snprintf(what, sizeof(what), "model entries=%u engines=%u %s%s", entries, engines,
           combined ? "combined" : "split", jitter ? " jitter" : "");
  finish_checks(what, &r, &s);
  if (m.engine_ops.load() != n)
    fail("%s: engines ran %llu entries", what, (unsigned long long)m.engine_ops.load());
  close(m.efd);
  ring_free(&m.ring);
  printf("ok   %-44s %7llu descs %6llu batches, %6llu sleeps, %5llu re-checks  %.2fs\n", what,
         (unsigned long long)n, (unsigned long long)s.batches, (unsigned long long)r.sleeps,
         (unsigned long long)r.arm_rechecks, now_s() - t0);
  fflush(stdout);
}

/* ---------------------------------------------------------------------- */
/* Phase 2: the real software device, NOP and CRC32 descriptors.          */

struct DeviceRun {
  const DeviceOps* ops;
  void* queue;
  bool sva;
  std::shared_ptr<PinnedRegion> region;
  std::vector<uint8_t> data;  // SVA source bytes
  const uint8_t* bytes;       // what the device reads (data or region base)
  uint64_t bytes_len;
  std::vector<uint32_t> expect_check;
  std::vector<int32_t> expect_status;
};

constexpr uint32_t kDataBytes = 64 * 1024;

void device_fill(void* arg, ua_sqe* sqe, uint64_t tag) {
  auto* d = static_cast<DeviceRun*>(arg);
  uint64_t h = mix(tag);
  std::memset(sqe, 0, sizeof(*sqe));
  sqe->version = UA_DESC_VERSION;
  sqe->tag = tag;
  uint32_t kind = uint32_t(h % 16);
  uint32_t len = uint32_t((h >> 8) % 512);
  uint32_t off = uint32_t((h >> 20) % (kDataBytes - len));
  uint64_t addr = d->sva ? uint64_t(reinterpret_cast<uintptr_t>(d->bytes + off)) : off;
  if (!d->sva) sqe->flags = UA_SQE_PINNED;
  if (kind < 8) {
    sqe->opcode = UA_OP_CRC32;
    sqe->src = addr;
    sqe->src_len = len;
    sqe->arg = h >> 32;
    d->expect_status[tag] = 0;
    d->expect_check[tag] = uint32_t(crc32_z(uLong(sqe->arg & 0xffffffffu), d->bytes + off, len));
  } else if (kind < 13) {
    sqe->opcode = UA_OP_NOP;
    d->expect_status[tag] = 0;
    d->expect_check[tag] = 0;
  } else if (kind == 13) {
    sqe->opcode = UA_OP_NOP;
    sqe->version = 0;  // unknown ABI version
    d->expect_status[tag] = -EINVAL;
  } else if (kind == 14) {
    sqe->opcode = UA_OP_CIPHER;  // not implemented by the software device
    d->expect_status[tag] = -EOPNOTSUPP;
  } else {
    sqe->opcode = UA_OP_DEFLATE;  // stateful op without a context
    d->expect_status[tag] = -EINVAL;
  }
}

void device_check(void* arg, const ua_cqe& cqe) {
  auto* d = static_cast<DeviceRun*>(arg);
  if (cqe.status != d->expect_status[cqe.tag]) {
    fail("device: tag %llu status %d, want %d", (unsigned long long)cqe.tag, cqe.status,
         d->expect_status[cqe.tag]);
  }
  if (cqe.status == 0 && cqe.check != d->expect_check[cqe.tag]) {
    fail("device: tag %llu crc %08x, want %08x", (unsigned long long)cqe.tag, cqe.check,
         d->expect_check[cqe.tag]);
  }
}

void device_doorbell(void* arg) {
  auto* d = static_cast<DeviceRun*>(arg);
  if (d->ops->submit(d->queue) != 0) fail("device submit failed");
}

void device_poll(void* arg) {
  auto* d = static_cast<DeviceRun*>(arg);
  d->ops->poll(d->queue);
}

void run_device(uint32_t entries, uint32_t workers, bool sva, bool combined, uint64_t n) {
  double t0 = now_s();
  Ring ring;
  if (ring_init(&ring, entries) != 0) fail("ring_init");
  DeviceRun d;
  d.ops = &software_device_ops;
  d.sva = sva;
  uint64_t rng = g_seed ^ 0x77;
  if (sva) {
    d.data.resize(kDataBytes);
    for (auto& b : d.data) b = uint8_t(splitmix(&rng));
    d.bytes = d.data.data();
  } else {
    d.region = pinned_region_create(kDataBytes);
    if (!d.region) fail("pinned_region_create: %s", strerror(errno));
    for (uint32_t i = 0; i < kDataBytes; i++) d.region->base[i] = uint8_t(splitmix(&rng));
    d.bytes = d.region->base;
  }
  d.bytes_len = kDataBytes;
  d.expect_check.assign(n, 0);
  d.expect_status.assign(n, 0);

  DeviceConfig cfg{workers, sva, &ring, d.region};
  int efd = -1;
  int rc = d.ops->open(&cfg, &d.queue, &efd);
  if (rc != 0) fail("software device open: %d", rc);

  Reaper r;
  r.ring = &ring;
  r.efd = efd;
  r.total = n;
  r.seen.assign(n, 0);
  r.seed = g_seed ^ (uint64_t(entries) << 12) ^ workers;
  r.check = device_check;
  r.check_arg = &d;
  r.poll_op = device_poll;
  r.poll_arg = &d;

  Submitter s;
  s.ring = &ring;
  s.fill = device_fill;
  s.fill_arg = &d;
  s.doorbell = device_doorbell;
  s.doorbell_arg = &d;

  if (combined) {
    combined_main(&s, &r, entries);
  } else {
    std::thread producer(producer_main, &s, &r, r.seed + 7);
    consumer_main(&r, entries);
    producer.join();
  }
  d.ops->close(d.queue);
  char what[96];
  snprintf(what, sizeof(what), "software device entries=%u workers=%u %s %s", entries, workers,
           sva ? "sva" : "pinned", combined ? "combined" : "split");
  finish_checks(what, &r, &s);
  ring_free(&ring);
  printf("ok   %-44s %7llu descs %6llu batches, %6llu sleeps, %5llu re-checks  %.2fs\n", what,
         (unsigned long long)n, (unsigned long long)s.batches, (unsigned long long)r.sleeps,
         (unsigned long long)r.arm_rechecks, now_s() - t0);
  fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  int opt;
  while ((opt = getopt(argc, argv, "n:s:t:w:p:")) != -1) {
    switch (opt) {
      case 'n':
        g_per_config = strtoull(optarg, nullptr, 10);
        break;
      case 's':
        g_seed = strtoull(optarg, nullptr, 10);
        break;
      case 't':
        g_total_seconds = unsigned(strtoul(optarg, nullptr, 10));
        break;
      case 'w':
        g_wait_ms = int(strtol(optarg, nullptr, 10));
        break;
      case 'p':
        g_model = std::strcmp(optarg, "device") != 0;
        g_device = std::strcmp(optarg, "model") != 0;
        break;
      default:
        fprintf(stderr,
                "usage: %s [-n per-config] [-s seed] [-t total-seconds] [-w wait-ms] [-p "
                "model|device|all]\n",
                argv[0]);
        return 2;
    }
  }
  if (g_per_config == 0) g_per_config = 1;
  signal(SIGALRM, on_alarm);
  alarm(g_total_seconds);
  double t0 = now_s();
  uint64_t n = g_per_config;

  // Phase 1: the ring model. Tiny rings wrap constantly; more engines than
  // cores force preemption inside the post/reap windows.
  if (g_model) {
    run_model(2, 1, false, false, n);
    run_model(2, 3, false, true, n);
    run_model(4, 2, true, true, n);
    run_model(8, 4, false, true, n);
    run_model(16, 3, true, false, n);
    run_model(64, 2, false, true, n);
  }

  // Phase 2: the software device's real worker loop and doorbell.
  if (g_device) {
    run_device(2, 2, true, false, n / 2);
    run_device(8, 3, true, true, n / 2);
    run_device(32, 2, false, false, n / 2);
    run_device(4, 4, false, true, n / 2);
  }

  printf("ring_stress: all checks passed in %.2fs\n", now_s() - t0);
  return 0;
}
