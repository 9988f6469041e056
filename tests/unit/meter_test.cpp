// OpenFlow 1.3 meters: the datapath meter (datapath/meter.h) with an injected clock, band
// selection, the bridge's meter table (ofproto/meter.h) and its refusals, the OpenFlow 1.3 codec
// (meter_mod and the meter multiparts), the handler's errors, and cache correctness: a changed
// meter acts on megaflows already cached, a deleted meter takes its rules with it.
#include <gtest/gtest.h>

#include "datapath/coverage.h"
#include "datapath/meter.h"
#include "ofproto/ofp_parse.h"
#include "ofproto/ofp_print.h"
#include "ofproto/ofproto.h"
#include "protocol/of13.h"
#include "tests/unit/dummy_bridge.h"
#include "tests/unit/frame_builder.h"
#include "vswitchd/of13_handler.h"

namespace {

using namespace vs;
namespace of13 = protocol::of13;
constexpr std::int64_t kSec = 1'000'000'000;

dp::MeterSpec spec(bool pktps, std::vector<dp::MeterBandSpec> bands) { return {pktps, std::move(bands)}; }

TEST(DpMeter, KbpsBandPassesItsRateAndBurst) {
    dp::Meter m;
    m.configure(spec(false, {{1000, 100}}), 0);  // 1000 kbit/s, burst 100 kbit
    // 1250-byte frames = 10 kbit: the full bucket holds 10 of them at t=0.
    int passed = 0;
    for (int i = 0; i < 20; ++i) passed += m.run(1250, 1, 0);
    EXPECT_EQ(passed, 10);
    // One second later the bucket is full again (100 kbit cap, not 1000): 10 more.
    passed = 0;
    for (int i = 0; i < 20; ++i) passed += m.run(1250, 1, kSec);
    EXPECT_EQ(passed, 10);
    // Over 10 s at 2x the rate (one 10 kbit frame every 5 ms): about 1000 kbit/s pass.
    passed = 0;
    for (std::int64_t t = 2 * kSec; t < 12 * kSec; t += 5'000'000) passed += m.run(1250, 1, t);
    EXPECT_NEAR(passed * 10.0 / 10, 1000.0, 20.0) << "kbit/s passed";
    auto s = m.stats();
    EXPECT_EQ(s.packets, 40u + 2000u);
    ASSERT_EQ(s.bands.size(), 1u);
    EXPECT_EQ(s.bands[0].packets, s.packets - 20u - static_cast<std::uint64_t>(passed));
    EXPECT_EQ(s.bands[0].bytes, s.bands[0].packets * 1250);
}

TEST(DpMeter, PktpsBandCountsPacketsAndGsoSegments) {
    dp::Meter m;
    m.configure(spec(true, {{100, 10}}), 0);  // 100 packets/s, burst 10
    int passed = 0;
    for (int i = 0; i < 50; ++i) passed += m.run(64, 1, 0);
    EXPECT_EQ(passed, 10);
    passed = 0;  // 1 s later: 10 again (the burst caps it); then 100/s over 5 s
    for (std::int64_t t = kSec; t < 6 * kSec; t += kSec / 1000) passed += m.run(1500, 1, t);
    EXPECT_NEAR(passed, 10 + 500, 2);
    // A GSO super-frame with gso_size 1448 and 45 segments and a bit counts as 46 packets.
    dp::Packet p;
    std::vector<std::uint8_t> big(66 + 45 * 1448 + 100, 0);
    test::load(p, big);
    p.vnet.gso_type = dp::VIRTIO_NET_HDR_GSO_TCPV4;
    p.vnet.gso_size = 1448;
    p.vnet.hdr_len = 66;
    EXPECT_EQ(dp::meterSegments(p), 46u);
    p.vnet.gso_type = dp::VIRTIO_NET_HDR_GSO_NONE;
    EXPECT_EQ(dp::meterSegments(p), 1u);
}

TEST(DpMeter, TheHighestRateExceededBandApplies) {
    std::uint64_t rates[] = {100, 500, 300};
    EXPECT_EQ(dp::Meter::selectBand(rates, 3, 0), -1);
    EXPECT_EQ(dp::Meter::selectBand(rates, 3, 0b101), 2);
    EXPECT_EQ(dp::Meter::selectBand(rates, 3, 0b111), 1);
    EXPECT_EQ(dp::Meter::selectBand(rates, 3, 0b001), 0);
    // Two bands: 10 pkt/s (burst 1) and 20 pkt/s (burst 2). Burst of 5 at t=0: packet 1 passes
    // both; 2 exceeds only the 10/s band; 3..5 exceed both (the 20/s band counts them).
    dp::Meter m;
    m.configure(spec(true, {{10, 1}, {20, 2}}), 0);
    int passed = 0;
    for (int i = 0; i < 5; ++i) passed += m.run(100, 1, 0);
    EXPECT_EQ(passed, 1);
    auto s = m.stats();
    EXPECT_EQ(s.bands[0].packets, 1u);
    EXPECT_EQ(s.bands[1].packets, 3u);
}

TEST(DpMeterPool, SlotsAreReusedAndBounded) {
    dp::MeterPool pool;
    std::vector<std::uint32_t> got;
    for (std::uint32_t i = 0; i < dp::MeterPool::kSlots; ++i) got.push_back(*pool.allocate());
    EXPECT_FALSE(pool.allocate().has_value());
    pool.get(got[7])->run(100, 1, 0);
    pool.release(got[7]);
    auto again = pool.allocate();
    ASSERT_TRUE(again);
    EXPECT_EQ(*again, got[7]);
    EXPECT_EQ(pool.get(*again)->stats().packets, 0u) << "a reused slot starts with zero counters";
    EXPECT_EQ(pool.get(dp::MeterPool::kSlots), nullptr);
}

ofproto::MeterConfig cfg(std::uint32_t id, std::uint16_t flags, std::vector<ofproto::MeterBand> bands) {
    return {id, flags, std::move(bands)};
}
ofproto::MeterBand drop(std::uint32_t rate, std::uint32_t burst = 0) { return {ofproto::MeterBandType::kDrop, rate, burst, 0}; }

TEST(MeterTable, RefusalsCarryTheSpecsCodes) {
    using E = ofproto::MeterError;
    auto code = [](const ofproto::MeterConfig& c) {
        try {
            ofproto::MeterTable::validate(c);
        } catch (const ofproto::MeterRefused& e) {
            return e.error;
        }
        return E::kUnknown;
    };
    using ofproto::kMeterKbps, ofproto::kMeterPktps, ofproto::kMeterBurst;
    EXPECT_EQ(code(cfg(1, kMeterKbps, {drop(10)})), E::kUnknown) << "valid";
    EXPECT_EQ(code(cfg(0, kMeterKbps, {drop(10)})), E::kInvalidMeter);
    EXPECT_EQ(code(cfg(0xfffffffd, kMeterKbps, {drop(10)})), E::kInvalidMeter);
    EXPECT_EQ(code(cfg(1, kMeterKbps | kMeterPktps, {drop(10)})), E::kBadFlags);
    EXPECT_EQ(code(cfg(1, 0, {drop(10)})), E::kBadFlags);
    EXPECT_EQ(code(cfg(1, kMeterKbps | 0x40, {drop(10)})), E::kBadFlags);
    EXPECT_EQ(code(cfg(1, kMeterKbps, {drop(0)})), E::kBadRate);
    EXPECT_EQ(code(cfg(1, kMeterKbps | kMeterBurst, {drop(10, 0)})), E::kBadBurst);
    EXPECT_EQ(code(cfg(1, kMeterKbps, {})), E::kBadBand);
    EXPECT_EQ(code(cfg(1, kMeterKbps, {{ofproto::MeterBandType::kDscpRemark, 10, 0, 1}})), E::kBadBand);
    EXPECT_EQ(code(cfg(1, kMeterKbps, {drop(10), drop(10)})), E::kBadBandValue);
    std::vector<ofproto::MeterBand> many;
    for (unsigned i = 1; i <= ofproto::kMaxBands + 1; ++i) many.push_back(drop(i));
    EXPECT_EQ(code(cfg(1, kMeterKbps, many)), E::kOutOfBands);

    auto pool = std::make_shared<dp::MeterPool>();
    ofproto::MeterTable t(pool);
    t.add(cfg(5, kMeterKbps, {drop(10)}), 0);
    EXPECT_THROW(t.add(cfg(5, kMeterKbps, {drop(10)}), 0), ofproto::MeterRefused);
    EXPECT_THROW(t.modify(cfg(6, kMeterKbps, {drop(10)})), ofproto::MeterRefused);
    EXPECT_EQ(pool->inUse(), 1u);
    EXPECT_TRUE(t.remove(6).empty());
    EXPECT_EQ(t.remove(ofproto::kMeterAll), std::vector<std::uint32_t>{5});
    EXPECT_EQ(pool->inUse(), 0u);
}

TEST(MeterCodec, MeterModRoundTripAndMalformed) {
    of13::MeterMod mm;
    mm.command = of13::kMeterAdd;
    mm.flags = 1 | 4 | 8;
    mm.meter_id = 7;
    mm.bands = {{of13::kBandDrop, 1000, 100, 0, 0}, {of13::kBandDscpRemark, 2000, 50, 2, 0}};
    std::string wire = of13::encode(of13::Message{3, mm});
    ASSERT_EQ(wire.size(), 16u + 32u);
    EXPECT_EQ(static_cast<unsigned char>(wire[1]), of13::kMeterMod);
    auto back = of13::decode(wire);
    ASSERT_TRUE(std::holds_alternative<of13::Message>(back));
    EXPECT_EQ(std::get<of13::MeterMod>(std::get<of13::Message>(back).body), mm);

    auto errorOf = [](std::string w) {
        auto r = of13::decode(w);
        if (!std::holds_alternative<of13::DecodeError>(r)) return std::pair<int, int>{-1, -1};
        auto e = std::get<of13::DecodeError>(r);
        return std::pair<int, int>{e.type, e.code};
    };
    std::string bad = wire;
    bad[9] = 3;  // command 3
    EXPECT_EQ(errorOf(bad), (std::pair<int, int>{of13::kMeterModFailed, of13::code::kMmBadCommand}));
    bad = wire;
    bad[16 + 1] = 9;  // band type 9
    EXPECT_EQ(errorOf(bad), (std::pair<int, int>{of13::kMeterModFailed, of13::code::kMmBadBand}));
    bad = wire;
    bad[16 + 3] = 12;  // band length 12
    EXPECT_EQ(errorOf(bad), (std::pair<int, int>{of13::kBadRequest, of13::code::kBadLen}));
    bad = wire.substr(0, wire.size() - 4);  // a truncated band
    bad[3] = static_cast<char>(bad.size());
    EXPECT_EQ(errorOf(bad), (std::pair<int, int>{of13::kBadRequest, of13::code::kBadLen}));
    bad = wire.substr(0, 12);  // shorter than ofp_meter_mod
    bad[3] = 12;
    EXPECT_EQ(errorOf(bad), (std::pair<int, int>{of13::kBadRequest, of13::code::kBadLen}));
}

TEST(MeterCodec, MultipartRequestsAndReplies) {
    of13::MultipartRequest req;
    req.type = of13::kMpMeterConfig;
    req.meter_id = 9;
    auto back = of13::decode(of13::encode(of13::Message{1, req}));
    ASSERT_TRUE(std::holds_alternative<of13::Message>(back));
    EXPECT_EQ(std::get<of13::MultipartRequest>(std::get<of13::Message>(back).body), req);

    of13::MultipartReply rep;
    rep.type = of13::kMpMeter;
    of13::MeterStats s;
    s.meter_id = 9;
    s.flow_count = 2;
    s.packet_in_count = 100;
    s.bands = {{3, 300}};
    rep.meter_stats = {s};
    std::string w = of13::encode(of13::Message{1, rep});
    ASSERT_EQ(w.size(), 16u + 40u + 16u);  // header, ofp_meter_stats, one band
    EXPECT_EQ(static_cast<unsigned char>(w[16 + 5]), 56) << "ofp_meter_stats.len";
    rep = {};
    rep.type = of13::kMpMeterFeatures;
    rep.meter_features = {4096, 2, 15, 8, 0};
    w = of13::encode(of13::Message{1, rep});
    ASSERT_EQ(w.size(), 16u + 16u);
    EXPECT_EQ(static_cast<unsigned char>(w[16 + 12]), 8) << "max_bands";
}

class MeterPipelineTest : public ::testing::Test {
protected:
    MeterPipelineTest() : ports_(test::addDummyBridge<2>(of_)) { of_.replaceFlows("br0", {}); }

