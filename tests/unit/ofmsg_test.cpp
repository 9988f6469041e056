// The controller protocol's codec (protocol/ofmsg.h, base64.h, oftarget.h): every message type
// survives encode/decode unchanged, and malformed input is refused with an error that names the
// problem and keeps the offending xid.
#include <gtest/gtest.h>

#include <rapidjson/document.h>

#include "protocol/base64.h"
#include "protocol/ofmsg.h"
#include "protocol/oftarget.h"

namespace vs::protocol::of {
namespace {

Message roundTrip(const Message& m) {
    auto decoded = decode(encode(m));
    if (auto* e = std::get_if<DecodeError>(&decoded)) {
        ADD_FAILURE() << "decode failed: " << e->message << " in " << encode(m);
        return {};
    }
    return std::get<Message>(decoded);
}

DecodeError bad(std::string_view line) {
    auto decoded = decode(line);
    if (!std::holds_alternative<DecodeError>(decoded)) {
        ADD_FAILURE() << "accepted: " << line;
        return {};
    }
    return std::get<DecodeError>(decoded);
}

TEST(Base64, Rfc4648Vectors) {
    const std::pair<std::string, std::string> vectors[] = {{"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},
                                                           {"foo", "Zm9v"},  {"foob", "Zm9vYg=="},  {"fooba", "Zm9vYmE="},
                                                           {"foobar", "Zm9vYmFy"}};
    for (const auto& [plain, encoded] : vectors) {
        std::vector<std::uint8_t> bytes(plain.begin(), plain.end());
        EXPECT_EQ(base64Encode(bytes), encoded);
        auto back = base64Decode(encoded);
        ASSERT_TRUE(back) << encoded;
        EXPECT_EQ(*back, bytes);
    }
    std::vector<std::uint8_t> all(256);
    for (int i = 0; i < 256; ++i) all[i] = static_cast<std::uint8_t>(i);
    EXPECT_EQ(base64Decode(base64Encode(all)), all);
}

TEST(Base64, RefusesGarbage) {
    for (const char* s : {"Zg=", "Z", "Zm9v!", "Zm 9v", "Zh==", "====", "Zg==Zg=="}) EXPECT_FALSE(base64Decode(s)) << s;
}

TEST(OfMsg, EveryMessageRoundTrips) {
    PortDesc p1{1, "p1", "02:00:00:00:00:01", false, false};
    PortDesc p2{65534, "br0", "02:00:00:00:00:02", true, true};
    std::vector<Message> all = {
        {1, Hello{{1, 2}}},
        {2, Error{"flow_mod_failed", "bad_flow", "unknown field 'nw_srcc'", "{\"type\":\"flow_mod\"}"}},
        {3, EchoRequest{"abc"}},
        {4, EchoReply{"abc"}},
        {5, FeaturesRequest{}},
        {6, FeaturesReply{"0000025e10000001", 254, 0, {"flow_stats"}, {p1, p2}}},
        {7, FlowMod{FlowModCommand::kModifyStrict, "priority=5,in_port=1,actions=output:2"}},
        {8, PacketIn{PacketInReason::kInvalidTtl, 3, 0xfedcba9876543210ull, 7, "in_port=7", 1500, {1, 2, 3, 0, 255}}},
        {9, PacketOut{kPortController, "output:TABLE", {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 8, 6}}},
        {10, PortStatus{PortReason::kModify, p2}},
        {11, FlowRemoved{0x1f, 100, RemovedReason::kHardTimeout, 2, 5.25, 0, 5, 10, 1000, "tcp,tp_dst=80"}},
        {12, MultipartRequest{StatsType::kFlow, "table=0,out_port=2", std::nullopt}},
        {13, MultipartRequest{StatsType::kPort, "", 3}},
        {0xffffffffu, BarrierRequest{}},
        {15, BarrierReply{}},
    };
    MultipartReply flows;
    flows.stats = StatsType::kFlow;
    flows.flows.push_back({0, 10, ~0ull, 1.5, 10, 0, true, 3, 300, "ip", "NORMAL"});
    all.push_back({16, flows});
    MultipartReply ports;
    ports.stats = StatsType::kPort;
    ports.ports.push_back({1, "p1", 1, 2, 3, 4, 5, 6});
    all.push_back({17, ports});
    MultipartReply tables;
    tables.stats = StatsType::kTable;
    tables.tables.push_back({0, 2, 100, 90});
    all.push_back({18, tables});
    MultipartReply desc;
    desc.stats = StatsType::kDesc;
    desc.desc = {"m", "h", "s", "n", "d"};
    all.push_back({19, desc});
    MultipartReply pd;
    pd.stats = StatsType::kPortDesc;
    pd.port_descs = {p1};
    all.push_back({20, pd});
    for (const auto& m : all) {
        Message back = roundTrip(m);
        EXPECT_EQ(back, m) << encode(m);
        EXPECT_EQ(encode(m).find('\n'), std::string::npos) << "one message per line";
    }
}

TEST(OfMsg, WireFormatIsDocumented) {
    EXPECT_EQ(encode({7, PacketOut{1, "output:2", {1, 2, 3}}}),
              R"({"type":"packet_out","xid":7,"in_port":1,"actions":"output:2","data":"AQID"})");
    EXPECT_EQ(encode({1, Hello{}}), R"({"type":"hello","xid":1,"versions":[1]})");
    auto m = decode(R"({"type":"packet_out","xid":9,"actions":"FLOOD","data":"AQID"})");
    ASSERT_TRUE(std::holds_alternative<Message>(m));
    EXPECT_EQ(std::get<PacketOut>(std::get<Message>(m).body).in_port, kPortController) << "in_port defaults to CONTROLLER";
}

TEST(OfMsg, MalformedMessagesAreRefusedWithTheirXid) {
    auto e = bad("this is not json");
    EXPECT_EQ(e.code, "bad_syntax");
    EXPECT_NE(e.message.find("not JSON"), std::string::npos);

    e = bad(R"({"type":"frobnicate","xid":42})");
    EXPECT_EQ(e.code, "bad_type");
    EXPECT_EQ(e.xid, 42u);
    EXPECT_NE(e.message.find("'frobnicate'"), std::string::npos);

    e = bad(R"({"type":"flow_mod","xid":43,"command":"add","flow":"actions=drop","colour":"red"})");
    EXPECT_EQ(e.code, "bad_syntax");
    EXPECT_EQ(e.xid, 43u);
    EXPECT_NE(e.message.find("unknown member 'colour'"), std::string::npos);

    e = bad(R"({"type":"flow_mod","xid":44,"command":"add"})");
    EXPECT_NE(e.message.find("missing member 'flow'"), std::string::npos);
    EXPECT_EQ(e.xid, 44u);

    e = bad(R"({"type":"flow_mod","xid":45,"command":"replace","flow":""})");
    EXPECT_NE(e.message.find("'replace' is not one of add, modify"), std::string::npos);

    e = bad(R"({"type":"packet_out","xid":46,"actions":"FLOOD","data":"***"})");
    EXPECT_EQ(e.code, "bad_packet");

    e = bad(R"({"type":"packet_out","xid":47,"actions":"FLOOD","data":""})");
    EXPECT_EQ(e.code, "bad_packet") << "no buffered packets: data is required";

    e = bad(R"({"type":"multipart_request","xid":48,"stats":"meter"})");
    EXPECT_EQ(e.code, "bad_multipart");

    e = bad(R"({"type":"echo_request","xid":-1})");
    EXPECT_EQ(e.code, "bad_syntax");
    e = bad(R"({"type":"echo_request","xid":4294967296})");
    EXPECT_EQ(e.code, "bad_syntax");
    e = bad(R"({"type":"echo_request","xid":1,"xid":2})");
    EXPECT_NE(e.message.find("twice"), std::string::npos);
    e = bad(R"({"type":"echo_request","xid":1} trailing)");
    EXPECT_EQ(e.code, "bad_syntax");
    e = bad("[1,2,3]");
    EXPECT_EQ(e.code, "bad_syntax");
    e = bad("{\"type\":\"echo_request\",\"xid\":1,\"data\":\"\xff\xfe\"}");
    EXPECT_EQ(e.code, "bad_syntax") << "invalid UTF-8";
}

// Found by fuzz_ofmsg (tests/fuzz/regressions/ofmsg/lone-surrogate-escape-in-actions).
TEST(OfMsg, LoneSurrogateEscapeIsRefused) {
    auto e = bad(R"({"type":"echo_request","xid":1,"data":"a\udc00b"})");
    EXPECT_EQ(e.code, "bad_syntax");
    EXPECT_NE(e.message.find("not valid UTF-8"), std::string::npos) << e.message;
    auto ok = decode(R"({"type":"echo_request","xid":1,"data":"\ud83d\ude00"})");  // a valid pair
    EXPECT_TRUE(std::holds_alternative<Message>(ok));
}

TEST(OfMsg, DeepNestingIsRefusedBeforeParsing) {
    std::string deep = std::string(500000, '[') + std::string(500000, ']');  // under the size limit
    auto e = bad(R"({"type":"echo_request","xid":3,"data":)" + deep + "}");
    EXPECT_EQ(e.code, "bad_syntax");
    EXPECT_NE(e.message.find("nesting deeper than 16 levels"), std::string::npos) << e.message;
    auto ok = decode(R"({"type":"echo_request","xid":3,"data":"[[[[[[[[[[[[[[[[[[[[[[[[\"]]]"})");
    EXPECT_TRUE(std::holds_alternative<Message>(ok)) << "brackets inside strings do not count";
}

TEST(OfMsg, OversizedMessageIsBadLen) {
    std::string big = R"({"type":"echo_request","xid":1,"data":")" + std::string(kMaxMessageBytes, 'a') + "\"}";
    EXPECT_EQ(bad(big).code, "bad_len");
}

TEST(OfMsg, PacketOutFrameLimit) {
    std::vector<std::uint8_t> frame(kMaxFrameBytes + 1, 0xab);
    std::string line = encode({1, PacketOut{1, "output:2", frame}});
    EXPECT_EQ(bad(line).code, "bad_packet");
    frame.pop_back();
    EXPECT_EQ(roundTrip({1, PacketOut{1, "output:2", frame}}), (Message{1, PacketOut{1, "output:2", frame}}));
}

TEST(OfMsg, ErrorQuotesTheOffenderSafely) {
    std::string offending = "\xff\xfe garbage " + std::string(1000, 'x');
    Message e = makeError(77, "bad_request", "bad_syntax", "not JSON", offending);
    const auto& err = std::get<Error>(e.body);
    EXPECT_EQ(e.xid, 77u);
    EXPECT_EQ(err.data.size(), kErrorDataBytes);
    EXPECT_EQ(err.data.substr(0, 10), "?? garbage");
    EXPECT_EQ(roundTrip(e), e) << "the error line is valid JSON even for binary garbage";
}

TEST(OfMsg, HexCookies) {
    EXPECT_EQ(hex64(0), "0x0");
    EXPECT_EQ(parseHex64("0xFFFFFFFFFFFFFFFF"), ~0ull);
    EXPECT_FALSE(parseHex64("0x10000000000000000"));
    EXPECT_FALSE(parseHex64("17"));
    EXPECT_FALSE(parseHex64("0x"));
}

TEST(OfTarget, ParsesOvsSyntaxWithDefaults) {
    auto t = [](std::string_view s) {
        auto r = parseTarget(s);
        if (auto* e = std::get_if<std::string>(&r)) ADD_FAILURE() << *e;
        return std::get<Target>(r);
    };
    EXPECT_EQ(t("tcp:127.0.0.1").canonical(), "tcp:127.0.0.1:6653");
    EXPECT_EQ(t("ssl:ctl.example.com:6634").canonical(), "ssl:ctl.example.com:6634");
    EXPECT_EQ(t("ssl:[::1]:7000").canonical(), "ssl:[::1]:7000");
    EXPECT_EQ(t("ptcp:").canonical(), "ptcp:6653");
    EXPECT_EQ(t("pssl:6654:127.0.0.1").canonical(), "pssl:6654:127.0.0.1");
    EXPECT_EQ(t("ptcp::10.0.0.1").canonical(), "ptcp:6653:10.0.0.1");
    EXPECT_TRUE(t("ssl:10.1.2.3").hostIsAddress());
    EXPECT_FALSE(t("ssl:localhost").hostIsAddress());
    EXPECT_TRUE(t("pssl:").tls());
    EXPECT_FALSE(t("pssl:").active());
    // json: selects the JSON dialect; without it a target speaks OpenFlow 1.3.
    EXPECT_FALSE(t("tcp:127.0.0.1").json);
    EXPECT_TRUE(t("json:pssl:6654:127.0.0.1").json);
    EXPECT_EQ(t("json:pssl:6654:127.0.0.1").canonical(), "json:pssl:6654:127.0.0.1");
    EXPECT_EQ(t("json:ssl:127.0.0.1").canonical(), "json:ssl:127.0.0.1:6653");
    EXPECT_FALSE(t("json:ssl:127.0.0.1") == t("ssl:127.0.0.1"));
}

TEST(OfTarget, RefusesBadTargetsWithAReason) {
    const std::pair<const char*, const char*> cases[] = {
        {"tcp:", "missing host"},
        {"tcp:1.2.3.4:70000", "outside 1..65535"},
        {"tcp:1.2.3.4:0", "outside 1..65535"},
        {"tcp:1.2.3.4:http", "invalid port"},
        {"tcp:1.2.3.4:", "missing port"},
        {"udp:1.2.3.4", "unknown connection type 'udp'"},
        {"1.2.3.4", "expected tcp:HOST"},
        {"ptcp:6653:host.name", "invalid IP address"},
        {"ssl:[::1", "unterminated"},
        {"ssl:bad_host!", "invalid host"},
        {"json:", "optionally prefixed json:"},
        {"json:udp:1.2.3.4", "unknown connection type 'udp'"},
        {"json:json:tcp:1.2.3.4", "unknown connection type 'json'"},
    };
    for (const auto& [text, why] : cases) {
        auto r = parseTarget(text);
        ASSERT_TRUE(std::holds_alternative<std::string>(r)) << text;
        const auto& msg = std::get<std::string>(r);
        EXPECT_NE(msg.find(why), std::string::npos) << text << ": " << msg;
        EXPECT_NE(msg.find(std::string("'") + text + "'"), std::string::npos) << "quotes the target: " << msg;
    }
}

}  // namespace
}  // namespace vs::protocol::of
