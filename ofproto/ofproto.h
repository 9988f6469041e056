// Ofproto: the switch layer. It owns the datapath and the bridges; each bridge has ports
// (numbered by ofport), a MAC table, and decides what happens to a packet the datapath could not
// find in its cache (the upcall), as Open vSwitch's NORMAL action does: MAC learning per (MAC,
// VLAN), flooding of broadcast, multicast and unknown unicast to every port but the ingress one,
// filtering when the destination is behind the ingress port. A port may be a bond of several
// interfaces (ofproto/bond.h, ofproto_bond.cpp): one port for learning, VLANs and flooding, each
// interface with its own ofport and datapath port.
//
// Every decision is handed back to the datapath as a megaflow whose mask names each field the
// decision read. Changes that can alter a decision (a new or moved MAC, an expired or flushed
// entry, a port added or removed, a settings change) invalidate the datapath's caches.
//
// Thread-safety: all public methods are thread-safe; one mutex guards the bridges, and poll
// threads get it first (priority_mutex.h). Control methods are called by the daemon's control
// thread; upcall()/flowsUsed() by poll threads. The bridges, their ports and their flow tables
// are written only by the control thread (under the mutex, for the poll threads' sake), so the
// control thread reads them without it where a read is long: rules() and exportFlows() of
// 100,000 rules take milliseconds that no upcall should wait for. The MAC tables and the tables'
// lookup counters are written by poll threads too, and always read under the mutex.
// Lifecycle: construct, add bridges and ports, start(); destruction stops the datapath first.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "datapath/dpif.h"
#include "ofproto/bond.h"
#include "ofproto/connmgr.h"
#include "ofproto/group.h"
#include "ofproto/port_config.h"
#include "ofproto/mac_table.h"
#include "ofproto/meter.h"
#include "ofproto/mirror.h"
#include "ofproto/of_table.h"
#include "ofproto/ofp_types.h"
#include "ofproto/priority_mutex.h"
#include "ofproto/slow_path.h"
#include "ofproto/rstp.h"
#include "ofproto/stp.h"
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
    // Behind a flow-based tunnel port: the remote VTEP (IPv4, network order) with remote_ip=flow,
    // the VNI with key=flow.
    std::optional<std::uint32_t> vtep;
    std::optional<std::uint32_t> vni;
};

// stp/show: one bridge's spanning tree, its ports named.
struct StpBridgeStatus {
    std::string bridge;
    StpStatus stp;
    std::map<std::uint32_t, std::string> port_names;  // StpPortStatus::id -> port name
};

// rstp/show: one bridge's rapid spanning tree, its ports named.
struct RstpBridgeStatus {
    std::string bridge;
    RstpStatus rstp;
    std::map<std::uint32_t, std::string> port_names;  // RstpPortStatus::id -> port name
};

struct PortRow {
    std::string name;  // the interface's name (a bond member's own name)
    std::string type;
    std::uint32_t ofport = 0;
    std::uint32_t dp_port = 0;
    std::shared_ptr<dp::Port> port;  // for counters, MAC, MTU, carrier
    std::uint32_t config = 0;        // OpenFlow port config bits (port_config.h)
};

class Ofproto final : public dp::UpcallHandler {
public:
    explicit Ofproto(dp::DatapathConfig cfg = {}, Clock clock = {});
    ~Ofproto() override;

    dp::Dpif& datapath() noexcept { return *dp_; }
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
    // Flow-based tunnel port (remote_ip=flow): remote VTEPs (IPv4, network order) that NORMAL
    // floods to besides those it learned MACs from (docs/tunnels.md). Unknown port: no-op.
    void setFloodVteps(const std::string& bridge, const std::string& port_name, std::vector<std::uint32_t> vteps);

