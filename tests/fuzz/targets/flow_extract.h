// Fuzz entry point: the frame parser, dp::extractFlow (Ethernet, 802.1Q/802.1ad, IPv4, IPv6 with
// extension headers, ARP, TCP/UDP/SCTP/ICMP/ICMPv6). The input is one frame; the first byte also
// chooses the datapath port number so in_port is exercised.
//
// Invariants checked: no read outside the frame (ASan: the frame is copied into an exact-size heap
// buffer), the result is deterministic, the key's padding stays zero, in_port is copied, offsets
// lie inside the frame, a refused frame names a drop counter, and a VLAN TCI carries the CFI bit.
#pragma once

#include <cstring>
#include <memory>

#include "datapath/flow_key.h"
#include "tests/fuzz/targets/common.h"

namespace vs::fuzz {

inline int flowExtract(const std::uint8_t* data, std::size_t size) {
    constexpr const char* kName = "flow_extract";
    // Exact-size copy: one byte past the end is a heap overflow ASan reports.
    std::unique_ptr<std::uint8_t[]> frame(new std::uint8_t[size ? size : 1]);
    if (size) std::memcpy(frame.get(), data, size);
    const std::uint32_t in_port = size ? data[0] : 0;

    dp::FlowKey key, again;
    std::memset(&key, 0xa5, sizeof key);  // extractFlow must clear everything itself
    std::memset(&again, 0x5a, sizeof again);
    dp::HeaderOffsets ofs, ofs2;
    dp::Coverage why = dp::Coverage::kCount, why2 = dp::Coverage::kCount;
    bool ok = dp::extractFlow(frame.get(), size, in_port, key, ofs, why);
    bool ok2 = dp::extractFlow(frame.get(), size, in_port, again, ofs2, why2);

    if (ok != ok2 || !(key == again) || ofs.l3 != ofs2.l3 || ofs.l4 != ofs2.l4)
        fuzzFail(kName, "extractFlow is not deterministic (or left stale bytes in the key)");
    if (key.pad_ != 0) fuzzFail(kName, "FlowKey padding is not zero");
    if (key.in_port != in_port) fuzzFail(kName, "in_port not copied into the key");
    if (!ok) {
        if (why == dp::Coverage::kCount) fuzzFail(kName, "a refused frame names no drop counter");
        std::string name(dp::coverageInfo(why).name);
        if (name.rfind("drop_", 0) != 0) fuzzFail(kName, "a refused frame names counter " + name + ", not a drop");
        return 0;
    }
    if (size < 14) fuzzFail(kName, "a frame shorter than 14 bytes was accepted");
    if (ofs.l3 && ofs.l3 > size) fuzzFail(kName, "l3 offset beyond the frame");
    if (ofs.l4 && ofs.l4 > size) fuzzFail(kName, "l4 offset beyond the frame");
    if (ofs.l4 && ofs.l4 <= ofs.l3) fuzzFail(kName, "l4 offset not after l3");
    if (key.vlan_tci && !(key.vlan_tci & dp::kVlanCfi)) fuzzFail(kName, "VLAN TCI without the CFI bit");
    if (key.nw_frag & ~(dp::kFragAny | dp::kFragLater) || key.nw_frag == dp::kFragLater)
        fuzzFail(kName, "nw_frag has bits other than any/later, or later without any");
    const bool ip = key.dl_type == dp::kEthTypeIPv4 || key.dl_type == dp::kEthTypeIPv6;
    if (ip && ofs.l3 != (key.vlan_tci ? 18 : 14)) fuzzFail(kName, "IP frame with a wrong l3 offset");
    if (!ip && key.dl_type != dp::kEthTypeArp && (ofs.l3 || key.nw_src || key.nw_dst || key.nw_proto))
        fuzzFail(kName, "L3 fields set for a non-IP, non-ARP frame");
    if (key.dl_type < 0x600 && key.dl_type != dp::kEthTypeNone) fuzzFail(kName, "dl_type below 0x600");
    // The masked hash of the exact mask is the plain hash (word-by-word masking is consistent).
    if (dp::hashMasked(key, dp::exactMask()) != dp::hashKey(key)) fuzzFail(kName, "hashMasked(exact) != hashKey");
    return 0;
}

}  // namespace vs::fuzz
