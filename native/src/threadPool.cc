#include "threadPool.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace fairdiff {
namespace {

// One job at a time, published as a ticket: (parts << 32) | next unclaimed part. A thread owns a
// part once its compare-and-swap advances `next`; the caller only waits for parts someone
// claimed, so a worker that is asleep or descheduled never holds a kernel up (the caller then
// runs every part itself).
class Pool {
 public:
  ~Pool() { resize(1); }

  void resize(int threads) {
    std::lock_guard<std::mutex> use(useMutex_);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_.store(true);
    }
    wake_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
    stopping_.store(false);
    threads_ = threads < 1 ? 1 : threads;
    owner_ = std::this_thread::get_id();
    for (int i = 1; i < threads_; ++i) workers_.emplace_back([this] { work(); });
  }

  int threads() const { return threads_; }

  void run(int parts, const std::function<void(int)>& body, bool share) {
    // The pool serves the thread that sized it (Node's main thread); other JavaScript threads
    // (data-parallel replicas, sampling workers) run their kernels in their own thread.
    if (!share || std::this_thread::get_id() != owner_ || threads_ == 1 || parts <= 1) {
      for (int p = 0; p < parts; ++p) body(p);
      return;
    }
    std::unique_lock<std::mutex> use(useMutex_, std::try_to_lock);
    if (!use.owns_lock()) {
      for (int p = 0; p < parts; ++p) body(p);
      return;
    }
    body_ = &body;
    completed_.store(0);
    ticket_.store(static_cast<uint64_t>(parts) << 32);
    if (sleeping_.load() > 0) {
      { std::lock_guard<std::mutex> lock(mutex_); }
      wake_.notify_all();
    }
    participate();
    spinWhile([&] { return completed_.load() != parts; });
    if (completed_.load() != parts) {
      std::unique_lock<std::mutex> lock(mutex_);
      done_.wait(lock, [&] { return completed_.load() == parts; });
    }
  }

 private:
  static constexpr std::chrono::microseconds kSpin{2000};

  bool hasWork() const {
    const uint64_t t = ticket_.load();
    return (t & 0xffffffffu) < (t >> 32);
  }

  // Claims and runs parts of the current job until none is left.
  void participate() {
    uint64_t t = ticket_.load();
    while ((t & 0xffffffffu) < (t >> 32)) {
      if (!ticket_.compare_exchange_weak(t, t + 1)) continue;
      const int parts = static_cast<int>(t >> 32);
      (*body_)(static_cast<int>(t & 0xffffffffu));
      if (completed_.fetch_add(1) + 1 == parts) {
        std::lock_guard<std::mutex> lock(mutex_);
        done_.notify_one();
      }
      t = ticket_.load();
    }
  }

  // Spins while `waiting()` holds, for at most kSpin: a step's kernels come tens of µs apart.
  // Yields between bursts: where the cores are oversubscribed (two processes' pools, jest's
  // workers) a spinning thread would otherwise hold a core the other's work needs — two
  // processes each training on a pool of 2 on 2 cores took 80–90 ms a step each, 45–52 with the
  // yield (1 thread each: ~43).
  template <typename Condition>
  static void spinWhile(Condition waiting) {
    const auto end = std::chrono::steady_clock::now() + kSpin;
    while (waiting()) {
      for (int i = 0; i < 64; ++i) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
      }
      if (std::chrono::steady_clock::now() > end) return;
      std::this_thread::yield();
    }
  }

  void work() {
    for (;;) {
      spinWhile([this] { return !hasWork() && !stopping_.load(); });
      if (!hasWork() && !stopping_.load()) {
        std::unique_lock<std::mutex> lock(mutex_);
        sleeping_.fetch_add(1);
        wake_.wait(lock, [this] { return hasWork() || stopping_.load(); });
        sleeping_.fetch_sub(1);
      }
      if (stopping_.load()) return;
      participate();
    }
  }

  std::mutex useMutex_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  std::vector<std::thread> workers_;
  const std::function<void(int)>* body_ = nullptr;
  std::atomic<uint64_t> ticket_{0};
  std::atomic<int> completed_{0};
  std::atomic<int> sleeping_{0};
  std::atomic<bool> stopping_{false};
  int threads_ = 1;
  std::thread::id owner_;
};

Pool& pool() {
  static Pool instance;
  return instance;
}

}  // namespace

void setThreadCount(int threads) { pool().resize(threads); }
int threadCount() { return pool().threads(); }
void parallelFor(int parts, const std::function<void(int)>& body, bool share) {
  pool().run(parts, body, share);
}

}  // namespace fairdiff