    // Bonds (ofproto/bond.h): one port over several interfaces, each with its own ofport and
    // datapath port (as Open vSwitch numbers interfaces), seen by NORMAL and the MAC table as one
    // port. addBond creates port `port_name` without interfaces (std::invalid_argument for an
    // unknown bridge or a name in use); members come and go one by one; removePort removes the
    // bond with its members; setPortVlan applies to the bond as a whole. Code in ofproto_bond.cpp.
    void addBond(const std::string& bridge, const std::string& port_name, const PortVlan& vlan,
                 const BondSettings& s);
    void setBondSettings(const std::string& bridge, const std::string& port_name, const BondSettings& s);
    // Throws std::invalid_argument for an unknown bond or an ofport/interface name in use.
    std::uint32_t addBondMember(const std::string& bridge, const std::string& port_name, const std::string& iface,
                                std::uint32_t ofport, std::shared_ptr<dp::Port> port);
    void removeBondMember(const std::string& bridge, const std::string& port_name, const std::string& iface);
    // Carrier (IFF_RUNNING) of netdev `netdev` changed (the link monitor): bond members follow it
    // through bond_updelay / bond_downdelay. Unknown netdevs are ignored.
    void setCarrier(const std::string& netdev, bool up);
    // Bond timers and LACP machines; LACPDUs and gratuitous announcements go out from here. The
    // daemon calls it every ~100 ms on the control thread.
    void runBonds();
    // Slow-path frames (LACPDUs) queued by poll threads are processed by processSlowPath() on the
    // control thread; `wake` (called on a poll thread when work arrives) must arrange that call.
    void setSlowPathWake(std::function<void()> wake) { slow_path_.setWake(std::move(wake)); }
    void processSlowPath();
    // Frames of another SlowPathKind (e.g. a controller's packet_in) go to `handler`, on the
    // control thread, without ofproto's mutex held.
    void setSlowPathHandler(SlowPathKind kind, std::function<void(const SlowPathPacket&)> handler);
    // bond/show and lacp/show: every bond, or the one named (std::invalid_argument if none).
    std::vector<BondStatus> bondStatus(const std::optional<std::string>& bond) const;

    // Spanning tree (IEEE 802.1D-1998 STP, ofproto/stp.h; code in ofproto_stp.cpp), as Open
    // vSwitch's stp_enable: nullopt turns it off. A zero system id means the bridge's MAC. Bonds
    // and internal ports do not take part (Open vSwitch's rule): they always forward. A port that
    // is not Forwarding neither receives nor sends data frames (Learning learns from them); BPDUs
    // (to 01:80:c2:00:00:00) go to the slow path. Unknown bridge: std::invalid_argument.
    void setStp(const std::string& bridge, const std::optional<StpSettings>& s);
    // Per-port settings (other_config stp-*), kept while STP is off. Unknown port: no-op.
    void setPortStp(const std::string& bridge, const std::string& port_name, const StpPortSettings& s);
    // Timers and BPDU transmission; the daemon calls it every ~100 ms on the control thread.
    void runStp();
    // stp/show: every bridge running STP, or the one named (std::invalid_argument if it does not).
    std::vector<StpBridgeStatus> stpStatus(const std::optional<std::string>& bridge) const;
    // stp/tcn: a topology change on the bridge (or every bridge running STP).
    void stpTcn(const std::optional<std::string>& bridge);
    // Bumped whenever some bridge's STP port states, roles or root changed (status columns).
    std::uint64_t stpGeneration() const;
    // Rapid spanning tree (IEEE 802.1D-2004 clause 17, ofproto/rstp.h; code in ofproto_rstp.cpp),
    // as Open vSwitch's rstp_enable: nullopt turns it off; a zero address means the bridge's MAC.
    // The same ports take part as for STP, enforced at the same places; a topology change
    // flushes the MACs learned on the ports rstp names. Throws std::invalid_argument for an
    // unknown bridge, bad settings, or a bridge that runs STP.
    void setRstp(const std::string& bridge, const std::optional<RstpSettings>& s);
    // Per-port settings (other_config rstp-*), kept while RSTP is off. Unknown port: no-op.
    void setPortRstp(const std::string& bridge, const std::string& port_name, const RstpPortSettings& s);
    // rstp/show: every bridge running RSTP, or the one named (std::invalid_argument if it does not).
    std::vector<RstpBridgeStatus> rstpStatus(const std::optional<std::string>& bridge) const;
    // Port mirroring (ofproto/mirror.h; code in mirror_xlate.cpp): replaces the bridge's mirrors
    // (counters stay with a mirror's name), forgets the MACs learned on their output ports and
    // invalidates the bridge's megaflows when anything changed. Throws std::invalid_argument for an
    // unknown bridge or what MirrorSet::set refuses. mirrorStats: each mirror's counters.
    void setMirrors(const std::string& bridge, std::vector<MirrorSpec> specs);
    std::vector<MirrorStats> mirrorStats(const std::string& bridge) const;
    // OpenFlow groups (ofproto/group.h; code in ofproto_group.cpp, group_xlate.cpp). applyGroupMod
    // changes the bridge's group table (GroupModError with the OFPGMFC code, std::invalid_argument
    // for an unknown bridge), deletes the rules whose actions name a deleted group (OpenFlow 1.3.5
    // section 6.5; flow_removed reason GROUP_DELETE) and invalidates the bridge's megaflows. With
    // `log` the mod (and a delete_strict per rule it removed) is logged for persistence
    // (takeGroupLog, takeFlowLog). Returns the number of rules deleted.
    std::size_t applyGroupMod(const std::string& bridge, const GroupMod& gm, bool log = false);
    std::vector<std::shared_ptr<const Group>> groups(const std::string& bridge) const;
    // group -> number of rules whose actions name it (group stats ref_count).
    std::map<std::uint32_t, std::uint32_t> groupRefCounts(const std::string& bridge) const;
    // Every group of the bridge as an add group_mod (persistence); replaceGroups restores them
    // (every group and the rules using them go first). Unknown bridge: std::invalid_argument.
    std::vector<GroupMod> exportGroups(const std::string& bridge) const;
    void replaceGroups(const std::string& bridge, const std::vector<GroupMod>& adds);
    // flow_log_pos: the number of flow log entries logged before it since the last takeFlowLog();
    // take this log first, then takeFlowLog(), and interleave them by it to keep the order.
    struct LoggedGroupMod {
        std::string bridge;
        GroupMod mod;
        std::size_t flow_log_pos = 0;
    };
    std::vector<LoggedGroupMod> takeGroupLog();
    // UnknownGroupError when a non-delete mod names a group the bridge lacks (what applyFlowMods
    // checks first), for a caller that persists mods before applying them.
    void checkGroupRefs(const std::string& bridge, const std::vector<FlowMod>& mods) const;

