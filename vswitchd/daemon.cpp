#include "vswitchd/daemon.h"

#include <malloc.h>

#include <algorithm>
#include <thread>

#include "datapath/afpacket_port.h"
#include "datapath/netdev_linux.h"
#include "ofproto/ofp_parse.h"
#include "ofproto/ofp_print.h"
#include "vswitchd/config_schema.h"
#include "vswitchd/flow_journal.h"
#include "vswitchd/iface_status.h"
#include "vswitchd/log.h"
#include "vswitchd/metrics.h"
#include "vswitchd/metrics_server.h"
#include "vswitchd/ovsdb_server.h"
#include "vswitchd/rstp_config.h"
#include "vswitchd/stp_config.h"

namespace {
constexpr vs::log::Module kLog = vs::log::Module::kDaemon;  // vlog/set module
}

namespace vs::vswitchd {
namespace {

dp::DatapathConfig datapathConfig(const DaemonOptions& o) {
    dp::DatapathConfig c;
    // Two threads by default: the directions of a conversation then run on two cores, which
    // measured 1.6x the TCP rate with offloads off on two cores (docs/benchmarks.md).
    c.poll_threads = o.poll_threads ? o.poll_threads : std::min(2u, std::max(1u, std::thread::hardware_concurrency()));
    c.busy_poll_us = o.busy_poll_us;
    dp::AfPacketPort::setRingBudget(std::size_t(o.rx_ring_mb) << 20);  // before any port exists
    dp::AfPacketPort::setRingPromotePps(o.rx_ring_min_pps);
    return c;
}

// A bulk request (add-flows of 100,000 rules is a ~10 MB line, parsed into a DOM and rule text)
// leaves tens of MB free in malloc's arenas, which glibc keeps mapped: hand them back so the
// daemon's resident size is what it holds, not what its largest request once needed.
void releaseFreedHeap() {
    constexpr std::size_t kTrimAboveBytes = 8u << 20;
    if (mallinfo2().fordblks > kTrimAboveBytes) malloc_trim(0);
}

}  // namespace

Daemon::Daemon(boost::asio::io_context& io, DaemonOptions opts)
    : io_(io), opts_(std::move(opts)), store_(ConfigStore::open(opts_.config)),
      ofproto_(std::make_unique<ofproto::Ofproto>(datapathConfig(opts_))),
      reconciler_(std::make_unique<Reconciler>(*ofproto_)),
      controllers_(std::make_unique<ControllerManager>(io, *ofproto_)), timer_(io) {
    store_.setFlowHooks(FlowHooks{&ControllerManager::flowResets,
                                  [this] { return exportFlowTables(*ofproto_, store_.config()); }});
}

Daemon::~Daemon() { shutdown(); }

void Daemon::start() {
    if (!opts_.metrics.empty())  // first: a bad address fails the start before anything changes
        metrics_ = std::make_unique<MetricsServer>(io_, parseMetricsAddress(opts_.metrics),
                                                   [this] { return metrics::collect(*this); });
    bonds_ = std::make_unique<BondDriver>(io_, *ofproto_);
    // A packet's translation over a budget (resubmits, actions): a packet can trigger it, so the
    // log line is rate limited; coverage/show counts every one.
    ofproto_->setXlateWarning([](const std::string& what) {
        static log::RateLimiter rl(10, 5);
        log::warnRl(log::Module::kOfproto, rl, "{}", what);
    });
    reconciler_->apply(store_.config());
    meter_store_ = std::make_unique<MeterStore>(store_.path().string() + ".meters");
    meters_saved_ = meter_store_->load();  // meters before the rules that use them
    restoreMeters(*ofproto_, meters_saved_, meter_store_->path().string());
    restoreFlowTables(*ofproto_, store_);
    store_.dropRestoredFlows();
    controllers_->apply(store_.config());
    ofproto_->start();
    auto table = std::make_shared<MethodTable>();
    registerRpcMethods(*table, *this);
    registerFlowMethods(*table, *this);
    registerOfprotoMethods(*table, *this);
    registerBondMethods(*table, *this);
    registerStpMethods(*table, *this);
    registerRstpMethods(*table, *this);  // rpc_rstp.cpp
    registerMeterMethods(*table, *this);
    registerGroupMethods(*table, *this);  // rpc_groups.cpp
    registerPortModMethods(*table, *this);  // rpc_port_mod.cpp
    registerVlogMethods(*table);
    MgmtLimits limits;
    limits.group = opts_.socket_group;
    server_ = std::make_unique<MgmtServer>(
        io_, opts_.socket,
        [this, table](const protocol::Request& r, rapidjson::Document& res) {
            (*table)(r, res);
            if (ovsdb_) ovsdb_->configChanged();  // OVSDB monitors see the change at once
            releaseFreedHeap();
        },
        limits);
    startOvsdb();  // after the management socket's lock: a second daemon stops before touching db.sock
    links_ = std::make_unique<LinkMonitor>(io_, [this](const LinkEvent& ev) {
        if (ev.resync) return linksLost();
        iface_status_.forget(ev.name);
        reconciler_->linkChanged(store_.config(), ev.name);
        bonds_->linkEvent(ev);
        if (ovsdb_ && findInterface(store_.config(), ev.name)) ovsdb_->statusChanged();  // Interface.error
    });
    armTimer();
    log::info(kLog, "vswitchd {} started: config {} (seq {}), socket {}", VSWITCH_VERSION, store_.path().string(),
              store_.seq(), opts_.socket.string());
}

std::vector<OvsdbRemote> ovsdbRemotes(const DaemonOptions& o) {
    std::vector<OvsdbRemote> out;
    for (const auto& r : o.remotes) out.push_back(parseOvsdbRemote(r));
    if (o.remotes.empty()) {
        OvsdbRemote r;
        r.path = o.socket.filename() == "vswitchd.sock" ? o.socket.parent_path() / "db.sock"
                                                         : std::filesystem::path(o.socket.string() + ".db");
        out.push_back(r);
    }
    return out;
}

void Daemon::startOvsdb() {
    OvsdbBackend b;
    b.config = [this]() -> const Config& { return store_.config(); };
    b.commit = [this](const Config& next) { return commitConfig(next); };
    b.status.interfaceError = [this](const std::string& iface) { return reconciler_->error(iface); };
    b.status.interfaceState = [this](const std::string& iface) -> std::optional<InterfaceState> {
        auto p = reconciler_->port(iface);
        if (!p) return std::nullopt;
        return iface_status_.get(iface, p);
    };
    b.status.datapathId = [this](const std::string& br) {
        std::uint64_t mac = 0;
        if (!ofproto_->hasBridge(br)) return std::string();  // not created yet
        for (const auto& p : ofproto_->ports(br))
            if (p.name == br) mac = p.port->mac().toU64();
        char text[20];
        std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(mac));
        return std::string(text);
    };
    b.status.bridgeStatus = [this](const std::string& br) -> StringMap {  // stp_config.h
        auto all = ofproto_->stpStatus(std::nullopt);
        for (const auto& s : all)
            if (s.bridge == br) return stpBridgeStatus(s);
        return {};
    };
    b.status.portStatus = [this](const std::string& port) -> StringMap {
        for (const auto& s : ofproto_->stpStatus(std::nullopt))
            if (auto m = stpPortStatus(s); m.count(port)) return m[port];
        return {};
    };
    b.status.bridgeRstpStatus = [this](const std::string& br) -> StringMap {  // rstp_config.h
        for (const auto& s : ofproto_->rstpStatus(std::nullopt))
            if (s.bridge == br) return rstpBridgeStatus(s);
        return {};
    };
    b.status.portRstpStatus = [this](const std::string& port) -> StringMap {
        for (const auto& s : ofproto_->rstpStatus(std::nullopt))
            if (auto m = rstpPortStatus(s); m.count(port)) return m[port];
        return {};
    };
    b.status.portRstpStatistics = [this](const std::string& port) -> std::map<std::string, std::int64_t> {
        for (const auto& s : ofproto_->rstpStatus(std::nullopt))
            if (auto m = rstpPortStatistics(s); m.count(port)) return m[port];
        return {};
    };
    b.status.mirrorStats = [this](const std::string& br, const std::string& mirror)
        -> std::optional<std::pair<std::uint64_t, std::uint64_t>> {
        if (!ofproto_->hasBridge(br)) return std::nullopt;
        for (const auto& s : ofproto_->mirrorStats(br))
            if (s.name == mirror) return std::make_pair(s.tx_packets, s.tx_bytes);
        return std::nullopt;
    };
    try {
        ovsdb_ = std::make_unique<OvsdbServer>(io_, ovsdbRemotes(opts_), std::move(b));
        for (std::uint16_t port : ovsdb_->tcpPorts()) log::info(log::Module::kOvsdb, "OVSDB listening on TCP port {}", port);
    } catch (const std::runtime_error& e) {
        if (!opts_.remotes.empty()) throw;  // asked for: fail the start
        log::warn(log::Module::kOvsdb, "OVSDB server not started: {}", e.what());
    }
}

