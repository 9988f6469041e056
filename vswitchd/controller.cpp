#include "vswitchd/controller.h"

#include "datapath/coverage.h"
#include "datapath/clock.h"
#include "protocol/ofchannel.h"
#include "vswitchd/config_controller.h"
#include "vswitchd/log.h"

namespace {
constexpr vs::log::Module kLog = vs::log::Module::kController;  // vlog/set module
}

namespace vs::vswitchd {

namespace of = protocol::of;

ControllerManager::ControllerManager(boost::asio::io_context& io, ofproto::Ofproto& of)
    : io_(io), of_(of), handler_(of), handler13_(of),
      env_{io, handler_, handler13_, {}, {}, {}, {}}, timer_(io) {
    env_.tls = [this](bool server, std::string& error) { return tlsContext(server, error); };
    env_.up = [this](const std::string& br) {
        auto it = bridges_.find(br);
        if (it == bridges_.end()) return;
        it->second.monitor.connected(dp::monotonicMs());
        it->second.ports.clear();  // a new controller learns the ports from features; report changes from now
        checkPorts(br, it->second);
        updateFailOpen(br, it->second, dp::monotonicMs());
    };
    env_.down = [this](const std::string& br) {
        if (auto it = bridges_.find(br); it != bridges_.end()) it->second.monitor.disconnected(dp::monotonicMs());
    };
    env_.alive = [this](const std::string& br) {
        if (auto it = bridges_.find(br); it != bridges_.end()) it->second.monitor.alive(dp::monotonicMs());
    };
    of_.setSlowPathHandler(ofproto::SlowPathKind::kController,
                           [this](const ofproto::SlowPathPacket& p) { onPacketIn(p); });
    handler13_.setPortsChanged([this](const std::string& br) { portsChanged(br); });  // of13_port.cpp
    arm();
}

void ControllerManager::portsChanged(const std::string& bridge) {
    if (auto it = bridges_.find(bridge); it != bridges_.end()) checkPorts(bridge, it->second);
}

ControllerManager::~ControllerManager() {
    of_.setSlowPathHandler(ofproto::SlowPathKind::kController, nullptr);
    timer_.cancel();
    for (auto& [name, st] : bridges_)
        for (auto& [target, ep] : st.endpoints) ep->stop();
}

bool ControllerManager::apply(const Config& cfg) {
    bool flows_changed = false;
    applyTls(cfg.ssl);
    for (auto it = bridges_.begin(); it != bridges_.end();) {
        if (cfg.bridges.count(it->first)) {
            ++it;
            continue;
        }
        for (auto& [target, ep] : it->second.endpoints) ep->stop();
        it = bridges_.erase(it);
    }
    for (const auto& [name, bc] : cfg.bridges) {
        if (!of_.hasBridge(name)) continue;
        bool is_new = !bridges_.count(name);
        if (is_new) bridges_.emplace(name, BridgeState(dp::monotonicMs()));
        flows_changed |= applyBridge(name, bc, is_new);
    }
    initial_ = false;
    return flows_changed;
}

bool ControllerManager::applyBridge(const std::string& name, const BridgeConfig& bc, bool is_new) {
    BridgeState& st = bridges_.at(name);
    bool has = !bc.controllers.empty();
    bool secure = isSecure(bc);
    bool flushed = applyFlowPolicy(name, st, has, secure, is_new);
    st.has_controllers = has;
    st.secure = secure;
    applyEndpoints(name, st, bc);
    std::int64_t probe = 0;
    for (const auto& [t, cc] : bc.controllers)
        if (cc.probeMs() > 0 && (probe == 0 || cc.probeMs() < probe)) probe = cc.probeMs();
    st.monitor.configure(secure ? ofproto::FailMode::kSecure : ofproto::FailMode::kStandalone, has, probe);
    updateFailOpen(name, st, dp::monotonicMs());
    return flushed;
}

// Open vSwitch's connmgr_set_controllers / connmgr_set_fail_mode: flush on a change of "has
// controllers" (or of the fail mode without controllers), then the default NORMAL rule for a
// standalone bridge without controllers. A new bridge has the default rule add-br gave it.
std::optional<bool> ControllerManager::flushPolicy(bool had, bool was_secure, bool has, bool secure, bool is_new) {
    bool flush = is_new ? (has || secure) : (has != had || (!has && secure != was_secure));
    if (!flush) return std::nullopt;
    return !has && !secure;
}

FlowResets ControllerManager::flowResets(const Config& old, const Config& next) {
    FlowResets out;
    for (const auto& [name, bc] : old.bridges)
        if (!next.bridges.count(name)) out[name] = true;  // deleted: a namesake starts from add-br's rule
    for (const auto& [name, bc] : next.bridges) {
        auto o = old.bridges.find(name);
        bool is_new = o == old.bridges.end();
        auto keep = flushPolicy(!is_new && !o->second.controllers.empty(), !is_new && isSecure(o->second),
                                !bc.controllers.empty(), isSecure(bc), is_new);
        if (keep) out[name] = *keep;
    }
    return out;
}

bool ControllerManager::applyFlowPolicy(const std::string& name, BridgeState& st, bool has, bool secure, bool is_new) {
    auto keep_normal = initial_ ? std::nullopt : flushPolicy(st.has_controllers, st.secure, has, secure, is_new);
    if (!keep_normal) return false;
    ofproto::FlowMod del;
    del.command = ofproto::FlowMod::Command::kDelete;
    del.table = ofproto::kTableAll;
    std::vector<ofproto::FlowMod> mods{del};
    if (*keep_normal) mods.push_back(ofproto::defaultNormalRule());
    of_.applyFlowMods(name, mods);
    of_.applyGroupMod(name, ofproto::GroupMod{ofproto::GroupMod::Command::kDelete, {}, ofproto::kGroupAll, {}});  // and groups
    log::info(kLog, "bridge {}: flow tables flushed ({}, fail mode {}){}", name, has ? "controllers configured" : "no controller",
              secure ? "secure" : "standalone", !has && !secure ? "; default NORMAL rule added" : "");
    return true;
}

void ControllerManager::applyEndpoints(const std::string& name, BridgeState& st, const BridgeConfig& bc) {
    for (auto it = st.endpoints.begin(); it != st.endpoints.end();) {
        if (bc.controllers.count(it->first)) {
            ++it;
            continue;
        }
        it->second->stop();
        it = st.endpoints.erase(it);
    }
    for (const auto& [target, cc] : bc.controllers) {
        if (auto it = st.endpoints.find(target); it != st.endpoints.end()) {
            it->second->configure(cc);
            continue;
        }
        auto parsed = protocol::parseTarget(target);
        if (!std::holds_alternative<protocol::Target>(parsed)) continue;  // the config store validated it
        auto ep = ControllerEndpoint::make(env_, name, target, std::get<protocol::Target>(parsed), cc);
        st.endpoints.emplace(target, ep);
        ep->start();
    }
}

void ControllerManager::applyTls(const std::optional<SslConfig>& ssl) {
    if (ssl == ssl_ && !initial_) return;
    ssl_ = ssl;
    tls_client_.reset();
    tls_server_.reset();
    tls_error_.clear();
    if (!ssl) {
        tls_error_ = "no SSL configuration (set one with vsctl set-ssl)";
    } else {
        protocol::TlsFiles files{ssl->private_key, ssl->certificate, ssl->ca_cert};
        try {
            tls_client_ = protocol::makeTlsContext(files, false);
            tls_server_ = protocol::makeTlsContext(files, true);
        } catch (const protocol::TlsError& e) {
            tls_error_ = std::string("SSL: ") + e.what();
            log::err(kLog, "{}", tls_error_);
        }
    }
    if (initial_) return;
    for (auto& [name, st] : bridges_)
        for (auto& [target, ep] : st.endpoints)
            if (target.starts_with("ssl:") || target.starts_with("pssl:")) ep->restart();
}

std::shared_ptr<boost::asio::ssl::context> ControllerManager::tlsContext(bool server, std::string& error) {
    auto ctx = server ? tls_server_ : tls_client_;
    if (!ctx) error = tls_error_;
    return ctx;
}

void ControllerManager::arm() {
    timer_.expires_after(kTick);
    timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec) return;
        tick();
        arm();
    });
}

