// Port mirroring (SPAN and RSPAN) with Open vSwitch's Mirror table semantics (vswitch.xml,
// "Mirror TABLE"; docs/mirrors.md): a bridge has up to 32 mirrors, each selecting packets
//   - received on its select_src ports, sent on its select_dst ports, or every packet received or
//     sent on any port (select_all);
//   - optionally only on the VLANs of select_vlan (the VLAN the packet belongs to in the bridge);
// and sending one copy of each selected packet either
//   - out of one port (output_port; SPAN). That port is reserved for mirroring: frames received on
//     it are dropped (no learning), NORMAL and FLOOD never send to it;
//   - or on VLAN output_vlan (RSPAN): out of every port that carries that VLAN (tagged as the port
//     sends it), except mirror output ports. Packets already in output_vlan are not mirrored.
// A packet is mirrored at most once per mirror (and once per output: mirrors with the same output
// share one copy), whatever the number of its selected ports. The copy of a received packet is
// the frame as received; the copy of a sent packet is the frame as sent (after the rewrites of
// the rules that output it). Either copy is tagged as the output port sends the packet's VLAN
// (Open vSwitch's output_normal): a trunk output port gets it tagged, an access one untagged.
//
// This class is the configuration of one bridge's mirrors resolved into bit masks by port name;
// the translation (which copies a packet makes) is Ofproto's (mirror_xlate.cpp), which holds it.
// Ports are named, not numbered, so a port added after its mirror joins it as soon as it exists.
//
// Thread-safety: a value held in an Ofproto bridge, under Ofproto's mutex. The counters
// (dp::StatsSink) are fed by poll threads through the megaflows that carry mirrored packets.
#pragma once

#include <bitset>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "datapath/flow_table.h"

namespace vs::ofproto {

// One mirror, by port names. Exactly one of out_port (non-empty) and out_vlan, or neither (an
// inactive mirror, as Open vSwitch keeps one whose output port was deleted).
struct MirrorSpec {
    std::string name;
    bool select_all = false;
    std::vector<std::string> src_ports;  // Port (bundle) names
    std::vector<std::string> dst_ports;
    std::vector<std::uint16_t> vlans;    // 0..4095; empty: every VLAN
    std::string out_port;
    std::optional<std::uint16_t> out_vlan;  // 1..4095
    bool operator==(const MirrorSpec&) const = default;
};

// Mirror.statistics: packets (and their bytes, as received) this mirror selected and copied.
struct MirrorStats {
    std::string name;
    std::uint64_t tx_packets = 0;
    std::uint64_t tx_bytes = 0;
};

using MirrorMask = std::uint32_t;  // bit i: mirror i of the bridge

class MirrorSet {
public:
    static constexpr std::size_t kMaxMirrors = 32;  // Open vSwitch's MAX_MIRRORS

    // Replaces the mirrors. Counters are kept for mirrors whose name stays. Throws
    // std::invalid_argument for more than kMaxMirrors, two mirrors of one name, both outputs, a VLAN
    // out of range, or an output port that the same mirror selects. Returns whether anything changed.
    bool set(std::vector<MirrorSpec> specs);
    bool empty() const noexcept { return mirrors_.empty(); }
    std::vector<MirrorSpec> specs() const;

    MirrorMask srcMirrors(const std::string& port) const noexcept { return masks(port).src | all_; }
    MirrorMask dstMirrors(const std::string& port) const noexcept { return masks(port).dst | all_; }
    // Whether `port` is some mirror's output port (reserved for mirroring).
    bool isOutput(const std::string& port) const noexcept { return masks(port).out != 0; }
    // Output ports of every mirror (for forgetting the MACs learned on them).
    std::vector<std::string> outputPorts() const;

    std::size_t size() const noexcept { return mirrors_.size(); }
    const MirrorSpec& spec(std::size_t i) const { return mirrors_.at(i).spec; }
    bool selectsVlan(std::size_t i, std::uint16_t vlan) const { return mirrors_.at(i).all_vlans || mirrors_.at(i).vlans.test(vlan); }
    bool selectsVlans(std::size_t i) const { return !mirrors_.at(i).all_vlans; }
    // Mirror i and the mirrors with the same output (one copy serves them all).
    MirrorMask dups(std::size_t i) const { return mirrors_.at(i).dups; }
    const std::shared_ptr<dp::StatsSink>& counters(std::size_t i) const { return mirrors_.at(i).counters; }
    std::vector<MirrorStats> stats() const;

private:
    struct Masks {
        MirrorMask src = 0, dst = 0, out = 0;
    };
    struct Entry {
        MirrorSpec spec;
        bool all_vlans = true;
        std::bitset<4096> vlans;
        MirrorMask dups = 0;
        std::shared_ptr<dp::StatsSink> counters;
    };
    Masks masks(const std::string& port) const noexcept {
        auto it = by_port_.find(port);
        return it == by_port_.end() ? Masks{} : it->second;
    }
    std::vector<Entry> mirrors_;
    std::map<std::string, Masks> by_port_;
    MirrorMask all_ = 0;  // select_all mirrors
};

}  // namespace vs::ofproto
