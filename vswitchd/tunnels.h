// Tunnel plumbing for the reconciler: parses the options of VXLAN, Geneve and GRE interfaces (Open
// vSwitch's Interface options) and keeps one shared receive socket (dp::TunnelSocket) per
// (protocol, local_ip, dst_port), registered with the datapath, with its demux table of
// (remote VTEP, VNI or key) -> tunnel port.
//
// Thread-safety: control thread only.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "datapath/dpif.h"
#include "datapath/tunnel.h"
#include "vswitchd/config_model.h"

namespace vs::vswitchd {

// The tunnel protocol of Interface type `type` ("vxlan", "geneve", "gre"), or nullopt.
std::optional<dp::TunnelProto> tunnelProto(const std::string& type);
// Reads Interface options of a tunnel interface of type `type`: remote_ip (IPv4 or "flow",
// required), key (VNI 0..16777215, GRE key 0..4294967295, or "flow"; default 0, and for GRE no
// key field), local_ip, dst_port (VXLAN 4789, Geneve 6081; not GRE), tos, ttl, csum (true|false).
// Returns the problem ("gre interface requires option remote_ip", "invalid key 'x': ...",
// "unknown gre option 'dst_port'") or nullopt.
std::optional<std::string> parseTunnelOptions(const std::string& type, const StringMap& options, dp::TunnelConfig& out);
// Option flood_remotes=IP,IP,... of a remote_ip=flow port with a fixed key: remote VTEPs that
// NORMAL floods to besides those it learned (docs/tunnels.md). Checked by parseVxlanOptions;
// `error` (if given) gets the problem. Addresses in network order; empty when unset or invalid.
std::vector<std::uint32_t> parseFloodRemotes(const StringMap& options, std::string* error = nullptr);

class TunnelSockets {
public:
    explicit TunnelSockets(dp::Dpif& dp) : dp_(dp) {}
    ~TunnelSockets();
    // Registers tunnel port `dp_port` (configured by `cfg`) for receive. Returns an error message
    // if the shared socket cannot be bound ("cannot receive VXLAN on UDP 0.0.0.0:4789 (Address
    // in use)") or its UDP port already carries the other protocol.
    std::optional<std::string> attach(const dp::TunnelConfig& cfg, std::uint32_t dp_port,
                                      std::shared_ptr<dp::Port> port);
    void detach(std::uint32_t dp_port);
    // Closes sockets no port uses any more. Called after a whole reconciliation, so a port that is
    // reconfigured (removed and added again) keeps its socket instead of racing to rebind it.
    void collect();

private:
    using SockKey = std::tuple<dp::TunnelProto, std::uint32_t, std::uint16_t>;  // proto, local_ip, dst_port
    struct Sock {
        std::shared_ptr<dp::TunnelSocket> socket;
        std::uint32_t dp_no = 0;
    };
    struct Member {
        SockKey sock;
        std::uint32_t remote;
        std::uint64_t key;
        std::shared_ptr<dp::Port> port;
    };
    void publish(const SockKey& k);

    dp::Dpif& dp_;
    std::map<SockKey, Sock> sockets_;
    std::map<std::uint32_t, Member> members_;  // by tunnel port's datapath number
};

}  // namespace vs::vswitchd
