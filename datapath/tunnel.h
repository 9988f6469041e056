// Tunnel ports: VXLAN (RFC 7348), Geneve (RFC 8926) and GRE (RFC 2784/2890, Ethernet payload),
// IPv4 underlay. Headers are parsed and built by tunnel_header.h; this is the I/O around them.
//
// TunnelSocket: the receive side, one socket per (protocol, local_ip, dst_port) shared by every
// tunnel port that uses them: a UDP socket for VXLAN and Geneve, a raw IP socket of protocol 47
// for GRE (the kernel here has no GRE module; a raw socket sees every GRE packet addressed to the
// host, so the control plane opens one, unbound, for every GRE port). It validates each packet's tunnel header and demultiplexes by (remote VTEP, VNI or key)
// to the datapath port of the tunnel interface, which it names in Packet::in_port with the tunnel
// metadata (VNI/key, outer addresses). Anything it cannot place is dropped and counted.
//
// TunnelPort: one tunnel interface, the transmit side. It encapsulates frames and hands them to
// the kernel through a raw IPv4 socket (protocol UDP for VXLAN/Geneve, GRE for GRE), so the host's
// routing and neighbour tables pick the underlay interface and next hop. The outer UDP source port
// is derived from the inner flow's hash (RFC 7348 section 5, RFC 8926 section 3.3, for ECMP).
// Offloaded frames are segmented / checksummed in software first (gso.h); over UDP a segmented
// frame leaves as one UDP GSO send. An IPv4 frame with DF set that does not fit the path MTU minus
// the tunnel's overhead is answered as Linux's bridged VXLAN does: an ICMP "fragmentation needed"
// (RFC 1191) is sent back into the bridge from this port, as if from the destination.
//
// Thread-safety: receive() on the owning poll thread, send() under Port::txMutex() (which also
// guards the ICMP loopback queue that receive() drains); construction and setDemux() on the control
// thread (the demux table is swapped as an immutable snapshot, read once per batch).
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <system_error>
#include <unordered_map>
#include <vector>

#include "datapath/gso.h"
#include "datapath/port.h"
#include "datapath/tunnel_gro.h"
#include "datapath/tunnel_header.h"