    // OpenFlow 1.3 meters (ofproto/meter.h; code in ofproto_meter.cpp). meterMod applies an
    // OFPMC_ADD/MODIFY/DELETE (section 7.3.4.4): throws MeterRefused (its OFPMMFC_* code) or
    // std::invalid_argument (unknown bridge). A delete (one id or kMeterAll) first deletes the rules
    // whose meter instruction names a deleted meter, as Open vSwitch does (logged as flow_mods,
    // FlowLog::kOn), then frees the meters; it returns the number of rules deleted.
    enum class MeterCommand { kAdd, kModify, kDelete };
    std::size_t meterMod(const std::string& bridge, MeterCommand cmd, const MeterConfig& m);
    // Configs / counters of meter `id` (kMeterAll: all), ascending; flow_count from the rules.
    std::vector<MeterConfig> meterConfigs(const std::string& bridge, std::uint32_t id) const;
    struct MeterStatsReply {
        MeterStatsRow row;
        std::uint32_t flow_count = 0;
    };
    std::vector<MeterStatsReply> meterStats(const std::string& bridge, std::uint32_t id) const;
    bool meterExists(const std::string& bridge, std::uint32_t id) const;

    // MAC table introspection (fdb/show, fdb/flush). Unknown bridge: std::invalid_argument.
    std::vector<FdbRow> fdb(const std::string& bridge) const;
    std::size_t fdbFlush(const std::optional<std::string>& bridge);

    // Periodic work on the control thread (about once a second): MAC aging, rule timeouts.
    void runPeriodic();

