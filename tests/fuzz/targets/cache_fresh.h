// Fuzz entry point cache_fresh: "cached equals fresh" for the megaflow cache. One round: random
// ovs-ofctl rules (every match field and action of docs/vsofctl.md but NORMAL and CONTROLLER, with
// clear_actions, write_actions and goto_table) on a fresh bridge of four dummy ports, then random
// frames drawn from small pools of field values (so that different frames often share a megaflow),
// each sent through the datapath cache -- a megaflow installed by the frames before it -- and then
// twice after a flush (a fresh upcall through the flow tables). Invariants: what a frame makes the
// switch send when cached is byte for byte what it makes it send fresh (the frames on every port,
// their virtio-net headers and tunnel metadata, the packet_ins that dec_ttl raises); the two fresh
// runs agree (the translation is deterministic); a flush forces an upcall. A mismatch means a
// megaflow's mask left out a field its decision depended on.
//
// Input: the random source of the round (Engine, tests/fuzz/targets/cache_fresh_gen.h): 4 bytes
// (little endian) per random value, then, once the input runs out, a std::mt19937 seeded from a
// hash of the whole input, so every input is one complete, deterministic round (the same whichever
// compiler built it). Each input gets a bridge of its own (a fresh Ofproto): nothing carries over.
// The unit test tests/unit/cache_property_test.cpp runs the same rounds from seeded std::mt19937s
// and pins the bugs they found. The harness lives in vs::fuzz::cachefresh (its names are generic).
//
// Cost: about 24 ms an input under ASan+UBSan (about 40 exec/s), a third of it in the flushes (each
// clears the 8192-entry exact-match cache); the same round takes about 2 ms in a normal build.
#pragma once

#include <arpa/inet.h>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "datapath/datapath.h"
#include "datapath/dummy_port.h"
#include "datapath/flow_key.h"
#include "ofproto/ofp_parse.h"
#include "ofproto/ofproto.h"
#include "tests/fuzz/targets/cache_fresh_gen.h"
#include "tests/fuzz/targets/common.h"

