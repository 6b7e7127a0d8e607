/*
 * The device ops table: what every device — the software device, and any
 * hardware device loaded at run time — implements behind the same ring.
 *
 * Threads: every op is called on the JavaScript thread of the environment
 * that owns the queue, except that a device's own engines (threads or
 * hardware) consume the SQ and post to the CQ. Ops return 0 or -errno.
 */
#ifndef UACCEL_DEVICES_DEVICE_H
#define UACCEL_DEVICES_DEVICE_H

#include <cstddef>
#include <cstdint>
#include <memory>

#include "../codecs/zlib_stream.h"
#include "../memory/pinned_region.h"
#include "../ring/ring.h"

namespace uaccel {

struct DeviceConfig {
  uint32_t workers;                      // engines to start (software device: threads)
  bool sva;                              // descriptors carry process addresses
  Ring* ring;                            // owned by the caller, outlives the queue
  std::shared_ptr<PinnedRegion> region;  // set when !sva
};

/* Kinds of per-stream context a device can hold. */
enum ContextKind {
  CTX_ZLIB = 1,
};

struct ContextParams {
  int kind;  // enum ContextKind
  ZlibParams zlib;
};

struct DeviceOps {
  const char* name;
  int priority;      // higher is preferred when several probe successfully
  uint64_t opcodes;  // bit (1 << opcode) per supported opcode
  bool supports_sva;
  bool supports_pinned;

  /* probe - 0 when the device is usable in this process. */
  int (*probe)(void);
  /* open - start a queue on cfg->ring; *completion_fd becomes readable when the CQ has entries. */
  int (*open)(const DeviceConfig* cfg, void** queue, int* completion_fd);
  /* submit - doorbell: entries up to the ring's SQ tail are ready. */
  int (*submit)(void* queue);
  /* poll - called when the completion fd is readable, before the CQ is reaped. */
  int (*poll)(void* queue);
  /* close - stop engines and wait for them; in-flight entries are abandoned. */
  void (*close)(void* queue);

  /* ctx_open - create per-stream state; *handle goes into sqe->ctx. */
  int (*ctx_open)(void* queue, const ContextParams* params, uint64_t* handle);
  /* ctx_reset / ctx_params - change a context between descriptors. */
  int (*ctx_reset)(void* queue, uint64_t handle);
  int (*ctx_params)(void* queue, uint64_t handle, int level, int strategy);
  /* ctx_message - text of the codec error the context last completed with. */
  const char* (*ctx_message)(void* queue, uint64_t handle);
  /* ctx_close - free the context; no descriptor naming it is in flight. */
  void (*ctx_close)(void* queue, uint64_t handle);

  /*
   * run_inline - execute one descriptor on the calling thread with process
   * addresses (the *Sync APIs). A hardware device would submit and wait.
   */
  void (*run_inline)(void* queue, const ua_sqe* sqe, ua_cqe* cqe);
};

/* The registry: devices are registered explicitly at module init. */
void device_register(const DeviceOps* ops);
/* The best device that probes successfully, or the one named; nullptr if none. */
const DeviceOps* device_select(const char* name);
/* Every registered device, for info(). */
size_t device_list(const DeviceOps** out, size_t max);

extern const DeviceOps software_device_ops;

}  // namespace uaccel

#endif
