// The OVSDB server (RFC 7047) inside vswitchd: serves the Open_vSwitch database to ovs-vsctl,
// ovsdb-client, the python `ovs` IDL and other OVSDB clients on Unix sockets (`--remote
// punix:PATH`) and TCP (`--remote ptcp:PORT:IP`), docs/ovsdb.md. Methods: list_dbs, get_schema, transact, monitor, monitor_cond,
// monitor_cond_since, monitor_cancel, lock, steal, unlock, echo (both ways: a client silent for
// 5 s is sent an echo request, and closed after 15 s of silence), set_db_change_aware.
//
// One source of truth: the rows are a projection of the config store (ovsdb_mapping.h). A
// transaction runs on a copy of the rows (ovsdb/database.h); if it changes the config, the Backend
// commits the new Config through the store (same validation and durability as the JSON-RPC
// "transact") and applies it; only then are the rows replaced and the monitors notified. A change
// made elsewhere (the management protocol) reaches the monitors through configChanged().
//
// Bad input: a message that is not JSON gets an error reply {"error":"syntax error"} with id null
// and the connection stays open; bytes that cannot start a JSON text close that connection. A
// failed transaction changes nothing. No client can block another.
//
// Thread-safety: none; everything runs on the daemon's control thread (the io_context's).
// Lifecycle: the constructor binds and listens (throws std::runtime_error naming the path);
// the destructor closes every connection and removes the socket files.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "vswitchd/config_model.h"
#include "vswitchd/ovsdb_mapping.h"

namespace vs::vswitchd {

struct OvsdbBackend {
    std::function<const Config&()> config;
    // Commits and applies `next`; returns the problem (nothing changed) or nullopt.
    std::function<std::optional<std::string>(const Config& next)> commit;
    OvsdbStatus status;
};

// Where the server listens: a Unix socket (`punix:PATH`) or TCP (`ptcp:[PORT][:IP]`, ovsdb-server's
// syntax, parsed as controller targets are (protocol/oftarget.h): port 6640 and every IPv4
// address by default; IP an IPv4 or bracketed IPv6 address).
struct OvsdbRemote {
    std::filesystem::path path;  // punix
    bool tcp = false;
    std::string ip;              // ptcp: the address to listen on; "" = every IPv4 address
    std::uint16_t port = 6640;
    bool operator==(const OvsdbRemote&) const = default;
};

// Parses one --remote; throws std::invalid_argument naming the problem (pssl: is not supported).
OvsdbRemote parseOvsdbRemote(const std::string& remote);

class OvsdbServer {
public:
    OvsdbServer(boost::asio::io_context& io, const std::vector<OvsdbRemote>& remotes, OvsdbBackend backend);
    // The TCP ports listened on: the --remote ptcp: ones in the order given, then the Managers'
    // (a closed manager listener reports 0).
    std::vector<std::uint16_t> tcpPorts() const;
    ~OvsdbServer();
    OvsdbServer(const OvsdbServer&) = delete;
    OvsdbServer& operator=(const OvsdbServer&) = delete;

    // The config changed outside OVSDB: re-project the rows and notify monitors now if a monitor
    // is open, else at the next request (cheap when the config's seq did not move).
    void configChanged();
    // The daemon's reported state (an interface's error, a datapath ID) may have changed:
    // re-project and notify monitors of what differs (lazily, as configChanged()).
    void statusChanged();

    struct Impl;

private:
    std::shared_ptr<Impl> impl_;
};

}  // namespace vs::vswitchd
