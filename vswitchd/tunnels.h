// Tunnel plumbing for the reconciler: parses VXLAN interface options and keeps one shared receive
// socket (dp::VxlanSocket) per (local_ip, dst_port), registered with the datapath, with its demux
// table of (remote VTEP, VNI) -> VXLAN port.
//
// Thread-safety: control thread only.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "datapath/datapath.h"
#include "datapath/vxlan.h"
#include "vswitchd/config_model.h"

namespace vs::vswitchd {

// Reads Interface options of a VXLAN interface: remote_ip (IPv4 or "flow", required), key (VNI
// 0..16777215 or "flow", default 0), local_ip, dst_port (default 4789), tos, ttl. Returns the
// problem ("vxlan interface requires option remote_ip", "invalid key 'x': ...") or nullopt.
std::optional<std::string> parseVxlanOptions(const StringMap& options, dp::VxlanConfig& out);
// Option flood_remotes=IP,IP,... of a remote_ip=flow port with a fixed key: remote VTEPs that
// NORMAL floods to besides those it learned (docs/tunnels.md). Checked by parseVxlanOptions;
// `error` (if given) gets the problem. Addresses in network order; empty when unset or invalid.
std::vector<std::uint32_t> parseFloodRemotes(const StringMap& options, std::string* error = nullptr);

class TunnelSockets {
public:
    explicit TunnelSockets(dp::Datapath& dp) : dp_(dp) {}
    ~TunnelSockets();
    // Registers VXLAN port `dp_port` (configured by `cfg`) for receive. Returns an error message
    // if the shared socket cannot be bound (e.g. "UDP port 4789 on 0.0.0.0 is in use").
    std::optional<std::string> attach(const dp::VxlanConfig& cfg, std::uint32_t dp_port,
                                      std::shared_ptr<dp::Port> port);
    void detach(std::uint32_t dp_port);
    // Closes sockets no port uses any more. Called after a whole reconciliation, so a port that is
    // reconfigured (removed and added again) keeps its socket instead of racing to rebind it.
    void collect();

private:
    using SockKey = std::pair<std::uint32_t, std::uint16_t>;
    struct Sock {
        std::shared_ptr<dp::VxlanSocket> socket;
        std::uint32_t dp_no = 0;
    };
    struct Member {
        SockKey sock;
        std::uint32_t remote;
        std::uint32_t vni;
        std::shared_ptr<dp::Port> port;
    };
    void publish(const SockKey& k);

    dp::Datapath& dp_;
    std::map<SockKey, Sock> sockets_;
    std::map<std::uint32_t, Member> members_;  // by VXLAN port's datapath number
};

}  // namespace vs::vswitchd
