// Micro-benchmarks of the two classifiers a packet meets (docs/benchmarks.md, "Flow tables"):
//
//  - ofproto::OfTable::lookup, the OpenFlow table search an upcall does, with 1, 1,000 and
//    100,000 rules generated like ../shared/bench/gen-flows.py (distinct TCP drops over
//    10.x.y.z sources, 1,000 priorities) plus the priority-0 NORMAL rule:
//      OfTableMiss/N  - UDP traffic that no generated rule matches: the search ends at NORMAL
//                       (what the forwarding benchmark's traffic costs on a cache miss)
//      OfTableHit/N   - TCP packets that each match one generated rule
//      OfTableAll/N   - OfTable::all(), the copy and sort of every rule that the timeout scan
//                       (Ofproto::expireRules) makes of each table about once a second, holding
//                       ofproto's mutex (upcalls and the stats sweep wait meanwhile)
//  - the datapath's cache-hit path of one poll thread (datapath/flow_table.h), as
//    PollThread::processBatch runs it: hashKey + ExactMatchCache, then Classifier on an EMC miss:
//      DpEmcHit/F           - F megaflows, each key put in the EMC once, then EMC probes only
//                             (direct-mapped: colliding keys evict each other, see emc_miss_pct)
//      DpClassifierHit/F/S  - EMC bypassed: megaflow lookup over S subtables (distinct masks),
//                             the matching subtable last
//      DpEmcThenCls/F       - processBatch's order with F distinct keys cycling through an
//                             8,192-entry EMC (thrashes when F > 8192)
//
// Rates are reported as items_per_second = lookups per second. Single-threaded, no I/O.
#include <benchmark/benchmark.h>

#include <arpa/inet.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <variant>
#include <vector>

#include "datapath/flow_table.h"
#include "ofproto/of_table.h"
#include "ofproto/ofp_parse.h"

