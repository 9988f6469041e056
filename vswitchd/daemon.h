// The daemon's core: the config store, the switch (ofproto + datapath), reconciliation, the
// management server and the periodic timers, all driven by one Boost.Asio io_context on the
// control thread. The management methods (rpc_methods.cpp) operate on it.
//
// Thread-safety: everything runs on the control thread except the datapath's poll threads,
// which reach ofproto only through its thread-safe upcall interface.
// Lifecycle: construct (loads the config, may throw ConfigError), start() (applies the config,
// starts the datapath, listens), io_context.run(), shutdown() (stops listening and forwarding,
// releases ports; the config file stays).
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "ofproto/ofproto.h"
#include "vswitchd/bond_driver.h"
#include "vswitchd/config_store.h"
#include "vswitchd/controller.h"
#include "vswitchd/iface_status.h"
#include "vswitchd/link_monitor.h"
#include "vswitchd/meter_store.h"
#include "vswitchd/mgmt_server.h"
#include "vswitchd/ovsdb_server.h"
#include "vswitchd/reconciler.h"

namespace vs::vswitchd {

struct DaemonOptions {
    std::filesystem::path config = "/etc/vswitch/conf.json";
    std::filesystem::path socket = "/run/vswitch/vswitchd.sock";
    unsigned poll_threads = 0;  // datapath poll threads; 0: two when the host has two or more CPUs
    unsigned busy_poll_us = 50;  // DatapathConfig::busy_poll_us (Linux's recommended net.core.busy_poll)
    unsigned rx_ring_mb = 32;    // memory for busy ports' receive rings (AfPacketPort::setRingBudget)
    unsigned rx_ring_min_pps = 20000;  // receive rate that earns a ring (setRingPromotePps)
    std::optional<gid_t> socket_group;  // --socket-group: the socket is root:GROUP 0660 (else root:root)
    std::string metrics;  // --metrics ADDR:PORT: the Prometheus endpoint (docs/metrics.md); empty: off
    // --remote punix:PATH | ptcp:[PORT][:IP] (repeatable): where the OVSDB server listens
    // (docs/ovsdb.md). Empty: the default, db.sock beside the management socket (SOCKET.db when
    // the socket is not named vswitchd.sock).
    std::vector<std::string> remotes;
};

// The OVSDB remotes `o` asks for (the default socket when o.remotes is empty); throws
// std::invalid_argument for a remote parseOvsdbRemote() refuses.
std::vector<OvsdbRemote> ovsdbRemotes(const DaemonOptions& o);

class MetricsServer;
class OvsdbServer;

class Daemon {
public:
    Daemon(boost::asio::io_context& io, DaemonOptions opts);
    ~Daemon();
    void start();
    void shutdown();

    ConfigStore& store() { return store_; }
    // Journals the flow changes applied but not yet persisted (a controller's flow_mods, rule
    // timeouts), in one record; returns the problem on failure (they are kept for the next try).
    // Called before every other journal record, so the journal keeps the order the switch saw.
    std::optional<std::string> persistFlowLog();
    void persistMeters();  // meter_store.h: saves the meters when they changed
    // A management client's flow_mods on `bridge`: validated, journaled (one fdatasync), then
    // applied, all or nothing. Throws RpcError (invalid value, persist failed: nothing changed).
    std::size_t commitFlowMods(const std::string& bridge, const std::vector<ofproto::FlowMod>& mods);
    ofproto::Ofproto& ofproto() { return *ofproto_; }
    Reconciler& reconciler() { return *reconciler_; }
    ControllerManager& controllers() { return *controllers_; }
    // Commits a whole new config (an OVSDB transaction's), applies it, and returns the problem or
    // nullopt. Nothing changes on failure.
    std::optional<std::string> commitConfig(const Config& next);

private:
    void armTimer();
    // Refreshes the OVSDB status columns that change without a config change when any moved: STP
    // state and mirror counters (each call), interface statistics (with `with_stats`: every 5 s,
    // Open vSwitch's default stats-update-interval).
    void refreshOvsdbStatus(bool with_stats);
    void linksLost();
    void startOvsdb();

    boost::asio::io_context& io_;
    DaemonOptions opts_;
    ConfigStore store_;
    std::vector<JournaledFlowMod> unpersisted_;  // flow log entries whose journal append failed
    // At most this many are kept; past it the backlog is dropped and only a snapshot of the tables
    // (ConfigStore::snapshotNow) can record them: a disk that fails for hours while rules time out
    // or a controller streams flow_mods must not grow the daemon without bound.
    static constexpr std::size_t kMaxUnpersisted = 65536;
    bool flows_need_snapshot_ = false;
    std::unique_ptr<MeterStore> meter_store_;    // meter_store.h
    MeterLines meters_saved_;                    // what the meters file holds
    InterfaceStatusCache iface_status_;         // what OVSDB projections read (iface_status.h)
    std::uint64_t status_digest_ = 0, stats_digest_ = 0;  // refreshOvsdbStatus(): what OVSDB last showed
    unsigned ticks_ = 0;                        // armTimer() rounds
    std::unique_ptr<ofproto::Ofproto> ofproto_;
    std::unique_ptr<Reconciler> reconciler_;
    std::unique_ptr<MgmtServer> server_;
    std::unique_ptr<LinkMonitor> links_;
    std::unique_ptr<ControllerManager> controllers_;  // controller connections and fail modes
    std::unique_ptr<BondDriver> bonds_;
    std::unique_ptr<MetricsServer> metrics_;  // with --metrics
    std::unique_ptr<OvsdbServer> ovsdb_;      // the OVSDB sockets (--remote)
    boost::asio::steady_timer timer_;
};

// Registers the management methods (docs/protocol.md) on `t`, operating on `d`.
void registerRpcMethods(MethodTable& t, Daemon& d);
// The flow-table methods (rpc_flows.cpp) and switch introspection (rpc_ofproto.cpp).
void registerFlowMethods(MethodTable& t, Daemon& d);
void registerOfprotoMethods(MethodTable& t, Daemon& d);
// bond/show and lacp/show (rpc_bond.cpp).
void registerBondMethods(MethodTable& t, Daemon& d);
// stp/show and stp/tcn (rpc_stp.cpp).
void registerStpMethods(MethodTable& t, Daemon& d);
// rstp/show (rpc_rstp.cpp).
void registerRstpMethods(MethodTable& t, Daemon& d);
// The RSTP status columns for `get` (vsctl): {"bridges": {BR: {rstp_status keys}}, "ports":
// {PORT: {"rstp_status": {...}, "rstp_statistics": {...}}}} (rpc_rstp.cpp).
rapidjson::Value rstpStatusJson(Daemon& d, rapidjson::Document::AllocatorType& a);
// meter/add, meter/mod, meter/del, meter/dump, meter/stats, meter/features (rpc_meters.cpp).
void registerMeterMethods(MethodTable& t, Daemon& d);
// group/add, group/mod, group/del, group/dump, group/stats (rpc_groups.cpp).
void registerGroupMethods(MethodTable& t, Daemon& d);
// port/mod (rpc_port_mod.cpp): vsofctl mod-port.
void registerPortModMethods(MethodTable& t, Daemon& d);
// vlog/list, vlog/set, vlog/reopen (rpc_vlog.cpp): the process-wide log settings (vswitchd/log.h).
void registerVlogMethods(MethodTable& t);

}  // namespace vs::vswitchd