namespace vs::fuzz::cachefresh {

// ---------------------------------------------------------------------------------------------
// The bridge and what one frame made it do.

struct PinOut {
    ofproto::PacketInReason reason;
    std::uint8_t table_id;
    std::uint64_t cookie;
    std::uint32_t in_ofport;
    std::uint32_t total_len;
    Bytes frame;
    bool operator==(const PinOut&) const = default;
};

struct Output {
    std::array<std::vector<dp::CapturedFrame>, kPorts> ports;
    std::vector<PinOut> pins;
};

inline bool sameFrame(const dp::CapturedFrame& a, const dp::CapturedFrame& b) {
    const auto& x = a.vnet;
    const auto& y = b.vnet;
    return a.bytes == b.bytes && x.flags == y.flags && x.gso_type == y.gso_type && x.hdr_len == y.hdr_len &&
           x.gso_size == y.gso_size && x.csum_start == y.csum_start && x.csum_offset == y.csum_offset &&
           a.tun_id == b.tun_id && a.tun_dst == b.tun_dst;
}

inline bool operator==(const Output& a, const Output& b) {
    for (int p = 0; p < kPorts; ++p) {
        if (a.ports[p].size() != b.ports[p].size()) return false;
        for (std::size_t i = 0; i < a.ports[p].size(); ++i)
            if (!sameFrame(a.ports[p][i], b.ports[p][i])) return false;
    }
    return a.pins == b.pins;
}

inline std::string format(const Output& o) {
    std::ostringstream s;
    bool any = false;
    for (int p = 0; p < kPorts; ++p) {
        if (o.ports[p].empty()) continue;
        any = true;
        s << "    p" << p + 1 << ": " << o.ports[p].size() << " frame(s)\n";
        for (std::size_t i = 0; i < o.ports[p].size() && i < 6; ++i) {
            const auto& c = o.ports[p][i];
            s << "      " << hex(c.bytes) << " vnet{flags=" << int(c.vnet.flags) << " gso=" << int(c.vnet.gso_type)
              << "/" << c.vnet.gso_size << " hdr_len=" << c.vnet.hdr_len << " csum=" << c.vnet.csum_start << "+"
              << c.vnet.csum_offset << "}";
            if (c.tun_id || c.tun_dst) {
                char ip[INET_ADDRSTRLEN] = "?";
                inet_ntop(AF_INET, &c.tun_dst, ip, sizeof ip);
                s << " tun_id=" << c.tun_id << " tun_dst=" << ip;
            }
            s << "\n";
        }
        if (o.ports[p].size() > 6) s << "      ...\n";
    }
    for (const auto& pin : o.pins) {
        any = true;
        s << "    packet_in reason=" << int(pin.reason) << " table=" << int(pin.table_id) << " cookie=0x" << std::hex
          << pin.cookie << std::dec << " in_port=" << pin.in_ofport << " " << hex(pin.frame) << "\n";
    }
    if (!any) s << "    (nothing)\n";
    return s.str();
}

class Bridge {
public:
    explicit Bridge(dp::TunnelMode p1_mode = {}) {
        of = std::make_unique<ofproto::Ofproto>(dp::DatapathConfig{}, [] { return std::int64_t{5000000}; });
        of->addBridge("br0");
        for (int i = 0; i < kPorts; ++i) {
            ports[i] = std::make_shared<dp::DummyPort>("p" + std::to_string(i + 1));
            if (i == 0) ports[i]->setTunnelMode(p1_mode);
            of->addPort("br0", ports[i]->name(), static_cast<std::uint32_t>(i + 1), ports[i]);
        }
        of->setSlowPathHandler(ofproto::SlowPathKind::kController, [this](const ofproto::SlowPathPacket& p) {
            if (auto pin = of->packetIn(p))
                pins.push_back({pin->reason, pin->table_id, pin->cookie, pin->in_ofport, pin->total_len, pin->frame});
        });
        ofproto::FlowMod del;  // no NORMAL default rule: MAC learning would make "fresh" differ legitimately
        del.command = ofproto::FlowMod::Command::kDelete;
        del.table = ofproto::kTableAll;
        of->applyFlowMods("br0", {del});
    }
    // Parses and adds one rule; false (nothing changed) if the parser or the bridge refuses it.
    bool addRule(const std::string& text) {
        auto port_name = [](std::string_view n) -> std::optional<std::uint32_t> {
            if (n.size() == 2 && n[0] == 'p' && n[1] >= '1' && n[1] <= '0' + kPorts)
                return static_cast<std::uint32_t>(n[1] - '0');
            return std::nullopt;
        };
        auto r = ofproto::parseFlowMod(text, ofproto::FlowMod::Command::kAdd, port_name);
        if (std::holds_alternative<ofproto::ParseError>(r)) return false;
        try {
            of->applyFlowMods("br0", {std::get<ofproto::FlowMod>(r)});
        } catch (const std::invalid_argument&) {
            return false;
        }
        return true;
    }
    Output send(const Frame& f) {
        for (auto& p : ports) p->clearSent();
        pins.clear();
        auto& port = *ports[f.in_port - 1];
        if (f.tun_id) port.injectTunneled(f.bytes, htonl(kTunSrc), f.tun_id);
        else if (f.vnet.flags || f.vnet.gso_type) port.injectWithVnet(f.bytes, f.vnet);
        else port.inject(f.bytes);
        of->datapath().runOnce();
        of->processSlowPath();
        Output o;
        for (int i = 0; i < kPorts; ++i) o.ports[i] = ports[i]->sent();
        o.pins = pins;
        return o;
    }
    Output sendFresh(const Frame& f) {
        of->datapath().invalidate();
        return send(f);
    }
    // The cached megaflows `f` matches (masked key and mask), as text: of `flows` (a dump taken
    // earlier), or of the datapath now.
    std::string megaflowsOf(const Frame& f, const std::vector<dp::FlowDump>& flows) const {
        dp::FlowKey key;
        if (!flowKey(f, key)) return "    (frame does not parse)\n";
        std::string s;
        for (const auto& flow : flows) {
            dp::FlowKey masked;
            dp::applyMask(key, flow.mask, masked);
            if (masked == flow.key)
                s += "    " + dp::formatMegaflow(flow.key, flow.mask) + " actions:" + flow.actions + "\n";
        }
        return s.empty() ? "    (none)\n" : s;
    }
    std::string megaflowsOf(const Frame& f) { return megaflowsOf(f, of->datapath().dumpFlows()); }
    // The key the datapath extracts from `f` (with the datapath port number as in_port).
    bool flowKey(const Frame& f, dp::FlowKey& key) const {
        dp::HeaderOffsets ofs;
        dp::Coverage why;
        if (!dp::extractFlow(f.bytes.data(), f.bytes.size(), dpPort(f.in_port), key, ofs, why)) return false;
        if (f.tun_id) {  // as the poll thread fills them from the packet's metadata
            key.tun_id = f.tun_id;
            key.tun_src = htonl(kTunSrc);
        }
        return true;
    }
    std::uint32_t dpPort(std::uint32_t ofport) const {
        for (const auto& row : of->ports("br0"))
            if (row.ofport == ofport) return row.dp_port;
        return 0;
    }

