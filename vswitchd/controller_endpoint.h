// The switch's end of one configured controller target (docs/controller.md "Targets"):
// A target written as Open vSwitch writes it speaks binary OpenFlow 1.3; with the json: prefix
// (json:tcp:..., json:pssl:...) the JSON controller protocol.
//  - ActiveEndpoint (tcp:HOST[:PORT], ssl:HOST[:PORT]) connects, runs one OfSession, and after a
//    failure or disconnection reconnects with exponential backoff: 1 s, 2 s, 4 s, ... up to the
//    controller's max_backoff (Open vSwitch's rconn); a session that completed its hello resets
//    the backoff to 1 s.
//  - PassiveEndpoint (ptcp:[PORT][:IP], pssl:[PORT][:IP]) listens and runs one OfSession per
//    accepted connection (at most kMaxSessions); if it cannot listen it retries every max_backoff.
// For ssl:/pssl: the TLS contexts come from the global SSL record (set-ssl); a TLS client checks
// that the controller's certificate names the HOST of the target.
//
// Status (the Controller table's `is_connected` and `status` columns, as Open vSwitch fills them):
// state (VOID, CONNECTING, ACTIVE, BACKOFF, LISTENING), last_error, sec_since_connect,
// sec_since_disconnect, and for listeners n_connections.
//
// Thread-safety: none; the control thread owns endpoints. Endpoints are shared_ptr-owned so that
// pending timers and connects can tell they are gone (weak_ptr).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "protocol/oftarget.h"
#include "vswitchd/config_model.h"
#include "vswitchd/controller_session.h"

namespace vs::vswitchd {

// What endpoints need from the controller manager.
struct EndpointEnv {
    boost::asio::io_context& io;
    OfRequestHandler& handler;   // JSON targets
    Of13Handler& handler13;      // OpenFlow 1.3 targets
    // The TLS context for a server or client, or null with `error` set (no SSL record, bad files).
    std::function<std::shared_ptr<boost::asio::ssl::context>(bool server, std::string& error)> tls;
    std::function<void(const std::string& bridge)> up;     // a session of the bridge completed hello
    std::function<void(const std::string& bridge)> down;   // an up session closed
    std::function<void(const std::string& bridge)> alive;  // a message arrived on an up session
};

struct ControllerStatus {
    bool is_connected = false;
    std::map<std::string, std::string> status;
};

class ControllerEndpoint {
public:
    virtual ~ControllerEndpoint() = default;
    virtual void start() = 0;
    // New column values (probe, backoff, rate limits) for the running sessions.
    virtual void configure(const ControllerConfig& cfg) = 0;
    // Drops every session and starts over (the TLS settings changed).
    virtual void restart() = 0;
    // Closes everything for good; no event is reported afterwards.
    virtual void stop() = 0;
    virtual std::vector<std::shared_ptr<OfSession>> upSessions() const = 0;
    virtual ControllerStatus status(std::int64_t now_ms) const = 0;

    // Creates the endpoint for `target` (already validated) of `bridge`.
    static std::shared_ptr<ControllerEndpoint> make(EndpointEnv& env, const std::string& bridge,
                                                    const std::string& target, const protocol::Target& parsed,
                                                    const ControllerConfig& cfg);
};

}  // namespace vs::vswitchd
