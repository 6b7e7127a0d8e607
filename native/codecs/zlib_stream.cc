#include "zlib_stream.h"

#include <climits>

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

void zlib_stream_step(ZlibStream* zs, int opcode, int flush, const uint8_t* src, uint32_t src_len,
                      uint8_t* dst, uint32_t dst_len, ua_cqe* cqe) {
  std::lock_guard<std::mutex> guard(zs->lock);
  zs->message = nullptr;
  bool deflating = is_deflate_mode(zs->mode);
  if (zs->mode == ZLIB_NONE || (opcode == UA_OP_DEFLATE) != deflating) {
    cqe->status = UA_STATUS_CODEC;
    cqe->detail = Z_STREAM_ERROR;
    zs->message = "Zlib error";
    return;
  }
  int err = ensure_initialized(zs);
  if (err != Z_OK) {
    cqe->status = UA_STATUS_CODEC;
    cqe->detail = err;
    return;
  }
  zs->flush = flush;
  zs->strm.next_in = const_cast<Bytef*>(src);
  zs->strm.avail_in = src_len;
  zs->strm.next_out = dst;
  zs->strm.avail_out = dst_len;

  if (deflating) {
    zs->err = deflate(&zs->strm, flush);
  } else {
    run_inflate(zs);
  }

  cqe->consumed = src_len - zs->strm.avail_in;
  cqe->produced = dst_len - zs->strm.avail_out;
  cqe->flags = zs->err == Z_STREAM_END ? UA_CQE_STREAM_END : 0;
  cqe->detail = zs->err;
  cqe->status = check_error(zs) ? 0 : UA_STATUS_CODEC;
  // zlib keeps pointers to our buffers only for the duration of the call.
  zs->strm.next_in = nullptr;
  zs->strm.next_out = nullptr;
}

}  // namespace uaccel
