// Prometheus exposition text (metrics.h) and the daemon's metric families (docs/metrics.md).
#include "vswitchd/metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <cmath>
#include <ctime>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "datapath/coverage.h"
#include "vswitchd/daemon.h"

namespace vs::vswitchd::metrics {

namespace {

bool nameChar(char c, bool first, bool colon) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') return true;
    if (colon && c == ':') return true;
    return !first && c >= '0' && c <= '9';
}

bool validName(std::string_view n, bool colon) {
    if (n.empty()) return false;
    for (std::size_t i = 0; i < n.size(); ++i)
        if (!nameChar(n[i], i == 0, colon)) return false;
    return true;
}

const char* typeName(Type t) { return t == Type::kCounter ? "counter" : "gauge"; }

}  // namespace

bool validMetricName(std::string_view n) { return validName(n, true); }
bool validLabelName(std::string_view n) { return validName(n, false) && !n.starts_with("__"); }

namespace {
// The exposition format's escapes: backslash and newline everywhere, '"' in label values only.
std::string escape(std::string_view v, bool quotes) {
    std::string out;
    out.reserve(v.size());
    for (char c : v) {
        if (c == '\\') out += "\\\\";
        else if (c == '\n') out += "\\n";
        else if (c == '"' && quotes) out += "\\\"";
        else out += c;
    }
    return out;
}
}  // namespace

std::string escapeLabelValue(std::string_view v) { return escape(v, true); }

std::string escapeHelp(std::string_view v) { return escape(v, false); }

std::string formatValue(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    if (v == std::trunc(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<std::int64_t>(v));
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);  // shortest text that reads back as v
    return std::string(buf, ec == std::errc() ? end : buf);
}

Family::Family(std::string name, Type type, std::string help)
    : name_(std::move(name)), type_(type), help_(std::move(help)) {}

void Family::add(const Labels& labels, double value) { addText(labels, formatValue(value)); }

void Family::addText(const Labels& labels, std::string value) {
    std::string set;
    if (!labels.empty()) {
        set += '{';
        for (std::size_t i = 0; i < labels.size(); ++i) {
            if (!validLabelName(labels[i].first))
                throw std::invalid_argument("metric " + name_ + ": invalid label name '" + labels[i].first + "'");
            if (i) set += ',';
            set += labels[i].first + "=\"" + escapeLabelValue(labels[i].second) + '"';
        }
        set += '}';
    }
    samples_.emplace_back(std::move(set), std::move(value));
}

void Family::appendTo(std::string& out) const {
    out += "# HELP " + name_ + ' ' + escapeHelp(help_) + '\n';
    out += "# TYPE " + name_ + ' ' + typeName(type_) + '\n';
    for (const auto& [labels, value] : samples_) out += name_ + labels + ' ' + value + '\n';
}

Family& Exposition::family(std::string_view name, Type type, std::string_view help) {
    if (auto it = index_.find(name); it != index_.end()) {
        Family& f = families_[it->second];
        if (f.type() != type || f.help() != help)
            throw std::invalid_argument("metric family " + std::string(name) + " declared twice, differently");
        return f;
    }
    if (!validMetricName(name)) throw std::invalid_argument("invalid metric name '" + std::string(name) + "'");
    index_.emplace(std::string(name), families_.size());
    return families_.emplace_back(std::string(name), type, std::string(help));
}

std::string Exposition::text() const {
    std::string out;
    for (const auto& f : families_)
        if (!f.empty()) f.appendTo(out);
    return out;
}