    std::vector<std::string> send(of13::Body body) {
        of13::Message m{9, std::move(body)};
        std::string raw = of13::encode(m);
        return handler_.handle("br0", m, raw, state_).frames;
    }
    static std::pair<int, int> errorOf(const std::vector<std::string>& frames) {
        if (frames.size() != 1 || static_cast<unsigned char>(frames[0][1]) != of13::kError) return {-1, -1};
        const auto& f = frames[0];
        return {(static_cast<unsigned char>(f[8]) << 8) | static_cast<unsigned char>(f[9]),
                (static_cast<unsigned char>(f[10]) << 8) | static_cast<unsigned char>(f[11])};
    }
    static of13::MeterMod meter(std::uint16_t cmd, std::uint32_t id, std::uint32_t rate, std::uint32_t burst) {
        of13::MeterMod mm;
        mm.command = cmd;
        mm.flags = 2 | 4;  // pktps, burst
        mm.meter_id = id;
        mm.bands = {{of13::kBandDrop, rate, burst, 0, 0}};
        return mm;
    }
    static of13::FlowMod flow(std::uint32_t meter_id) {  // in_port 1 -> meter -> output 2
        of13::FlowMod fm;
        fm.match.fields.push_back(of13::makeOxm(of13::OxmField::kInPort, 1));
        of13::Instruction m{of13::InstructionType::kMeter};
        m.meter_id = meter_id;
        of13::Instruction apply{of13::InstructionType::kApplyActions};
        of13::Action out;
        out.port = 2;
        apply.actions.push_back(out);
        fm.instructions = {apply, m};  // the wire order does not matter: the meter runs first
        return fm;
    }
    // Injects `n` identical UDP frames on p1 and returns how many left on p2.
    std::size_t burst(int n) {
        ports_[1]->clearSent();
        auto f = test::eth(test::mac(2), test::mac(1), 0x0800, test::ipv4(17, 0x0a000001, 0x0a000002, test::udp(1, 2)));
        for (int i = 0; i < n; ++i) ports_[0]->inject(f);
        of_.datapath().runOnce();
        return ports_[1]->sent().size();
    }

