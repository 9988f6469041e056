#include "ofproto/slow_path.h"

#include "datapath/coverage.h"

namespace vs::ofproto {

bool SlowPathQueue::push(const dp::Packet& pkt, std::uint64_t userdata) {
    std::lock_guard lk(mu_);
    if (q_.size() >= kMaxQueued) {
        dp::coverageAdd(dp::Coverage::drop_slow_path_queue_full);
        return false;
    }
    bool was_empty = q_.empty();
    q_.push_back(SlowPathPacket{userdata, pkt.in_port, std::vector<std::uint8_t>(pkt.data(), pkt.data() + pkt.size())});
    if (was_empty && wake_) wake_();
    return true;
}

std::vector<SlowPathPacket> SlowPathQueue::take() {
    std::lock_guard lk(mu_);
    std::vector<SlowPathPacket> out;
    out.swap(q_);
    return out;
}

void SlowPathQueue::setWake(std::function<void()> wake) {
    std::lock_guard lk(mu_);
    wake_ = std::move(wake);
}

}  // namespace vs::ofproto