namespace vs::dp {

inline constexpr std::uint64_t kAnyKey = 0x1ffffffff;  // key=flow: any VNI or GRE key (33 bits: no real key)

struct TunnelConfig {
    TunnelProto proto = TunnelProto::kVxlan;
    std::uint32_t remote_ip = 0;   // network order; 0 with remote_flow
    bool remote_flow = false;      // remote_ip=flow: destination from Packet::tun_dst
    std::uint32_t key = 0;         // VNI (24 bits) or GRE key (32 bits)
    bool key_flow = false;         // key=flow: VNI/key from Packet::tun_id
    bool key_present = false;      // GRE: option key given (the K bit is sent)
    bool csum = false;             // checksum the encapsulation (GRE checksum; UDP checksum)
    std::uint32_t local_ip = 0;    // network order; 0 = chosen by routing
    std::uint16_t dst_port = kVxlanPort;  // UDP protocols only
    int tos = 0;                   // outer TOS byte
    int ttl = 0;                   // outer TTL; 0 = the kernel's default
};

// (remote VTEP, VNI or key) -> the tunnel port (its datapath number, and the port itself so that its
// receive counters count what arrives for it). remote 0 / kAnyKey are wildcards (flow-based ports).
struct TunnelDemux {
    struct Target {
        std::uint32_t port_no = 0;
        std::shared_ptr<Port> port;
    };
    struct KeyHash {
        std::size_t operator()(const std::pair<std::uint32_t, std::uint64_t>& k) const noexcept {
            return std::hash<std::uint64_t>()(k.second * 0x9e3779b97f4a7c15ull ^ k.first);
        }
    };
    std::unordered_map<std::pair<std::uint32_t, std::uint64_t>, Target, KeyHash> ports;
    void add(std::uint32_t remote, std::uint64_t key, std::uint32_t port_no, std::shared_ptr<Port> port) {
        ports[{remote, key}] = Target{port_no, std::move(port)};
    }
    // Target for a packet from `remote` with VNI/key `key`, or nullptr. `key_known` tells whether
    // any port has the key.
    const Target* find(std::uint32_t remote, std::uint64_t key, bool& key_known) const;
};

class TunnelSocket final : public Port {
public:
    // VXLAN/Geneve: binds UDP (local_ip, dst_port); EADDRINUSE if the port is taken (e.g. by a
    // kernel VXLAN device). GRE: a raw socket of IP protocol 47 bound to local_ip (dst_port unused).
    static std::unique_ptr<TunnelSocket> create(TunnelProto proto, std::uint32_t local_ip, std::uint16_t dst_port,
                                                std::error_code& ec);
    ~TunnelSocket() override;
    const char* type() const noexcept override { return "tunnel_socket"; }
    TunnelProto proto() const noexcept { return proto_; }
    // What the poll thread waits on: readable while datagrams wait in the socket or received
    // segments wait in this object (an epoll set of the socket and an eventfd).
    int fd() const noexcept override { return ep_fd_; }
    int socketFd() const noexcept { return fd_; }  // the UDP (or raw GRE) socket itself
    // Hands out up to `max` frames: inner frames of received datagrams, consecutive TCP segments
    // of one connection merged into GSO super-frames (tunnel_gro.h). Datagrams the kernel
    // coalesced (UDP_GRO) are split at their segment size first.
    int receive(Packet** pkts, int max) noexcept override;
    int send(Packet* const*, int) noexcept override { return 0; }
    void setDemux(std::shared_ptr<const TunnelDemux> d);

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
    TunnelSocket(std::string name, TunnelProto proto, int fd);
    bool setupPoll(std::error_code& ec);
    // Validates one segment's tunnel header and finds its port; nullptr (counted) if refused.
    const TunnelDemux::Target* demux(const std::uint8_t* seg, std::size_t len, const sockaddr_in& from,
                                     const TunnelDemux& demux, TunnelHeader& hdr) noexcept;
    bool drain(std::uint64_t& dropped) noexcept;  // false: out of packets with segments left
    void notePending() noexcept;
    TunnelProto proto_;
    int fd_ = -1;
    int ep_fd_ = -1;
    int pend_fd_ = -1;          // eventfd: readable while rx_ holds segments not handed out
    bool pend_signalled_ = false;
    std::unique_ptr<RxBuffers> rx_;
    TunnelGro gro_;
    std::mutex mu_;
    std::shared_ptr<const TunnelDemux> demux_ = std::make_shared<TunnelDemux>();
    std::atomic<std::uint64_t> demux_version_{1};
    std::uint64_t seen_version_ = 0;        // poll thread's copy
    std::shared_ptr<const TunnelDemux> cached_;
};

class TunnelPort final : public Port {
public:
    static std::unique_ptr<TunnelPort> create(const std::string& name, const TunnelConfig& cfg, std::error_code& ec);
    ~TunnelPort() override;
    const char* type() const noexcept override { return tunnelProtoName(cfg_.proto); }
    int fd() const noexcept override { return loop_fd_; }   // readable when ICMP replies wait
    int receive(Packet** pkts, int max) noexcept override;  // the ICMP replies
    int send(Packet* const* pkts, int n) noexcept override;
    const TunnelConfig& config() const noexcept { return cfg_; }
    TunnelMode tunnelMode() const noexcept override { return {true, cfg_.remote_flow, cfg_.key_flow}; }

private:
    TunnelPort(std::string name, const TunnelConfig& cfg, int raw_fd, int loop_fd);
    bool openGsoSockets(std::error_code& ec);
    bool buildGso(std::size_t first, std::uint64_t key) noexcept;
    void queue(std::size_t k, std::uint32_t dst, std::uint64_t key, std::size_t sock) noexcept;
    void sendGso(std::uint32_t dst, std::size_t sock, std::size_t segments) noexcept;
    // The kernel's MTU towards `remote` (its route, or a path MTU it learnt), re-read at most every
    // 5 s per remote; 0 when unknown. Flow-based ports keep one entry per remote VTEP.
    int pathMtu(std::uint32_t remote) noexcept;
    bool tooBig(const WireFrame& w, std::size_t frame_len, int mtu) noexcept;
    // `dst`/`key`: where the refused frame was going; the ICMP comes back as if from there.
    void fragNeeded(const Packet& p, int mtu, std::uint32_t dst, std::uint64_t key) noexcept;
    void flush() noexcept;

    TunnelConfig cfg_;
    int raw_fd_ = -1;
    int loop_fd_ = -1;
    std::size_t overhead_ = 0;  // tunnelOverhead(): outer IPv4 + encapsulation
    struct PathMtu {
        int mtu = 0;
        std::int64_t checked_ms = 0;
    };
    std::unordered_map<std::uint32_t, PathMtu> mtus_;  // by remote VTEP (network order)
    std::vector<WireFrame> frames_;
    struct Pending {
        std::uint8_t hdr[8 + kMaxTunnelHeader];  // UDP header (VXLAN, Geneve) + tunnel header
        std::uint8_t hdr_len;
        std::int8_t sock;                        // -1: the raw socket; else gso_fds_[sock] (csum)
        sockaddr_in to;
    };
    std::vector<Pending> pending_;
    std::vector<mmsghdr> msgs_;
    std::vector<std::array<iovec, 3>> iovs_;
    struct Looped {  // an ICMP made here, to be received from this port as if from `tun_src`
        std::vector<std::uint8_t> bytes;
        std::uint32_t tun_src = 0;
        std::uint64_t tun_id = 0;
    };
    std::deque<Looped> loopback_;
    // UDP sockets bound to ephemeral source ports, one chosen per inner flow: a segmented
    // super-frame leaves through one of them as one UDP GSO send (UDP_SEGMENT), so the kernel
    // splits it instead of us making one syscall per segment. Their ports are also the source
    // ports of single frames sent through the raw socket, so a flow keeps one outer 5-tuple.
    // With csum, single frames leave through them too (the kernel fills the UDP checksum in).
    // GRE has none (no UDP): its segments leave one by one through the raw socket.
    static constexpr std::size_t kGsoSockets = 8;
    std::vector<int> gso_fds_;
    std::vector<std::uint16_t> gso_ports_;
    std::vector<std::uint8_t> gso_buf_;
    std::uint16_t gso_segment_ = 0;
};

}  // namespace vs::dp
