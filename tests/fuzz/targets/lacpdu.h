// Fuzz entry point: LACPDU parsing (IEEE 802.1AX-2014 section 6.4.2, ofproto/lacp.h). The input is
// one Ethernet frame as a bond member would receive it.
//
// Invariants: parseLacpdu never crashes or reads past the frame; a refused frame has a reason; an
// accepted one, rebuilt with buildLacpdu from its source MAC, is a 124-byte frame that parses back
// to the same actor, partner and collector delay.
#pragma once

#include <algorithm>
#include <span>
#include <string>

#include "ofproto/lacp.h"
#include "tests/fuzz/targets/common.h"

namespace vs::fuzz {

inline int lacpdu(const std::uint8_t* data, std::size_t size) {
    constexpr const char* kName = "lacpdu";
    std::string why;
    auto pdu = ofproto::parseLacpdu(std::span<const std::uint8_t>(data, size), &why);
    if (!pdu) {
        if (why.empty()) fuzzFail(kName, "refused without a reason");
        return 0;
    }
    if (size < 14) fuzzFail(kName, "accepted a frame shorter than an Ethernet header");
    dp::MacAddr src;
    std::copy(data + 6, data + 12, src.b.begin());
    auto frame = ofproto::buildLacpdu(src, *pdu);
    if (frame.size() != 124) fuzzFail(kName, "rebuilt LACPDU is " + std::to_string(frame.size()) + " bytes");
    auto back = ofproto::parseLacpdu(frame, &why);
    if (!back) fuzzFail(kName, "own LACPDU refused: " + why);
    if (!(back->actor == pdu->actor) || !(back->partner == pdu->partner) ||
        back->collector_max_delay != pdu->collector_max_delay)
        fuzzFail(kName, "own LACPDU parses back differently");
    return 0;
}

}  // namespace vs::fuzz
