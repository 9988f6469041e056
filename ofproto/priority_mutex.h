// The switch's one lock, with the poll threads first (issue #14 item 5: "upcalls never wait on the
// control thread"). std::mutex does not queue: a control-thread loop that unlocks and relocks at
// once (a stream of flow_mods, a 100,000-rule batch applied in chunks) wins the lock again and
// again, and a poll thread's upcall waited 50-120 ms (bench/fastpath/upcall_latency.cpp). Here a
// poll thread announces itself before it blocks (lockUrgent), and the control thread's lock()
// first lets every announced poll thread go ahead, so an upcall waits for at most the one
// control-thread hold in progress, and holds are kept short (applyFlowMods applies a few dozen
// rules per hold). A burst of upcalls cannot starve the control thread for long either: it
// stops deferring after kMaxDefer.
//
// Thread-safety: the point of it. lock()/unlock() make it a BasicLockable for std::lock_guard
// (control thread); poll threads use UrgentLock.
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

namespace vs::ofproto {

class PriorityMutex {
public:
    static constexpr std::chrono::microseconds kMaxDefer{2000};

    void lockUrgent() {
        waiting_.fetch_add(1, std::memory_order_acq_rel);
        mu_.lock();
        waiting_.fetch_sub(1, std::memory_order_acq_rel);
    }
    void lock() {
        if (waiting_.load(std::memory_order_acquire) > 0) {
            auto until = std::chrono::steady_clock::now() + kMaxDefer;
            while (waiting_.load(std::memory_order_acquire) > 0 && std::chrono::steady_clock::now() < until)
                std::this_thread::yield();
        }
        mu_.lock();
    }
    void unlock() { mu_.unlock(); }

private:
    std::mutex mu_;
    std::atomic<int> waiting_{0};
};

// std::lock_guard for the poll threads.
class UrgentLock {
public:
    explicit UrgentLock(PriorityMutex& m) : m_(m) { m_.lockUrgent(); }
    ~UrgentLock() { m_.unlock(); }
    UrgentLock(const UrgentLock&) = delete;
    UrgentLock& operator=(const UrgentLock&) = delete;

private:
    PriorityMutex& m_;
};

}  // namespace vs::ofproto