std::optional<std::string> Daemon::commitConfig(const Config& next) {
    if (auto problem = persistFlowLog()) return "could not save the configuration: " + *problem + "; nothing changed";
    Config before = store_.config();
    TransactResult r = store_.modify([&](Config& c) { c = next; });
    if (!r.ok()) return r.error->message;
    before.ovsdb = next.ovsdb;  // a change of unmodelled columns alone has nothing to apply
    before.seq = store_.config().seq;
    if (r.changed && !(before == store_.config())) {
        reconciler_->apply(store_.config());
        controllers_->apply(store_.config());
        store_.compactIfDue();
    }
    return std::nullopt;
}

// Link notifications were lost: recheck every open interface and re-read carriers.
void Daemon::linksLost() {
    iface_status_.clear();
    for (const auto& name : reconciler_->linksLost(store_.config())) {
        LinkEvent ev;
        ev.name = name;
        std::error_code ec;
        ev.ifindex = dp::netdev::ifindex(name, ec);
        ev.deleted = static_cast<bool>(ec);
        ev.up = ev.running = !ec && dp::netdev::isRunning(name);
        bonds_->linkEvent(ev);
    }
}

void Daemon::armTimer() {
    timer_.expires_after(std::chrono::seconds(1));
    timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec) return;
        ofproto_->runPeriodic();
        refreshOvsdbStatus(++ticks_ % 5 == 0);
        if (auto problem = persistFlowLog()) {  // timeouts, controllers' flow_mods
            static log::RateLimiter rl(1, 10);
            log::warnRl(kLog, rl, "flow changes not yet saved (retrying every second): {}", *problem);
        }
        persistMeters();
        store_.compactIfDue();
        armTimer();
    });
}

