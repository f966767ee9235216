#include "threadPool.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace fairdiff {
namespace {

class Pool {
 public:
  ~Pool() { resize(1); }

  void resize(int threads) {
    std::lock_guard<std::mutex> use(useMutex_);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
      generation_.fetch_add(1);
    }
    wake_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
    stopping_ = false;
    threads_ = threads < 1 ? 1 : threads;
    for (int i = 1; i < threads_; ++i) workers_.emplace_back([this] { work(); });
  }

  int threads() const { return threads_; }

  void run(int parts, const std::function<void(int)>& body) {
    // Another JavaScript thread (a worker) may be using the pool: run serially then.
    std::unique_lock<std::mutex> use(useMutex_, std::try_to_lock);
    if (!use.owns_lock() || threads_ == 1 || parts <= 1) {
      for (int p = 0; p < parts; ++p) body(p);
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      body_ = &body;
      parts_ = parts;
      next_.store(0);
      pending_.store(static_cast<int>(workers_.size()));
      generation_.fetch_add(1);
    }
    if (sleeping_.load() > 0) wake_.notify_all();
    take();
    // The workers' last parts are short: spin for them before sleeping.
    for (int i = 0; i < kSpins && pending_.load() != 0; ++i) pause();
    if (pending_.load() != 0) {
      std::unique_lock<std::mutex> lock(mutex_);
      done_.wait(lock, [this] { return pending_.load() == 0; });
    }
    body_ = nullptr;
  }

 private:
  void take() {
    for (int p = next_.fetch_add(1); p < parts_; p = next_.fetch_add(1)) (*body_)(p);
  }

  static void pause() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }

  // A kernel's parallel loops come in bursts (one kernel after another, tens of microseconds
  // apart): a worker spins that long for the next one before it sleeps on the condition.
  void work() {
    unsigned long seen = 0;
    for (;;) {
      for (int i = 0; i < kSpins && generation_.load() == seen; ++i) pause();
      if (generation_.load() == seen) {
        std::unique_lock<std::mutex> lock(mutex_);
        sleeping_.fetch_add(1);
        wake_.wait(lock, [&] { return generation_.load() != seen; });
        sleeping_.fetch_sub(1);
      }
      {
        std::lock_guard<std::mutex> lock(mutex_);
        seen = generation_.load();
        if (stopping_) return;
      }
      take();
      if (pending_.fetch_sub(1) == 1) {
        std::lock_guard<std::mutex> lock(mutex_);
        done_.notify_one();
      }
    }
  }

  std::mutex useMutex_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  std::vector<std::thread> workers_;
  const std::function<void(int)>* body_ = nullptr;
  int parts_ = 0;
  std::atomic<int> next_{0};
  std::atomic<int> pending_{0};
  std::atomic<unsigned long> generation_{0};
  std::atomic<int> sleeping_{0};
  // ~50–100 µs of pause instructions.
  static constexpr int kSpins = 2000;
  bool stopping_ = false;
  int threads_ = 1;
};

Pool& pool() {
  static Pool instance;
  return instance;
}

}  // namespace

void setThreadCount(int threads) { pool().resize(threads); }
int threadCount() { return pool().threads(); }
void parallelFor(int parts, const std::function<void(int)>& body) { pool().run(parts, body); }

}  // namespace fairdiff
