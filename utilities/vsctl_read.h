// Evaluation of vsctl's read-only commands (list-br, br-exists, list-ports, port-to-br,
// list-ifaces, iface-to-br, show, get, list, get-controller, get-fail-mode, get-ssl) against a
// Snapshot: the result of one `get` call (config + runtime status) and, for `show`, one `show`
// call. Records are views of that data:
// Bridge (name, other_config, external_ids, fail_mode, controller (targets), ports), Controller
// (target, its columns, is_connected, status), Port (name, tag, trunks, vlan_mode,
// other_config, external_ids, interfaces), Interface (config columns merged with its status: ofport, error, mac_in_use,
// mtu, link_state, statistics, ...). Columns the daemon adds later appear automatically.
//
// Thread-safety: a Snapshot is immutable after set*(); evaluation functions are pure.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

#include "utilities/vsctl_cli.h"
#include "utilities/vsctl_parse.h"

namespace vs::utilities {

class Snapshot {
public:
    // `getResult` is the `get` method's result ({"seq","config","status"}).
    void setGet(const rapidjson::Value& getResult);
    // `showResult` is the `show` method's result ({"bridges":[...]}).
    void setShow(const rapidjson::Value& showResult);
    bool hasGet() const { return hasGet_; }
    bool hasShow() const { return hasShow_; }
    const rapidjson::Value& show() const { return show_; }

    std::vector<std::string> bridgeNames() const;  // sorted
    const rapidjson::Value* findBridge(std::string_view name) const;
    // The port named `name` and (out) its bridge; nullptr if none.
    const rapidjson::Value* findPort(std::string_view name, std::string* bridge = nullptr) const;
    // The interface named `name` and (out) its bridge; nullptr if none.
    const rapidjson::Value* findInterface(std::string_view name, std::string* bridge = nullptr) const;
    // Sorted names of the bridge's ports / of its ports' interfaces, leaving out port `skipPort`
    // (list-ports and list-ifaces pass the bridge's name: its local port is not listed).
    std::vector<std::string> portNames(const rapidjson::Value& bridge, std::string_view skipPort) const;
    std::vector<std::string> interfaceNames(const rapidjson::Value& bridge, std::string_view skipPort) const;

    // Names of every record of the canonical `table`, sorted.
    std::vector<std::string> recordNames(std::string_view table) const;
    // Fills `out` with the record's columns (an object, "name" first, then sorted); false if the
    // record does not exist.
    bool record(std::string_view table, std::string_view name, rapidjson::Document& out) const;

    // Mirror `name` of bridge `bridge` (docs/mirrors.md): its columns and statistics; false if none.
    bool mirrorRecord(std::string_view bridge, std::string_view name, rapidjson::Document& out) const;

    // get-ssl's output: "Private key: ...\nCertificate: ...\nCA Certificate: ...\nBootstrap: false\n"
    // (nothing when unset), or the SSL record as JSON.
    std::string sslText(OutputFormat format) const;

private:
    bool controllerRecord(std::string_view name, rapidjson::Document& out) const;
    const rapidjson::Value& bridges() const;
    const rapidjson::Value* interfaceStatus(std::string_view name) const;

    rapidjson::Document get_;
    rapidjson::Document show_;
    bool hasGet_ = false;
    bool hasShow_ = false;
};

// Which calls a read command needs.
bool needsShow(const Command& cmd);  // `show`
bool needsGet(const Command& cmd);   // every other read command

struct ReadOutput {
    std::string text;     // what to print on stdout (may be empty)
    int status = kExitOk;  // kExitAbsent for br-exists on a missing bridge
};

// Evaluates one read command. Throws CliError ("no bridge named br9", "no row \"p9\" in table
// Interface", "no key \"k\" in Bridge record \"br0\" column other_config", ...).
ReadOutput evaluateRead(const Command& cmd, const Snapshot& snapshot, OutputFormat format);

// The `show` text, in the style of ovs-vsctl show.
std::string formatShow(const rapidjson::Value& showResult);

}  // namespace vs::utilities