void Daemon::refreshOvsdbStatus(bool with_stats) {
    if (!ovsdb_) return;
    std::uint64_t d = ofproto_->stpGeneration(), stats = stats_digest_;  // STP status columns
    if (with_stats) stats = 0;
    for (const auto& [bn, bc] : store_.config().bridges) {
        if (!bc.mirrors.empty() && ofproto_->hasBridge(bn))  // Mirror.statistics
            for (const auto& s : ofproto_->mirrorStats(bn)) d = d * 1000003u + s.tx_packets + 1;
        if (!with_stats) continue;
        for (const auto& [pn, pc] : bc.ports)  // Interface.statistics, admin_state, link_state
            for (const auto& [in, ic] : pc.interfaces)
                if (auto p = reconciler_->port(in)) stats = stats * 1000003u + statisticsDigest(iface_status_.refresh(in, p));
    }
    if (d == status_digest_ && stats == stats_digest_) return;
    status_digest_ = d;
    stats_digest_ = stats;
    ovsdb_->statusChanged();
}

std::optional<std::string> Daemon::persistFlowLog() {
    auto groups = ofproto_->takeGroupLog();  // first: its positions count the flow log's entries
    auto flows = ofproto_->takeFlowLog();
    if (!flows_need_snapshot_) {
        std::size_t g = 0;
        for (std::size_t i = 0; i <= flows.size(); ++i) {  // in the order applied (ofproto.h LoggedGroupMod)
            for (; g < groups.size() && groups[g].flow_log_pos <= i; ++g)
                unpersisted_.push_back(journaledGroupMod(groups[g].bridge, groups[g].mod));
            if (i < flows.size()) unpersisted_.push_back(journaledFlowMod(flows[i].bridge, flows[i].mod));
        }
        if (unpersisted_.size() > kMaxUnpersisted) {
            log::err(kLog, "{} flow changes could not be journaled; keeping none of them: the next successful write "
                     "is a snapshot of the flow tables", unpersisted_.size());
            std::vector<JournaledFlowMod>().swap(unpersisted_);
            flows_need_snapshot_ = true;
        }
    }
    if (flows_need_snapshot_) {  // the tables as they are: the only record of the dropped backlog
        if (auto problem = store_.snapshotNow()) return problem;
        flows_need_snapshot_ = false;
        log::info(kLog, "flow tables saved in a snapshot");
        return std::nullopt;
    }
    if (unpersisted_.empty()) return std::nullopt;
    if (auto problem = store_.appendFlowMods(unpersisted_)) return problem;
    unpersisted_.clear();
    return std::nullopt;
}

