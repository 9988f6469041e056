// VXLAN (RFC 7348) ports.
//
// VxlanSocket: the receive side, one UDP socket per (local_ip, dst_port) shared by every VXLAN
// port that uses them. It validates each datagram's VXLAN header (section 5: I flag set, reserved
// bits zero), and demultiplexes by (remote VTEP address, VNI) to the datapath port of the VXLAN
// interface, which it names in Packet::in_port with the tunnel metadata (VNI, outer addresses).
// Anything it cannot place is dropped and counted.
//
// VxlanPort: one VXLAN interface, the transmit side. It encapsulates frames in VXLAN/UDP and hands
// them to the kernel through a raw IPv4 socket, so the host's routing and neighbour tables pick
// the underlay interface and next hop. The outer UDP source port is derived from the inner flow's
// hash (section 5, for ECMP). Offloaded frames are segmented / checksummed in software first
// (gso.h). An IPv4 frame with DF set that does not fit the path MTU minus the 50-byte overhead is
// answered as Linux's bridged VXLAN does: an ICMP "fragmentation needed" (RFC 1191) is sent back
// into the bridge from this port, as if from the destination.
//
// Thread-safety: receive() on the owning poll thread, send() under Port::txMutex() (which also
// guards the ICMP loopback queue that receive() drains); construction and setDemux() on the control
// thread (the demux table is swapped as an immutable snapshot, read once per batch).
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <deque>
#include <memory>
#include <mutex>
#include <system_error>
#include <unordered_map>
#include <vector>

#include "datapath/gso.h"
#include "datapath/port.h"
#include "datapath/tunnel_gro.h"

