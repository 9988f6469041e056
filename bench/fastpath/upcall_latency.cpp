// Upcall latency while the control thread loads a large rule set (issue #14, item 5: "a 100,000-rule
// add-flows must not stall the poll threads' misses"). In one process, without the kernel: a bridge
// of two dummy ports, the datapath's own poll thread running; a probe thread injects one frame every
// millisecond from a source MAC never seen before (so each frame misses the cache and is an upcall)
// and times how long until it leaves the other port. First a quiet baseline, then the same while
// the main thread applies RULES flow_mods in one all-or-nothing batch (what `vsofctl add-flows`
// does), while it dumps them (dump-flows) and exports them (the store's snapshot), while it
// deletes them one by one and adds them one by one (a controller's stream of flow_mods).
//
//   build/bench/fastpath/vs_upcall_latency [RULES [ROUNDS [DELETES]]]   (default 100000 3 RULES)
//
// DELETES: how many of the rules the strict-delete phase removes one by one (an older build
// scans the table for each, ~15 ms apiece at 100,000 rules: give it a few thousand).
//
// Prints min/p50/p99/max of the probes' latency in microseconds for each phase. Times depend on the
// machine: compare the phases of one run, not runs on different machines.
#include <arpa/inet.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include "datapath/dummy_port.h"
#include "ofproto/ofproto.h"

namespace {

using namespace vs;
using Clock = std::chrono::steady_clock;

std::vector<std::uint8_t> frame(std::uint32_t src_id) {
    std::vector<std::uint8_t> f = {2, 0, 0, 0, 0, 2, 6, static_cast<std::uint8_t>(src_id >> 24),
                                   static_cast<std::uint8_t>(src_id >> 16), static_cast<std::uint8_t>(src_id >> 8),
                                   static_cast<std::uint8_t>(src_id), 1, 0x08, 0x00,
                                   0x45, 0, 0, 46, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
                                   0x30, 0x39, 0x30, 0x3a, 0, 26, 0, 0};
    f.resize(64, 0x41);
    return f;
}

struct Probe {
    dp::DummyPort& in;
    dp::DummyPort& out;
    std::atomic<bool> stop{false};
    std::vector<double> us;
    std::uint32_t next_src = 1;

    void run() {
        while (!stop.load()) {
            std::size_t before = out.sent().size();
            auto t0 = Clock::now();
            in.inject(frame(next_src++));
            while (out.sent().size() == before) {
                if (Clock::now() - t0 > std::chrono::seconds(10)) break;
                std::this_thread::yield();
            }
            us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
            out.clearSent();
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    }
};

void report(const char* phase, std::vector<double> v, double seconds) {
    if (v.empty()) {
        std::printf("%-34s no probes\n", phase);
        return;
    }
    std::sort(v.begin(), v.end());
    auto at = [&](double q) { return v[std::min(v.size() - 1, static_cast<std::size_t>(q * v.size()))]; };
    std::printf("%-34s %6zu probes in %6.2f s: min %8.0f  p50 %8.0f  p99 %8.0f  max %8.0f us\n", phase, v.size(),
                seconds, v.front(), at(0.5), at(0.99), v.back());
}

std::vector<ofproto::FlowMod> rules(int n) {
    std::vector<ofproto::FlowMod> mods(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
        auto& fm = mods[static_cast<std::size_t>(i)];
        fm.priority = 100;
        fm.match.key.dl_type = 0x0800;
        fm.match.mask.dl_type = 0xffff;
        fm.match.key.nw_dst = htonl(0x0b000000u + static_cast<std::uint32_t>(i));  // 11.0.0.0/8: not the probes'
        fm.match.mask.nw_dst = ~0u;
        ofproto::Action out{ofproto::ActionType::kOutput};
        out.port = 2;
        fm.actions = {out};
    }
    return mods;
}

template <class F>
void phase(const char* name, Probe& probe, F work) {
    probe.us.clear();
    probe.stop = false;
    std::thread t([&] { probe.run(); });
    auto t0 = Clock::now();
    work();
    double s = std::chrono::duration<double>(Clock::now() - t0).count();
    probe.stop = true;
    t.join();
    report(name, probe.us, s);
}

}  // namespace

int main(int argc, char** argv) {
    int n = argc > 1 ? std::atoi(argv[1]) : 100000;
    int rounds = argc > 2 ? std::atoi(argv[2]) : 3;
    dp::DatapathConfig cfg;
    cfg.poll_threads = 1;
    ofproto::Ofproto of(cfg);
    of.addBridge("br0");
    auto p1 = std::make_shared<dp::DummyPort>("p1"), p2 = std::make_shared<dp::DummyPort>("p2");
    of.addPort("br0", "p1", 1, p1);
    of.addPort("br0", "p2", 2, p2);
    of.start();
    Probe probe{*p1, *p2};
    auto batch = rules(n);
    std::size_t n_del = argc > 3 ? static_cast<std::size_t>(std::atoi(argv[3])) : batch.size();
    std::vector<ofproto::FlowMod> deletes(batch.begin(), batch.begin() + std::min(n_del, batch.size()));
    for (auto& fm : deletes) fm.command = ofproto::FlowMod::Command::kDeleteStrict;
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    for (int r = 1; r <= rounds; ++r) {
        std::printf("round %d\n", r);
        of.replaceFlows("br0", {ofproto::defaultNormalRule()});
        phase("quiet (no control-thread work)", probe, [] { std::this_thread::sleep_for(std::chrono::seconds(1)); });
        phase("one add-flows batch", probe, [&] { of.applyFlowMods("br0", batch); });
        phase("dump-flows of every rule", probe, [&] {
            for (int i = 0; i < 5; ++i) (void)of.rules("br0", ofproto::kTableAll, ofproto::Match{});
        });
        phase("export for a snapshot", probe, [&] { (void)of.exportFlows("br0"); });
        phase("one delete_strict at a time", probe, [&] {
            for (const auto& fm : deletes) of.applyFlowMods("br0", {fm});
        });
        phase("one flow_mod at a time", probe, [&] {
            for (const auto& fm : batch) of.applyFlowMods("br0", {fm});
        });
    }
    of.datapath().stop();
    return 0;
}