    // Flow tables (OpenFlow 1.3 section 6.4). Applies `mods` in order, all or nothing: each is
    // validated first (table range, goto_table forward only). Throws std::invalid_argument naming
    // the problem. Returns the number of rules added, modified or deleted. With FlowLog::kOn the
    // mods are also appended to the flow log (takeFlowLog), for a caller that persists them after
    // the fact (a controller's flow_mods); kOff for one that persisted them first.
    enum class FlowLog { kOff, kOn };
    std::size_t applyFlowMods(const std::string& bridge, const std::vector<FlowMod>& mods,
                              FlowLog log = FlowLog::kOff);
    // Checks one flow_mod as applyFlowMods does, without switch state: std::invalid_argument.
    static void validateFlowMod(const FlowMod& fm);
    // Flow changes not yet persisted, in the order applied: FlowLog::kOn mods, and a delete_strict
    // for each rule removed by a timeout. Emptied by the call.
    struct LoggedFlowMod {
        std::string bridge;
        FlowMod mod;
    };
    std::vector<LoggedFlowMod> takeFlowLog();
    // Replaces every rule of the bridge by `adds` (restoring persisted rules at start).
    void replaceFlows(const std::string& bridge, const std::vector<FlowMod>& adds);
    // Rules of table `table` (kTableAll: every table) covered by `filter`, highest priority first.
    // Control thread only (reads without the mutex, see above), as exportFlows().
    std::vector<std::shared_ptr<const Rule>> rules(const std::string& bridge, std::uint8_t table,
                                                   const Match& filter) const;
    struct TableStats {
        std::uint8_t table;
        std::size_t active = 0;
        std::uint64_t lookups = 0, matched = 0;
    };
    std::vector<TableStats> tableStats(const std::string& bridge) const;
    // Every rule of the bridge as an add flow_mod (for persistence), table by table.
    std::vector<FlowMod> exportFlows(const std::string& bridge) const;
    // Rules with send_flow_rem removed by a timeout or a delete since the last call (their rule
    // pointers only; takeRemoved() has the bridge and the reason).
    std::vector<std::shared_ptr<const Rule>> takeExpired();
    // The same with bridge and reason, for flow_removed (OpenFlow 1.3 section 7.4.2). At most
    // kMaxRemembered are kept between calls (the oldest are dropped).
    static constexpr std::size_t kMaxRemembered = 10000;
    std::vector<RemovedRule> takeRemoved();

    // Controller channel (ofproto/connmgr.h; code in ofproto_connmgr.cpp).
    // The packet_in a kController slow-path packet stands for; nullopt if its bridge or context is
    // gone. The frame is cut to the action's max_len.
    std::optional<PacketIn> packetIn(const SlowPathPacket& p) const;
    // Fail-open (standalone fail mode without a controller): NORMAL takes precedence over table 0.
    // Invalidates the datapath caches when it changes. Unknown bridge: no-op.
    void setFailOpen(const std::string& bridge, bool on);
    bool failOpen(const std::string& bridge) const;
    // packet_out (OpenFlow 1.3 section 7.3.7): runs `actions` on `frame` as if it had arrived on
    // `in_ofport` (a port, or kPortController / kPortLocal / kPortNone for none), through xlate
    // (output:TABLE, i.e. kPortTable, runs the flow tables) and Datapath::execute. Throws
    // std::invalid_argument for an unknown bridge or in_port, or a frame that does not parse.
    void packetOut(const std::string& bridge, std::vector<std::uint8_t> frame, std::uint32_t in_ofport,
                   const ActionList& actions);
    // Translates `flow` (in_port = ofport) through the bridge's tables without side effects on the
    // MAC table, describing each step (ofproto/trace).
    std::vector<std::string> trace(const std::string& bridge, const dp::FlowKey& flow,
                                   const std::function<std::string(const Rule&)>& describe);
    // Ofport -> port name for the bridge's ports (for printing).
    std::optional<std::string> portName(const std::string& bridge, std::uint32_t ofport) const;
    std::optional<std::uint32_t> portNumber(const std::string& bridge, const std::string& name) const;
    // OpenFlow port_mod's config (port_config.h; ofproto_port_config.cpp): sets the bits of `mask`
    // to those of `config` on ofport `ofport`, invalidates the bridge's megaflows when they
    // changed, and returns the port's old config. std::invalid_argument for an unknown bridge,
    // PortConfigError for an unknown port or a bit the switch does not know.
    std::uint32_t setPortConfig(const std::string& bridge, std::uint32_t ofport, std::uint32_t config, std::uint32_t mask);

