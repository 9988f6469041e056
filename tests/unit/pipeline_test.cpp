// The OpenFlow pipeline on a bridge of dummy ports: rules steer, drop, rewrite (with valid
// checksums), chain tables, count, time out, and changes reach flows already cached.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include "datapath/dummy_port.h"
#include "ofproto/ofproto.h"
#include "tests/unit/dummy_bridge.h"
#include "tests/unit/frame_builder.h"

using namespace vs;
using namespace vs::test;
using namespace vs::ofproto;

namespace {

const Bytes kBcast = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

std::uint16_t onesSum(const std::uint8_t* p, std::size_t n, std::uint32_t s = 0) {
    for (std::size_t i = 0; i + 1 < n; i += 2) s += (p[i] << 8) | p[i + 1];
    if (n & 1) s += p[n - 1] << 8;
    while (s >> 16) s = (s & 0xffff) + (s >> 16);
    return static_cast<std::uint16_t>(s);
}
// True when the IPv4 header and UDP/TCP checksums of an untagged frame are valid.
bool checksumsValid(const Bytes& f) {
    const std::uint8_t* ip = f.data() + 14;
    if (onesSum(ip, 20) != 0xffff) return false;
    std::size_t l4len = ((ip[2] << 8) | ip[3]) - 20;
    std::uint32_t pseudo = onesSum(ip + 12, 8) + ip[9] + static_cast<std::uint32_t>(l4len);
    return onesSum(ip + 20, l4len, pseudo) == 0xffff;
}
Bytes withUdpChecksum(Bytes f) {
    std::uint8_t* ip = f.data() + 14;
    std::uint16_t c = static_cast<std::uint16_t>(~onesSum(ip, 20));
    ip[10] = c >> 8; ip[11] = c & 0xff;
    std::size_t l4len = ((ip[2] << 8) | ip[3]) - 20;
    std::uint32_t pseudo = onesSum(ip + 12, 8) + ip[9] + static_cast<std::uint32_t>(l4len);
    std::uint16_t u = static_cast<std::uint16_t>(~onesSum(ip + 20, l4len, pseudo));
    ip[26] = u >> 8; ip[27] = u & 0xff;
    return f;
}

class PipelineTest : public ::testing::Test {
protected:
    void SetUp() override {
        of = std::make_unique<Ofproto>(dp::DatapathConfig{}, [this] { return now; });
        ports = addDummyBridge<3>(*of);
    }
    std::array<std::vector<Bytes>, 3> send(int in, const Bytes& f) {
        for (auto& p : ports) p->clearSent();
        ports[in]->inject(f);
        of->datapath().runOnce();
        std::array<std::vector<Bytes>, 3> out;
        for (int i = 0; i < 3; ++i)
            for (auto& c : ports[i]->sent()) out[i].push_back(c.bytes);
        return out;
    }
    static Bytes udpFrame(std::uint32_t dst_ip = 0x0a000002, std::uint8_t ttl = 64, int vlan = -1) {
        Bytes f = withUdpChecksum(eth(mac(2), mac(1), 0x0800, ipv4(17, 0x0a000001, dst_ip, udp(1000, 2000), ttl)));
        if (vlan >= 0) f.insert(f.begin() + 12, {0x81, 0x00, static_cast<std::uint8_t>(vlan >> 8), static_cast<std::uint8_t>(vlan)});
        return f;
    }
    static Bytes arpFrame() {
        Bytes arp = {0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 1, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 10, 0, 0, 2};
        return eth(kBcast, mac(1), 0x0806, arp);
    }
    static FlowMod add(std::uint16_t prio, ActionList acts, std::uint8_t table = 0) {
        FlowMod fm;
        fm.priority = prio;
        fm.table = table;
        fm.actions = std::move(acts);
        return fm;
    }
    static Action out(std::uint32_t port) { Action a{ActionType::kOutput}; a.port = port; return a; }
    static FlowMod& ip(FlowMod& fm) { fm.match.key.dl_type = 0x0800; fm.match.mask.dl_type = 0xffff; return fm; }
    static FlowMod& inPort(FlowMod& fm, std::uint32_t p) { fm.match.key.in_port = p; fm.match.mask.in_port = ~0u; return fm; }
    std::size_t apply(std::vector<FlowMod> mods) { return of->applyFlowMods("br0", mods); }
    std::shared_ptr<const Rule> rule(std::uint16_t prio, std::uint8_t table = 0) {
        for (auto& r : of->rules("br0", kTableAll, Match{}))
            if (r->priority == prio && r->table == table) return r;
        return nullptr;
    }

