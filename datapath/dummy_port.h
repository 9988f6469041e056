// DummyPort: a port with no kernel device, for unit tests. Frames are injected into its receive
// queue and captured from its transmit log. Its fd is an eventfd that is readable while frames
// wait, so the poll thread can drive it like a real port.
//
// Thread-safety: inject()/sent()/clearSent() may be called from a test thread while a poll
// thread runs receive()/send(); a mutex guards the queues (tests only, not a fast path).
#pragma once

#include <atomic>
#include <deque>
#include <mutex>
#include <vector>

#include "datapath/port.h"

namespace vs::dp {

struct CapturedFrame {
    std::vector<std::uint8_t> bytes;
    virtio_net_hdr vnet;
    std::uint64_t tun_id = 0;   // tunnel metadata the frame left with (Packet::tun_id, tun_dst)
    std::uint32_t tun_dst = 0;
};

class DummyPort final : public Port {
public:
    explicit DummyPort(std::string name, MacAddr mac = {});
    ~DummyPort() override;
    const char* type() const noexcept override { return "dummy"; }
    int fd() const noexcept override { return efd_; }
    int receive(Packet** pkts, int max) noexcept override;
    int send(Packet* const* pkts, int n) noexcept override;
    MacAddr mac() const override { return mac_; }
    TunnelMode tunnelMode() const noexcept override { return tunnel_; }
    // Makes the port pose as a tunnel (before it is added to a bridge).
    void setTunnelMode(TunnelMode m) { tunnel_ = m; }
    // Carrier (fast_failover liveness tests); up unless set down.
    bool carrier() const override { return carrier_.load(std::memory_order_relaxed); }
    void setCarrier(bool up) { carrier_.store(up, std::memory_order_relaxed); }

    // Queues a frame for the next receive().
    void inject(std::vector<std::uint8_t> frame);
    // Queues a frame as if decapsulated from remote VTEP `tun_src` (network order) with VNI `tun_id`.
    void injectTunneled(std::vector<std::uint8_t> frame, std::uint32_t tun_src, std::uint64_t tun_id);
    // Queues a frame with the virtio-net header a TAP or PACKET_VNET_HDR socket would hand over.
    void injectWithVnet(std::vector<std::uint8_t> frame, const virtio_net_hdr& vnet);
    // Frames sent so far (copies).
    std::vector<CapturedFrame> sent() const;
    void clearSent();

private:
    int efd_ = -1;
    MacAddr mac_;
    TunnelMode tunnel_;
    std::atomic<bool> carrier_{true};
    mutable std::mutex mu_;
    struct RxFrame {
        std::vector<std::uint8_t> bytes;
        std::uint32_t tun_src = 0;
        std::uint64_t tun_id = 0;
        virtio_net_hdr vnet{};
    };
    std::deque<RxFrame> rxq_;
    std::vector<CapturedFrame> txlog_;
};

}  // namespace vs::dp
