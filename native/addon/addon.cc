/*
 * Module registration: registers the devices compiled in, and exports the
 * Queue class, the descriptor ABI numbers JavaScript needs, and the hash of
 * the native sources this binary was built from (so a stale prebuild is
 * detectable).
 */
#include <napi.h>
#include <zlib.h>

#include "../codecs/isal_loader.h"
#include "../codecs/stateless_deflate.h"
#include "../devices/device.h"
#include "queue.h"

#ifndef UACCEL_SOURCE_HASH
#define UACCEL_SOURCE_HASH "unknown"
#endif

namespace uaccel {

static Napi::Object Abi(Napi::Env env) {
  Napi::Object abi = Napi::Object::New(env);
  abi.Set("version", UA_DESC_VERSION);
  abi.Set("submitFields", uint32_t(SF_COUNT));
  abi.Set("completionFields", uint32_t(CF_COUNT));
  abi.Set("statusCodec", UA_STATUS_CODEC);
  Napi::Object op = Napi::Object::New(env);
  op.Set("NOP", uint32_t(UA_OP_NOP));
  op.Set("DEFLATE", uint32_t(UA_OP_DEFLATE));
  op.Set("INFLATE", uint32_t(UA_OP_INFLATE));
  op.Set("CRC32", uint32_t(UA_OP_CRC32));
  op.Set("DEFLATE_BLOCK", uint32_t(UA_OP_DEFLATE_BLOCK));
  op.Set("INFLATE_ONESHOT", uint32_t(UA_OP_INFLATE_ONESHOT));
  abi.Set("op", op);
  Napi::Object flag = Napi::Object::New(env);
  flag.Set("PINNED", uint32_t(UA_SQE_PINNED));
  flag.Set("FIRST", uint32_t(UA_SQE_FIRST));
  flag.Set("LAST", uint32_t(UA_SQE_LAST));
  flag.Set("WRITES", uint32_t(UA_SQE_WRITES));
  flag.Set("STREAM_END", uint32_t(UA_CQE_STREAM_END));
  abi.Set("flag", flag);
  return abi;
}

static Napi::Array Devices(Napi::Env env) {
  const DeviceOps* list[8];
  size_t n = device_list(list, 8);
  Napi::Array out = Napi::Array::New(env, n);
  for (size_t i = 0; i < n; i++) {
    Napi::Object d = Napi::Object::New(env);
    d.Set("name", list[i]->name);
    d.Set("available", list[i]->probe() == 0);
    d.Set("sva", list[i]->supports_sva);
    d.Set("pinned", list[i]->supports_pinned);
    out[uint32_t(i)] = d;
  }
  return out;
}

/*
 * checkCombine(format, checkA, checkB, lengthB): the check value of A
 * followed by B, from the two parts' checks (CRC-32 for raw and gzip,
 * Adler-32 for zlib) and B's length, through node's zlib. Streams compressed
 * as independent blocks on several workers get each block's check in its
 * completion and fold them here in stream order, in O(log length) time
 * instead of re-reading the data.
 */
static Napi::Value CheckCombine(const Napi::CallbackInfo& info) {
  uint32_t format = info[0].As<Napi::Number>().Uint32Value();
  uLong a = info[1].As<Napi::Number>().Uint32Value();
  uLong b = info[2].As<Napi::Number>().Uint32Value();
  z_off64_t length = z_off64_t(info[3].As<Napi::Number>().Int64Value());
  uLong combined =
      format == FORMAT_ZLIB ? adler32_combine64(a, b, length) : crc32_combine64(a, b, length);
  return Napi::Number::New(info.Env(), double(uint32_t(combined)));
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  device_register(&software_device_ops);
  exports.Set("Queue", Queue::Define(env));
  exports.Set("abi", Abi(env));
  exports.Set("devices", Devices(env));
  exports.Set("sourceHash", UACCEL_SOURCE_HASH);
  exports.Set("zlibVersion", zlibVersion());
  exports.Set("checkCombine", Napi::Function::New(env, CheckCombine, "checkCombine"));
  Napi::Object codecs = Napi::Object::New(env);
  codecs.Set("zlib", std::string("zlib ") + zlibVersion());
  codecs.Set("libdeflate", stateless_libdeflate_version());
  codecs.Set("isal", isal_api() != nullptr ? "isa-l (libisal.so.2)" : "");
  codecs.Set("isalStatus", isal_status());
  exports.Set("codecs", codecs);
  return exports;
}

}  // namespace uaccel

static Napi::Object RegisterModule(Napi::Env env, Napi::Object exports) {
  return uaccel::Init(env, exports);
}

NODE_API_MODULE(uaccel, RegisterModule)