void ControllerManager::tick() {
    std::int64_t now = dp::monotonicMs();
    for (auto& [name, st] : bridges_) {
        updateFailOpen(name, st, now);
        checkPorts(name, st);
    }
    sendRemoved();
}

void ControllerManager::updateFailOpen(const std::string& name, BridgeState& st, std::int64_t now) {
    bool want = st.monitor.failOpen(now);
    if (want == st.fail_open) return;
    st.fail_open = want;
    of_.setFailOpen(name, want);
    if (want)
        log::warn(kLog, "bridge {}: no controller for {} ms: fail-open, switching with NORMAL (fail mode standalone)", name,
                  st.monitor.triggerMs());
    else
        log::info(kLog, "bridge {}: leaving fail-open: a controller is connected", name);
}

void ControllerManager::sendRemoved() {
    for (const auto& r : of_.takeRemoved()) {
        auto it = bridges_.find(r.bridge);
        if (it == bridges_.end()) continue;
        auto sessions = upSessions(it->second);
        if (sessions.empty()) continue;
        for (auto& s : sessions) s->sendFlowRemoved(r);
    }
}

// port_status (OpenFlow 1.3 section 7.4.3) by comparing snapshots; only while a controller listens
// (a new session starts from a fresh snapshot: it learns the ports from features_reply).
void ControllerManager::checkPorts(const std::string& name, BridgeState& st) {
    auto sessions = upSessions(st);
    if (sessions.empty() || !of_.hasBridge(name)) {
        st.ports.clear();
        return;
    }
    std::map<std::uint32_t, of::PortDesc> now;
    for (const auto& row : of_.ports(name)) now.emplace(row.ofport, OfRequestHandler::portDesc(row));
    auto notify = [&](of::PortReason why, const of::PortDesc& d) {
        for (auto& s : sessions) s->sendPortStatus(why, d);
    };
    if (!st.ports.empty()) {
        for (const auto& [no, d] : now) {
            auto old = st.ports.find(no);
            if (old == st.ports.end()) notify(of::PortReason::kAdd, d);
            else if (!(old->second == d)) notify(of::PortReason::kModify, d);
        }
        for (const auto& [no, d] : st.ports)
            if (!now.count(no)) notify(of::PortReason::kDelete, d);
    }
    st.ports = std::move(now);
}

