// Per-packet code of OpenFlow groups (ofproto/group.h): which buckets of a group run for a flow.
// The buckets' actions themselves run in xlate.cpp (Ofproto::xlateGroup), each on its own copy
// of the packet's fields.
//
// select: a symmetric hash of the L2-L4 fields (Ethernet addresses, Ethertype, VLAN ID, IPv4 or
// IPv6 addresses, IP protocol, TCP/UDP/SCTP ports; source and destination combined so that both
// directions of a connection hash alike, as Open vSwitch's default select method), then among
// the live buckets of non-zero weight the one with the highest "hash(bucket) * weight" score
// (rendezvous hashing: a bucket going away moves only its own flows). Every hashed field is
// un-wildcarded in the megaflow, so a cached decision is the one a fresh translation would make.
//
// Liveness (fast_failover, and select buckets that watch): a watched port is live when it exists,
// its carrier is up and STP lets it forward; a watched group when one of its buckets is live.
// setCarrier() and STP changes invalidate the megaflows, so cached decisions follow.
#include <arpa/inet.h>

#include <cstring>

#include "ofproto/ofproto.h"

namespace vs::ofproto {

namespace {

std::uint64_t mix(std::uint64_t h, std::uint64_t v) {
    h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    h *= 0xff51afd7ed558ccdull;
    return h ^ (h >> 33);
}

std::uint64_t macWord(const std::uint8_t* m) {
    std::uint64_t v = 0;
    for (int i = 0; i < 6; ++i) v = (v << 8) | m[i];
    return v;
}

// The symmetric L2-L4 hash of `f`, un-wildcarding in `wc` every field it read.
std::uint64_t selectHash(const dp::FlowKey& f, dp::FlowKey& wc) {
    std::uint64_t h = mix(0, macWord(f.dl_src) ^ macWord(f.dl_dst));
    std::memset(wc.dl_src, 0xff, 6);
    std::memset(wc.dl_dst, 0xff, 6);
    h = mix(h, f.dl_type);
    wc.dl_type = 0xffff;
    h = mix(h, f.vlan_tci & (dp::kVlanCfi | dp::kVlanVidMask));
    wc.vlan_tci |= dp::kVlanCfi | dp::kVlanVidMask;
    bool v4 = f.dl_type == dp::kEthTypeIPv4, v6 = f.dl_type == dp::kEthTypeIPv6;
    if (!v4 && !v6) return h;
    if (v4) {
        h = mix(h, f.nw_src ^ f.nw_dst);
        wc.nw_src = wc.nw_dst = ~0u;
    } else {
        for (int i = 0; i < 16; i += 8) {
            std::uint64_t a, b;
            std::memcpy(&a, f.ipv6_src + i, 8);
            std::memcpy(&b, f.ipv6_dst + i, 8);
            h = mix(h, a ^ b);
        }
        std::memset(wc.ipv6_src, 0xff, 16);
        std::memset(wc.ipv6_dst, 0xff, 16);
    }
    h = mix(h, f.nw_proto);
    wc.nw_proto = 0xff;
    wc.nw_frag = 0xff;
    bool ports = !(f.nw_frag & dp::kFragLater) && (f.nw_proto == 6 || f.nw_proto == 17 || f.nw_proto == 132);
    if (ports) {
        h = mix(h, static_cast<std::uint64_t>(f.tp_src ^ f.tp_dst));
        wc.tp_src = wc.tp_dst = 0xffff;
    }
    return h;
}

}  // namespace

bool Ofproto::portLive(const Bridge& br, std::uint32_t ofport) const {
    auto it = br.ports.find(ofport);
    if (it == br.ports.end() || !it->second.port) return false;
    return it->second.port->carrier() && stpForwards(br, br.bundles.at(it->second.bundle));
}

bool Ofproto::bucketLive(const Bridge& br, const Bucket& b, int depth) const {
    if (b.watch_port != kWatchPortAny && !portLive(br, b.watch_port)) return false;
    if (b.watch_group == kGroupAny) return true;
    const Group* g = br.groups.find(b.watch_group);
    if (!g || depth > kMaxGroupChain) return false;
    for (const auto& wb : g->buckets)
        if (bucketLive(br, wb, depth + 1)) return true;
    return false;
}

std::vector<std::size_t> Ofproto::groupBuckets(const Bridge& br, const Group& g, const dp::FlowKey& flow,
                                               dp::FlowKey& wc) const {
    std::vector<std::size_t> out;
    switch (g.type) {
    case GroupType::kAll:
        for (std::size_t i = 0; i < g.buckets.size(); ++i) out.push_back(i);
        break;
    case GroupType::kIndirect:
        if (!g.buckets.empty()) out.push_back(0);
        break;
    case GroupType::kFastFailover:
        for (std::size_t i = 0; i < g.buckets.size(); ++i)
            if (bucketLive(br, g.buckets[i], 0)) {
                out.push_back(i);
                break;
            }
        break;
    case GroupType::kSelect: {
        std::uint64_t h = selectHash(flow, wc);
        std::uint64_t best_score = 0;
        std::optional<std::size_t> best;
        for (std::size_t i = 0; i < g.buckets.size(); ++i) {
            const Bucket& b = g.buckets[i];
            if (!b.weight || !bucketLive(br, b, 0)) continue;
            std::uint64_t score = (mix(h, i + 1) & 0xffff) * b.weight + 1;
            if (score > best_score) {
                best_score = score;
                best = i;
            }
        }
        if (best) out.push_back(*best);
        break;
    }
    }
    return out;
}

}  // namespace vs::ofproto
