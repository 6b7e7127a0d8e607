/*
 * ISA-L igzip as the body decoder of stateful inflate streams.
 *
 * zlib_stream.cc keeps node's contract: zlib parses each member's header (so
 * header errors, dictionaries and unzip's format detection are zlib's own),
 * then this decoder takes the deflate data and the trailer, several times
 * faster than zlib. ISA-L reports corrupt data more coarsely than zlib does,
 * so every member keeps a log of the compressed bytes ISA-L consumed; on an
 * ISA-L error the caller replays the log through zlib and lets zlib decide,
 * which gives node's exact error (or, where zlib is more lenient, node's
 * output). The log is bounded (256 KiB); past it the error is mapped, and at
 * a flush ISA-L may keep the last few decodable bytes for its next step.
 *
 * Threads: everything except isal_inflate_available runs on the device thread
 * that holds the stream's mutex; create/destroy follow the stream's lifetime.
 */
#ifndef UACCEL_CODECS_ISAL_INFLATE_STREAM_H
#define UACCEL_CODECS_ISAL_INFLATE_STREAM_H

#include <cstddef>
#include <cstdint>

namespace uaccel {

enum IsalBodyFormat { ISAL_BODY_RAW = 0, ISAL_BODY_ZLIB = 1, ISAL_BODY_GZIP = 2 };

/* isal_inflate_step results; negative values are ISA-L error codes. */
enum IsalStepResult { ISAL_STEP_MORE = 0, ISAL_STEP_END = 1 };

struct IsalInflateStream;

/*
 * isal_inflate_available - ISA-L is loaded and not switched off with
 * UACCEL_ISAL=0 (read from the environment each call, so a process can open
 * streams with and without it). JavaScript thread.
 */
bool isal_inflate_available();

/* The decoder's state (~100 KiB), or nullptr when ISA-L is unavailable or memory is short. */
IsalInflateStream* isal_inflate_create();
void isal_inflate_destroy(IsalInflateStream* s);

/* isal_inflate_begin - start a member's deflate data (after its header) in `format`. */
void isal_inflate_begin(IsalInflateStream* s, int format);

/*
 * isal_inflate_step - decode from src into dst. Returns ISAL_STEP_END when the
 * member ended (its trailer checked), ISAL_STEP_MORE when input ran out or dst
 * filled, or ISA-L's negative error code. *consumed and *produced are set on
 * success; after an error nothing of this call is logged and its output must
 * be discarded.
 */
int isal_inflate_step(IsalInflateStream* s, const uint8_t* src, uint32_t src_len, uint8_t* dst,
                      uint32_t dst_len, uint32_t* consumed, uint32_t* produced);

/*
 * isal_inflate_log - the member's compressed bytes consumed by earlier
 * successful steps and the output delivered from them; false when the log
 * outgrew its bound and cannot be replayed.
 */
bool isal_inflate_log(const IsalInflateStream* s, const uint8_t** data, size_t* len,
                      uint64_t* delivered);

/*
 * isal_inflate_holding - whether ISA-L may still hold decodable bits it read
 * (it decodes the last few symbols of its input only when more arrives,
 * where zlib decodes everything it was given).
 */
bool isal_inflate_holding(const IsalInflateStream* s);

/* Frees the log's memory (after a replay, or when the stream leaves ISA-L). */
void isal_inflate_drop_log(IsalInflateStream* s);

/*
 * isal_inflate_set_replay_bytes - bound the logs of members begun from now on
 * (0: the default, 256 KiB). For tests that need members past the bound.
 */
void isal_inflate_set_replay_bytes(size_t bytes);

/* zlib's wording for an ISA-L error, for when the log cannot be replayed. */
const char* isal_inflate_error_text(int rc);

}  // namespace uaccel

#endif
