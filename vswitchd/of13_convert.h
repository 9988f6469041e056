// Conversion between the OpenFlow 1.3 wire structs (protocol/of13.h) and ofproto's flow-table
// types (ofproto/ofp_types.h): OXM matches <-> Match (OpenFlow 1.3.5 section 7.2.3), instructions
// and actions <-> ActionList (7.2.4, 7.2.5), 32-bit <-> 16-bit port numbers (7.2.1).
//
// What ofproto cannot express is refused with the error the spec names (Refusal): OXM fields the
// classifier does not match (in_phy_port, IPv6 ND, MPLS, PBB, IPv6 extension headers) BAD_MATCH/
// BAD_FIELD; actions it does not implement (MPLS, PBB, copy TTL) BAD_ACTION/BAD_TYPE, a group id
// above OFPG_MAX BAD_OUT_GROUP (whether the group exists is ofproto's check, UnknownGroupError), a
// queue above kMaxQueueId BAD_QUEUE; set_field of a field it cannot write BAD_SET_TYPE; a meter
// instruction with id 0 or above OFPM_MAX METER_MOD_FAILED/INVALID_METER (the handler checks that
// the meter exists); write_metadata with a partial mask UNSUP_METADATA_MASK.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ofproto/ofp_types.h"
#include "protocol/of13.h"

namespace vs::vswitchd::of13conv {

namespace of13 = protocol::of13;

// An OpenFlow error to send back: type, code and a message for the log.
struct Refusal {
    std::uint16_t type, code;
    std::string message;
};

// 32-bit OpenFlow 1.3 port <-> ofproto's 16-bit port space (reserved ports keep their low 16 bits).
// toOfport throws Refusal(BAD_MATCH/BAD_VALUE-like `type`/`code` given by the caller) for numbers
// in neither range.
std::uint32_t toOfport(std::uint32_t port, std::uint16_t err_type, std::uint16_t err_code);
std::uint32_t fromOfport(std::uint32_t ofport);

ofproto::Match toMatch(const of13::Match& m);
of13::Match fromMatch(const ofproto::Match& m);

// Actions of a packet_out (output:TABLE allowed) or of an apply/write instruction.
ofproto::ActionList toActions(const of13::Actions& actions, bool packet_out);
// A flow_mod's instructions as ofproto's action list: apply actions, write_metadata, clear_actions,
// write_actions(...), goto_table.
ofproto::ActionList toActions(const std::vector<of13::Instruction>& ins);
// `proto`: the rule's matched IP protocol (0 if none), naming the L4 field a port rewrite sets.
std::vector<of13::Instruction> fromActions(const ofproto::ActionList& actions, std::uint8_t proto);

}  // namespace vs::vswitchd::of13conv