    ofproto::Ofproto of_;
    std::array<std::shared_ptr<dp::DummyPort>, 2> ports_;
    vswitchd::Of13Handler handler_{of_};
    vswitchd::Of13Handler::State state_;
};

TEST_F(MeterPipelineTest, ModifiedRateActsOnCachedFlowsAndDeleteTakesTheRules) {
    EXPECT_EQ(errorOf(send(flow(1))), (std::pair<int, int>{of13::kMeterModFailed, of13::code::kMmUnknownMeter}));
    EXPECT_TRUE(send(meter(of13::kMeterAdd, 1, 1, 3)).empty());  // 1 pkt/s, burst 3
    EXPECT_TRUE(send(flow(1)).empty());
    EXPECT_EQ(burst(10), 3u);
    std::uint64_t installs = dp::coverageRead(dp::Coverage::flow_install);
    // Raise the rate: the cached megaflow keeps its meter action and sees the new bands at once.
    EXPECT_TRUE(send(meter(of13::kMeterModify, 1, 1000000, 1000000)).empty());
    EXPECT_EQ(burst(10), 10u);
    EXPECT_EQ(dp::coverageRead(dp::Coverage::flow_install), installs) << "no flush, no new megaflow";
    EXPECT_TRUE(send(meter(of13::kMeterModify, 1, 1, 1)).empty());
    EXPECT_EQ(burst(10), 1u);

    // Counters through the multipart meter request.
    of13::MultipartRequest req;
    req.type = of13::kMpMeter;
    auto st = of_.meterStats("br0", 1);
    ASSERT_EQ(st.size(), 1u);
    EXPECT_EQ(st[0].row.packets, 30u);
    EXPECT_EQ(st[0].flow_count, 1u);
    ASSERT_EQ(st[0].row.bands.size(), 1u);
    EXPECT_EQ(st[0].row.bands[0].packets, 30u - 3u - 10u - 1u);
    ASSERT_EQ(send(req).size(), 1u);
    req.meter_id = 5;
    EXPECT_EQ(errorOf(send(req)), (std::pair<int, int>{of13::kMeterModFailed, of13::code::kMmUnknownMeter}));

    // Errors with the spec's codes, the meter table unchanged.
    EXPECT_EQ(errorOf(send(meter(of13::kMeterAdd, 1, 5, 5))), (std::pair<int, int>{of13::kMeterModFailed, of13::code::kMmMeterExists}));
    EXPECT_EQ(errorOf(send(meter(of13::kMeterModify, 2, 5, 5))), (std::pair<int, int>{of13::kMeterModFailed, of13::code::kMmUnknownMeter}));
    EXPECT_EQ(errorOf(send(meter(of13::kMeterAdd, 2, 0, 5))), (std::pair<int, int>{of13::kMeterModFailed, of13::code::kMmBadRate}));
    EXPECT_EQ(errorOf(send(meter(of13::kMeterAdd, 2, 5, 0))), (std::pair<int, int>{of13::kMeterModFailed, of13::code::kMmBadBurst}));
    EXPECT_EQ(errorOf(send(meter(of13::kMeterAdd, 0, 5, 5))), (std::pair<int, int>{of13::kMeterModFailed, of13::code::kMmInvalidMeter}));
    EXPECT_EQ(of_.meterConfigs("br0", ofproto::kMeterAll).size(), 1u);

    // Deleting the meter deletes the rule that uses it (and its megaflow: nothing passes).
    EXPECT_TRUE(send(meter(of13::kMeterDelete, 1, 0, 0)).empty());
    EXPECT_TRUE(of_.rules("br0", ofproto::kTableAll, {}).empty());
    EXPECT_EQ(burst(5), 0u);
    EXPECT_TRUE(of_.meterConfigs("br0", ofproto::kMeterAll).empty());
}

TEST_F(MeterPipelineTest, MeterFeaturesAndASlaveIsRefused) {
    of13::MultipartRequest req;
    req.type = of13::kMpMeterFeatures;
    auto f = send(req);
    ASSERT_EQ(f.size(), 1u);
    ASSERT_EQ(f[0].size(), 32u);
    EXPECT_EQ(static_cast<unsigned char>(f[0][16 + 7]), 1u << of13::kBandDrop) << "band_types: drop only";
    state_.role = of13::kRoleSlave;
    EXPECT_EQ(errorOf(send(meter(of13::kMeterAdd, 3, 5, 5))), (std::pair<int, int>{of13::kBadRequest, of13::code::kIsSlave}));
}

TEST(MeterText, MeterInstructionParsesAndPrintsFirst) {
    using ofproto::FlowMod;
    auto parse = [](const char* text) { return ofproto::parseFlowMod(text, FlowMod::Command::kAdd, {}); };
    auto r = parse("in_port=1 actions=meter:3,output:2");
    ASSERT_TRUE(std::holds_alternative<FlowMod>(r));
    const auto& fm = std::get<FlowMod>(r);
    ASSERT_EQ(fm.actions.size(), 2u);
    EXPECT_EQ(fm.actions[0].type, ofproto::ActionType::kMeter);
    EXPECT_EQ(fm.actions[0].value, 3u);
    std::string text = ofproto::formatFlowMod(fm, {});
    EXPECT_NE(text.find("actions=meter:3,output:2"), std::string::npos) << text;
    EXPECT_TRUE(std::holds_alternative<ofproto::ParseError>(parse("actions=output:2,meter:3")));
    EXPECT_TRUE(std::holds_alternative<ofproto::ParseError>(parse("actions=meter:0,output:2")));
}

}  // namespace

