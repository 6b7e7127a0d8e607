/*
 * device_fuzz - fuzz target for the software device behind the ring.
 *
 * Built two ways:
 *   clang++ -fsanitize=fuzzer,address,undefined -DUACCEL_LIBFUZZER ...
 *       a libFuzzer target (LLVMFuzzerTestOneInput)
 *   g++ -fsanitize=address,undefined ...
 *       a standalone driver: main() feeds the same target deterministic
 *       pseudo-random inputs (-n iterations, -s seed, -t seconds), or replays
 *       the files named on the command line (libFuzzer crash artifacts).
 *
 * One input is a small program. Its first bytes shape two queues of the
 * software device (software_device_ops): one on a pinned region, one SVA.
 * The rest is a sequence of actions: open/reset/params/message/close a zlib
 * context (random but valid parameters, optional dictionary), run one
 * descriptor inline (the Sync path), or submit a batch of descriptors (random
 * opcode including unknown ones, random version and flags, flush 0..10,
 * offsets and lengths inside and outside the region) and reap every
 * completion the way native/addon/queue.cc does (arm, re-check, sleep on the
 * completion fd).
 *
 * Invariants checked for every completion:
 *   - it arrives (bounded wait), exactly once, with its own tag;
 *   - its status is the one the device contract gives: -EINVAL for a bad
 *     version, a pinned flag without a region, or a stateful op without a
 *     context; -EFAULT for any range outside the region (or an unflagged raw
 *     address on a pinned queue, or a null address with a length); 0 for NOP;
 *     0 and the right CRC for CRC32; -EOPNOTSUPP for unknown opcodes; 0 or
 *     UA_STATUS_CODEC for codec steps, Z_STREAM_ERROR for a step of the wrong
 *     direction; a rejected entry reports no bytes;
 *   - produced <= dst_len, consumed <= src_len;
 *   - memory: the device writes nothing but dst[0, produced) (all of dst
 *     for stateless ops and ISA-L inflate, which use it as scratch): every
 *     other byte of the region, every source buffer and guard bytes after every
 *     SVA destination are unchanged (and, under ASan, poisoned while in
 *     flight, so an instrumented access outside a descriptor's ranges is
 *     reported where it happens);
 *   - data: a deflate context's output inflates (system zlib) to a prefix of
 *     what it consumed, all of it once the stream ended; an inflate context
 *     fed a valid stream produces a prefix of the original, all of it at the
 *     end;
 *   - codecs: an inflate context that may decode with ISA-L (opened with
 *     UACCEL_ISAL on or off at random) behaves as zlib alone: what it
 *     produced is a prefix of what a zlib-only twin makes of the same bytes
 *     in one step, and its first error has the twin's code and message.
 *     Feeds are valid, corrupt or garbage streams cut into small pieces, with
 *     Z_BLOCK flushes mid-member, so ISA-L's hand-over to zlib is exercised.
 *     A quarter of the inputs cut ISA-L's replay log to a few bytes, so
 *     members outgrow it: errors are then ISA-L's mapped ones (only the
 *     agreement on output is checked) and flushes may leave bits in ISA-L.
 * Every context, queue, ring and region is released at the end of an input,
 * so LeakSanitizer sees codec leaks. Results depend only on the input: each
 * context has at most one descriptor in flight and in-flight descriptors use
 * disjoint memory, whatever the number of device workers.
 *
 * Standalone zlib: the addon links no zlib (node exports it); these programs
 * link the system's (-lz) and compile the codec unchanged against <zlib.h>.
 */
#include <errno.h>
#include <poll.h>
#include <unistd.h>
#include <zlib.h>

#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "../codecs/isal_inflate_stream.h"
#include "../codecs/stateless_deflate.h"
#include "../devices/device.h"
#include "../ring/ring.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UACCEL_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define UACCEL_ASAN 1
#endif
#ifdef UACCEL_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

using namespace uaccel;

