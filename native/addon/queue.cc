#include "queue.h"

#include <cerrno>
#include <cstring>

namespace uaccel {

namespace {

constexpr int kMaxDrainRounds = 16;  // then yield to the event loop and resume

struct ClosingHandles {
  int pending = 0;
  napi_async_cleanup_hook_handle hook = nullptr;
};

void OnHandleClosed(uv_handle_t* handle) {
  auto* closing = static_cast<ClosingHandles*>(handle->data);
  // Delete with the type that was allocated (new uv_poll_t / new uv_async_t):
  // deleting through uv_handle_t* is a size-mismatched delete (undefined
  // behaviour; ASan: new-delete-type-mismatch).
  if (handle->type == UV_POLL) {
    delete reinterpret_cast<uv_poll_t*>(handle);
  } else {
    delete reinterpret_cast<uv_async_t*>(handle);
  }
  if (--closing->pending == 0) {
    if (closing->hook != nullptr) napi_remove_async_cleanup_hook(closing->hook);
    delete closing;
  }
}

// Turns a failed N-API call into a JavaScript exception carrying N-API's own
// error text; a failure here is our bug, never the caller's.
void Check(napi_env env, napi_status status) {
  if (status != napi_ok) throw Napi::Error::New(env);
}

// One completion in the shared-array layout JavaScript reads.
void WriteCompletion(const ua_cqe& cqe, int32_t* e) {
  e[CF_TAG] = static_cast<int32_t>(cqe.tag & 0xffffffffu);
  e[CF_STATUS] = cqe.status;
  e[CF_PRODUCED] = static_cast<int32_t>(cqe.produced);
  e[CF_CONSUMED] = static_cast<int32_t>(cqe.consumed);
  e[CF_FLAGS] = static_cast<int32_t>(cqe.flags);
  e[CF_CHECK] = static_cast<int32_t>(cqe.check);
  e[CF_DETAIL] = cqe.detail;
  e[CF_CTX] = static_cast<int32_t>(cqe.tag >> 32);
}

uint32_t OptUint(const Napi::Object& o, const char* key, uint32_t fallback) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().Uint32Value() : fallback;
}

}  // namespace

Napi::Function Queue::Define(Napi::Env env) {
  return DefineClass(env, "Queue",
                     {
                         InstanceMethod<&Queue::Submit>("submit"),
                         InstanceMethod<&Queue::RunInline>("runInline"),
                         InstanceMethod<&Queue::OpenContext>("openContext"),
                         InstanceMethod<&Queue::ResetContext>("resetContext"),
                         InstanceMethod<&Queue::ParamsContext>("paramsContext"),
                         InstanceMethod<&Queue::ContextMessage>("contextMessage"),
                         InstanceMethod<&Queue::CloseContext>("closeContext"),
                         InstanceMethod<&Queue::Close>("close"),
                         InstanceMethod<&Queue::Info>("info"),
                         InstanceMethod<&Queue::Region>("region"),
                     });
}

