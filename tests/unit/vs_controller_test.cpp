// The reference controller's applications (utilities/vs-controller-app.h): the learning switch
// floods unknown destinations, learns sources, installs a flow and forwards once the destination
// is known; the script loader refuses bad messages naming the element; events are JSON lines.
#include <sstream>

#include <gtest/gtest.h>

#include "utilities/vs-controller-app.h"

namespace vs::utilities {
namespace {

namespace of = protocol::of;

std::vector<std::uint8_t> frame(std::uint8_t dst, std::uint8_t src, bool bcast = false) {
    std::vector<std::uint8_t> f(60, 0);
    for (int i = 0; i < 6; ++i) f[i] = bcast ? 0xff : (i == 0 ? 2 : i == 5 ? dst : 0);
    for (int i = 0; i < 6; ++i) f[6 + i] = i == 0 ? 2 : i == 5 ? src : 0;
    f[12] = 0x08;
    return f;
}

TEST(LearningSwitch, FloodsLearnsThenInstallsAndForwards) {
    std::ostringstream out;
    EventSink events(out);
    LearningSwitch app(events, 30);
    std::vector<of::Body> sent;
    SendFn send = [&](of::Body b) { sent.push_back(std::move(b)); };
    app.connected("sw", send);
    ASSERT_GE(sent.size(), 3u);
    EXPECT_EQ(std::get<of::FlowMod>(sent[1]).command, of::FlowModCommand::kDelete);
    EXPECT_EQ(std::get<of::FlowMod>(sent[2]).flow, "priority=0,actions=CONTROLLER:65535") << "table-miss to controller";
    sent.clear();

    of::PacketIn a{of::PacketInReason::kNoMatch, 0, 0, 1, "in_port=1", 60, frame(0xb, 0xa, true)};
    app.message("sw", {5, a}, send);
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(std::get<of::PacketOut>(sent[0]).actions, "FLOOD") << "broadcast: flood";
    EXPECT_EQ(app.macs("sw").at("02:00:00:00:00:0a"), 1u) << "learned the source";
    sent.clear();

    of::PacketIn b{of::PacketInReason::kNoMatch, 0, 0, 2, "in_port=2", 60, frame(0xa, 0xb)};
    app.message("sw", {6, b}, send);
    ASSERT_EQ(sent.size(), 2u);
    EXPECT_EQ(std::get<of::FlowMod>(sent[0]).flow, "priority=100,idle_timeout=30,dl_dst=02:00:00:00:00:0a,actions=output:1");
    EXPECT_EQ(std::get<of::PacketOut>(sent[1]), (of::PacketOut{2, "output:1", frame(0xa, 0xb)}));
    EXPECT_NE(out.str().find("\"event\":\"packet_in\""), std::string::npos);
}

TEST(ScriptApp, LoadsMessagesAndRefusesBadOnes) {
    auto msgs = ScriptApp::load(R"([{"type":"flow_mod","command":"add","flow":"actions=NORMAL"},
                                    {"type":"multipart_request","stats":"table"}])");
    ASSERT_EQ(msgs.size(), 2u);
    EXPECT_EQ(std::get<of::FlowMod>(msgs[0]).flow, "actions=NORMAL");
    EXPECT_EQ(ScriptApp::load(R"({"messages":[]})").size(), 0u);
    try {
        ScriptApp::load(R"([{"type":"flow_mod","command":"add"}])");
        ADD_FAILURE() << "accepted a flow_mod without a flow";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("message 0"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("missing member 'flow'"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace vs::utilities
