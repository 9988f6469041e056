// The controller manager (docs/controller.md): makes the bridges' controller connections match
// the config (Bridge:controller, Bridge:fail_mode, the SSL record), and connects them to ofproto:
// packet_in from the slow-path queue to the connected controllers, flow_removed for rules with
// send_flow_rem, port_status when a port appears, goes or changes link state, and the fail mode.
//
// Fail modes (as Open vSwitch): when a bridge gains its first controller or loses its last one,
// and when its fail mode changes while it has none, its flow tables are flushed; a bridge without
// controllers in standalone mode then gets the default rule (priority 0, actions=NORMAL), one in
// secure mode gets nothing (it forwards nothing until a controller adds rules). While a
// standalone bridge has controllers but none has been heard from for three inactivity probes
// (connmgr.h FailOpenMonitor) it is "fail open": NORMAL switching takes precedence over its
// rules, until a controller connects again. A secure bridge keeps its rules and never switches on
// its own. Every change of mode invalidates the datapath caches.
//
// Thread-safety: none; the control thread owns it (the packet_in handler it installs in ofproto
// runs on the control thread too, from Ofproto::processSlowPath).
// Lifecycle: construct after ofproto, apply() at start and after every committed transaction,
// destroy before ofproto.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "ofproto/connmgr.h"
#include "ofproto/ofproto.h"
#include "vswitchd/config_model.h"
#include "vswitchd/config_store.h"
#include "vswitchd/controller_endpoint.h"
#include "vswitchd/controller_handler.h"
#include "vswitchd/of13_handler.h"

namespace vs::vswitchd {

class ControllerManager {
public:
    static constexpr std::chrono::milliseconds kTick{100};

    ControllerManager(boost::asio::io_context& io, ofproto::Ofproto& of);
    ~ControllerManager();
    ControllerManager(const ControllerManager&) = delete;
    ControllerManager& operator=(const ControllerManager&) = delete;

    // Makes connections, listeners and fail modes match `cfg`. The first call (at start) adopts
    // the flow tables as they are (restored from the flows file); later ones apply the flush
    // rules above. Returns true when it changed flow tables (flushed, default rule added).
    bool apply(const Config& cfg);

    // What apply() does to flow tables for a config change, as the store's journal records it
    // (FlowHooks::resets): bridge -> reset, true for "only the default NORMAL rule".
    static FlowResets flowResets(const Config& old, const Config& next);

    // The Controller record's status columns; nullopt for an unknown bridge/target.
    std::optional<ControllerStatus> status(const std::string& bridge, const std::string& target) const;
    // True while the bridge is fail open (standalone, no controller).
    bool failOpen(const std::string& bridge) const;
    // A port's config changed (port_mod, vsofctl mod-port): port_status now, before another
    // controller's connection moves the port snapshot on.
    void portsChanged(const std::string& bridge);

private:
    struct BridgeState {
        explicit BridgeState(std::int64_t now) : monitor(now) {}
        ofproto::FailOpenMonitor monitor;
        bool has_controllers = false;
        bool secure = false;
        bool fail_open = false;
        std::map<std::string, std::shared_ptr<ControllerEndpoint>> endpoints;  // by target
        std::map<std::uint32_t, protocol::of::PortDesc> ports;                 // by ofport, for port_status
    };

    bool applyBridge(const std::string& name, const BridgeConfig& bc, bool is_new);
    // Flush on this change? nullopt: no; else whether the default NORMAL rule follows.
    static std::optional<bool> flushPolicy(bool had, bool was_secure, bool has, bool secure, bool is_new);
    bool applyFlowPolicy(const std::string& name, BridgeState& st, bool has, bool secure, bool is_new);
    void applyEndpoints(const std::string& name, BridgeState& st, const BridgeConfig& bc);
    void applyTls(const std::optional<SslConfig>& ssl);
    std::shared_ptr<boost::asio::ssl::context> tlsContext(bool server, std::string& error);
    void arm();
    void tick();
    void updateFailOpen(const std::string& name, BridgeState& st, std::int64_t now);
    void sendRemoved();
    void checkPorts(const std::string& name, BridgeState& st);
    void onPacketIn(const ofproto::SlowPathPacket& p);
    std::vector<std::shared_ptr<OfSession>> upSessions(const BridgeState& st) const;

    boost::asio::io_context& io_;
    ofproto::Ofproto& of_;
    OfRequestHandler handler_;
    Of13Handler handler13_;
    EndpointEnv env_;
    std::map<std::string, BridgeState> bridges_;
    bool initial_ = true;
    std::optional<SslConfig> ssl_;
    std::shared_ptr<boost::asio::ssl::context> tls_client_, tls_server_;
    std::string tls_error_;
    boost::asio::steady_timer timer_;
};

}  // namespace vs::vswitchd