// new Queue(options, staging: Uint32Array, completions: Int32Array, onComplete)
Queue::Queue(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Queue>(info), env_(info.Env()) {
  Napi::Env env = info.Env();
  Napi::Object opts = info[0].As<Napi::Object>();
  std::string device =
      opts.Get("device").IsString() ? opts.Get("device").As<Napi::String>().Utf8Value() : "";
  sva_ = opts.Get("sva").ToBoolean();
  workers_ = OptUint(opts, "workers", 1);
  uint32_t depth = OptUint(opts, "depth", 256);
  size_t region_bytes = OptUint(opts, "regionBytes", 4u << 20);

  staging_ = Napi::Persistent(info[1].As<Napi::Uint32Array>());
  completions_ = Napi::Persistent(info[2].As<Napi::Int32Array>());
  on_complete_ = Napi::Persistent(info[3].As<Napi::Function>());

  ops_ = device_select(device.c_str());
  if (ops_ == nullptr) throw Napi::Error::New(env, "no usable device named '" + device + "'");
  if (sva_ && !ops_->supports_sva) sva_ = false;
  if (ring_init(&ring_, depth) != 0) throw Napi::Error::New(env, "cannot allocate the ring");
  if (staging_.Value().ElementLength() < size_t(ring_.entries) * SF_COUNT ||
      completions_.Value().ElementLength() < size_t(CF_COUNT)) {
    ring_free(&ring_);
    throw Napi::RangeError::New(env, "shared arrays are smaller than the ring");
  }
  if (!sva_) {
    region_ = pinned_region_create(region_bytes);
    if (!region_) {
      int err = errno;
      ring_free(&ring_);
      throw Napi::Error::New(env, std::string("cannot map the pinned region: ") + strerror(err));
    }
  }

  DeviceConfig cfg{workers_, sva_, &ring_, region_};
  int rc = ops_->open(&cfg, &device_queue_, &completion_fd_);
  if (rc != 0) {
    ring_free(&ring_);
    region_.reset();
    throw Napi::Error::New(env, std::string("cannot open the device queue: ") + strerror(-rc));
  }

  uv_loop_t* loop = nullptr;
  Check(env, napi_get_uv_event_loop(env, &loop));
  poll_ = new uv_poll_t;
  resume_ = new uv_async_t;
  if (uv_poll_init(loop, poll_, completion_fd_) != 0 ||
      uv_async_init(loop, resume_, OnResume) != 0) {
    // Unreachable with a valid eventfd; fail loudly rather than run unpolled.
    ops_->close(device_queue_);
    ring_free(&ring_);
    throw Napi::Error::New(env, "cannot poll the device's completion fd");
  }
  poll_->data = this;
  resume_->data = this;
  uv_poll_start(poll_, UV_READABLE, OnReadable);
  // Idle queues must not keep the process alive; UpdateRef refs while busy.
  uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
  uv_unref(reinterpret_cast<uv_handle_t*>(resume_));

  Check(env, napi_async_init(env, Value(), Napi::String::New(env, "uaccel:completion"),
                             &async_context_));
  Check(env, napi_add_async_cleanup_hook(env, OnEnvCleanup, this, &cleanup_hook_));
  contexts_.resize(1);
}

Queue::~Queue() { Shutdown(nullptr); }

void Queue::OnEnvCleanup(napi_async_cleanup_hook_handle hook, void* arg) {
  static_cast<Queue*>(arg)->Shutdown(hook);
}

// Stops the device (joining its engines, so no thread touches memory after
// this), frees contexts and the ring, and closes the libuv handles. `hook` is
// set when the environment is tearing down and must be released once the
// handles are closed.
void Queue::Shutdown(napi_async_cleanup_hook_handle hook) {
  if (closed_) {
    if (hook != nullptr) napi_remove_async_cleanup_hook(hook);
    return;
  }
  closed_ = true;
  if (hook == nullptr && cleanup_hook_ != nullptr) {
    napi_remove_async_cleanup_hook(cleanup_hook_);
  }
  cleanup_hook_ = nullptr;
  ops_->close(device_queue_);
  device_queue_ = nullptr;
  for (auto& c : contexts_) {
    if (c.open) ops_->ctx_close(nullptr, c.handle);
    c = Context{};
  }
  ring_free(&ring_);
  if (async_context_ != nullptr && hook == nullptr) napi_async_destroy(env_, async_context_);
  async_context_ = nullptr;

  auto* closing = new ClosingHandles{2, hook};
  poll_->data = closing;
  resume_->data = closing;
  uv_poll_stop(poll_);
  uv_close(reinterpret_cast<uv_handle_t*>(poll_), OnHandleClosed);
  uv_close(reinterpret_cast<uv_handle_t*>(resume_), OnHandleClosed);
  poll_ = nullptr;
  resume_ = nullptr;
  inflight_ = 0;
}

Queue::Context* Queue::Lookup(uint32_t id) {
  if (id == 0 || id >= contexts_.size() || !contexts_[id].open) return nullptr;
  return &contexts_[id];
}

void Queue::ReleaseContext(uint32_t id) {
  ops_->ctx_close(device_queue_, contexts_[id].handle);
  contexts_[id] = Context{};
  free_ids_.push_back(id);
}

void Queue::FillEntry(napi_env env, const uint32_t* f, napi_value buffers, uint32_t index,
                      ua_sqe* sqe) {
  std::memset(sqe, 0, sizeof(*sqe));
  sqe->opcode = f[SF_OP] & 0xff;
  sqe->version = UA_DESC_VERSION;
  sqe->flush = (f[SF_OP] >> 8) & 0xff;
  sqe->flags = (f[SF_OP] >> 16) & 0xff;
  sqe->src_len = f[SF_SRC_LEN];
  sqe->dst_len = f[SF_DST_LEN];
  sqe->hist_len = f[SF_HIST_LEN];
  sqe->arg = f[SF_ARG];
  sqe->tag = (uint64_t(f[SF_CTX]) << 32) | f[SF_TAG];
  if (f[SF_CTX] != 0) {
    Context* c = Lookup(f[SF_CTX]);
    if (c == nullptr) throw Napi::Error::New(env, "descriptor names a closed context");
    sqe->ctx = c->handle;
  }
  if (sqe->flags & UA_SQE_PINNED) {
    sqe->src = f[SF_SRC_OFF];
    sqe->dst = f[SF_DST_OFF];
    sqe->hist = f[SF_HIST_OFF];
    return;
  }
  // SVA: (buffer, offset, length) triples are bounds-checked once, here.
  const uint32_t offs[3] = {f[SF_SRC_OFF], f[SF_DST_OFF], f[SF_HIST_OFF]};
  const uint32_t lens[3] = {f[SF_SRC_LEN], f[SF_DST_LEN], f[SF_HIST_LEN]};
  uint64_t* addrs[3] = {&sqe->src, &sqe->dst, &sqe->hist};
  for (uint32_t k = 0; k < 3; k++) {
    napi_value b;
    Check(env, napi_get_element(env, buffers, index * 3 + k, &b));
    napi_valuetype t;
    Check(env, napi_typeof(env, b, &t));
    if (t == napi_undefined || t == napi_null) {
      if (lens[k] != 0) throw Napi::TypeError::New(env, "descriptor buffer missing");
      *addrs[k] = 0;
      continue;
    }
    bool is_ta = false;
    Check(env, napi_is_typedarray(env, b, &is_ta));
    if (!is_ta) throw Napi::TypeError::New(env, "descriptor buffers must be Uint8Arrays");
    napi_typedarray_type type;
    size_t length;
    void* data;
    Check(env, napi_get_typedarray_info(env, b, &type, &length, &data, nullptr, nullptr));
    if (type != napi_uint8_array && type != napi_uint8_clamped_array) {
      throw Napi::TypeError::New(env, "descriptor buffers must be Uint8Arrays");
    }
    if (uint64_t(offs[k]) + lens[k] > length) {
      throw Napi::RangeError::New(env, "descriptor range outside its buffer");
    }
    *addrs[k] = reinterpret_cast<uintptr_t>(static_cast<uint8_t*>(data) + offs[k]);
  }
}

// submit(count, buffers) -> number of entries accepted
Napi::Value Queue::Submit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (closed_) throw Napi::Error::New(env, "queue is closed");
  uint32_t count = info[0].As<Napi::Number>().Uint32Value();
  napi_value buffers = info[1];
  const uint32_t* staging = staging_.Value().Data();
  uint32_t accepted = 0;
  uint32_t tail = sq_tail_;
  while (accepted < count && ring_sq_space(&ring_, tail) > 0) {
    const uint32_t* f = staging + size_t(accepted) * SF_COUNT;
    FillEntry(env, f, buffers, accepted, ring_sq_slot(&ring_, tail));
    tail++;
    accepted++;
  }
  if (accepted == 0) return Napi::Number::New(env, 0);
  // Counted only once every entry is filled: FillEntry throws on a bad
  // descriptor, and the entries before it are then never published, so
  // counting them as they were filled left their contexts "in flight" for
  // good (closeContext deferred forever, the codec state leaked).
  for (uint32_t i = 0; i < accepted; i++) {
    const uint32_t* f = staging + size_t(i) * SF_COUNT;
    if (f[SF_CTX] != 0) contexts_[f[SF_CTX]].inflight++;
    bytes_in_ += f[SF_SRC_LEN];
  }
  sq_tail_ = tail;
  ring_sq_publish(&ring_, tail);
  ops_->submit(device_queue_);
  inflight_ += accepted;
  descriptors_ += accepted;
  batches_ += 1;
  UpdateRef();
  return Napi::Number::New(env, accepted);
}