namespace {

using vs::dp::FlowKey;

// Line i of gen-flows.py, parsed by the real flow parser.
std::string genFlow(std::size_t i) {
    char b[160];
    std::snprintf(b, sizeof b, "priority=%zu,tcp,nw_src=10.%zu.%zu.%zu,tp_dst=%zu,actions=drop", i % 1000 + 1,
                  (i >> 16) & 255, (i >> 8) & 255, i & 255, i % 60000 + 1);
    return b;
}

std::shared_ptr<vs::ofproto::Rule> ruleFrom(const std::string& text) {
    auto parsed = vs::ofproto::parseFlowMod(text, vs::ofproto::FlowMod::Command::kAdd, {});
    if (auto* e = std::get_if<vs::ofproto::ParseError>(&parsed)) {
        std::fprintf(stderr, "bad generated flow '%s': %s\n", text.c_str(), e->message.c_str());
        std::abort();
    }
    const auto& fm = std::get<vs::ofproto::FlowMod>(parsed);
    auto r = std::make_shared<vs::ofproto::Rule>();
    r->table = fm.table;
    r->priority = fm.priority;
    r->match = fm.match;
    r->actions = fm.actions;
    return r;
}

// Tables are built once per size and kept for the whole run.
const vs::ofproto::OfTable& table(std::size_t n) {
    static std::map<std::size_t, std::unique_ptr<vs::ofproto::OfTable>> tables;
    auto& t = tables[n];
    if (!t) {
        t = std::make_unique<vs::ofproto::OfTable>();
        for (std::size_t i = 0; i < n; ++i) t->insert(ruleFrom(genFlow(i)));
        t->insert(ruleFrom("priority=0,actions=NORMAL"));
    }
    return *t;
}

FlowKey ipv4Key(std::uint32_t in_port, std::uint8_t proto, std::uint32_t src, std::uint32_t dst,
                std::uint16_t sport, std::uint16_t dport) {
    FlowKey k;
    k.clear();
    k.in_port = in_port;
    k.dl_type = vs::dp::kEthTypeIPv4;
    static const std::uint8_t mac_a[6] = {0x02, 0, 0, 0, 0, 1}, mac_b[6] = {0x02, 0, 0, 0, 0, 2};
    std::memcpy(k.dl_src, mac_a, 6);
    std::memcpy(k.dl_dst, mac_b, 6);
    k.nw_src = htonl(src);
    k.nw_dst = htonl(dst);
    k.nw_proto = proto;
    k.nw_ttl = 64;
    k.tp_src = sport;
    k.tp_dst = dport;
    return k;
}

// The forwarding benchmark's frames: UDP 10.231.0.1:12345 -> 10.231.0.2:12346, matched by no
// generated rule (they are all TCP).
void OfTableMiss(benchmark::State& state) {
    const auto& t = table(static_cast<std::size_t>(state.range(0)));
    FlowKey k = ipv4Key(1, 17, 0x0ae70001, 0x0ae70002, 12345, 12346);
    for (auto _ : state) {
        FlowKey wc;
        wc.clear();
        auto* r = t.lookup(k, 0, wc);
        benchmark::DoNotOptimize(r);
        benchmark::DoNotOptimize(wc);
    }
    FlowKey wc;
    wc.clear();
    const auto* r = t.lookup(k, 0, wc);
    if (r == nullptr || r->priority != 0) state.SkipWithError("the UDP flow did not end at the NORMAL rule");
    state.SetItemsProcessed(state.iterations());
}

// TCP packets that each match one of the generated rules (1,024 different ones, cycled).
void OfTableHit(benchmark::State& state) {
    std::size_t n = static_cast<std::size_t>(state.range(0));
    const auto& t = table(n);
    std::vector<FlowKey> keys;
    std::mt19937 rng(1);
    for (int i = 0; i < 1024; ++i) {
        std::size_t r = rng() % n;
        std::uint32_t src = (10u << 24) | (((r >> 16) & 255) << 16) | (((r >> 8) & 255) << 8) | (r & 255);
        keys.push_back(ipv4Key(1, 6, src, 0x0ae70002, 40000, static_cast<std::uint16_t>(r % 60000 + 1)));
    }
    std::size_t i = 0, misses = 0;
    for (auto _ : state) {
        FlowKey wc;
        wc.clear();
        auto* r = t.lookup(keys[i++ & 1023], 0, wc);
        misses += r == nullptr || r->priority == 0;
        benchmark::DoNotOptimize(r);
    }
    if (misses) state.SkipWithError("a generated rule was not found");
    state.SetItemsProcessed(state.iterations());
}

void OfTableAll(benchmark::State& state) {
    const auto& t = table(static_cast<std::size_t>(state.range(0)));
    for (auto _ : state) {
        auto rules = t.all();
        benchmark::DoNotOptimize(rules.data());
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(t.size()));
}

// Megaflow mask of a NORMAL decision for IPv4 traffic: in_port, MACs, dl_type, VLAN.
FlowKey normalMask() {
    FlowKey m;
    m.clear();
    m.in_port = 0xffffffff;
    m.vlan_tci = 0xffff;
    m.dl_type = 0xffff;
    std::memset(m.dl_src, 0xff, 6);
    std::memset(m.dl_dst, 0xff, 6);
    return m;
}

// F flows whose keys differ in dl_src (distinct NORMAL megaflows), plus S-1 other subtables that
// the lookup visits and misses before reaching the one that holds them.
struct DpCache {
    vs::dp::Classifier cls;
    vs::dp::ExactMatchCache emc;
    std::vector<FlowKey> keys;
    std::vector<std::uint64_t> hashes;