    std::int64_t now = 5000000;
    std::unique_ptr<Ofproto> of;
    std::array<std::shared_ptr<dp::DummyPort>, 3> ports;
};

TEST_F(PipelineTest, DefaultRuleIsNormal) {
    auto rules = of->rules("br0", kTableAll, Match{});
    ASSERT_EQ(rules.size(), 1u);
    EXPECT_EQ(rules[0]->priority, 0);
    ASSERT_EQ(rules[0]->actions.size(), 1u);
    EXPECT_EQ(rules[0]->actions[0].type, ActionType::kNormal);
    auto o = send(0, arpFrame());
    EXPECT_EQ(o[1].size() + o[2].size(), 2u);
}

TEST_F(PipelineTest, OutputRuleSteersAndRuleChangesReachCachedFlows) {
    FlowMod fm = add(100, {out(3)});
    apply({inPort(fm, 1)});
    for (int i = 0; i < 3; ++i) {
        auto o = send(0, udpFrame());
        EXPECT_TRUE(o[1].empty());
        EXPECT_EQ(o[2].size(), 1u);
    }
    FlowMod mod = fm;
    mod.command = FlowMod::Command::kModifyStrict;
    mod.actions = {out(2)};
    EXPECT_EQ(apply({mod}), 1u);
    auto o = send(0, udpFrame());
    EXPECT_EQ(o[1].size(), 1u) << "the modified rule applies to the cached flow";
    EXPECT_TRUE(o[2].empty());
    FlowMod del = fm;
    del.command = FlowMod::Command::kDeleteStrict;
    EXPECT_EQ(apply({del}), 1u);
    o = send(0, arpFrame());
    EXPECT_EQ(o[1].size() + o[2].size(), 2u) << "back to NORMAL";
}

TEST_F(PipelineTest, DropRuleDropsIpButNotArp) {
    FlowMod fm = add(50, {});
    apply({ip(fm)});
    auto before = dp::coverageRead(dp::Coverage::drop_no_actions);
    auto o = send(0, udpFrame());
    EXPECT_TRUE(o[1].empty() && o[2].empty());
    EXPECT_EQ(dp::coverageRead(dp::Coverage::drop_no_actions), before + 1);
    o = send(0, arpFrame());
    EXPECT_EQ(o[1].size(), 1u);
}

TEST_F(PipelineTest, RewritesKeepChecksumsValid) {
    Action dst{ActionType::kSetField}; dst.field = Field::kIpv4Dst; dst.value = 0x0a0000fe;
    Action tp{ActionType::kSetField}; tp.field = Field::kTpDst; tp.value = 5353;
    Action src{ActionType::kSetField}; src.field = Field::kEthSrc; src.mac = {0x02, 0xaa, 0, 0, 0, 9};
    Action tos{ActionType::kSetField}; tos.field = Field::kIpTos; tos.value = 0xb8;
    FlowMod fm = add(100, {dst, tp, src, tos, Action{ActionType::kDecTtl}, out(2)});
    fm.match.key.nw_proto = 17; fm.match.mask.nw_proto = 0xff;
    apply({ip(fm)});
    Bytes in = udpFrame();
    ASSERT_TRUE(checksumsValid(in));
    auto o = send(0, in);
    ASSERT_EQ(o[1].size(), 1u);
    const Bytes& f = o[1][0];
    EXPECT_TRUE(checksumsValid(f)) << "IPv4 and UDP checksums after rewrite (RFC 1624)";
    EXPECT_EQ(f[14 + 16], 10); EXPECT_EQ(f[14 + 19], 0xfe);
    EXPECT_EQ((f[14 + 22] << 8) | f[14 + 23], 5353);
    EXPECT_EQ(f[6 + 1], 0xaa);
    EXPECT_EQ(f[14 + 8], 63) << "dec_ttl";
    EXPECT_EQ(f[14 + 1], 0xb8);
}

TEST_F(PipelineTest, DecTtlOnTtlOneDropsAndCounts) {
    FlowMod fm = add(100, {Action{ActionType::kDecTtl}, out(2)});
    apply({ip(fm)});
    auto before = dp::coverageRead(dp::Coverage::drop_ttl_exceeded);
    auto o = send(0, udpFrame(0x0a000002, 1));
    EXPECT_TRUE(o[1].empty());
    EXPECT_EQ(dp::coverageRead(dp::Coverage::drop_ttl_exceeded), before + 1);
    o = send(0, udpFrame(0x0a000002, 2));
    ASSERT_EQ(o[1].size(), 1u) << "TTL is part of the megaflow: TTL 2 is not the cached drop";
    EXPECT_EQ(o[1][0][14 + 8], 1);
}

TEST_F(PipelineTest, GotoTableResubmitAndTableMiss) {
    Action go{ActionType::kGotoTable}; go.table = 1;
    FlowMod t0 = add(100, {go});
    FlowMod t1 = add(10, {out(3)}, 1);
    apply({inPort(t0, 1), ip(t1)});
    auto o = send(0, udpFrame());
    EXPECT_EQ(o[2].size(), 1u);
    auto misses = dp::coverageRead(dp::Coverage::drop_table_miss);
    o = send(0, arpFrame());  // ARP: no rule in table 1
    EXPECT_TRUE(o[1].empty() && o[2].empty());
    EXPECT_EQ(dp::coverageRead(dp::Coverage::drop_table_miss), misses + 1);
    Action rs{ActionType::kResubmit}; rs.port = kPortInPort; rs.table = 1;
    FlowMod t0b = add(200, {rs, out(2)});
    apply({inPort(t0b, 1)});
    o = send(0, udpFrame());
    EXPECT_EQ(o[1].size(), 1u);
    EXPECT_EQ(o[2].size(), 1u) << "resubmit to table 1 then output:2";
}

TEST_F(PipelineTest, GotoTableMustGoForward) {
    Action go{ActionType::kGotoTable}; go.table = 0;
    EXPECT_THROW(apply({add(1, {go})}), std::invalid_argument);
    EXPECT_EQ(of->rules("br0", kTableAll, Match{}).size(), 1u) << "nothing applied";
}

TEST_F(PipelineTest, VlanActions) {
    Action vid{ActionType::kSetVlanVid}; vid.value = 42;
    FlowMod push = add(100, {vid, out(2)});
    apply({inPort(push, 1)});
    auto o = send(0, udpFrame());
    ASSERT_EQ(o[1].size(), 1u);
    EXPECT_EQ(o[1][0], udpFrame(0x0a000002, 64, 42));
    FlowMod strip = add(100, {Action{ActionType::kStripVlan}, out(1)});
    apply({inPort(strip, 2)});
    o = send(1, udpFrame(0x0a000002, 64, 42));
    ASSERT_EQ(o[0].size(), 1u);
    EXPECT_EQ(o[0][0], udpFrame());
}

TEST_F(PipelineTest, CountersCountCachedPackets) {
    FlowMod fm = add(100, {out(2)});
    apply({inPort(fm, 1)});
    for (int i = 0; i < 7; ++i) send(0, udpFrame());
    of->datapath().invalidate();  // flushing the cache pushes its counts to the rules
    of->datapath().runOnce();
    auto r = rule(100);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->stats->packets.load(), 7u);
    EXPECT_EQ(r->stats->bytes.load(), 7u * udpFrame().size());
    auto ts = of->tableStats("br0");
    ASSERT_FALSE(ts.empty());
    EXPECT_EQ(ts[0].active, 2u);
}

