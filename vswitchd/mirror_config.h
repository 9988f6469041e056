// Configuration of port mirrors (docs/mirrors.md): the Bridge column `mirrors` (the bridge's
// Mirror records by name), the Mirror table's columns (Open vSwitch's: select_all,
// select_src_port, select_dst_port, select_vlan, output_port, output_vlan, external_ids), the
// transaction ops add-mirror and del-mirror (docs/protocol.md "transact"), the rules across
// columns, the runtime counters in the `get` result, and the conversion for ofproto.
//
// Rules (mirrorProblem; a transaction that breaks one is refused whole): a referenced port must
// be a port of the mirror's bridge; output_port and output_vlan are exclusive; the output port is
// not one of the mirror's selected ports; VLANs are 0..4095 (select_vlan) and 1..4095
// (output_vlan); at most 32 mirrors per bridge. A mirror without output is kept and does nothing
// (as Open vSwitch keeps one whose output port was deleted): del-port removes the port from every
// mirror of its bridge (Open vSwitch's weak references).
//
// Thread-safety: free functions on values passed in.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <rapidjson/document.h>

#include "ofproto/mirror.h"
#include "vswitchd/config_schema.h"

namespace vs::vswitchd {

ColumnDef<BridgeConfig> mirrorsColumn();
const std::vector<ColumnDef<MirrorConfig>>& mirrorColumns();

// The first rule a mirror of `cfg` breaks ("Mirror m0 of bridge br0: output port p3 is also a
// selected port"), or nullopt.
std::optional<std::string> mirrorProblem(const Config& cfg);

// Mirror record `name`: unique across bridges, else OpError (-32003) naming the bridges; null when
// there is none.
MirrorConfig* findMirrorRecord(Config& cfg, const std::string& name);

// The ops: {"op":"add-mirror","bridge":B,"mirror":M,"columns":{COL:VALUE},"may_exist":bool} and
// {"op":"del-mirror","bridge":B,"mirror":M,"if_exists":bool}. Throw OpError naming the problem.
void addMirror(Config& cfg, const std::string& bridge, const std::string& name, const rapidjson::Value* columns,
               bool mayExist);
void delMirror(Config& cfg, const std::string& bridge, const std::string& name, bool ifExists);
// Removes port `port` from every mirror of `br` (the port is being deleted).
void forgetMirrorPort(BridgeConfig& br, const std::string& port);

// What ofproto runs for the bridge's mirrors.
std::vector<ofproto::MirrorSpec> mirrorSpecs(const BridgeConfig& br);

// {BRIDGE: {MIRROR: {"tx_packets":N,"tx_bytes":N}}} for the bridges that have mirrors, from
// `stats(bridge)`.
rapidjson::Value mirrorStatusJson(const Config& cfg,
                                  const std::function<std::vector<ofproto::MirrorStats>(const std::string&)>& stats,
                                  JsonAlloc& a);

}  // namespace vs::vswitchd
