/*
 * Stateful deflate-family codec on Node's own zlib (the node binary exports
 * zlib's symbols; we compile against its headers and link nothing), so
 * output at the same options is byte-identical to node:zlib.
 *
 * Threads: zlib_stream_step runs on whichever device thread took the
 * descriptor, under the stream's mutex; create/reset/params/destroy run on
 * the JavaScript thread and take the same mutex, so they wait for a step in
 * progress instead of racing it.
 */
#ifndef UACCEL_CODECS_ZLIB_STREAM_H
#define UACCEL_CODECS_ZLIB_STREAM_H

#include <zlib.h>

#include <cstdint>
#include <mutex>
#include <vector>

#include "../ring/descriptor.h"

namespace uaccel {

struct IsalInflateStream;

/* Who decodes an inflate stream's next bytes (see isal_inflate_stream.h). */
enum InflatePhase {
  PHASE_ZLIB = 0,    // zlib alone, as node: deflate streams, and inflate without ISA-L
  PHASE_HEADER = 1,  // zlib parses a member's header, then hands the body to ISA-L
  PHASE_BODY = 2,    // ISA-L decodes the member's deflate data and trailer
  PHASE_END = 3,     // ISA-L finished a member; zlib's own stream is past its header only
};

/* Stream modes, numbered as node:zlib numbers them. */
enum ZlibMode {
  ZLIB_NONE = 0,
  ZLIB_DEFLATE = 1,
  ZLIB_INFLATE = 2,
  ZLIB_GZIP = 3,
  ZLIB_GUNZIP = 4,
  ZLIB_DEFLATERAW = 5,
  ZLIB_INFLATERAW = 6,
  ZLIB_UNZIP = 7,
};

struct ZlibParams {
  int mode;
  int level;
  int window_bits;  // 0 for inflate: take it from the stream header
  int mem_level;
  int strategy;
  const uint8_t* dictionary;
  uint32_t dictionary_len;
};

struct ZlibStream {
  std::mutex lock;
  z_stream strm{};
  int mode = ZLIB_NONE;
  int level = 0, window_bits = 0, mem_level = 0, strategy = 0;
  std::vector<uint8_t> dictionary;
  bool initialized = false;
  int err = Z_OK;
  int flush = Z_NO_FLUSH;
  int gzip_id_bytes_read = 0;
  const char* message = nullptr;  // static text (zlib's msg or ours)
  // ISA-L inflate (allocated on the first body step, freed with the stream).
  bool isal_allowed = false;
  int phase = PHASE_ZLIB;
  IsalInflateStream* isal = nullptr;
  uint32_t header_bytes = 0;  // of the current member, read by zlib so far
  uint8_t header_first = 0;   // a zlib header's CMF byte (window size)
  // Compressed bytes ISA-L had consumed but zlib has not yet seen when zlib
  // took over; zlib reads them before the next step's input.
  std::vector<uint8_t> prefix;
  size_t prefix_at = 0;
};

ZlibStream* zlib_stream_create(const ZlibParams* params);
void zlib_stream_destroy(ZlibStream* zs);

/* Returns Z_OK, or a zlib error with zs->message set. */
int zlib_stream_reset(ZlibStream* zs);
int zlib_stream_params(ZlibStream* zs, int level, int strategy);

/*
 * zlib_stream_step - one codec step over src/dst with sqe->flush, as
 * node:zlib does it per write. Fills produced/consumed/flags/status; on
 * success detail says which codec decoded (CODEC_ZLIB or CODEC_ISAL).
 */
void zlib_stream_step(ZlibStream* zs, int opcode, int flush, const uint8_t* src, uint32_t src_len,
                      uint8_t* dst, uint32_t dst_len, ua_cqe* cqe);

/*
 * zlib_stream_step_writes - an inflate step over several writes at once:
 * src holds writes of the lengths given as `count` little-endian uint32s at
 * `lengths` (none 0, summing to src_len, else -EINVAL), or, with count 0, of
 * write_len bytes each (the last may be shorter); each is stepped exactly
 * as zlib_stream_step would step it alone (with
 * Z_NO_FLUSH, the last with `flush`), so results, bytes counted and errors
 * are the same as one descriptor per write, without the round trips. Stops
 * early, as a single step would, when dst fills or the stream ends with
 * input left. On an error cqe->produced counts only the output of the
 * writes before the failing one: node emits those and not the failing
 * write's.
 */
void zlib_stream_step_writes(ZlibStream* zs, int flush, const uint8_t* src, uint32_t src_len,
                             uint32_t write_len, const uint8_t* lengths, uint32_t count,
                             uint8_t* dst, uint32_t dst_len, ua_cqe* cqe);

/* Last error text for a context that completed with UA_STATUS_CODEC. */
const char* zlib_stream_message(ZlibStream* zs);

}  // namespace uaccel

#endif
