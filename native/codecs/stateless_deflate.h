/*
 * Stateless deflate-family operations: no per-stream state, only per-thread
 * codec state, so thousands of open streams cost nothing here and any worker
 * can take any descriptor.
 *
 *   UA_OP_DEFLATE_BLOCK   one block of a stream (or a whole member):
 *     - not FIRST|LAST, or FIRST|LAST with format RAW and a history window:
 *       raw deflate of src primed with hist (the previous <= 32 KiB of the
 *       stream); without UA_SQE_LAST the block ends byte-aligned with a sync
 *       marker and is not final, so blocks concatenate into one stream
 *       (the pigz technique). zlib (node's) or ISA-L by level.
 *     - FIRST|LAST without history: a whole member in the requested format
 *       (raw, zlib or gzip, headers and checksums included) by libdeflate,
 *       which has no strategies (the strategy bits are ignored here).
 *     A block is raw deflate in every format (the stream layer writes the
 *     header and trailer); cqe.check is the CRC-32 (raw, gzip) or Adler-32
 *     (zlib) of src, for the stream layer to combine in stream order.
 *   UA_OP_INFLATE_ONESHOT a whole member whose decompressed size fits dst,
 *     by libdeflate; -ENOSPC when it does not (the caller falls back to a
 *     stateful stream).
 *
 * The descriptor's `arg` carries the parameters: see stateless_arg().
 * Threads: runs on any thread; each thread lazily builds its own codec state.
 */
#ifndef UACCEL_CODECS_STATELESS_DEFLATE_H
#define UACCEL_CODECS_STATELESS_DEFLATE_H

#include <cstdint>

#include "../ring/descriptor.h"

namespace uaccel {

enum StatelessFormat { FORMAT_RAW = 0, FORMAT_ZLIB = 1, FORMAT_GZIP = 2 };

/* Codec a block was compressed with, reported in cqe.detail on success. */
enum BlockCodec { CODEC_ZLIB = 1, CODEC_ISAL = 2, CODEC_LIBDEFLATE = 3 };

/*
 * arg layout: bits 0-7 level + 1 (0 = level -1, the default), bits 8-9
 * format, bits 10-12 zlib strategy, bit 13 forbid ISA-L (e.g. for tests that
 * need one codec).
 */
constexpr uint64_t stateless_arg(int level, int format, int strategy, bool no_isal) {
  return uint64_t(level + 1) | (uint64_t(format) << 8) | (uint64_t(strategy) << 10) |
         (uint64_t(no_isal ? 1 : 0) << 13);
}

void stateless_deflate_block(const ua_sqe* sqe, const uint8_t* src, const uint8_t* hist,
                             uint8_t* dst, ua_cqe* cqe);
void stateless_inflate_oneshot(const ua_sqe* sqe, const uint8_t* src, uint8_t* dst, ua_cqe* cqe);

/* Codec names available in this process, for info(): "libdeflate 1.14", ... */
const char* stateless_libdeflate_version();

}  // namespace uaccel

#endif
