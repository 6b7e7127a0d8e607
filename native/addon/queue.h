/*
 * Queue: the JavaScript face of one device queue (N-API object).
 *
 * JavaScript fills a shared Uint32Array with descriptor fields and calls
 * submit(count, buffers) once per batch; the queue turns the fields into SQ
 * entries (resolving Buffer addresses under SVA, passing region offsets when
 * pinned), rings the device's doorbell, and later reaps completions in
 * batches when the device's completion fd polls readable, copying them into a
 * shared Int32Array and calling onComplete(count) once per batch.
 *
 * Threads: everything here runs on the JavaScript thread of one environment.
 * Memory: the queue owns the ring and (through a shared pointer) the pinned
 * region; JavaScript keeps every Buffer named by an in-flight descriptor
 * alive until its completion has been delivered.
 */
#ifndef UACCEL_ADDON_QUEUE_H
#define UACCEL_ADDON_QUEUE_H

#include <napi.h>
#include <uv.h>

#include <vector>

#include "../devices/device.h"

namespace uaccel {

/* Shared-array layouts, exported to JavaScript as binding.abi. */
enum SubmitField {
  SF_OP = 0,  // opcode | flush << 8 | flags << 16
  SF_CTX,
  SF_TAG,
  SF_SRC_OFF,
  SF_SRC_LEN,
  SF_DST_OFF,
  SF_DST_LEN,
  SF_HIST_OFF,
  SF_HIST_LEN,
  SF_ARG,
  SF_COUNT
};
enum CompletionField {
  CF_TAG = 0,
  CF_STATUS,
  CF_PRODUCED,
  CF_CONSUMED,
  CF_FLAGS,
  CF_CHECK,
  CF_DETAIL,
  CF_CTX,
  CF_COUNT
};

class Queue : public Napi::ObjectWrap<Queue> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit Queue(const Napi::CallbackInfo& info);
  ~Queue() override;

 private:
  struct Context {
    uint64_t handle = 0;
    uint32_t inflight = 0;
    bool open = false;
    bool close_pending = false;
  };

  Napi::Value Submit(const Napi::CallbackInfo& info);
  Napi::Value RunInline(const Napi::CallbackInfo& info);
  Napi::Value OpenContext(const Napi::CallbackInfo& info);
  Napi::Value ResetContext(const Napi::CallbackInfo& info);
  Napi::Value ParamsContext(const Napi::CallbackInfo& info);
  Napi::Value ContextMessage(const Napi::CallbackInfo& info);
  Napi::Value CloseContext(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value Info(const Napi::CallbackInfo& info);
  Napi::Value Region(const Napi::CallbackInfo& info);

  static void OnReadable(uv_poll_t* handle, int status, int events);
  static void OnResume(uv_async_t* handle);
  static void OnEnvCleanup(napi_async_cleanup_hook_handle hook, void* arg);
  void Drain();
  void DrainFromLoop();
  void UpdateRef();
  void Shutdown(napi_async_cleanup_hook_handle hook);
  void FillEntry(napi_env env, const uint32_t* f, napi_value buffers, uint32_t index, ua_sqe* sqe);
  Context* Lookup(uint32_t id);
  void ReleaseContext(uint32_t id);

  Napi::Env env_;
  const DeviceOps* ops_ = nullptr;
  void* device_queue_ = nullptr;
  Ring ring_;
  std::shared_ptr<PinnedRegion> region_;
  bool sva_ = true;
  uint32_t workers_ = 0;
  int completion_fd_ = -1;
  uv_poll_t* poll_ = nullptr;
  uv_async_t* resume_ = nullptr;
  bool referenced_ = false;
  bool closed_ = false;
  bool draining_ = false;
  napi_async_cleanup_hook_handle cleanup_hook_ = nullptr;

  Napi::Reference<Napi::Uint32Array> staging_;
  Napi::Reference<Napi::Int32Array> completions_;
  Napi::FunctionReference on_complete_;
  napi_async_context async_context_ = nullptr;

  uint32_t sq_tail_ = 0;
  uint32_t inflight_ = 0;
  std::vector<Context> contexts_;  // index = context id; 0 is never used
  std::vector<uint32_t> free_ids_;

  double descriptors_ = 0, batches_ = 0, completion_batches_ = 0, bytes_in_ = 0, bytes_out_ = 0;
};

}  // namespace uaccel

#endif