// runInline(fields: Uint32Array, buffers, out: Int32Array) -> status. One
// descriptor executed on this thread (the *Sync APIs); always process
// addresses, since nothing crosses to a device. Uses its own arrays so a Sync
// call made from inside a completion callback cannot clobber the batch.
Napi::Value Queue::RunInline(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (closed_) throw Napi::Error::New(env, "queue is closed");
  Napi::Uint32Array fields = info[0].As<Napi::Uint32Array>();
  Napi::Int32Array result = info[2].As<Napi::Int32Array>();
  if (fields.ElementLength() < SF_COUNT || result.ElementLength() < CF_COUNT) {
    throw Napi::RangeError::New(env, "runInline arrays too small");
  }
  uint32_t f[SF_COUNT];
  std::memcpy(f, fields.Data(), sizeof(f));
  f[SF_OP] &= ~(uint32_t(UA_SQE_PINNED) << 16);
  ua_sqe sqe;
  FillEntry(env, f, info[1], 0, &sqe);
  ua_cqe cqe{};
  ops_->run_inline(device_queue_, &sqe, &cqe);
  WriteCompletion(cqe, result.Data());
  bytes_in_ += cqe.consumed;
  bytes_out_ += cqe.produced;
  return Napi::Number::New(env, cqe.status);
}

