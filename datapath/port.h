// The datapath's port interface (the provider pattern of Open vSwitch's netdev-provider.h): every
// kind of port — AF_PACKET system port, internal TAP, VXLAN, patch, dummy — receives and sends
// batches of frames and exposes a pollable fd, counters, MTU, MAC and carrier.
//
// Thread-safety: receive() is called by the one poll thread that owns the port; send() by any
// poll thread, always under txMutex(); stats are atomics readable from any thread. Setup (construction) happens on the
// control thread before the port is published to the datapath. Ports are destroyed after the
// last poll thread has dropped its reference to the port table that held them.
#pragma once

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <mutex>
#include <string>

#include "datapath/packet.h"
#include "datapath/policer.h"

namespace vs::dp {

// What kind of tunnel a port is. A flow-based tunnel (remote_ip=flow / key=flow) takes the remote
// VTEP / VNI of each transmitted frame from Packet::tun_dst / tun_id (a set-tunnel action) and
// reports them for received frames in Packet::tun_src / tun_id.
struct TunnelMode {
    bool tunnel = false;       // frames travel to other VTEPs (split horizon applies)
    bool remote_flow = false;  // remote VTEP chosen per frame
    bool key_flow = false;     // VNI chosen per frame
    bool flowBased() const noexcept { return remote_flow || key_flow; }
    bool operator==(const TunnelMode&) const = default;
};

// Per-port counters. Writers add once per batch with relaxed atomics; readers may see values
// from different batches.
struct PortStats {
    std::atomic<std::uint64_t> rx_packets{0}, rx_bytes{0}, rx_dropped{0};
    std::atomic<std::uint64_t> tx_packets{0}, tx_bytes{0}, tx_dropped{0};
    std::atomic<std::uint64_t> rx_policed{0};  // of rx_dropped: over the ingress policing rate (policer.h)
    static void add(std::atomic<std::uint64_t>& c, std::uint64_t n) noexcept {
        if (n) c.fetch_add(n, std::memory_order_relaxed);
    }
    // One received batch: frames delivered, their bytes, frames dropped on receive.
    void addRx(std::uint64_t packets, std::uint64_t bytes, std::uint64_t dropped) noexcept {
        add(rx_packets, packets);
        add(rx_bytes, bytes);
        add(rx_dropped, dropped);
    }
};

// True for the errno of a non-blocking send that the kernel refused because the device's or the
// socket's queue is full (EAGAIN/EWOULDBLOCK, ENOBUFS): the rest of a batch would fail the same
// way, so a port's send() drops it (counted as drop_tx_busy) instead of trying frame by frame.
inline bool txQueueFull(int err) noexcept { return err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS; }

class Port {
public:
    explicit Port(std::string name) : name_(std::move(name)) {}
    virtual ~Port() = default;
    Port(const Port&) = delete;
    Port& operator=(const Port&) = delete;

    const std::string& name() const noexcept { return name_; }
    // Held around send(): any poll thread may transmit to any port (one uncontended lock per
    // batch). receive() is called by the one poll thread that owns the port.
    std::mutex& txMutex() noexcept { return tx_mu_; }
    // "system", "internal", "dummy", ...
    virtual const char* type() const noexcept = 0;
    // A file descriptor that becomes readable when receive() has work; -1 if the port never
    // receives on its own.
    virtual int fd() const noexcept = 0;
    // Receives up to `max` frames into pkts[0..max); it may reorder the pointers in pkts. Each packet is reset and gets its
    // frame, size and offload header; in_port is set by the caller. Returns the number received
    // (0 when nothing is ready; never blocks). Frames that cannot be received whole are counted
    // in rx_dropped and coverage.
    virtual int receive(Packet** pkts, int max) noexcept = 0;
    // Sends pkts[0..n). Never blocks: what the kernel refuses is counted in tx_dropped; a full
    // transmit queue ends the batch (txQueueFull).
    // Returns the number sent.
    virtual int send(Packet* const* pkts, int n) noexcept = 0;
    // Current MAC address and MTU (bytes of L3 payload), read from the device when possible.
    virtual MacAddr mac() const { return {}; }
    virtual int mtu() const { return 1500; }
    virtual bool carrier() const { return true; }
    // Periodic upkeep (about once a second) on the owning poll thread. Returns true when the
    // port wants receive() called now even if its fd is not readable.
    virtual bool housekeep(std::int64_t /*now_ms*/) noexcept { return false; }
    // Not a tunnel unless the port says so.
    virtual TunnelMode tunnelMode() const noexcept { return {}; }

    PortStats& stats() noexcept { return stats_; }
    const PortStats& stats() const noexcept { return stats_; }
    // Ingress policing (Interface ingress_policing_rate/burst): off until configured; applied by
    // the poll thread to every received batch.
    IngressPolicer& ingressPolicer() noexcept { return policer_; }

private:
    std::string name_;
    std::mutex tx_mu_;
    PortStats stats_;
    IngressPolicer policer_;
};

}  // namespace vs::dp
