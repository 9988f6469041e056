// A bridge of dummy ports for unit tests of the slow path (test-only helper).
#pragma once

#include <array>
#include <memory>
#include <string>

#include "datapath/dummy_port.h"
#include "ofproto/ofproto.h"

namespace vs::test {

// Adds bridge `bridge` to `of` with N dummy ports named p1..pN, ofports 1..N, and returns them.
template <std::size_t N>
std::array<std::shared_ptr<dp::DummyPort>, N> addDummyBridge(ofproto::Ofproto& of, const std::string& bridge = "br0") {
    std::array<std::shared_ptr<dp::DummyPort>, N> ports;
    of.addBridge(bridge);
    for (std::size_t i = 0; i < N; ++i) {
        ports[i] = std::make_shared<dp::DummyPort>("p" + std::to_string(i + 1));
        of.addPort(bridge, ports[i]->name(), static_cast<std::uint32_t>(i + 1), ports[i]);
    }
    return ports;
}

}  // namespace vs::test