    // dp::UpcallHandler.
    bool upcall(const dp::FlowKey& key, const dp::Packet& pkt, dp::FlowKey& mask, dp::ActionList& actions,
                dp::StatsSinks& sinks, bool& report_used) override;
    // Called (on a poll thread, or the control thread for packet_out and trace) when a
    // translation is dropped for exceeding a budget; the daemon logs it, rate limited. Set before
    // start().
    void setXlateWarning(std::function<void(const std::string&)> warn) { xlate_warning_ = std::move(warn); }
    void flowsUsed(std::span<const std::pair<dp::FlowKey, dp::FlowKey>> flows) override;
    void slowPath(const dp::Packet& pkt, std::uint64_t userdata) override;

private:
    // One interface: an ofport (what flow tables see) and a datapath port.
    struct BridgePort {
        std::string name;      // interface name (a plain port's interface is named like the port)
        std::uint32_t ofport;
        std::uint32_t dp_port;
        std::shared_ptr<dp::Port> port;
        std::uint32_t bundle;  // the Bundle it belongs to
        std::uint32_t of_config = 0;  // OpenFlow port config bits (port_config.h, set by port_mod)
    };
    // One port in Open vSwitch's sense (a "bundle"): a plain port's one interface, or a bond's
    // members. The unit of MAC learning (MacTable port ids are bundle ids), VLANs and flooding.
    struct Bundle {
        std::string name;
        std::uint32_t id = 0;
        PortVlan vlan;
        std::vector<std::uint32_t> members;  // ofports, ascending
        std::unique_ptr<Bond> bond;          // null: a plain port
        dp::TunnelMode tunnel;               // a plain port's interface is a tunnel
        std::vector<std::uint32_t> flood_vteps;  // setFloodVteps
        StpPortSettings stp;                     // setPortStp
        RstpPortSettings rstp;                   // setPortRstp
    };
    struct Bridge {
        std::string name;
        std::map<std::uint32_t, BridgePort> ports;  // by ofport
        std::map<std::uint32_t, Bundle> bundles;    // by id
        std::uint32_t next_bundle = 1;
        MacTable macs;
        bool split_horizon = true;
        bool fail_open = false;  // connmgr.h: NORMAL before table 0
        std::unique_ptr<Stp> stp;  // null: STP off (ofproto_stp.cpp)
        StpSettings stp_cfg;       // as set (a zero system id: the bridge's MAC)
        std::uint64_t stp_version = 0;
        std::unique_ptr<Rstp> rstp;  // null: RSTP off (ofproto_rstp.cpp)
        RstpSettings rstp_cfg;
        std::uint64_t rstp_version = 0;
        MirrorSet mirrors;       // mirror.h
        GroupTable groups;       // group.h
        std::unique_ptr<MeterTable> meters;  // meter.h, created on first use (ofproto_meter.cpp)
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
    void invalidateBridge(const Bridge& br);  // mu_ held
    // A port_mod config bit on ofport (false for a port that does not exist); mu_ held
    // (ofproto_port_config.cpp), and whether any member of bundle `b` has it.
    static bool portConfigHas(const Bridge& br, std::uint32_t ofport, std::uint32_t bit);
    static bool bundleConfigHas(const Bridge& br, const Bundle& b, std::uint32_t bit);
    const Bridge& bridgeOrThrow(const std::string& name) const;
    // The OpenFlow pipeline (xlate.cpp).
    void xlateTable(XlateCtx& ctx, std::uint8_t table_id, std::optional<std::uint32_t> lookup_in_port = {});
    void xlateActions(XlateCtx& ctx, const ActionList& actions, std::uint8_t table_id);
    void executeActionSet(XlateCtx& ctx);
    void commit(XlateCtx& ctx);
    static void commitIp(XlateCtx& ctx);
    void finishXlate(XlateCtx& ctx);
    static void exhaust(XlateCtx& ctx, dp::Coverage why);
    static void setField(XlateCtx& ctx, const Action& a);
    static void setVlanVid(XlateCtx& ctx, std::uint64_t vid);
    static void setVlanPcp(XlateCtx& ctx, std::uint64_t pcp);
    static void touchVlan(XlateCtx& ctx);
    void popVlanAction(XlateCtx& ctx);
    // The datapath slot of the bridge's meter `id` (OpenFlow 1.3 section 5.7), or nullopt.
    static std::optional<std::uint32_t> meterSlot(const Bridge& br, std::uint32_t id);  // ofproto_meter.cpp
    void pushVlanAction(XlateCtx& ctx, std::uint16_t tpid);
    void outputPort(XlateCtx& ctx, std::uint32_t ofport);
    bool floodToVtepsOf(XlateCtx& ctx, std::uint32_t ofport);
    // Flow table edits (flow_mods.cpp).
    std::size_t applyFlowMod(Bridge& br, const FlowMod& fm);
    std::vector<std::pair<OfTable*, OfTable::Growth>> prepareGrowths(const std::string& bridge,
                                                                     const std::vector<FlowMod>& mods,
                                                                     std::size_t first, std::size_t last) const;
    bool expireRules(std::int64_t now);
    void noteRemoved(const Bridge& br, std::shared_ptr<const Rule> r, RemovedReason why);  // mu_ held
    // Controller channel (ofproto_connmgr.cpp): interns a packet_in context, returns its index.
    std::uint32_t internPacketIn(const PacketInContext& c);  // mu_ held
    void xlatePacketOut(Bridge& br, const dp::FlowKey& key, std::uint32_t in_ofport, bool learn,
                        const ActionList& actions, dp::ActionList& out);
    void sendToController(XlateCtx& ctx, std::uint16_t max_len, PacketInReason reason, std::uint8_t table_id);
    static constexpr std::uint16_t kMissSendLen = 128;  // OFP_DEFAULT_MISS_SEND_LEN (invalid_ttl)
    // NORMAL (xlate_normal.cpp). `cur_tci` is the frame's tag in the datapath now (0 = untagged)
    // and is updated to the tag the emitted actions leave. `sinks` receives the load counters of
    // the bond hash buckets used (may be null). `mirrored` (null: no mirroring): the mirrors served
    // so far; each output also makes the copies of its port's select_dst mirrors (mirror.h).
    // Returns true when it learned the frame's source (learn on, and the frame admitted).
    bool xlateNormal(Bridge& br, std::uint32_t in_ofport, const dp::FlowKey& key, dp::FlowKey& mask,
                     dp::ActionList& actions, std::uint16_t& cur_tci, bool learn = true,
                     dp::StatsSinks* sinks = nullptr, MirrorMask* mirrored = nullptr);
    struct NormalOut;
    void forward(Bridge& br, const Bundle& in, const MacAddr& dst, NormalOut& o);
    bool learnSource(Bridge& br, const Bundle& in, const dp::FlowKey& key, dp::FlowKey* mask, std::uint16_t vlan,
                     const TunnelDest& from, std::int64_t now);
    void flood(const Bridge& br, const Bundle& in, NormalOut& o) const;
    static bool outputTo(const Bundle& out, const Bridge& br, NormalOut& o);
    // Flow-based tunnel ports (remote_ip=flow / key=flow, docs/tunnels.md), in xlate_normal.cpp.
    // tunnelSource: the remote VTEP/VNI a frame received on `in` came from ({0, 0} unless `in` is
    // such a port); with `mask`, the megaflow then matches the tunnel fields read.
    static TunnelDest tunnelSource(const Bundle& in, const dp::FlowKey& key, dp::FlowKey* mask);
    static bool outputToVtep(const Bundle& out, const Bridge& br, const TunnelDest& to, NormalOut& o);
    void unicastToVtep(const Bundle& out, const Bundle& in, const Bridge& br, const TunnelDest& to,
                       NormalOut& o) const;
    static void floodToVteps(const Bundle& out, const Bundle& in, const Bridge& br, NormalOut& o);
    // Port mirroring (mirror_xlate.cpp). MirrorOut: where copies go and what they change; cur_tci
    // is the frame's tag in the datapath now (0 = untagged), updated to what the copies leave;
    // `done` the mirrors this translation already served.
    struct MirrorOut {
        const dp::FlowKey& key;  // for a bond output's hash
        dp::FlowKey& mask;
        dp::ActionList& actions;
        std::uint16_t& cur_tci;
        dp::StatsSinks* sinks;
        MirrorMask& done;
    };
    // A packet received on `in_ofport` (key: as received): false when that port is a mirror
    // output (the packet must be dropped), else the copies of its select_src mirrors.
    static bool mirrorReceived(const Bridge& br, std::uint32_t in_ofport, const dp::FlowKey& key, MirrorOut& m);
    // A packet just output to `out`: the copies of its select_dst mirrors. Its VLAN and priority
    // are those of the frame as sent (m.cur_tci), as `out` would take it on input (mirrorOutput;
    // Open vSwitch's mirror_packet): an access port's frames carry no priority.
    static void mirrorSent(const Bridge& br, const Bundle& out, std::uint16_t vlan, std::uint16_t pcp, MirrorOut& m);
    static void mirrorOutput(const Bridge& br, const Bundle& out, MirrorOut& m);
    static void mirrorPacket(const Bridge& br, MirrorMask candidates, std::uint16_t vlan, std::uint16_t pcp, MirrorOut& m);
    static bool mirrorCopy(const Bridge& br, const Bundle& to, std::uint16_t vlan, std::uint16_t pcp, MirrorOut& m);
    // Groups (group_xlate.cpp, ofproto_group.cpp). xlateGroup runs the chosen buckets of group
    // `id`, each on its own copy of the packet's fields (xlate.cpp); groupBuckets chooses them
    // (un-wildcarding what select hashes); bucketLive is fast_failover's liveness.
    void xlateGroup(XlateCtx& ctx, std::uint32_t id, std::uint8_t table_id);
    std::vector<std::size_t> groupBuckets(const Bridge& br, const Group& g, const dp::FlowKey& flow, dp::FlowKey& wc) const;
    bool bucketLive(const Bridge& br, const Bucket& b, int depth) const;
    bool portLive(const Bridge& br, std::uint32_t ofport) const;
    void checkGroupsExist(const Bridge& br, const std::vector<FlowMod>& mods) const;
    std::size_t deleteGroupRules(Bridge& br, std::uint32_t group, bool log);
    // Bonds (ofproto_bond.cpp).
    Bundle& newBundle(Bridge& br, const std::string& name, const PortVlan& vlan);
    Bundle* bundleNamed(Bridge& br, const std::string& name);
    void removeInterface(Bridge& br, std::uint32_t ofport);
    // removeBondMember under mu_; true when an interface was removed (the caller then quiesces).
    bool removeBondMemberLocked(const std::string& bridge, const std::string& port_name, const std::string& iface);
    bool bondAdmits(const Bridge& br, const Bundle& in, std::uint32_t in_ofport, const dp::FlowKey& key,
                    std::uint16_t vlan, dp::FlowKey* mask, std::int64_t now, dp::Coverage& why) const;
    bool interceptSlowProtocols(const Bridge& br, std::uint32_t in_ofport, const dp::FlowKey& key,
                                dp::FlowKey& mask, dp::ActionList& actions) const;
    void afterBondChange(Bridge& br, Bundle& b, bool changed);
    void sendLearningPackets(const Bridge& br, const Bundle& b);
    void sendLacpdus(const Bridge& br, Bundle& b, std::int64_t now);
    dp::MacAddr systemId(const Bridge& br, const Bundle& b) const;
    void handleLacpdu(const SlowPathPacket& p);
    // Spanning tree (ofproto_stp.cpp).
    bool stpIntercept(const Bridge& br, std::uint32_t in_ofport, const dp::FlowKey& key, dp::FlowKey& mask,
                      dp::ActionList& actions, bool& learn_only) const;
    static bool stpForwards(const Bridge& br, const Bundle& b);
    bool stpParticipates(const Bridge& br, const Bundle& b) const;
    void stpAddBundle(Bridge& br, const Bundle& b);
    void afterStp(Bridge& br);
    StpSettings stpEffective(const Bridge& br) const;
    void handleBpdu(const SlowPathPacket& p);
    // Rapid spanning tree (ofproto_rstp.cpp), beside STP's hooks above.
    void rstpAddBundle(Bridge& br, const Bundle& b);
    void afterRstp(Bridge& br);
    void rstpReceive(Bridge& br, std::uint32_t bundle_id, const std::vector<std::uint8_t>& frame);
    RstpSettings rstpEffective(const Bridge& br) const;

    Clock clock_;
    std::function<void(const std::string&)> xlate_warning_;
    mutable PriorityMutex mu_;  // poll threads first (priority_mutex.h)
    std::size_t bond_count_ = 0;  // bundles with a Bond, over all bridges: runBonds() skips when 0
    std::map<std::string, std::unique_ptr<Bridge>> bridges_;
    std::map<std::uint32_t, DpPortRef> by_dp_port_;
    std::vector<RemovedRule> removed_;
    std::vector<LoggedFlowMod> flow_log_;
    std::vector<LoggedGroupMod> group_log_;
    std::vector<PacketInContext> pin_contexts_;            // by index (userdata argument)
    std::map<PacketInContext, std::uint32_t> pin_index_;
    SlowPathQueue slow_path_;
    std::map<SlowPathKind, std::function<void(const SlowPathPacket&)>> slow_path_handlers_;  // control thread
    std::uint64_t stp_generation_ = 0;  // stpGeneration(), under mu_
    std::unique_ptr<dp::Dpif> dp_;  // last: destroyed (threads joined) first
};

}  // namespace vs::ofproto
