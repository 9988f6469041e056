// Internal helpers shared by ofmsg.cpp (encoding) and ofmsg_decode.cpp (decoding): the wire
// names of enumerations. Not part of the public interface.
#pragma once

#include <array>
#include <optional>
#include <string_view>

#include "protocol/ofmsg.h"

namespace vs::protocol::of::detail {

inline constexpr std::array<std::string_view, 5> kCommandNames = {"add", "modify", "modify_strict", "delete",
                                                                  "delete_strict"};
inline constexpr std::array<std::string_view, 3> kPacketInReasons = {"no_match", "action", "invalid_ttl"};
inline constexpr std::array<std::string_view, 3> kPortReasons = {"add", "delete", "modify"};
inline constexpr std::array<std::string_view, 4> kRemovedReasons = {"idle_timeout", "hard_timeout", "delete", "group_delete"};
inline constexpr std::array<std::string_view, 5> kStatsNames = {"desc", "flow", "port", "table", "port_desc"};
// Indexed like Body's alternatives.
inline constexpr std::array<std::string_view, 15> kTypeNames = {
    "hello",       "error",      "echo_request",      "echo_reply",      "features_request",
    "features_reply", "flow_mod", "packet_in",        "packet_out",      "port_status",
    "flow_removed", "multipart_request", "multipart_reply", "barrier_request", "barrier_reply"};

template <std::size_t N>
std::optional<std::size_t> indexOf(const std::array<std::string_view, N>& names, std::string_view s) {
    for (std::size_t i = 0; i < N; ++i)
        if (names[i] == s) return i;
    return std::nullopt;
}

}  // namespace vs::protocol::of::detail