namespace vs::dp {

inline constexpr std::uint16_t kVxlanPort = 4789;   // IANA, RFC 7348 section 5
inline constexpr std::uint32_t kAnyVni = 0xffffffff;  // key=flow: any VNI

struct VxlanConfig {
    std::uint32_t remote_ip = 0;   // network order; 0 with remote_flow
    bool remote_flow = false;      // remote_ip=flow: destination from Packet::tun_dst
    std::uint32_t vni = 0;         // 24 bits
    bool key_flow = false;         // key=flow: VNI from Packet::tun_id
    std::uint32_t local_ip = 0;    // network order; 0 = chosen by routing
    std::uint16_t dst_port = kVxlanPort;
    int tos = 0;                   // outer TOS byte
    int ttl = 0;                   // outer TTL; 0 = the kernel's default
};

// (remote VTEP, VNI) -> the VXLAN port (its datapath number, and the port itself so that its receive
// counters count what arrives for it). remote 0 / kAnyVni are wildcards (flow-based ports).
struct VxlanDemux {
    struct Target {
        std::uint32_t port_no = 0;
        std::shared_ptr<Port> port;
    };
    std::unordered_map<std::uint64_t, Target> ports;
    static std::uint64_t key(std::uint32_t remote, std::uint32_t vni) { return (std::uint64_t(remote) << 32) | vni; }
    void add(std::uint32_t remote, std::uint32_t vni, std::uint32_t port_no, std::shared_ptr<Port> port) {
        ports[key(remote, vni)] = Target{port_no, std::move(port)};
    }
    // Target for a packet from `remote` with `vni`, or nullptr. `vni_known` tells whether any port
    // has the VNI.
    const Target* find(std::uint32_t remote, std::uint32_t vni, bool& vni_known) const;
};

class VxlanSocket final : public Port {
public:
    // Binds UDP (local_ip, dst_port). EADDRINUSE if the port is taken (e.g. by a kernel VXLAN device).
    static std::unique_ptr<VxlanSocket> create(std::uint32_t local_ip, std::uint16_t dst_port, std::error_code& ec);
    ~VxlanSocket() override;
    const char* type() const noexcept override { return "vxlan_socket"; }
    // What the poll thread waits on: readable while datagrams wait in the socket or received
    // segments wait in this object (an epoll set of the socket and an eventfd).
    int fd() const noexcept override { return ep_fd_; }
    int socketFd() const noexcept { return fd_; }  // the UDP socket itself
    // Hands out up to `max` frames: inner frames of received datagrams, consecutive TCP segments
    // of one connection merged into GSO super-frames (tunnel_gro.h). Datagrams the kernel
    // coalesced (UDP_GRO) are split at their segment size first.
    int receive(Packet** pkts, int max) noexcept override;
    int send(Packet* const*, int) noexcept override { return 0; }
    void setDemux(std::shared_ptr<const VxlanDemux> d);

private:
    // Received datagrams not yet fully handed out (receive() may run out of packets mid-way).
    struct RxBuffers {
        static constexpr std::size_t kSlot = 65536 + 512;  // a datagram, or a UDP_GRO batch of them
        std::unique_ptr<std::uint8_t[]> data{new std::uint8_t[kSlot * kBatchSize]};
        mmsghdr msgs[kBatchSize];
        iovec iov[kBatchSize];
        sockaddr_in from[kBatchSize];
        alignas(cmsghdr) char control[kBatchSize][CMSG_SPACE(sizeof(int))];
        int count = 0, next = 0;  // datagrams received; the one being handed out
        std::uint32_t off = 0;    // offset of its next segment
    };
    VxlanSocket(std::string name, int fd);
    bool setupPoll(std::error_code& ec);
    // Validates one segment's VXLAN header and finds its port; nullptr (counted) if refused.
    const VxlanDemux::Target* demux(const std::uint8_t* seg, std::size_t len, const sockaddr_in& from,
                                    const VxlanDemux& demux) noexcept;
    bool drain(std::uint64_t& dropped) noexcept;  // false: out of packets with segments left
    void notePending() noexcept;
    int fd_ = -1;
    int ep_fd_ = -1;
    int pend_fd_ = -1;          // eventfd: readable while rx_ holds segments not handed out
    bool pend_signalled_ = false;
    std::unique_ptr<RxBuffers> rx_;
    TunnelGro gro_;
    std::mutex mu_;
    std::shared_ptr<const VxlanDemux> demux_ = std::make_shared<VxlanDemux>();
    std::atomic<std::uint64_t> demux_version_{1};
    std::uint64_t seen_version_ = 0;        // poll thread's copy
    std::shared_ptr<const VxlanDemux> cached_;
};

class VxlanPort final : public Port {
public:
    static std::unique_ptr<VxlanPort> create(const std::string& name, const VxlanConfig& cfg, std::error_code& ec);
    ~VxlanPort() override;
    const char* type() const noexcept override { return "vxlan"; }
    int fd() const noexcept override { return loop_fd_; }   // readable when ICMP replies wait
    int receive(Packet** pkts, int max) noexcept override;  // the ICMP replies
    int send(Packet* const* pkts, int n) noexcept override;
    const VxlanConfig& config() const noexcept { return cfg_; }
    TunnelMode tunnelMode() const noexcept override { return {true, cfg_.remote_flow, cfg_.key_flow}; }

private:
    VxlanPort(std::string name, const VxlanConfig& cfg, int raw_fd, int loop_fd);
    bool openGsoSockets(std::error_code& ec);
    bool buildGso(std::size_t first, std::uint32_t vni) noexcept;
    void sendGso(std::uint32_t dst, std::size_t sock, std::size_t segments) noexcept;
    int pathMtu(std::uint32_t remote) noexcept;
    bool tooBig(const WireFrame& w, std::size_t frame_len, int mtu) noexcept;
    void fragNeeded(const Packet& p, int mtu) noexcept;
    void flush() noexcept;

    VxlanConfig cfg_;
    int raw_fd_ = -1;
    int loop_fd_ = -1;
    int cached_mtu_ = 0;
    std::int64_t mtu_checked_ms_ = 0;
    std::vector<WireFrame> frames_;
    struct Pending {
        std::uint8_t hdr[16];
        sockaddr_in to;
    };
    std::vector<Pending> pending_;
    std::vector<mmsghdr> msgs_;
    std::vector<std::array<iovec, 3>> iovs_;
    std::deque<std::vector<std::uint8_t>> loopback_;
    // UDP sockets bound to ephemeral source ports, one chosen per inner flow: a segmented
    // super-frame leaves through one of them as one UDP GSO send (UDP_SEGMENT), so the kernel
    // splits it instead of us making one syscall per segment. Their ports are also the source
    // ports of single frames sent through the raw socket, so a flow keeps one outer 5-tuple.
    static constexpr std::size_t kGsoSockets = 8;
    std::vector<int> gso_fds_;
    std::vector<std::uint16_t> gso_ports_;
    std::vector<std::uint8_t> gso_buf_;
    std::uint16_t gso_segment_ = 0;
};

}  // namespace vs::dp
