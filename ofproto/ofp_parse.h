// Parser of ovs-ofctl's flow syntax (ovs-ofctl(8) "Flow Syntax", ovs-fields(7)) into the
// OpenFlow-level values of ofp_types.h: flow_mods for add-flow / mod-flows / del-flows, matches
// for dump-flows filters and ofproto/trace flow descriptions, and flow files (add-flows FILE).
//
// Semantics implemented: OpenFlow Switch Specification 1.3.5 section 7.2.3 (flow match fields,
// 7.2.3.6 match field prerequisites), 7.2.5 (actions; set-field prerequisites are those of the
// field being written), 7.3.4.2 (flow_mod: table, priority, cookie/mask, timeouts, flags,
// out_port). Every accepted field and action is listed in docs/vsofctl.md.
//
// Representation (canonical: the same flow always parses to the same value, and
// parseFlowMod(formatFlowMod(x)) == x; see ofp_print.h):
//   - Every masked value is normalised (value &= mask). Fields not given have mask 0.
//   - in_port: key.in_port = ofport, mask 0xffffffff.
//   - dl_vlan=N: vlan_tci = N|0x1000 under mask 0x1fff; dl_vlan_pcp=P: (P<<13)|0x1000 under
//     0xf000 (both: mask 0xffff); dl_vlan=0xffff ("no 802.1Q tag"): vlan_tci = 0 under 0xffff,
//     as Open vSwitch does; printed back as vlan_tci=0x0000.
//   - nw_tos=T: key.nw_tos = T under 0xfc (T a multiple of 4); ip_dscp=D: D<<2 under 0xfc;
//     nw_ecn=E: E under 0x03. nw_proto / nw_ttl exact (0xff).
//   - arp_op, arp_spa/tpa share nw_proto, nw_src/nw_dst (as FlowKey); ICMP type/code live in
//     tp_src/tp_dst under 0xffff. IPv4 addresses in network order (as FlowKey).
//   - Actions: only the members an action type uses are set, the rest keep Action{}'s defaults.
//     "drop" and an empty "actions=" both parse to {kDrop}; goto_table is always last.
//
// Thread-safety: pure functions; the resolver is called synchronously from the calling thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "ofproto/ofp_types.h"

namespace vs::ofproto {

// Maps a port name to its ofport (nullopt: no such port). Numbers and the reserved names LOCAL,
// IN_PORT, NORMAL, FLOOD, ALL, CONTROLLER, NONE, ANY (case-insensitive) never reach it. May be
// empty: then only numbers and reserved names are accepted.
using PortResolver = std::function<std::optional<std::uint32_t>(std::string_view name)>;

// Why a text was refused. `message` names the problem and quotes the offending token
// ("unknown field 'nw_srcc'", "nw_src=10.0.0.300: invalid IPv4 address"); `offset` is the
// byte offset of `token` in the text given to the parser (for parseFlowFile / parseFlowLines:
// in that line); `line` is the 1-based line for parseFlowFile / parseFlowLines (whose message
// then starts "line N: "), 0 otherwise.
struct ParseError {
    std::string message;
    std::size_t offset = 0;
    std::string token;
    std::size_t line = 0;
};

// One flow_mod in ovs-ofctl syntax for `cmd`: "[table=N] [priority=N] [cookie=V[/M]]
// [idle_timeout=S] [hard_timeout=S] [send_flow_rem] [out_port=P] MATCH-FIELDS... [actions=A,...]".
// Tokens are separated by commas and/or white space; actions= must be last and is required for
// add/modify, refused for delete. Defaults: table 0 for add, kTableAll (every table) for
// modify/delete; priority kDefaultPriority. cookie=V/M is only for modify/delete (filter);
// cookie=V without a mask is only for add/modify (the rule's cookie, cookie_mask 0).
// out_port only for delete. duration=, n_packets=, n_bytes=, idle_age=, hard_age= are ignored
// (so dump-flows output can be fed back).
std::variant<FlowMod, ParseError> parseFlowMod(std::string_view text, FlowMod::Command cmd,
                                               const PortResolver& resolver);

// A dump-flows filter: match fields plus table= (default: all), cookie=V/MASK, out_port=P,
// parsed as a non-strict delete (command kDelete) with "dump-flows" in error messages.
std::variant<FlowMod, ParseError> parseFlowFilter(std::string_view text, const PortResolver& resolver);

// Match fields only (an ofproto/trace flow description). Prerequisites are enforced.
std::variant<Match, ParseError> parseMatch(std::string_view text, const PortResolver& resolver);

// A flow file: one flow per line; blank lines and lines whose first non-blank character is '#'
// are skipped. Any bad line fails the whole file (message "line N: ...", `line` = N).
std::variant<std::vector<FlowMod>, ParseError> parseFlowFile(std::string_view text, FlowMod::Command cmd,
                                                             const PortResolver& resolver);

// Same as parseFlowFile over lines given one per element (element i is line i+1): what the
// daemon's flow/add receives.
std::variant<std::vector<FlowMod>, ParseError> parseFlowLines(std::span<const std::string> lines,
                                                              FlowMod::Command cmd,
                                                              const PortResolver& resolver);

}  // namespace vs::ofproto