void Daemon::persistMeters() {
    if (!meter_store_) return;
    MeterLines now = exportMeters(*ofproto_, store_.config());
    if (now == meters_saved_) return;
    if (auto problem = meter_store_->save(now)) {
        static log::RateLimiter rl(1, 10);
        log::warnRl(kLog, rl, "meter changes not yet saved (retrying every second): {}", *problem);
        return;
    }
    meters_saved_ = std::move(now);
}

std::size_t Daemon::commitFlowMods(const std::string& bridge, const std::vector<ofproto::FlowMod>& mods) {
    try {
        for (const auto& fm : mods) ofproto::Ofproto::validateFlowMod(fm);
        ofproto_->checkGroupRefs(bridge, mods);  // before the journal: replay must not meet a missing group
    } catch (const std::invalid_argument& e) {
        throw RpcError(protocol::ErrorCode::kInvalidValue, e.what());
    }
    std::vector<JournaledFlowMod> record;
    record.reserve(mods.size());
    for (const auto& fm : mods) record.push_back(journaledFlowMod(bridge, fm));
    auto problem = persistFlowLog();
    if (!problem) problem = store_.appendFlowMods(record);
    if (problem)
        throw RpcError(protocol::ErrorCode::kPersistFailed, "could not save the flows: " + *problem + "; nothing changed");
    std::size_t n = ofproto_->applyFlowMods(bridge, mods);
    store_.compactIfDue();
    return n;
}

void Daemon::shutdown() {
    timer_.cancel();
    // Rules changed since the last periodic save (a controller's flow_mods) must survive the restart.
    if (ofproto_) {
        persistMeters();
        if (auto problem = persistFlowLog()) log::err(kLog, "flow changes lost at exit: {}", *problem);
        else store_.compact();  // a clean stop leaves a snapshot: the next start replays nothing
    }
    metrics_.reset();
    ovsdb_.reset();
    if (server_) server_->close();
    server_.reset();
    links_.reset();
    controllers_.reset();  // closes controller connections before the switch goes away
    bonds_.reset();
    if (ofproto_) ofproto_->datapath().stop();
    reconciler_.reset();
    ofproto_.reset();  // closes every datapath port
}

}  // namespace vs::vswitchd
