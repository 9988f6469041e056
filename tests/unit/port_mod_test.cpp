// OpenFlow port config (ofproto/port_config.h; vswitchd/of13_port.cpp; protocol/of13_port.cpp):
// the port_mod codec and its errors, the handler's refusals with OFPPMFC codes, port_desc showing
// the bits, and each bit's effect in translation on a bridge of dummy ports, cache-correct (the
// same frame before and after a change).
#include <gtest/gtest.h>

#include "datapath/dummy_port.h"
#include "ofproto/ofp_parse.h"
#include "ofproto/ofproto.h"
#include "protocol/of13.h"
#include "tests/unit/dummy_bridge.h"
#include "tests/unit/frame_builder.h"
#include "vswitchd/of13_handler.h"

using namespace vs;
using namespace vs::test;
using namespace vs::ofproto;
namespace of13 = vs::protocol::of13;

namespace {

std::string unhex(std::string_view h) {
    std::string out;
    for (std::size_t i = 0; i + 1 < h.size(); i += 2) out += static_cast<char>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16));
    return out;
}

// ovs-ofctl -O OpenFlow13 mod-port br p2 no-flood, laid out from OpenFlow 1.3.5 section 7.3.3.
const char* kPortModHex = "04100028" "00000007" "00000002" "00000000" "020000000002" "0000"
                          "00000010" "00000010" "00000000" "00000000";

TEST(PortModCodec, DecodesAndEncodesTheSpecsLayout) {
    auto r = of13::decode(unhex(kPortModHex));
    ASSERT_TRUE(std::holds_alternative<of13::Message>(r)) << std::get<of13::DecodeError>(r).message;
    const auto& m = std::get<of13::Message>(r);
    ASSERT_TRUE(std::holds_alternative<of13::PortMod>(m.body));
    const auto& pm = std::get<of13::PortMod>(m.body);
    EXPECT_EQ(m.xid, 7u);
    EXPECT_EQ(pm.port_no, 2u);
    EXPECT_EQ(pm.hw_addr, (std::array<std::uint8_t, 6>{2, 0, 0, 0, 0, 2}));
    EXPECT_EQ(pm.config, of13::kPortConfigNoFlood);
    EXPECT_EQ(pm.mask, of13::kPortConfigNoFlood);
    EXPECT_EQ(of13::encode(m), unhex(kPortModHex));
}

TEST(PortModCodec, AWrongLengthIsBadLen) {
    std::string short_one = unhex(kPortModHex).substr(0, 36);
    short_one[3] = 36;
    auto r = of13::decode(short_one);
    ASSERT_TRUE(std::holds_alternative<of13::DecodeError>(r));
    EXPECT_EQ(std::get<of13::DecodeError>(r).type, of13::kBadRequest);
    EXPECT_EQ(std::get<of13::DecodeError>(r).code, of13::code::kBadLen);
    // The error quotes the offending message's first bytes (7.4.4).
    std::string err = of13::encode(of13::makeError(of13::kBadRequest, of13::code::kBadLen, short_one));
    EXPECT_EQ(err.substr(12), short_one);
}

