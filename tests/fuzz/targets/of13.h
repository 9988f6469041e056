// Fuzz entry point: the binary OpenFlow 1.3 codec (protocol/of13.h). The input is one message as a
// controller would send it (the bytes of one frame).
//
// Invariants: decode never throws or crashes and never reads outside the input; a refused message
// has an error type below 14 and a message; the error reply quotes at most 64 bytes; an accepted
// message encodes to bytes that decode to an equal message whose encoding is the very same bytes
// (a fixed point), with a header length equal to the encoding's size.
#pragma once

#include <string>
#include <variant>

#include "protocol/of13.h"
#include "tests/fuzz/targets/common.h"

namespace vs::fuzz {

inline int of13Msg(const std::uint8_t* data, std::size_t size) {
    constexpr const char* kName = "of13";
    namespace of13 = protocol::of13;
    std::string_view frame = asText(data, size);
    auto got = of13::decode(frame);
    if (auto* err = std::get_if<of13::DecodeError>(&got)) {
        if (err->type > of13::kTableFeaturesFailed || err->message.empty()) fuzzFail(kName, "error without a type or a message");
        auto reply = of13::encode(of13::makeError(err->type, err->code, frame));
        if (reply.size() > 12 + of13::kErrorDataBytes) fuzzFail(kName, "an error quotes more than 64 bytes");
        return 0;
    }
    const auto& msg = std::get<of13::Message>(got);
    std::string bytes = of13::encode(msg);
    if (of13::frameLength(bytes) != bytes.size()) fuzzFail(kName, "header length differs from the encoding's size");
    auto again = of13::decode(bytes);
    if (auto* err = std::get_if<of13::DecodeError>(&again))
        fuzzFail(kName, "own encoding refused: " + err->message + ": " + excerpt(bytes));
    if (!(std::get<of13::Message>(again) == msg)) fuzzFail(kName, "decode(encode(m)) differs from m: " + excerpt(bytes));
    if (of13::encode(std::get<of13::Message>(again)) != bytes) fuzzFail(kName, "encode/decode is not a fixed point");
    return 0;
}

}  // namespace vs::fuzz
