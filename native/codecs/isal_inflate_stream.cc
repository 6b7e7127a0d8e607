#include "isal_inflate_stream.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <vector>

#include "isal_loader.h"

namespace uaccel {

#if UACCEL_HAVE_ISAL

namespace {

// Enough for every member a test or an HTTP body is likely to corrupt, small
// enough that a stream's log never costs more than a zlib deflate state.
// Larger members drop their log at this size and map ISA-L's error instead.
constexpr size_t kReplayLogBytes = 256 << 10;
std::atomic<size_t> g_replay_bytes{kReplayLogBytes};

}  // namespace

struct IsalInflateStream {
  const IsalApi* api;
  inflate_state state;
  std::vector<uint8_t> log;
  bool log_overflowed = false;
  size_t log_limit = kReplayLogBytes;
  uint64_t delivered = 0;
};

bool isal_inflate_available() {
  const char* opt = getenv("UACCEL_ISAL");
  if (opt != nullptr && strcmp(opt, "0") == 0) return false;
  return isal_api() != nullptr;
}

namespace {

// Freed states, reused by the next stream: short streams (HTTP bodies) would
// otherwise fault in fresh pages for ~85 KiB of tables each, which costs
// them more than their decoding. Bounded; the lock is held only to push or
// pop (creation runs on device threads, destruction on the JS thread).
constexpr size_t kCachedStates = 16;
std::mutex g_cache_lock;
IsalInflateStream* g_cache[kCachedStates];  // no destructor: kept to the end
size_t g_cached = 0;

}  // namespace

IsalInflateStream* isal_inflate_create() {
  const IsalApi* api = isal_api();
  if (api == nullptr) return nullptr;
  {
    std::lock_guard<std::mutex> guard(g_cache_lock);
    if (g_cached > 0) return g_cache[--g_cached];
  }
  // Default-initialised, not zeroed: isal_inflate_init sets what ISA-L reads.
  auto* s = new (std::nothrow) IsalInflateStream;
  if (s == nullptr) return nullptr;
  s->api = api;
  return s;
}

void isal_inflate_destroy(IsalInflateStream* s) {
  if (s == nullptr) return;
  isal_inflate_drop_log(s);
  {
    std::lock_guard<std::mutex> guard(g_cache_lock);
    if (g_cached < kCachedStates) {
      g_cache[g_cached++] = s;
      return;
    }
  }
  delete s;
}

void isal_inflate_begin(IsalInflateStream* s, int format) {
  s->api->inflate_init(&s->state);
  // The header is zlib's; ISA-L decodes the deflate data and checks the
  // trailer that follows it.
  switch (format) {
    case ISAL_BODY_GZIP:
      s->state.crc_flag = ISAL_GZIP_NO_HDR_VER;
      break;
    case ISAL_BODY_ZLIB:
      s->state.crc_flag = ISAL_ZLIB_NO_HDR_VER;
      break;
    default:
      s->state.crc_flag = ISAL_DEFLATE;
      break;
  }
  s->log.clear();
  s->log_overflowed = false;
  s->log_limit = g_replay_bytes.load(std::memory_order_relaxed);
  s->delivered = 0;
}

int isal_inflate_step(IsalInflateStream* s, const uint8_t* src, uint32_t src_len, uint8_t* dst,
                      uint32_t dst_len, uint32_t* consumed, uint32_t* produced) {
  inflate_state* st = &s->state;
  st->next_in = const_cast<uint8_t*>(src);
  st->avail_in = src_len;
  st->next_out = dst;
  st->avail_out = dst_len;
  int rc = s->api->inflate(st);
  uint32_t in = src_len - st->avail_in;
  uint32_t out = dst_len - st->avail_out;
  st->next_in = nullptr;
  st->next_out = nullptr;
  if (rc < 0) return rc;
  bool end = st->block_state == ISAL_BLOCK_FINISH;
  if (end) {
    // A raw stream's end leaves whole bytes read ahead in the bit buffer;
    // zlib stops at the byte holding the last bit, and whatever follows is
    // the caller's (node counts it out of bytesWritten).
    uint32_t ahead = std::min<uint32_t>(uint32_t(st->read_in_length) / 8, in);
    in -= ahead;
    st->read_in_length -= int32_t(ahead * 8);
  }
  if (!s->log_overflowed) {
    if (s->log.size() + in > s->log_limit) {
      s->log_overflowed = true;
      isal_inflate_drop_log(s);
    } else {
      s->log.insert(s->log.end(), src, src + in);
    }
  }
  s->delivered += out;
  *consumed = in;
  *produced = out;
  return end ? ISAL_STEP_END : ISAL_STEP_MORE;
}

bool isal_inflate_log(const IsalInflateStream* s, const uint8_t** data, size_t* len,
                      uint64_t* delivered) {
  if (s->log_overflowed) return false;
  *data = s->log.data();
  *len = s->log.size();
  *delivered = s->delivered;
  return true;
}

bool isal_inflate_holding(const IsalInflateStream* s) {
  const inflate_state& st = s->state;
  switch (st.block_state) {
    case ISAL_BLOCK_INPUT_DONE:
    case ISAL_CHECKSUM_CHECK:
      return false;  // every symbol decoded; only the trailer is left
    default:
      // Bits it read but has not decoded (a block header waiting for its
      // end holds none once the input is used up).
      return st.read_in_length > 0 || st.tmp_in_size > 0;
  }
}

void isal_inflate_drop_log(IsalInflateStream* s) { std::vector<uint8_t>().swap(s->log); }

void isal_inflate_set_replay_bytes(size_t bytes) {
  g_replay_bytes.store(bytes == 0 ? kReplayLogBytes : bytes, std::memory_order_relaxed);
}

const char* isal_inflate_error_text(int rc) {
  switch (rc) {
    case ISAL_INVALID_SYMBOL:
      return "invalid literal/length code";
    case ISAL_INVALID_LOOKBACK:
      return "invalid distance too far back";
    case ISAL_INCORRECT_CHECKSUM:
      return "incorrect data check";
    default:
      return "invalid block type";
  }
}

#else  // !UACCEL_HAVE_ISAL

struct IsalInflateStream {};

bool isal_inflate_available() { return false; }
IsalInflateStream* isal_inflate_create() { return nullptr; }
void isal_inflate_destroy(IsalInflateStream*) {}
void isal_inflate_begin(IsalInflateStream*, int) {}
int isal_inflate_step(IsalInflateStream*, const uint8_t*, uint32_t, uint8_t*, uint32_t, uint32_t*,
                      uint32_t*) {
  return -1;
}
bool isal_inflate_log(const IsalInflateStream*, const uint8_t**, size_t*, uint64_t*) {
  return false;
}
bool isal_inflate_holding(const IsalInflateStream*) { return false; }
void isal_inflate_drop_log(IsalInflateStream*) {}
void isal_inflate_set_replay_bytes(size_t) {}
const char* isal_inflate_error_text(int) { return "invalid block type"; }

#endif

}  // namespace uaccel