    DpCache(std::size_t flows, std::size_t subtables) {
        for (std::size_t s = 1; s < subtables; ++s) {  // decoys: same traffic, other masks, never matching
            FlowKey m = normalMask();
            m.nw_dst = htonl(0xffffffffu << (s % 32));
            FlowKey k = ipv4Key(99, 17, 0, 0x0b000000 + static_cast<std::uint32_t>(s), 0, 0);
            cls.insert(k, m, {vs::dp::Action::output(2)}, {}, 0);
        }
        // The real flows go in last: their subtable is searched last (rank() is never called).
        for (std::size_t i = 0; i < flows; ++i) {
            FlowKey k = ipv4Key(1, 17, 0x0ae70001, 0x0ae70002, 12345, 12346);
            k.dl_src[3] = static_cast<std::uint8_t>(i >> 16);
            k.dl_src[4] = static_cast<std::uint8_t>(i >> 8);
            k.dl_src[5] = static_cast<std::uint8_t>(i);
            cls.insert(k, normalMask(), {vs::dp::Action::output(2)}, {}, 0);
            keys.push_back(k);
            hashes.push_back(vs::dp::hashKey(k));
        }
    }
};

void DpEmcHit(benchmark::State& state) {
    DpCache c(static_cast<std::size_t>(state.range(0)), 1);
    for (std::size_t i = 0; i < c.keys.size(); ++i) c.emc.insert(c.keys[i], c.hashes[i], c.cls.lookup(c.keys[i]));
    std::size_t i = 0, n = c.keys.size(), emc_miss = 0;
    for (auto _ : state) {
        const FlowKey& k = c.keys[i];
        if (++i == n) i = 0;
        auto* f = c.emc.lookup(k, vs::dp::hashKey(k));
        emc_miss += f == nullptr;
        benchmark::DoNotOptimize(f);
    }
    state.counters["emc_miss_pct"] = 100.0 * emc_miss / static_cast<double>(state.iterations());
    state.SetItemsProcessed(state.iterations());
}

void DpClassifierHit(benchmark::State& state) {
    DpCache c(static_cast<std::size_t>(state.range(0)), static_cast<std::size_t>(state.range(1)));
    std::size_t i = 0, n = c.keys.size(), misses = 0;
    for (auto _ : state) {
        const FlowKey& k = c.keys[i];
        if (++i == n) i = 0;
        auto* f = c.cls.lookup(k);
        misses += f == nullptr;
        benchmark::DoNotOptimize(f);
    }
    if (misses) state.SkipWithError("megaflow not found");
    state.SetItemsProcessed(state.iterations());
}

void DpEmcThenCls(benchmark::State& state) {
    DpCache c(static_cast<std::size_t>(state.range(0)), 1);
    std::size_t i = 0, n = c.keys.size(), emc_miss = 0;
    for (auto _ : state) {
        const FlowKey& k = c.keys[i];
        if (++i == n) i = 0;
        std::uint64_t h = vs::dp::hashKey(k);
        auto* f = c.emc.lookup(k, h);
        if (!f) {
            ++emc_miss;
            f = c.cls.lookup(k);
            if (f) c.emc.insert(k, h, f);
        }
        benchmark::DoNotOptimize(f);
    }
    state.counters["emc_miss_pct"] = 100.0 * emc_miss / static_cast<double>(state.iterations());
    state.SetItemsProcessed(state.iterations());
}

}  // namespace

BENCHMARK(OfTableMiss)->Arg(1)->Arg(1000)->Arg(100000);
BENCHMARK(OfTableHit)->Arg(1)->Arg(1000)->Arg(100000);
BENCHMARK(OfTableAll)->Arg(1000)->Arg(100000)->Unit(benchmark::kMillisecond);
BENCHMARK(DpEmcHit)->Arg(1)->Arg(1000);
BENCHMARK(DpClassifierHit)->Args({1, 1})->Args({1000, 1})->Args({100000, 1})->Args({1000, 4})->Args({1000, 16});
BENCHMARK(DpEmcThenCls)->Arg(1000)->Arg(8000)->Arg(100000);

BENCHMARK_MAIN();
