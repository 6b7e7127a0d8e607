#include "stateless_deflate.h"

#include <libdeflate.h>
#include <zlib.h>

#include <cerrno>
#include <memory>

#include "isal_loader.h"
#include "zlib_memory.h"

namespace uaccel {

namespace {

constexpr int kLevels = 10;     // zlib levels 0..9
constexpr int kStrategies = 5;  // Z_DEFAULT_STRATEGY..Z_FIXED

// Codec state owned by one thread and reused for every descriptor it runs.
struct ThreadCodecs {
  z_stream* zlib[kLevels][kStrategies] = {};
  libdeflate_compressor* libdeflate[kLevels] = {};
  libdeflate_decompressor* inflater = nullptr;
#if UACCEL_HAVE_ISAL
  isal_zstream* isal = nullptr;
  uint8_t* isal_level_buf = nullptr;
#endif

  ~ThreadCodecs() {
    for (auto& by_level : zlib) {
      for (z_stream* zs : by_level) {
        if (zs != nullptr) {
          deflateEnd(zs);
          delete zs;
        }
      }
    }
    for (libdeflate_compressor* c : libdeflate) libdeflate_free_compressor(c);
    libdeflate_free_decompressor(inflater);
#if UACCEL_HAVE_ISAL
    delete isal;
    delete[] isal_level_buf;
#endif
  }
};

ThreadCodecs& codecs() {
  thread_local ThreadCodecs state;
  return state;
}

int level_of(uint64_t arg) {
  int level = int(arg & 0xff) - 1;
  return level < 0 ? 6 : (level > 9 ? 9 : level);
}
int format_of(uint64_t arg) { return int((arg >> 8) & 0x3); }
int strategy_of(uint64_t arg) {
  int s = int((arg >> 10) & 0x7);
  return s < kStrategies ? s : 0;
}
bool isal_forbidden(uint64_t arg) { return (arg >> 13) & 1; }

uint32_t block_check(int format, const uint8_t* src, uint32_t len) {
  if (format == FORMAT_ZLIB) return uint32_t(adler32_z(1, src, len));
  return uint32_t(crc32_z(0, src, len));
}

// zlib, primed with the history; Z_SYNC_FLUSH leaves the block byte-aligned
// and non-final, Z_FINISH closes the stream.
int zlib_block(const ua_sqe* sqe, const uint8_t* src, const uint8_t* hist, uint8_t* dst,
               uint32_t* produced) {
  int level = level_of(sqe->arg);
  int strategy = strategy_of(sqe->arg);
  z_stream*& zs = codecs().zlib[level][strategy];
  if (zs == nullptr) {
    zs = new z_stream();
    zs->zalloc = zlib_memory_alloc;
    zs->zfree = zlib_memory_free;
    if (deflateInit2(zs, level, Z_DEFLATED, -15, 8, strategy) != Z_OK) {
      delete zs;
      zs = nullptr;
      return -ENOMEM;
    }
  } else if (deflateReset(zs) != Z_OK) {
    return -EINVAL;
  }
  if (sqe->hist_len > 0 && deflateSetDictionary(zs, hist, sqe->hist_len) != Z_OK) return -EINVAL;
  zs->next_in = const_cast<Bytef*>(src);
  zs->avail_in = sqe->src_len;
  zs->next_out = dst;
  zs->avail_out = sqe->dst_len;
  bool last = sqe->flags & UA_SQE_LAST;
  int ret = deflate(zs, last ? Z_FINISH : Z_SYNC_FLUSH);
  bool complete =
      last ? ret == Z_STREAM_END : (ret == Z_OK && zs->avail_in == 0 && zs->avail_out > 0);
  *produced = sqe->dst_len - zs->avail_out;
  zs->next_in = nullptr;
  zs->next_out = nullptr;
  return complete ? 0 : -ENOSPC;
}

#if UACCEL_HAVE_ISAL
// ISA-L stands in for zlib's level 1 only. ISA-L's own level 2 (a larger hash
// than its level 1, the same greedy parse) runs at its level 1's speed, about
// three times zlib's, and its output is no larger than zlib's level 1 on
// text, where ISA-L's level 1 is up to 3% larger. Against zlib's level 2,
// ISA-L's best level is up to 7% larger on some data and barely faster than
// zlib's blocks, so zlib keeps levels 2 and up (measured; see the README's
// codec table).
constexpr int kIsalLevelForZlibLevel1 = 2;
int isal_block(const IsalApi* api, const ua_sqe* sqe, const uint8_t* src, const uint8_t* hist,
               uint8_t* dst, uint32_t* produced) {
  ThreadCodecs& t = codecs();
  constexpr uint32_t kLevelBufBytes = ISAL_DEF_LVL3_DEFAULT;
  if (t.isal == nullptr) {
    t.isal = new isal_zstream();
    t.isal_level_buf = new uint8_t[kLevelBufBytes];
  }
  isal_zstream* s = t.isal;
  api->deflate_init(s);
  s->level = kIsalLevelForZlibLevel1;
  s->level_buf = t.isal_level_buf;
  s->level_buf_size = kLevelBufBytes;
  s->gzip_flag = IGZIP_DEFLATE;
  bool last = sqe->flags & UA_SQE_LAST;
  s->end_of_stream = last ? 1 : 0;
  s->flush = last ? NO_FLUSH : SYNC_FLUSH;
  if (sqe->hist_len > 0 &&
      api->deflate_set_dict(s, const_cast<uint8_t*>(hist), sqe->hist_len) != COMP_OK) {
    return -EINVAL;
  }
  s->next_in = const_cast<uint8_t*>(src);
  s->avail_in = sqe->src_len;
  s->next_out = dst;
  s->avail_out = sqe->dst_len;
  if (api->deflate(s) != COMP_OK) return -EINVAL;
  *produced = sqe->dst_len - s->avail_out;
  bool done = s->avail_in == 0 && (last ? s->internal_state.state == ZSTATE_END
                                        : s->internal_state.state == ZSTATE_NEW_HDR);
  return done ? 0 : -ENOSPC;
}
#endif

// libdeflate for a whole member: headers, trailer and checksum included.
int libdeflate_member(const ua_sqe* sqe, const uint8_t* src, uint8_t* dst, uint32_t* produced) {
  int level = level_of(sqe->arg);
  libdeflate_compressor*& c = codecs().libdeflate[level];
  if (c == nullptr) c = libdeflate_alloc_compressor(level);
  if (c == nullptr) return -ENOMEM;
  size_t n;
  switch (format_of(sqe->arg)) {
    case FORMAT_ZLIB:
      n = libdeflate_zlib_compress(c, src, sqe->src_len, dst, sqe->dst_len);
      break;
    case FORMAT_GZIP:
      n = libdeflate_gzip_compress(c, src, sqe->src_len, dst, sqe->dst_len);
      break;
    default:
      n = libdeflate_deflate_compress(c, src, sqe->src_len, dst, sqe->dst_len);
      break;
  }
  if (n == 0) return -ENOSPC;
  *produced = uint32_t(n);
  return 0;
}

}  // namespace

void stateless_deflate_block(const ua_sqe* sqe, const uint8_t* src, const uint8_t* hist,
                             uint8_t* dst, ua_cqe* cqe) {
  bool whole = (sqe->flags & UA_SQE_FIRST) && (sqe->flags & UA_SQE_LAST) && sqe->hist_len == 0;
  // A block is raw deflate whatever the format: the stream layer writes the
  // wrapper, and the format only selects the check reported for the block.
  int format = format_of(sqe->arg);
  uint32_t produced = 0;
  int rc;
  int codec;
  int level = level_of(sqe->arg);
  if (whole) {
    rc = libdeflate_member(sqe, src, dst, &produced);
    codec = CODEC_LIBDEFLATE;
  } else {
#if UACCEL_HAVE_ISAL
    const IsalApi* api = isal_forbidden(sqe->arg) ? nullptr : isal_api();
    if (api != nullptr && level == 1 && strategy_of(sqe->arg) == Z_DEFAULT_STRATEGY) {
      rc = isal_block(api, sqe, src, hist, dst, &produced);
      codec = CODEC_ISAL;
    } else
#endif
    {
      (void)level;
      rc = zlib_block(sqe, src, hist, dst, &produced);
      codec = CODEC_ZLIB;
    }
  }
  if (rc != 0) {
    cqe->status = rc;
    return;
  }
  cqe->status = 0;
  cqe->consumed = sqe->src_len;
  cqe->produced = produced;
  cqe->check = whole ? 0 : block_check(format, src, sqe->src_len);
  cqe->detail = codec;
  if (sqe->flags & UA_SQE_LAST) cqe->flags |= UA_CQE_STREAM_END;
}

void stateless_inflate_oneshot(const ua_sqe* sqe, const uint8_t* src, uint8_t* dst, ua_cqe* cqe) {
  libdeflate_decompressor*& d = codecs().inflater;
  if (d == nullptr) d = libdeflate_alloc_decompressor();
  if (d == nullptr) {
    cqe->status = -ENOMEM;
    return;
  }
  size_t in = 0;
  size_t out = 0;
  libdeflate_result r;
  switch (format_of(sqe->arg)) {
    case FORMAT_ZLIB:
      r = libdeflate_zlib_decompress_ex(d, src, sqe->src_len, dst, sqe->dst_len, &in, &out);
      break;
    case FORMAT_GZIP:
      r = libdeflate_gzip_decompress_ex(d, src, sqe->src_len, dst, sqe->dst_len, &in, &out);
      break;
    default:
      r = libdeflate_deflate_decompress_ex(d, src, sqe->src_len, dst, sqe->dst_len, &in, &out);
      break;
  }
  if (r == LIBDEFLATE_INSUFFICIENT_SPACE) {
    cqe->status = -ENOSPC;
    return;
  }
  if (r != LIBDEFLATE_SUCCESS) {
    cqe->status = UA_STATUS_CODEC;
    cqe->detail = Z_DATA_ERROR;
    return;
  }
  cqe->status = 0;
  cqe->consumed = uint32_t(in);
  cqe->produced = uint32_t(out);
  cqe->detail = CODEC_LIBDEFLATE;
  cqe->flags |= UA_CQE_STREAM_END;
}

const char* stateless_libdeflate_version() { return "libdeflate " LIBDEFLATE_VERSION_STRING; }

}  // namespace uaccel
