// Ingress policing and egress QoS (docs/qos.md): the token bucket with an injected clock, the
// policer on packets, config validation of the Port qos column, the traffic-control plan, the
// queue actions in the flow syntax, their translation into skb priorities, and the OVSDB rows.
#include <gtest/gtest.h>

#include <rapidjson/document.h>

#include "datapath/coverage.h"
#include "datapath/policer.h"
#include "datapath/port.h"
#include "ofproto/ofp_parse.h"
#include "ofproto/ofp_print.h"
#include "ofproto/ofproto.h"
#include "ofproto/queue.h"
#include "ovsdb/vswitch_schema.h"
#include "tests/unit/dummy_bridge.h"
#include "tests/unit/frame_builder.h"
#include "vswitchd/config_json.h"
#include "vswitchd/ovsdb_mapping.h"
#include "vswitchd/qos.h"
#include "vswitchd/qos_ovsdb.h"

using namespace vs;

namespace {

constexpr std::int64_t kMs = 1'000'000;  // ns

// ---- token bucket -----------------------------------------------------------------------------

TEST(DpTokenBucket, StartsFullAndRefillsAtItsRate) {
    dp::TokenBucket b;
    b.configure(8000, 4000, 0);  // 8000 units/s, 4000 deep
    EXPECT_TRUE(b.admit(0, 3000));
    EXPECT_TRUE(b.admit(0, 1000));
    EXPECT_FALSE(b.admit(0, 1)) << "empty";
    EXPECT_FALSE(b.admit(100 * kMs, 1000)) << "100 ms refills 800, not 1000";
    EXPECT_TRUE(b.admit(125 * kMs, 1000)) << "125 ms refills exactly 1000";
    EXPECT_DOUBLE_EQ(b.level(125 * kMs), 0);
    EXPECT_DOUBLE_EQ(b.level(10'000 * kMs), 4000) << "never above the burst";
}

TEST(DpTokenBucket, LongRunRateIsTheRate) {
    dp::TokenBucket b;
    b.configure(1'000'000, 12'000, 0);  // 1 Mbit/s of bits, 12 kbit deep
    std::uint64_t passed = 0;
    for (std::int64_t t = 0; t < 10'000 * kMs; t += kMs / 10)  // offered: 1500-byte frames at 120 Mbit/s
        if (b.admit(t, 12'000)) passed += 12'000;
    EXPECT_NEAR(static_cast<double>(passed), 10e6 + 12'000, 12'000) << "10 s at 1 Mbit/s plus one burst";
}

TEST(DpTokenBucket, AnItemLargerThanTheBucketPassesWhenFullAndLeavesDebt) {
    dp::TokenBucket b;
    b.configure(1000, 100, 0);
    EXPECT_TRUE(b.admit(0, 500)) << "a full bucket lets an oversize item (a GSO frame) through";
    EXPECT_DOUBLE_EQ(b.level(0), -400);
    EXPECT_FALSE(b.admit(400 * kMs, 1)) << "the debt is repaid first";
    EXPECT_TRUE(b.admit(401 * kMs, 1));
    EXPECT_FALSE(b.admit(401 * kMs, 500)) << "not full: the oversize item waits";
}

TEST(DpTokenBucket, DisabledPassesEverythingAndABackwardClockAddsNothing) {
    dp::TokenBucket b;
    EXPECT_FALSE(b.enabled());
    EXPECT_TRUE(b.admit(0, ~0ull));
    b.configure(1000, 1000, 50 * kMs);
    EXPECT_TRUE(b.admit(50 * kMs, 1000));
    EXPECT_FALSE(b.admit(10 * kMs, 1)) << "time went backwards: no tokens";
    b.configure(0, 1000, 0);
    EXPECT_FALSE(b.enabled());
    EXPECT_TRUE(b.admit(0, 5000));
}

TEST(DpTokenBucket, BatchDecidesInOrderUnderOneLock) {
    dp::TokenBucket b;
    b.configure(1000, 1000, 0);
    std::uint64_t costs[] = {600, 600, 400, 1};
    bool ok[4];
    EXPECT_EQ(b.admitBatch(0, costs, ok, 4), 2u);
    EXPECT_TRUE(ok[0]);
    EXPECT_FALSE(ok[1]);
    EXPECT_TRUE(ok[2]);
    EXPECT_FALSE(ok[3]);
}

TEST(IngressPolicer, DropsOverTheRateKeepsOrderAndCounts) {
    class NullPort : public dp::Port {
    public:
        NullPort() : Port("null") {}
        const char* type() const noexcept override { return "dummy"; }
        int fd() const noexcept override { return -1; }
        int receive(dp::Packet**, int) noexcept override { return 0; }
        int send(dp::Packet* const*, int n) noexcept override { return n; }
    } port;
    dp::IngressPolicer& pol = port.ingressPolicer();
    EXPECT_FALSE(pol.enabled());
    pol.configure(8, 0, 0);  // 8 kbit/s; burst 0 = 8000 kbit
    EXPECT_EQ(pol.bucket().burst(), 8'000'000u);
    pol.configure(8, 1, 0);  // 1 kbit = 125 bytes
    dp::PacketPool pool(4);
    dp::Packet* pkts[4];
    const std::uint32_t sizes[] = {100, 100, 20, 60};
    for (int i = 0; i < 4; ++i) {
        pkts[i] = &pool[i];
        pkts[i]->setSize(sizes[i]);
    }
    std::uint64_t before = dp::coverageRead(dp::Coverage::drop_ingress_policed);
    ASSERT_EQ(pol.police(pkts, 4, 0, port.stats()), 2);  // 800 bits, then 800 > 200 left, 160 fits, 480 not
    EXPECT_EQ(pkts[0], &pool[0]);
    EXPECT_EQ(pkts[1], &pool[2]);
    EXPECT_EQ(port.stats().rx_policed.load(), 2u);
    EXPECT_EQ(port.stats().rx_dropped.load(), 2u);
    EXPECT_EQ(dp::coverageRead(dp::Coverage::drop_ingress_policed) - before, 2u);
}

// ---- config -----------------------------------------------------------------------------------

vswitchd::QosConfig htb(std::map<std::uint32_t, vswitchd::StringMap> queues, vswitchd::StringMap oc = {}) {
    vswitchd::QosConfig q;
    q.type = "linux-htb";
    q.other_config = std::move(oc);
    for (auto& [id, m] : queues) q.queues[id].other_config = m;
    return q;
}

TEST(QosConfig, ValidationNamesTheProblem) {
    using vswitchd::qosProblem;
    EXPECT_EQ(qosProblem(htb({{0, {{"min-rate", "1000"}, {"max-rate", "2000"}}}})), std::nullopt);
    auto q = htb({});
    q.type = "linux-sfq";
    EXPECT_EQ(qosProblem(q), "QoS type 'linux-sfq' is not supported (supported: linux-htb, linux-hfsc)");
    EXPECT_EQ(qosProblem(htb({}, {{"max-rate", "-5"}})),
              "QoS other_config:max-rate: invalid value '-5': expected a non-negative integer (bit/s)");
    EXPECT_EQ(qosProblem(htb({{1, {{"burst", "1k"}}}})),
              "queue 1 other_config:burst: invalid value '1k': expected a non-negative integer (bits)");
    EXPECT_EQ(qosProblem(htb({{2, {{"min-rate", "2000"}, {"max-rate", "1000"}}}})),
              "queue 2 other_config:max-rate 1000 is below its min-rate 2000");
    EXPECT_EQ(qosProblem(htb({{3, {{"priority", "4294967296"}}}})).value_or("").find("priority"), 21u);
}

TEST(QosConfig, ColumnTakesTheFlatAndTheFileFormAndRefusesBadInput) {
    auto col = vswitchd::qosColumn();
    vswitchd::PortConfig pc;
    rapidjson::Document doc;
    doc.Parse(R"({"type":"linux-htb","max-rate":"10000000","0.max-rate":"5000000","7.min-rate":"1000"})");
    col.fromJson(pc, doc);
    ASSERT_TRUE(pc.qos);
    EXPECT_EQ(*pc.qos, htb({{0, {{"max-rate", "5000000"}}}, {7, {{"min-rate", "1000"}}}}, {{"max-rate", "10000000"}}));
    rapidjson::Value obj(rapidjson::kObjectType);
    col.toJson(pc, obj, doc.GetAllocator());  // the file form reads back the same
    vswitchd::PortConfig back;
    col.fromJson(back, obj["qos"]);
    EXPECT_EQ(back.qos, pc.qos);
    col.removeKey(pc, "7.min-rate");
    EXPECT_TRUE(pc.qos->queues.at(7).other_config.empty());
    col.setKey(pc, "1.priority", rapidjson::Value("3"));
    EXPECT_EQ(pc.qos->queues.at(1).other_config.at("priority"), "3");
    vswitchd::PortConfig before = pc;
    EXPECT_THROW(col.setKey(pc, "type", rapidjson::Value("linux-foo")), vswitchd::ColumnError);
    EXPECT_THROW(col.setKey(pc, "0.min-rate", rapidjson::Value("9000000")), vswitchd::ColumnError);
    EXPECT_THROW(col.setKey(pc, "70000.max-rate", rapidjson::Value("1")), vswitchd::ColumnError);
    EXPECT_EQ(pc, before) << "a refused change changes nothing";
    col.clear(pc);
    EXPECT_FALSE(pc.qos);
}

TEST(QosConfig, PolicingColumnsAreNonNegativeIntegers) {
    const auto* rate = vswitchd::findColumn(vswitchd::interfaceColumns(), "ingress_policing_rate");
    ASSERT_NE(rate, nullptr);
    vswitchd::InterfaceConfig ic;
    rate->fromJson(ic, rapidjson::Value(1000));
    EXPECT_EQ(ic.ingress_policing_rate, 1000);
    rate->fromJson(ic, rapidjson::Value("2000"));
    EXPECT_EQ(ic.ingress_policing_rate, 2000);
    EXPECT_THROW(rate->fromJson(ic, rapidjson::Value(-1)), vswitchd::ColumnError);
    EXPECT_THROW(rate->fromJson(ic, rapidjson::Value("fast")), vswitchd::ColumnError);
    EXPECT_EQ(ic.ingress_policing_rate, 2000);
}

// ---- the traffic-control plan -----------------------------------------------------------------

TEST(QosPlan, OpenVswitchLayoutWithItsClamps) {
    auto q = htb({{0, {{"min-rate", "8000000"}, {"max-rate", "20000000"}}},
                  {4, {{"max-rate", "900000000"}, {"burst", "80000"}, {"priority", "2"}}},
                  {9, {{"min-rate", "8"}}}},
                 {{"max-rate", "100000000"}});
    vswitchd::TcPlan p = vswitchd::planQos(q, 1500, 1'000'000'000);
    EXPECT_EQ(p.kind, "htb");
    ASSERT_EQ(p.classes.size(), 4u);
    EXPECT_EQ(p.classes[0], (vswitchd::TcClass{0x1fffe, 0x10000, 12'500'000, 12'500'000, 1564, 0}));
    EXPECT_EQ(p.classes[1], (vswitchd::TcClass{0x10001, 0x1fffe, 1'000'000, 2'500'000, 1564, 0}));
    EXPECT_EQ(p.classes[2], (vswitchd::TcClass{0x10005, 0x1fffe, 1500, 12'500'000, 10'000, 2}))
        << "min-rate at least one MTU/s; max-rate capped at the QoS max-rate";
    EXPECT_EQ(p.classes[3], (vswitchd::TcClass{0x1000a, 0x1fffe, 1500, 12'500'000, 1564, 0}));
}

TEST(QosPlan, DefaultQueueAndLinkRate) {
    vswitchd::QosConfig q = htb({{3, {}}});
    q.type = "linux-hfsc";
    vswitchd::TcPlan p = vswitchd::planQos(q, 9000, vswitchd::kDefaultLinkRate);
    EXPECT_EQ(p.kind, "hfsc");
    ASSERT_EQ(p.classes.size(), 3u) << "queue 0 (the default class 1:1) is added";
    EXPECT_EQ(p.classes[0].max_rate, 12'500'000u) << "no max-rate: the link rate (100 Mbit/s if unknown)";
    EXPECT_EQ(p.classes[1].handle, 0x10001u);
    EXPECT_EQ(p.classes[2].handle, 0x10004u);
    EXPECT_EQ(p.classes[2].handle, 0x10000u | (ofproto::queuePriority(3) & 0xffff)) << "set_queue:3 picks it";
}

// ---- flows ------------------------------------------------------------------------------------

std::optional<std::uint32_t> byName(std::string_view n) {
    if (n.size() == 2 && n[0] == 'p') return static_cast<std::uint32_t>(n[1] - '0');
    return std::nullopt;
}

TEST(QueueActions, ParseAndPrintAsOvsOfctl) {
    using namespace vs::ofproto;
    auto r = parseFlowMod("actions=set_queue:3,output:2,pop_queue,enqueue:p1:7,enqueue(LOCAL,0)", FlowMod::Command::kAdd, byName);
    ASSERT_TRUE(std::holds_alternative<FlowMod>(r)) << std::get<ParseError>(r).message;
    const auto& a = std::get<FlowMod>(r).actions;
    ASSERT_EQ(a.size(), 5u);
    EXPECT_EQ(a[0].type, ActionType::kSetQueue);
    EXPECT_EQ(a[0].value, 3u);
    EXPECT_EQ(a[2].type, ActionType::kPopQueue);
    EXPECT_EQ(a[3].type, ActionType::kEnqueue);
    EXPECT_EQ(a[3].port, 1u);
    EXPECT_EQ(a[3].value, 7u);
    EXPECT_EQ(a[4].port, kPortLocal);
    EXPECT_EQ(formatActions(a, {}), "set_queue:3,output:2,pop_queue,enqueue:1:7,enqueue:LOCAL:0");
    for (const char* bad : {"actions=set_queue:61440", "actions=set_queue", "actions=enqueue:2", "actions=enqueue:NORMAL:1"}) {
        auto e = parseFlowMod(bad, FlowMod::Command::kAdd, byName);
        EXPECT_TRUE(std::holds_alternative<ParseError>(e)) << bad;
    }
}

TEST(QueueActions, XlateSetsTheSkbPriorityBeforeTheOutputsThatUseIt) {
    using namespace vs::ofproto;
    std::int64_t now = 5'000'000;
    Ofproto of(dp::DatapathConfig{}, [&] { return now; });
    auto ports = test::addDummyBridge<3>(of);
    std::vector<FlowMod> mods;
    for (const char* text : {"in_port=1,actions=set_queue:1,output:2,enqueue:3:5",
                             "in_port=2,actions=set_queue:4,pop_queue,output:1",
                             "in_port=3,actions=write_actions(output:1,set_queue:2,set_queue:9)"}) {
        auto r = parseFlowMod(text, FlowMod::Command::kAdd, byName);
        ASSERT_TRUE(std::holds_alternative<FlowMod>(r));
        mods.push_back(std::get<FlowMod>(r));
    }
    of.applyFlowMods("br0", mods);
    auto frame = test::eth(test::mac(2), test::mac(1), 0x0800, test::ipv4(17, 0x0a000001, 0x0a000002, test::udp(1, 2)));
    ports[0]->inject(frame);
    ports[1]->inject(frame);
    ports[2]->inject(frame);
    of.datapath().runOnce();
    std::map<std::uint32_t, std::string> actions;
    for (const auto& f : of.datapath().dumpFlows()) actions[f.key.in_port] = f.actions;
    ASSERT_EQ(actions.size(), 3u);
    EXPECT_EQ(std::next(actions.begin(), 2)->second, "set(skb_priority(0x1000a)),1")
        << "the action set's last set_queue applies to its output (OpenFlow 1.3 section 5.10)";
    EXPECT_EQ(actions.begin()->second, "set(skb_priority(0x10002)),2,set(skb_priority(0x10006)),3")
        << "set_queue:1 is class 1:2; enqueue:3:5 is class 1:6 for that output only";
    EXPECT_EQ(std::next(actions.begin())->second, "1") << "pop_queue: back to the default, nothing to set";
    EXPECT_EQ(ports[1]->sent().size(), 1u);
    EXPECT_EQ(ports[2]->sent().size(), 1u);
}

// ---- OVSDB ------------------------------------------------------------------------------------

TEST(QosOvsdb, RowsFollowTheConfigAndKeepTheirUuids) {
    ovsdb::Database db(std::make_shared<const ovsdb::Schema>(ovsdb::parseSchema(ovsdb::vswitchSchemaText())));
    vswitchd::QosWritten written;
    ovsdb::Row port = db.defaultRow("Port");
    auto q = htb({{0, {{"max-rate", "1000"}}}, {2, {{"min-rate", "10"}}}}, {{"max-rate", "5000"}});
    vswitchd::projectQos(q, port, db, written);
    ASSERT_EQ(db.tables["QoS"].size(), 1u);
    ASSERT_EQ(db.tables["Queue"].size(), 2u);
    EXPECT_EQ(vswitchd::qosFromRow(db, port), q);
    auto qosUuid = port.at("qos");
    q.queues[0].other_config["max-rate"] = "2000";
    written.clear();
    vswitchd::projectQos(q, port, db, written);
    EXPECT_EQ(port.at("qos"), qosUuid) << "the same QoS row, updated";
    EXPECT_EQ(db.tables["Queue"].size(), 2u) << "the same Queue rows, updated";
    EXPECT_EQ(vswitchd::qosFromRow(db, port), q);
    vswitchd::projectQos(std::nullopt, port, db, written);
    EXPECT_FALSE(vswitchd::qosFromRow(db, port));
    EXPECT_EQ(db.tables["QoS"].size(), 1u) << "a root table: the unreferenced row stays, as in Open vSwitch";
}

}  // namespace