void Queue::OnReadable(uv_poll_t* handle, int status, int) {
  if (status < 0) return;
  static_cast<Queue*>(handle->data)->DrainFromLoop();
}

void Queue::OnResume(uv_async_t* handle) { static_cast<Queue*>(handle->data)->DrainFromLoop(); }

// No C++ exception may unwind into libuv: report it as an uncaught
// JavaScript exception instead.
void Queue::DrainFromLoop() {
  try {
    Drain();
  } catch (const Napi::Error& e) {
    draining_ = false;
    Napi::HandleScope scope(env_);
    napi_fatal_exception(env_, e.Value());
  }
}

// Reaps completions in batches of at most the shared array's capacity and
// hands each batch to JavaScript in one call. After a bounded number of rounds
// it yields to the event loop (resuming through an async handle) so a busy
// device cannot starve timers and I/O.
void Queue::Drain() {
  if (closed_ || draining_) return;
  draining_ = true;
  ops_->poll(device_queue_);
  Napi::HandleScope scope(env_);
  Napi::Int32Array completions = completions_.Value();
  uint32_t capacity = uint32_t(completions.ElementLength() / CF_COUNT);
  for (int round = 0;; round++) {
    int32_t* out = completions.Data();
    uint32_t n = 0;
    ua_cqe cqe;
    while (n < capacity && ring_cq_reap(&ring_, &cqe)) {
      uint32_t ctx_id = uint32_t(cqe.tag >> 32);
      WriteCompletion(cqe, out + size_t(n) * CF_COUNT);
      bytes_out_ += cqe.produced;
      if (ctx_id != 0 && ctx_id < contexts_.size() && contexts_[ctx_id].open) {
        Context& c = contexts_[ctx_id];
        c.inflight--;
        if (c.close_pending && c.inflight == 0) ReleaseContext(ctx_id);
      }
      n++;
    }
    if (n > 0) {
      inflight_ -= n;
      completion_batches_ += 1;
      napi_value argv[1] = {Napi::Number::New(env_, n)};
      napi_value result;
      napi_status st =
          napi_make_callback(env_, async_context_, Value(), on_complete_.Value(), 1, argv, &result);
      if (st == napi_pending_exception) {
        napi_value error;
        napi_get_and_clear_last_exception(env_, &error);
        napi_fatal_exception(env_, error);
      }
      if (closed_) break;
      if (n == capacity) {
        if (round + 1 >= kMaxDrainRounds) {
          uv_async_send(resume_);
          break;
        }
        continue;
      }
    }
    if (!ring_cq_arm(&ring_)) break;
    if (round + 1 >= kMaxDrainRounds) {
      uv_async_send(resume_);
      break;
    }
  }
  draining_ = false;
  if (!closed_) UpdateRef();
}

void Queue::UpdateRef() {
  bool busy = inflight_ > 0;
  if (busy == referenced_) return;
  referenced_ = busy;
  if (busy) {
    uv_ref(reinterpret_cast<uv_handle_t*>(poll_));
  } else {
    uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
  }
}