class PortModTest : public ::testing::Test {
protected:
    void SetUp() override {
        ports = addDummyBridge<3>(of);
        of.replaceFlows("br0", {});
    }
    std::pair<int, int> portMod(std::uint32_t port, std::array<std::uint8_t, 6> mac, std::uint32_t config,
                                std::uint32_t mask) {
        of13::PortMod pm;
        pm.port_no = port;
        pm.hw_addr = mac;
        pm.config = config;
        pm.mask = mask;
        of13::Message m{9, pm};
        std::string raw = of13::encode(m);
        auto r = handler.handle("br0", m, raw, state);
        if (r.frames.empty()) return {-1, -1};
        const auto& f = r.frames[0];
        EXPECT_EQ(f.substr(12), raw) << "the error quotes the port_mod";
        return {(static_cast<unsigned char>(f[8]) << 8) | static_cast<unsigned char>(f[9]),
                (static_cast<unsigned char>(f[10]) << 8) | static_cast<unsigned char>(f[11])};
    }
    std::array<std::uint8_t, 6> macOf(int i) { return ports[static_cast<std::size_t>(i)]->mac().b; }
    void flow(std::string_view text) {
        auto r = parseFlowMod(text, FlowMod::Command::kAdd, {});
        if (auto* e = std::get_if<ParseError>(&r)) FAIL() << text << ": " << e->message;
        of.applyFlowMods("br0", {std::get<FlowMod>(r)});
    }
    // Frames each port sent for a frame injected on p1 (to an unknown MAC: NORMAL floods).
    std::array<std::size_t, 3> send() {
        for (auto& p : ports) p->clearSent();
        ports[0]->inject(eth(mac(9), mac(1), 0x0800, ipv4(17, 0x0a000001, 0x0a000002, udp(1, 2000))));
        of.datapath().runOnce();
        return {ports[0]->sent().size(), ports[1]->sent().size(), ports[2]->sent().size()};
    }
    std::uint32_t configOf(std::uint32_t ofport) {
        for (const auto& r : of.ports("br0"))
            if (r.ofport == ofport) return r.config;
        return ~0u;
    }

    Ofproto of;
    std::array<std::shared_ptr<dp::DummyPort>, 3> ports;
    vswitchd::Of13Handler handler{of};
    vswitchd::Of13Handler::State state;
};

TEST_F(PortModTest, RefusalsCarryPortModFailedCodes) {
    const std::pair<int, int> none{-1, -1};
    EXPECT_EQ(portMod(9, macOf(0), 0, 0), std::make_pair(int(of13::kPortModFailed), int(of13::code::kPmBadPort)));
    EXPECT_EQ(portMod(of13::kPortFlood, macOf(0), 0, 0), std::make_pair(int(of13::kPortModFailed), int(of13::code::kPmBadPort)));
    EXPECT_EQ(portMod(1, {2, 0, 0, 0, 0, 0x99}, of13::kPortConfigNoFwd, of13::kPortConfigNoFwd),
              std::make_pair(int(of13::kPortModFailed), int(of13::code::kPmBadHwAddr)));
    EXPECT_EQ(portMod(1, macOf(0), 1u << 3, 1u << 3), std::make_pair(int(of13::kPortModFailed), int(of13::code::kPmBadConfig)))
        << "NO_STP (bit 3) is not an OpenFlow 1.3 bit";
    EXPECT_EQ(configOf(1), 0u) << "nothing refused changed the port";
    EXPECT_EQ(portMod(1, macOf(0), of13::kPortConfigNoFwd | of13::kPortConfigNoFlood, of13::kPortConfigNoFwd), none);
    EXPECT_EQ(configOf(1), of13::kPortConfigNoFwd) << "only the masked bits change";
    state.role = of13::kRoleSlave;
    EXPECT_EQ(portMod(1, macOf(0), 0, of13::kPortConfigNoFwd), std::make_pair(int(of13::kBadRequest), int(of13::code::kIsSlave)));
}

TEST_F(PortModTest, EachBitInTranslationFollowedByTheCache) {
    flow("priority=0,actions=NORMAL");
    EXPECT_EQ(send(), (std::array<std::size_t, 3>{0, 1, 1}));
    portMod(2, macOf(1), of13::kPortConfigNoFlood, of13::kPortConfigNoFlood);
    EXPECT_EQ(send(), (std::array<std::size_t, 3>{0, 0, 1})) << "NORMAL floods not to a no_flood port";
    portMod(2, macOf(1), 0, of13::kPortConfigNoFlood);
    EXPECT_EQ(send(), (std::array<std::size_t, 3>{0, 1, 1})) << "flood again (the megaflow was invalidated)";
    portMod(3, macOf(2), of13::kPortConfigNoFwd, of13::kPortConfigNoFwd);
    EXPECT_EQ(send(), (std::array<std::size_t, 3>{0, 1, 0})) << "nothing goes out a no_forward port";
    portMod(1, macOf(0), of13::kPortConfigNoRecv, of13::kPortConfigNoRecv);
    EXPECT_EQ(send(), (std::array<std::size_t, 3>{0, 0, 0})) << "nothing received on a no_receive port";
    portMod(1, macOf(0), 0, of13::kPortConfigNoRecv);
    portMod(3, macOf(2), 0, of13::kPortConfigNoFwd);

    // OFPP_FLOOD leaves a no_flood port out, OFPP_ALL does not.
    of.replaceFlows("br0", {});
    flow("priority=1,in_port=1,actions=FLOOD");
    portMod(2, macOf(1), of13::kPortConfigNoFlood, of13::kPortConfigNoFlood);
    EXPECT_EQ(send(), (std::array<std::size_t, 3>{0, 0, 1}));
    of.replaceFlows("br0", {});
    flow("priority=1,in_port=1,actions=ALL");
    EXPECT_EQ(send(), (std::array<std::size_t, 3>{0, 1, 1}));
}

