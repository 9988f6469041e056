// Egress queues as flows select them (Open vSwitch's set_queue / enqueue, OpenFlow 1.3 section
// 7.2.5 OFPAT_SET_QUEUE): a queue id becomes the frame's skb->priority, which picks class
// 1:(queue+1) of the root HTB/HFSC qdisc "1:" that vswitchd/qos.h installs on the port's netdev
// (Open vSwitch's mapping for Linux, TC_H_MAKE(1 << 16, queue + 1)). A priority naming no class
// of that qdisc goes to its default class, 1:1 (queue 0).
//
// Thread-safety: constants and pure functions.
#pragma once

#include <cstdint>

namespace vs::ofproto {

inline constexpr std::uint32_t kMaxQueueId = 0xefff;  // classes 1:1..1:f000 (Open vSwitch's HTB_N_QUEUES)

// skb->priority for `queue` (0..kMaxQueueId): major 1, minor queue + 1.
constexpr std::uint32_t queuePriority(std::uint32_t queue) noexcept { return (1u << 16) | ((queue + 1) & 0xffff); }

}  // namespace vs::ofproto
