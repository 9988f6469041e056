// The switch's answers to controller requests (docs/protocol.md "Controller protocol"), on
// values: a decoded message in, the reply or error out. Requests act on ofproto: flow_mod
// (OpenFlow 1.3.5 section 7.3.4.1; the flow text is parsed by ofproto/ofp_parse.h), packet_out
// (7.3.7, through xlate and Datapath::execute), features (7.3.1), multipart desc / flow / port /
// table / port_desc statistics (7.3.5), echo (7.5.2) and barrier (7.3.8: requests are handled
// in order, one at a time, so a barrier reply means everything before it is done). Also the
// conversion of ofproto's packet_in and removed rules into protocol messages.
//
// Errors quote the offending message (its xid and first bytes) and use the types and codes of
// docs/protocol.md: bad_request (bad_type, bad_port, bad_packet, bad_multipart),
// flow_mod_failed (bad_flow, bad_table_id, unknown), bad_action (bad_syntax).
//
// Thread-safety: none; the control thread calls it. Ofproto is thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "ofproto/ofproto.h"
#include "protocol/ofmsg.h"

namespace vs::vswitchd {

class OfRequestHandler {
public:
    explicit OfRequestHandler(ofproto::Ofproto& of) : of_(of) {}

    // The reply to request `msg` from a controller of `bridge` (`raw`: the line it came in, quoted
    // in errors). nullopt when nothing is sent back (echo_reply, error, hello).
    std::optional<protocol::of::Message> handle(const std::string& bridge, const protocol::of::Message& msg,
                                                std::string_view raw);

    protocol::of::FeaturesReply features(const std::string& bridge) const;
    std::vector<protocol::of::PortDesc> portDescs(const std::string& bridge) const;
    static protocol::of::PortDesc portDesc(const ofproto::PortRow& row);
    static protocol::of::PacketIn toWire(const ofproto::PacketIn& pin);
    static protocol::of::FlowRemoved toWire(const ofproto::RemovedRule& r);
    // Datapath ID: the local port's MAC in the low 48 bits (as Open vSwitch derives it).
    std::string datapathId(const std::string& bridge) const;

private:
    using Message = protocol::of::Message;
    std::optional<Message> flowMod(const std::string& bridge, const Message& msg);
    std::optional<Message> packetOut(const std::string& bridge, const Message& msg, std::string_view raw);
    Message multipart(const std::string& bridge, const Message& msg, std::string_view raw);
    std::vector<protocol::of::FlowStats> flowStats(const std::string& bridge, const std::string& filter) const;

    ofproto::Ofproto& of_;
};

}  // namespace vs::vswitchd
