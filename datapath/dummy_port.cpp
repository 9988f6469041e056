#include "datapath/dummy_port.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <system_error>

namespace vs::dp {

DummyPort::DummyPort(std::string name, MacAddr mac) : Port(std::move(name)), mac_(mac) {
    efd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (efd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
}

DummyPort::~DummyPort() {
    if (efd_ >= 0) ::close(efd_);
}

void DummyPort::inject(std::vector<std::uint8_t> frame) { injectTunneled(std::move(frame), 0, 0); }

void DummyPort::injectTunneled(std::vector<std::uint8_t> frame, std::uint32_t tun_src, std::uint64_t tun_id) {
    std::lock_guard lk(mu_);
    rxq_.push_back({std::move(frame), tun_src, tun_id, {}});
    std::uint64_t one = 1;
    (void)!::write(efd_, &one, sizeof one);
}

void DummyPort::injectWithVnet(std::vector<std::uint8_t> frame, const virtio_net_hdr& vnet) {
    std::lock_guard lk(mu_);
    rxq_.push_back({std::move(frame), 0, 0, vnet});
    std::uint64_t one = 1;
    (void)!::write(efd_, &one, sizeof one);
}

int DummyPort::receive(Packet** pkts, int max) noexcept {
    std::lock_guard lk(mu_);
    int n = 0;
    while (n < max && !rxq_.empty()) {
        auto& f = rxq_.front().bytes;
        Packet& p = *pkts[n];
        p.reset();
        p.tun_src = rxq_.front().tun_src;
        p.tun_id = rxq_.front().tun_id;
        p.vnet = rxq_.front().vnet;
        if (f.size() > p.tailroom()) {
            PortStats::add(stats().rx_dropped, 1);
            rxq_.pop_front();
            continue;
        }
        std::memcpy(p.data(), f.data(), f.size());
        p.setSize(static_cast<std::uint32_t>(f.size()));
        PortStats::add(stats().rx_packets, 1);
        PortStats::add(stats().rx_bytes, f.size());
        rxq_.pop_front();
        ++n;
    }
    if (rxq_.empty()) {
        std::uint64_t v;
        (void)!::read(efd_, &v, sizeof v);
    }
    return n;
}

int DummyPort::send(Packet* const* pkts, int n) noexcept {
    std::lock_guard lk(mu_);
    for (int i = 0; i < n; ++i) {
        const Packet& p = *pkts[i];
        txlog_.push_back({std::vector<std::uint8_t>(p.data(), p.data() + p.size()), p.vnet, p.tun_id, p.tun_dst});
        PortStats::add(stats().tx_packets, 1);
        PortStats::add(stats().tx_bytes, p.size());
    }
    return n;
}

std::vector<CapturedFrame> DummyPort::sent() const {
    std::lock_guard lk(mu_);
    return txlog_;
}

void DummyPort::clearSent() {
    std::lock_guard lk(mu_);
    txlog_.clear();
}

}  // namespace vs::dp