// openContext(mode, level, windowBits, memLevel, strategy, dictionary?) -> id
Napi::Value Queue::OpenContext(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (closed_) throw Napi::Error::New(env, "queue is closed");
  ContextParams p{};
  p.kind = CTX_ZLIB;
  p.zlib.mode = info[0].As<Napi::Number>().Int32Value();
  p.zlib.level = info[1].As<Napi::Number>().Int32Value();
  p.zlib.window_bits = info[2].As<Napi::Number>().Int32Value();
  p.zlib.mem_level = info[3].As<Napi::Number>().Int32Value();
  p.zlib.strategy = info[4].As<Napi::Number>().Int32Value();
  if (info.Length() > 5 && info[5].IsTypedArray()) {
    Napi::Uint8Array dict = info[5].As<Napi::Uint8Array>();
    p.zlib.dictionary = dict.Data();
    p.zlib.dictionary_len = uint32_t(dict.ByteLength());
  }
  uint64_t handle = 0;
  int rc = ops_->ctx_open(device_queue_, &p, &handle);
  if (rc != 0) throw Napi::Error::New(env, std::string("cannot open a context: ") + strerror(-rc));
  uint32_t id;
  if (!free_ids_.empty()) {
    id = free_ids_.back();
    free_ids_.pop_back();
  } else {
    id = uint32_t(contexts_.size());
    contexts_.emplace_back();
  }
  contexts_[id].handle = handle;
  contexts_[id].open = true;
  return Napi::Number::New(env, id);
}

Napi::Value Queue::ResetContext(const Napi::CallbackInfo& info) {
  Context* c = Lookup(info[0].As<Napi::Number>().Uint32Value());
  if (c == nullptr) throw Napi::Error::New(info.Env(), "no such context");
  return Napi::Number::New(info.Env(), ops_->ctx_reset(device_queue_, c->handle));
}

Napi::Value Queue::ParamsContext(const Napi::CallbackInfo& info) {
  Context* c = Lookup(info[0].As<Napi::Number>().Uint32Value());
  if (c == nullptr) throw Napi::Error::New(info.Env(), "no such context");
  int level = info[1].As<Napi::Number>().Int32Value();
  int strategy = info[2].As<Napi::Number>().Int32Value();
  return Napi::Number::New(info.Env(), ops_->ctx_params(device_queue_, c->handle, level, strategy));
}

Napi::Value Queue::ContextMessage(const Napi::CallbackInfo& info) {
  Context* c = Lookup(info[0].As<Napi::Number>().Uint32Value());
  if (c == nullptr) return Napi::String::New(info.Env(), "Zlib error");
  return Napi::String::New(info.Env(), ops_->ctx_message(device_queue_, c->handle));
}

// A context named by an in-flight descriptor is freed when that completion is
// reaped, never under a device thread.
Napi::Value Queue::CloseContext(const Napi::CallbackInfo& info) {
  uint32_t id = info[0].As<Napi::Number>().Uint32Value();
  Context* c = Lookup(id);
  if (c == nullptr || closed_) return info.Env().Undefined();
  if (c->inflight > 0) {
    c->close_pending = true;
  } else {
    ReleaseContext(id);
  }
  return info.Env().Undefined();
}

Napi::Value Queue::Close(const Napi::CallbackInfo& info) {
  Shutdown(nullptr);
  return info.Env().Undefined();
}

Napi::Value Queue::Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("device", ops_->name);
  o.Set("sva", sva_);
  o.Set("workers", workers_);
  o.Set("queueDepth", ring_.entries);
  o.Set("inflight", inflight_);
  if (region_) {
    o.Set("regionBytes", double(region_->size));
    o.Set("regionLocked", region_->locked);
    if (!region_->locked) o.Set("regionLockError", strerror(region_->lock_error));
  }
  Napi::Object counters = Napi::Object::New(env);
  counters.Set("descriptors", descriptors_);
  counters.Set("batches", batches_);
  counters.Set("completionBatches", completion_batches_);
  counters.Set("bytesIn", bytes_in_);
  counters.Set("bytesOut", bytes_out_);
  o.Set("counters", counters);
  return o;
}

// region() -> Buffer over the pinned region (undefined under SVA). The
// Buffer co-owns the mapping, so a view can never outlive it.
Napi::Value Queue::Region(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!region_) return env.Undefined();
  auto* owner = new std::shared_ptr<PinnedRegion>(region_);
  return Napi::Buffer<uint8_t>::New(
      env, region_->base, region_->size,
      [](Napi::Env, uint8_t*, std::shared_ptr<PinnedRegion>* hold) { delete hold; }, owner);
}

}  // namespace uaccel
