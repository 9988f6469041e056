// The datapath's cache-hit path without the kernel: a bridge of two "null" ports (receive fills a
// batch from a template, send discards) forwarding 64-byte UDP frames through NORMAL. Prints packets
// per second of user-space work; under `valgrind --tool=callgrind` the instruction total divided by
// the packet count is the instructions per forwarded packet, a figure that does not depend on how
// busy the machine is (docs/benchmarks.md).
//
//   build/bench/fastpath/vs_fastpath [PACKETS]
//   valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.out build/bench/fastpath/vs_fastpath 1000000
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "datapath/port.h"
#include "ofproto/ofproto.h"

namespace {

using namespace vs;

std::vector<std::uint8_t> udpFrame(std::uint8_t src, std::uint8_t dst) {
    std::vector<std::uint8_t> f = {2, 0, 0, 0, 0, dst, 2, 0, 0, 0, 0, src, 0x08, 0x00,
                                   0x45, 0, 0, 46, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, src, 10, 0, 0, dst,
                                   0x30, 0x39, 0x30, 0x3a, 0, 26, 0, 0};
    f.resize(64, 0x41);
    return f;
}

class NullPort final : public dp::Port {
public:
    NullPort(std::string name, std::vector<std::uint8_t> frame) : Port(std::move(name)), frame_(std::move(frame)) {}
    const char* type() const noexcept override { return "null"; }
    int fd() const noexcept override { return -1; }
    int receive(dp::Packet** pkts, int max) noexcept override {
        if (budget_ <= 0) return 0;
        int n = max < budget_ ? max : static_cast<int>(budget_);
        for (int i = 0; i < n; ++i) {
            pkts[i]->reset();
            std::memcpy(pkts[i]->data(), frame_.data(), frame_.size());
            pkts[i]->setSize(static_cast<std::uint32_t>(frame_.size()));
        }
        budget_ -= n;
        return n;
    }
    int send(dp::Packet* const*, int n) noexcept override {
        sent_ += static_cast<std::uint64_t>(n);
        return n;
    }
    long long budget_ = 0;
    std::uint64_t sent_ = 0;

private:
    std::vector<std::uint8_t> frame_;
};

}  // namespace

int main(int argc, char** argv) {
    long long packets = argc > 1 ? std::atoll(argv[1]) : 10'000'000;
    ofproto::Ofproto of;
    of.addBridge("br0");
    auto p1 = std::make_shared<NullPort>("p1", udpFrame(1, 2));
    auto p2 = std::make_shared<NullPort>("p2", udpFrame(2, 1));
    of.addPort("br0", "p1", 1, p1);
    of.addPort("br0", "p2", 2, p2);
    // Learn both hosts, then let the caches settle.
    for (int round = 0; round < 3; ++round) {
        p1->budget_ = 1;
        p2->budget_ = 1;
        of.datapath().runOnce();
    }
    p1->sent_ = p2->sent_ = 0;
    p1->budget_ = packets;
    auto t0 = std::chrono::steady_clock::now();
    while (p1->budget_ > 0) of.datapath().runOnce();
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    auto st = of.datapath().stats();
    std::printf("forwarded %llu of %lld packets in %.3f s: %.2f Mpps (user space only); cache hits %llu, misses %llu\n",
                static_cast<unsigned long long>(p2->sent_), packets, s, static_cast<double>(p2->sent_) / s / 1e6,
                static_cast<unsigned long long>(st.hit), static_cast<unsigned long long>(st.missed));
    return p2->sent_ == static_cast<std::uint64_t>(packets) ? 0 : 1;
}