namespace {
TEST(MeterText, OvsOfctlSyntaxRoundTrips) {
    auto m = vs::ofproto::parseMeter("meter=1,kbps,burst,stats,bands=type=drop,rate=20000,burst_size=8000,type=drop,rate=30000,burst_size=10");
    EXPECT_EQ(m.id, 1u);
    EXPECT_EQ(m.flags, vs::ofproto::kMeterKbps | vs::ofproto::kMeterBurst | vs::ofproto::kMeterStats);
    ASSERT_EQ(m.bands.size(), 2u);
    EXPECT_EQ(m.bands[1].rate, 30000u);
    EXPECT_EQ(m.bands[1].burst, 10u);
    std::string text = vs::ofproto::formatMeter(m);
    EXPECT_EQ(text, "meter=1 kbps burst stats bands=type=drop rate=20000 burst_size=8000 type=drop rate=30000 burst_size=10");
    EXPECT_EQ(vs::ofproto::parseMeter(text), m);
    EXPECT_EQ(vs::ofproto::parseMeter("meter=2 bands=type=drop rate=5").flags, vs::ofproto::kMeterKbps) << "kbps by default";
    EXPECT_EQ(vs::ofproto::parseMeter("meter=all", true).id, vs::ofproto::kMeterAll);
    EXPECT_THROW(vs::ofproto::parseMeter("meter=1 kbps bands=rate=5"), std::invalid_argument);
    EXPECT_THROW(vs::ofproto::parseMeter("kbps bands=type=drop rate=5"), std::invalid_argument);
    EXPECT_THROW(vs::ofproto::parseMeter("meter=1 kbps bands=type=drop rate=x"), std::invalid_argument);
    EXPECT_THROW(vs::ofproto::parseMeter("meter=1 kbps", true), std::invalid_argument);
}
}  // namespace

