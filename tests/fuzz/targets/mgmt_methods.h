// Fuzz entry point: every management method (docs/protocol.md) with arbitrary params, through the
// daemon's real method table (registerRpcMethods / registerFlowMethods / registerOfprotoMethods /
// registerBondMethods on a real vswitchd::Daemon: config store with its journal, flow store,
// ofproto, datapath, reconciler), without the socket and without start() (no poll threads).
//
// Isolation: the first call moves the process into a new network namespace (unshare; needs root),
// with a veth pair fzv0/fzv1 in it, so the TAP devices, AF_PACKET sockets and VXLAN sockets the
// reconciler creates never touch the host. The config lives on tmpfs.
//
// Input: JSON-RPC request lines, as a client sends them (at most 48). Each input starts from an
// empty daemon (fresh files).
//
// Invariants: a handler answers with a result or an RpcError, never another exception (which the
// server would turn into -32603 "internal error"); the reply is one line that decodes; after every
// transact / flow request the committed config is what a restart would load (ConfigStore::open on
// the same files equals the running config, and the file format round-trips), and each bridge's
// rules are what a restart would restore (the flows file and the journal's flow events, replayed
// onto a scratch switch, give exportFlows()).
#pragma once

#include <sched.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "ofproto/ofp_parse.h"
#include "protocol/jsonrpc.h"
#include "tests/fuzz/targets/common.h"
#include "tests/fuzz/targets/config_load.h"
#include "vswitchd/config_json.h"
#include "vswitchd/daemon.h"
#include "vswitchd/flow_journal.h"
#include "vswitchd/mgmt_server.h"

namespace vs::fuzz {

// Moves the process into its own network namespace once. Returns why it cannot, or "".
inline const std::string& mgmtIsolation() {
    static const std::string why = []() -> std::string {
        if (::geteuid() != 0) return "needs root (a private network namespace)";
        if (::unshare(CLONE_NEWNET) != 0) return std::string("unshare(CLONE_NEWNET): ") + std::strerror(errno);
        if (std::system("ip link set lo up && ip link add fzv0 type veth peer name fzv1 && "
                        "ip link set fzv0 up && ip link set fzv1 up") != 0)
            return "could not create a veth pair in the private namespace";
        return "";
    }();
    return why;
}

struct MgmtHarness {
    boost::asio::io_context io;
    std::filesystem::path dir = fuzzScratchDir() / "mgmt";
    std::unique_ptr<vswitchd::Daemon> daemon;
    vswitchd::MethodTable table;

    void fresh() {
        table = vswitchd::MethodTable();
        daemon.reset();
        std::filesystem::remove_all(dir);
        std::filesystem::create_directories(dir);
        vswitchd::DaemonOptions o;
        o.config = dir / "conf.json";
        o.socket = dir / "unused.sock";
        daemon = std::make_unique<vswitchd::Daemon>(io, o);
        daemon->controllers().apply(daemon->store().config());  // as start() does: the tables are adopted
        vswitchd::registerRpcMethods(table, *daemon);
        vswitchd::registerFlowMethods(table, *daemon);
        vswitchd::registerOfprotoMethods(table, *daemon);
        vswitchd::registerBondMethods(table, *daemon);
        vswitchd::registerStpMethods(table, *daemon);
    }
    static MgmtHarness& get() {
        static MgmtHarness h;
        return h;
    }
};

namespace detail {

inline void checkPersisted(const char* kName, MgmtHarness& h, const std::string& request) {
    auto& d = *h.daemon;
    const vswitchd::Config& running = d.store().config();
    vswitchd::Config loaded;
    try {
        loaded = vswitchd::ConfigStore::open(d.store().path()).config();
    } catch (const vswitchd::ConfigError& e) {
        fuzzFail(kName, "after '" + excerpt(request) + "' the config no longer loads: " + e.what());
    }
    if (!(loaded == running)) fuzzFail(kName, "after '" + excerpt(request) + "' a restart would load another config");
    try {
        if (!(vswitchd::configFromFileText(vswitchd::configToFileText(running)) == running))
            fuzzFail(kName, "after '" + excerpt(request) + "' the running config does not survive write + load");
    } catch (const vswitchd::ConfigFormatError& e) {
        fuzzFail(kName, "after '" + excerpt(request) + "' the running config is refused by the loader: " + e.what());
    }
    std::optional<vswitchd::ConfigStore> reopened;
    try {
        reopened.emplace(vswitchd::ConfigStore::open(d.store().path()));
    } catch (const vswitchd::ConfigError& e) {
        fuzzFail(kName, "after '" + excerpt(request) + "' the store no longer loads: " + e.what());
    }
    ofproto::Ofproto scratch{dp::DatapathConfig{}};  // what a restart rebuilds, without ports
    for (const auto& [bridge, bc] : running.bridges)
        if (d.ofproto().hasBridge(bridge)) scratch.addBridge(bridge);
    try {
        vswitchd::restoreFlowTables(scratch, *reopened);
    } catch (const vswitchd::ConfigError& e) {
        fuzzFail(kName, "after '" + excerpt(request) + "' the saved rules do not restore: " + e.what());
    }
    for (const auto& [bridge, bc] : running.bridges)
        if (d.ofproto().hasBridge(bridge) && !(scratch.exportFlows(bridge) == d.ofproto().exportFlows(bridge)))
            fuzzFail(kName, "after '" + excerpt(request) + "' a restart would restore other rules on " + bridge);
}

}  // namespace detail

inline int mgmtMethods(const std::uint8_t* data, std::size_t size) {
    constexpr const char* kName = "mgmt_methods";
    if (size > 16384) return 0;
    if (!mgmtIsolation().empty()) fuzzFail(kName, "cannot isolate the daemon: " + mgmtIsolation());
    MgmtHarness& h = MgmtHarness::get();
    h.fresh();

    std::string_view input = asText(data, size);
    int requests = 0;
    while (!input.empty() && requests < 48) {
        auto nl = input.find('\n');
        std::string_view line = input.substr(0, nl);
        input = nl == std::string_view::npos ? std::string_view() : input.substr(nl + 1);
        protocol::Request req;
        if (protocol::decodeRequest(line, req)) continue;
        ++requests;
        rapidjson::Document result;
        std::string reply;
        const std::string id = req.id.empty() ? "null" : req.id;
        try {
            h.table(req, result);
            reply = protocol::encodeResult(id, result);
        } catch (const vswitchd::RpcError& e) {
            if (e.code >= -32000 && e.code != 0) fuzzFail(kName, "RpcError with a non-error code " + std::to_string(e.code));
            if (e.code == static_cast<int>(protocol::ErrorCode::kInternalError))
                fuzzFail(kName, "'" + excerpt(line) + "' failed with internal error: " + e.what());
            reply = protocol::encodeError(id, e.code, e.what(), e.data.get());
        } catch (const std::exception& e) {
            fuzzFail(kName, "'" + excerpt(line) + "' threw a non-RpcError exception (the client would get "
                            "-32603 internal error): " + e.what());
        }
        if (reply.find('\n') != std::string::npos) fuzzFail(kName, "a reply spans lines");
        protocol::Response resp;
        if (auto e = protocol::decodeResponse(reply, resp)) fuzzFail(kName, "a reply does not decode: " + *e);
        const bool flow_request = req.method.rfind("flow/", 0) == 0;
        if (flow_request || req.method == "transact") detail::checkPersisted(kName, h, std::string(line));
    }
    return 0;
}

}  // namespace vs::fuzz
