// Base64 (RFC 4648 section 4, standard alphabet, with '=' padding) for frames carried in JSON
// text by the controller protocol (docs/protocol.md "Controller protocol").
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace vs::protocol {

// Encodes `data`; the result's length is 4 * ceil(n / 3).
std::string base64Encode(std::span<const std::uint8_t> data);

// Decodes `text`, padded to a multiple of 4 with '=' or not padded at all. nullopt on any
// character outside the alphabet (white space included), bad padding, or non-zero unused bits.
std::optional<std::vector<std::uint8_t>> base64Decode(std::string_view text);

}  // namespace vs::protocol
