// A removed port is released by the poll threads before removePort/removeBridge return, so its
// socket or TAP device is gone once the caller drops its own reference. CI once failed on
// `del-br br; add-br br` because the poll thread still held the old internal TAP device when the
// bridge came back ("could not create internal device br (File exists)").
#include <gtest/gtest.h>

#include <memory>

#include "datapath/dummy_port.h"
#include "ofproto/ofproto.h"

namespace vs::ofproto {
namespace {

struct Started {
    std::int64_t now = 0;
    Ofproto of{dp::DatapathConfig{}, [this] { return now; }};
    std::weak_ptr<dp::Port> attach(const std::string& br, const std::string& name, std::uint32_t ofport) {
        auto p = std::make_shared<dp::DummyPort>(name);
        std::weak_ptr<dp::Port> w = p;
        of.addPort(br, name, ofport, std::move(p));
        return w;
    }
};

TEST(PortRelease, RemovePortReleasesThePortBeforeReturning) {
    for (int round = 0; round < 50; ++round) {
        Started s;
        s.of.addBridge("br0");
        auto w1 = s.attach("br0", "p1", 1);
        auto w2 = s.attach("br0", "p2", 2);
        s.of.start();
        ASSERT_TRUE(s.of.datapath().quiesce());  // the poll thread now holds the port
        s.of.removePort("br0", "p1");
        EXPECT_TRUE(w1.expired()) << "round " << round;
        EXPECT_FALSE(w2.expired());
    }
}

TEST(PortRelease, RemoveBridgeReleasesItsPortsBeforeReturning) {
    for (int round = 0; round < 50; ++round) {
        Started s;
        s.of.addBridge("br0");
        auto w1 = s.attach("br0", "p1", 1);
        s.of.start();
        ASSERT_TRUE(s.of.datapath().quiesce());  // the poll thread now holds the port
        s.of.removeBridge("br0");
        EXPECT_TRUE(w1.expired()) << "round " << round;
    }
}

TEST(PortRelease, QuiesceWithoutThreadsReturnsAtOnce) {
    Started s;
    EXPECT_TRUE(s.of.datapath().quiesce(0));
}

}  // namespace
}  // namespace vs::ofproto