    std::unique_ptr<ofproto::Ofproto> of;
    std::array<std::shared_ptr<dp::DummyPort>, kPorts> ports;
    std::vector<PinOut> pins;
};

struct Totals {
    std::size_t rounds = 0, rules = 0, refused = 0, comparisons = 0, cache_hits = 0, hits_by_other = 0, unparsed = 0;
};

// A check of the round that failed, with everything needed to understand it (the unit test reports
// it, the fuzz target aborts with it).
using FailFn = std::function<void(const std::string&)>;

// `origin` says where the round came from and how to run it again (a seed, a fuzz input).
inline std::string describeRound(const std::string& origin, const std::vector<std::string>& rules,
                                 const std::vector<Frame>& frames, std::size_t upto) {
    std::ostringstream s;
    s << origin << "\nrules:\n";
    for (const auto& r : rules) s << "    " << r << "\n";
    s << "frames sent before it, in order (cached):\n";
    for (std::size_t i = 0; i < upto && i < frames.size(); ++i)
        s << "    #" << i << " " << frames[i].desc << "\n";
    return s.str();
}

// One round drawn from `rng`: rules on a fresh bridge, then kFramesPerRound frames through the
// cache, then each again after a flush, twice. Every check that fails is passed to `fail`.
inline void runRound(Engine& rng, const std::string& origin, Totals& t, const FailFn& fail) {
    Bridge br;
    RuleGen gen{rng};
    std::vector<std::string> rules;
    int want = 3 + pick(rng, 10);
    for (int i = 0; i < want * 3 && static_cast<int>(rules.size()) < want; ++i) {
        std::string text = gen.rule(static_cast<int>(rules.size()) + 1);
        if (br.addRule(text)) rules.push_back(text);
        else ++t.refused;
    }
    if (chance(rng, 40)) {  // a table-miss rule in table 0 with random actions
        std::string text = gen.tableMiss();
        if (br.addRule(text)) rules.push_back(text);
    }
    t.rules += rules.size();

    // Frames: 30% new, 70% an earlier frame with one or two fields re-drawn (a near neighbour, the
    // frame most likely to reuse a megaflow that is too wide for it).
    std::vector<FrameSpec> specs;
    for (int i = 0; i < kFramesPerRound; ++i) {
        if (specs.empty() || chance(rng, 30)) {
            specs.push_back(FrameSpec::random(rng));
        } else {
            const FrameSpec& from = specs[static_cast<std::size_t>(pick(rng, static_cast<int>(specs.size())))];
            const Frame before = render(from);
            FrameSpec s = from;
            for (int tries = 0; tries < 8; ++tries) {  // a field the frame shows (not the ICMP type of a TCP frame)
                s = from;
                int n = 1 + pick(rng, 2);
                for (int k = 0; k < n; ++k) s.draw(rng, pick(rng, FrameSpec::kFields));
                Frame after = render(s);
                if (after.bytes != before.bytes || after.in_port != before.in_port) break;
            }
            specs.push_back(s);
        }
    }
    std::vector<Frame> frames;
    for (const auto& s : specs) frames.push_back(render(s));

    // Phase 1: every frame through the cache, in order, without a flush.
    std::vector<Output> cached;
    std::vector<bool> hit_by_other(frames.size(), false);
    std::vector<dp::FlowKey> seen;
    for (std::size_t i = 0; i < frames.size(); ++i) {
        dp::FlowKey key;
        bool parsed = br.flowKey(frames[i], key);
        std::uint64_t hits = br.of->datapath().stats().hit;
        cached.push_back(br.send(frames[i]));
        bool hit = br.of->datapath().stats().hit > hits;
        if (!parsed) { ++t.unparsed; continue; }
        bool other = true;
        for (const auto& k : seen) other = other && !(k == key);
        seen.push_back(key);
        if (hit) ++t.cache_hits;
        if (hit && other) { ++t.hits_by_other; hit_by_other[i] = true; }
    }
    const std::vector<dp::FlowDump> megaflows = br.of->datapath().dumpFlows();  // for the messages

    // Phase 2: each frame again after a flush (a fresh upcall), twice.
    for (std::size_t i = 0; i < frames.size(); ++i) {
        std::uint64_t missed = br.of->datapath().stats().missed;
        Output fresh = br.sendFresh(frames[i]);
        dp::FlowKey key;
        if (br.flowKey(frames[i], key) && br.of->datapath().stats().missed != missed + 1) {
            fail("a flush must force an upcall: the missed counter went from " + std::to_string(missed) + " to " +
                 std::to_string(br.of->datapath().stats().missed) + " for frame #" + std::to_string(i) + ": " +
                 frames[i].desc + "\n" + origin);
        }
        ++t.comparisons;
        if (!(cached[i] == fresh)) {
            std::ostringstream m;
            m << "CACHED != FRESH for frame #" << i << ": " << frames[i].desc << "\n    bytes "
              << hex(frames[i].bytes) << "\n"
              << describeRound(origin, rules, frames, i)
              << "it was a hit on a megaflow of an earlier, different frame: " << (hit_by_other[i] ? "yes" : "no")
              << "\ncached megaflow(s) it matches:\n"
              << br.megaflowsOf(frames[i], megaflows) << "fresh megaflow:\n" << br.megaflowsOf(frames[i])
              << "cached output:\n" << format(cached[i]) << "fresh output:\n" << format(fresh);
            fail(m.str());
        }
        Output again = br.sendFresh(frames[i]);
        if (!(fresh == again)) {
            fail("two fresh runs differ (nondeterministic translation) for frame #" + std::to_string(i) + ": " +
                 frames[i].desc + "\n" + describeRound(origin, rules, frames, i) + "first:\n" + format(fresh) +
                 "second:\n" + format(again));
        }
    }
    ++t.rounds;
}

}  // namespace vs::fuzz::cachefresh

namespace vs::fuzz {

inline int cacheFresh(const std::uint8_t* data, std::size_t size) {
    cachefresh::Engine rng(data, size);
    cachefresh::Totals t;
    const std::string origin = "a fuzz input of " + std::to_string(size) +
                               " bytes (replay: fuzz_cache_fresh FILE; keep it in tests/fuzz/regressions/cache_fresh/)";
    cachefresh::runRound(rng, origin, t, [](const std::string& what) { fuzzFail("cache_fresh", what); });
    return 0;
}

}  // namespace vs::fuzz