// ---- the daemon's metrics ----------------------------------------------------------------------
namespace {

constexpr Type kCounter = Type::kCounter;
constexpr Type kGauge = Type::kGauge;

std::uint64_t load(const std::atomic<std::uint64_t>& v) { return v.load(std::memory_order_relaxed); }

struct ProcessInfo {
    std::uint64_t rss_bytes = 0, vm_bytes = 0, threads = 0;
    double cpu_seconds = 0, start_time = 0;
    bool have_start = false;
};

// /proc/self/status (VmRSS, VmSize, Threads), /proc/self/stat (CPU time, start time) and /proc/stat
// (boot time).
ProcessInfo processInfo() {
    ProcessInfo p;
    std::ifstream status("/proc/self/status");
    for (std::string line; std::getline(status, line);) {
        std::istringstream is(line);
        std::string key;
        std::uint64_t v = 0;
        is >> key >> v;
        if (key == "VmRSS:") p.rss_bytes = v * 1024;
        else if (key == "VmSize:") p.vm_bytes = v * 1024;
        else if (key == "Threads:") p.threads = v;
    }
    const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
    std::ifstream statf("/proc/self/stat");
    std::string stat((std::istreambuf_iterator<char>(statf)), std::istreambuf_iterator<char>());
    auto close = stat.rfind(')');  // the command name may hold spaces and parentheses
    if (close != std::string::npos && ticks > 0) {
        std::istringstream is(stat.substr(close + 2));
        std::vector<std::string> f{std::istream_iterator<std::string>(is), std::istream_iterator<std::string>()};
        // Fields from 3 (state) on: utime is field 14, stime 15, starttime 22.
        if (f.size() > 19) {
            p.cpu_seconds = (std::stod(f[11]) + std::stod(f[12])) / ticks;
            double since_boot = std::stod(f[19]) / ticks;
            std::ifstream sys("/proc/stat");
            for (std::string line; std::getline(sys, line);)
                if (line.starts_with("btime ")) {
                    p.start_time = std::stod(line.substr(6)) + since_boot;
                    p.have_start = true;
                }
        }
    }
    return p;
}

std::uint64_t openFds() {
    std::uint64_t n = 0;
    if (DIR* d = ::opendir("/proc/self/fd")) {
        while (dirent* e = ::readdir(d))
            if (e->d_name[0] != '.') ++n;
        ::closedir(d);
        if (n) --n;  // the directory stream's own descriptor
    }
    return n;
}

void processMetrics(Exposition& e, Daemon& d) {
    ProcessInfo p = processInfo();
    e.family("ovs_info", kGauge, "vswitchd's version (the value is always 1).").add({{"version", VSWITCH_VERSION}}, 1);
    e.family("ovs_process_resident_memory_bytes", kGauge, "Resident memory of vswitchd.").add({}, p.rss_bytes);
    e.family("ovs_process_virtual_memory_bytes", kGauge, "Virtual memory of vswitchd.").add({}, p.vm_bytes);
    e.family("ovs_process_threads", kGauge, "Threads of vswitchd (control, poll, helper threads).").add({}, p.threads);
    e.family("ovs_process_cpu_seconds_total", kCounter, "User and system CPU time of vswitchd.").add({}, p.cpu_seconds);
    e.family("ovs_process_open_fds", kGauge, "Open file descriptors of vswitchd.").add({}, openFds());
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
        e.family("ovs_process_max_fds", kGauge, "File descriptor limit of vswitchd.").add({}, static_cast<std::uint64_t>(rl.rlim_cur));
    if (p.have_start) {
        e.family("ovs_process_start_time_seconds", kGauge, "Start time of vswitchd, seconds since the Unix epoch.")
            .add({}, p.start_time);
        double up = static_cast<double>(std::time(nullptr)) - p.start_time;
        e.family("ovs_vswitchd_uptime_seconds", kGauge, "Seconds since vswitchd started.").add({}, std::max(0.0, std::round(up)));
    }
    e.family("ovs_vswitchd_config_seq", kGauge, "Sequence number of the committed configuration (bumped by every change).")
        .add({}, static_cast<std::uint64_t>(d.store().seq()));
}

void datapathMetrics(Exposition& e, Daemon& d) {
    auto st = d.ofproto().datapath().stats();
    e.family("ovs_dp_lookups_hit_total", kCounter, "Packets that hit the datapath flow cache (exact-match cache or megaflow).")
        .add({}, st.hit);
    e.family("ovs_dp_lookups_missed_total", kCounter, "Packets that missed the datapath flow cache (upcalls).").add({}, st.missed);
    e.family("ovs_dp_lookups_lost_total", kCounter, "Packets dropped because their upcall failed.").add({}, st.lost);
    e.family("ovs_dp_flows", kGauge, "Megaflows installed in the datapath.").add({}, st.flows);
}

void coverageMetrics(Exposition& e) {
    auto& f = e.family("ovs_coverage_total", kCounter,
                       "Named event and drop counters since vswitchd started (vsappctl coverage/show describes each).");
    for (unsigned i = 0; i < dp::kCoverageCount; ++i) {
        auto c = static_cast<dp::Coverage>(i);
        f.add({{"event", std::string(dp::coverageInfo(c).name)}}, dp::coverageRead(c));
    }
}

void interfaceMetrics(Exposition& e, Daemon& d) {
    auto& rxp = e.family("ovs_interface_rx_packets_total", kCounter, "Packets received on the interface.");
    auto& rxb = e.family("ovs_interface_rx_bytes_total", kCounter, "Bytes received on the interface.");
    auto& rxd = e.family("ovs_interface_rx_dropped_total", kCounter, "Frames dropped on receive (cut short, too large).");
    auto& txp = e.family("ovs_interface_tx_packets_total", kCounter, "Packets sent on the interface.");
    auto& txb = e.family("ovs_interface_tx_bytes_total", kCounter, "Bytes sent on the interface.");
    auto& txd = e.family("ovs_interface_tx_dropped_total", kCounter, "Frames the interface failed to send (queue full, send error).");
    auto& link = e.family("ovs_interface_link_state", kGauge, "Carrier of the interface: 1 up, 0 down.");
    auto& mtu = e.family("ovs_interface_mtu", kGauge, "MTU of the interface (bytes of L3 payload).");
    auto& ofport = e.family("ovs_interface_of_port", kGauge, "OpenFlow port number of the interface.");
    auto& err = e.family("ovs_interface_error", kGauge,
                         "1 when the interface could not be opened (vsctl get interface NAME error), else 0.");
    auto& fdb = e.family("ovs_fdb_entries", kGauge, "MAC table (FDB) entries of the bridge.");
    auto& rules = e.family("ovs_openflow_table_rules", kGauge, "Rules in the bridge's flow table.");
    auto& lookups = e.family("ovs_openflow_table_lookups_total", kCounter, "Lookups in the bridge's flow table.");
    auto& matched = e.family("ovs_openflow_table_matched_total", kCounter, "Lookups that matched a rule of the flow table.");
    for (const auto& [bn, b] : d.store().config().bridges) {
        std::map<std::string, ofproto::PortRow> rows;
        if (d.ofproto().hasBridge(bn)) {
            for (auto& r : d.ofproto().ports(bn)) rows.emplace(r.name, std::move(r));
            fdb.add({{"bridge", bn}}, d.ofproto().fdb(bn).size());
            for (const auto& t : d.ofproto().tableStats(bn)) {
                Labels l{{"bridge", bn}, {"table", std::to_string(t.table)}};
                rules.add(l, t.active);
                lookups.add(l, t.lookups);
                matched.add(l, t.matched);
            }
        }
        for (const auto& [pn, p] : b.ports)
            for (const auto& [in, ic] : p.interfaces) {
                Labels l{{"bridge", bn}, {"port", pn}, {"interface", in}};
                err.add(l, d.reconciler().error(in).has_value());
                auto row = rows.find(in);
                std::shared_ptr<dp::Port> port = row != rows.end() ? row->second.port : d.reconciler().port(in);
                std::uint32_t no = row != rows.end() ? row->second.ofport : static_cast<std::uint32_t>(std::max(0, static_cast<int>(ic.ofport)));
                if (no) ofport.add(l, no);
                if (!port) continue;
                const auto& s = port->stats();
                rxp.add(l, load(s.rx_packets)); rxb.add(l, load(s.rx_bytes)); rxd.add(l, load(s.rx_dropped));
                txp.add(l, load(s.tx_packets)); txb.add(l, load(s.tx_bytes)); txd.add(l, load(s.tx_dropped));
                link.add(l, port->carrier());
                mtu.add(l, port->mtu());
            }
    }
}

void bondMetrics(Exposition& e, Daemon& d) {
    auto& status = e.family("ovs_bond_lacp_status", kGauge,
                            "LACP status of the bond, one series per status (off, negotiated, configured): 1 for the current one.");
    auto& enabled = e.family("ovs_bond_member_enabled", kGauge, "1 when the bond member may carry traffic.");
    auto& active = e.family("ovs_bond_member_active", kGauge, "1 for the bond's active member (active-backup; in balance modes every enabled member).");
    auto& carrier = e.family("ovs_bond_member_carrier", kGauge, "Carrier of the bond member: 1 up, 0 down.");
    auto& mayEnable = e.family("ovs_bond_member_may_enable", kGauge, "1 when carrier and LACP allow the member to be enabled.");
    auto& rx = e.family("ovs_lacp_member_rx_state", kGauge, "LACP receive machine state of the member, one series per state: 1 for the current one.");
    auto& mux = e.family("ovs_lacp_member_mux_state", kGauge, "LACP mux machine state of the member, one series per state: 1 for the current one.");
    auto& selected = e.family("ovs_lacp_member_selected", kGauge, "1 when LACP selected the member for the aggregator.");
    auto& actorState = e.family("ovs_lacp_member_actor_state", kGauge, "The actor state octet this side sends (IEEE 802.1AX 6.4.2.3).");
    auto& partnerState = e.family("ovs_lacp_member_partner_state", kGauge, "The partner state octet last received (IEEE 802.1AX 6.4.2.3).");
    auto& rxPdus = e.family("ovs_lacp_member_rx_pdus_total", kCounter, "LACPDUs received on the member.");
    auto& txPdus = e.family("ovs_lacp_member_tx_pdus_total", kCounter, "LACPDUs sent on the member.");
    for (const auto& b : d.ofproto().bondStatus(std::nullopt)) {
        for (const char* s : {"off", "negotiated", "configured"})
            status.add({{"bridge", b.bridge}, {"bond", b.name}, {"status", s}}, b.lacp_status == s);
        for (const auto& m : b.members) {
            Labels l{{"bridge", b.bridge}, {"bond", b.name}, {"member", m.name}};
            enabled.add(l, m.enabled);
            active.add(l, m.active);
            carrier.add(l, m.carrier);
            mayEnable.add(l, m.may_enable);
        }
        for (const auto& m : b.lacp_members) {
            std::string name = std::to_string(m.id);
            for (const auto& bm : b.members)
                if (bm.ofport == m.id) name = bm.name;
            Labels l{{"bridge", b.bridge}, {"bond", b.name}, {"member", name}};
            using ofproto::LacpRxState;
            using ofproto::LacpMuxState;
            for (auto s : {LacpRxState::kInitialize, LacpRxState::kPortDisabled, LacpRxState::kExpired,
                           LacpRxState::kDefaulted, LacpRxState::kCurrent}) {
                Labels ls = l;
                ls.emplace_back("state", ofproto::toString(s));
                rx.add(ls, m.rx == s);
            }
            for (auto s : {LacpMuxState::kDetached, LacpMuxState::kWaiting, LacpMuxState::kAttached,
                           LacpMuxState::kCollectingDistributing}) {
                Labels ls = l;
                ls.emplace_back("state", ofproto::toString(s));
                mux.add(ls, m.mux == s);
            }
            selected.add(l, m.selected);
            actorState.add(l, static_cast<std::uint64_t>(m.actor.state));
            partnerState.add(l, static_cast<std::uint64_t>(m.partner.state));
            rxPdus.add(l, m.rx_pdus);
            txPdus.add(l, m.tx_pdus);
        }
    }
}

void controllerMetrics(Exposition& e, Daemon& d) {
    auto& connected = e.family("ovs_controller_connected", kGauge, "1 while the controller target has a connection.");
    auto& state = e.family("ovs_controller_state", kGauge,
                           "Connection state of the controller target (ACTIVE, CONNECTING, BACKOFF, LISTENING...) as a label; the value is always 1.");
    auto& failOpen = e.family("ovs_bridge_fail_open", kGauge, "1 while a standalone bridge has lost its controllers and switches with NORMAL.");
    for (const auto& [bn, b] : d.store().config().bridges) {
        if (b.controllers.empty()) continue;
        failOpen.add({{"bridge", bn}}, d.controllers().failOpen(bn));
        for (const auto& [target, cc] : b.controllers) {
            auto st = d.controllers().status(bn, target).value_or(ControllerStatus{});
            connected.add({{"bridge", bn}, {"target", target}}, st.is_connected);
            auto it = st.status.find("state");
            state.add({{"bridge", bn}, {"target", target}, {"state", it == st.status.end() ? "UNKNOWN" : it->second}}, 1);
        }
    }
}

}  // namespace

std::string collect(Daemon& d) {
    Exposition e;
    processMetrics(e, d);
    datapathMetrics(e, d);
    interfaceMetrics(e, d);
    bondMetrics(e, d);
    controllerMetrics(e, d);
    coverageMetrics(e);
    return e.text();
}

}  // namespace vs::vswitchd::metrics
