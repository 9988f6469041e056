// Text rendering of matches, action lists and flow_mods in ovs-ofctl's dump-flows syntax
// (ovs-ofctl(8) "Flow Syntax"; field names of ovs-fields(7)), the reverse of ofp_parse.h:
// for every FlowMod `x` that parseFlowMod can produce, parseFlowMod(formatFlowMod(x, namer),
// x.command, resolver) == x when `resolver` inverts `namer`. Semantics: OpenFlow 1.3 sections
// 7.2.3 (match), 7.2.5 (actions), 7.3.4.2 (flow_mod).
//
// Layout (as Open vSwitch's match_format / ofpacts_format):
//   match:   [ip|ipv6|arp|tcp|udp|sctp|icmp|tcp6|udp6|sctp6|icmp6|dl_type=0xXXXX],tun_id,metadata,
//            in_port,dl_vlan/dl_vlan_pcp|vlan_tci,dl_src,dl_dst,L3 (nw_src/nw_dst, arp_spa/arp_tpa
//            under arp, ipv6_src/ipv6_dst/ipv6_label under ipv6),nw_proto|arp_op,arp_sha,arp_tha,
//            nw_tos,nw_ecn,nw_ttl,L4 (icmp_type/icmp_code, icmpv6_type/icmpv6_code, tp_src/tp_dst).
//            Masks: CIDR "/24" when the mask is a prefix, else "/255.255.0.255"; exact 16-bit
//            numbers in decimal, masked ones as 0xVALUE/0xMASK; no 802.1Q tag is vlan_tci=0x0000.
//   actions: output:PORT, NORMAL, FLOOD, ALL, IN_PORT, LOCAL, CONTROLLER:MAX_LEN, drop,
//            mod_vlan_vid:N, mod_vlan_pcp:N, strip_vlan, push_vlan:0x8100, mod_dl_src:MAC, ...,
//            set_field:V->vlan_vid, set_tunnel:0xN, resubmit:PORT / resubmit(PORT,TABLE),
//            goto_table:N. An empty list prints as "drop".
//   flow_mod: "[table=N, ][cookie=0xV[/0xM], ][idle_timeout=N, ][hard_timeout=N, ][send_flow_rem ]
//            [out_port=P, ][priority=N][,MATCH] actions=A" (table omitted when it is the
//            command's default: 0 for add, all for modify/delete; priority when 32768; actions
//            omitted for delete).
//
// Thread-safety: pure functions; the namer is called synchronously.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "ofproto/ofp_types.h"

namespace vs::ofproto {

// Names an ofport (a regular port number; reserved ports are named by the printer itself).
// Returns the port's name, or the number as text when it has none. May be empty: numbers.
using PortNamer = std::function<std::string(std::uint32_t ofport)>;

// A port as ovs-ofctl prints it: LOCAL, IN_PORT, NORMAL, FLOOD, ALL, CONTROLLER, ANY for the
// reserved numbers; else the namer's name, or the number when the name would read back as
// something else (a name made only of digits, a reserved word).
std::string formatPort(std::uint32_t ofport, const PortNamer& namer);

// The match fields, comma separated, without priority ("" for the empty match).
std::string formatMatch(const Match& match, const PortNamer& namer);

// The action list, comma separated ("drop" when empty).
std::string formatActions(const ActionList& actions, const PortNamer& namer);

// One flow_mod in the syntax parseFlowMod reads for `fm.command`.
std::string formatFlowMod(const FlowMod& fm, const PortNamer& namer);

}  // namespace vs::ofproto