std::vector<std::shared_ptr<OfSession>> ControllerManager::upSessions(const BridgeState& st) const {
    std::vector<std::shared_ptr<OfSession>> out;
    for (const auto& [target, ep] : st.endpoints)
        for (auto& s : ep->upSessions()) out.push_back(std::move(s));
    return out;
}

void ControllerManager::onPacketIn(const ofproto::SlowPathPacket& p) {
    auto pin = of_.packetIn(p);
    if (!pin) return;
    auto it = bridges_.find(pin->bridge);
    auto sessions = it == bridges_.end() ? std::vector<std::shared_ptr<OfSession>>{} : upSessions(it->second);
    if (sessions.empty()) {
        dp::coverageAdd(dp::Coverage::drop_controller_unavailable);
        return;
    }
    for (auto& s : sessions) s->sendPacketIn(*pin);
}

std::optional<ControllerStatus> ControllerManager::status(const std::string& bridge, const std::string& target) const {
    auto b = bridges_.find(bridge);
    if (b == bridges_.end()) return std::nullopt;
    auto e = b->second.endpoints.find(target);
    if (e == b->second.endpoints.end()) return std::nullopt;
    return e->second->status(dp::monotonicMs());
}

bool ControllerManager::failOpen(const std::string& bridge) const {
    auto b = bridges_.find(bridge);
    return b != bridges_.end() && b->second.fail_open;
}

}  // namespace vs::vswitchd
