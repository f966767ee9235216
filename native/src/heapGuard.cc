// The kernel's guard against V8's heap limit. A JavaScript heap that reaches its limit aborts
// the process; V8 calls a near-heap-limit callback just before, synchronously, inside a garbage
// collection. There no JavaScript may run, so the callback grants a little more heap (once per
// approach, a few times at most) and wakes the event loop, whose next turn tells the kernel to
// stop the cell that filled it. The initial limit comes back once live data falls under 70 % of
// it. One watcher per process (the kernel's main thread).
#include <node_api.h>
#include <v8.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace {

// Raises granted before V8 is let to fail as it would have (a cell that ignores the stop).
constexpr int kMaxRaises = 3;
constexpr size_t kMinimumGrant = size_t{32} << 20;

struct Watcher {
  v8::Isolate* isolate = nullptr;
  napi_threadsafe_function notify = nullptr;
  int raises = 0;
};

Watcher watcher;

size_t NearHeapLimit(void* data, size_t current, size_t initial) {
  auto* w = static_cast<Watcher*>(data);
  if (current <= initial) w->raises = 0;  // restored: a new approach
  if (w->raises >= kMaxRaises) return current;
  ++w->raises;
  // The limit reached, in MiB, rides in the pointer: no allocation inside a collection.
  const uintptr_t mib = current >> 20;
  napi_call_threadsafe_function(w->notify, reinterpret_cast<void*>(mib), napi_tsfn_nonblocking);
  return current + std::max(initial / 4, kMinimumGrant);
}

// On the loop's next turn: callback(limitReachedBytes).
void CallJs(napi_env env, napi_value callback, void*, void* data) {
  if (env == nullptr || callback == nullptr) return;
  napi_value undefined, bytes;
  napi_get_undefined(env, &undefined);
  napi_create_double(env, static_cast<double>(reinterpret_cast<uintptr_t>(data) << 20), &bytes);
  napi_call_function(env, undefined, callback, 1, &bytes, nullptr);
}

// watchHeapLimit(callback): callback(limitBytes) after each near-limit raise; throws if a
// watcher is already set.
napi_value WatchHeapLimit(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value callback;
  napi_get_cb_info(env, info, &argc, &callback, nullptr, nullptr);
  napi_valuetype type = napi_undefined;
  if (argc == 1) napi_typeof(env, callback, &type);
  if (type != napi_function) {
    napi_throw_type_error(env, nullptr, "fairdiff heap guard: watchHeapLimit takes a function");
    return nullptr;
  }
  if (watcher.isolate != nullptr) {
    napi_throw_error(env, nullptr, "fairdiff heap guard: already watching");
    return nullptr;
  }
  napi_value name;
  napi_create_string_utf8(env, "fairdiffHeapLimit", NAPI_AUTO_LENGTH, &name);
  if (napi_create_threadsafe_function(env, callback, nullptr, name, 0, 1, nullptr, nullptr,
                                      nullptr, CallJs, &watcher.notify) != napi_ok) {
    napi_throw_error(env, nullptr, "fairdiff heap guard: cannot create its callback");
    return nullptr;
  }
  // The watcher must not keep the process alive.
  napi_unref_threadsafe_function(env, watcher.notify);
  watcher.isolate = v8::Isolate::GetCurrent();
  watcher.raises = 0;
  watcher.isolate->AddNearHeapLimitCallback(NearHeapLimit, &watcher);
  watcher.isolate->AutomaticallyRestoreInitialHeapLimit(0.7);
  return nullptr;
}

// unwatchHeapLimit(): removes the watcher (the initial limit back); a no-op without one.
napi_value UnwatchHeapLimit(napi_env, napi_callback_info) {
  if (watcher.isolate == nullptr) return nullptr;
  watcher.isolate->RemoveNearHeapLimitCallback(NearHeapLimit, 0);
  napi_release_threadsafe_function(watcher.notify, napi_tsfn_release);
  watcher = Watcher{};
  return nullptr;
}

}  // namespace

NAPI_MODULE_INIT() {
  const napi_property_descriptor functions[] = {
      {"watchHeapLimit", nullptr, WatchHeapLimit, nullptr, nullptr, nullptr, napi_default,
       nullptr},
      {"unwatchHeapLimit", nullptr, UnwatchHeapLimit, nullptr, nullptr, nullptr, napi_default,
       nullptr},
  };
  napi_define_properties(env, exports, sizeof functions / sizeof *functions, functions);
  return exports;
}
