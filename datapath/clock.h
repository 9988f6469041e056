// The one clock of the switch: every layer (datapath aging and used times, ofproto's MAC and rule
// timeouts, vswitchd's controller probes and fail-open timers) reads monotonic time here, so that
// times compare across layers and a test can reason about one source.
//
// Thread-safety: both functions are safe from any thread (clock_gettime).
#pragma once

#include <cstdint>

namespace vs::dp {

// Milliseconds of CLOCK_MONOTONIC_COARSE (a few ms of resolution, a few ns to read: per batch, not
// per packet).
std::int64_t monotonicMs() noexcept;
// Nanoseconds of CLOCK_MONOTONIC (for busy-poll windows and latency measurements).
std::int64_t monotonicNs() noexcept;

}  // namespace vs::dp
