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
#include "ofproto/of_table.h"
#include "ofproto/ofp_types.h"
#include "ofproto/vlan.h"

namespace vs::ofproto {

using Clock = std::function<std::int64_t()>;  // monotonic milliseconds

struct BridgeSettings {
    int mac_aging_s = MacTable::kDefaultAgingS;
    std::size_t mac_table_size = MacTable::kDefaultMaxEntries;
    // Frames received from a tunnel are not flooded to other tunnels (a full mesh of VTEPs needs no
    // spanning tree). other_config:tunnel-split-horizon=false turns it off (hub-and-spoke).
    bool tunnel_split_horizon = true;
    bool operator==(const BridgeSettings&) const = default;
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

    // Periodic work on the control thread (about once a second): MAC aging, rule timeouts.
    void runPeriodic();

    // Flow tables (OpenFlow 1.3 section 6.4). Applies `mods` in order, all or nothing: each is
    // validated first (table range, goto_table forward only). Throws std::invalid_argument naming
    // the problem. Returns the number of rules added, modified or deleted.
    std::size_t applyFlowMods(const std::string& bridge, const std::vector<FlowMod>& mods);
    // Replaces every rule of the bridge by `adds` (restoring persisted rules at start).
    void replaceFlows(const std::string& bridge, const std::vector<FlowMod>& adds);
    // Rules of table `table` (kTableAll: every table) covered by `filter`, highest priority first.
    std::vector<std::shared_ptr<const Rule>> rules(const std::string& bridge, std::uint8_t table,
                                                   const Match& filter) const;
    struct TableStats {
        std::uint8_t table;
        std::size_t active = 0;
        std::uint64_t lookups = 0, matched = 0;
    };
    std::vector<TableStats> tableStats(const std::string& bridge) const;
    // Bumped by every change to any flow table (flow_mods, timeouts, bridge removal), so the
    // daemon knows when the persisted rules are stale.
    std::uint64_t flowTableVersion() const noexcept { return flow_version_.load(std::memory_order_relaxed); }
    // Every rule of the bridge as an add flow_mod (for persistence), table by table.
    std::vector<FlowMod> exportFlows(const std::string& bridge) const;
    // Rules removed by their idle or hard timeout since the last call (for flow_removed).
    std::vector<std::shared_ptr<const Rule>> takeExpired();
    // Translates `flow` (in_port = ofport) through the bridge's tables without side effects on the
    // MAC table, describing each step (ofproto/trace).
    std::vector<std::string> trace(const std::string& bridge, const dp::FlowKey& flow,
                                   const std::function<std::string(const Rule&)>& describe);
    // Ofport -> port name for the bridge's ports (for printing).
    std::optional<std::string> portName(const std::string& bridge, std::uint32_t ofport) const;
    std::optional<std::uint32_t> portNumber(const std::string& bridge, const std::string& name) const;

    // dp::UpcallHandler.
    bool upcall(const dp::FlowKey& key, const dp::Packet& pkt, dp::FlowKey& mask, dp::ActionList& actions,
                dp::StatsSinks& sinks) override;
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
        bool split_horizon = true;
        std::vector<std::unique_ptr<OfTable>> tables;  // 0..kMaxTable, created on first use
        OfTable& table(std::uint8_t id) {
            if (tables.size() <= id) tables.resize(id + 1);
            if (!tables[id]) tables[id] = std::make_unique<OfTable>();
            return *tables[id];
        }
    };
    struct XlateCtx;
    struct DpPortRef {
        Bridge* bridge;
        std::uint32_t ofport;
    };

    Bridge& bridgeOrThrow(const std::string& name);
    const Bridge& bridgeOrThrow(const std::string& name) const;
    // The OpenFlow pipeline (xlate.cpp).
    void xlateTable(XlateCtx& ctx, std::uint8_t table_id);
    void xlateActions(XlateCtx& ctx, const ActionList& actions, std::uint8_t table_id);
    void commit(XlateCtx& ctx);
    static void setField(XlateCtx& ctx, const Action& a);
    void outputPort(XlateCtx& ctx, std::uint32_t ofport);
    // Flow table edits (flow_mods.cpp).
    void validateFlowMod(const Bridge& br, const FlowMod& fm) const;
    std::size_t applyFlowMod(Bridge& br, const FlowMod& fm);
    bool expireRules(std::int64_t now);
    // NORMAL (xlate_normal.cpp). `cur_tci` is the frame's tag in the datapath now (0 = untagged)
    // and is updated to the tag the emitted actions leave.
    void xlateNormal(Bridge& br, std::uint32_t in_ofport, const dp::FlowKey& key, dp::FlowKey& mask,
                     dp::ActionList& actions, std::uint16_t& cur_tci, bool learn = true);
    void flood(const Bridge& br, std::uint32_t in_ofport, std::uint16_t vlan, std::uint16_t& cur_tci,
               std::uint16_t pcp, dp::ActionList& actions) const;
    static void outputTo(const BridgePort& out, std::uint16_t vlan, std::uint16_t& cur_tci, std::uint16_t pcp,
                         dp::ActionList& actions);

    Clock clock_;
    mutable std::mutex mu_;
    std::map<std::string, std::unique_ptr<Bridge>> bridges_;
    std::map<std::uint32_t, DpPortRef> by_dp_port_;
    std::vector<std::shared_ptr<const Rule>> expired_;
    std::atomic<std::uint64_t> flow_version_{0};
    std::unique_ptr<dp::Datapath> dp_;  // last: destroyed (threads joined) first
};

}  // namespace vs::ofproto
