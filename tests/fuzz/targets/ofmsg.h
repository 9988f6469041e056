// Fuzz entry point: the controller protocol codec (protocol/ofmsg.h). The input is one line as a
// controller (or a switch) would send it.
//
// Invariants: decode never throws or crashes (nesting past 16 levels and lines past 1 MiB are
// refused before parsing); a refused line has an error code and a message; an accepted message
// encodes to one line that decodes to a message encoding to the very same line (a fixed point).
#pragma once

#include <string>
#include <variant>

#include "protocol/ofmsg.h"
#include "tests/fuzz/targets/common.h"

namespace vs::fuzz {

inline int ofMsg(const std::uint8_t* data, std::size_t size) {
    constexpr const char* kName = "ofmsg";
    auto got = protocol::of::decode(asText(data, size));
    if (auto* err = std::get_if<protocol::of::DecodeError>(&got)) {
        if (err->code.empty() || err->message.empty()) fuzzFail(kName, "error without a code or a message");
        return 0;
    }
    std::string line = protocol::of::encode(std::get<protocol::of::Message>(got));
    if (line.find('\n') != std::string::npos) fuzzFail(kName, "an encoded message spans lines: " + excerpt(line));
    auto again = protocol::of::decode(line);
    if (auto* err = std::get_if<protocol::of::DecodeError>(&again))
        fuzzFail(kName, "own encoding refused (" + err->code + ": " + err->message + "): " + excerpt(line));
    std::string line2 = protocol::of::encode(std::get<protocol::of::Message>(again));
    if (line2 != line) fuzzFail(kName, "encode/decode is not a fixed point: " + excerpt(line) + " vs " + excerpt(line2));
    return 0;
}

}  // namespace vs::fuzz
