#include <cstring>
#include <mutex>

#include "device.h"

namespace uaccel {

static constexpr size_t kMaxDevices = 8;
static const DeviceOps* g_devices[kMaxDevices];
static size_t g_device_count = 0;
static std::mutex g_registry_lock;  // module init may run once per worker thread

void device_register(const DeviceOps* ops) {
  std::lock_guard<std::mutex> guard(g_registry_lock);
  for (size_t i = 0; i < g_device_count; i++) {
    if (g_devices[i] == ops) return;
  }
  if (g_device_count < kMaxDevices) g_devices[g_device_count++] = ops;
}

const DeviceOps* device_select(const char* name) {
  std::lock_guard<std::mutex> guard(g_registry_lock);
  const DeviceOps* best = nullptr;
  for (size_t i = 0; i < g_device_count; i++) {
    const DeviceOps* d = g_devices[i];
    if (name != nullptr && name[0] != '\0' && std::strcmp(name, d->name) != 0) continue;
    if (d->probe() != 0) continue;
    if (best == nullptr || d->priority > best->priority) best = d;
  }
  return best;
}

size_t device_list(const DeviceOps** out, size_t max) {
  std::lock_guard<std::mutex> guard(g_registry_lock);
  size_t n = g_device_count < max ? g_device_count : max;
  for (size_t i = 0; i < n; i++) out[i] = g_devices[i];
  return n;
}

}  // namespace uaccel