TEST_F(PipelineTest, HardAndIdleTimeouts) {
    FlowMod hard = add(100, {out(2)});
    hard.hard_timeout = 5;
    hard.send_flow_rem = true;
    FlowMod idle = add(90, {out(3)});
    idle.idle_timeout = 3;
    apply({inPort(hard, 1), inPort(idle, 2)});
    now += 2000;
    of->runPeriodic();
    EXPECT_TRUE(rule(100));
    EXPECT_TRUE(rule(90));
    now += 1500;
    of->runPeriodic();
    EXPECT_FALSE(rule(90)) << "idle for 3.5 s";
    EXPECT_TRUE(rule(100));
    now += 2000;
    of->runPeriodic();
    EXPECT_FALSE(rule(100)) << "hard timeout 5 s";
    auto gone = of->takeExpired();
    ASSERT_EQ(gone.size(), 1u) << "only the send_flow_rem rule is reported";
    EXPECT_EQ(gone[0]->priority, 100);
    auto o = send(0, arpFrame());
    EXPECT_EQ(o[1].size() + o[2].size(), 2u) << "NORMAL again";
}

TEST_F(PipelineTest, DeleteByCookieMaskAndOutPort) {
    FlowMod a = add(10, {out(2)}); a.cookie = 0x10; inPort(a, 1);
    FlowMod b = add(11, {out(3)}); b.cookie = 0x11; inPort(b, 1);
    FlowMod c = add(12, {out(3)}); c.cookie = 0x20; inPort(c, 1);
    apply({a, b, c});
    FlowMod del;
    del.command = FlowMod::Command::kDelete;
    del.table = kTableAll;
    del.cookie = 0x10;
    del.cookie_mask = 0xf0;
    del.out_port = 3;
    EXPECT_EQ(apply({del}), 1u) << "only cookie 0x1? rules that output to port 3";
    EXPECT_TRUE(rule(10));
    EXPECT_FALSE(rule(11));
    EXPECT_TRUE(rule(12));
}

}  // namespace
