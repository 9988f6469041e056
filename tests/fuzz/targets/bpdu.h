// Fuzz entry point: BPDU parsing and the STP machine (IEEE 802.1D-1998 clauses 8 and 9,
// ofproto/stp.h), and the same for RSTP (802.1D-2004 clause 17 and 9.3, ofproto/rstp.h). The
// input is one Ethernet frame as a port of a bridge running STP or RSTP receives it.
//
// Invariants: parseStpBpdu never crashes or reads past the frame; a refused frame has a reason;
// an accepted one, rebuilt with buildStpBpdu, is a 60-byte frame that parses back to the same
// BPDU; fed to an Stp machine (twice, with timers run in between) it never breaks the machine's
// own rules: the root port (if any) is a port of the bridge, and every BPDU the machine sends
// parses.
#pragma once

#include <algorithm>
#include <span>
#include <string>

#include "ofproto/rstp.h"
#include "ofproto/stp.h"
#include "tests/fuzz/targets/common.h"

namespace vs::fuzz {

// The RSTP half: parseRstpBpdu gives a reason when it refuses, round-trips what it accepts, and
// an Rstp machine fed the BPDU keeps its root port among its ports and sends only BPDUs that parse.
inline void rstpBpdu(const std::uint8_t* data, std::size_t size) {
    constexpr const char* kName = "bpdu (rstp)";
    std::string why;
    auto b = ofproto::parseRstpBpdu(std::span<const std::uint8_t>(data, size), &why);
    if (!b) {
        if (why.empty()) fuzzFail(kName, "refused without a reason");
        return;
    }
    dp::MacAddr src;
    if (size >= 12) std::copy(data + 6, data + 12, src.b.begin());
    auto frame = ofproto::buildRstpBpdu(src, *b);
    if (frame.size() != 60) fuzzFail(kName, "rebuilt BPDU is " + std::to_string(frame.size()) + " bytes");
    auto back = ofproto::parseRstpBpdu(frame, &why);
    if (!back) fuzzFail(kName, "own BPDU refused: " + why);
    if (!(*back == *b)) fuzzFail(kName, "own BPDU parses back differently");
    ofproto::RstpSettings s;
    s.address = dp::MacAddr{{0x02, 0, 0, 0, 0, 1}};
    std::int64_t now = 1000;
    ofproto::Rstp rstp(s, now);
    rstp.addPort(1, {}, true, now);
    rstp.addPort(2, {}, true, now);
    for (int round = 0; round < 2; ++round) {
        rstp.receive(1 + round, *b, now);
        for (int i = 0; i < 50; ++i) rstp.run(now += 1000);
        for (const auto& [port, out] : rstp.transmit())
            if (!ofproto::parseRstpBpdu(ofproto::buildRstpBpdu(src, out), &why))
                fuzzFail(kName, "the machine sent a BPDU that does not parse: " + why);
    }
    auto st = rstp.status(now);
    if (st.root_port && *st.root_port != 1 && *st.root_port != 2) fuzzFail(kName, "root port is not a port");
}

inline int bpdu(const std::uint8_t* data, std::size_t size) {
    constexpr const char* kName = "bpdu";
    rstpBpdu(data, size);
    std::string why;
    auto b = ofproto::parseStpBpdu(std::span<const std::uint8_t>(data, size), &why);
    if (!b) {
        if (why.empty()) fuzzFail(kName, "refused without a reason");
        return 0;
    }
    dp::MacAddr src;
    if (size >= 12) std::copy(data + 6, data + 12, src.b.begin());
    auto frame = ofproto::buildStpBpdu(src, *b);
    if (frame.size() != 60) fuzzFail(kName, "rebuilt BPDU is " + std::to_string(frame.size()) + " bytes");
    auto back = ofproto::parseStpBpdu(frame, &why);
    if (!back) fuzzFail(kName, "own BPDU refused: " + why);
    if (!(*back == *b)) fuzzFail(kName, "own BPDU parses back differently");

    ofproto::StpSettings s;
    s.system = dp::MacAddr{{0x02, 0, 0, 0, 0, 1}};
    std::int64_t now = 1000;
    ofproto::Stp stp(s, now);
    ofproto::StpPortSettings ps;
    stp.addPort(1, ps, true, now);
    stp.addPort(2, ps, true, now);
    for (int round = 0; round < 2; ++round) {
        stp.receive(1 + round, *b, now);
        for (int i = 0; i < 50; ++i) stp.run(now += 1000);
        for (const auto& [port, out] : stp.transmit())
            if (!ofproto::parseStpBpdu(ofproto::buildStpBpdu(src, out), &why))
                fuzzFail(kName, "the machine sent a BPDU that does not parse: " + why);
    }
    auto st = stp.status(now);
    if (st.root_port && *st.root_port != 1 && *st.root_port != 2) fuzzFail(kName, "root port is not a port");
    return 0;
}

}  // namespace vs::fuzz
