// Ofproto's side of the controller channel (ofproto/connmgr.h): packet_in contexts, fail-open,
// packet_out.
#include <stdexcept>

#include "datapath/flow_key.h"
#include "ofproto/ofproto.h"

namespace vs::ofproto {

std::uint32_t Ofproto::internPacketIn(const PacketInContext& c) {
    auto it = pin_index_.find(c);
    if (it != pin_index_.end()) return it->second;
    // Contexts are few (one per controller action of each rule cookie); they are never reused for
    // something else, so a userdata already in a cached flow always means what it meant.
    auto index = static_cast<std::uint32_t>(pin_contexts_.size());
    pin_contexts_.push_back(c);
    pin_index_.emplace(c, index);
    return index;
}

std::optional<PacketIn> Ofproto::packetIn(const SlowPathPacket& p) const {
    std::lock_guard lk(mu_);
    std::uint32_t index = slowPathArg(p.userdata);
    if (index >= pin_contexts_.size()) return std::nullopt;
    const PacketInContext& c = pin_contexts_[index];
    auto b = bridges_.find(c.bridge);
    if (b == bridges_.end()) return std::nullopt;
    PacketIn pin;
    pin.bridge = c.bridge;
    pin.reason = c.reason;
    pin.table_id = c.table_id;
    pin.cookie = c.cookie;
    auto port = by_dp_port_.find(p.in_port);
    if (port != by_dp_port_.end() && port->second.bridge == b->second.get()) pin.in_ofport = port->second.ofport;
    else pin.in_ofport = kPortController;  // injected by a packet_out without an ingress port
    pin.total_len = static_cast<std::uint32_t>(p.frame.size());
    std::size_t n = std::min<std::size_t>(p.frame.size(), c.max_len);
    pin.frame.assign(p.frame.begin(), p.frame.begin() + static_cast<std::ptrdiff_t>(n));
    return pin;
}

void Ofproto::setFailOpen(const std::string& bridge, bool on) {
    std::lock_guard lk(mu_);
    auto it = bridges_.find(bridge);
    if (it == bridges_.end() || it->second->fail_open == on) return;
    it->second->fail_open = on;
    dp_->invalidate();  // cached decisions were made under the other mode
}

bool Ofproto::failOpen(const std::string& bridge) const {
    std::lock_guard lk(mu_);
    auto it = bridges_.find(bridge);
    return it != bridges_.end() && it->second->fail_open;
}

void Ofproto::packetOut(const std::string& bridge, std::vector<std::uint8_t> frame, std::uint32_t in_ofport,
                        const ActionList& actions) {
    for (const Action& a : actions)  // OpenFlow 1.3 section 7.3.7: packet_out carries an action list
        if (a.type == ActionType::kWriteActions || a.type == ActionType::kClearActions || a.type == ActionType::kGotoTable)
            throw std::invalid_argument("packet_out takes actions, not instructions (write_actions, clear_actions, goto_table)");
    dp::ActionList out;
    std::uint32_t dp_in = 0;
    {
        std::lock_guard lk(mu_);
        Bridge& br = bridgeOrThrow(bridge);
        auto pit = br.ports.find(in_ofport);
        if (pit != br.ports.end()) dp_in = pit->second.dp_port;
        else if (in_ofport != kPortController && in_ofport != kPortNone)
            throw std::invalid_argument("in_port " + std::to_string(in_ofport) + " is not a port of bridge " + bridge);
        dp::FlowKey key;
        dp::HeaderOffsets ofs;
        dp::Coverage why{};
        if (!dp::extractFlow(frame.data(), frame.size(), dp_in, key, ofs, why))
            throw std::invalid_argument("the frame does not parse (" + std::string(dp::coverageInfo(why).name) + ")");
        xlatePacketOut(br, key, in_ofport, pit != br.ports.end(), actions, out);
    }
    dp_->execute(std::move(frame), dp_in, std::move(out));
}

}  // namespace vs::ofproto