#include "utilities/vsofctl.h"
#include "utilities/vsofctl_format.h"

namespace {
TEST(VsofctlMeters, RequestsAndOutput) {
    auto inv = vs::utilities::parseOfctlArgs({"add-meter", "br0", "meter=1,pktps,bands=type=drop,rate=5"});
    auto req = vs::utilities::ofctlRequest(inv, {});
    EXPECT_EQ(req.method, "meter/add");
    EXPECT_STREQ(req.params["meter"].GetString(), "meter=1,pktps,bands=type=drop,rate=5");
    inv = vs::utilities::parseOfctlArgs({"del-meters", "br0"});
    req = vs::utilities::ofctlRequest(inv, {});
    EXPECT_EQ(req.method, "meter/del");
    EXPECT_FALSE(req.params.HasMember("meter")) << "no meter: every meter";
    EXPECT_THROW(vs::utilities::parseOfctlArgs({"add-meter", "br0"}), vs::utilities::CliError);

    rapidjson::Document d;
    d.Parse(R"({"meters":[{"meter":4,"flow_count":2,"packet_in_count":10,"byte_in_count":640,"duration_ms":1500,
               "bands":[{"packet_count":3,"byte_count":192}]}]})");
    EXPECT_EQ(vs::utilities::formatMeterResult("meter-stats", d),
              "OFPST_METER reply (OF1.3):\nmeter:4 flow_count:2 packet_in_count:10 byte_in_count:640 duration:1.500s bands:\n"
              "0: packet_count:3 byte_count:192\n");
}
}  // namespace