namespace {

[[noreturn]] void fail(const char* fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  fprintf(stderr, "device_fuzz: INVARIANT VIOLATED: %s\n", buf);
  fflush(stderr);
  abort();  // libFuzzer saves the input as a crash artifact
}

#define CHECK(cond, ...)            \
  do {                              \
    if (!(cond)) fail(__VA_ARGS__); \
  } while (0)

int g_wait_ms = 10000;
bool g_short_log = false;  // this input runs ISA-L with a replay log of a few bytes
bool g_verbose = false;

// Coverage of the invariants, printed by the standalone driver.
struct Stats {
  uint64_t batches, inline_runs, completions, ok, efault, einval, eopnotsupp, codec_ok, codec_err,
      stream_ends, deflate_checks, deflate_bytes, inflate_checks, inflate_bytes, params_ok,
      isal_steps, twin_checks, twin_errors, twin_lenient, twin_mapped, length_steps,
      length_refusals;
} g_stats;

/* ---------------------------------------------------------------------- */
/* Input reader: bytes past the end read as zero, so every input is valid. */

struct Reader {
  const uint8_t* p;
  size_t n;
  size_t i = 0;
  bool empty() const { return i >= n; }
  uint8_t u8() { return i < n ? p[i++] : 0; }
  uint16_t u16() { return uint16_t(u8() | (u8() << 8)); }
  uint32_t u32() { return uint32_t(u16()) | (uint32_t(u16()) << 16); }
  uint64_t u64() { return uint64_t(u32()) | (uint64_t(u32()) << 32); }
  uint32_t below(uint32_t m) {  // [0, m)
    if (m <= 1) return 0;
    if (m <= 256) return u8() % m;
    if (m <= 65536) return u16() % m;
    return u32() % m;
  }
  int range(int lo, int hi) { return lo + int(below(uint32_t(hi - lo + 1))); }
  bool chance(uint32_t one_in) { return below(one_in) == 0; }
};

uint64_t splitmix(uint64_t* s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Data with some structure, so deflate has something to find: random bytes,
// a small alphabet, runs, or text-like repetition.
void gen_data(Reader& r, uint8_t* out, size_t len) {
  uint64_t s = r.u32();
  uint32_t style = r.below(4);
  for (size_t k = 0; k < len; k++) {
    uint64_t v = splitmix(&s);
    switch (style) {
      case 0:
        out[k] = uint8_t(v);
        break;
      case 1:
        out[k] = uint8_t('a' + v % 4);
        break;
      case 2:
        out[k] = (v & 7) == 0 ? uint8_t(v >> 8) : (k ? out[k - 1] : 0);
        break;
      default:
        out[k] = uint8_t("the quick brown fox "[(k + (v % 3 == 0 ? v : 0)) % 20]);
        break;
    }
  }
}

// Lengths skewed small: tiny outputs force partial steps and Z_BUF_ERROR.
uint32_t pick_len(Reader& r, uint32_t max) {
  switch (r.below(4)) {
    case 0:
      return r.below((max < 8 ? max : 8) + 1);
    case 1:
      return r.below((max < 64 ? max : 64) + 1);
    default:
      return r.below(max + 1);
  }
}

bool region_contains(uint64_t size, uint64_t off, uint64_t len) {
  return (unsigned __int128)off + len <= size;
}

/* ---------------------------------------------------------------------- */
/* Queues and contexts.                                                    */

struct HQueue {
  bool sva = false;
  Ring ring;
  std::shared_ptr<PinnedRegion> region;
  void* q = nullptr;
  int efd = -1;
  uint32_t tail = 0;
  uint32_t lane = 0;  // pinned: bytes of region per ring slot
  uint64_t next_tag = 1;
};

enum Family { FAM_DEFLATE, FAM_INFLATE };

struct Ctx {
  HQueue* hq = nullptr;
  uint64_t handle = 0;
  int mode = 0, level = 0, wbits = 0, mem = 0, strategy = 0;
  std::vector<uint8_t> dict;
  Family fam = FAM_DEFLATE;
  bool busy = false;  // has a descriptor in the current batch
  // Deflate: what went in and came out since the last reset.
  std::vector<uint8_t> in, out;
  bool ended = false;
  bool finishing = false;  // a Z_FINISH step went through: zlib refuses params
  bool tainted = false;    // a codec error: no expectation about the data
  // Inflate: the stream fed to the context and what it should give back.
  std::vector<uint8_t> feed, plain;
  bool feed_valid = false;
  size_t pos = 0;
  bool last_end = false;
  bool never_check = false;
  bool isal = false;            // opened with ISA-L allowed (and ISA-L would take it)
  bool last_step_full = false;  // the last step filled its destination
  int last_flush = Z_NO_FLUSH;
  bool short_log = false;  // opened while ISA-L's replay log was cut short
};

bool is_inflate_mode(int mode) {
  return mode == ZLIB_INFLATE || mode == ZLIB_GUNZIP || mode == ZLIB_INFLATERAW ||
         mode == ZLIB_UNZIP;
}

// Compress `plain` with the system zlib in the format an inflate context of
// `c`'s mode expects (optionally two gzip members).
std::vector<uint8_t> compress_for(const Ctx& c, Reader& r, const std::vector<uint8_t>& plain,
                                  bool* ok) {
  int wb = c.wbits == 0 ? 15 : c.wbits;
  bool gzip = c.mode == ZLIB_GUNZIP || (c.mode == ZLIB_UNZIP && r.chance(2));
  int window = c.mode == ZLIB_INFLATERAW ? -wb : gzip ? wb + 16 : wb;
  if (window == -8 || window == 24) window += window < 0 ? -1 : 1;  // zlib refuses 8 there
  int members = gzip && plain.size() > 1 && r.chance(3) ? 2 : 1;
  std::vector<uint8_t> out;
  size_t cut = members == 2 ? 1 + r.below(uint32_t(plain.size() - 1)) : plain.size();
  *ok = true;
  for (int m = 0; m < members; m++) {
    const uint8_t* p = plain.data() + (m == 0 ? 0 : cut);
    size_t len = m == 0 ? cut : plain.size() - cut;
    // unzip detects each member's format afresh: a zlib stream may follow
    // a gzip member.
    int member_window = m == 1 && c.mode == ZLIB_UNZIP && r.chance(2) ? wb : window;
    z_stream s{};
    if (deflateInit2(&s, r.range(0, 9), Z_DEFLATED, member_window, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
      *ok = false;
      return out;
    }
    if (!c.dict.empty() && !gzip) deflateSetDictionary(&s, c.dict.data(), uInt(c.dict.size()));
    std::vector<uint8_t> buf(deflateBound(&s, uLong(len)) + 64);
    s.next_in = const_cast<Bytef*>(p);
    s.avail_in = uInt(len);
    s.next_out = buf.data();
    s.avail_out = uInt(buf.size());
    int rc = deflate(&s, Z_FINISH);
    if (rc != Z_STREAM_END) *ok = false;
    out.insert(out.end(), buf.data(), buf.data() + (buf.size() - s.avail_out));
    deflateEnd(&s);
  }
  return out;
}

// Decompress with the system zlib: the reference for deflate contexts.
int reference_inflate(const Ctx& c, const std::vector<uint8_t>& in, std::vector<uint8_t>* out) {
  int window = c.mode == ZLIB_DEFLATERAW ? -15 : c.mode == ZLIB_GZIP ? 31 : 15;
  z_stream s{};
  if (inflateInit2(&s, window) != Z_OK) fail("reference inflateInit2");
  if (c.mode == ZLIB_DEFLATERAW && !c.dict.empty()) {
    inflateSetDictionary(&s, c.dict.data(), uInt(c.dict.size()));
  }
  s.next_in = const_cast<Bytef*>(in.data());
  s.avail_in = uInt(in.size());
  int rc = Z_OK;
  uint8_t buf[4096];
  for (;;) {
    s.next_out = buf;
    s.avail_out = sizeof(buf);
    rc = inflate(&s, Z_NO_FLUSH);
    if (rc == Z_NEED_DICT && !c.dict.empty()) {
      rc = inflateSetDictionary(&s, c.dict.data(), uInt(c.dict.size()));
      if (rc == Z_OK) continue;
    }
    out->insert(out->end(), buf, buf + (sizeof(buf) - s.avail_out));
    if (rc != Z_OK || (s.avail_in == 0 && s.avail_out != 0)) break;
  }
  inflateEnd(&s);
  return rc;
}

bool is_prefix(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  return a.size() <= b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size()) == 0);
}

// The data invariant of a deflate context, checked at reset, close and end.
void check_deflate_data(const Ctx& c, const char* when) {
  if (c.fam != FAM_DEFLATE || c.tainted) return;
  if (c.out.empty() && !c.ended) return;
  std::vector<uint8_t> got;
  int rc = reference_inflate(c, c.out, &got);
  CHECK(rc == Z_OK || rc == Z_BUF_ERROR || rc == Z_STREAM_END,
        "%s: deflate context (mode %d level %d wbits %d mem %d strategy %d dict %zu) produced a "
        "stream the reference inflate rejects (%d) after %zu bytes in, %zu out",
        when, c.mode, c.level, c.wbits, c.mem, c.strategy, c.dict.size(), rc, c.in.size(),
        c.out.size());
  CHECK(is_prefix(got, c.in),
        "%s: deflate context (mode %d) output inflates to %zu bytes that are not a prefix of the "
        "%zu bytes it consumed",
        when, c.mode, got.size(), c.in.size());
  g_stats.deflate_checks++;
  g_stats.deflate_bytes += got.size();
  if (c.ended) {
    CHECK(rc == Z_STREAM_END && got.size() == c.in.size(),
          "%s: deflate context (mode %d) reported the end of its stream but the output inflates "
          "to %zu of %zu bytes (rc %d)",
          when, c.mode, got.size(), c.in.size(), rc);
  }
}

// What zlib alone makes of the context's first `len` feed bytes, in steps as
// large as the output allows: the reference for a context that decodes with
// ISA-L. `flush` is the flush of the step that ended there.
struct Twin {
  int32_t status = 0;
  int32_t detail = 0;
  std::string message;
  std::vector<uint8_t> out;
};

Twin zlib_twin(const Ctx& c, size_t len, int flush) {
  setenv("UACCEL_ISAL", "0", 1);
  ZlibParams p{c.mode, c.level, c.wbits, c.mem, c.strategy, nullptr, 0};
  ZlibStream* zs = zlib_stream_create(&p);
  Twin t;
  std::vector<uint8_t> buf(64 << 10);
  size_t at = 0;
  for (;;) {
    ua_cqe cqe{};
    uint32_t n = uint32_t(len - at);
    zlib_stream_step(zs, UA_OP_INFLATE, flush, c.feed.data() + at, n, buf.data(),
                     uint32_t(buf.size()), &cqe);
    CHECK(cqe.status != 0 || cqe.detail == CODEC_ZLIB, "the zlib twin decoded with codec %d",
          cqe.detail);
    t.out.insert(t.out.end(), buf.data(), buf.data() + cqe.produced);
    at += cqe.consumed;
    if (cqe.status != 0) {
      t.status = cqe.status;
      t.detail = cqe.detail;
      t.message = zlib_stream_message(zs);
      break;
    }
    if (cqe.produced < buf.size()) break;
  }
  zlib_stream_destroy(zs);
  return t;
}

bool twin_applies(const Ctx& c) {
  return c.fam == FAM_INFLATE && c.isal && !c.never_check && !c.tainted;
}

bool same_overlap(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  size_t n = a.size() < b.size() ? a.size() : b.size();
  return n == 0 || std::memcmp(a.data(), b.data(), n) == 0;
}

// A successful stretch of an ISA-L context against its twin. ISA-L may keep
// the last bits of its input for its next step, except at a flush. Where
// zlib rejects a dynamic block header that ISA-L accepts (an incomplete
// code), ISA-L decodes on until an error or the trailer check hands the
// member back to zlib: until then both agree on what they both produced.
void check_twin(const Ctx& c, const char* when) {
  if (!twin_applies(c)) return;
  Twin t = zlib_twin(c, c.pos, Z_NO_FLUSH);
  g_stats.twin_checks++;
  if (t.status != 0) {
    g_stats.twin_lenient++;
    CHECK(same_overlap(c.out, t.out),
          "%s: inflate context (mode %d wbits %d) with ISA-L and zlib (which failed: %s) "
          "disagree on the bytes both produced",
          when, c.mode, c.wbits, t.message.c_str());
    return;
  }
  CHECK(is_prefix(c.out, t.out),
        "%s: inflate context (mode %d wbits %d) with ISA-L produced %zu bytes from %zu in that "
        "are not a prefix of zlib's %zu",
        when, c.mode, c.wbits, c.out.size(), c.pos, t.out.size());
  bool flushed = c.last_flush == Z_PARTIAL_FLUSH || c.last_flush == Z_SYNC_FLUSH ||
                 c.last_flush == Z_FULL_FLUSH;
  if (!c.last_step_full && flushed && !c.short_log) {
    CHECK(c.out.size() == t.out.size(),
          "%s: inflate context (mode %d) with ISA-L produced %zu bytes from %zu in after flush "
          "%d, zlib %zu",
          when, c.mode, c.out.size(), c.pos, c.last_flush, t.out.size());
  }
}

void check_inflate_data(const Ctx& c, const char* when) {
  check_twin(c, when);
  if (c.fam != FAM_INFLATE || c.tainted || c.never_check || !c.feed_valid) return;
  g_stats.inflate_checks++;
  g_stats.inflate_bytes += c.out.size();
  CHECK(is_prefix(c.out, c.plain),
        "%s: inflate context (mode %d) produced %zu bytes that are not a prefix of the original",
        when, c.mode, c.out.size());
  if (c.last_end && c.pos == c.feed.size()) {
    CHECK(c.out.size() == c.plain.size(),
          "%s: inflate context (mode %d) ended the stream with %zu of %zu bytes", when, c.mode,
          c.out.size(), c.plain.size());
  }
}

void reset_tracking(Ctx& c) {
  c.in.clear();
  c.out.clear();
  c.ended = false;
  c.finishing = false;
  c.tainted = false;
  c.pos = 0;
  c.last_end = false;
}

/* ---------------------------------------------------------------------- */
/* One descriptor: what was submitted and what must come back.            */

constexpr int32_t kCodec = 1;  // "0 or UA_STATUS_CODEC": the codec decides
// Stateless ops on arbitrary bytes: 0, or a clean refusal (-ENOSPC when the
// output is too small, -EINVAL for a malformed request, UA_STATUS_CODEC for
// undecodable input), never anything else.
constexpr int32_t kStateless = 2;
// A codec step whose write lengths are whatever bytes of the region it
// names: a step (as kCodec) if they happen to split src, else -EINVAL with
// the stream untouched.
constexpr int32_t kCodecOrInvalid = 3;

bool is_stateless_op(uint8_t op) {
  return op == UA_OP_DEFLATE_BLOCK || op == UA_OP_INFLATE_ONESHOT;
}
constexpr uint32_t kGuard = 32;
constexpr uint8_t kGuardByte = 0xa5;
constexpr uint8_t kDstFill = 0x5a;

struct Desc {
  ua_sqe sqe{};
  int32_t want = 0;
  Ctx* ctx = nullptr;
  bool wrong_direction = false;
  bool valid_ranges = false;  // both ranges resolve to memory the device may use
  // Host views of the ranges (pinned: inside the region; SVA: owned buffers).
  uint8_t* src = nullptr;
  uint8_t* dst = nullptr;
  std::vector<uint8_t> src_copy;
  // Write lengths the harness owns for an inflate step over several writes
  // (SVA and inline), and whether they split src as the ABI requires.
  std::vector<uint8_t> lengths;
  bool lengths_ok = true;
  // SVA allocations (len + guard), freed after the completion is checked.
  uint8_t* src_alloc = nullptr;
  uint8_t* dst_alloc = nullptr;
  bool done = false;
  ua_cqe cqe{};
};

// The status the software device must give, per the ABI contract (the
// order of checks is the device's: version, src, dst, opcode).
int32_t contract_status(const HQueue& hq, const ua_sqe& s, bool* ranges_ok) {
  *ranges_ok = false;
  if (s.version != UA_DESC_VERSION) return -EINVAL;
  const uint64_t addrs[2] = {s.src, s.dst};
  const uint32_t lens[2] = {s.src_len, s.dst_len};
  for (int k = 0; k < 2; k++) {
    if (s.flags & UA_SQE_PINNED) {
      if (!hq.region) return -EINVAL;
      if (!region_contains(hq.region->size, addrs[k], lens[k])) return -EFAULT;
    } else {
      if (!hq.sva) return -EFAULT;
      if (addrs[k] == 0 && lens[k] != 0) return -EFAULT;
    }
  }
  *ranges_ok = true;
  switch (s.opcode) {
    case UA_OP_NOP:
    case UA_OP_CRC32:
      return 0;
    case UA_OP_DEFLATE:
      return s.ctx == 0 ? -EINVAL : kCodec;
    case UA_OP_INFLATE:
      if (s.flags & UA_SQE_WRITES) {
        // The write lengths are a third range under the same rules (even
        // an empty one), read as a table of uint32s.
        if ((s.flags & UA_SQE_PINNED) && !region_contains(hq.region->size, s.hist, s.hist_len)) {
          return -EFAULT;
        }
        if (s.hist_len > 0) {
          if (s.ctx == 0 || s.hist_len % 4 != 0) return -EINVAL;
          return (s.flags & UA_SQE_PINNED) ? kCodecOrInvalid : kCodec;
        }
      }
      return s.ctx == 0 ? -EINVAL : kCodec;
    case UA_OP_DEFLATE_BLOCK:
      // The history window is a third range under the same rules.
      if (s.flags & UA_SQE_PINNED) {
        if (!region_contains(hq.region->size, s.hist, s.hist_len)) return -EFAULT;
      }
      return kStateless;
    case UA_OP_INFLATE_ONESHOT:
      return kStateless;
    default:
      return -EOPNOTSUPP;
  }
}

uint8_t random_unknown_opcode(Reader& r) {
  static const uint8_t known_unimplemented[] = {UA_OP_CIPHER, UA_OP_DIGEST, 6, 255};
  if (r.chance(2)) return known_unimplemented[r.below(sizeof(known_unimplemented))];
  for (;;) {
    uint8_t op = r.u8();
    if (op != UA_OP_NOP && op != UA_OP_DEFLATE && op != UA_OP_INFLATE && op != UA_OP_CRC32 &&
        !is_stateless_op(op)) {
      return op;
    }
    if (r.empty()) return 200;
  }
}

// An owned SVA buffer of exactly len bytes plus a guard (poisoned while in
// flight). len 0 is sometimes a null address.
uint8_t* sva_buffer(Reader& r, uint32_t len, uint8_t** alloc) {
  if (len == 0 && r.chance(2)) {
    *alloc = nullptr;
    return nullptr;
  }
  *alloc = static_cast<uint8_t*>(malloc(len + kGuard));
  if (*alloc == nullptr) fail("out of memory");
  std::memset(*alloc + len, kGuardByte, kGuard);
  return *alloc;
}

// Chooses the memory of one range. Pinned queues: inside the descriptor's
// own area of its lane, or outside the region in one of several ways. SVA
// queues: an owned buffer, or a null address with a length.
void place(Reader& r, HQueue& hq, uint32_t area_off, uint32_t area_len, uint32_t want_len,
           bool is_src, Desc& d) {
  uint64_t* addr = is_src ? &d.sqe.src : &d.sqe.dst;
  uint32_t* len = is_src ? &d.sqe.src_len : &d.sqe.dst_len;
  uint8_t** host = is_src ? &d.src : &d.dst;
  uint8_t** alloc = is_src ? &d.src_alloc : &d.dst_alloc;
  uint32_t how = r.below(16);
  if (hq.sva) {
    if (how == 15) {
      *addr = 0;
      *len = 1 + r.below(1u << 16);
      *host = nullptr;
      return;
    }
    *len = want_len;
    *host = sva_buffer(r, want_len, alloc);
    *addr = reinterpret_cast<uintptr_t>(*host);
    return;
  }
  uint64_t size = hq.region->size;
  *host = nullptr;
  if (how < 12) {
    uint32_t l = want_len < area_len ? want_len : area_len;
    uint32_t off = area_off + r.below(area_len - l + 1);
    *addr = off;
    *len = l;
    *host = hq.region->base + off;
    return;
  }
  switch (how) {
    case 12: {  // straddles the end of the region
      uint32_t k = r.below(17);
      *addr = size - k;
      *len = k + 1 + r.below(256);
      break;
    }
    case 13:  // starts past the end (or exactly at it with a length)
      *addr = size + r.below(1u << 20);
      *len = (*addr == size ? 1 : 0) + r.below(4096);
      break;
    case 14:  // offset + length wraps around 64 bits
      *addr = ~uint64_t(0) - r.below(4096);
      *len = 1 + r.below(1u << 16);
      break;
    default:  // inside, but far too long
      *addr = area_off + r.below(area_len + 1);
      *len = uint32_t(size) + 1 + r.below(1u << 30);
      break;
  }
}

/* ---------------------------------------------------------------------- */
/* Submitting and reaping, the way the addon does it.                     */

void reap_all(HQueue& hq, std::vector<Desc>& batch) {
  size_t remaining = batch.size();
  while (remaining > 0) {
    software_device_ops.poll(hq.q);
    ua_cqe cqe;
    bool any = false;
    while (ring_cq_reap(&hq.ring, &cqe)) {
      any = true;
      uint64_t base = batch.front().sqe.tag;
      CHECK(cqe.tag >= base && cqe.tag < base + batch.size(), "completion with unknown tag %llu",
            (unsigned long long)cqe.tag);
      Desc& d = batch[cqe.tag - base];
      CHECK(!d.done, "tag %llu completed twice", (unsigned long long)cqe.tag);
      d.done = true;
      d.cqe = cqe;
      remaining--;
    }
    if (remaining == 0) break;
    if (any) continue;
    if (ring_cq_arm(&hq.ring)) continue;
    struct pollfd p = {hq.efd, POLLIN, 0};
    int rc = poll(&p, 1, g_wait_ms);
    if (rc < 0 && errno == EINTR) continue;
    if (rc == 0) {
      fail("%zu of %zu completions did not arrive within %d ms (lost completion or wake-up)",
           remaining, batch.size(), g_wait_ms);
    }
  }
}

void submit(HQueue& hq, std::vector<Desc>& batch, Reader& r) {
  // Batches never exceed the ring (nothing else is in flight), so the SQ has
  // room; publish in one or two doorbells.
  uint32_t split = r.chance(3) ? r.below(uint32_t(batch.size()) + 1) : uint32_t(batch.size());
  for (size_t k = 0; k < batch.size(); k++) {
    CHECK(ring_sq_space(&hq.ring, hq.tail) > 0, "SQ full with %zu of %zu queued", k, batch.size());
    *ring_sq_slot(&hq.ring, hq.tail) = batch[k].sqe;
    hq.tail++;
    if (k + 1 == split) {
      ring_sq_publish(&hq.ring, hq.tail);
      software_device_ops.submit(hq.q);
    }
  }
  ring_sq_publish(&hq.ring, hq.tail);
  software_device_ops.submit(hq.q);
}

/* ---------------------------------------------------------------------- */
/* Checking one completion.                                               */

void check_completion(HQueue& hq, Desc& d, const ua_cqe& c, bool inline_run) {
  const ua_sqe& s = d.sqe;
  CHECK(c.tag == s.tag, "completion tag %llu for descriptor %llu", (unsigned long long)c.tag,
        (unsigned long long)s.tag);
  CHECK(c.produced <= s.dst_len, "produced %u > dst_len %u (opcode %u)", c.produced, s.dst_len,
        s.opcode);
  CHECK(c.consumed <= s.src_len, "consumed %u > src_len %u (opcode %u)", c.consumed, s.src_len,
        s.opcode);
  g_stats.completions++;
  if (c.status == 0) g_stats.ok++;
  if (c.status == -EFAULT) g_stats.efault++;
  if (c.status == -EINVAL) g_stats.einval++;
  if (c.status == -EOPNOTSUPP) g_stats.eopnotsupp++;
  if (s.opcode == UA_OP_INFLATE && (s.flags & UA_SQE_WRITES) && s.hist_len >= 8 &&
      d.ctx != nullptr && c.status != -EINVAL) {
    g_stats.length_steps++;
  }
  if (s.opcode == UA_OP_INFLATE && (s.flags & UA_SQE_WRITES) && s.hist_len > 0 &&
      c.status == -EINVAL) {
    g_stats.length_refusals++;
  }
  if (d.want == kCodecOrInvalid && c.status == -EINVAL) {
    // The region's bytes were no table of lengths for this src.
    CHECK(c.produced == 0 && c.consumed == 0, "a refused step reports %u/%u bytes", c.produced,
          c.consumed);
    return;
  }
  if (d.want == kCodec || d.want == kCodecOrInvalid) {
    (c.status == 0 ? g_stats.codec_ok : g_stats.codec_err)++;
  }
  if (c.flags & UA_CQE_STREAM_END) g_stats.stream_ends++;
  if (d.want == kStateless) {
    CHECK(c.status == 0 || c.status == -ENOSPC || c.status == -EINVAL || c.status == -ENOMEM ||
              (s.opcode == UA_OP_INFLATE_ONESHOT && c.status == UA_STATUS_CODEC),
          "stateless opcode %u: status %d", s.opcode, c.status);
    if (c.status != 0) {
      CHECK(c.produced == 0 && c.consumed == 0, "a refused stateless op reports %u/%u bytes",
            c.produced, c.consumed);
    } else if (s.opcode == UA_OP_DEFLATE_BLOCK) {
      CHECK(c.consumed == s.src_len, "a block consumed %u of %u", c.consumed, s.src_len);
    }
    return;
  }
  if (d.want != kCodec && d.want != kCodecOrInvalid) {
    CHECK(c.status == d.want,
          "opcode %u version %u flags %#x src %#llx+%u dst %#llx+%u on a %s queue: "
          "status %d, want %d",
          s.opcode, s.version, s.flags, (unsigned long long)s.src, s.src_len,
          (unsigned long long)s.dst, s.dst_len,
          inline_run ? "inline"
          : hq.sva   ? "SVA"
                     : "pinned",
          c.status, d.want);
    CHECK(c.produced == 0, "a %d completion reports %u bytes produced", c.status, c.produced);
    if (s.opcode == UA_OP_CRC32 && c.status == 0) {
      // (zlib returns 0 for a null buffer; an empty range still yields the seed)
      static const uint8_t empty = 0;
      const uint8_t* p = d.src_copy.empty() ? &empty : d.src_copy.data();
      uint32_t want = uint32_t(crc32_z(uLong(s.arg & 0xffffffffu), p, d.src_copy.size()));
      CHECK(c.check == want, "CRC32 of %u bytes: %08x, want %08x", s.src_len, c.check, want);
      CHECK(c.consumed == s.src_len, "CRC32 consumed %u of %u", c.consumed, s.src_len);
    } else {
      CHECK(c.consumed == 0, "a %d completion (opcode %u) reports %u bytes consumed", c.status,
            s.opcode, c.consumed);
    }
    return;
  }
  // A codec step.
  Ctx& x = *d.ctx;
  CHECK(c.status == 0 || c.status == UA_STATUS_CODEC, "codec step status %d", c.status);
  if (c.status == UA_STATUS_CODEC) {
    const char* msg = software_device_ops.ctx_message(hq.q, x.handle);
    CHECK(msg != nullptr && strnlen(msg, 4096) < 4096, "codec error without a message");
    CHECK((c.flags & UA_CQE_STREAM_END) == 0, "a failed step flags the stream's end");
  } else {
    // Success reports the codec; only inflate contexts ever use ISA-L.
    CHECK(c.detail == CODEC_ZLIB ||
              (c.detail == CODEC_ISAL && x.fam == FAM_INFLATE && x.isal && !d.wrong_direction),
          "successful codec step (mode %d) with detail %d", x.mode, c.detail);
    if (c.detail == CODEC_ISAL) g_stats.isal_steps++;
  }
  if (d.wrong_direction) {
    CHECK(c.status == UA_STATUS_CODEC && c.detail == Z_STREAM_ERROR && c.consumed == 0 &&
              c.produced == 0,
          "a %s step on a mode-%d context: status %d detail %d",
          s.opcode == UA_OP_DEFLATE ? "deflate" : "inflate", x.mode, c.status, c.detail);
    return;
  }
  if (x.fam == FAM_DEFLATE && s.flush > Z_BLOCK) {
    CHECK(c.status == UA_STATUS_CODEC && c.consumed == 0 && c.produced == 0,
          "deflate with flush %u: status %d consumed %u produced %u", s.flush, c.status, c.consumed,
          c.produced);
  }
  // Track the data.
  const uint8_t* out = d.dst;
  if (x.fam == FAM_DEFLATE) {
    if (c.status == 0) {
      x.in.insert(x.in.end(), d.src_copy.data(), d.src_copy.data() + c.consumed);
      x.out.insert(x.out.end(), out, out + c.produced);
      if (c.flags & UA_CQE_STREAM_END) x.ended = true;
      if (s.flush == Z_FINISH) x.finishing = true;
    } else if (c.consumed != 0 || c.produced != 0 ||
               (c.detail != Z_STREAM_ERROR && c.detail != Z_BUF_ERROR)) {
      x.tainted = true;
    }
  } else {
    if (c.status == 0) {
      x.last_step_full = c.produced == s.dst_len;
      x.last_flush = s.flush;
      size_t before = x.out.size();
      x.out.insert(x.out.end(), out, out + c.produced);
      x.pos += c.consumed;
      x.last_end = (c.flags & UA_CQE_STREAM_END) != 0;
      if (!x.tainted && !x.never_check && x.feed_valid) {
        CHECK(x.out.size() <= x.plain.size() &&
                  (c.produced == 0 ||
                   std::memcmp(x.out.data() + before, x.plain.data() + before, c.produced) == 0),
              "inflate context (mode %d wbits %d) output diverges from the original at byte <= %zu",
              x.mode, x.wbits, before + c.produced);
      }
    } else {
      // The first error of an ISA-L context is zlib's, on the same bytes.
      if (twin_applies(x) && c.detail != Z_STREAM_ERROR) {
        Twin t = zlib_twin(x, x.pos + s.src_len, s.flush == Z_FINISH ? Z_FINISH : Z_NO_FLUSH);
        g_stats.twin_errors++;
        if (x.short_log) {
          if (t.message != software_device_ops.ctx_message(hq.q, x.handle)) g_stats.twin_mapped++;
        } else {
          CHECK(
              t.status == c.status && t.detail == c.detail &&
                  t.message == software_device_ops.ctx_message(hq.q, x.handle),
              "inflate context (mode %d wbits %d) with ISA-L failed with %d \"%s\" after %zu bytes "
              "in; zlib alone: status %d detail %d \"%s\"",
              x.mode, x.wbits, c.detail, software_device_ops.ctx_message(hq.q, x.handle),
              x.pos + s.src_len, t.status, t.detail, t.message.c_str());
        }
        CHECK(same_overlap(x.out, t.out),
              "inflate context (mode %d) with ISA-L produced %zu bytes before its error that "
              "disagree with zlib's %zu",
              x.mode, x.out.size(), t.out.size());
      }
      x.tainted = true;
    }
  }
}

/* ---------------------------------------------------------------------- */
/* Actions.                                                               */

struct World {
  HQueue queues[2];  // 0: pinned, 1: SVA
  std::vector<std::unique_ptr<Ctx>> ctxs;
};

constexpr size_t kMaxContexts = 6;

void open_context(World& w, Reader& r) {
  if (w.ctxs.size() >= kMaxContexts) return;
  auto c = std::make_unique<Ctx>();
  c->hq = &w.queues[r.below(2)];
  c->mode = r.range(ZLIB_DEFLATE, ZLIB_UNZIP);
  c->fam = is_inflate_mode(c->mode) ? FAM_INFLATE : FAM_DEFLATE;
  c->level = r.range(-1, 9);
  c->wbits = r.range(8, 15);
  // As node validates it: 0 (take it from the header) only where there is one.
  bool has_header = c->mode == ZLIB_INFLATE || c->mode == ZLIB_GUNZIP || c->mode == ZLIB_UNZIP;
  if (has_header && r.chance(4)) c->wbits = 0;
  // Mostly the default window for inflate, the one ISA-L decodes with.
  if (c->fam == FAM_INFLATE && c->wbits != 0 && r.chance(2)) c->wbits = 15;
  c->mem = r.range(1, 9);
  c->strategy = r.range(0, 4);
  if (r.chance(4)) {
    c->dict.resize(1 + r.below(64));
    gen_data(r, c->dict.data(), c->dict.size());
  }
  // Half the inflate contexts may use ISA-L (the environment is read when a
  // context opens); those that take it are checked against zlib alone.
  bool isal_on = r.chance(2);
  setenv("UACCEL_ISAL", isal_on ? "1" : "0", 1);
  c->short_log = g_short_log;
  c->isal = isal_on && c->fam == FAM_INFLATE && c->dict.empty() &&
            (c->wbits == 15 || (c->wbits == 0 && c->mode != ZLIB_INFLATERAW));
  ContextParams p{};
  p.kind = CTX_ZLIB;
  p.zlib = ZlibParams{c->mode,
                      c->level,
                      c->wbits,
                      c->mem,
                      c->strategy,
                      c->dict.empty() ? nullptr : c->dict.data(),
                      uint32_t(c->dict.size())};
  int rc = software_device_ops.ctx_open(c->hq->q, &p, &c->handle);
  CHECK(rc == 0 && c->handle != 0, "ctx_open failed: %d", rc);
  if (c->fam == FAM_INFLATE) {
    uint32_t kind = r.below(4);
    if (kind == 0) {  // garbage
      c->feed.resize(r.below(2048));
      gen_data(r, c->feed.data(), c->feed.size());
      c->feed_valid = false;
    } else {
      c->plain.resize(r.below(8192));
      gen_data(r, c->plain.data(), c->plain.size());
      bool ok = false;
      c->feed = compress_for(*c, r, c->plain, &ok);
      c->feed_valid = ok;
      if (ok && !c->feed.empty() && r.chance(4)) {  // corrupt it
        uint32_t flips = 1 + r.below(4);
        for (uint32_t k = 0; k < flips; k++)
          c->feed[r.below(uint32_t(c->feed.size()))] ^= uint8_t(1 + r.below(255));
        c->feed_valid = false;
      }
    }
  }
  if (g_verbose)
    fprintf(stderr, "  open mode %d level %d wbits %d mem %d strategy %d dict %zu on %s\n", c->mode,
            c->level, c->wbits, c->mem, c->strategy, c->dict.size(), c->hq->sva ? "sva" : "pinned");
  w.ctxs.push_back(std::move(c));
}

void close_context(World& w, size_t k, const char* when) {
  Ctx& c = *w.ctxs[k];
  check_deflate_data(c, when);
  check_inflate_data(c, when);
  software_device_ops.ctx_close(c.hq->q, c.handle);
  w.ctxs.erase(w.ctxs.begin() + long(k));
}

void context_op(World& w, Reader& r, uint32_t op) {
  if (w.ctxs.empty()) return;
  size_t k = r.below(uint32_t(w.ctxs.size()));
  Ctx& c = *w.ctxs[k];
  switch (op) {
    case 0:
      close_context(w, k, "close");
      return;
    case 1: {
      check_deflate_data(c, "reset");
      check_inflate_data(c, "reset");
      int rc = software_device_ops.ctx_reset(c.hq->q, c.handle);
      (void)rc;  // may legitimately fail (e.g. a gzip dictionary); the data check covers it
      reset_tracking(c);
      // Like node, reset leaves an unzip context that has not yet seen its
      // format (or saw a partial gzip magic) as it was: no data expectation.
      if (c.mode == ZLIB_UNZIP) c.never_check = true;
      return;
    }
    case 2: {
      int level = r.range(-1, 9);
      int strategy = r.range(0, 4);
      int rc = software_device_ops.ctx_params(c.hq->q, c.handle, level, strategy);
      // Valid parameters are always accepted, mid-stream too (node's
      // params() after a write), unless the context could not initialise.
      // A finished stream takes no parameters (zlib: Z_STREAM_ERROR).
      bool init_can_fail = (c.mode == ZLIB_GZIP || c.mode == ZLIB_DEFLATERAW) && c.wbits == 8;
      init_can_fail = init_can_fail || (c.mode == ZLIB_GZIP && !c.dict.empty());
      CHECK(rc == Z_OK || init_can_fail || c.finishing || c.tainted,
            "ctx_params(level %d, strategy %d) on a mode-%d context "
            "(level %d wbits %d mem %d strategy %d) failed: %d after %zu bytes in",
            level, strategy, c.mode, c.level, c.wbits, c.mem, c.strategy, rc, c.in.size());
      if (rc == Z_OK) {
        g_stats.params_ok++;
        c.level = level;
        c.strategy = strategy;
      }
      return;
    }
    default: {
      const char* msg = software_device_ops.ctx_message(c.hq->q, c.handle);
      CHECK(msg != nullptr && strnlen(msg, 4096) < 4096, "ctx_message returned no text");
      return;
    }
  }
}

// Write lengths for an inflate step over several writes, owned by the
// descriptor: they split src as the ABI requires, or now and then break it
// (a sum too large or too small, a zero-length write, a table whose size is
// not a multiple of 4), which the device must refuse with -EINVAL.
void make_lengths(Reader& r, Desc& d) {
  uint32_t left = d.sqe.src_len;
  std::vector<uint32_t> parts;
  while (left > 0) {
    uint32_t n = parts.size() == 63 || r.chance(4) ? left : 1 + r.below(left);
    parts.push_back(n);
    left -= n;
  }
  uint32_t bad = r.chance(6) ? 1 + r.below(4) : 0;
  if (bad == 1 && !parts.empty()) parts[r.below(uint32_t(parts.size()))] += 1;
  if (bad == 2) parts.insert(parts.begin() + r.below(uint32_t(parts.size()) + 1), 0);
  if (bad == 3 && !parts.empty() && parts.back() > 1) parts.back() -= 1;
  d.lengths.clear();
  uint64_t sum = 0;
  bool zero = false;
  for (uint32_t n : parts) {
    for (int b = 0; b < 4; b++) d.lengths.push_back(uint8_t(n >> (8 * b)));
    sum += n;
    zero = zero || n == 0;
  }
  if (bad == 4 && !d.lengths.empty()) d.lengths.pop_back();
  // An empty table is no table: writes of `arg` bytes.
  d.lengths_ok = d.lengths.empty() || (d.lengths.size() % 4 == 0 && !zero && sum == d.sqe.src_len);
  d.sqe.hist = d.lengths.empty() ? 0 : reinterpret_cast<uintptr_t>(d.lengths.data());
  d.sqe.hist_len = uint32_t(d.lengths.size());
}

// Fills one descriptor. `area` is this descriptor's lane on pinned queues.
void build(World& w, HQueue& hq, Reader& r, uint32_t lane_index, bool inline_run, Desc& d) {
  ua_sqe& s = d.sqe;
  s.version = r.chance(32) ? uint8_t(r.u8() | 2) : UA_DESC_VERSION;
  // Flush 0..10: mostly the values node uses, sometimes anything (deflate
  // refuses Z_TREES and above).
  static const uint8_t common_flush[] = {Z_NO_FLUSH,      Z_NO_FLUSH,   Z_NO_FLUSH,
                                         Z_PARTIAL_FLUSH, Z_SYNC_FLUSH, Z_FULL_FLUSH,
                                         Z_FINISH,        Z_FINISH,     Z_BLOCK};
  s.flush = r.chance(4) ? uint8_t(r.below(11)) : common_flush[r.below(sizeof(common_flush))];
  s.flags = hq.sva ? 0 : UA_SQE_PINNED;
  if (r.chance(16)) s.flags ^= UA_SQE_PINNED;
  s.flags |= uint8_t(r.below(4) << 1);  // FIRST / LAST: ignored by the software device
  s.arg = r.u64();
  // Several writes in one inflate step: a write size that splits src, or
  // any value (larger than src is one write; on other opcodes it is noise).
  if (r.chance(4)) {
    s.flags |= UA_SQE_WRITES;
    if (r.chance(2)) s.arg = 1 + r.below(4096);
  }
  if (inline_run) {
    s.version = UA_DESC_VERSION;  // run_inline takes process addresses, unchecked
    s.flags &= UA_SQE_WRITES;
  }

  // Opcode, and the context for stateful ones.
  uint32_t k = r.below(16);
  Ctx* ctx = nullptr;
  if (k >= 4 && k <= 11) {
    std::vector<Ctx*> free_ctxs;
    for (auto& c : w.ctxs) {
      if (c->hq == &hq && !c->busy) free_ctxs.push_back(c.get());
    }
    if (!free_ctxs.empty()) ctx = free_ctxs[r.below(uint32_t(free_ctxs.size()))];
  }
  if (ctx != nullptr) {
    d.wrong_direction = r.chance(12);
    bool deflate = (ctx->fam == FAM_DEFLATE) != d.wrong_direction;
    s.opcode = deflate ? UA_OP_DEFLATE : UA_OP_INFLATE;
    s.ctx = ctx->handle;
  } else if (k < 2) {
    s.opcode = UA_OP_NOP;
  } else if (k <= 11) {
    s.opcode = UA_OP_CRC32;  // also stands in when no context is free
  } else if (k == 12 && !inline_run) {
    s.opcode = r.chance(2) ? UA_OP_DEFLATE : UA_OP_INFLATE;  // no context
  } else if (k == 13) {
    s.opcode = r.chance(2) ? UA_OP_DEFLATE_BLOCK : UA_OP_INFLATE_ONESHOT;
  } else if (!inline_run) {
    s.opcode = random_unknown_opcode(r);
  } else {
    s.opcode = UA_OP_NOP;
  }

  // Lengths and contents.
  uint32_t area = hq.sva || inline_run ? 4096 : hq.lane / 2;
  uint32_t src_area_off = lane_index * hq.lane;
  uint32_t dst_area_off = src_area_off + area;
  // Anything goes for opcodes that ignore the history window. Block
  // compression reads it, and an inflate step over several writes reads
  // their lengths there: under SVA (and inline) the device trusts process
  // addresses, so the harness only names memory it owns there (none, or a
  // table of lengths below); on a pinned queue any offset must be checked
  // against the region.
  bool reads_lengths = s.opcode == UA_OP_INFLATE && (s.flags & UA_SQE_WRITES);
  bool reads_history = s.opcode == UA_OP_DEFLATE_BLOCK || reads_lengths;
  bool trusted = inline_run || (s.flags & UA_SQE_PINNED) == 0;
  if (reads_history && trusted) {
    s.hist = 0;
    s.hist_len = 0;
  } else if (reads_history) {
    // Either inside this descriptor's own source area (other lanes are
    // poisoned: reading them would be a real bug) or anywhere at all, which
    // the device must refuse unless it happens to fall inside the region.
    if (r.chance(2)) {
      s.hist = src_area_off + r.below(area / 2 + 1);
      s.hist_len = r.below(area / 2 + 1);
    } else {
      s.hist = r.u64();
      s.hist_len = r.u32();
      if (hq.region && region_contains(hq.region->size, s.hist, s.hist_len)) s.hist_len = 0;
    }
  } else {
    s.hist = r.chance(8) ? r.u64() : 0;
    s.hist_len = s.hist ? r.u32() : 0;
  }

  uint32_t src_len;
  const uint8_t* feed = nullptr;
  if (ctx != nullptr && ctx->fam == FAM_INFLATE && !d.wrong_direction) {
    size_t left = ctx->feed.size() - ctx->pos;
    src_len = pick_len(r, uint32_t(left < area ? left : area));
    feed = ctx->feed.data() + ctx->pos;
  } else {
    src_len = pick_len(r, area);
  }
  uint32_t dst_len = pick_len(r, area);
  // Mostly use flushes the way node does, so streams get far (rarely: any).
  if (ctx != nullptr && !d.wrong_direction && !r.chance(8)) {
    if (ctx->fam == FAM_INFLATE && s.flush == Z_FINISH && ctx->pos + src_len < ctx->feed.size()) {
      s.flush = Z_NO_FLUSH;  // node finishes with the last chunk only
    }
    if (ctx->fam == FAM_DEFLATE && ctx->finishing) s.flush = Z_FINISH;  // zlib takes nothing else
  }
  if (inline_run) {
    d.sqe.src_len = src_len;
    d.src = sva_buffer(r, src_len, &d.src_alloc);
    s.src = reinterpret_cast<uintptr_t>(d.src);
    d.sqe.dst_len = dst_len;
    d.dst = sva_buffer(r, dst_len, &d.dst_alloc);
    s.dst = reinterpret_cast<uintptr_t>(d.dst);
  } else {
    place(r, hq, src_area_off, area, src_len, true, d);
    place(r, hq, dst_area_off, area, dst_len, false, d);
  }
  if (reads_lengths && trusted && r.chance(2)) make_lengths(r, d);
  bool ranges_ok = false;
  d.want = inline_run ? (s.opcode == UA_OP_NOP || s.opcode == UA_OP_CRC32 ? 0
                         : is_stateless_op(s.opcode)                      ? kStateless
                                                                          : kCodec)
                      : contract_status(hq, s, &ranges_ok);
  if (inline_run) ranges_ok = true;
  if (d.want == kCodec && !d.lengths_ok) d.want = -EINVAL;
  // The host pointers are only meaningful when the device will use them as
  // such: flags and queue kind agree.
  d.valid_ranges = ranges_ok;
  if (!ranges_ok) {
    d.src = hq.sva ? d.src : nullptr;
    d.dst = hq.sva ? d.dst : nullptr;
  }
  if (d.src != nullptr && d.sqe.src_len > 0) {
    if (feed != nullptr) {
      std::memcpy(d.src, feed, d.sqe.src_len);
    } else {
      gen_data(r, d.src, d.sqe.src_len);
    }
  }
  if (d.src != nullptr) d.src_copy.assign(d.src, d.src + d.sqe.src_len);
  if (d.dst != nullptr && d.sqe.dst_len > 0) std::memset(d.dst, kDstFill, d.sqe.dst_len);
  if (d.want == kCodec || d.want == kCodecOrInvalid) {
    d.ctx = ctx;
    ctx->busy = true;
  }
}

// Whether a completed descriptor may have written its whole destination:
// stateless codecs use it as scratch, and so does ISA-L's inflate (it stores
// whole words past its last byte, and a step that zlib took over may hold
// what ISA-L decoded before its error). Only dst[0, produced) is output.
bool may_scribble(const Desc& d) {
  // A failed step over several writes reports only the output of the writes
  // before the failing one; the failing write's lies beyond, discarded.
  bool failed_writes = (d.sqe.flags & UA_SQE_WRITES) && d.cqe.status == UA_STATUS_CODEC;
  return is_stateless_op(d.sqe.opcode) ||
         (d.sqe.opcode == UA_OP_INFLATE && d.ctx != nullptr && (d.ctx->isal || failed_writes));
}

// After a completion: SVA sources unchanged, nothing written past produced,
// guards intact. (Pinned queues are checked region-wide by the caller.)
void check_sva_memory(Desc& d) {
  if (d.src_alloc != nullptr) {
    UNPOISON(d.src_alloc + d.sqe.src_len, kGuard);
    CHECK(d.sqe.src_len == 0 || std::memcmp(d.src_alloc, d.src_copy.data(), d.sqe.src_len) == 0,
          "the device wrote to a source buffer");
    for (uint32_t k = 0; k < kGuard; k++) {
      CHECK(d.src_alloc[d.sqe.src_len + k] == kGuardByte, "write past a source buffer");
    }
  }
  if (d.dst_alloc != nullptr) {
    UNPOISON(d.dst_alloc + d.sqe.dst_len, kGuard);
    for (uint32_t k = 0; k < kGuard; k++) {
      CHECK(d.dst_alloc[d.sqe.dst_len + k] == kGuardByte,
            "write past the end of a destination (dst_len %u)", d.sqe.dst_len);
    }
    // Stateless codecs may use the whole destination as scratch (word-wide
    // bit-buffer stores past the last byte, or a refusal part-way): bytes
    // past `produced` are unspecified, but nothing outside it changes (the
    // guard check above).
    bool scratch = may_scribble(d);
    for (uint32_t k = d.cqe.produced; !scratch && k < d.sqe.dst_len; k++) {
      CHECK(d.dst_alloc[k] == kDstFill,
            "destination byte %u written but only %u produced (opcode %u status %d detail %d "
            "dst_len %u)",
            k, d.cqe.produced, d.sqe.opcode, d.cqe.status, d.cqe.detail, d.sqe.dst_len);
    }
  }
}

void free_desc(Desc& d) {
  free(d.src_alloc);
  free(d.dst_alloc);
  d.src_alloc = d.dst_alloc = nullptr;
}

void run_batch(World& w, Reader& r) {
  HQueue& hq = w.queues[r.below(2)];
  uint32_t count = 1 + r.below(hq.ring.entries);
  std::vector<Desc> batch(count);
  for (uint32_t k = 0; k < count; k++) {
    batch[k].sqe.tag = hq.next_tag++;
    build(w, hq, r, k, false, batch[k]);
  }
  // Everything the device may not touch is poisoned while in flight.
  std::vector<uint8_t> snapshot;
  if (!hq.sva) {
    snapshot.assign(hq.region->base, hq.region->base + hq.region->size);
    POISON(hq.region->base, hq.region->size);
    for (auto& d : batch) {
      if (!d.valid_ranges) continue;
      if (d.sqe.src_len) UNPOISON(hq.region->base + d.sqe.src, d.sqe.src_len);
      if (d.sqe.dst_len) UNPOISON(hq.region->base + d.sqe.dst, d.sqe.dst_len);
      bool reads_hist = d.sqe.opcode == UA_OP_DEFLATE_BLOCK ||
                        (d.sqe.opcode == UA_OP_INFLATE && (d.sqe.flags & UA_SQE_WRITES));
      if (reads_hist && d.sqe.hist_len &&
          region_contains(hq.region->size, d.sqe.hist, d.sqe.hist_len)) {
        UNPOISON(hq.region->base + d.sqe.hist, d.sqe.hist_len);
      }
    }
  } else {
    for (auto& d : batch) {
      if (d.src_alloc) POISON(d.src_alloc + d.sqe.src_len, kGuard);
      if (d.dst_alloc) POISON(d.dst_alloc + d.sqe.dst_len, kGuard);
    }
  }
  g_stats.batches++;
  submit(hq, batch, r);
  reap_all(hq, batch);
  if (!hq.sva) UNPOISON(hq.region->base, hq.region->size);
  for (auto& d : batch) {
    check_completion(hq, d, d.cqe, false);
    if (hq.sva) check_sva_memory(d);
    // The produced bytes are allowed changes (the whole destination for
    // stateless ops and failed inflate steps, see may_scribble); everything
    // else must match.
    uint32_t allowed = may_scribble(d) ? d.sqe.dst_len : d.cqe.produced;
    if (!hq.sva && d.valid_ranges && allowed > 0) {
      std::memcpy(snapshot.data() + d.sqe.dst, hq.region->base + d.sqe.dst, allowed);
    }
  }
  if (!hq.sva && std::memcmp(snapshot.data(), hq.region->base, snapshot.size()) != 0) {
    size_t at = 0;
    while (snapshot[at] == hq.region->base[at]) at++;
    for (auto& d : batch) {
      if (d.valid_ranges && at >= d.sqe.dst && at < d.sqe.dst + d.sqe.dst_len) {
        fail(
            "the device wrote region byte %zu, byte %llu of a destination of %u (opcode %u "
            "status %d detail %d produced %u)",
            at, (unsigned long long)(at - d.sqe.dst), d.sqe.dst_len, d.sqe.opcode, d.cqe.status,
            d.cqe.detail, d.cqe.produced);
      }
    }
    fail("the device wrote region byte %zu outside every descriptor's dst[0, produced)", at);
  }
  for (auto& d : batch) {
    if (d.ctx) d.ctx->busy = false;
    free_desc(d);
  }
}

void run_inline(World& w, Reader& r) {
  HQueue& hq = w.queues[1];
  Desc d;
  d.sqe.tag = hq.next_tag++;
  build(w, hq, r, 0, true, d);
  if (d.src_alloc) POISON(d.src_alloc + d.sqe.src_len, kGuard);
  if (d.dst_alloc) POISON(d.dst_alloc + d.sqe.dst_len, kGuard);
  ua_cqe cqe{};
  g_stats.inline_runs++;
  software_device_ops.run_inline(hq.q, &d.sqe, &cqe);
  d.cqe = cqe;
  check_completion(hq, d, cqe, true);
  check_sva_memory(d);
  if (d.ctx) d.ctx->busy = false;
  free_desc(d);
}

bool open_queue(HQueue& hq, bool sva, uint32_t entries, uint32_t workers, uint32_t region_bytes) {
  hq.sva = sva;
  if (ring_init(&hq.ring, entries) != 0) fail("ring_init");
  if (!sva) {
    hq.region = pinned_region_create(region_bytes);
    if (!hq.region) fail("pinned_region_create(%u): %s", region_bytes, strerror(errno));
    hq.lane = region_bytes / hq.ring.entries;
    std::memset(hq.region->base, 0x3c, region_bytes);
  }
  DeviceConfig cfg{workers, sva, &hq.ring, hq.region};
  int rc = software_device_ops.open(&cfg, &hq.q, &hq.efd);
  CHECK(rc == 0, "software device open: %d", rc);
  return true;
}

void close_queue(HQueue& hq) {
  software_device_ops.close(hq.q);
  CHECK(hq.ring.cq_tail.load() == hq.ring.cq_head.load(), "completions left on the CQ at close");
  CHECK(hq.ring.sq_tail.load() == hq.ring.sq_head.load(), "entries left on the SQ at close");
  ring_free(&hq.ring);
  hq.region.reset();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Reader r{data, size};
  World w;
  uint32_t entries = 2u << r.below(4);                // 2..16
  uint32_t workers = 1 + r.below(3);                  // 1..3 per queue
  uint32_t region_bytes = 4096u * (4 + r.below(13));  // 16..64 KiB
  open_queue(w.queues[0], false, entries, workers, region_bytes);
  open_queue(w.queues[1], true, entries, 1 + r.below(3), 0);
  g_short_log = r.chance(4);
  isal_inflate_set_replay_bytes(g_short_log ? 1 + r.below(256) : 0);

  for (int steps = 0; steps < 64 && !r.empty(); steps++) {
    uint32_t action = r.below(16);
    if (action < 3) {
      open_context(w, r);
    } else if (action < 5) {
      context_op(w, r, r.below(4));
    } else if (action < 6) {
      run_inline(w, r);
    } else {
      run_batch(w, r);
    }
  }
  while (!w.ctxs.empty()) close_context(w, w.ctxs.size() - 1, "end");
  close_queue(w.queues[0]);
  close_queue(w.queues[1]);
  return 0;
}

#ifndef UACCEL_LIBFUZZER
/*
 * Standalone driver: device_fuzz [-n iterations] [-s seed] [-t seconds]
 * [-m max-input-bytes] [-v] [files...]. Iteration i's input depends only on
 * (seed, i), so a failure is reproduced by the same -s and -n.
 */
int main(int argc, char** argv) {
  uint64_t iterations = 1000, seed = 1;
  double seconds = 0;
  size_t max_len = 4096;
  int opt;
  while ((opt = getopt(argc, argv, "n:s:t:m:w:v")) != -1) {
    switch (opt) {
      case 'n':
        iterations = strtoull(optarg, nullptr, 10);
        break;
      case 's':
        seed = strtoull(optarg, nullptr, 10);
        break;
      case 't':
        seconds = strtod(optarg, nullptr);
        break;
      case 'm':
        max_len = strtoull(optarg, nullptr, 10);
        break;
      case 'w':
        g_wait_ms = int(strtol(optarg, nullptr, 10));
        break;
      case 'v':
        g_verbose = true;
        break;
      default:
        fprintf(stderr,
                "usage: %s [-n iterations] [-s seed] [-t seconds] [-m max-bytes] [-v] [files...]\n",
                argv[0]);
        return 2;
    }
  }
  if (optind < argc) {
    for (int k = optind; k < argc; k++) {
      FILE* f = fopen(argv[k], "rb");
      if (!f) {
        perror(argv[k]);
        return 2;
      }
      std::vector<uint8_t> buf;
      uint8_t chunk[4096];
      size_t got;
      while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
        buf.insert(buf.end(), chunk, chunk + got);
      fclose(f);
      LLVMFuzzerTestOneInput(buf.data(), buf.size());
      printf("device_fuzz: %s ok\n", argv[k]);
    }
    return 0;
  }
  auto t0 = std::chrono::steady_clock::now();
  uint64_t done = 0;
  size_t bytes = 0;
  std::vector<uint8_t> buf;
  for (uint64_t i = 0; i < iterations; i++) {
    uint64_t s = seed * 0x100000001b3ull + i;
    size_t len = size_t(splitmix(&s) % (max_len + 1));
    buf.resize(len);
    for (size_t k = 0; k < len; k++) buf[k] = uint8_t(splitmix(&s) >> 24);
    if (g_verbose) fprintf(stderr, "input %llu (%zu bytes)\n", (unsigned long long)i, len);
    LLVMFuzzerTestOneInput(buf.data(), buf.size());
    done++;
    bytes += len;
    double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (seconds > 0 && elapsed >= seconds) break;
  }
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  printf("device_fuzz: %llu inputs (%zu bytes) passed in %.2fs, seed %llu\n",
         (unsigned long long)done, bytes, elapsed, (unsigned long long)seed);
  const Stats& t = g_stats;
  printf(
      "  %llu batches, %llu inline runs, %llu completions: %llu ok, %llu -EFAULT, %llu -EINVAL, "
      "%llu -EOPNOTSUPP; codec steps %llu ok / %llu codec errors, %llu stream ends\n"
      "  round trips: %llu deflate contexts (%llu bytes), %llu inflate contexts (%llu bytes); "
      "%llu params accepted\n"
      "  ISA-L: %llu inflate steps, %llu stretches (%llu past a header zlib rejects) and %llu "
      "errors checked against zlib alone (%llu past a cut-short log, worded otherwise)\n"
      "  write lengths: %llu steps over a table of several writes, %llu malformed tables "
      "refused\n",
      (unsigned long long)t.batches, (unsigned long long)t.inline_runs,
      (unsigned long long)t.completions, (unsigned long long)t.ok, (unsigned long long)t.efault,
      (unsigned long long)t.einval, (unsigned long long)t.eopnotsupp,
      (unsigned long long)t.codec_ok, (unsigned long long)t.codec_err,
      (unsigned long long)t.stream_ends, (unsigned long long)t.deflate_checks,
      (unsigned long long)t.deflate_bytes, (unsigned long long)t.inflate_checks,
      (unsigned long long)t.inflate_bytes, (unsigned long long)t.params_ok,
      (unsigned long long)t.isal_steps, (unsigned long long)t.twin_checks,
      (unsigned long long)t.twin_lenient, (unsigned long long)t.twin_errors,
      (unsigned long long)t.twin_mapped, (unsigned long long)t.length_steps,
      (unsigned long long)t.length_refusals);
  return 0;
}
#endif
