#include "zlib_stream.h"

#include <algorithm>
#include <cerrno>
#include <climits>

#include "isal_inflate_stream.h"
#include "stateless_deflate.h"
#include "zlib_memory.h"

namespace uaccel {

static constexpr uint8_t kGzipId1 = 0x1f;
static constexpr uint8_t kGzipId2 = 0x8b;

static bool is_deflate_mode(int mode) {
  return mode == ZLIB_DEFLATE || mode == ZLIB_GZIP || mode == ZLIB_DEFLATERAW;
}

static int fail(ZlibStream* zs, int err, const char* fallback) {
  zs->err = err;
  zs->message = zs->strm.msg != nullptr ? zs->strm.msg : fallback;
  return err;
}

static int set_dictionary(ZlibStream* zs) {
  if (zs->dictionary.empty()) return Z_OK;
  int err = Z_OK;
  if (is_deflate_mode(zs->mode)) {
    err = deflateSetDictionary(&zs->strm, zs->dictionary.data(), zs->dictionary.size());
  } else if (zs->mode == ZLIB_INFLATERAW) {
    // Raw streams carry no dictionary id, so it must be set up front; the
    // wrapped formats ask for it with Z_NEED_DICT instead.
    err = inflateSetDictionary(&zs->strm, zs->dictionary.data(), zs->dictionary.size());
  }
  if (err != Z_OK) return fail(zs, err, "Failed to set dictionary");
  return Z_OK;
}

// zlib allocates ~256 KiB of state per deflate stream; like node we defer it
// to the first step so that streams which are opened and never written cost
// nothing, and so the allocation happens off the JavaScript thread.
static int ensure_initialized(ZlibStream* zs) {
  if (zs->initialized) return Z_OK;
  zs->initialized = true;
  int err;
  if (is_deflate_mode(zs->mode)) {
    err = deflateInit2(&zs->strm, zs->level, Z_DEFLATED, zs->window_bits, zs->mem_level,
                       zs->strategy);
  } else {
    err = inflateInit2(&zs->strm, zs->window_bits);
  }
  if (err != Z_OK) {
    zs->mode = ZLIB_NONE;
    return fail(zs, err, "Init error");
  }
  return set_dictionary(zs);
}

ZlibStream* zlib_stream_create(const ZlibParams* p) {
  auto* zs = new ZlibStream();
  zs->strm.zalloc = zlib_memory_alloc;
  zs->strm.zfree = zlib_memory_free;
  zs->mode = p->mode;
  zs->level = p->level;
  zs->mem_level = p->mem_level;
  zs->strategy = p->strategy;
  zs->window_bits = p->window_bits;
  switch (p->mode) {
    case ZLIB_GZIP:
    case ZLIB_GUNZIP:
      zs->window_bits += 16;
      break;
    case ZLIB_UNZIP:
      zs->window_bits += 32;
      break;
    case ZLIB_DEFLATERAW:
    case ZLIB_INFLATERAW:
      zs->window_bits *= -1;
      break;
  }
  if (p->dictionary_len > 0)
    zs->dictionary.assign(p->dictionary, p->dictionary + p->dictionary_len);
  // ISA-L decodes with a 32 KiB window and no preset dictionary; smaller
  // windows and dictionaries keep zlib's exact semantics.
  bool inflating = p->mode == ZLIB_INFLATE || p->mode == ZLIB_GUNZIP ||
                   p->mode == ZLIB_INFLATERAW || p->mode == ZLIB_UNZIP;
  bool window_ok = p->window_bits == 15 || (p->window_bits == 0 && p->mode != ZLIB_INFLATERAW);
  zs->isal_allowed = inflating && window_ok && p->dictionary_len == 0 && isal_inflate_available();
  zs->phase = zs->isal_allowed ? PHASE_HEADER : PHASE_ZLIB;
  return zs;
}

void zlib_stream_destroy(ZlibStream* zs) {
  if (zs == nullptr) return;
  {
    std::lock_guard<std::mutex> guard(zs->lock);
    if (zs->initialized && zs->mode != ZLIB_NONE) {
      if (is_deflate_mode(zs->mode)) {
        deflateEnd(&zs->strm);
      } else {
        inflateEnd(&zs->strm);
      }
    }
    isal_inflate_destroy(zs->isal);
  }
  delete zs;
}

int zlib_stream_reset(ZlibStream* zs) {
  std::lock_guard<std::mutex> guard(zs->lock);
  zs->message = nullptr;
  int err = ensure_initialized(zs);
  if (err != Z_OK) return fail(zs, err, "Failed to init stream before reset");
  zs->err = Z_OK;
  switch (zs->mode) {
    case ZLIB_DEFLATE:
    case ZLIB_DEFLATERAW:
    case ZLIB_GZIP:
      err = deflateReset(&zs->strm);
      break;
    case ZLIB_INFLATE:
    case ZLIB_INFLATERAW:
    case ZLIB_GUNZIP:
      err = inflateReset(&zs->strm);
      break;
    default:
      break;
  }
  if (err != Z_OK) return fail(zs, err, "Failed to reset stream");
  if (zs->mode != ZLIB_UNZIP && !is_deflate_mode(zs->mode)) {
    // zlib is back at a stream's start, so ISA-L may take the next body.
    zs->phase = zs->isal_allowed ? PHASE_HEADER : PHASE_ZLIB;
    zs->header_bytes = 0;
    std::vector<uint8_t>().swap(zs->prefix);
    zs->prefix_at = 0;
    if (zs->isal != nullptr) isal_inflate_drop_log(zs->isal);
  }
  return set_dictionary(zs);
}

int zlib_stream_params(ZlibStream* zs, int level, int strategy) {
  std::lock_guard<std::mutex> guard(zs->lock);
  zs->message = nullptr;
  int err = ensure_initialized(zs);
  if (err != Z_OK) return err;
  err = Z_OK;
  // node applies new parameters to deflate and raw deflate only; for gzip
  // params() is just the sync flush that precedes it.
  if (zs->mode == ZLIB_DEFLATE || zs->mode == ZLIB_DEFLATERAW) {
    // deflateParams runs deflate(Z_BLOCK) when the stream has seen input, and
    // deflate rejects a null next_out with Z_STREAM_ERROR; steps leave
    // next_out null, so params() after any write failed where node succeeds.
    // An empty, non-null output makes that inner call a no-op (Z_BUF_ERROR,
    // as in node after its sync flush) and can never be written through. The
    // last step's input is no longer ours either: leave none (a stale
    // avail_in with a null next_in is another Z_STREAM_ERROR).
    static uint8_t no_output;
    zs->strm.next_in = nullptr;
    zs->strm.avail_in = 0;
    zs->strm.next_out = &no_output;
    zs->strm.avail_out = 0;
    err = deflateParams(&zs->strm, level, strategy);
    zs->strm.next_out = nullptr;
  }
  if (err != Z_OK && err != Z_BUF_ERROR) return fail(zs, err, "Failed to set parameters");
  zs->level = level;
  zs->strategy = strategy;
  return Z_OK;
}

const char* zlib_stream_message(ZlibStream* zs) {
  std::lock_guard<std::mutex> guard(zs->lock);
  return zs->message != nullptr ? zs->message : "Zlib error";
}

// Mirrors node:zlib's per-write step, including gzip-magic sniffing for
// unzip, the retry with the configured dictionary on Z_NEED_DICT, and the
// continuation into further gzip members (trailing zero bytes are padding).
static void run_inflate(ZlibStream* zs) {
  const Bytef* next_header_byte = nullptr;
  if (zs->mode == ZLIB_UNZIP) {
    if (zs->strm.avail_in > 0) next_header_byte = zs->strm.next_in;
    if (zs->gzip_id_bytes_read == 0 && next_header_byte != nullptr) {
      if (*next_header_byte == kGzipId1) {
        zs->gzip_id_bytes_read = 1;
        next_header_byte++;
        if (zs->strm.avail_in == 1) next_header_byte = nullptr;  // only byte already read
      } else {
        zs->mode = ZLIB_INFLATE;
        next_header_byte = nullptr;
      }
    }
    if (zs->gzip_id_bytes_read == 1 && next_header_byte != nullptr) {
      if (*next_header_byte == kGzipId2) {
        zs->gzip_id_bytes_read = 2;
        zs->mode = ZLIB_GUNZIP;
      } else {
        zs->mode = ZLIB_INFLATE;
      }
    }
  }
  zs->err = inflate(&zs->strm, zs->flush);
  if (zs->mode != ZLIB_INFLATERAW && zs->err == Z_NEED_DICT && !zs->dictionary.empty()) {
    zs->err = inflateSetDictionary(&zs->strm, zs->dictionary.data(), zs->dictionary.size());
    if (zs->err == Z_OK) {
      zs->err = inflate(&zs->strm, zs->flush);
    } else if (zs->err == Z_DATA_ERROR) {
      // Both calls report Z_DATA_ERROR; keep bad dictionary apart from bad input.
      zs->err = Z_NEED_DICT;
    }
  }
  while (zs->strm.avail_in > 0 && zs->mode == ZLIB_GUNZIP && zs->err == Z_STREAM_END &&
         zs->strm.next_in[0] != 0x00) {
    zs->err = inflateReset(&zs->strm);
    if (zs->err != Z_OK) break;
    zs->err = inflate(&zs->strm, zs->flush);
  }
}

// Feeds zlib the bytes ISA-L had consumed when zlib took over, before any new
// input. False when the step is over: dst filled first, or zlib failed.
static bool feed_prefix(ZlibStream* zs) {
  if (zs->prefix_at >= zs->prefix.size()) return true;
  Bytef* in = zs->strm.next_in;
  uInt avail = zs->strm.avail_in;
  zs->strm.next_in = zs->prefix.data() + zs->prefix_at;
  zs->strm.avail_in = uInt(zs->prefix.size() - zs->prefix_at);
  zs->err = inflate(&zs->strm, Z_NO_FLUSH);
  zs->prefix_at = zs->prefix.size() - zs->strm.avail_in;
  zs->strm.next_in = in;
  zs->strm.avail_in = avail;
  bool done = zs->prefix_at >= zs->prefix.size();
  if (done) {
    std::vector<uint8_t>().swap(zs->prefix);
    zs->prefix_at = 0;
  }
  return done && (zs->err == Z_OK || zs->err == Z_BUF_ERROR);
}

enum TakeOver { TAKEN_OVER, TAKE_OVER_FAILED, NO_REPLAY };

// Hands the current member to zlib for the rest of the stream. zlib's own
// stream stands where ISA-L began (just past the member's header, or at the
// start of a raw stream): replaying the bytes ISA-L consumed since, and
// dropping the output ISA-L already delivered, brings it to exactly the
// state node's zlib would be in; what it has not read yet becomes the
// prefix of its next input.
static TakeOver zlib_take_over(ZlibStream* zs) {
  const uint8_t* log = nullptr;
  size_t log_len = 0;
  uint64_t delivered = 0;
  if (!isal_inflate_log(zs->isal, &log, &log_len, &delivered)) return NO_REPLAY;
  zs->phase = PHASE_ZLIB;
  Bytef* in = zs->strm.next_in;
  uInt avail_in = zs->strm.avail_in;
  Bytef* out = zs->strm.next_out;
  uInt avail_out = zs->strm.avail_out;
  uint8_t scratch[16 << 10];
  zs->strm.next_in = const_cast<Bytef*>(log);
  zs->strm.avail_in = uInt(log_len);
  int err = Z_OK;
  while (delivered > 0) {
    uInt room = uInt(std::min<uint64_t>(delivered, sizeof(scratch)));
    zs->strm.next_out = scratch;
    zs->strm.avail_out = room;
    err = inflate(&zs->strm, Z_NO_FLUSH);
    uInt got = room - zs->strm.avail_out;
    delivered -= got;
    if ((err != Z_OK && err != Z_BUF_ERROR) || got == 0) break;
  }
  zs->prefix.assign(zs->strm.next_in, zs->strm.next_in + zs->strm.avail_in);
  zs->prefix_at = 0;
  isal_inflate_drop_log(zs->isal);
  zs->strm.next_in = in;
  zs->strm.avail_in = avail_in;
  zs->strm.next_out = out;
  zs->strm.avail_out = avail_out;
  if (err != Z_OK && err != Z_BUF_ERROR) {
    // zlib rejects bytes ISA-L accepted: node fails here, a step earlier.
    zs->err = err;
    return TAKE_OVER_FAILED;
  }
  if (delivered > 0) {
    // ISA-L delivered output zlib cannot make from the same bytes: no
    // decoder does that, but if one did, fail rather than emit it twice.
    zs->err = Z_DATA_ERROR;
    return TAKE_OVER_FAILED;
  }
  return TAKEN_OVER;
}

static void run_inflate_zlib(ZlibStream* zs) {
  if (feed_prefix(zs)) run_inflate(zs);
}

// ISA-L hands the member to zlib, which replays the log and decodes on; the
// caller decides what a member too long to replay (NO_REPLAY) means.
static TakeOver hand_to_zlib(ZlibStream* zs) {
  TakeOver t = zlib_take_over(zs);
  if (t == TAKEN_OVER) run_inflate_zlib(zs);
  return t;
}

// A member too long to replay fails where ISA-L did, in zlib's words.
static void fail_unreplayed(ZlibStream* zs, int isal_rc, const char** mapped) {
  zs->phase = PHASE_ZLIB;  // zlib refuses what follows
  zs->err = Z_DATA_ERROR;
  *mapped = isal_inflate_error_text(isal_rc);
}

static bool start_body(ZlibStream* zs, int format) {
  if (zs->isal == nullptr) zs->isal = isal_inflate_create();
  if (zs->isal == nullptr) return false;
  isal_inflate_begin(zs->isal, format);
  zs->phase = PHASE_BODY;
  return true;
}

// One inflate step with ISA-L decoding member bodies: zlib reads each header
// (with Z_BLOCK, which stops right after it), ISA-L the deflate data and the
// trailer, and node's loop over further gzip members is replayed here. On
// anything ISA-L would decide differently from zlib (an error, Z_BLOCK
// flushes, small zlib windows) zlib takes over for good. Returns whether
// ISA-L decoded part of the step; *mapped is set when an ISA-L error could
// not be replayed through zlib and stands for zlib's.
static bool run_inflate_isal(ZlibStream* zs, const char** mapped) {
  bool used = false;
  // Z_BLOCK and Z_TREES stop at block boundaries, which only zlib reports;
  // values past them are zlib's to refuse.
  bool block_flush = zs->flush < Z_NO_FLUSH || zs->flush > Z_FINISH;
  for (;;) {
    switch (zs->phase) {
      case PHASE_HEADER: {
        if (block_flush) {
          zs->phase = PHASE_ZLIB;
          run_inflate_zlib(zs);
          return used;
        }
        if (zs->mode == ZLIB_INFLATERAW) {
          if (!start_body(zs, ISAL_BODY_RAW)) {
            zs->phase = PHASE_ZLIB;
            run_inflate_zlib(zs);
            return used;
          }
          continue;
        }
        if (zs->header_bytes == 0 && zs->strm.avail_in > 0) zs->header_first = zs->strm.next_in[0];
        uInt before = zs->strm.avail_in;
        int flush = zs->flush;
        zs->flush = Z_BLOCK;
        run_inflate(zs);
        zs->flush = flush;
        zs->header_bytes += before - zs->strm.avail_in;
        if (zs->err != Z_OK && zs->err != Z_BUF_ERROR) {
          zs->phase = PHASE_ZLIB;  // zlib's verdict on the header is node's
          return used;
        }
        if (!(zs->strm.data_type & 128)) {
          // The header continues in the next write.
          if (flush == Z_FINISH) zs->err = Z_BUF_ERROR;
          return used;
        }
        // The member's own header tells its format: unzip's zlib detects it
        // afresh for every member, so a zlib stream may follow a gzip one.
        bool gzip = zs->header_first == kGzipId1;
        // zlib enforces a zlib header's smaller window in ways of its own.
        if ((!gzip && (zs->header_first >> 4) != 7) ||
            !start_body(zs, gzip ? ISAL_BODY_GZIP : ISAL_BODY_ZLIB)) {
          zs->phase = PHASE_ZLIB;
          run_inflate_zlib(zs);
          return used;
        }
        continue;
      }
      case PHASE_BODY: {
        uint32_t consumed = 0;
        uint32_t produced = 0;
        // A member too long to replay: ISA-L goes on, as for Z_NO_FLUSH.
        if (block_flush && hand_to_zlib(zs) != NO_REPLAY) return used;
        int rc = isal_inflate_step(zs->isal, zs->strm.next_in, zs->strm.avail_in, zs->strm.next_out,
                                   zs->strm.avail_out, &consumed, &produced);
        if (rc < 0) {
          if (hand_to_zlib(zs) == NO_REPLAY) fail_unreplayed(zs, rc, mapped);
          return used;
        }
        used = true;
        zs->strm.next_in += consumed;
        zs->strm.avail_in -= consumed;
        zs->strm.next_out += produced;
        zs->strm.avail_out -= produced;
        if (rc == ISAL_STEP_MORE) {
          zs->err = zs->flush == Z_FINISH ? Z_BUF_ERROR : Z_OK;
          // Stopping with input and room left is not a state zlib has. And
          // at a flush node's zlib has emitted all its input determines (a
          // stream cut short and read with finishFlush Z_SYNC_FLUSH, say),
          // or, finishing, found the error in it, where ISA-L may keep the
          // last few bits back: zlib decodes them.
          bool stalled = zs->strm.avail_in > 0 && zs->strm.avail_out > 0;
          bool flushing = zs->flush != Z_NO_FLUSH;
          bool held = flushing && zs->strm.avail_in == 0 && zs->strm.avail_out > 0 &&
                      isal_inflate_holding(zs->isal);
          // Unreplayed, a held tail stays with ISA-L; a stall fails.
          if ((stalled || held) && hand_to_zlib(zs) == NO_REPLAY && stalled) {
            fail_unreplayed(zs, -1, mapped);
          }
          return used;
        }
        isal_inflate_drop_log(zs->isal);
        zs->phase = PHASE_END;
        continue;
      }
      case PHASE_END:
        // As node's loop after Z_STREAM_END: a further gzip member starts
        // unless what follows is zero padding.
        zs->err = Z_STREAM_END;
        if (zs->strm.avail_in > 0 && zs->mode == ZLIB_GUNZIP && zs->strm.next_in[0] != 0x00) {
          zs->err = inflateReset(&zs->strm);
          if (zs->err != Z_OK) {
            zs->phase = PHASE_ZLIB;
            return used;
          }
          zs->phase = PHASE_HEADER;
          zs->header_bytes = 0;
          continue;
        }
        return used;
      default:
        run_inflate_zlib(zs);
        return used;
    }
  }
}

// The same acceptance rules node applies after each write.
static bool check_error(ZlibStream* zs) {
  switch (zs->err) {
    case Z_OK:
    case Z_BUF_ERROR:
      if (zs->strm.avail_out != 0 && zs->flush == Z_FINISH) {
        fail(zs, zs->err, "unexpected end of file");
        return false;
      }
      return true;
    case Z_STREAM_END:
      return true;
    case Z_NEED_DICT:
      fail(zs, zs->err, zs->dictionary.empty() ? "Missing dictionary" : "Bad dictionary");
      return false;
    default:
      fail(zs, zs->err, "Zlib error");
      return false;
  }
}

// Checks that the context can take a step of this opcode; fills cqe if not.
static bool step_allowed(ZlibStream* zs, int opcode, ua_cqe* cqe) {
  zs->message = nullptr;
  bool deflating = is_deflate_mode(zs->mode);
  if (zs->mode == ZLIB_NONE || (opcode == UA_OP_DEFLATE) != deflating) {
    cqe->status = UA_STATUS_CODEC;
    cqe->detail = Z_STREAM_ERROR;
    zs->message = "Zlib error";
    return false;
  }
  int err = ensure_initialized(zs);
  if (err != Z_OK) {
    cqe->status = UA_STATUS_CODEC;
    cqe->detail = err;
    return false;
  }
  return true;
}

// What node does with one write: the codec over strm's current input and
// output with `flush`, then node's acceptance rules. Returns whether the
// write succeeded; *isal and *mapped accumulate as in run_inflate_isal.
static bool step_one_write(ZlibStream* zs, int flush, bool* isal, const char** mapped) {
  zs->flush = flush;
  if (is_deflate_mode(zs->mode)) {
    zs->err = deflate(&zs->strm, flush);
  } else if (zs->phase != PHASE_ZLIB) {
    // A step with nothing to decode (a member's end, a header alone) counts
    // for the codec that has the stream.
    *isal = run_inflate_isal(zs, mapped) || zs->phase != PHASE_ZLIB || *isal;
  } else {
    run_inflate_zlib(zs);
  }
  return check_error(zs);
}

static void finish_step(ZlibStream* zs, bool ok, bool isal, const char* mapped, ua_cqe* cqe) {
  cqe->flags = ok && zs->err == Z_STREAM_END ? UA_CQE_STREAM_END : 0;
  if (ok) {
    cqe->status = 0;
    cqe->detail = isal ? CODEC_ISAL : CODEC_ZLIB;
  } else {
    cqe->status = UA_STATUS_CODEC;
    cqe->detail = zs->err;
    if (mapped != nullptr) zs->message = mapped;
  }
  // zlib keeps pointers to our buffers only for the duration of the call.
  zs->strm.next_in = nullptr;
  zs->strm.next_out = nullptr;
}

void zlib_stream_step(ZlibStream* zs, int opcode, int flush, const uint8_t* src, uint32_t src_len,
                      uint8_t* dst, uint32_t dst_len, ua_cqe* cqe) {
  std::lock_guard<std::mutex> guard(zs->lock);
  if (!step_allowed(zs, opcode, cqe)) return;
  zs->strm.next_in = const_cast<Bytef*>(src);
  zs->strm.avail_in = src_len;
  zs->strm.next_out = dst;
  zs->strm.avail_out = dst_len;
  bool isal = false;
  const char* mapped = nullptr;
  bool ok = step_one_write(zs, flush, &isal, &mapped);
  cqe->consumed = src_len - zs->strm.avail_in;
  cqe->produced = dst_len - zs->strm.avail_out;
  finish_step(zs, ok, isal, mapped, cqe);
}

namespace {

uint32_t length_at(const uint8_t* lengths, uint32_t i) {
  const uint8_t* p = lengths + size_t(i) * 4;
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

// A table the stream layer built is always well formed; a malformed one is
// refused before the stream is touched.
bool lengths_valid(const uint8_t* lengths, uint32_t count, uint32_t src_len) {
  uint64_t sum = 0;
  for (uint32_t i = 0; i < count; i++) {
    uint32_t n = length_at(lengths, i);
    if (n == 0) return false;
    sum += n;
  }
  return sum == src_len;
}

}  // namespace

void zlib_stream_step_writes(ZlibStream* zs, int flush, const uint8_t* src, uint32_t src_len,
                             uint32_t write_len, const uint8_t* lengths, uint32_t count,
                             uint8_t* dst, uint32_t dst_len, ua_cqe* cqe) {
  if (count > 0 && !lengths_valid(lengths, count, src_len)) {
    cqe->status = -EINVAL;
    return;
  }
  std::lock_guard<std::mutex> guard(zs->lock);
  if (!step_allowed(zs, UA_OP_INFLATE, cqe)) return;
  if (write_len == 0 || write_len > src_len) write_len = src_len;
  zs->strm.next_out = dst;
  zs->strm.avail_out = dst_len;
  bool isal = false;
  const char* mapped = nullptr;
  bool ok = true;
  uint32_t at = 0;    // start of the current write
  uint32_t kept = 0;  // output of the writes before it
  for (uint32_t i = 0;; i++) {
    uint32_t n = count > 0                  ? length_at(lengths, i)
                 : src_len - at < write_len ? src_len - at
                                            : write_len;
    bool last = at + n >= src_len;
    zs->strm.next_in = const_cast<Bytef*>(src + at);
    zs->strm.avail_in = n;
    ok = step_one_write(zs, last ? flush : Z_NO_FLUSH, &isal, &mapped);
    uint32_t used = n - zs->strm.avail_in;
    if (!ok) break;
    at += used;
    // Where a step of this write alone would have ended the descriptor:
    // its output filled, or its stream ended with input left.
    if (last || zs->strm.avail_out == 0 || zs->strm.avail_in > 0) break;
    kept = dst_len - zs->strm.avail_out;
  }
  cqe->consumed = at;
  cqe->produced = ok ? dst_len - zs->strm.avail_out : kept;
  finish_step(zs, ok, isal, mapped, cqe);
}

}  // namespace uaccel
