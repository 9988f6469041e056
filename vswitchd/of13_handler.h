// The switch's answers to binary OpenFlow 1.3 requests (docs/controller.md "OpenFlow 1.3"):
// a decoded message (protocol/of13.h) in, the frames to send back out. Acts on ofproto as the
// JSON dialect's OfRequestHandler does: flow_mod (OpenFlow 1.3.5 section 7.3.4.1, with
// CHECK_OVERLAP, RESET_COUNTS, SEND_FLOW_REM, cookie masks, out_port/out_group filters),
// packet_out (7.3.7, NO_BUFFER only), features (7.3.1), get/set_config (7.3.2), multipart desc,
// flow, aggregate, table, port_stats, port_desc, group, group_desc and group_features (7.3.5),
// group_mod (7.3.4.2; of13_group.cpp), echo (7.5.2), barrier (7.3.8: one
// request at a time, in order, so the reply follows everything before it), experimenter (refused
// with BAD_REQUEST/BAD_EXPERIMENTER), roles (6.3.5: equal/master/slave with generation_id, a
// new master turns the bridge's other masters into slaves, a slave's flow_mod and packet_out are
// refused with BAD_REQUEST/IS_SLAVE) and get/set_async (7.3.10, per connection). Refusals carry the spec's type/code and the offending
// message's first 64 bytes. Also the conversion of ofproto's asynchronous events (packet_in,
// removed rules, port changes) into OpenFlow 1.3 messages.
//
// Thread-safety: none; the control thread calls it. Ofproto is thread-safe.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ofproto/ofproto.h"
#include "protocol/of13.h"
#include "protocol/ofmsg.h"

namespace vs::vswitchd {

class Of13Handler {
public:
    explicit Of13Handler(ofproto::Ofproto& of) : of_(of) {}

    // Per-connection state: switch configuration (get/set_config), role, async filters.
    struct State {
        std::uint16_t flags = 0;
        std::uint16_t miss_send_len = 128;  // OFP_DEFAULT_MISS_SEND_LEN
        std::uint32_t role = protocol::of13::kRoleEqual;
        protocol::of13::AsyncConfig async;
        // Whether this controller gets an asynchronous message with `reason` (7.3.10).
        bool wantsPacketIn(std::uint8_t reason) const { return want(async.packet_in_mask, reason); }
        bool wantsPortStatus(std::uint8_t reason) const { return want(async.port_status_mask, reason); }
        bool wantsFlowRemoved(std::uint8_t reason) const { return want(async.flow_removed_mask, reason); }

    private:
        bool want(const std::array<std::uint32_t, 2>& mask, std::uint8_t reason) const {
            return reason < 32 && ((mask[role == protocol::of13::kRoleSlave ? 1 : 0] >> reason) & 1);
        }
    };
    // Sessions register their state while up, so that a new master can demote the others.
    void attach(const std::string& bridge, State* st);
    void detach(const std::string& bridge, State* st);
    struct Reply {
        std::vector<std::string> frames;  // encoded messages to send, in order
        std::optional<std::string> refused;  // the problem, when the reply is an error (for the log)
    };

    // The reply to request `msg` (`raw`: its bytes) from a controller of `bridge`.
    Reply handle(const std::string& bridge, const protocol::of13::Message& msg, std::string_view raw, State& st);

    // Called after a port_mod changed a port's config (the controller manager sends port_status).
    void setPortsChanged(std::function<void(const std::string& bridge)> f) { ports_changed_ = std::move(f); }
    static protocol::of13::PacketIn toWire(const ofproto::PacketIn& pin);
    static protocol::of13::FlowRemoved toWire(const ofproto::RemovedRule& r);
    static protocol::of13::Port toWire(const protocol::of::PortDesc& d);

private:
    using Message = protocol::of13::Message;
    std::optional<Message> flowMod(const std::string& bridge, const protocol::of13::FlowMod& fm);
    void packetOut(const std::string& bridge, const protocol::of13::PacketOut& po);
    std::vector<std::string> multipart(const std::string& bridge, std::uint32_t xid,
                                       const protocol::of13::MultipartRequest& req);
    std::vector<protocol::of13::FlowStats> flowStats(const std::string& bridge,
                                                     const protocol::of13::FlowStatsRequest& req) const;
    std::vector<protocol::of13::Port> ports(const std::string& bridge) const;
    std::uint64_t datapathId(const std::string& bridge) const;
    void checkOverlap(const std::string& bridge, const ofproto::FlowMod& fm) const;
    protocol::of13::RoleReply role(const std::string& bridge, const protocol::of13::RoleRequest& q, State& st);
    // Groups (of13_group.cpp; OpenFlow 1.3.5 sections 7.3.4.2, 7.3.5.9-11).
    void groupMod(const std::string& bridge, const protocol::of13::GroupMod& gm);
    void portMod(const std::string& bridge, const protocol::of13::PortMod& pm);  // of13_port.cpp
    std::vector<protocol::of13::GroupStats> groupStats(const std::string& bridge, std::uint32_t group_id) const;
    std::vector<protocol::of13::GroupDesc> groupDescs(const std::string& bridge) const;
    static protocol::of13::GroupFeatures groupFeatures();

    struct BridgeRoles {
        std::optional<std::uint64_t> generation;  // the last master/slave request's generation_id
        std::vector<State*> sessions;
    };
    std::function<void(const std::string&)> ports_changed_;  // setPortsChanged
    ofproto::Ofproto& of_;
    std::map<std::string, BridgeRoles> roles_;
};

// port_mod's config on `row` of `bridge` (of13_port.cpp): ofproto's bits (Ofproto::setPortConfig,
// PortConfigError) and, when PORT_DOWN changes, the interface's netdev down or up. Used by
// OpenFlow port_mod and the management method port/mod (vsofctl mod-port).
void applyPortConfig(ofproto::Ofproto& of, const std::string& bridge, const ofproto::PortRow& row, std::uint32_t config,
                     std::uint32_t mask);

}  // namespace vs::vswitchd
