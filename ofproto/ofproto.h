// Ofproto: the switch layer. It owns the datapath and the bridges; each bridge has ports
// (numbered by ofport), a MAC table, and decides what happens to a packet the datapath could not
// find in its cache (the upcall), as Open vSwitch's NORMAL action does: MAC learning per (MAC,
// VLAN), flooding of broadcast, multicast and unknown unicast to every port but the ingress one,
// filtering when the destination is behind the ingress port.
//
// Every decision is handed back to the datapath as a megaflow whose mask names each field the
// decision read. Changes that can alter a decision (a new or moved MAC, an expired or flushed
// entry, a port added or removed, a settings change) invalidate the datapath's caches.
//
// Thread-safety: all public methods are thread-safe; one mutex guards the bridges. Control
// methods are called by the daemon's control thread; upcall()/flowsUsed() by poll threads.
// Lifecycle: construct, add bridges and ports, start(); destruction stops the datapath first.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "datapath/datapath.h"
#include "ofproto/mac_table.h"
#include "ofproto/vlan.h"

namespace vs::ofproto {

using Clock = std::function<std::int64_t()>;  // monotonic milliseconds

struct BridgeSettings {
    int mac_aging_s = MacTable::kDefaultAgingS;
    std::size_t mac_table_size = MacTable::kDefaultMaxEntries;
};

struct FdbRow {
    std::string port_name;
    std::uint32_t ofport = 0;
    std::uint16_t vlan = 0;
    MacAddr mac;
    int age_s = 0;
};

struct PortRow {
    std::string name;
    std::string type;
    std::uint32_t ofport = 0;
    std::uint32_t dp_port = 0;
    std::shared_ptr<dp::Port> port;  // for counters, MAC, MTU, carrier
};

class Ofproto final : public dp::UpcallHandler {
public:
    explicit Ofproto(dp::DatapathConfig cfg = {}, Clock clock = {});
    ~Ofproto() override;

    dp::Datapath& datapath() noexcept { return *dp_; }
    void start() { dp_->start(); }

    // Bridges. addBridge on an existing name and removeBridge on a missing one are no-ops.
    void addBridge(const std::string& name);
    void removeBridge(const std::string& name);
    bool hasBridge(const std::string& name) const;
    void setBridgeSettings(const std::string& name, const BridgeSettings& s);

    // Attaches `port` to bridge `bridge` as `port_name` with number `ofport` (1..65279).
    // Throws std::invalid_argument for an unknown bridge or a name/ofport already in use.
    std::uint32_t addPort(const std::string& bridge, const std::string& port_name, std::uint32_t ofport,
                          std::shared_ptr<dp::Port> port, const PortVlan& vlan = {});
    // Changes a port's VLAN configuration; forgets the MACs learned on it. No-op if unchanged.
    void setPortVlan(const std::string& bridge, const std::string& port_name, const PortVlan& vlan);
    // Detaches a port (no-op if absent) and forgets the MACs learned on it.
    void removePort(const std::string& bridge, const std::string& port_name);
    std::vector<PortRow> ports(const std::string& bridge) const;

    // MAC table introspection (fdb/show, fdb/flush). Unknown bridge: std::invalid_argument.
    std::vector<FdbRow> fdb(const std::string& bridge) const;
    std::size_t fdbFlush(const std::optional<std::string>& bridge);

    // Periodic work on the control thread (about once a second): MAC aging.
    void runPeriodic();

    // dp::UpcallHandler.
    bool upcall(const dp::FlowKey& key, const dp::Packet& pkt, dp::FlowKey& mask, dp::ActionList& actions) override;
    void flowsUsed(std::span<const std::pair<dp::FlowKey, dp::FlowKey>> flows) override;

private:
    struct BridgePort {
        std::string name;
        std::uint32_t ofport;
        std::uint32_t dp_port;
        std::shared_ptr<dp::Port> port;
        PortVlan vlan;
    };
    struct Bridge {
        std::string name;
        std::map<std::uint32_t, BridgePort> ports;  // by ofport
        MacTable macs;
    };
    struct DpPortRef {
        Bridge* bridge;
        std::uint32_t ofport;
    };

    Bridge& bridgeOrThrow(const std::string& name);
    const Bridge& bridgeOrThrow(const std::string& name) const;
    // NORMAL (xlate_normal.cpp).
    void xlateNormal(Bridge& br, std::uint32_t in_ofport, const dp::FlowKey& key, dp::FlowKey& mask,
                     dp::ActionList& actions);
    void flood(const Bridge& br, std::uint32_t in_ofport, std::uint16_t vlan, std::uint16_t& cur_tci,
               std::uint16_t pcp, dp::ActionList& actions) const;
    static void outputTo(const BridgePort& out, std::uint16_t vlan, std::uint16_t& cur_tci, std::uint16_t pcp,
                         dp::ActionList& actions);

    Clock clock_;
    mutable std::mutex mu_;
    std::map<std::string, std::unique_ptr<Bridge>> bridges_;
    std::map<std::uint32_t, DpPortRef> by_dp_port_;
    std::unique_ptr<dp::Datapath> dp_;  // last: destroyed (threads joined) first
};

}  // namespace vs::ofproto