TEST_F(PortModTest, PortDescShowsTheConfig) {
    portMod(2, macOf(1), of13::kPortConfigNoPacketIn | of13::kPortConfigNoRecv,
            of13::kPortConfigNoPacketIn | of13::kPortConfigNoRecv);
    of13::MultipartRequest req;
    req.type = of13::kMpPortDesc;
    of13::Message m{3, req};
    std::string raw = of13::encode(m);
    auto r = handler.handle("br0", m, raw, state);
    ASSERT_EQ(r.frames.size(), 1u);
    // ofp_port #2 (64 bytes each after the 16-byte multipart header): config at offset 36.
    const std::string& f = r.frames[0];
    ASSERT_GE(f.size(), 16u + 128u);
    auto u32 = [&](std::size_t at) {
        return (std::uint32_t(std::uint8_t(f[at])) << 24) | (std::uint32_t(std::uint8_t(f[at + 1])) << 16) |
               (std::uint32_t(std::uint8_t(f[at + 2])) << 8) | std::uint8_t(f[at + 3]);
    };
    EXPECT_EQ(u32(16 + 64), 2u);
    EXPECT_EQ(u32(16 + 64 + 32), of13::kPortConfigNoPacketIn | of13::kPortConfigNoRecv);
    EXPECT_EQ(u32(16 + 32), 0u) << "port 1 unchanged";
}

}  // namespace

namespace {

// table_mod (OpenFlow 1.3.5 section 7.3.3): decoded, accepted for a table or ALL (1.3's config bits
// are deprecated), BAD_TABLE beyond the switch's tables, BAD_LEN for a wrong length.
TEST(TableMod, AcceptedAsOpenVswitchDoesOrBadTable) {
    auto r = of13::decode(unhex("04110010" "00000005" "ff000000" "00000003"));
    ASSERT_TRUE(std::holds_alternative<of13::Message>(r));
    const auto& tm = std::get<of13::TableMod>(std::get<of13::Message>(r).body);
    EXPECT_EQ(tm.table_id, 0xff);
    EXPECT_EQ(tm.config, 3u);
    auto bad = of13::decode(unhex("0411000c" "00000005" "ff000000"));
    ASSERT_TRUE(std::holds_alternative<of13::DecodeError>(bad));
    EXPECT_EQ(std::get<of13::DecodeError>(bad).code, of13::code::kBadLen);

    Ofproto of;
    addDummyBridge<1>(of);
    vswitchd::Of13Handler handler{of};
    vswitchd::Of13Handler::State state;
    auto send = [&](std::uint8_t table) {
        of13::Message m{5, of13::TableMod{table, 0}};
        std::string raw = of13::encode(m);
        return handler.handle("br0", m, raw, state).frames;
    };
    EXPECT_TRUE(send(0).empty());
    EXPECT_TRUE(send(0xff).empty());
    auto frames = send(254);
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(static_cast<unsigned char>(frames[0][9]), of13::kTableModFailed);
    EXPECT_EQ(static_cast<unsigned char>(frames[0][11]), of13::code::kTmBadTable);
}

}  // namespace
