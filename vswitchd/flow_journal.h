// The flow tables' side of the store (config_store.h): how the daemon turns flow_mods into
// journal records, restores the tables at start (the flows file, then the journal's events in
// order), and exports them for a snapshot.
//
// Thread-safety: control thread only (they call Ofproto's thread-safe methods).
#pragma once

#include <string>
#include <vector>

#include "ofproto/ofproto.h"
#include "vswitchd/config_store.h"

namespace vs::vswitchd {

// "add", "modify", "modify_strict", "delete", "delete_strict".
std::string flowCommandName(ofproto::FlowMod::Command c);
// The journal's form of `fm` on `bridge`: its command and its ovs-ofctl text, ports by number.
JournaledFlowMod journaledFlowMod(const std::string& bridge, const ofproto::FlowMod& fm);
// The same for a group_mod: command group_add/group_modify/group_delete, text in ovs-ofctl's
// group syntax (ofproto/ofp_group_text.h). The flows file keeps a bridge's groups as lines of
// that syntax ("group_id=..."), before its rules.
JournaledFlowMod journaledGroupMod(const std::string& bridge, const ofproto::GroupMod& gm);

// Restores the flow tables of the bridges `of` has from what `store` loaded: each bridge in the
// flows file gets exactly its rules, then every event after the file's cursors is replayed in
// journal order (a reset to the default rule or to empty tables, or a flow_mod). Events of
// bridges that do not exist (deleted later in the journal) are skipped. Throws ConfigError naming
// the file and the problem if a rule does not parse or apply.
void restoreFlowTables(ofproto::Ofproto& of, const ConfigStore& store);

// Every configured bridge's rules, as the flows file keeps them.
FlowLines exportFlowTables(const ofproto::Ofproto& of, const Config& cfg);

}  // namespace vs::vswitchd
